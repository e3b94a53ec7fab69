"""Container seccomp profiles: read, validate, resolve, compile and write them.

Reads the OCI runtime-spec ``linux.seccomp`` object and the Docker/Podman profile format
(``archMap``, ``includes``/``excludes`` by capabilities, architectures and kernel version,
``comment``, errno names), from a path, JSON text, bytes, a dict, or the name of a built-in
profile (``"default"``)::

    profile = seccomp.profile.load("default")
    f = profile.compile(caps=seccomp.profile.CONTAINER_CAPS)   # a seccomp.Filter
    f.load()                                                   # in the child, before exec

`Profile.resolve` picks what applies to a target (architecture, capabilities, kernel) and
gives a plain OCI profile back; ``Profile.to_json(oci=True)`` writes it. `Profile.compile` builds a
`seccomp.Filter` with the semantics container runtimes (runc, crun) use: syscall names unknown
to libseccomp are skipped and reported, rules whose action is the default action are skipped,
several conditions on the same argument become separate rules (any of them matches), and the
binary-tree optimisation is used for large profiles.

Invalid profiles raise `ProfileError` (an `InvalidArgumentError`, so also a `ValueError`)
whose message names the place: ``syscalls[12].args[0].op: unknown operator "SCMP_CMP_EQQ"``.
"""
from __future__ import annotations

import errno as _errno
import json
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Set, Tuple, Union

from .._core import Cond, InvalidArgumentError, SeccompError, syscall_resolve_name
from .._enums import Action, Arch, Op
from .._filter import Filter
from .groups import GROUPS, describe, expand

__all__ = [
    "ProfileFilter",
    "load", "builtin_profiles", "Profile", "Rule", "Arg", "Match", "ProfileError",
    "CONTAINER_CAPS", "CAPABILITIES", "host_caps", "host_kernel", "parse_caps", "parse_errno",
    "GROUPS", "expand", "describe", "FLAGS",
]

_HERE = os.path.dirname(os.path.abspath(__file__))

#: Capabilities in kernel bit order (bit n of a capability mask is CAPABILITIES[n]).
CAPABILITIES: Tuple[str, ...] = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
    "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
    "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
    "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN",
    "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON",
    "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
)

#: The capabilities an unprivileged container gets by default (Docker's and Podman's set).
CONTAINER_CAPS: FrozenSet[str] = frozenset({
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID",
    "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW", "CAP_SYS_CHROOT",
    "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP",
})

# The OCI spellings of actions, operators and flags.
_ACTIONS: Dict[str, Action] = {
    "SCMP_ACT_KILL": Action.KILL_THREAD, "SCMP_ACT_KILL_THREAD": Action.KILL_THREAD,
    "SCMP_ACT_KILL_PROCESS": Action.KILL_PROCESS, "SCMP_ACT_TRAP": Action.TRAP,
    "SCMP_ACT_ERRNO": Action.ERRNO(_errno.EPERM), "SCMP_ACT_TRACE": Action.TRACE(_errno.EPERM),
    "SCMP_ACT_ALLOW": Action.ALLOW, "SCMP_ACT_LOG": Action.LOG, "SCMP_ACT_NOTIFY": Action.NOTIFY,
}
_ACTION_KIND_NAMES = {"KILL_THREAD": "SCMP_ACT_KILL_THREAD",
                      "KILL_PROCESS": "SCMP_ACT_KILL_PROCESS", "TRAP": "SCMP_ACT_TRAP", "ERRNO": "SCMP_ACT_ERRNO", "TRACE": "SCMP_ACT_TRACE",
                      "ALLOW": "SCMP_ACT_ALLOW", "LOG": "SCMP_ACT_LOG", "NOTIFY": "SCMP_ACT_NOTIFY"}
_OPS: Dict[str, Op] = {"SCMP_CMP_" + op.name: op for op in Op}
#: The OCI filter flags this module understands (seccomp(2)'s SECCOMP_FILTER_FLAG_*).
FLAGS = ("SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
         "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")

#: Profiles with at least this many syscall rules are compiled as a binary tree.
BINARY_TREE_THRESHOLD = 32

_U64 = 0xFFFFFFFFFFFFFFFF
_CAP_RE = re.compile(r"^CAP_[A-Z0-9_]+$")
_KERNEL_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?")
_NAME_MATCH = re.compile(r"[A-Za-z0-9_]+(?:,[A-Za-z0-9_]+)*\Z").match


