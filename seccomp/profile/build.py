"""Building a `seccomp.Filter` from a resolved profile, the way container runtimes do."""
from __future__ import annotations

from .._core import Cond, SeccompError
from .._errors import SkippedSyscallWarning
from .._enums import ACTION_KIND_MASK, AUDIT_ARCH_LE, Action, Arch, precedence
from .._info import library_version, syscall_known
from .._filter import Filter
from .errors import ProfileError
from .model import Arg, Profile, Rule

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Dict, List, Optional, Tuple

    from ..bpf import enosys as enosys_  # noqa: F401

__all__ = ["ProfileFilter", "SkippedSyscallWarning", "BINARY_TREE_THRESHOLD"]

#: Profiles with at least this many syscall rules are compiled as a binary tree.
BINARY_TREE_THRESHOLD = 32


class ProfileFilter(Filter):
    """A `seccomp.Filter` compiled from a profile.

    ``skipped_syscalls`` names the profile's syscalls that could not be added on at least one
    of the filter's architectures because this libseccomp does not know them there (and the
    package's table of newer syscalls could not stand in): container runtimes skip such names
    rather than fail, and so does `Profile.compile`, warning when the skipped rule was
    stricter than the default action.

    ``enosys`` (a `seccomp.bpf.enosys.EnosysPlan`, or None when built with ``enosys=False``)
    puts the ENOSYS stub in front of libseccomp's program: syscalls the profile does not know
    fail with ENOSYS rather than the default errno. The BPF this filter exports, compiles and
    loads is the patched program (checked against libseccomp's by
    `seccomp.bpf.enosys.verify`)."""

    __slots__ = ("skipped_syscalls", "enosys", "_patched")

    skipped_syscalls: Tuple[str, ...]
    enosys: "Optional[enosys_.EnosysPlan]"

    def __init__(self, default_action: int, *, tsync: bool = True) -> None:
        super().__init__(default_action, tsync=tsync)
        self.skipped_syscalls = ()
        self.enosys = None
        self._patched: Tuple[bytes, bytes] = (b"", b"")

    def _finish_bpf(self, program: bytes) -> bytes:
        """*program* (checked against the rules) with the ENOSYS stub, when the filter has
        one (checked against *program* by `seccomp.bpf.enosys.verify`)."""
        if self.enosys is None:
            return program
        if self._patched[0] != program:  # rules changed since the last export
            from ..bpf import enosys as enosys_
            self._patched = (program, enosys_.patch(program, self.default_action, self.arches,
                                                     self.enosys))
        return self._patched[1]


def build(profile: Profile, target: Arch, no_new_privs: bool,
          kernel: Optional[Tuple[int, int]] = None, enosys: bool = True,
          strict: bool = False) -> ProfileFilter:
    """The filter for a resolved *profile* (see `Profile.compile`). With *enosys*, syscalls
    the profile does not know get ENOSYS: those above the highest number it names, or, when
    the target *kernel* is given, those that kernel lacks (`seccomp.bpf.enosys`).

    Syscalls libseccomp does not know are added by their numbers from `NEWER_SYSCALLS`,
    which libseccomp accepts for the native architecture only, and only in a filter of that
    architecture alone (it translates numbers for the others through its own names): when
    such numbers are needed, the native architecture gets a filter of its own, merged with the
    other architectures' one."""
    arches = [target] + [a for a in profile.architectures if a != target]
    places = {a: ("architectures[%d]" % profile.architectures.index(a) if i else "arch")
              for i, a in enumerate(arches)}
    native = Arch.native()
    groups = [arches]
    if len(arches) > 1 and native in arches and _needs_native_numbers(profile, native):
        groups = [[native], [a for a in arches if a != native]]
    skipped: List[Tuple[str, Arch, Rule]] = []
    result: Optional[ProfileFilter] = None
    for group in groups:
        try:
            f = _group_filter(profile, group, places, no_new_privs, skipped)
            if result is None:
                result = f
            else:
                result.merge(f)
        except ProfileError:
            if result is not None:
                result.release()
            raise
        except SeccompError as exc:  # the merge
            if result is not None:
                result.release()
            reason = str(exc.strerror)
            if _little_endian(group[0]) != _little_endian(target):
                reason = _byte_orders(group[0], target)
            raise ProfileError(places[group[0]], "%s: %s" % (group[0], reason)) from None
        except BaseException:
            if result is not None:
                result.release()
            raise
    assert result is not None
    names: Dict[str, None] = {}
    for name, _, _ in skipped:
        names[name] = None
    result.skipped_syscalls = tuple(names)
    weakening = [(n, a, r) for n, a, r in skipped if _weakens(r.action, profile.default_action)]
    if weakening:
        message = _skipped_message(weakening, profile.default_action)
        if strict:
            result.release()
            raise ProfileError(_place(weakening[0][2]), message + " (refused: strict)")
        _warn(message)
    if enosys:
        from ..bpf import enosys as enosys_
        from .newer_syscalls import NEWER_SYSCALLS
        result.enosys = enosys_.plan((n for r in profile.rules for n in r.names), result.arches,
                                     kernel, NEWER_SYSCALLS)
    return result


