"""Policy conditions libseccomp cannot state (arithmetic on arguments, arguments compared with
each other), compiled to BPF of the library's own (seccomp/policy/bpf_lowering.py,
seccomp/bpf/expr.py): the kernel's answer in children, the emulator against the policy's own
evaluation on random expressions and arguments, the places of what is refused, and
ActionOnX32."""
import errno
import signal
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seccomp
from seccomp import Action, Arch, bpf
from seccomp.bpf import expr as bx
from seccomp.policy import PolicyError, bpf_lowering, gosecco
from seccomp.policy.model import (And, Arg, BinOp, Cmp, Inv, Not, Num, Or, Place, Policy, Rule,
                                  evaluate, fold)

from childproc import in_child
from kernel import syscall

NATIVE = Arch.native()
U32 = 0xFFFFFFFF
U64 = (1 << 64) - 1
DENIED = Action.ERRNO(errno.EXDEV)  # an errno no plain getppid() returns


def signed(v):
    """A 64-bit value as the C long ctypes passes in a register."""
    return v - (1 << 64) if v >= 1 << 63 else v


def deny_when(condition, default=Action.ALLOW, syscall_name="getppid", **settings):
    return Policy(default, (Rule(syscall_name, condition, DENIED, Place("t.policy", 1, 1)),),
                  **settings)


def kernel_errnos(program, calls):
    """In the child: load *program*, make each getppid call; the errno each gave (0: ran)."""
    seccomp.Program(program).load()
    return [syscall("getppid", *(signed(a) for a in args))[1] for args in calls]


A0, A1, A2 = Arg(0), Arg(1), Arg(2)
L0, L1, H0 = Arg(0, "lo"), Arg(1, "lo"), Arg(0, "hi")

# Each kind of expression: the condition, and argument vectors on both sides of it.
KINDS = {
    "64-bit args equal": (Cmp("==", A0, A1), [(5, 5), (5, 6), (1 << 32, 0), (U64, U64),
                                               (U64, U32)]),
    "args ordered": (Cmp("<", A0, A1), [(1, 2), (2, 1), (2, 2), (U32, 1 << 32), (1 << 32, U32),
                                        (U64 - 1, U64)]),
    "halves ordered": (Cmp(">=", L0, L1), [(3, 2), (2, 3), (2, 2), (U32, 0), (1 << 32, 1)]),
    "bits in common": (Cmp("==", BinOp("&", L0, L1), Num(0)), [(1, 2), (3, 2), (0, U32),
                                                                (U32, U32)]),
    "half plus one with carry": (Cmp(">", BinOp("+", L0, Num(1)), Num(5)),
                                 [(4, 0), (5, 0), (U32, 0), (U32 - 5, 0)]),
    "64-bit plus with carry": (Cmp("==", BinOp("+", A0, Num(1)), Num(1 << 32)),
                               [(U32, 0), ((1 << 32) - 2, 0), (1 << 32, 0), (U64, 0)]),
    "difference with borrow": (Cmp("==", BinOp("-", A0, A1), Num(U64)),
                               [(0, 1), (1 << 32, (1 << 32) + 1), (5, 5), (1, 0)]),
    "product of halves": (Or((Cmp("==", BinOp("*", L0, L1), Num(1 << 32)),
                              Cmp("==", BinOp("*", L0, L1), Num(0xFFFFFFFE00000001)))),
                          [(0x10000, 0x100000000), (0x10000, 0x10000), (0x20000, 0x8000),
                           (0xFFFF, 0x10001), (U32, U32), (U32, U32 - 1)]),
    "64-bit product": (Cmp("==", BinOp("*", A0, Num(3)), Num(0x3_0000_0003)),
                       [(0x1_0000_0001, 0), (0x1_0000_0002, 0), (1, 0)]),
    "shift across halves": (Cmp("==", BinOp("<<", A0, Num(4)), Num(0x10)),
                            [(1, 0), (1 | (1 << 60), 0), (2, 0), (1 << 28, 0)]),
    "shift down": (Cmp("==", BinOp(">>", A0, Num(36)), Num(1)),
                   [(1 << 36, 0), ((1 << 37) - 1, 0), (1 << 37, 0), (U32, 0)]),
    "division and remainder": (And((Cmp("==", BinOp("/", L0, Num(10)), Num(4)),
                                    Cmp("!=", BinOp("%", L0, Num(3)), Num(0)))),
                               [(40, 0), (41, 0), (42, 0), (50, 0), (39, 0)]),
    "complement and xor": (Cmp("==", BinOp("^", Inv(A0), A1), Num(0)),
                           [(0, U64), (5, U64 ^ 5), (5, 5), (U32, U32 << 32)]),
    "disjunction with arithmetic": (Or((Cmp("==", A0, A1), Not(Cmp("<", BinOp("+", L0, L1),
                                                                       Num(10))))),
                                    [(7, 7), (3, 4), (6, 4), (U32, 1)]),
}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_of_expression_in_the_kernel(kind):
    condition, vectors = KINDS[kind]
    p = deny_when(condition)
    f = p.compile()
    assert f.rule_extras is not None  # the library's own program: libseccomp cannot say it
    program = f.export_bpf()
    calls = [tuple(v) + (0,) * (6 - len(v)) for v in vectors]
    expected = [errno.EXDEV if p.decide("getppid", c) == DENIED else 0 for c in calls]
    assert 0 in expected and errno.EXDEV in expected, "the vectors must cover both outcomes"
    assert in_child(kernel_errnos, program, calls).unwrap() == expected


