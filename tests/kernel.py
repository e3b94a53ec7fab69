"""Raw syscalls for kernel-behaviour tests: the return value and errno exactly as the kernel
gave them, with no libc or Python wrapper in between deciding what to call."""
import ctypes
import ctypes.util

import seccomp

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

PR_GET_NO_NEW_PRIVS = 39


def syscall(name, *args):
    """Call syscall *name* (or number; native arch) with integer args; returns (result,
    errno)."""
    number = name if isinstance(name, int) else seccomp.syscall_number(name)
    ctypes.set_errno(0)
    rc = _libc.syscall(ctypes.c_long(number),
                       *(ctypes.c_long(a) for a in args))
    return rc, (ctypes.get_errno() if rc == -1 else 0)


def no_new_privs():
    return _libc.prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
