"""seccomp: fast, complete and safe bindings for libseccomp.

Build a filter, export it, or load it::

    import errno, seccomp
    with seccomp.Filter(seccomp.Action.ALLOW) as f:
        f.add_rule(seccomp.Action.ERRNO(errno.EPERM), "ptrace")
        f.load()
"""
__version__ = "0.1.0"

# Nothing is imported here: the first public name asked for loads the core (the modules below,
# all at once), the subpackages load on first use (``seccomp.notify`` imports asyncio,
# ``seccomp.profile`` json, ...). So ``import seccomp`` costs next to nothing, and ``seccomp
# record`` starts its command before the core's import (its launcher needs none of it).
# Whatever can load a filter loads the whole core first (`seccomp._filter` calls
# `_load_core`), so every name still works under a strict filter once one is loaded.

#: Each public name of the core, and the module it lives in.
_HOMES = {
    **dict.fromkeys(("InvalidArgumentError", "NotificationGone", "OutOfRangeError",
                     "ProfileError", "SeccompError", "TargetsGone", "UnsupportedError"),
                    "_errors"),
    "Cond": "_core", "Program": "_core",
    **dict.fromkeys(("Action", "Arch", "Attr", "Op"), "_enums"),
    "Filter": "_filter",
    **dict.fromkeys(("ALLOW", "EQ", "ERRNO", "GE", "GT", "KILL", "KILL_PROCESS", "LE", "LOG",
                     "LT", "MASKED_EQ", "NE", "NOTIFY", "TRACE", "TRAP", "Arg", "SyscallFilter",
                     "c_str", "get_api", "resolve_syscall", "set_api", "system_arch"),
                    "_compat"),
    **dict.fromkeys(("action_available", "api_level", "library_version", "native_arch",
                     "set_api_level", "syscall_name", "syscall_number"), "_info"),
}
_SUBMODULES = frozenset({"bpf", "cli", "notify", "profile"})
# libseccomp's module's notification classes: compiled, loaded when first named.
_NOTIFY_NAMES = frozenset({"Notification", "NotificationResponse", "NotificationAddfd"})

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from . import bpf, cli, notify, profile  # noqa: F401
    from ._compat import (ALLOW, EQ, ERRNO, GE, GT, KILL, KILL_PROCESS, LE, LOG, LT, MASKED_EQ,
                          NE, NOTIFY, TRACE, TRAP, Arg, SyscallFilter, c_str, get_api,
                          resolve_syscall, set_api, system_arch)
    from ._core import Cond, Program
    from ._enums import Action, Arch, Attr, Op
    from ._errors import (InvalidArgumentError, NotificationGone, OutOfRangeError, ProfileError,
                          SeccompError, TargetsGone, UnsupportedError)
    from ._filter import Filter
    from ._info import (action_available, api_level, library_version, native_arch,
                        set_api_level, syscall_name, syscall_number)
    from ._notify import Notification, NotificationAddfd, NotificationResponse


def _load_core() -> None:
    """Import the core's modules and bind their public names here (once)."""
    if "Filter" in globals():
        return
    import sys

    for home in ("_errors", "_core", "_enums", "_filter", "_compat", "_info"):
        __import__(__name__ + "." + home)
    spaces = {home: vars(sys.modules[__name__ + "." + home]) for home in set(_HOMES.values())}
    globals().update({name: spaces[home][name] for name, home in _HOMES.items()})


def _submodule(name: str) -> object:
    """``seccomp.<name>``, imported (without importlib, whose import costs)."""
    import sys

    __import__(__name__ + "." + name)
    return sys.modules[__name__ + "." + name]


def __getattr__(name: str) -> object:
    if name in _HOMES:
        _load_core()
        return globals()[name]
    if name in _NOTIFY_NAMES:
        _load_core()
        return getattr(_submodule("_notify"), name)
    if name in _SUBMODULES:
        return _submodule(name)
    raise AttributeError("module 'seccomp' has no attribute %r" % (name,))


def __dir__() -> "list[str]":
    return sorted(set(globals()) | set(_HOMES) | _NOTIFY_NAMES | _SUBMODULES)

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
