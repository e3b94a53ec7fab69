"""Reliability: filters are exactly what was asked, limits fail clearly, threads and fork are safe,
memory stays flat. Every filter is loaded in a child process."""
import errno
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seccomp
from seccomp import Action, Cond, Filter, Op

from childproc import in_child, run_python
from kernel import syscall

HERE = os.path.dirname(os.path.abspath(__file__))
U64 = (1 << 64) - 1

# Syscalls that take no arguments: the kernel ignores the registers, seccomp still sees them,
# so a child can call them with any six values and only the filter decides the outcome.
PROBES = ["getppid", "getuid", "getgid", "geteuid", "getegid", "sched_yield"]


# -- a reference built with libseccomp's C API -----------------------------------------------

@pytest.fixture(scope="module")
def c_reference(tmp_path_factory):
    """Path of tests/c/rules_to_bpf.c compiled against the system libseccomp."""
    if shutil.which("gcc") is None or shutil.which("pkg-config") is None:
        pytest.skip("needs gcc and pkg-config to build the C reference")
    out = str(tmp_path_factory.mktemp("c") / "rules_to_bpf")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libseccomp"],
                           capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(["gcc", "-O1", "-o", out, os.path.join(HERE, "c", "rules_to_bpf.c"), *flags],
                   check=True)
    return out


def c_bpf(tool, default, rules):
    """BPF from the C reference for (action, syscall number, [(arg, op, a, b)]) rules."""
    lines = ["default %d" % default]
    for action, nr, conds in rules:
        lines.append("rule %d %d %d %s" % (action, nr, len(conds), " ".join(
            "%d %d %d %d" % c for c in conds)))
    done = subprocess.run([tool], input="\n".join(lines).encode(), capture_output=True,
                          check=False)
    assert done.returncode in (0, 3), done.stderr
    return done.stdout if done.returncode == 0 else None


def matches(op, a, v, v2):
    """What a 64-bit argument comparison means (libseccomp's operators, unsigned)."""
    return {Op.NE: a != v, Op.LT: a < v, Op.LE: a <= v, Op.EQ: a == v, Op.GE: a >= v,
            Op.GT: a > v, Op.MASKED_EQ: (a & v) == v2}[op]


ops = st.sampled_from([Op.NE, Op.LT, Op.LE, Op.EQ, Op.GE, Op.GT, Op.MASKED_EQ])
values = st.one_of(st.integers(0, U64), st.sampled_from([0, 1, 0xFFFFFFFF, 1 << 32, U64]))


@st.composite
def rule_sets(draw):
    """At most one rule per probe syscall, each testing distinct args; the default allows
    (the child's interpreter must keep running)."""
    default = Action.ALLOW
    rules = []
    for i, name in enumerate(draw(st.lists(st.sampled_from(PROBES), min_size=1, max_size=4,
                                           unique=True))):
        action = Action.ERRNO(100 + i)
        args = draw(st.lists(st.integers(0, 5), max_size=3, unique=True))
        conds = []
        for arg in args:
            op = draw(ops)
            v = draw(values)
            v2 = draw(values) & v if op == Op.MASKED_EQ else 0
            conds.append((arg, op, v, v2))
        rules.append((name, action, conds))
    return default, rules


def calls_for(rules, draw_args):
    """Argument tuples per rule: ones built to satisfy the conditions, and random ones."""
    calls = []
    for name, _, conds in rules:
        hit = [0] * 6
        for arg, op, v, v2 in conds:
            hit[arg] = {Op.NE: v ^ 1, Op.LT: max(v - 1, 0), Op.LE: v, Op.EQ: v, Op.GE: v,
                        Op.GT: min(v + 1, U64), Op.MASKED_EQ: v2}[op]
        calls.append((name, tuple(hit)))
        calls.append((name, tuple(draw_args)))
    return calls


def expected(default, rules, name, args):
    for rname, action, conds in rules:
        if rname == name and all(matches(op, args[a], v, v2) for a, op, v, v2 in conds):
            return action
    return default


def outcome(action):
    """What a probe returns under an action: its errno, or 0 when the call runs."""
    return 0 if action == Action.ALLOW else action & 0xFFFF


