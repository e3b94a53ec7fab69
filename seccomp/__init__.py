"""seccomp: fast, complete and safe bindings for libseccomp.

Build a filter, export it, or load it::

    import errno, seccomp
    with seccomp.Filter(seccomp.Action.ALLOW) as f:
        f.add_rule(seccomp.Action.ERRNO(errno.EPERM), "ptrace")
        f.load()
"""
from ._errors import (InvalidArgumentError, NotificationGone, OutOfRangeError, ProfileError,
                      SeccompError, TargetsGone, UnsupportedError)
from ._core import Cond, Program
from ._enums import Action, Arch, Attr, Op
from ._filter import Filter
from ._compat import (ALLOW, EQ, ERRNO, GE, GT, KILL, KILL_PROCESS, LE, LOG, LT, MASKED_EQ, NE,
                      NOTIFY, TRACE, TRAP, Arg, SyscallFilter, c_str, get_api, resolve_syscall,
                      set_api, system_arch)
from ._info import (action_available, api_level, library_version, native_arch, set_api_level,
                    syscall_name, syscall_number)

__version__ = "0.1.0"

# The subpackages load on first use (``seccomp.notify`` imports asyncio, ``seccomp.profile``
# json, ...): ``import seccomp`` stays cheap and leaves nothing that acts at exit.
_SUBMODULES = frozenset({"bpf", "cli", "notify", "profile"})


TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from . import bpf, cli, notify, profile  # noqa: F401
    from ._notify import Notification, NotificationAddfd, NotificationResponse

# libseccomp's module's notification classes: compiled, loaded when first named.
_NOTIFY_NAMES = frozenset({"Notification", "NotificationResponse", "NotificationAddfd"})


def __getattr__(name: str) -> object:
    if name in _NOTIFY_NAMES:
        from . import _notify
        return getattr(_notify, name)
    if name in _SUBMODULES:
        import importlib
        return importlib.import_module("." + name, __name__)
    raise AttributeError("module 'seccomp' has no attribute %r" % (name,))


def __dir__() -> "list[str]":
    return sorted(set(globals()) | _NOTIFY_NAMES | _SUBMODULES)

__all__ = [
    "Filter", "Program", "Cond", "Action", "Arch", "Op", "Attr",
    "SeccompError", "InvalidArgumentError", "UnsupportedError", "OutOfRangeError",
    "NotificationGone", "TargetsGone", "ProfileError",
    "syscall_number", "syscall_name", "native_arch", "library_version", "api_level",
    "set_api_level", "action_available",
    # libseccomp's own module's names (seccomp/_compat.py)
    "SyscallFilter", "Arg", "KILL_PROCESS", "KILL", "TRAP", "LOG", "ALLOW", "NOTIFY", "ERRNO",
    "TRACE", "NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ", "resolve_syscall", "system_arch",
    "get_api", "set_api", "Notification", "NotificationResponse", "NotificationAddfd",
    # ``from seccomp import *`` gave these two there too (scripts use errno.EPERM after it)
    "c_str", "errno",
]

import errno  # noqa: E402 - for ``from seccomp import *``, as above