def test_a_trap_on_two_equal_arguments_is_a_sigsys_in_the_kernel():
    p = Policy(Action.ALLOW, (Rule("getppid", Cmp("==", A0, A1), Action.TRAP),))
    program = p.compile().export_bpf()

    def child(args):
        seccomp.Program(program).load()
        return syscall("getppid", *args)

    assert in_child(child, (3, 4)).unwrap()[1] == 0
    assert in_child(child, (4, 4)).signal == signal.SIGSYS


def test_gosecco_text_with_arithmetic_compiles_and_the_kernel_agrees():
    text = ("DEFAULT_POSITIVE = allow\nDEFAULT_NEGATIVE = 18\nDEFAULT_POLICY = allow\n"
            "getppid: argL0 + argL1 == argL2 || argL3 &? 4\n")
    p = gosecco.parse(text, file="t.seccomp")
    program = p.compile().export_bpf()
    calls = [(1, 2, 3, 0, 0, 0), (1, 2, 4, 0, 0, 0), (1, 2, 4, 4, 0, 0), (U32, 1, 0, 0, 0, 0)]
    got = in_child(kernel_errnos, program, calls).unwrap()
    assert got == [0, 18, 0, 18]  # U32 + 1 is 2**32 (64-bit), not 0


def test_rules_libseccomp_can_state_still_get_libseccomps_program():
    p = deny_when(Or((Cmp("==", A0, Num(5)), Cmp("<", L1, Num(7)))))
    f = p.compile()
    assert f.rule_extras is None
    assert f.export_bpf() == bpf.model._libseccomp_program(f)  # libseccomp's bytes, unchanged


def test_mixed_policy_first_match_wins_across_computed_and_plain_syscalls():
    rules = (Rule("getppid", Cmp("==", A0, Num(1)), Action.ALLOW),
             Rule("getppid", Cmp(">", A0, A1), Action.ERRNO(1)),
             Rule("getppid", Cmp("<", A0, Num(9)), Action.ERRNO(2)),
             Rule("getpid", Cmp("==", A0, Num(3)), Action.ERRNO(3)))
    p = Policy(Action.ERRNO(4), rules)
    program = p.compile().export_bpf()
    for args, want in (((1, 0), Action.ALLOW), ((5, 2), Action.ERRNO(1)),
                       ((5, 7), Action.ERRNO(2)), ((10, 11), Action.ERRNO(4)),
                       ((9, 11), Action.ERRNO(4))):
        assert p.decide("getppid", args) == want
        assert bpf.evaluate(program, "getppid", args) == want
    assert bpf.evaluate(program, "getpid", (3,)) == Action.ERRNO(3)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "s390x", "x86", "ppc64le"])
