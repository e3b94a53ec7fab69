"""libseccomp's seccomp_rule_add() never returns on some rule sets (src_c/_rule_guard.pxi says
why); the library keeps such a rule out of libseccomp and generates the program itself.

The guard's prediction is compared with what libseccomp really does: each rule set is added
through ctypes (not through this package) in a child that a CPU-time timer kills when an add
does not return. ``SECCOMP_FULL_SWEEP=1`` runs the whole sweep (38416 two-rule sets and
three-rule histories); by default a bounded part of it runs."""
import ctypes
import errno
import itertools
import os
import random
import select
import signal
import time

import pytest

import seccomp
from childproc import in_child
from seccomp import Action, Cond, Filter, Op
from seccomp import _core
from seccomp.policy.model import _prefixes  # [lo, hi] as MASKED_EQ blocks

from kernel import syscall
from test_rules_check import kernel_errnos

FULL = os.environ.get("SECCOMP_FULL_SWEEP") == "1"
GETPID = _core.syscall_resolve_name("getpid", _core.arch_native())
GETPGID = _core.syscall_resolve_name("getpgid", _core.arch_native())
OPS = [Op.NE, Op.LT, Op.LE, Op.EQ, Op.GE, Op.GT, Op.MASKED_EQ]
SHIFTS = [0, -1, 1, 1 << 32]  # the second rule's values relative to the first's


def cond(arg, op, value):
    if op == Op.MASKED_EQ:
        return Cond(arg, op, 0xFF, value & 0xFF)
    return Cond(arg, op, value)


def two_rule_sets(sample=None):
    out = []
    for oa, ob, oc, od in itertools.product(OPS, repeat=4):
        for sa, sb in itertools.product(SHIFTS, repeat=2):
            out.append([(cond(0, oa, 5), cond(1, ob, 7)),
                        (cond(0, oc, 5 + sa), cond(1, od, 7 + sb))])
    if sample is None:
        return out
    same = [r for r in out if r[0][0] == r[1][0]]  # the same first condition: where loops are
    rng = random.Random(13)
    return same[::9] + rng.sample(out, sample)


class _Cmp(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int),
                ("datum_a", ctypes.c_uint64), ("datum_b", ctypes.c_uint64)]


def _libseccomp():
    """libseccomp as loaded by the package (the system's or the bundled one), via ctypes."""
    with open("/proc/self/maps") as f:
        paths = {line.split()[-1] for line in f if "libseccomp" in line}
    lib = ctypes.CDLL(sorted(paths)[0])
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int,
                                           ctypes.c_uint, ctypes.POINTER(_Cmp)]
    return lib


def _raw_add(lib, rules):
    ctx = lib.seccomp_init(int(Action.ALLOW))
    for i, conds in enumerate(rules):
        arr = (_Cmp * len(conds))(*[_Cmp(c.arg, c.op, c.value, c.value2) for c in conds])
        lib.seccomp_rule_add_array(ctx, int(Action.ERRNO(1 + i)), GETPID, len(conds), arr)
    lib.seccomp_release(ctx)


def libseccomp_loops(cases):
    """For each rule set, whether libseccomp's seccomp_rule_add never returns on it. Cases run
    in batches in children; one whose add burns 30 ms of CPU (a plain add takes microseconds)
    is killed by SIGVTALRM, whatever the machine's load."""
    out = []
    while len(out) < len(cases):
        start = len(out)
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            try:
                lib = _libseccomp()
                for case in cases[start:]:
                    signal.setitimer(signal.ITIMER_VIRTUAL, 0.03)
                    _raw_add(lib, case)
                    signal.setitimer(signal.ITIMER_VIRTUAL, 0)
                    os.write(w, b".")
            finally:
                os._exit(0)
        os.close(w)
        done = 0
        while True:
            ready, _, _ = select.select([r], [], [], 60)
            assert ready, "the sweep's child neither progressed nor died in 60 s"
            data = os.read(r, 65536)
            if not data:
                break
            done += len(data)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        out += [False] * done
        if len(out) < len(cases):
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGVTALRM, status
            out.append(True)
    return out


def guard_holds(rules):
    """Whether the package keeps one of the rules out of libseccomp (its prediction)."""
    f = Filter(Action.ALLOW, tsync=False)
    for i, conds in enumerate(rules):
        try:
            f.add_rule(Action.ERRNO(1 + i), "getpid", *conds)
        except seccomp.SeccompError:  # a conflict libseccomp refuses (after the guard)
            pass
    return bool(f._held_rules)


