"""What a profile says, checked: `Profile`, its `Rule` entries, their `Arg` conditions and
Docker's `Match` (``includes``/``excludes``); resolving for a target and writing JSON."""
from __future__ import annotations

import errno as _errno

from .._core import Cond, InvalidArgumentError
from .._enums import Action, Arch, Op
from .._fields import Frozen
from .._jsontext import dumps
from .groups import expand
from .host import CONTAINER_CAPS, _kernel_version, host_kernel, parse_caps

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Tuple, Union

    from .build import ProfileFilter

__all__ = ["Profile", "Rule", "Arg", "Match", "FLAGS"]

# The OCI spellings of actions, operators and flags.
#: The OCI names of actions (libseccomp's macros): SCMP_ACT_ and the action's kind;
#: SCMP_ACT_KILL is KILL_THREAD, and ERRNO and TRACE carry EPERM unless errnoRet says.
ACTIONS: Dict[str, Action] = {
    "SCMP_ACT_" + name: action for name, action in Action.members().items()}
ACTIONS.update(SCMP_ACT_KILL=Action.KILL_THREAD, SCMP_ACT_ERRNO=Action.ERRNO(_errno.EPERM),
               SCMP_ACT_TRACE=Action.TRACE(_errno.EPERM))
_OPS: Dict[str, Op] = {"SCMP_CMP_" + op.name: op for op in Op}
#: The OCI filter flags this module understands (seccomp(2)'s SECCOMP_FILTER_FLAG_*).
FLAGS = ("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
         "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")


_set = object.__setattr__  # the fields of an immutable instance, in its __init__


class Arg(Frozen):
    """A condition on one syscall argument: ``op`` compares argument ``index`` with ``value``
    (for MASKED_EQ: ``arg & value == value_two``)."""

    __slots__ = ("index", "value", "op", "value_two")
    index: int
    value: int
    op: Op
    value_two: int

    def __init__(self, index: int, value: int, op: Op, value_two: int = 0) -> None:
        _set(self, "index", index)
        _set(self, "value", value)
        _set(self, "op", op)
        _set(self, "value_two", value_two)

    def cond(self) -> Cond:
        """The `seccomp.Cond` for this condition."""
        return Cond(self.index, self.op, self.value, self.value_two)

    def to_dict(self) -> Dict[str, Any]:
        """The OCI form."""
        return {"index": self.index, "value": self.value, "valueTwo": self.value_two,
                "op": "SCMP_CMP_" + self.op.name}


class Match(Frozen):
    """Docker's ``includes``/``excludes``: capabilities, architectures, minimum kernel."""

    __slots__ = ("caps", "arches", "min_kernel")
    caps: Tuple[str, ...]
    arches: Tuple[Arch, ...]
    min_kernel: Optional[Tuple[int, int]]

    def __init__(self, caps: Tuple[str, ...] = (), arches: Tuple[Arch, ...] = (),
                 min_kernel: Optional[Tuple[int, int]] = None) -> None:
        _set(self, "caps", caps)
        _set(self, "arches", arches)
        _set(self, "min_kernel", min_kernel)

    def __bool__(self) -> bool:
        return bool(self.caps or self.arches or self.min_kernel)

    def to_dict(self) -> Dict[str, Any]:
        """The Docker form (architectures in Docker's Go names where they exist)."""
        out: Dict[str, Any] = {}
        if self.caps:
            out["caps"] = list(self.caps)
        if self.arches:
            out["arches"] = [_DOCKER_ARCH.get(a, str(a)) for a in self.arches]
        if self.min_kernel:
            out["minKernel"] = "%d.%d" % self.min_kernel
        return out


_NO_MATCH = Match()

# Docker names architectures in includes/excludes as Go does.
_DOCKER_ARCH = {Arch.X86_64: "amd64", Arch.AARCH64: "arm64", Arch.X86: "386"}