def test_other_architectures_and_byte_orders(arch):
    p = deny_when(And((Cmp("==", BinOp("+", A0, Num(2)), A1), Cmp("!=", L0, H0))))
    program = p.compile(arch=arch).export_bpf()  # both checks ran on it
    wide = arch != "x86"
    for a0, a1 in ((5, 7), (5, 8), (U32, 1 << 32), (U32 << 32, (U32 << 32) + 2)):
        args = (a0, a1) if wide else (a0 & U32, a1 & U32)
        assert bpf.evaluate(program, "getppid", args, arch=arch) == \
            p.decide("getppid", args), (hex(a0), hex(a1))


# ---------------------------------------------------------------------------------------------
# The emulator against the model, on random expressions and arguments
# ---------------------------------------------------------------------------------------------

CONSTS = st.sampled_from([0, 1, 2, 3, 5, 7, 10, 0xFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000,
                          U32, 1 << 32, (1 << 32) + 1, 1 << 63, U64])
LEAVES = st.one_of(st.builds(Arg, st.integers(0, 2), st.sampled_from(["", "lo", "hi"])),
                   st.builds(Num, CONSTS))


def _numbers(children):
    return st.one_of(
        st.builds(BinOp, st.sampled_from(["+", "-", "*", "&", "|", "^"]), children, children),
        st.builds(BinOp, st.sampled_from(["<<", ">>"]), children,
                  st.builds(Num, st.integers(0, 70))),
        st.builds(BinOp, st.sampled_from(["/", "%"]), children,
                  st.builds(Num, st.sampled_from([1, 2, 3, 8, 10, 1 << 32]))),
        st.builds(Inv, children))


NUMBERS = st.recursive(LEAVES, _numbers, max_leaves=4)
COMPARISONS = st.builds(Cmp, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), NUMBERS,
                        NUMBERS)
CONDITIONS = st.recursive(COMPARISONS, lambda c: st.one_of(
    st.builds(lambda a, b: And((a, b)), c, c), st.builds(lambda a, b: Or((a, b)), c, c),
    st.builds(Not, c)), max_leaves=3)
ARGS = st.lists(st.one_of(CONSTS, st.integers(0, U64)), min_size=3, max_size=3)

REFUSALS = ("divides a 64-bit value", "division by zero", "scratch memory", "instructions")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(CONDITIONS, st.lists(ARGS, min_size=8, max_size=8))
def test_lowered_words_compute_what_the_policy_means(condition, vectors):
    """The word-level test the program computes agrees with the policy's 64-bit evaluation."""
    folded = fold(condition)
    try:
        test = bpf_lowering.condition(folded)
    except Exception as exc:  # refused: only for what cannot be computed exactly
        assert any(r in str(getattr(exc, "reason", exc)) for r in REFUSALS), exc
        return
    for v in vectors:
        # equal arguments are where comparisons of two arguments change
        for args in (v + [0] * 3, [v[0]] * 6):
            assert bx.holds(test, args) == bool(evaluate(folded, args)), [hex(a) for a in args]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(CONDITIONS, st.sampled_from([DENIED, Action.ALLOW, Action.TRAP])),
                min_size=1, max_size=3),
       st.sampled_from(["x86_64", "aarch64", "s390x"]),
       st.lists(ARGS, min_size=20, max_size=20))
def test_generated_programs_do_what_the_model_says_on_random_args(rules, arch, vectors):
    p = Policy(Action.ERRNO(7), tuple(Rule("getppid", c, a) for c, a in rules))
    try:
        program = p.compile(arch=arch).export_bpf()
    except PolicyError as exc:
        assert any(r in str(exc) for r in REFUSALS + ("too large",)), str(exc)
        return
    calls = [("getppid", tuple(v)) for v in vectors] + [("getppid", (v[0],) * 6) for v in vectors]
    got = bpf.evaluate_many(program, calls, arch=arch)
    for (name, args), actual in zip(calls, got):
        assert actual == p.decide(name, args), [hex(a) for a in args]


