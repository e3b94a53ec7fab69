"""Read the seccomp filters a live process runs under::

    for f in seccomp.dump.filters(pid):          # in the order they were loaded
        print(f.index, len(f.program) // 8, f.arches)
        print(seccomp.bpf.disassemble(f.program))

The kernel hands a process's filters out through ptrace(PTRACE_SECCOMP_GET_FILTER), to a
caller that has CAP_SYS_ADMIN, runs under no seccomp filter itself, and may ptrace the process
(same user and Yama's permission, or CAP_SYS_PTRACE). The process is stopped for the moment of
the reading (PTRACE_SEIZE, PTRACE_INTERRUPT) and released at once; it does not notice.
Filters belong to threads: *pid* may be any thread id.
"""
from __future__ import annotations

import ctypes
import errno as _errno
import os
from dataclasses import dataclass
from typing import List, Tuple

from ._errors import DumpError, InvalidArgumentError
from ._enums import Arch
from .bpf import arches_checked

__all__ = ["filters", "DumpedFilter", "DumpError"]

_PTRACE_DETACH = 17
_PTRACE_SEIZE = 0x4206
_PTRACE_INTERRUPT = 0x4207
_PTRACE_SECCOMP_GET_FILTER = 0x420C
_PTRACE_SECCOMP_GET_METADATA = 0x420D
_WALL = 0x40000000
_FILTER_FLAG_LOG = 2


@dataclass(frozen=True)
class DumpedFilter:
    """One filter of a process: its *index* in the kernel's stack (0: loaded first, run
    last), its BPF *program* (native byte order, as loaded), whether it was loaded with
    SECCOMP_FILTER_FLAG_LOG (*log*), and the architectures it checks (*arches*, as
    `seccomp.bpf.arches_checked` finds them; this machine's when it checks none)."""

    index: int
    program: bytes
    log: bool
    arches: Tuple[Arch, ...]


def _libc() -> "ctypes.CDLL":
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.restype = ctypes.c_long
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
    return libc


def filters(pid: int) -> List[DumpedFilter]:
    """The filters thread *pid* runs under, in the order they were loaded (the kernel's
    stack from the bottom: it runs the last one first, and the strictest answer wins); an
    empty list when it has none. Raises DumpError naming what is missing
    (CAP_SYS_ADMIN, ptrace permission, a kernel with CONFIG_CHECKPOINT_RESTORE) and
    ProcessLookupError when there is no such process."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        raise InvalidArgumentError(_errno.EINVAL, "a process id is a positive int, not %r"
                                   % (pid,))
    if pid > 0x7FFFFFFF:  # pid_t: ptrace would see its low 32 bits, another process's id
        raise ProcessLookupError(_errno.ESRCH, "no process %d" % pid)
    if pid in (os.getpid(), _gettid()):
        raise DumpError(_errno.EINVAL, "a process cannot read its own filters (ptrace cannot "
                                       "attach to itself): dump it from another process")
    libc = _libc()
    _ptrace(libc, _PTRACE_SEIZE, pid, 0, 0, "attach to")
    try:
        _ptrace(libc, _PTRACE_INTERRUPT, pid, 0, 0, "stop")
        _wait_stop(pid)
        return _read_all(libc, pid)
    finally:
        libc.ptrace(_PTRACE_DETACH, pid, None, None)


def _gettid() -> int:
    try:
        return int(os.readlink("/proc/thread-self").rsplit("/", 1)[-1])
    except (OSError, ValueError):
        return os.getpid()


def _ptrace(libc: "ctypes.CDLL", request: int, pid: int, addr: int, data: object,
            what: str) -> int:
    ctypes.set_errno(0)
    rc = int(libc.ptrace(request, pid, ctypes.c_void_p(addr), data))
    if rc >= 0:
        return rc
    err = ctypes.get_errno()
    if err == _errno.ESRCH and request == _PTRACE_SEIZE:
        raise ProcessLookupError(err, "no process %d" % pid)
    if err == _errno.EPERM and request == _PTRACE_SEIZE:
        raise DumpError(err, "cannot %s process %d with ptrace: it belongs to another user, "
                             "is not dumpable, or Yama's ptrace_scope forbids it (needs "
                             "CAP_SYS_PTRACE)" % (what, pid))
    raise DumpError(err, "cannot %s process %d: %s" % (what, pid, os.strerror(err)))


def _wait_stop(pid: int) -> None:
    while True:
        try:
            _, status = os.waitpid(pid, _WALL)
        except InterruptedError:
            continue
        except ChildProcessError as exc:
            raise DumpError(_errno.ECHILD, "process %d did not stop for ptrace" % pid) from exc
        if os.WIFSTOPPED(status):
            return
        if os.WIFEXITED(status) or os.WIFSIGNALED(status):
            raise ProcessLookupError(_errno.ESRCH, "process %d exited" % pid)


def _read_all(libc: "ctypes.CDLL", pid: int) -> List[DumpedFilter]:
    out: List[DumpedFilter] = []
    index = 0
    while True:
        ctypes.set_errno(0)
        count = libc.ptrace(_PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(index), None)
        if count < 0:
            err = ctypes.get_errno()
            if err == _errno.ENOENT or (err == _errno.EINVAL and index == 0):
                return out  # past the last filter, or no filter at all (EINVAL: not in filter mode)
            raise _filter_error(err, pid)
        buf = ctypes.create_string_buffer(count * 8)
        got = libc.ptrace(_PTRACE_SECCOMP_GET_FILTER, pid, ctypes.c_void_p(index), buf)
        if got < 0:
            raise _filter_error(ctypes.get_errno(), pid)
        program = buf.raw[:got * 8]
        out.append(DumpedFilter(index, program, _logs(libc, pid, index),
                                tuple(arches_checked(program)) or (Arch.native(),)))
        index += 1


def _filter_error(err: int, pid: int) -> DumpError:
    if err == _errno.EACCES:
        return DumpError(err, "cannot read the filters of process %d: reading them needs "
                              "CAP_SYS_ADMIN, in a process that runs under no seccomp filter "
                              "itself" % pid)
    if err == _errno.EIO:
        return DumpError(err, "this kernel cannot hand out filters (PTRACE_SECCOMP_GET_FILTER "
                              "needs Linux 4.4 built with CONFIG_CHECKPOINT_RESTORE)")
    if err == _errno.EMEDIUMTYPE:
        return DumpError(err, "a filter of process %d has no classic BPF to read back" % pid)
    return DumpError(err, "cannot read the filters of process %d: %s" % (pid, os.strerror(err)))


def _logs(libc: "ctypes.CDLL", pid: int, index: int) -> bool:
    meta = (ctypes.c_uint64 * 2)(index, 0)
    rc = libc.ptrace(_PTRACE_SECCOMP_GET_METADATA, pid, ctypes.c_void_p(ctypes.sizeof(meta)),
                     meta)
    return rc > 0 and bool(meta[1] & _FILTER_FLAG_LOG)