class Rule(Frozen):
    """One ``syscalls[]`` entry: *action* for each of *names* when all *args* hold (or, when
    several conditions test the same argument, when any of them holds)."""

    __slots__ = ("names", "action", "args", "comment", "includes", "excludes", "index")
    _uncompared = ("index",)
    names: Tuple[str, ...]
    action: Action
    args: Tuple[Arg, ...]
    comment: str
    includes: Match
    excludes: Match
    #: Where the entry came from (its index in the source's ``syscalls``), for messages.
    index: Optional[int]

    def __init__(self, names: Tuple[str, ...], action: Action, args: Tuple[Arg, ...] = (),
                 comment: str = "", includes: Match = _NO_MATCH, excludes: Match = _NO_MATCH,
                 index: Optional[int] = None) -> None:
        _set(self, "names", names)
        _set(self, "action", action)
        _set(self, "args", args)
        _set(self, "comment", comment)
        _set(self, "includes", includes)
        _set(self, "excludes", excludes)
        _set(self, "index", index)

    def applies(self, arch: Arch, caps: FrozenSet[str], kernel: Tuple[int, int]) -> bool:
        """Whether the entry applies to a target, by Docker's rules: every ``includes``
        condition must hold (all its caps present, the arch listed, kernel >= minKernel) and no
        ``excludes`` condition may (any of its caps present, the arch listed, kernel >=
        minKernel)."""
        inc, exc = self.includes, self.excludes
        if inc.arches and arch not in inc.arches:
            return False
        if inc.caps and not caps.issuperset(inc.caps):
            return False
        if inc.min_kernel and kernel < inc.min_kernel:
            return False
        if exc.arches and arch in exc.arches:
            return False
        if exc.caps and not caps.isdisjoint(exc.caps):
            return False
        if exc.min_kernel and kernel >= exc.min_kernel:
            return False
        return True

    def to_dict(self, oci: bool = False) -> Dict[str, Any]:
        """The entry as JSON data; *oci* leaves out Docker's additions (comment, includes,
        excludes)."""
        out: Dict[str, Any] = {"names": list(self.names)}
        out.update(_action_to_dict(self.action, "errnoRet"))
        if self.args:
            out["args"] = [a.to_dict() for a in self.args]
        if not oci:
            if self.comment:
                out["comment"] = self.comment
            if self.includes:
                out["includes"] = self.includes.to_dict()
            if self.excludes:
                out["excludes"] = self.excludes.to_dict()
        return out


def _action_to_dict(action: Action, errno_key: str) -> Dict[str, Any]:
    name = "SCMP_ACT_" + action.kind
    key = "defaultAction" if errno_key == "defaultErrnoRet" else "action"
    out: Dict[str, Any] = {key: name}
    if action.data is not None:
        out[errno_key] = action.data
    return out