class ProfileFilter(Filter):
    """A `seccomp.Filter` compiled from a profile.

    ``skipped_syscalls`` names the profile's syscalls that this libseccomp does not know:
    container runtimes skip them rather than fail, and so does `Profile.compile`."""

    __slots__ = ("skipped_syscalls",)

    skipped_syscalls: Tuple[str, ...]


class ProfileError(InvalidArgumentError):
    """A profile is invalid. `place` says where (``syscalls[3].args[0].op``), `reason` what."""

    def __init__(self, place: str, reason: str) -> None:
        self.place = place
        self.reason = reason
        super().__init__(_errno.EINVAL, "%s: %s" % (place, reason) if place else reason)

    def __str__(self) -> str:
        return str(self.strerror)


# ---------------------------------------------------------------------------------------------
# The model: what a profile says, checked
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Arg:
    """A condition on one syscall argument: ``op`` compares argument ``index`` with ``value``
    (for MASKED_EQ: ``arg & value == value_two``)."""

    index: int
    value: int
    op: Op
    value_two: int = 0

    def cond(self) -> Cond:
        """The `seccomp.Cond` for this condition."""
        return Cond(self.index, self.op, self.value, self.value_two)

    def to_dict(self) -> Dict[str, Any]:
        """The OCI form."""
        return {"index": self.index, "value": self.value, "valueTwo": self.value_two,
                "op": "SCMP_CMP_" + self.op.name}


@dataclass(frozen=True)
class Match:
    """Docker's ``includes``/``excludes``: capabilities, architectures, minimum kernel."""

    caps: Tuple[str, ...] = ()
    arches: Tuple[Arch, ...] = ()
    min_kernel: Optional[Tuple[int, int]] = None

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


@dataclass(frozen=True)
class Rule:
    """One ``syscalls[]`` entry: *action* for each of *names* when all *args* hold (or, when
    several conditions test the same argument, when any of them holds)."""

    names: Tuple[str, ...]
    action: Action
    args: Tuple[Arg, ...] = ()
    comment: str = ""
    includes: Match = field(default_factory=Match)
    excludes: Match = field(default_factory=Match)
    #: Where the entry came from (its index in the source's ``syscalls``), for messages.
    index: Optional[int] = field(default=None, compare=False)

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
    kind = action.kind
    name = {"ERRNO": "SCMP_ACT_ERRNO", "TRACE": "SCMP_ACT_TRACE"}.get(kind) \
        or _ACTION_KIND_NAMES[kind]
    key = "defaultAction" if errno_key == "defaultErrnoRet" else "action"
    out: Dict[str, Any] = {key: name}
    if action.data is not None:
        out[errno_key] = action.data
    return out


