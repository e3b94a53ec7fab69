"""Enums, conditions, syscall helpers and how bad input is refused."""
import errno
import pickle

import pytest

import seccomp
from seccomp import Action, Arch, Attr, Cond, Filter, Op


def test_action_values_are_libseccomps():
    assert Action.ALLOW == 0x7FFF0000
    assert Action.KILL_PROCESS == 0x80000000
    assert Action.KILL == Action.KILL_THREAD == 0
    assert Action.TRAP == 0x00030000
    assert Action.LOG == 0x7FFC0000
    assert Action.NOTIFY == 0x7FC00000
    assert Action.ERRNO(1) == 0x00050001
    assert Action.TRACE(7) == 0x7FF00007


def test_action_decodes_and_prints():
    a = Action(0x00050000 | errno.EACCES)
    assert a.kind == "ERRNO" and a.data == errno.EACCES
    assert repr(a) == "Action.ERRNO(13)" and str(a) == "ERRNO(13)"
    assert repr(Action(0x7FFF0000)) == "Action.ALLOW"
    assert Action.ALLOW.data is None
    assert pickle.loads(pickle.dumps(Action.TRACE(3))) == Action.TRACE(3)
    assert set(Action.members()) == {"KILL_PROCESS", "KILL_THREAD", "TRAP", "NOTIFY", "LOG",
                                     "ALLOW"}


@pytest.mark.parametrize("raw", [1, 0x12345678, 2**32, -1])
def test_invalid_raw_action_rejected(raw):
    with pytest.raises(seccomp.InvalidArgumentError, match="invalid action"):
        Action(raw)


@pytest.mark.parametrize("code", [-1, 65536, 2**40])
def test_errno_out_of_range(code):
    with pytest.raises(ValueError, match="out of range 0-65535"):
        Action.ERRNO(code)


def test_arch_names_and_aliases():
    assert Arch("amd64") is Arch.X86_64 is Arch("x86_64") is Arch("SCMP_ARCH_X86_64")
    assert Arch("arm64") is Arch.AARCH64 is Arch("aarch64")
    assert Arch("i686") is Arch.X86
    assert Arch("native") is Arch.NATIVE
    assert Arch(0xC000003E) is Arch.X86_64
    assert str(Arch.PPC64LE) == "ppc64le"
    assert Arch.NATIVE.resolved is Arch.native()
    assert len(Arch) == 24  # 23 libseccomp architectures + NATIVE
    with pytest.raises(seccomp.InvalidArgumentError, match="unknown architecture 'vax'"):
        Arch("vax")


def test_arches_of_newer_libseccomp_name_the_version():
    f = Filter(Action.ALLOW)
    if seccomp.library_version() >= (2, 6, 0):
        f.add_arch(Arch.LOONGARCH64)
        assert f.has_arch(Arch.LOONGARCH64)
    else:
        with pytest.raises(seccomp.UnsupportedError, match="needs libseccomp >= 2.6.0"):
            f.add_arch(Arch.LOONGARCH64)
        assert Arch.LOONGARCH64 not in set(Arch.known())


def test_op_and_attr_values():
    assert [int(o) for o in Op] == list(range(1, 8))
    assert Attr.ACT_DEFAULT == 1 and Attr.API_SYSRAWRC == 9 and Attr.CTL_WAITKILL == 10
    assert Attr.CTL_WAITKILL.min_libseccomp == (2, 6, 0)


def test_cond_fields_and_equality():
    c = Cond(2, Op.MASKED_EQ, 0xF0, 0x10)
    assert (c.arg, c.op, c.value, c.value2) == (2, Op.MASKED_EQ, 0xF0, 0x10)
    assert (c.datum_a, c.datum_b) == (0xF0, 0x10)
    assert c == Cond(2, Op.MASKED_EQ, 0xF0, 0x10) and c != Cond(2, Op.MASKED_EQ, 0xF0, 0x11)
    assert hash(c) == hash(Cond(2, Op.MASKED_EQ, 0xF0, 0x10))
    assert repr(c) == "Cond(2, Op.MASKED_EQ, 0xf0, 0x10)"
    assert pickle.loads(pickle.dumps(c)) == c
    assert Cond(0, Op.EQ, 2**64 - 1).value == 2**64 - 1


def test_cmp32_wraps_negative_values():
    assert Cond.cmp32(0, Op.EQ, -1).value == 0xFFFFFFFF
    assert Cond.cmp32(0, Op.EQ, -100).value == 0xFFFFFF9C
    with pytest.raises(seccomp.InvalidArgumentError, match="32-bit"):
        Cond.cmp32(0, Op.EQ, 2**32)


@pytest.mark.parametrize("args, exc, message", [
    ((6, Op.EQ, 1), seccomp.InvalidArgumentError, "argument index 6 is out of range 0-5"),
    ((-1, Op.EQ, 1), seccomp.InvalidArgumentError, "argument index -1"),
    ((0, 0, 1), seccomp.InvalidArgumentError, "unknown comparison operator 0"),
    ((0, 8, 1), seccomp.InvalidArgumentError, "unknown comparison operator 8"),
    ((0, Op.EQ, -1), seccomp.InvalidArgumentError, "use Cond.cmp32"),
    ((0, Op.EQ, 2**64), seccomp.InvalidArgumentError, "out of range"),
    ((0, Op.EQ, "1"), TypeError, "must be an int"),
    (("0", Op.EQ, 1), TypeError, "argument index must be an int"),
    ((0, None, 1), TypeError, "operator"),
])
def test_bad_conditions(args, exc, message):
    with pytest.raises(exc, match=message):
        Cond(*args)


