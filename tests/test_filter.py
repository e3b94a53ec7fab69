"""The Filter API: rules, attributes, architectures, exports, life cycle. No filter is loaded."""
import errno
import io
import os
import struct
import threading

import pytest

import seccomp
from seccomp import Action, Arch, Attr, Cond, Filter, Op


def test_default_action_and_tsync_default():
    with Filter(Action.ERRNO(errno.EPERM)) as f:
        assert f.default_action == Action.ERRNO(errno.EPERM)
        assert f.tsync is True
    assert Filter(Action.ALLOW, tsync=False).tsync is False


def test_filters_made_in_c_are_what_the_class_call_makes():
    # Filter(action) and SyscallFilter(action) are made by the core (_core.made_in_c); any other
    # call goes through type.__call__, and both ways give the same filters and errors
    assert type(Filter(Action.ALLOW)) is Filter and Filter(Action.ALLOW).tsync is True
    assert type(seccomp.SyscallFilter(seccomp.ALLOW)) is seccomp.SyscallFilter
    assert seccomp.SyscallFilter(seccomp.ALLOW).tsync is False
    assert seccomp.SyscallFilter(defaction=seccomp.ALLOW).tsync is False
    assert Filter(default_action=Action.ALLOW).tsync is True
    assert Filter(Action.ERRNO(3)).default_action == Action.ERRNO(3)
    for bad in [(), (Action.ALLOW, True), (Action.ALLOW, Action.ALLOW)]:
        with pytest.raises(TypeError):
            Filter(*bad)
        with pytest.raises(TypeError):
            seccomp.SyscallFilter(*bad)
    for make in (Filter, seccomp.SyscallFilter):
        with pytest.raises(seccomp.InvalidArgumentError, match=r"invalid action 7 \(0x7\)"):
            make(7)
        with pytest.raises(TypeError, match="action must be"):
            make("ALLOW")


def test_made_in_c_follows_a_class_changed_later_and_spares_subclasses():
    from seccomp import _core

    class Made(Filter):
        __slots__ = ()

    assert _core.made_in_c(Made) is True
    assert Made(Action.ALLOW).tsync is True

    class Sub(Made):  # its own __init__: the vectorcall is not inherited
        __slots__ = ()

        def __init__(self) -> None:
            super().__init__(Action.ALLOW, tsync=False)

    assert Sub().tsync is False
    seen = []

    def init(self, action):
        seen.append(action)
        Filter.__init__(self, action, tsync=False)

    Made.__init__ = init  # a changed class: made by type.__call__ from now on
    assert Made(Action.ALLOW).tsync is False and seen == [Action.ALLOW]
    with pytest.raises(TypeError, match="core's __init__"):
        _core.made_in_c(Sub)
    with pytest.raises(TypeError, match="subclass of Filter"):
        _core.made_in_c(int)


def test_rules_by_name_and_number_give_the_same_filter():
    a, b = Filter(Action.ALLOW), Filter(Action.ALLOW)
    a.add_rule(Action.ERRNO(1), "getpid")
    b.add_rule(Action.ERRNO(1), seccomp.syscall_number("getpid"))
    assert a.export_bpf() == b.export_bpf()
    assert a.export_pfc() == b.export_pfc()
    assert 'filter for syscall "getpid"' in a.export_pfc()


def test_conditions_appear_in_pfc():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.KILL_PROCESS, "socket", Cond(0, Op.EQ, 17))
    f.add_rule(Action.ERRNO(13), "openat", Cond(2, Op.MASKED_EQ, 0o3, 0o1))
    pfc = f.export_pfc()
    assert "$a0.lo32 == 17" in pfc
    assert "action KILL_PROCESS" in pfc
    assert "action ERRNO(13)" in pfc
    assert "& 0x00000003" in pfc