def test_the_guard_predicts_libseccomps_loop_exactly_for_two_rules():
    cases = two_rule_sets(None if FULL else 150)
    real = libseccomp_loops(cases)
    assert sum(real) >= (300 if FULL else 10)  # the sweep does meet the loop
    wrong = [c for c, loops in zip(cases, real) if guard_holds(c) != loops]
    assert not wrong, wrong[:5]


def test_the_guard_never_misses_a_loop_in_longer_histories():
    rng = random.Random(5)
    cases = []
    values = [2, 5, 7, 1 << 32]
    for _ in range(3000 if FULL else 60):
        first = (cond(0, rng.choice(OPS[:3] + OPS[4:6]), 5), )
        rules = []
        for _ in range(3):
            rest = tuple(cond(a, rng.choice(OPS), rng.choice(values))
                         for a in sorted(rng.sample([1, 2, 3], rng.randint(1, 2))))
            rules.append(first + rest)
        cases.append(rules)
    real = libseccomp_loops(cases)
    for case, loops in zip(cases, real):
        if loops:
            assert guard_holds(case), case


EXAMPLE = [(Cond(0, Op.LE, 5), Cond(1, Op.LE, 7)), (Cond(0, Op.LE, 5), Cond(1, Op.EQ, 2))]


def test_a_held_rule_is_in_the_filter_exactly_as_asked():
    f = Filter(Action.ALLOW, tsync=False)
    f.add_rule(Action.ERRNO(errno.EPERM), "getpid", *EXAMPLE[0])
    f.add_rule(Action.ERRNO(errno.ENOENT), "getpid", *EXAMPLE[1])
    assert f._held_rules == [(int(Action.ERRNO(errno.ENOENT)), "getpid", EXAMPLE[1], False)]
    calls = [("getpid", (5, 2)), ("getpid", (5, 7)), ("getpid", (5, 8)), ("getpid", (6, 2)),
             ("getpid", (0, 2))]
    want = [errno.EPERM, errno.EPERM, 0, 0, errno.EPERM]
    assert [f.simulate(n, *a) for n, a in calls] == [
        Action.ERRNO(e) if e else Action.ALLOW for e in want]
    assert in_child(kernel_errnos, f, calls).unwrap() == want


def test_a_held_rule_still_gets_libseccomps_checks():
    f = Filter(Action.ERRNO(1), tsync=False)
    f.add_rule(Action.ERRNO(2), "getpid", *EXAMPLE[0])
    with pytest.raises(seccomp.SeccompError, match="default action"):
        f.add_rule(Action.ERRNO(1), "getpid", *EXAMPLE[1])
    assert not f._held_rules and len(f._rule_log) == 1