@dataclass(frozen=True)
class Profile:
    """A validated profile. Build it with `load`; it is immutable (``dataclasses.replace``
    makes changed copies)."""

    default_action: Action
    rules: Tuple[Rule, ...] = ()
    architectures: Tuple[Arch, ...] = ()
    #: Docker's ``archMap``: (architecture, its sub-architectures) pairs.
    arch_map: Tuple[Tuple[Arch, Tuple[Arch, ...]], ...] = ()
    flags: Tuple[str, ...] = ()
    listener_path: str = ""
    listener_metadata: str = ""
    comment: str = ""

    @property
    def resolved(self) -> bool:
        """True when nothing target-dependent is left (no archMap, includes or excludes)."""
        return not self.arch_map and not any(r.includes or r.excludes for r in self.rules)

    def resolve(self, *, arch: Union[Arch, str, int, None] = None,
                caps: Optional[Iterable[str]] = None,
                kernel: Union[str, Tuple[int, ...], None] = None) -> "Profile":
        """The profile for one target, as a plain OCI profile.

        *arch* defaults to the native architecture, *caps* to this process's effective
        capabilities (pass `CONTAINER_CAPS` for an unprivileged container), *kernel* (``"5.8"``
        or ``(5, 8)``) to the running kernel. ``archMap`` becomes ``architectures`` (the
        target and its sub-architectures), and entries whose ``includes``/``excludes`` rule
        them out are dropped."""
        target = _target(arch)
        capset = host_caps() if caps is None else parse_caps(caps)
        kver = host_kernel() if kernel is None else _kernel_version(kernel, "kernel")
        arches = self.architectures
        if self.arch_map:
            arches = ()
            for main, subs in self.arch_map:
                if main == target:
                    arches = (main,) + subs
                    break
        rules = tuple(replace(r, includes=Match(), excludes=Match())
                      for r in self.rules if r.applies(target, capset, kver))
        return replace(self, rules=rules, architectures=arches, arch_map=())

    def with_rule(self, names: Iterable[str], action: Action) -> "Profile":
        """A copy where *names* (syscalls or ``@groups``) get *action* unconditionally,
        replacing whatever the profile said about them."""
        wanted = set(expand(list(names)))
        kept: List[Rule] = []
        for r in self.rules:
            left = tuple(n for n in r.names if n not in wanted)
            if left:
                kept.append(replace(r, names=left) if len(left) != len(r.names) else r)
        kept.append(Rule(tuple(sorted(wanted)), Action(action), comment="added by the caller"))
        return replace(self, rules=tuple(kept))

    def compile(self, *, arch: Union[Arch, str, int, None] = None,
                caps: Optional[Iterable[str]] = None,
                kernel: Union[str, Tuple[int, ...], None] = None,
                no_new_privs: bool = True) -> "ProfileFilter":
        """Resolve the profile for a target (see `resolve`) and build the `seccomp.Filter`.

        Follows the container runtimes: names libseccomp does not know are skipped and listed
        in the filter's ``skipped_syscalls``; a rule whose action is the default action is
        skipped; when several conditions of a rule test the same argument, each condition
        becomes a rule of its own (they are alternatives); profiles of
        ``BINARY_TREE_THRESHOLD`` or more syscalls use the binary-tree optimisation. The
        filter sets no_new_privs on load unless *no_new_privs* is False."""
        target = _target(arch)
        prof = self if self.resolved else self.resolve(arch=target, caps=caps, kernel=kernel)
        return prof._build(target, no_new_privs)

    def _build(self, target: Arch, no_new_privs: bool) -> "ProfileFilter":
        default = self.default_action
        try:
            f = ProfileFilter(default)
        except SeccompError as exc:
            raise ProfileError("defaultAction", str(exc.strerror)) from None
        f.no_new_privs = no_new_privs
        native = Arch.native()
        if target != native:
            f.remove_arch(native)  # first: one filter cannot mix byte orders
            f.add_arch(target)
        for i, a in enumerate(self.architectures):
            try:
                f.add_arch(a)
            except SeccompError as exc:
                raise ProfileError("architectures[%d]" % i, str(exc.strerror)) from None
        for i, flag in enumerate(self.flags):
            try:
                _apply_flag(f, flag)
            except SeccompError as exc:
                raise ProfileError("flags[%d]" % i, "%s: %s" % (flag, exc.strerror)) from None
        skipped: List[str] = []
        count = sum(len(r.names) for r in self.rules if r.action != default)
        if count >= BINARY_TREE_THRESHOLD:
            f.optimize = 2
        add = f.add_rule
        for r in self.rules:
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
        """The profile as JSON text (see `to_dict`)."""
        return json.dumps(self.to_dict(oci=oci), indent=indent) + "\n"


def _target(arch: Union[Arch, str, int, None]) -> Arch:
    """The architecture to build for: the one given, else the native one."""
    if arch is None:
        return Arch.native()
    return Arch(arch).resolved


def _oci_arch(arch: Arch) -> str:
    return "SCMP_ARCH_" + str(arch).upper()


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


# ---------------------------------------------------------------------------------------------
# Reading and validating
# ---------------------------------------------------------------------------------------------

Source = Union[str, bytes, "os.PathLike[str]", Mapping[str, Any]]


def builtin_profiles() -> Tuple[str, ...]:
    """The names of the built-in profiles."""
    return tuple(sorted(n[:-5] for n in os.listdir(_HERE) if n.endswith(".json")))