def test_export_to_file_object_and_fd(tmp_path):
    f = Filter(Action.ALLOW)
    f.add_rule(Action.TRAP, "getppid")
    expected = f.export_bpf()
    assert len(expected) % 8 == 0 and len(expected) >= 8
    buf = io.BytesIO()
    f.export_bpf(buf)
    assert buf.getvalue() == expected
    path = tmp_path / "out.bpf"
    with open(path, "wb") as fh:
        f.export_bpf(fh)
    assert path.read_bytes() == expected
    fd = os.open(tmp_path / "out.pfc", os.O_WRONLY | os.O_CREAT)
    f.export_pfc(fd)
    os.close(fd)
    assert (tmp_path / "out.pfc").read_text() == f.export_pfc()
    text = io.StringIO()
    f.export_pfc(text)
    assert text.getvalue() == f.export_pfc()


def test_bpf_ends_in_default_action():
    f = Filter(Action.ERRNO(38))
    f.add_rule(Action.ALLOW, "read")
    bpf = f.export_bpf()
    insns = [struct.unpack("=HBBI", bpf[i:i + 8]) for i in range(0, len(bpf), 8)]
    rets = [k for code, _, _, k in insns if code == 0x06]  # BPF_RET|BPF_K
    assert Action.ERRNO(38) in rets and Action.ALLOW in rets


def test_attributes_round_trip():
    f = Filter(Action.ALLOW)
    f.no_new_privs = False
    assert f.no_new_privs is False
    f.log = True
    assert f.log is True
    f.optimize = 2
    assert f.optimize == 2
    f.bad_arch_action = Action.KILL_THREAD
    assert f.bad_arch_action == Action.KILL_THREAD
    f.raw_rc = True
    assert f.raw_rc is True
    assert f._attr_get(Attr.CTL_TSYNC) == 1
    with pytest.raises(seccomp.InvalidArgumentError, match="default action is fixed"):
        f._attr_set(Attr.ACT_DEFAULT, Action.KILL)


def test_ssb_attribute():
    f = Filter(Action.ALLOW)
    try:
        f.ssb = True
    except seccomp.UnsupportedError:
        pytest.skip("kernel without SECCOMP_FILTER_FLAG_SPEC_ALLOW")
    assert f.ssb is True


def test_reset_keeps_default_action_and_tsync():
    f = Filter(Action.ERRNO(5))
    f.add_rule(Action.ALLOW, "read")
    f.add_arch(Arch.X86)
    f.reset()
    assert f.default_action == Action.ERRNO(5)
    assert f.tsync is True
    assert f.arches == (Arch.native(),)
    assert "read" not in f.export_pfc()
    f.reset(Action.KILL_PROCESS)
    assert f.default_action == Action.KILL_PROCESS


def test_arches_add_remove_idempotent():
    f = Filter(Action.ALLOW)
    assert f.arches == (Arch.native(),)
    f.add_arch("x86")
    f.add_arch(Arch.X86)
    f.add_arch("x32")
    assert f.has_arch("i386") and f.has_arch(Arch.X32)
    f.remove_arch(Arch.X32)
    f.remove_arch(Arch.X32)
    assert not f.has_arch(Arch.X32)
    f.add_rule(Action.ERRNO(1), "socket")
    pfc = f.export_pfc()
    assert "filter for arch x86 (1073741827)" in pfc
    assert 'socketcall' in pfc or "(102)" in pfc  # socket is multiplexed on x86


def test_syscall_priority_orders_rules():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "read")
    f.add_rule(Action.ERRNO(1), "write")
    f.syscall_priority("write", 255)
    pfc = f.export_pfc()
    assert pfc.index('"write"') < pfc.index('"read"')
    with pytest.raises(seccomp.InvalidArgumentError, match="out of range 0-255"):
        f.syscall_priority("read", 256)


def test_add_rule_exact():
    f = Filter(Action.ALLOW)
    f.add_arch(Arch.X86)
    f.add_rule(Action.ERRNO(1), "socket")  # rewritten to socketcall on x86
    g = Filter(Action.ALLOW)
    g.add_arch(Arch.X86)
    with pytest.raises(seccomp.InvalidArgumentError, match="exact"):
        g.add_rule_exact(Action.ERRNO(1), "socket", Cond(0, Op.EQ, 2))
    h = Filter(Action.ALLOW)
    h.add_rule_exact(Action.ERRNO(1), "getpid")
    assert '"getpid"' in h.export_pfc()