# ---------------------------------------------------------------------------------------------
# Refusals, with their places
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, where, what", [
    ("read: argL0 / argL1 == 1\n", ":1:13", "divides by a value that is not a constant"),
    ("read: argL0 % argH0 == 1\n", ":1:13", "divides by a value that is not a constant"),
    ("read: arg0 == 1 && (argL0 << argL1) == 2\n", ":1:27", "shifts by a value"),
    ("read: (argL0 | argH0 << 32) / 3 == 1\n", ":1:29", "divides a 64-bit value by 3"),
])
def test_what_classic_bpf_cannot_compute_exactly_is_refused_with_the_place(text, where, what):
    with pytest.raises(PolicyError, match=what) as e:
        gosecco.parse(text, file="t.seccomp").compile()
    assert str(e.value).startswith("t.seccomp" + where), str(e.value)


def test_expressions_too_deep_for_the_scratch_memory_are_refused():
    v: bx.Value = bx.Load(0, False)
    for i in range(20):  # every right operand needs X while the left one needs X too
        v = bx.alu("+", bx.alu("*", v, bx.Load(1, False)), bx.alu("*", bx.Load(2, False), v))
    with pytest.raises(seccomp.InvalidArgumentError, match="scratch memory"):
        bx.instructions(bx.test("==", v, bx.Load(3, False)))


def test_notify_on_a_computed_condition_is_refused_with_the_place():
    p = Policy(Action.ALLOW, (Rule("getppid", Cmp("==", A0, A1), Action.NOTIFY,
                                   Place("t.policy", 4, 2)),))
    with pytest.raises(PolicyError, match="NOTIFY") as e:
        p.compile()
    assert str(e.value).startswith("t.policy:4:2")


def test_a_multiplexed_socket_call_cannot_compute_its_condition():
    p = Policy(Action.ALLOW, (Rule("socket", Cmp("==", A0, A1), DENIED,
                                   Place("t.policy", 2, 1)),))
    with pytest.raises(PolicyError, match="socketcall") as e:
        p.compile(arch="x86")
    assert str(e.value).startswith("t.policy:2:1")
    p.compile(arch="x86_64").release()  # a direct syscall there


# ---------------------------------------------------------------------------------------------
# ActionOnX32
# ---------------------------------------------------------------------------------------------

X32_GETPID = 0x40000000 | 39


def test_x32_action_in_the_generated_program():
    p = gosecco.parse("getpid: 1\n", file="t.seccomp", action_on_x32="kill",
                      action_on_audit_failure="trace")
    p = Policy(p.default_action, p.rules, bad_arch_action=Action.ERRNO(1),
               x32_action=Action.ERRNO(errno.EXDEV))
    f = p.compile(arch="x86_64")
    program = f.export_bpf()
    assert bpf.evaluate(program, X32_GETPID, arch="x86_64") == Action.ERRNO(errno.EXDEV)
    assert bpf.evaluate(program, "getpid", arch="x86_64") == Action.ALLOW
    assert bpf.evaluate(program, "getpid", arch="aarch64") == Action.ERRNO(1)
    assert bpf.evaluate(program, 0xFFFFFFFF, arch="x86_64") == p.default_action  # -1 is not x32


@pytest.mark.skipif(NATIVE is not Arch.X86_64, reason="x32 syscall numbers are x86_64's")
def test_x32_action_in_the_kernel():
    p = Policy(Action.ALLOW, (), bad_arch_action=Action.KILL_PROCESS,
               x32_action=Action.ERRNO(errno.EXDEV))
    program = p.compile().export_bpf()

    def child():
        seccomp.Program(program).load()
        return syscall(X32_GETPID)[1], syscall("getpid")[1]

    # the filter answers before the kernel looks for an x32 syscall table
    assert in_child(child).unwrap() == (errno.EXDEV, 0)


def test_x32_action_equal_to_the_bad_arch_action_stays_libseccomps():
    p = Policy(Action.ALLOW, (), bad_arch_action=Action.KILL_PROCESS,
               x32_action=Action.KILL_PROCESS)
    f = p.compile(arch="x86_64")
    assert f.rule_extras is None and f.export_bpf() == bpf.model._libseccomp_program(f)


