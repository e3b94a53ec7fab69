"""seccomp.dump: the filters a live child loaded, read back byte for byte."""
import errno
import os
import time

import pytest

import seccomp
from seccomp import Action, Arch, Filter, dump
from seccomp.profile import host_caps

NATIVE = Arch.native()
needs_admin = pytest.mark.skipif("CAP_SYS_ADMIN" not in host_caps(),
                                 reason="reading filters needs CAP_SYS_ADMIN")


def _programs():
    first = Filter(Action.ALLOW)
    first.add_rule(Action.ERRNO(errno.EPERM), "mkdirat")
    second = Filter(Action.ALLOW)
    if NATIVE == Arch.X86_64:
        second.add_arch(Arch.X86)
    second.add_rule(Action.ERRNO(errno.EACCES), "unshare")
    second.log = True
    return first.compile(), second.compile()


def _child_with(programs):
    """A child that loads *programs* in order, then waits; returns its pid."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            for p in programs:
                p.load()
            os.write(w, b"x")
            time.sleep(30)
        finally:
            os._exit(0)
    os.close(w)
    assert os.read(r, 1) == b"x"
    os.close(r)
    return pid


def _end(pid):
    os.kill(pid, 9)
    os.waitpid(pid, 0)


@needs_admin
def test_dump_equals_what_was_loaded():
    programs = _programs()
    pid = _child_with(programs)
    try:
        got = dump.filters(pid)
        again = dump.filters(pid)  # the child was released: it can be read again
    finally:
        _end(pid)
    assert [f.program for f in got] == [p.bpf for p in programs]
    assert [f.index for f in got] == [0, 1]
    assert [f.log for f in got] == [False, True]
    assert got == again
    if NATIVE == Arch.X86_64:
        assert set(got[1].arches) == {Arch.X86_64, Arch.X86}
    assert NATIVE in got[0].arches
    # and what was read is what the kernel runs: the emulator agrees with the rules
    assert seccomp.bpf.evaluate(got[0].program, "mkdirat") == Action.ERRNO(errno.EPERM)
    assert seccomp.bpf.evaluate(got[1].program, "unshare") == Action.ERRNO(errno.EACCES)


@needs_admin
def test_a_process_without_filters_has_none():
    pid = _child_with([])
    try:
        assert dump.filters(pid) == []
    finally:
        _end(pid)


def test_errors_are_clear():
    with pytest.raises(dump.DumpError, match="its own filters"):
        dump.filters(os.getpid())
    with pytest.raises(ProcessLookupError):
        dump.filters(2 ** 22 + 12345)
    with pytest.raises(seccomp.InvalidArgumentError):
        dump.filters(0)


def test_without_cap_sys_admin_it_says_so():
    """In a child that drops CAP_SYS_ADMIN (or is unprivileged already)."""
    from childproc import in_child

    target = _child_with([])

    def read():
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        if "CAP_SYS_ADMIN" in host_caps():
            # capset(2), version 3: {effective, permitted, inheritable} x 2 words
            hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
            data = (ctypes.c_uint32 * 6)()
            assert libc.capget(hdr, data) == 0
            for i in range(3):
                data[i] &= ~(1 << 21)  # CAP_SYS_ADMIN, in the low words
            assert libc.capset(hdr, data) == 0, ctypes.get_errno()
        try:
            dump.filters(target)
        except dump.DumpError as exc:
            return str(exc)
        return None

    try:
        message = in_child(read).unwrap()
    finally:
        _end(target)
    assert message and ("CAP_SYS_ADMIN" in message or "ptrace" in message), message


def test_a_pid_beyond_pid_t_is_no_process_not_its_low_bits():
    """2**32 + PID reached ptrace as PID (its low 32 bits): a live child was attached and
    stopped, then os.waitpid overflowed (a traceback from `seccomp dump`)."""
    pid = _child_with([])
    try:
        for huge in (2 ** 32 + pid, 2 ** 64 + pid, 2 ** 31):
            with pytest.raises(ProcessLookupError, match="no process %d" % huge):
                dump.filters(huge)
        with open("/proc/%d/status" % pid) as fh:  # never stopped or traced
            status = dict(line.split(":", 1) for line in fh)
        assert status["TracerPid"].strip() == "0" and status["State"].split()[0] not in "tT"
    finally:
        _end(pid)