class Profile(Frozen):
    """A validated profile. Build it with `load`; it is immutable (``dataclasses.replace``
    makes changed copies)."""

    __slots__ = ("default_action", "rules", "architectures", "arch_map", "flags",
                 "listener_path", "listener_metadata", "comment", "caps")
    _uncompared = ("caps",)
    default_action: Action
    rules: Tuple[Rule, ...]
    architectures: Tuple[Arch, ...]
    #: Docker's ``archMap``: (architecture, its sub-architectures) pairs.
    arch_map: Tuple[Tuple[Arch, Tuple[Arch, ...]], ...]
    flags: Tuple[str, ...]
    listener_path: str
    listener_metadata: str
    comment: str
    #: The capabilities the profile's source gives the process (an OCI config.json's
    #: ``process.capabilities.bounding``), which `resolve` uses when not told others; None
    #: when the source does not say. Not part of the profile's JSON, nor of its equality.
    caps: Optional[FrozenSet[str]]

    def __init__(self, default_action: Action, rules: Tuple[Rule, ...] = (),
                 architectures: Tuple[Arch, ...] = (),
                 arch_map: Tuple[Tuple[Arch, Tuple[Arch, ...]], ...] = (),
                 flags: Tuple[str, ...] = (), listener_path: str = "",
                 listener_metadata: str = "", comment: str = "",
                 caps: Optional[FrozenSet[str]] = None) -> None:
        _set(self, "default_action", default_action)
        _set(self, "rules", rules)
        _set(self, "architectures", architectures)
        _set(self, "arch_map", arch_map)
        _set(self, "flags", flags)
        _set(self, "listener_path", listener_path)
        _set(self, "listener_metadata", listener_metadata)
        _set(self, "comment", comment)
        _set(self, "caps", caps)

    @property
    def resolved(self) -> bool:
        """True when nothing target-dependent is left (no archMap, includes or excludes)."""
        return not self.arch_map and not any(r.includes or r.excludes for r in self.rules)

    def resolve(self, *, arch: Union[Arch, str, int, None] = None,
                caps: Optional[Iterable[str]] = None,
                kernel: Union[str, Tuple[int, ...], None] = None) -> "Profile":
        """The profile for one target, as a plain OCI profile.

        *arch* defaults to the native architecture. *caps* defaults to the profile's own
        `caps` (from an OCI config.json) and otherwise to `CONTAINER_CAPS`, an unprivileged
        container's set, whoever runs this: pass ``host_caps()`` to resolve for this process's
        own capabilities. *kernel* (``"5.8"`` or ``(5, 8)``) defaults to the running kernel.
        ``archMap`` becomes ``architectures`` (the target and its sub-architectures), and
        entries whose ``includes``/``excludes`` rule them out are dropped."""
        target = _target(arch)
        if caps is not None:
            capset = parse_caps(caps)
        else:
            capset = CONTAINER_CAPS if self.caps is None else self.caps
        kver = host_kernel() if kernel is None else _kernel_version(kernel, "kernel")
        arches = self.architectures
        if self.arch_map:
            arches = ()
            for main, subs in self.arch_map:
                if main == target:
                    arches = (main,) + subs
                    break
        rules = tuple(r._replace(includes=_NO_MATCH, excludes=_NO_MATCH)
                      for r in self.rules if r.applies(target, capset, kver))
        return self._replace(rules=rules, architectures=arches, arch_map=())

    def with_rule(self, names: Iterable[str], action: Action) -> "Profile":
        """A copy where *names* (syscalls or ``@groups``) get *action* unconditionally,
        replacing whatever the profile said about them."""
        wanted = set(expand(list(names)))
        kept: List[Rule] = []
        for r in self.rules:
            left = tuple(n for n in r.names if n not in wanted)
            if left:
                kept.append(r._replace(names=left) if len(left) != len(r.names) else r)
        kept.append(Rule(tuple(sorted(wanted)), Action(action), comment="added by the caller"))
        return self._replace(rules=tuple(kept))

    def compile(self, *, arch: Union[Arch, str, int, None] = None,
                caps: Optional[Iterable[str]] = None,
                kernel: Union[str, Tuple[int, ...], None] = None,
                no_new_privs: bool = True, enosys: bool = True,
                strict: bool = False) -> "ProfileFilter":
        """Resolve the profile for a target (see `resolve`) and build the `seccomp.Filter`.

        Follows the container runtimes: a rule whose action is the default action is
        skipped; when several conditions of a rule test the same argument, each condition
        becomes a rule of its own (they are alternatives); profiles of
        ``BINARY_TREE_THRESHOLD`` or more syscalls use the binary-tree optimisation. The
        filter sets no_new_privs on load unless *no_new_privs* is False.

        Syscalls the profile does not know fail with ENOSYS, as under runc and crun, so that C
        libraries fall back to older syscalls (`seccomp.bpf.enosys`): without *kernel*, those
        numbered above every syscall the profile names; with *kernel*, those that kernel
        lacks (a syscall it has gets the profile's answer). *enosys* False leaves
        libseccomp's program as it is.

        Syscall names this libseccomp does not know are resolved from the package's table of
        newer syscalls (`seccomp.profile.newer_syscalls`) on the native architecture; where
        that is not possible they are skipped and listed in the filter's
        ``skipped_syscalls``. Skipping a rule stricter than the default action (a deny rule
        in an allow-by-default profile) would weaken the filter: it is warned about every
        time (`SkippedSyscallWarning`), and refused with a `ProfileError` when *strict*."""
        target = _target(arch)
        prof = self if self.resolved else self.resolve(arch=target, caps=caps, kernel=kernel)
        from .build import build
        kver = None if kernel is None else _kernel_version(kernel, "kernel")
        return build(prof, target, no_new_privs, kver, enosys, strict)


    # -- writing ----------------------------------------------------------------------------

    def to_dict(self, oci: bool = False) -> Dict[str, Any]:
        """The profile as JSON data, every field it has (the Docker format when it uses
        Docker's additions). With *oci*, only the OCI runtime-spec's fields: the profile must
        be `resolved` first, and comments are left out."""
        if oci and not self.resolved:
            raise InvalidArgumentError(_errno.EINVAL, "only a resolved profile can be written "
                                                      "as OCI JSON: call resolve() first")
        out: Dict[str, Any] = {}
        if self.comment and not oci:
            out["comment"] = self.comment
        out.update(_action_to_dict(self.default_action, "defaultErrnoRet"))
        if self.architectures:
            out["architectures"] = [_oci_arch(a) for a in self.architectures]
        if self.arch_map:
            out["archMap"] = [{"architecture": _oci_arch(a),
                               "subArchitectures": [_oci_arch(s) for s in subs]}
                              for a, subs in self.arch_map]
        if self.flags:
            out["flags"] = list(self.flags)
        if self.listener_path:
            out["listenerPath"] = self.listener_path
        if self.listener_metadata:
            out["listenerMetadata"] = self.listener_metadata
        out["syscalls"] = [r.to_dict(oci=oci) for r in self.rules]
        return out

    def to_json(self, oci: bool = False, indent: Optional[int] = 2) -> str:
        """The profile as JSON text (see `to_dict`), as ``json.dumps`` writes it."""
        return dumps(self.to_dict(oci=oci), indent=indent) + "\n"


def _target(arch: Union[Arch, str, int, None]) -> Arch:
    """The architecture to build for: the one given, else the native one."""
    if arch is None:
        return Arch.native()
    return Arch(arch).resolved


def _oci_arch(arch: Arch) -> str:
    return "SCMP_ARCH_" + str(arch).upper()

