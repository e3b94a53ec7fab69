"""Syscall names and numbers on any architecture, versions and what the kernel supports."""
from __future__ import annotations


from . import _core
from ._enums import Action, Arch

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Optional, Tuple, Union

__all__ = ["syscall_number", "syscall_name", "native_arch", "library_version", "api_level",
           "set_api_level", "action_available"]

if TYPE_CHECKING:
    ArchLike = Union[Arch, int, str]


# The core's functions themselves: no Python frame per call (arch: an Arch, name or token).
syscall_number = _core.syscall_resolve_name
syscall_name = _core.syscall_resolve_num


def syscall_known(name: str) -> bool:
    """Whether libseccomp knows a syscall name (on any architecture)."""
    try:
        _core.syscall_resolve_name(name)
    except _core.InvalidArgumentError:
        return False
    return True


def native_arch() -> Arch:
    """The architecture this process runs on."""
    return Arch.native()


def split_kernel_release(release: str) -> Optional[Tuple[int, int, str]]:
    """A kernel version as (major, minor, rest): '6.1.0-13-amd64' gives (6, 1, '-13-amd64')
    (a third number is dropped with its dot); None unless *release* starts with MAJOR.MINOR
    in ASCII digits. (Without `re`, which `seccomp run -- CMD` otherwise does without.)"""
    major = _digits(release, 0)
    if major == 0 or release[major:major + 1] != ".":
        return None
    minor = _digits(release, major + 1)
    if minor == major + 1:
        return None
    end = minor
    if release[minor:minor + 1] == ".":
        end = _digits(release, minor + 1)
        if end == minor + 1:  # a dot and no number: part of the rest
            end = minor
    return (int(release[:major]), int(release[major + 1:minor]), release[end:])


def _digits(text: str, start: int) -> int:
    """The end of the ASCII digits of *text* from *start*."""
    end = start
    while end < len(text) and "0" <= text[end] <= "9":
        end += 1
    return end


def kernel_version() -> Tuple[int, int]:
    """The running kernel's (major, minor) version, from uname(2)."""
    import os

    parsed = split_kernel_release(os.uname().release)
    if parsed is None:
        raise _core.SeccompError(22, "cannot read the kernel version from uname's release %r"
                                 % os.uname().release)
    return parsed[:2]


def library_version() -> Tuple[int, int, int]:
    """The version of the libseccomp library in use, as (major, minor, micro)."""
    return _core.version()


def api_level() -> int:
    """libseccomp's API level: what the library and the running kernel support together."""
    return _core.api_get()


def set_api_level(level: int) -> None:
    """Force libseccomp's API level for this process (for testing older behaviour)."""
    _core.api_set(level)


def action_available(action: int) -> bool:
    """Whether the running kernel supports an action (ERRNO and TRACE data is ignored)."""
    return _core.action_available(Action(action))
