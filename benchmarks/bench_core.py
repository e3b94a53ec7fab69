"""Core benchmark: the C API from C, this package and libseccomp's own module, in one run.

    /usr/bin/python3 -m venv /tmp/bench && /tmp/bench/bin/pip install .
    /tmp/bench/bin/python benchmarks/bench_core.py [--rounds N]

Run it under the interpreter Debian builds libseccomp's module (python3-seccomp) for: this
package and that module are then both imported into this one process (the module from
/usr/lib/python3/dist-packages under another name) and timed in interleaved rounds, with the
C floor (benchmarks/c/bench_core.c) run once per round between them.

Times are CPU time of the process (CLOCK_PROCESS_CPUTIME_ID on both sides), so other jobs on
a shared machine slow the numbers less than they would wall-clock time.

Workloads (nanoseconds per operation; the median over the rounds, with their spread):
  errno    ERRNO(1): an action with data (``Action.ERRNO`` / the compatibility ``ERRNO``)
  build    create a filter, add ~370 rules (every syscall of the native arch; one in eight with
           an argument condition), release it
  export   build, then have libseccomp generate the BPF and write it to /dev/null, release:
           this package gives libseccomp the rules whose outcome it knows only when the
           filter's libseccomp state is first needed (here: the export), so this is where
           libseccomp's work on them shows (ours: the core's export, without the check)
  export_checked  the same through the public export_bpf(file): this package's BPF is checked
           against the rules first (seccomp.bpf.model); libseccomp's module does no check
  ten      create a filter, add its first 10 rules, release it
  small    create a filter, add one rule, release it
  resolve  one syscall name to its number on the native arch
  load     load the ~370-rule filter (libseccomp generates the BPF again each time), in children
  program_load  this package's precomputed Program.load(): the BPF straight to seccomp(2)

The last row is a floor: the compatibility workloads with every call a C no-op, i.e. what the
benchmark's own Python loops and calls cost; C plus this is the least any binding can take.
"""
import argparse
import errno
import glob
import importlib.machinery
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEBIAN_MODULE = "/usr/lib/python3/dist-packages/seccomp.cpython-*.so"
LOADS = 8  # loads stack, so each load measurement runs in a child that loads this many times
# Syscalls the benchmark's children need after loading; they never get a condition.
ESSENTIAL = {"read", "write", "close", "exit", "exit_group", "mmap", "munmap", "brk", "mprotect",
             "rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "futex", "seccomp", "prctl",
             "getpid", "gettid", "clock_gettime", "fstat", "newfstatat", "madvise", "wait4"}
COLUMNS = ["errno", "build", "export", "export_checked", "ten", "small", "resolve", "load",
           "program_load"]
# How many times one measurement runs each workload.
BATCH = {"errno": 20000, "build": 10, "export": 4, "export_checked": 4, "ten": 1000,
         "small": 2000, "resolve": 10}


def import_libseccomp_module():
    """libseccomp's own module, imported beside this package (both are named ``seccomp``)."""
    paths = glob.glob(DEBIAN_MODULE)
    if not paths:
        return None
    ours = {k: v for k, v in sys.modules.items() if k == "seccomp" or k.startswith("seccomp.")}
    for k in ours:
        del sys.modules[k]
    try:
        loader = importlib.machinery.ExtensionFileLoader("seccomp", paths[0])
        spec = importlib.util.spec_from_file_location("seccomp", paths[0], loader=loader)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        sys.modules.update(ours)


def make_rules():
    import seccomp
    names = []
    for nr in range(1024):
        try:
            names.append(seccomp.syscall_name(nr))
        except seccomp.SeccompError:
            continue
    return [(name, 0, 0xdead0000 + i) if i % 8 == 7 and name not in ESSENTIAL else (name,)
            for i, name in enumerate(names[:370])]


def write_spec(rules, path):
    with open(path, "w") as f:
        for rule in rules:
            f.write(" ".join(map(str, rule)) + "\n")


def build_c(tmp):
    exe = os.path.join(tmp, "bench_core")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libseccomp"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "c", "bench_core.c"), *flags],
                   check=True)
    return exe


DEVNULL = open(os.devnull, "wb")  # where the exports go


def workloads_native(rules):
    """This package's own API: Filter, Cond, Action.ERRNO, syscall_number."""
    import seccomp
    from seccomp import Action, Cond, Filter, Op
    allow, deny, eq = Action.ALLOW, Action.ERRNO(errno.EPERM), Op.EQ

    def build(rules=rules):
        f = Filter(deny)
        for rule in rules:
            if len(rule) == 1:
                f.add_rule(allow, rule[0])
            else:
                f.add_rule(allow, rule[0], Cond(rule[1], eq, rule[2]))
        return f

    def small():
        f = Filter(allow)
        f.add_rule(deny, "getpid")
        f.release()

    first10 = rules[:10]
    program = build().compile()
    return {"errno": lambda: Action.ERRNO(1), "build": lambda: build().release(),
            "ten": lambda: build(first10).release(), "small": small,
            "export": lambda: build()._export_bpf_fd(DEVNULL.fileno()),
            "export_checked": lambda: build().export_bpf(DEVNULL),
            "resolve": seccomp.syscall_number,
            "load": lambda: build().load, "program_load": lambda: program.load}


