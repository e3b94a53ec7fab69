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
from .._enums import AUDIT_ARCH_64BIT, Action, Arch, Op
from .model import Policy, PolicyError, Rule, _spelled_for_libseccomp, _TooLarge

__all__ = ["ENABLED", "read"]

#: Whether `read` tries the compiled fast path.
ENABLED = True

Policies = Dict[str, Policy]
_PLAIN_OPS = {"==": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}
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
        table = ({k: int(v) for k, v in minijail._ACTIONS.items()}, errnos,
                 64 if int(Arch.native()) & AUDIT_ARCH_64BIT else 32)
    elif name == "seccompiler":
        from . import seccompiler
        table = ({k: int(v) for k, v in seccompiler._PLAIN_ACTIONS.items()},
                 {k: int(_PLAIN_OPS[v]) for k, v in seccompiler._OPS.items()})
    elif name == "oci":
        from ..profile.model import ACTIONS
        table = ({k: int(v) for k, v in ACTIONS.items()},
                 {"SCMP_CMP_" + op.name: int(op) for op in Op if op != Op.MASKED_EQ})
    _tables[name] = table
    return table


def read(fmt: str, text: str, file: str, full: Callable[[], Policies]) -> Optional[Policies]:
    """The policies of *text* in format *fmt* by the fast path, or None when it does not take
    them. *full* reads them with the format's own reader (for the rules, on first use)."""
    if not ENABLED:
        return None
    try:
        if fmt == "minijail":
            actions, errnos, bits = _table("minijail")
            rules = _policyfast.minijail(text, bits, actions, errnos)
            if rules is None:
                return None
            return _policies(full, {"": (Action.KILL_PROCESS, rules, {"source": file})})
        if fmt == "gosecco":
            return _gosecco(text, file, full)
        if fmt == "seccompiler":
            found = _policyfast.seccompiler(text, *_table("seccompiler"))
            if found is None:
                return None
            return _policies(full, {name: (mismatch, rules, {"name": name, "source": file})
                                    for name, (mismatch, rules) in found.items()})
        if fmt == "oci":
            parsed = _policyfast.oci(text, *_table("oci"))
            if parsed is None:
                return None
            default, rules = parsed
            return _policies(full, {"": (default, rules, {"source": "profile"})})
    except UnicodeEncodeError:  # lone surrogates: the format's reader says what it makes of them
        return None
    return None


def _gosecco(text: str, file: str, full: Callable[[], Policies]) -> Optional[Policies]:
    from .._core import InvalidArgumentError, syscall_resolve_name
    from .gosecco import action

    parsed = _policyfast.gosecco(text)
    if parsed is None:
        return None
    found, settings, values = parsed
    try:
        words = {v: int(action(v)) for v in values}
    except PolicyError:
        return None
    rules: Dict[str, List[Tuple[int, Any]]] = {}
    allow, kill = int(Action.ALLOW), int(Action.KILL_THREAD)
    for name, alternatives, positive, negative in found:
        try:
            syscall_resolve_name(name)
        except InvalidArgumentError:
            return None  # the reader refuses it with its place
        rules[name] = [(allow if positive is None else words[positive], alternatives),
                       (kill if negative is None else words[negative], None)]
    policy = settings.get("DEFAULT_POLICY")
    default = kill if policy is None else words[policy]
    return _policies(full, {"": (default, rules, {"source": file,
                                                  "bad_arch_action": Action.KILL_THREAD})})


def _policies(full: Callable[[], Policies],
              found: Dict[str, Tuple[int, Dict[str, Any], Dict[str, Any]]]
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
        lowered = _policyfast.lower(rules, int(default), _ACTIONS)
        if lowered is None:
            return None
        ready, ranged = lowered
        for syscall in ranged:
            try:
                ready[syscall] = _spelled_for_libseccomp(ready[syscall])
            except _TooLarge:
                return None
        out[name] = Policy._deferred(rules_of(name), ready, _ACTIONS[int(default)], **fields)
    return out