def test_every_path_that_adds_rules_is_guarded():
    # the compatibility class, a profile and a policy, each in a child that must return
    def compat():
        flt = seccomp.SyscallFilter(seccomp.ALLOW)
        flt.add_rule(seccomp.ERRNO(1), "getpid", seccomp.Arg(0, seccomp.LE, 5),
                     seccomp.Arg(1, seccomp.LE, 7))
        flt.add_rule(seccomp.ERRNO(2), "getpid", seccomp.Arg(0, seccomp.LE, 5),
                     seccomp.Arg(1, seccomp.EQ, 2))
        return len(flt._held_rules)

    def profile():
        rule = {"names": ["getpid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}
        doc = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
            dict(rule, args=[{"index": 0, "value": 5, "op": "SCMP_CMP_LE"},
                             {"index": 1, "value": 7, "op": "SCMP_CMP_LE"}]),
            dict(rule, errnoRet=2, args=[{"index": 0, "value": 5, "op": "SCMP_CMP_LE"},
                                         {"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}])]}
        f = seccomp.profile.load(doc).compile()
        return len(f._held_rules), f.simulate("getpid", 5, 2)

    def policy():  # the policy compiler's own way round the loop, or the guard
        text = "getpid: arg0 <= 5 && arg1 <= 7 || arg0 <= 5 && arg1 == 2\n"
        from seccomp import policy as p
        f = p.loads(text, format="minijail").compile()
        return [f.simulate("getpid", *args) for args in ((5, 7), (5, 2), (6, 2), (5, 8))]

    assert in_child(compat, timeout=20).unwrap() == 1
    assert in_child(profile, timeout=20).unwrap() == (1, Action.ERRNO(1))
    inside, inside2, outside, outside2 = in_child(policy, timeout=20).unwrap()
    assert inside == inside2 != outside == outside2


U64 = (1 << 64) - 1


def slow_prune_rules():
    """The rules a policy compiler made of getpgid's ``arg1 <= 7 && arg2 == 2**64-2: TRAP``,
    ``arg1 <= 7 && arg0 < 2**64-2: KILL_PROCESS``, ``arg1 <= 2**64-2: ERRNO(1)`` (default
    ALLOW) when it wrote ranges as masked patterns: 372 rules, libseccomp 2.5.4 never returns
    from the 371st (its _db_tree_prune walk), which the shared-node pattern does not predict."""
    x = U64 - 1
    arg1 = [Cond(1, Op.MASKED_EQ, m, v) for m, v in _prefixes(8, x - 1, 64)] + [Cond(1, Op.EQ, x)]
    errno1 = ([(c,) for c in arg1] + [(Cond(0, Op.GE, x), c) for c in arg1]
              + [(c, Cond(2, Op.NE, x)) for c in arg1]
              + [(Cond(0, Op.GE, x), Cond(1, Op.LE, x), Cond(2, Op.NE, x))])
    return ([(Action.ERRNO(1), r) for r in errno1]
            + [(Action.KILL_PROCESS, (Cond(0, Op.LT, x), Cond(1, Op.LE, 7), Cond(2, Op.NE, x))),
               (Action.TRAP, (Cond(1, Op.LE, 7), Cond(2, Op.EQ, x)))])


def slow_prune_decides(a0, a1, a2):
    x = U64 - 1
    if a1 <= 7 and a2 == x:
        return Action.TRAP
    if a1 <= 7 and a0 < x:
        return Action.KILL_PROCESS
    return Action.ERRNO(1) if a1 <= x else Action.ALLOW


def _build_slow_prune():
    f = Filter(Action.ALLOW, tsync=False)
    for action, conds in slow_prune_rules():
        f.add_rule(action, "getpgid", *conds)
    return f


def test_a_rule_whose_add_libseccomp_never_ends_is_held_and_the_filter_is_exact():
    rules = slow_prune_rules()
    assert len(rules) == 372
    # libseccomp itself, given the rules the shared-node test lets through, never returns
    # from the 371st add: 0.5 s of CPU (the others take microseconds) ends it
    def raw():
        lib = _libseccomp()
        ctx = lib.seccomp_init(int(Action.ALLOW))
        for i, (action, conds) in enumerate(rules[:371]):
            if 123 < i < 246 or i == 369:
                continue
            if i == 370:
                signal.setitimer(signal.ITIMER_VIRTUAL, 0.5)
            arr = (_Cmp * len(conds))(*[_Cmp(c.arg, c.op, c.value, c.value2) for c in conds])
            assert lib.seccomp_rule_add_array(ctx, int(action), GETPGID, len(conds), arr) == 0

    assert in_child(raw, timeout=60).signal == signal.SIGVTALRM

    edges = (0, 1, 7, 8, 1 << 32, U64 - 2, U64 - 1, U64)
    vectors = [(a, b, c) for a in edges for b in edges for c in (0, 7, U64 - 1, U64)]

    def build_and_evaluate():
        f = _build_slow_prune()
        program = f.export_bpf()  # checked against the rules on the way out
        return len(f._held_rules), program, [seccomp.bpf.evaluate(program, "getpgid", v)
                                             for v in vectors]

    held, program, got = in_child(build_and_evaluate, timeout=60).unwrap()
    assert held >= 1
    assert got == [slow_prune_decides(*v) for v in vectors]

    def call(args):
        seccomp.Program(program).load()
        return syscall("getpgid", *(a - (1 << 64) if a >= 1 << 63 else a for a in args))

    assert in_child(call, (0, 7, U64 - 1)).signal == signal.SIGSYS  # TRAP
    assert in_child(call, (0, 7, 0)).signal == signal.SIGSYS  # KILL_PROCESS
    assert in_child(call, (U64 - 1, 7, 0)).unwrap()[1] == errno.EPERM  # ERRNO(1)
    assert in_child(call, (0, U64, 0)).unwrap()[1] == 0  # no rule matches: ALLOW


def _random_history(rng, length):
    values = [0, 1, 5, 7, 1 << 32, (1 << 32) + 5, U64 - 1]
    rules = []
    for _ in range(length):
        conds = []
        for a in sorted(rng.sample([0, 1, 2], rng.randint(1, 3))):
            op = rng.choice(OPS)
            if op == Op.MASKED_EQ:
                mask = rng.choice([0xFF, U64 & ~7, 0xFFFFFFFF00000000])
                conds.append(Cond(a, op, mask, rng.choice(values) & mask))
            else:
                conds.append(Cond(a, op, rng.choice(values)))
        rules.append(tuple(conds))
    return rules


def _holds(c, args):
    v = args[c.arg]
    return {Op.NE: v != c.value, Op.LT: v < c.value, Op.LE: v <= c.value, Op.EQ: v == c.value,
            Op.GE: v >= c.value, Op.GT: v > c.value,
            Op.MASKED_EQ: v & c.value == c.value2}[c.op]


def test_random_long_histories_end_and_the_filter_does_what_the_rules_say():
    """Long histories of range, !=, == and masked conditions on three arguments (one action,
    so what the filter must do is the rules' disjunction) end in a child within its alarm,
    and the program does what the rules say at their boundary values."""
    rng = random.Random(11)
    cases = [_random_history(rng, rng.randint(20, 60)) for _ in range(200 if FULL else 6)]
    points = [0, 1, 4, 5, 6, 7, 8, (1 << 32) - 1, 1 << 32, (1 << 32) + 5, U64 - 1, U64]

    def run(rules):
        f = Filter(Action.ALLOW, tsync=False)
        for conds in rules:
            f.add_rule(Action.ERRNO(1), "getpgid", *conds)
        program = f.export_bpf()
        vecs = [tuple(rng.choice(points) for _ in range(3)) for _ in range(300)]
        return vecs, [seccomp.bpf.evaluate(program, "getpgid", v) for v in vecs]

    for rules in cases:
        vecs, got = in_child(run, rules, timeout=60).unwrap()
        want = [Action.ERRNO(1) if any(all(_holds(c, v) for c in r) for r in rules)
                else Action.ALLOW for v in vecs]
        assert got == want, rules


def _given_rules(f):
    """The rules of a filter that went to libseccomp, in order (the others are held)."""
    held = {id(h[2]) for h in f._held_rules or ()}
    return [(e[0], e[2]) for e in f._rule_log if id(e[2]) not in held]


def libseccomp_adds_are_quick(histories, cpu_seconds):
    """For each history of (action, conditions) rules of getpgid, whether libseccomp (through
    ctypes, in a child) adds every rule within *cpu_seconds* of CPU time."""
    def run():
        lib = _libseccomp()
        out = []
        for rules in histories:
            ctx = lib.seccomp_init(int(Action.ALLOW))
            quick = True
            for action, conds in rules:
                arr = (_Cmp * len(conds))(*[_Cmp(c.arg, c.op, c.value, c.value2)
                                            for c in conds])
                start = time.process_time()
                lib.seccomp_rule_add_array(ctx, int(action), GETPGID, len(conds), arr)
                quick = quick and time.process_time() - start < cpu_seconds
            lib.seccomp_release(ctx)
            out.append(quick)
        return out

    signal_budget = cpu_seconds * sum(len(h) for h in histories) + 30
    return in_child(run, timeout=signal_budget).unwrap()


def _adversarial_history(rng):
    """Rules built to make libseccomp's prune walk dear: one-condition rules on a late
    argument with different high words, then chains of range conditions on the others."""
    rules = []
    late = rng.choice([3, 4, 5])
    for k in range(rng.randint(1, 5)):
        rules.append((Action.ERRNO(1), (Cond(late, Op.EQ, (k + 1) << 32 | rng.randint(0, 3)),)))
    for _ in range(rng.randint(3, 25)):
        args = sorted(rng.sample([a for a in range(6) if a != late], rng.randint(2, 5)))
        conds = tuple(Cond(a, rng.choice([Op.LE, Op.LT, Op.GE, Op.GT, Op.NE, Op.EQ]),
                           rng.choice([7, 8, 1 << 32, U64 - 1])) for a in args)
        rules.append((Action.ERRNO(1), conds))
    return rules


def test_every_rule_the_guard_gives_libseccomp_is_added_quickly():
    """The guard's model counts libseccomp's work: the rules it lets through, replayed on
    libseccomp itself, each take well under 50 ms of CPU (its budget is about a millisecond)
    where the rules it holds would take seconds or never end."""
    rng = random.Random(3)
    histories = [_adversarial_history(rng) for _ in range(60 if FULL else 12)]
    histories += [[(Action.ERRNO(1), c) for c in _random_history(rng, 40)]
                  for _ in range(20 if FULL else 4)]
    given, held = [], 0
    for rules in histories:
        f = Filter(Action.ALLOW, tsync=False)
        for action, conds in rules:
            f.add_rule(action, "getpgid", *conds)
        given.append(_given_rules(f))
        held += len(f._held_rules or ())
    assert held  # the generator does reach rules whose add is dear
    assert all(libseccomp_adds_are_quick(given, 0.05))


def test_the_guard_costs_microseconds_and_holds_nothing_on_an_ordinary_policy():
    # Firecracker-like: many two-condition ioctl and mmap rules
    f = Filter(Action.ERRNO(1), tsync=False)
    start = time.process_time()
    for i in range(20):
        f.add_rule(Action.ALLOW, "ioctl", Cond(0, Op.EQ, 3), Cond(1, Op.EQ, 0x5400 + i))
    for i in range(20):
        f.add_rule(Action.ALLOW, "mmap", Cond(2, Op.EQ, i), Cond(3, Op.EQ, 0x22))
    assert time.process_time() - start < 0.05  # (a forked probe per rule took ~100 ms)
    assert not f._held_rules


def test_the_guard_follows_transactions_merges_and_architectures():
    loops_after_reverse = libseccomp_loops([[EXAMPLE[1], EXAMPLE[0]]])[0]
    a = Filter(Action.ALLOW, tsync=False)
    a._transaction_start()
    a.add_rule(Action.ERRNO(1), "getpid", *EXAMPLE[0])
    a._transaction_reject()  # libseccomp forgets the rule: so does the guard
    a.add_rule(Action.ERRNO(2), "getpid", *EXAMPLE[1])
    assert not a._held_rules
    a.add_rule(Action.ERRNO(3), "getpid", *EXAMPLE[0])
    assert bool(a._held_rules) == loops_after_reverse
    b = Filter(Action.ALLOW, tsync=False)
    b._arch_remove(_core.arch_native())
    b._arch_add("x86")
    b.add_rule(Action.ERRNO(1), "getpid", *EXAMPLE[0])
    b.add_rule(Action.ERRNO(2), "getpid", *EXAMPLE[1])  # 32-bit: no shared node, no loop
    assert not b._held_rules
    a.merge(b)
    a.add_rule(Action.ERRNO(4), "getpid", Cond(0, Op.LE, 5), Cond(1, Op.LE, 9), Cond(2, Op.EQ, 1))
    a.add_rule(Action.ERRNO(4), "getpid", Cond(0, Op.LE, 5), Cond(1, Op.LE, 7), Cond(2, Op.EQ, 1))
    assert len(a.export_bpf()) > 0  # checked against every rule, held or not, on the way out


def test_socket_rules_on_a_multiplexing_architecture_are_held_and_exact():
    def build():
        f = Filter(Action.ALLOW, tsync=False)
        f._arch_add("x86", exist_ok=True)
        f.add_rule(Action.ERRNO(1), "socket", Cond(0, Op.EQ, 1), Cond(1, Op.LE, 2))
        f.add_rule(Action.ERRNO(2), "socket", Cond(0, Op.EQ, 2))
        return (len(f._held_rules), [f.simulate("socket", *c) for c in [(1, 2), (1, 3), (2, 0)]])

    held, got = in_child(build, timeout=20).unwrap()
    assert held == 1
    assert got == [Action.ERRNO(1), Action.ALLOW, Action.ERRNO(2)]


def test_the_models_step_counts():
    ioctl = [(Action.ALLOW, (Cond(0, Op.EQ, 3), Cond(1, Op.EQ, 0x5400 + i))) for i in range(50)]
    steps = _core._model_steps(ioctl)
    assert steps[0] == 0 and all(0 < s < 1000 for s in steps[1:])  # tens of steps a rule
    assert steps == sorted(steps)  # the walk grows with the level the rule joins
    # three one-condition rules on arg5 with different high words, then arg0..arg4 <= 7:
    # 45 million of libseccomp's prune calls, found too dear (None) and not added
    dear = [(Action.ERRNO(1), (Cond(5, Op.EQ, k << 32),)) for k in (1, 2, 3)]
    dear.append((Action.ERRNO(1), tuple(Cond(a, Op.LE, 7) for a in range(5))))
    assert _core._model_steps(dear)[-1] is None
    assert _core._model_steps(dear, "x86")[-1] is not None  # one node a condition on 32-bit
