"""The policy lowering's way round libseccomp's seccomp_rule_add() loops (seccomp/policy/model.py
`_without_ranges`, beside the core's rule guard): the rule sets that made libseccomp loop
compile (in a child, under an alarm), and the kernel and the emulator do what the policy
says."""
import signal

import pytest

import seccomp
from seccomp import Action, bpf
from seccomp.policy.model import And, Arg, Cmp, Num, Policy, Rule

from childproc import in_child
from kernel import syscall

U32 = (1 << 32) - 1
U64 = (1 << 64) - 1

# getpgid's rules in first-match order that lower, without _without_ranges, to ~250 rules of
# which the rule guard holds 123 and libseccomp still never returns from one.
GUARD_MISS = Policy(Action.ALLOW, (
    Rule("getpgid", And((Cmp("<=", Arg(1), Num(7)), Cmp("==", Arg(2), Num(U64 - 1)))),
         Action.TRAP),
    Rule("getpgid", And((Cmp("<=", Arg(1), Num(7)), Cmp("<", Arg(0), Num(U64 - 1)))),
         Action.KILL_PROCESS),
    Rule("getpgid", Cmp("<=", Arg(1), Num(U64 - 1)), Action.ERRNO(1))))

# The rule sets of _without_ranges's docstring: a range or != first condition shared.
SHARED_FIRST = [
    Policy(Action.ALLOW, (
        Rule("getpgid", And((Cmp("<=", Arg(0), Num(5)), Cmp("<=", Arg(1), Num(7)))),
             Action.ERRNO(1)),
        Rule("getpgid", And((Cmp("<=", Arg(0), Num(5)), Cmp("==", Arg(1), Num(2)))),
             Action.ERRNO(2)))),
    Policy(Action.ALLOW, (
        Rule("getpgid", And((Cmp("!=", Arg(0), Num(5)), Cmp("<=", Arg(1), Num(7)))),
             Action.ERRNO(1)),
        Rule("getpgid", And((Cmp("!=", Arg(0), Num(5)), Cmp("==", Arg(1), Num(2)))),
             Action.ERRNO(2)))),
]

EDGES = (0, 1, 2, 5, 6, 7, 8, U32, 1 << 32, U64 - 2, U64 - 1, U64)


def vectors():
    return [(a, b, c) for a in EDGES for b in EDGES for c in (0, 2, U64 - 1)]


def compiled_program(pol):
    return pol.compile().export_bpf()


def kernel_answers(program, calls):
    """In the child: load *program*, make each getpgid call; the errno each gave."""
    seccomp.Program(program).load()
    return [syscall("getpgid", *(a - (1 << 64) if a >= 1 << 63 else a for a in args))[1]
            for args in calls]


@pytest.mark.parametrize("pol", [GUARD_MISS] + SHARED_FIRST)
def test_loop_prone_rule_sets_compile_and_do_what_the_policy_says(pol):
    result = in_child(compiled_program, pol, timeout=60)
    assert result.signal is None, "Policy.compile never returned (libseccomp's loop)"
    program = result.unwrap()
    for v in vectors():
        assert bpf.evaluate(program, "getpgid", v) == pol.decide("getpgid", v), v
    # the kernel agrees (calls the policy answers with an errno; TRAP/KILL end the child)
    calls = [v for v in vectors() if pol.decide("getpgid", v).kind == "ERRNO"][::7]
    want = [pol.decide("getpgid", v).data for v in calls]
    assert in_child(kernel_answers, program, calls).unwrap() == want


def test_the_guard_miss_case_in_the_kernel_traps_and_kills():
    program = in_child(compiled_program, GUARD_MISS, timeout=60).unwrap()

    def call(args):
        seccomp.Program(program).load()
        return syscall("getpgid", *(a - (1 << 64) if a >= 1 << 63 else a for a in args))

    assert in_child(call, (0, 7, U64 - 1)).signal == signal.SIGSYS  # TRAP
    assert in_child(call, (0, 7, 0)).signal == signal.SIGSYS  # KILL_PROCESS
    assert in_child(call, (U64 - 1, 7, 0)).unwrap()[1] == 1  # ERRNO(1)
    assert in_child(call, (0, U64, 0)).unwrap()[1] == 0  # no rule: the default, ALLOW
