"""Building a `seccomp.Filter` from a resolved profile, the way container runtimes do."""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, List, Optional, Tuple

from .. import _core
from .._core import Cond, InvalidArgumentError, SeccompError, syscall_resolve_name
from .._enums import Arch
from .._filter import Filter
from .errors import ProfileError
from .model import Arg, Profile, Rule

if TYPE_CHECKING:
    from ..bpf import enosys as enosys_  # noqa: F401

__all__ = ["ProfileFilter", "BINARY_TREE_THRESHOLD"]

#: Profiles with at least this many syscall rules are compiled as a binary tree.
BINARY_TREE_THRESHOLD = 32


class ProfileFilter(Filter):
    """A `seccomp.Filter` compiled from a profile.

    ``skipped_syscalls`` names the profile's syscalls that this libseccomp does not know:
    container runtimes skip them rather than fail, and so does `Profile.compile`.

    ``enosys`` (a `seccomp.bpf.enosys.EnosysPlan`, or None when built with ``enosys=False``)
    puts the ENOSYS stub in front of libseccomp's program: syscalls the profile does not know
    fail with ENOSYS rather than the default errno. The BPF this filter exports, compiles and
    loads is the patched program (checked against libseccomp's by
    `seccomp.bpf.enosys.verify`)."""

    __slots__ = ("skipped_syscalls", "enosys", "_patched", "_listener")

    skipped_syscalls: Tuple[str, ...]
    enosys: "Optional[enosys_.EnosysPlan]"

    def __init__(self, default_action: int, *, tsync: bool = True) -> None:
        super().__init__(default_action, tsync=tsync)
        self.skipped_syscalls = ()
        self.enosys = None
        self._patched: Tuple[bytes, bytes] = (b"", b"")
        self._listener: Optional[int] = None

    def export_bpf_bytes(self) -> bytes:
        """The BPF program, with the ENOSYS stub when the filter has one."""
        program = self._libseccomp_bpf()
        if self.enosys is None:
            return program
        if self._patched[0] != program:  # rules changed since the last export
            from ..bpf import enosys as enosys_
            self._patched = (program, enosys_.patch(program, self.default_action, self.arches,
                                                     self.enosys))
        return self._patched[1]

    def _libseccomp_bpf(self) -> bytes:
        """libseccomp's program, without the stub."""
        fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
        try:
            _core.Context.export_bpf_fd(self, fd)
            os.lseek(fd, 0, os.SEEK_SET)
            chunks: List[bytes] = []
            while True:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    return b"".join(chunks)
                chunks.append(chunk)
        finally:
            os.close(fd)

    def export_bpf_fd(self, fd: int) -> None:
        """Write the BPF program (see `export_bpf_bytes`) to file descriptor *fd*."""
        data = memoryview(self.export_bpf_bytes())
        while data:
            data = data[os.write(fd, data):]

    def load(self) -> None:
        """Load the filter (the patched program when it has the ENOSYS stub). Irreversible."""
        if self.export_bpf_bytes() == self._libseccomp_bpf():
            Filter.load(self)
            return
        fd = self.compile().load()
        if self.has_notify_rules:
            self._listener = fd

    def notify_fd(self) -> int:
        """The notification listener's fd (after `load`)."""
        if self._listener is not None:
            return self._listener
        return _core.Context.notify_fd(self)


def build(profile: Profile, target: Arch, no_new_privs: bool,
          kernel: Optional[Tuple[int, int]] = None, enosys: bool = True) -> ProfileFilter:
    """The filter for a resolved *profile* (see `Profile.compile`). With *enosys*, syscalls
    the profile does not know get ENOSYS: those above the highest number it names, or, when
    the target *kernel* is given, those that kernel lacks (`seccomp.bpf.enosys`)."""
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
    if enosys:
        from ..bpf import enosys as enosys_
        f.enosys = enosys_.plan((n for r in profile.rules for n in r.names), f.arches, kernel)
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

