"""Named syscall groups: systemd's ``SystemCallFilter=`` sets, with systemd's names and members.

A group with systemd's name has systemd's members (as ``systemd-analyze syscall-filter``
lists them; `seccomp.profile.systemd_groups` is generated from it), up to the syscalls
libseccomp knows. Each group is a tuple of syscall names (or other ``@groups``), covering
every architecture: a name an architecture lacks is simply not there when a filter is built for
it. Note that, as in systemd, ``@file-system`` has no ``mmap`` (it is in ``@default``) and
``@process`` has ``execve``. Use them to build filters by hand::

    f = seccomp.Filter(seccomp.Action.ERRNO(errno.EPERM))
    for name in seccomp.profile.expand("@system-service"):
        f.add_rule(seccomp.Action.ALLOW, name)   # see Profile for skipping unknown names

or on the command line: ``seccomp run --deny @mount -- CMD``.
"""
from __future__ import annotations

from .systemd_groups import SYSTEMD_GROUPS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Tuple

__all__ = ["GROUPS", "expand", "describe"]

# name -> (what it is for, members). Members starting with "@" are other groups.
_GROUPS: Dict[str, Tuple[str, Tuple[str, ...]]] = dict(SYSTEMD_GROUPS)

#: Every group: its name (with the "@") -> its members as written (may name other groups).
GROUPS: Dict[str, Tuple[str, ...]] = {name: members for name, (_, members) in _GROUPS.items()}


def describe(group: str) -> str:
    """One line saying what a group is for."""
    _check(group)
    return _GROUPS[group][0]


def _check(group: str) -> None:
    if group not in GROUPS:
        from .._core import InvalidArgumentError
        if group == "@known":  # systemd's, left out by tools/gen_systemd_groups.py
            raise InvalidArgumentError(22, "systemd's @known (every syscall its kernel headers "
                                           "declare) is not a group here: a profile's default "
                                           "action answers the syscalls it does not name")
        known = ", ".join(sorted(GROUPS))
        raise InvalidArgumentError(22, "unknown syscall group %r (known: %s)" % (group, known))


def expand(names: "str | Iterable[str]") -> Tuple[str, ...]:
    """Syscall names with every ``@group`` replaced by its members, recursively; sorted,
    without duplicates. A single name or group may be given as a str."""
    if isinstance(names, str):
        names = (names,)
    out: List[str] = []
    seen = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.startswith("@"):
            _check(name)
            stack.extend(GROUPS[name])
        else:
            out.append(name)
    return tuple(sorted(out))