def run_probes(f, calls):
    f.load()
    return [syscall(name, *(a - (1 << 64) if a >= 1 << 63 else a for a in args))[1]
            for name, args in calls]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rule_sets(), st.lists(values, min_size=6, max_size=6))
def test_random_rules_match_the_kernel_and_the_c_api(c_reference, case, random_args):
    default, rules = case
    f = Filter(default, tsync=False)
    for name, action, conds in rules:
        f.add_rule(action, name, *(Cond(a, op, v, v2) for a, op, v, v2 in conds))
    ours = f.export_bpf()
    # the same rules through the C API give the same bytes
    ref = c_bpf(c_reference, default, [(a, seccomp.syscall_number(n), c) for n, a, c in rules])
    assert ours == ref
    # and the kernel does what the rules say
    calls = calls_for(rules, random_args)
    got = in_child(run_probes, f, calls).unwrap()
    want = [outcome(expected(default, rules, n, a)) for n, a in calls]
    assert got == want, list(zip(calls, got, want))


# -- limits -------------------------------------------------------------------------------------

def test_filter_over_the_kernel_limit_fails_naming_its_size():
    f = Filter(Action.ALLOW, tsync=False)
    for i in range(5000):
        f.add_rule(Action.ERRNO(1), "ioctl", Cond(1, Op.EQ, i))
    size = len(f.export_bpf()) // 8
    assert size > 4096

    def load():
        try:
            f.load()
        except seccomp.InvalidArgumentError as exc:
            return str(exc)
        return None

    message = in_child(load).unwrap()
    assert message is not None and str(size) in message and "4096" in message


def test_ten_thousand_rule_profile_compiles_in_bounded_memory():
    code = textwrap.dedent("""
        import resource, seccomp.profile as p
        rules = [{"names": ["ioctl"], "action": "SCMP_ACT_ERRNO",
                  "args": [{"index": 1, "value": i, "op": "SCMP_CMP_EQ"}]} for i in range(10000)]
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        f = p.load({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": rules}).compile()
        n = len(f.export_bpf()) // 8
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(n, after - before)
    """)
    done = run_python(code, timeout=300)
    assert done.returncode == 0, done.stderr
    instructions, grown_kib = map(int, done.stdout.split())
    assert instructions > 10000           # one comparison per rule at least
    assert grown_kib < 256 * 1024         # well under 256 MiB for 10,000 rules


# -- threads ------------------------------------------------------------------------------------

def _thread_that_cannot_sync():
    ready, stop = threading.Event(), threading.Event()

    def own_filter():
        g = Filter(Action.ALLOW, tsync=False)    # this thread only: not an ancestor of f
        g.add_rule(Action.ERRNO(errno.EPERM), "getppid")
        g.load()
        ready.set()
        stop.wait()

    t = threading.Thread(target=own_filter, daemon=True)
    t.start()
    ready.wait()
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(errno.EACCES), "getpgrp")
    try:
        f.load()
    except seccomp.SeccompError as exc:
        return t.native_id, exc.errno, str(exc)
    return t.native_id, None, ""


def test_tsync_failure_names_the_thread():
    tid, err, message = in_child(_thread_that_cannot_sync).unwrap()
    assert err == errno.ESRCH
    assert "thread %d" % tid in message


def _hammer(shared, results, n):
    try:
        for i in range(n):
            shared.add_rule(Action.ERRNO(1 + i % 100), 1000 + (i % 50))
            shared.export_bpf()
            assert shared.default_action == Action.ALLOW
            own = Filter(Action.KILL)
            own.add_rule(Action.ALLOW, "read")
            assert own.export_pfc().count("ALLOW") >= 1
            own.release()
        results.append(None)
    except BaseException as exc:  # report, do not lose, a failure of a thread
        results.append(repr(exc))


