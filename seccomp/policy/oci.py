"""Docker/OCI profiles (`seccomp.profile`) as policies, and policies as profiles.

A profile's rules overlap freely; among the rules that match a call, the most restrictive
action wins (the kernel's order across stacked filters: KILL_PROCESS, KILL_THREAD, TRAP,
ERRNO, NOTIFY, TRACE, LOG, ALLOW). As a `Policy` (first match wins) each syscall's rules are
ordered most restrictive first, which means the same.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

from .._enums import Action, Arch, Op
from .model import (TRUE, And, Arg, BinOp, Cmp, Expr, Num, Or, Place, Policy, PolicyError,
                    Rule, _BeyondLibseccomp, action_rank)

__all__ = ["from_profile", "to_profile"]

_OPS = {Op.EQ: "==", Op.NE: "!=", Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


def _condition(args: Tuple[Any, ...]) -> Expr:
    conds: List[Expr] = []
    for a in args:
        if a.op == Op.MASKED_EQ:
            conds.append(Cmp("==", BinOp("&", Arg(a.index), Num(a.value)), Num(a.value_two)))
        else:
            conds.append(Cmp(_OPS[a.op], Arg(a.index), Num(a.value)))
    if not conds:
        return TRUE
    if len({a.index for a in args}) != len(args):
        return Or(tuple(conds))  # runc: conditions on one argument are alternatives
    return conds[0] if len(conds) == 1 else And(tuple(conds))


def from_profile(profile: Any, *, arch: Union[Arch, str, int, None] = None,
                 caps: Optional[Iterable[str]] = None,
                 kernel: Union[str, Tuple[int, ...], None] = None) -> Policy:
    """A `seccomp.profile.Profile` as a policy, resolved for a target first (*caps* default
    to an unprivileged container's, as the command line does)."""
    from .. import profile as _profile

    if not profile.resolved:
        profile = profile.resolve(arch=arch, caps=_profile.CONTAINER_CAPS if caps is None
                                  else caps, kernel=kernel)
    rules: List[Tuple[int, int, Rule]] = []
    for order, r in enumerate(profile.rules):
        cond = _condition(r.args)
        place = Place("", 0, 0) if r.index is None else None
        for name in r.names:
            rules.append((action_rank(int(r.action)), order,
                          Rule(name, cond, r.action, place, r.comment)))
    by_name: Dict[str, List[Tuple[int, int, Rule]]] = {}
    for rank, order, rule in rules:
        by_name.setdefault(rule.syscall, []).append((rank, order, rule))
    ordered = [rule for name in by_name for _, _, rule in sorted(by_name[name],
                                                                  key=lambda t: t[:2])]
    return Policy(profile.default_action, tuple(ordered), tuple(profile.architectures),
                  source="profile")


def to_profile(policy: Policy) -> Any:
    """A policy as a resolved `seccomp.profile.Profile` (its rules lowered: several rules per
    syscall, at most one condition per argument each)."""
    from ..profile import Arg as PArg, Profile, Rule as PRule

    try:
        lowered = policy.lowered()
    except _BeyondLibseccomp as exc:  # Policy.compile makes BPF of its own for it
        raise PolicyError(exc.place, "%s (an OCI profile cannot state it; Policy.compile "
                                     "and the other formats' filters compute it with BPF of "
                                     "their own)" % exc.reason) from None
    rules = []
    for name, entries in lowered.items():
        for action, conds_list in entries:
            for conds in conds_list:
                rules.append(PRule((name,), Action(action), tuple(
                    PArg(c.arg, c.value, Op(c.op), c.value2) for c in conds)))
    return Profile(policy.default_action, tuple(rules), tuple(policy.arches))
