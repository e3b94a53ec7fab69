"""One implementation's side of benchmarks/bench_core.py; prints ns per operation as JSON.

usage: python _core_worker.py IMPL SPEC_FILE REPEATS
IMPL is "ours" (seccomp.Filter), "ours-compat" (this package's SyscallFilter API),
"libseccomp" (libseccomp's own module: run it with /usr/bin/python3) or "pyseccomp".
Runs under any Python 3 without this package's test tools, so the system interpreter can run it.
"""
import errno
import functools
import json
import os
import sys
import time

LOADS = 8  # loads stack, so each load measurement runs in a child that loads this many times


def read_spec(path):
    rules = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts:
                rules.append((parts[0], int(parts[1]), int(parts[2])) if len(parts) == 3
                             else (parts[0], None, None))
    return rules


def workloads_ours(rules):
    import seccomp
    from seccomp import Action, Cond, Filter, Op
    allow, deny = Action.ALLOW, Action.ERRNO(errno.EPERM)

    def build():
        f = Filter(deny)
        for name, arg, value in rules:
            if arg is None:
                f.add_rule(allow, name)
            else:
                f.add_rule(allow, name, Cond(arg, Op.EQ, value))
        return f

    def small():
        f = Filter(allow)
        f.add_rule(deny, "getpid")
        f.release()

    names = [r[0] for r in rules]
    resolve = seccomp.syscall_number
    f = build()
    prog = f.compile()
    return dict(build=lambda: build().release(), small=small, names=names, resolve=resolve,
                load={"load": lambda: build().load, "program_load": lambda: prog.load})


def workloads_compat(mod, rules):
    allow, deny, Arg, EQ = mod.ALLOW, mod.ERRNO(errno.EPERM), mod.Arg, mod.EQ

    def build():
        f = mod.SyscallFilter(deny)
        for name, arg, value in rules:
            if arg is None:
                f.add_rule(allow, name)
            else:
                f.add_rule(allow, name, Arg(arg, EQ, value))
        return f

    def build_release():
        f = build()
        del f

    def small():
        f = mod.SyscallFilter(allow)
        f.add_rule(deny, "getpid")
        del f

    # Arch.NATIVE: libseccomp's module overflows on the token system_arch() returns.
    resolve = functools.partial(mod.resolve_syscall, mod.Arch.NATIVE)
    return dict(build=build_release, small=small, names=[r[0] for r in rules], resolve=resolve,
                load={"load": lambda: build().load})


def best_of(repeats, n, fn):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def time_load(make_loader, repeats):
    """The fastest single load, over *repeats* children that each load LOADS times."""
    best = float("inf")
    for _ in range(repeats):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                load = make_loader()
                t_best = float("inf")
                for _ in range(LOADS):
                    t0 = time.perf_counter_ns()
                    load()
                    t_best = min(t_best, time.perf_counter_ns() - t0)
                os.write(w, repr(t_best).encode())
            finally:
                os._exit(0)
        os.close(w)
        with os.fdopen(r) as f:
            text = f.read()
        os.waitpid(pid, 0)
        if text:
            best = min(best, float(text))
    return best


def main():
    impl, spec, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rules = read_spec(spec)
    if impl == "ours":
        w = workloads_ours(rules)
    elif impl == "ours-compat":
        import seccomp
        w = workloads_compat(seccomp, rules)
    elif impl == "libseccomp":
        import seccomp
        if hasattr(seccomp, "Filter"):
            sys.exit("this interpreter imports our package, not libseccomp's module")
        w = workloads_compat(seccomp, rules)
    elif impl == "pyseccomp":
        import pyseccomp
        w = workloads_compat(pyseccomp, rules)
    else:
        sys.exit("unknown implementation %r" % impl)

    names, resolve = w["names"], w["resolve"]

    def resolve_all():
        for name in names:
            resolve(name)

    out = {
        "build": best_of(repeats, 20, w["build"]),
        "small": best_of(repeats, 2000, w["small"]),
        "resolve": best_of(repeats, 20, resolve_all) / len(names),
    }
    for key, make_loader in w["load"].items():
        out[key] = time_load(make_loader, repeats)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