def workloads_compat(mod, rules):
    """libseccomp's module's API (SyscallFilter, Arg, ERRNO, resolve_syscall), on *mod*."""
    allow, deny, Arg, EQ, ERRNO = mod.ALLOW, mod.ERRNO(errno.EPERM), mod.Arg, mod.EQ, mod.ERRNO
    SyscallFilter, resolve_syscall, native = mod.SyscallFilter, mod.resolve_syscall, mod.Arch.NATIVE

    def build(rules=rules):
        f = SyscallFilter(deny)
        for rule in rules:
            if len(rule) == 1:
                f.add_rule(allow, rule[0])
            else:
                f.add_rule(allow, rule[0], Arg(rule[1], EQ, rule[2]))
        return f

    def small():
        f = SyscallFilter(allow)
        f.add_rule(deny, "getpid")
        del f

    first10 = rules[:10]
    work = {"errno": lambda: ERRNO(1), "build": lambda: build(), "ten": lambda: build(first10),
            "small": small, "resolve": lambda name: resolve_syscall(native, name),
            "load": lambda: build().load}
    if hasattr(mod, "Filter"):  # this package: the core's export, and the checked one
        work["export"] = lambda: build()._export_bpf_fd(DEVNULL.fileno())
        work["export_checked"] = lambda: build().export_bpf(DEVNULL)
    elif hasattr(SyscallFilter, "export_bpf"):  # libseccomp's module (no check)
        work["export"] = lambda: build().export_bpf(DEVNULL)
    return work


def floor_module():
    """libseccomp's module's names with every call a C no-op: what the workloads' own Python
    loops and calls cost (the floor any Python binding adds to C)."""
    import operator
    import types

    class NoFilter(int):  # made in C; add_rule takes 2 or 3 arguments and does nothing
        __slots__ = ()
        add_rule = staticmethod(slice)

    return types.SimpleNamespace(ALLOW=0, ERRNO=int, Arg=slice, EQ=4, SyscallFilter=NoFilter,
                                 resolve_syscall=operator.is_,
                                 Arch=types.SimpleNamespace(NATIVE=0))


def time_batch(fn, n):
    t0 = time.process_time_ns()
    for _ in range(n):
        fn()
    return (time.process_time_ns() - t0) / n


def time_resolve(resolve, names, n):
    t0 = time.process_time_ns()
    for _ in range(n):
        for name in names:
            resolve(name)
    return (time.process_time_ns() - t0) / (n * len(names))


def time_load(make_loader):
    """The fastest of LOADS loads in a child (loading is irreversible)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            load = make_loader()
            best = min(time_batch(load, 1) for _ in range(LOADS))
            os.write(w, repr(best).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        text = f.read()
    os.waitpid(pid, 0)
    return float(text) if text else None


def measure(work, names):
    out = {}
    for col in COLUMNS:
        if col not in work:
            continue
        if col == "resolve":
            out[col] = time_resolve(work[col], names, BATCH[col])
        elif col in ("load", "program_load"):
            out[col] = time_load(work[col])
        else:
            out[col] = time_batch(work[col], BATCH[col])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=9)
    args = ap.parse_args()
    import seccomp
    if not hasattr(seccomp, "Filter"):
        sys.exit("this interpreter imports libseccomp's module as seccomp: install this package")
    debian = import_libseccomp_module()
    rules = make_rules()
    names = [r[0] for r in rules]
    impls = {"seccomp.Filter (ours)": workloads_native(rules),
             "compatibility names (ours)": workloads_compat(seccomp, rules)}
    if debian is not None:
        impls["libseccomp's module"] = workloads_compat(debian, rules)
    else:
        print("libseccomp's module: skipped (no %s)" % DEBIAN_MODULE)
    floor = workloads_compat(floor_module(), rules)
    impls["floor: the same loops, calls doing nothing"] = {
        k: v for k, v in floor.items() if k in ("build", "ten", "small", "resolve")}
    samples = {name: {} for name in ["C (libseccomp)", *impls]}
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "rules.txt")
        write_spec(rules, spec)
        exe = build_c(tmp)
        for rnd in range(args.rounds):
            order = list(impls.items())
            if rnd % 2:
                order.reverse()  # neither side always runs first
            c = json.loads(subprocess.run([exe, spec, "1"], check=True, capture_output=True,
                                          text=True).stdout)
            for col, value in c.items():
                samples["C (libseccomp)"].setdefault(col, []).append(value)
            for name, work in order:
                for col, value in measure(work, names).items():
                    if value is not None:
                        samples[name].setdefault(col, []).append(value)

    def median(name, col):
        values = samples[name].get(col)
        return statistics.median(values) if values else None

    print("%d rules, %d interleaved rounds, %s; ns per operation: median [min-max] (ratio of "
          "medians to C, or to libseccomp's module for errno)"
          % (len(rules), args.rounds, sys.executable))
    print("| implementation | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for name, cols in samples.items():
        cells = []
        for col in COLUMNS:
            values = cols.get(col)
            if not values:
                cells.append("-")
                continue
            base_name, base_col = "C (libseccomp)", col
            if col == "errno":
                base_name = "libseccomp's module"
            elif col == "program_load":
                base_col = "load"  # compared with seccomp_load from C
            elif col == "export_checked":
                base_col = "export"  # compared with seccomp_export_bpf from C
            base = median(base_name, base_col)
            ratio = " (%.2fx)" % (statistics.median(values) / base) if base else ""
            cells.append("%.0f [%.0f-%.0f]%s" % (statistics.median(values), min(values),
                                                 max(values), ratio))
        print("| %s | %s |" % (name, " | ".join(cells)))


if __name__ == "__main__":
    main()