def _threads_share_filters():
    shared = Filter(Action.ALLOW)
    results = []
    threads = [threading.Thread(target=_hammer, args=(shared, results, 200)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    pfc = shared.export_pfc()
    return results, sum(1 for nr in range(1000, 1050) if "syscall %d" % nr in pfc
                        or "#%d" % nr in pfc or "== %d" % nr in pfc)


def test_threads_using_shared_and_own_filters():
    result = in_child(_threads_share_filters, timeout=120)
    results, seen = result.unwrap()
    assert results == [None] * 8
    assert seen == 50   # every syscall any thread added is in the filter


def _release_while_others_use():
    f = Filter(Action.ALLOW)
    errors = []
    started = threading.Barrier(5)

    def use():
        started.wait()
        while True:  # until the release reaches this thread as an exception
            try:
                f.add_rule(Action.ERRNO(1), "getppid")
                f.export_bpf()
            except seccomp.SeccompError:
                errors.append("error")
                return

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    f.release()
    for t in threads:
        t.join()
    return len(errors)


def test_release_while_other_threads_use_the_filter():
    result = in_child(_release_while_others_use, timeout=120)
    assert result.unwrap() == 4     # each thread saw the release as an exception, no crash


# -- fork and exec -------------------------------------------------------------------------------

def test_program_loads_between_fork_and_exec():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(errno.EPERM), "mkdirat")
    f.add_rule(Action.ERRNO(errno.EPERM), "mkdir")
    program = f.compile()
    target = "/tmp/seccomp-test-%d" % os.getpid()
    done = subprocess.run(["mkdir", target], preexec_fn=program.load, capture_output=True,
                          text=True)
    assert done.returncode != 0
    assert "Operation not permitted" in done.stderr
    assert not os.path.exists(target)
    done = subprocess.run(["true"], preexec_fn=program.load)
    assert done.returncode == 0


# -- memory ---------------------------------------------------------------------------------------

LEAK_CHECK = textwrap.dedent("""
    import gc, sys
    from seccomp import Action, Cond, Filter, Op

    def rss_kib():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4

    def cycles(n):
        for i in range(n):
            f = Filter(Action.ALLOW)
            f.add_rule(Action.ERRNO(1), "getppid", Cond(0, Op.EQ, i))
            f.export_bpf()
            if i % 2:
                f.release()
            try:
                f.add_rule(Action.ERRNO(1), "no_such_syscall")
            except Exception:
                pass

    n = int(sys.argv[1])
    cycles(n // 10)  # warm up: caches, allocator arenas
    gc.collect()
    before = rss_kib()
    cycles(n)
    gc.collect()
    print(before, rss_kib())
""")


def test_create_add_export_release_cycles_keep_memory_flat():
    done = run_python(LEAK_CHECK, "50000", timeout=300)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    # a leak of even 100 bytes per cycle would add about 5 MiB
    assert after - before < 2048, (before, after)


# -- fuzzing the API ------------------------------------------------------------------------------

# What the API documents it raises for bad input; anything else is a bug.
DOCUMENTED = (seccomp.SeccompError, ValueError, TypeError)

junk = st.one_of(
    st.none(), st.booleans(), st.floats(allow_nan=True), st.binary(max_size=8),
    st.integers(-(1 << 70), 1 << 70), st.integers(-2, 70000),
    st.sampled_from(["read", "write", "socketcall", "", "no_such_call", "x" * 300, "\0", "é"]),
    st.sampled_from(list(Action.__members__.values()) if hasattr(Action, "__members__")
                    else [Action.ALLOW]),
    st.sampled_from([Action.ALLOW, Action.KILL, Action.ERRNO(1), Action.TRACE(7),
                     Action.LOG, Action.TRAP, Action.NOTIFY]),
    st.sampled_from(list(seccomp.Arch)), st.sampled_from(list(Op)),
)

conds = st.builds(lambda a, o, v, w: (a, o, v, w), junk, junk, junk, junk)

OPERATIONS = st.one_of(
    st.tuples(st.just("add_rule"), junk, junk, st.lists(conds, max_size=3)),
    st.tuples(st.just("add_rule_exact"), junk, junk, st.lists(conds, max_size=2)),
    st.tuples(st.just("merge"), st.sampled_from(["other", "self", "none", "released"])),
    st.tuples(st.just("reset"), st.one_of(st.none(), junk)),
    st.tuples(st.sampled_from(["add_arch", "remove_arch", "has_arch"]), junk),
    st.tuples(st.just("syscall_priority"), junk, junk),
    st.tuples(st.sampled_from(["export_bpf", "export_pfc", "compile", "precompute", "release",
                               "arches", "repr", "transaction", "notify_fd"])),
    st.tuples(st.just("set"), st.sampled_from(["bad_arch_action", "no_new_privs", "tsync", "log",
                                               "ssb", "optimize", "raw_rc", "api_tskip",
                                               "wait_kill"]), junk),
    st.tuples(st.just("get"), st.sampled_from(["default_action", "bad_arch_action",
                                               "no_new_privs", "tsync", "optimize"])),
    st.tuples(st.sampled_from(["syscall_number", "syscall_name"]), junk, junk),
    st.tuples(st.sampled_from(["Action", "Arch", "Filter", "action_available"]), junk),
)


def _apply(f, other, op):
    kind, args = op[0], op[1:]
    if kind in ("add_rule", "add_rule_exact"):
        made = [Cond(*c) for c in args[2]]
        return getattr(f, kind)(args[0], args[1], *made)
    if kind == "merge":
        target = {"other": other, "self": f, "none": None}.get(args[0])
        if args[0] == "released":
            target = Filter(Action.ALLOW)
            target.release()
        return f.merge(target)
    if kind == "set":
        return setattr(f, args[0], args[1])
    if kind == "get":
        return getattr(f, args[0])
    if kind == "arches":
        return f.arches
    if kind == "repr":
        return repr(f)
    if kind == "transaction":
        with f.transaction():
            return f.add_rule(Action.ERRNO(2), "getppid")
    if kind in ("syscall_number", "syscall_name"):
        return getattr(seccomp, kind)(*args)
    if kind in ("Action", "Arch", "Filter", "action_available"):
        return getattr(seccomp, kind)(*args)
    return getattr(f, kind)(*args)


def _run_operations(ops):
    """Apply the operations to a filter; return the ones that raised an undocumented error."""
    f, other = Filter(Action.ALLOW), Filter(Action.ERRNO(1))
    other.add_rule(Action.KILL, "ptrace")
    bad = []
    for op in ops:
        try:
            _apply(f, other, op)
        except DOCUMENTED:
            pass
        except Exception as exc:
            bad.append("%r -> %s: %s" % (op, type(exc).__name__, exc))
    repr(f)
    f.release()
    return bad


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPERATIONS, min_size=1, max_size=25))
def test_random_api_calls_raise_only_documented_errors(ops):
    result = in_child(_run_operations, ops, timeout=60)
    assert result.unwrap() == []


