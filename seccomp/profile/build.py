"""Building a `seccomp.Filter` from a resolved profile, the way container runtimes do."""
from __future__ import annotations

from typing import List, Tuple

from .._core import Cond, InvalidArgumentError, SeccompError, syscall_resolve_name
from .._enums import Arch
from .._filter import Filter
from .errors import ProfileError
from .model import Arg, Profile, Rule

__all__ = ["ProfileFilter", "BINARY_TREE_THRESHOLD"]

#: Profiles with at least this many syscall rules are compiled as a binary tree.
BINARY_TREE_THRESHOLD = 32


class ProfileFilter(Filter):
    """A `seccomp.Filter` compiled from a profile.

    ``skipped_syscalls`` names the profile's syscalls that this libseccomp does not know:
    container runtimes skip them rather than fail, and so does `Profile.compile`."""

    __slots__ = ("skipped_syscalls",)

    skipped_syscalls: Tuple[str, ...]


def build(profile: Profile, target: Arch, no_new_privs: bool) -> ProfileFilter:
    """The filter for a resolved *profile* (see `Profile.compile`)."""
    default = profile.default_action
    try:
        f = ProfileFilter(default)
    except SeccompError as exc:
        raise ProfileError("defaultAction", str(exc.strerror)) from None
    f.no_new_privs = no_new_privs
    native = Arch.native()
    if target != native:
        f.remove_arch(native)  # first: one filter cannot mix byte orders
        f.add_arch(target)
    for i, a in enumerate(profile.architectures):
        try:
            f.add_arch(a)
        except SeccompError as exc:
            raise ProfileError("architectures[%d]" % i, str(exc.strerror)) from None
    for i, flag in enumerate(profile.flags):
        try:
            _apply_flag(f, flag)
        except SeccompError as exc:
            raise ProfileError("flags[%d]" % i, "%s: %s" % (flag, exc.strerror)) from None
    skipped: List[str] = []
    count = sum(len(r.names) for r in profile.rules if r.action != default)
    if count >= BINARY_TREE_THRESHOLD:
        f.optimize = 2
    add = f.add_rule
    for r in profile.rules:
        if r.action == default:
            continue
        groups = _condition_groups(r.args)
        action = r.action
        for name in r.names:
            for conds in groups:
                try:
                    add(action, name, *conds)  # the core resolves (and caches) the name
                except SeccompError as exc:
                    if not _known(name):
                        skipped.append(name)
                        break
                    raise ProfileError(_place(r), "cannot add the rule for %r: %s"
                                       % (name, exc.strerror)) from None
    f.skipped_syscalls = tuple(skipped)
    return f


def _known(name: str) -> bool:
    """Whether libseccomp knows a syscall name (on any architecture)."""
    try:
        syscall_resolve_name(name)
    except InvalidArgumentError:
        return False
    return True


def _place(rule: Rule) -> str:
    return "syscalls[%d]" % rule.index if rule.index is not None else "syscalls"


def _condition_groups(args: Tuple[Arg, ...]) -> List[Tuple[Cond, ...]]:
    """The condition sets to add as rules: all together, or (runc's rule) when an argument
    is tested more than once, each condition alone."""
    conds = tuple(a.cond() for a in args)
    if len({a.index for a in args}) == len(args):
        return [conds]
    return [(c,) for c in conds]


def _apply_flag(f: Filter, flag: str) -> None:
    if flag == "SECCOMP_FILTER_FLAG_TSYNC":
        f.tsync = True
    elif flag == "SECCOMP_FILTER_FLAG_LOG":
        f.log = True
    elif flag == "SECCOMP_FILTER_FLAG_SPEC_ALLOW":
        f.ssb = True
    elif flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
        f.wait_kill = True