def load(source: Source) -> Profile:
    """Read and validate a profile.

    *source* is a built-in profile's name (``"default"``), a path, JSON text (str or bytes) or
    the decoded dict. A whole OCI ``config.json`` is accepted too (its ``linux.seccomp``)."""
    origin = "profile"
    if isinstance(source, Mapping):
        data: Any = source
    else:
        if isinstance(source, os.PathLike):
            source = os.fspath(source)
        if isinstance(source, bytes):
            text = source.decode("utf-8", errors="replace")
        elif isinstance(source, str):
            text = source
        else:
            raise TypeError("a profile is a name, path, JSON text or dict, not %s"
                            % type(source).__name__)
        if not text.lstrip().startswith(("{", "[")):
            path = text
            if os.sep not in path and not os.path.exists(path):
                builtin = os.path.join(_HERE, path + ".json")
                if not os.path.exists(builtin):
                    raise ProfileError("", "no profile file or built-in profile named %r "
                                           "(built-in: %s)" % (path, ", ".join(builtin_profiles())))
                path = builtin
            try:
                with open(path, "rb") as fh:
                    text = fh.read().decode("utf-8", errors="replace")
            except OSError as exc:
                raise ProfileError("", "cannot read profile %r: %s"
                                   % (path, exc.strerror)) from None
            origin = path
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(origin, "invalid JSON at line %d column %d: %s"
                               % (exc.lineno, exc.colno, exc.msg)) from None
    if isinstance(data, Mapping) and "defaultAction" not in data and \
            isinstance(data.get("linux"), Mapping) and "seccomp" in data["linux"]:
        return _parse(data["linux"]["seccomp"], "linux.seccomp")
    return _parse(data, "")


_TOP_KEYS = {"defaultAction", "defaultErrnoRet", "defaultErrno", "architectures", "archMap",
             "flags", "listenerPath", "listenerMetadata", "syscalls", "comment"}
_RULE_KEYS = {"name", "names", "action", "errnoRet", "errno", "args", "comment", "includes",
              "excludes"}
_ARG_KEYS = {"index", "value", "valueTwo", "op"}
_MATCH_KEYS = {"caps", "arches", "minKernel"}
_ARCHMAP_KEYS = {"architecture", "subArchitectures"}


def _join(base: str, key: str) -> str:
    if key.startswith("["):
        return base + key
    return "%s.%s" % (base, key) if base else key


def _object(value: Any, place: str, keys: Set[str]) -> Mapping[str, Any]:
    if type(value) is dict and keys.issuperset(value):  # noqa: E721  (the common case, fast)
        return value
    if not isinstance(value, Mapping):
        raise ProfileError(place or "profile", "expected an object, not %s" % _json_type(value))
    for k in value:
        if k not in keys and not (isinstance(k, str) and k.startswith("_")):
            raise ProfileError(_join(place, str(k)), "unknown field (expected one of %s)"
                               % ", ".join(sorted(keys)))
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array", dict: "an object"}.get(type(value), type(value).__name__)