@pytest.mark.parametrize("arches", [(Arch.AARCH64,), (Arch.X86_64, Arch.X32)])
def test_x32_action_where_it_cannot_apply_is_refused(arches):
    p = Policy(Action.ALLOW, (), arches=arches, x32_action=Action.ERRNO(1))
    with pytest.raises(PolicyError, match="x32 action"):
        p.compile()


# ---------------------------------------------------------------------------------------------
# The check catches a program that computes a condition wrongly
# ---------------------------------------------------------------------------------------------

def _mutated(program, opcode, k, new_k):
    """*program* with the last instruction (opcode, k) given *new_k* instead."""
    out = bytearray(program)
    for i in reversed(range(0, len(out), 8)):
        code, jt, jf, kk = struct.unpack_from("<HBBI", out, i)
        if code == opcode and kk == k:
            struct.pack_into("<HBBI", out, i, code, jt, jf, new_k)
            return bytes(out)
    raise AssertionError("no instruction %#x k=%#x" % (opcode, k))


@pytest.mark.parametrize("condition, opcode, k, new_k", [
    (Cmp(">", BinOp("+", L0, Num(1)), Num(5)), 0x25, 5, 6),        # jgt #5 -> #6
    (Cmp(">", BinOp("+", L0, Num(1)), Num(5)), 0x04, 1, 2),        # add #1 -> #2
    (Cmp("==", BinOp("+", A0, Num(1)), Num(1 << 32)), 0x74, 31, 30),  # the carry's bit
    (Cmp("==", BinOp("<<", A0, Num(4)), Num(0x10)), 0x64, 4, 3),    # lsh #4 -> #3
    (Cmp("==", BinOp("<<", A0, Num(4)), Num(0x10)), 0x74, 28, 29),  # bits carried across
    (Cmp("==", BinOp("/", L0, Num(10)), Num(4)), 0x34, 10, 9),      # div #10 -> #9
])
def test_the_check_refuses_a_program_that_computes_a_condition_wrongly(condition, opcode, k,
                                                                       new_k):
    p = deny_when(condition, arches=(Arch.X86_64,))
    f = p.compile(arch="x86_64")
    good = f.export_bpf()
    bad = _mutated(good, opcode, k, new_k)
    assert bpf.model.RuleModel.of(f).first_mismatch(good) is None
    assert bpf.model.RuleModel.of(f).first_mismatch(bad) is not None
    with pytest.raises(PolicyError, match="does not do what the policy says"):
        p.check(bad, Arch.X86_64)


def test_merging_policy_filters_keeps_the_computed_rules_of_both():
    rule = Rule("getppid", Cmp("==", A0, A1), DENIED)
    f = Policy(Action.ALLOW, (rule,)).compile(arch="x86_64")
    f.merge(Policy(Action.ALLOW, (rule,)).compile(arch="aarch64"))
    program = f.export_bpf()
    for arch in ("x86_64", "aarch64"):
        assert bpf.evaluate(program, "getppid", (4, 4), arch=arch) == DENIED
        assert bpf.evaluate(program, "getppid", (4, 5), arch=arch) == Action.ALLOW


def test_a_filter_that_cannot_hold_computed_rules_refuses_to_merge_them():
    rule = Rule("getppid", Cmp("==", A0, A1), DENIED)
    computed = Policy(Action.ALLOW, (rule,)).compile(arch="aarch64")
    plain = seccomp.Filter(Action.ALLOW)
    with pytest.raises(seccomp.InvalidArgumentError, match="would be lost"):
        plain.merge(computed)
    assert not computed.released  # refused before anything was consumed
    assert bpf.evaluate(computed.export_bpf(), "getppid", (4, 4), arch="aarch64") == DENIED


def test_the_command_line_says_why_oci_cannot_take_a_computed_policy(tmp_path, capsys):
    from seccomp.cli import main

    path = tmp_path / "t.seccomp"
    path.write_text("getppid: argL0 + 1 == argL1\n")
    assert main(["check", "--profile", str(path), "getppid", "4", "5"]) == 0  # computed
    assert capsys.readouterr().out == "ALLOW\n"
    assert main(["export", "--format", "oci", "--profile", str(path)]) != 0
    err = capsys.readouterr().err
    assert "%s:1:" % path in err and "an OCI profile cannot state it" in err, err