def test_merge_consumes_other():
    a = Filter(Action.ALLOW, tsync=False)
    b = Filter(Action.ALLOW, tsync=False)
    b.remove_arch(Arch.native())
    b.add_arch(Arch.X86)
    b.add_rule(Action.ERRNO(1), "getpid")
    a.merge(b)
    assert a.has_arch(Arch.X86)
    assert b.released
    with pytest.raises(seccomp.InvalidArgumentError, match="merged into another filter"):
        b.add_rule(Action.ERRNO(1), "read")
    with pytest.raises(seccomp.InvalidArgumentError, match="into itself"):
        a.merge(a)
    with pytest.raises(TypeError):
        a.merge(None)


def test_merge_with_overlapping_arch_fails_cleanly():
    a, b = Filter(Action.ALLOW), Filter(Action.ALLOW)
    with pytest.raises(seccomp.SeccompError, match="cannot merge"):
        a.merge(b)
    assert not b.released  # a failed merge consumes nothing
    b.add_rule(Action.ERRNO(1), "read")


def test_release_is_idempotent_and_use_after_release_raises():
    f = Filter(Action.ALLOW)
    f.release()
    f.release()
    assert repr(f) == "<Filter released>"
    for call in (lambda: f.add_rule(Action.ALLOW, "read"), f.export_bpf, f.export_pfc,
                 f.load, lambda: f.default_action, lambda: f.add_arch("x86")):
        with pytest.raises(seccomp.InvalidArgumentError, match="released"):
            call()


def test_compile_gives_program_with_flags():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "getpid")
    p = f.compile()
    assert p.bpf == f.export_bpf()
    assert len(p) == len(p.bpf) // 8
    assert p.flags & seccomp._core.FILTER_FLAGS["TSYNC"]
    assert p.no_new_privs
    f.add_rule(Action.NOTIFY, "getppid")
    p2 = f.compile()
    assert p2.flags & seccomp._core.FILTER_FLAGS["NEW_LISTENER"]
    assert p2.flags & seccomp._core.FILTER_FLAGS["TSYNC_ESRCH"]


def test_program_validation():
    with pytest.raises(seccomp.InvalidArgumentError, match="8-byte"):
        seccomp.Program(b"\x00" * 7)
    with pytest.raises(seccomp.InvalidArgumentError, match="4097 instructions.*at most 4096"):
        seccomp.Program(b"\x06\x00\x00\x00\x00\x00\xff\x7f" * 4097)
    with pytest.raises(TypeError):
        seccomp.Program(None)


def test_transactions_work_with_any_libseccomp():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "read")
    f.syscall_priority("read", 9)
    before = f.export_bpf()
    with pytest.raises(RuntimeError):
        with f.transaction():
            f.add_rule(Action.ERRNO(1), "write")
            f.syscall_priority("close", 99)
            f.add_rule(Action.ERRNO(2), "close")
            f.add_arch(Arch.X86)
            raise RuntimeError("roll back")
    assert f.export_bpf() == before and f.arches == (Arch.native(),)
    with f.transaction():
        f.add_rule(Action.ERRNO(1), "write")
    assert f.simulate("write") == Action.ERRNO(1)


def test_threads_share_a_filter():
    f = Filter(Action.ALLOW)
    names = ["read", "write", "close", "getpid", "getuid", "getgid", "dup", "pipe"]
    errors = []

    def work(i):
        try:
            for _ in range(20):
                f.add_rule(Action.ERRNO(1 + i), names[i])
                f.export_bpf()
                assert f.default_action == Action.ALLOW
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(names))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    pfc = f.export_pfc()
    for i, name in enumerate(names):
        assert 'syscall "%s"' % name in pfc and "ERRNO(%d)" % (1 + i) in pfc