def test_bad_rules_name_the_problem():
    f = Filter(Action.ALLOW)
    with pytest.raises(seccomp.InvalidArgumentError, match="syscall 'opne' is not known on"):
        f.add_rule(Action.ERRNO(1), "opne")
    with pytest.raises(seccomp.InvalidArgumentError, match="invalid action"):
        f.add_rule(0x1234, "read")
    with pytest.raises(TypeError, match="action must be"):
        f.add_rule(None, "read")
    with pytest.raises(TypeError, match="syscall must be a name or a number"):
        f.add_rule(Action.ERRNO(1), 1.5)
    with pytest.raises(seccomp.InvalidArgumentError, match="out of range"):
        f.add_rule(Action.ERRNO(1), 2**40)
    with pytest.raises(TypeError, match="Cond objects"):
        f.add_rule(Action.ERRNO(1), "read", (0, Op.EQ, 1))
    with pytest.raises(seccomp.InvalidArgumentError, match="at most 6 conditions"):
        f.add_rule(Action.ERRNO(1), "read", *[Cond(i % 6, Op.EQ, i) for i in range(7)])
    with pytest.raises(seccomp.InvalidArgumentError, match="default action"):
        f.add_rule(Action.ALLOW, "read")
    # every refusal left the filter usable and unchanged
    f.add_rule(Action.ERRNO(1), "read")
    assert f.export_pfc().count("ERRNO(1)") == 1


def test_bad_default_action():
    with pytest.raises(seccomp.InvalidArgumentError, match="invalid action"):
        Filter(0xDEAD)
    with pytest.raises(TypeError):
        Filter("ALLOW")


def test_exceptions_are_oserror_runtimeerror_valueerror():
    with pytest.raises(seccomp.InvalidArgumentError) as info:
        Filter(Action.ALLOW).add_rule(Action.ERRNO(1), "nope")
    exc = info.value
    assert isinstance(exc, OSError) and isinstance(exc, RuntimeError)
    assert isinstance(exc, ValueError) and exc.errno == errno.EINVAL
    assert issubclass(seccomp.UnsupportedError, seccomp.SeccompError)


def test_syscall_helpers():
    assert seccomp.syscall_number("read", Arch.X86_64) == 0
    assert seccomp.syscall_number("read", "aarch64") == 63
    assert seccomp.syscall_name(63, Arch.AARCH64) == "read"
    assert seccomp.syscall_name(11, "x86") == "execve"
    assert seccomp.syscall_number("socket", "x86") < 0  # multiplexed through socketcall
    assert seccomp.syscall_number("getpid") == seccomp.syscall_number("getpid", Arch.native())
    assert seccomp.syscall_number("open", "aarch64") < 0  # known name, absent on aarch64
    with pytest.raises(seccomp.InvalidArgumentError, match="'opne' is not known on aarch64"):
        seccomp.syscall_number("opne", "aarch64")
    with pytest.raises(seccomp.InvalidArgumentError, match="number 99999 is not known"):
        seccomp.syscall_name(99999)


def test_versions_and_features():
    v = seccomp.library_version()
    assert v >= (2, 5, 0) and len(v) == 3
    assert 1 <= seccomp.api_level() <= 10
    assert seccomp.native_arch() in set(Arch.known())
    assert seccomp.action_available(Action.ALLOW)
    assert seccomp.action_available(Action.ERRNO(5))


def test_set_api_level_in_child():
    from childproc import in_child

    def child():
        seccomp.set_api_level(1)
        return seccomp.api_level()

    assert in_child(child).unwrap() == 1
    with pytest.raises(seccomp.InvalidArgumentError):
        seccomp.set_api_level(-1)


def test_syscall_numbers_is_the_reverse_of_syscall_resolve_num():
    from seccomp import _core
    from seccomp.bpf.emulator import TABLE_SPAN

    for arch in [a for a in Arch if a is not Arch.NATIVE]:
        try:
            _core.syscall_resolve_name("read", arch)
        except seccomp.SeccompError:
            continue  # an architecture this libseccomp lacks
        base = 0x40000000 if arch is Arch.X32 else 0
        expected = {}
        for nr in range(base, base + TABLE_SPAN):
            try:
                expected.setdefault(_core.syscall_resolve_num(nr, arch), nr)
            except seccomp.SeccompError:
                pass
        assert _core.syscall_numbers(arch, base, TABLE_SPAN) == expected, arch
    assert _core.syscall_numbers(Arch.X86_64, 0, 0) == {}
    for first, count in ((0, -1), (0x7FFFFFFF, 2)):
        with pytest.raises(seccomp.InvalidArgumentError):
            _core.syscall_numbers(Arch.X86_64, first, count)
    with pytest.raises(seccomp.SeccompError):
        _core.syscall_numbers("nosuch", 0, 10)