def _list(value: Any, place: str) -> List[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProfileError(place, "expected an array, not %s" % _json_type(value))
    return value


def _string(value: Any, place: str) -> str:
    if not isinstance(value, str):
        raise ProfileError(place, "expected a string, not %s" % _json_type(value))
    return value


def _uint(value: Any, place: str, limit: int = _U64) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProfileError(place, "expected a number, not %s" % _json_type(value))
    if not 0 <= value <= limit:
        raise ProfileError(place, "%d is out of range 0..%d" % (value, limit))
    return value


def parse_errno(value: Union[int, str], place: str = "errno") -> int:
    """An errno given as a number or a name (``"EPERM"``), checked to be 0-65535."""
    if isinstance(value, str):
        name = value.strip()
        if name.isdigit():
            return _uint(int(name), place, 0xFFFF)
        code = getattr(_errno, name.upper(), None)
        if not isinstance(code, int) or not name.upper().startswith("E"):
            raise ProfileError(place, "unknown errno name %r" % value)
        return code
    return _uint(value, place, 0xFFFF)


_ARCH_CACHE: Dict[str, Arch] = {}
# Go's names (which Docker uses in includes/excludes) that libseccomp's aliases lack.
_GO_ARCH = {"386": "x86", "mips64le": "mipsel64", "mipsle": "mipsel", "mips64p32": "mips64n32",
            "mips64p32le": "mipsel64n32"}


def _arch(value: Any, place: str) -> Arch:
    try:
        return _ARCH_CACHE[value]
    except (KeyError, TypeError):
        pass
    name = _string(value, place)
    try:
        arch = Arch(_GO_ARCH.get(name, name))
    except InvalidArgumentError:
        raise ProfileError(place, "unknown architecture %r" % name) from None
    _ARCH_CACHE[name] = arch
    return arch


def _action(obj: Mapping[str, Any], place: str, action_key: str, ret_key: str,
            name_key: str) -> Action:
    name = obj.get(action_key)
    action = _ACTIONS.get(name) if type(name) is str else None  # noqa: E721
    if action is None:
        where = _join(place, action_key)
        if action_key not in obj:
            raise ProfileError(where, "missing (an action such as SCMP_ACT_ALLOW)")
        _string(name, where)
        raise ProfileError(where, "unknown action %s (expected one of %s)"
                           % (json.dumps(name), ", ".join(sorted(_ACTIONS))))
    code: Optional[int] = None
    ret, by_name = obj.get(ret_key), obj.get(name_key)
    if ret is None and by_name is None:
        return action
    if ret is not None:
        code = parse_errno(ret, _join(place, ret_key))
    if by_name is not None:
        where = _join(place, name_key)
        named = parse_errno(_string(by_name, where), where)
        if code is not None and code != named:
            raise ProfileError(where, "%s (%d) contradicts %s %d" % (by_name, named, ret_key, code))
        code = named
    assert code is not None
    if action.kind == "ERRNO":
        return Action.ERRNO(code)
    if action.kind == "TRACE":
        return Action.TRACE(code)
    raise ProfileError(_join(place, ret_key if ret is not None else name_key),
                       "an errno is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s"
                       % name)


def _kernel_version(value: Any, place: str) -> Tuple[int, int]:
    if isinstance(value, tuple) and len(value) >= 2 and all(isinstance(v, int) for v in value):
        return (value[0], value[1])
    text = _string(value, place)
    m = _KERNEL_RE.match(text.strip())
    if not m or (place != "kernel" and m.end() != len(text.strip())):
        raise ProfileError(place, "invalid kernel version %r (expected \"MAJOR.MINOR\")" % text)
    return (int(m.group(1)), int(m.group(2)))


def _match(value: Any, base: str, key: str) -> Match:
    place = _join(base, key)
    obj = _object(value, place, _MATCH_KEYS)
    caps = obj.get("caps") or []
    if type(caps) is not list or not all(  # noqa: E721
            type(c) is str and _CAP_RE.match(c) for c in caps):  # noqa: E721
        for i, c in enumerate(_list(caps, _join(place, "caps"))):
            p = _join(place, "caps[%d]" % i)
            if not _CAP_RE.match(_string(c, p)):
                raise ProfileError(p, "invalid capability %r (expected CAP_NAME)" % c)
    arches = tuple(_arch(a, place + ".arches[%d]" % i)
                   for i, a in enumerate(_list(obj.get("arches"), _join(place, "arches"))))
    kernel = None
    if obj.get("minKernel") not in (None, ""):
        kernel = _kernel_version(obj["minKernel"], _join(place, "minKernel"))
    return Match(tuple(caps), arches, kernel)


def _parse_arg(value: Any, place: str) -> Arg:
    obj = _object(value, place, _ARG_KEYS)
    if "index" not in obj:
        raise ProfileError(_join(place, "index"), "missing (argument index 0-5)")
    index = _uint(obj["index"], _join(place, "index"), 5)
    if "op" not in obj:
        raise ProfileError(_join(place, "op"), "missing (an operator such as SCMP_CMP_EQ)")
    op_name = _string(obj["op"], _join(place, "op"))
    if op_name not in _OPS:
        raise ProfileError(_join(place, "op"), "unknown operator %s (expected one of %s)"
                           % (json.dumps(op_name), ", ".join(_OPS)))
    value_ = _uint(obj.get("value", 0), _join(place, "value"))
    value_two = _uint(obj.get("valueTwo", 0) or 0, _join(place, "valueTwo"))
    return Arg(index, value_, _OPS[op_name], value_two)


def _parse_rule(value: Any, place: str, index: int) -> Rule:
    obj = _object(value, place, _RULE_KEYS)
    name, names = obj.get("name"), obj.get("names")
    if name and names:
        raise ProfileError(place, "both 'name' and 'names' are set; use one of them")
    key = "names"
    if name:
        key, names = "name", [_string(name, _join(place, "name"))]
    elif type(names) is not list:  # noqa: E721
        names = _list(names, _join(place, "names"))
    if not names:
        raise ProfileError(_join(place, "names"), "no syscall names")
    try:
        valid = _NAME_MATCH(",".join(names)) is not None  # one check for the whole list
    except TypeError:
        valid = False
    if not valid:
        for i, n in enumerate(names):
            if type(n) is not str or not _NAME_MATCH(n) or "," in n:  # noqa: E721
                where = _join(place, key if key == "name" else "names[%d]" % i)
                raise ProfileError(where, "invalid syscall name %r" % _string(n, where))
    action = _action(obj, place, "action", "errnoRet", "errno")
    args: Tuple[Arg, ...] = ()
    if obj.get("args"):
        args = tuple(_parse_arg(a, _join(place, "args[%d]" % i))
                     for i, a in enumerate(_list(obj["args"], _join(place, "args"))))
    comment = obj.get("comment") or ""
    if type(comment) is not str:  # noqa: E721
        _string(comment, _join(place, "comment"))
    inc, exc = obj.get("includes"), obj.get("excludes")
    return Rule(tuple(names), action, args, comment,
                _NO_MATCH if inc is None or inc == {} else _match(inc, place, "includes"),
                _NO_MATCH if exc is None or exc == {} else _match(exc, place, "excludes"),
                index)


def _parse(data: Any, place: str) -> Profile:
    obj = _object(data, place, _TOP_KEYS)
    default = _action(obj, place, "defaultAction", "defaultErrnoRet", "defaultErrno")
    if obj.get("architectures") and obj.get("archMap"):
        raise ProfileError(place or "profile", "both 'architectures' and 'archMap' are set; "
                                               "use one of them")
    p_arch = _join(place, "architectures")
    arches = tuple(_arch(a, "%s[%d]" % (p_arch, i))
                   for i, a in enumerate(_list(obj.get("architectures"), p_arch)))
    arch_map = []
    p_map = _join(place, "archMap")
    for i, entry in enumerate(_list(obj.get("archMap"), p_map)):
        p = "%s[%d]" % (p_map, i)
        e = _object(entry, p, _ARCHMAP_KEYS)
        main = _arch(e.get("architecture"), _join(p, "architecture"))
        subs = tuple(_arch(s, _join(p, "subArchitectures[%d]" % j))
                     for j, s in enumerate(_list(e.get("subArchitectures"),
                                                 _join(p, "subArchitectures"))))
        arch_map.append((main, subs))
    flags = []
    p_flags = _join(place, "flags")
    for i, fl in enumerate(_list(obj.get("flags"), p_flags)):
        fl = _string(fl, "%s[%d]" % (p_flags, i))
        if fl not in FLAGS:
            raise ProfileError("%s[%d]" % (p_flags, i), "unknown flag %s (expected one of %s)"
                               % (json.dumps(fl), ", ".join(FLAGS)))
        flags.append(fl)
    p_sys = _join(place, "syscalls")
    rules = tuple(_parse_rule(r, "%s[%d]" % (p_sys, i), i)
                  for i, r in enumerate(_list(obj.get("syscalls"), p_sys)))
    listener = _string(obj.get("listenerPath") or "", _join(place, "listenerPath"))
    metadata = _string(obj.get("listenerMetadata") or "", _join(place, "listenerMetadata"))
    if metadata and not listener:
        raise ProfileError(_join(place, "listenerMetadata"), "set without listenerPath")
    comment = _string(obj.get("comment") or "", _join(place, "comment"))
    return Profile(default, rules, arches, tuple(arch_map), tuple(flags), listener, metadata,
                   comment)


# ---------------------------------------------------------------------------------------------
# The host
# ---------------------------------------------------------------------------------------------

def parse_caps(caps: Iterable[str]) -> FrozenSet[str]:
    """Capability names normalised to ``CAP_SYS_ADMIN`` form (``sys_admin`` is accepted);
    ``ALL`` stands for every capability. Unknown names raise InvalidArgumentError."""
    if isinstance(caps, str):
        caps = (caps,)
    out: Set[str] = set()
    for c in caps:
        name = c.strip().upper()
        if name == "ALL":
            out.update(CAPABILITIES)
            continue
        if not name.startswith("CAP_"):
            name = "CAP_" + name
        if name not in CAPABILITIES and not _CAP_RE.match(name):
            raise InvalidArgumentError(_errno.EINVAL, "unknown capability %r" % (c,))
        out.add(name)
    return frozenset(out)


def host_caps() -> FrozenSet[str]:
    """This process's effective capabilities (from /proc/self/status)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    mask = int(line.split()[1], 16)
                    return frozenset(c for i, c in enumerate(CAPABILITIES) if mask >> i & 1)
    except OSError:
        pass
    return frozenset()


def host_kernel() -> Tuple[int, int]:
    """The running kernel's (major, minor) version."""
    return _kernel_version(os.uname().release, "kernel")