def test_notification_round_trips_keep_memory_flat():
    """20,000 round trips through the Supervisor (benchmarks/soak.py runs 100,000)."""
    import subprocess
    root = os.path.dirname(HERE)
    done = subprocess.run([sys.executable, os.path.join(root, "benchmarks", "soak.py"),
                           "--scale", "0.2", "--limit", "1024", "notifications", "errors"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "| notifications | 20000 |" in done.stdout


# -- fuzzing the emulator's and the profile reader's Python API ---------------------------------

def _module_calls(calls):
    from seccomp import bpf
    import seccomp.profile as profile
    program = Filter(Action.ALLOW).export_bpf()
    bad = []
    for name, args in calls:
        fn = {"evaluate": lambda *a: bpf.evaluate(program, *a),
              "evaluate_bytes": lambda *a: bpf.evaluate(*a),
              "evaluate_many": lambda *a: bpf.evaluate_many(program, list(a)),
              "disassemble": lambda *a: bpf.disassemble(*a),
              "check": lambda *a: bpf.check(*a),
              "explain": lambda *a: bpf.explain(*a),
              "profile": lambda *a: profile.load(*a),
              "simulate": lambda *a: Filter(Action.ALLOW).simulate(*a)}[name]
        try:
            fn(*args)
        except DOCUMENTED:
            pass
        except Exception as exc:
            bad.append("%s%r -> %s: %s" % (name, args, type(exc).__name__, exc))
    return bad


MODULE_CALLS = st.tuples(
    st.sampled_from(["evaluate", "evaluate_bytes", "evaluate_many", "disassemble", "check",
                     "explain", "profile", "simulate"]),
    st.lists(st.one_of(junk, st.lists(junk, max_size=7), st.binary(max_size=40),
                       st.dictionaries(st.sampled_from(["defaultAction", "syscalls", "names",
                                                        "architectures", "x"]), junk,
                                       max_size=3)),
             max_size=4))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(MODULE_CALLS, min_size=1, max_size=10))
def test_emulator_and_profile_calls_raise_only_documented_errors(calls):
    result = in_child(_module_calls, calls, timeout=60)
    assert result.unwrap() == []