def _little_endian(arch: Arch) -> bool:
    return bool(int(arch) & AUDIT_ARCH_LE)


def _byte_orders(arch: Arch, other: Arch) -> str:
    def order(a: Arch) -> str:
        return "little" if _little_endian(a) else "big"
    return "one filter cannot hold both byte orders (%s is %s-endian, %s %s)" % (
        arch, order(arch), other, order(other))


def _needs_native_numbers(profile: Profile, native: Arch) -> bool:
    """Whether a rule names a syscall libseccomp does not know but the newer table has for
    the native architecture."""
    from .newer_syscalls import NEWER_SYSCALLS

    arch = str(native)
    default = profile.default_action
    return any(n in NEWER_SYSCALLS and arch in NEWER_SYSCALLS[n] and not syscall_known(n)
               for r in profile.rules if r.action != default for n in r.names)


def _group_filter(profile: Profile, arches: List[Arch], places: Dict[Arch, str],
                  no_new_privs: bool, skipped: List[Tuple[str, Arch, Rule]]) -> ProfileFilter:
    """The profile's rules for some architectures, in one filter."""
    default = profile.default_action
    try:
        f = ProfileFilter(default)
    except SeccompError as exc:
        raise ProfileError("defaultAction", str(exc.strerror)) from None
    try:
        _fill(f, profile, arches, places, no_new_privs, skipped)
    except BaseException:
        f.release()
        raise
    return f


def _fill(f: ProfileFilter, profile: Profile, arches: List[Arch], places: Dict[Arch, str],
          no_new_privs: bool, skipped: List[Tuple[str, Arch, Rule]]) -> None:
    native = Arch.native()
    if native not in arches:
        f.remove_arch(native)  # first: one filter cannot mix byte orders
    for arch in arches:
        if arch == native:
            continue
        try:
            f.add_arch(arch)
        except SeccompError as exc:
            reason = str(exc.strerror)
            if _little_endian(arch) != _little_endian(arches[0]):
                reason = _byte_orders(arch, arches[0])
            raise ProfileError(places[arch], "%s: %s" % (arch, reason)) from None
    default = profile.default_action
    f.no_new_privs = no_new_privs
    for i, flag in enumerate(profile.flags):
        try:
            _apply_flag(f, flag)
        except SeccompError as exc:
            raise ProfileError("flags[%d]" % i, "%s: %s" % (flag, exc.strerror)) from None
    count = sum(len(r.names) for r in profile.rules if r.action != default)
    if count >= BINARY_TREE_THRESHOLD:
        f.optimize = 2
    add = f.add_rule
    by_number = arches == [native]  # libseccomp takes raw numbers only here
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
                    if syscall_known(name):
                        raise ProfileError(_place(r), "cannot add the rule for %r: %s"
                                           % (name, exc.strerror)) from None
                    number = _newer(name, str(native)) if by_number else None
                    if number is None:
                        skipped.extend((name, a, r) for a in arches
                                       if _newer(name, str(a)) is not None
                                       or not _newer_anywhere(name))
                        break  # else: not a syscall on these architectures, nothing to add
                    add(action, number, *conds)


def _newer(name: str, arch: str) -> Optional[int]:
    from .newer_syscalls import NEWER_SYSCALLS

    return NEWER_SYSCALLS.get(name, {}).get(arch)


def _newer_anywhere(name: str) -> bool:
    from .newer_syscalls import NEWER_SYSCALLS

    return name in NEWER_SYSCALLS


def _weakens(action: Action, default: Action) -> bool:
    """Whether leaving out a rule with *action* lets a syscall through more easily: its
    action is at least as restrictive as the default (among the actions that apply, the
    kernel takes the most restrictive)."""
    return action != default and (precedence(action & ACTION_KIND_MASK)
                                  <= precedence(default & ACTION_KIND_MASK))


def _skipped_message(skipped: List[Tuple[str, Arch, Rule]], default: Action) -> str:
    by_rule: Dict[Tuple[str, str, str], List[str]] = {}
    for name, arch, rule in skipped:
        by_rule.setdefault((_place(rule), name, str(rule.action)), []).append(str(arch))
    parts = ["%s %s (%s) on %s" % (place, name, action, ", ".join(arches))
             for (place, name, action), arches in by_rule.items()]
    version = ".".join(map(str, library_version()))
    return ("libseccomp %s does not know these syscalls, so their rules, stricter than the "
            "default action %s, are not in the filter: %s"
            % (version, default, "; ".join(parts)))


def _warn(message: str) -> None:
    """Warn every time (the usual once-per-place filtering would hide a second profile's
    weakening), attributed to the first caller outside this package."""
    import sys
    import warnings

    frame = sys._getframe(1)
    while frame.f_back is not None and \
            frame.f_globals.get("__name__", "").startswith("seccomp."):
        frame = frame.f_back
    warnings.warn_explicit(message, SkippedSyscallWarning, frame.f_code.co_filename,
                           frame.f_lineno, module=frame.f_globals.get("__name__"))



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

