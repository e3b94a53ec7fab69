"""The readers' fast path: the common forms of each format read by compiled code
(`seccomp._policyfast`) straight into the libseccomp rules `Policy.compile` adds.

A policy read this way is a `Policy` like any other: its default action and settings are
set, its libseccomp rules (`Policy.lowered`) are ready, and its `rules` are read by the
format's own reader when first used (checking, explaining, writing, comparing). Text the fast
path does not take, errors included, goes to the format's own reader. `ENABLED` False turns it
off (the tests compare both).
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import _policyfast
from .._enums import AUDIT_ARCH_64BIT, Action, Arch
from .model import Policy, Rule, _spelled_for_libseccomp, _TooLarge, unknown_syscall

__all__ = ["ENABLED", "read"]

#: Whether `read` tries the compiled fast path.
ENABLED = True

Policies = Dict[str, Policy]
_tables: Dict[str, Any] = {}


class _Actions(dict):  # type: ignore[type-arg]
    """Raw action values to `Action`s, made on first use."""

    def __missing__(self, raw: int) -> Action:
        action = self[raw] = Action(raw)
        return action


_ACTIONS = _Actions()


def _table(name: str) -> Any:
    """The readers' words as the compiled readers take them (made once)."""
    table = _tables.get(name)
    if table is not None:
        return table
    if name == "minijail":
        import errno

        from . import minijail
        errnos = {n: getattr(errno, n) for n in dir(errno)
                  if n.startswith("E") and isinstance(getattr(errno, n), int)}
        table = (64 if int(Arch.native()) & AUDIT_ARCH_64BIT else 32, dict(minijail._ACTIONS),
                 errnos, _ACTIONS)
    elif name == "gosecco":
        from .gosecco import action
        table = ({word: action(word) for word in ("allow", "kill", "trap", "trace")},)
    elif name == "seccompiler":
        from . import seccompiler
        table = (dict(seccompiler._PLAIN_ACTIONS),)
    elif name == "oci":
        from ..profile.model import ACTIONS
        table = (dict(ACTIONS),)
    _tables[name] = table
    return table


def read(fmt: str, text: str, file: str, full: Callable[[], Policies]) -> Optional[Policies]:
    """The policies of *text* in format *fmt* by the fast path, or None when it does not take
    them. *full* reads them with the format's own reader (for the rules, on first use)."""
    if not ENABLED:
        return None
    found: Dict[str, Tuple[Action, Dict[str, Any], Dict[str, Any]]]
    try:
        if fmt == "minijail":
            rules = _policyfast.minijail(text, *_table("minijail"))
            if rules is None:
                return None
            found = {"": (Action.KILL_PROCESS, rules, {"source": file})}
        elif fmt == "gosecco":
            parsed = _policyfast.gosecco(text, *_table("gosecco"))
            if parsed is None:
                return None
            found = {"": (parsed[0], parsed[1], {"source": file,
                                                 "bad_arch_action": Action.KILL_THREAD})}
        elif fmt == "seccompiler":
            filters = _policyfast.seccompiler(text, *_table("seccompiler"))
            if filters is None:
                return None
            found = {name: (mismatch, rules, {"name": name, "source": file})
                     for name, (mismatch, rules) in filters.items()}
        elif fmt == "oci":
            parsed = _policyfast.oci(text, *_table("oci"))
            if parsed is None:
                return None
            found = {"": (parsed[0], parsed[1], {"source": "profile"})}
        else:
            return None
    except UnicodeEncodeError:  # lone surrogates: the format's reader says what it makes of them
        return None
    if fmt != "oci" and any(unknown_syscall(name) for _, rules, _ in found.values()
                            for name in rules):
        return None  # the reader refuses it, with its place
    return _policies(full, found)


def _policies(full: Callable[[], Policies],
              found: Dict[str, Tuple[Action, Dict[str, Any], Dict[str, Any]]]
              ) -> Optional[Policies]:
    out: Policies = {}
    read_all: List[Policies] = []

    def rules_of(name: str) -> Callable[[], Tuple[Rule, ...]]:
        def rules() -> Tuple[Rule, ...]:
            if not read_all:
                read_all.append(full())
            return read_all[0][name].rules
        return rules

    for name, (default, rules, fields) in found.items():
        lowered = _policyfast.lower(rules, default)
        if lowered is None:
            return None
        ready, ranged = lowered
        for syscall in ranged:
            try:
                ready[syscall] = _spelled_for_libseccomp(ready[syscall])
            except _TooLarge:
                return None
        out[name] = Policy._deferred(rules_of(name), ready, default, **fields)
    return out
