"""Reading profiles: from a built-in name, a path, JSON text or a dict, validated field by
field into a `Profile`."""
from __future__ import annotations

import errno as _errno
import os
from collections.abc import Mapping

from .._core import InvalidArgumentError
from .._enums import LARGEST_ERRNO, Action, Arch
from .errors import _U64, ProfileError, _join, _json_type, _list, _string, _uint
from .host import CAPABILITIES, _kernel_version, unknown_capability
from .model import ACTIONS, _OPS, FLAGS, Arg, Match, Profile, Rule

__all__ = ["load", "builtin_profiles", "parse_errno"]

_HERE = os.path.dirname(os.path.abspath(__file__))
# json and re load when a profile is read (most of a profile's import cost otherwise; building
# one, as `seccomp record` does, needs neither)
_NAME_MATCH: Any = None

_NO_MATCH = Match()
_CAP_SET = frozenset(CAPABILITIES)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, FrozenSet, Optional, Set, Tuple, Union

    Source = Union[str, bytes, "os.PathLike[str]", Mapping[str, Any]]


def builtin_profiles() -> Tuple[str, ...]:
    """The names of the built-in profiles."""
    return tuple(sorted(n[:-5] for n in os.listdir(_HERE) if n.endswith(".json")))


def load(source: Source, *, name: Optional[str] = None) -> Profile:
    """Read and validate a profile.

    *source* is one of:

    - the name of a built-in profile (``"default"``): a bare name always means a built-in
      profile, never a file in the working directory;
    - a path: a string containing ``/`` (``"./my.json"``, ``"/etc/profile.json"``) or an
      `os.PathLike`;
    - JSON text (str or bytes, starting with ``{``) or the decoded dict; or the YAML text of
      a Kubernetes resource (below; ``---``, ``apiVersion:`` or ``kind:`` first).

    A whole OCI ``config.json`` is accepted too: its ``linux.seccomp`` is the profile and its
    ``process.capabilities.bounding`` becomes the profile's `Profile.caps`; so is a Security
    Profiles Operator ``SeccompProfile`` resource (`seccomp.profile.kubernetes`), also one of
    several: the documents of a YAML file or the items of a List (``kubectl get
    seccompprofiles -o yaml``), where *name* picks the one whose ``metadata.name`` it is."""
    if isinstance(source, Mapping):
        return _from_data(source, "profile", name)
    if isinstance(source, os.PathLike):
        path = os.fsdecode(os.fspath(source))
        return _from_data(_decode(_read(path), path), path, name)
    if isinstance(source, bytes):
        source = source.decode("utf-8", errors="replace")
    if not isinstance(source, str):
        raise TypeError("a profile is a built-in name, a path, JSON text or a dict, not %s"
                        % type(source).__name__)
    if source.lstrip().startswith(("{", "[")) or looks_like_yaml(source):  # not a path
        return loads(source, name=name)
    if "/" in source:
        return _from_data(_decode(_read(source), source), source, name)
    return _from_data(_decode(_read(_builtin_path(source)), source), source, name)


def _builtin_path(name: str) -> str:
    """The file of a built-in profile; a clear error for any other bare name."""
    if name == "unconfined":  # container.UNCONFINED: Docker's seccomp=unconfined
        raise ProfileError("", "'unconfined' means no seccomp filter at all: there is no "
                               "profile to load (test for seccomp.profile.UNCONFINED first)")
    known = builtin_profiles()
    if name in known:
        return os.path.join(_HERE, name + ".json")
    hint = ""
    if os.path.exists(name):
        hint = "; to read the file %r in this directory, name it by a path: ./%s" % (name, name)
    elif name.endswith(".json") or not name:
        hint = "; a profile file is named by a path (containing '/'), e.g. ./%s" % name
    raise ProfileError("", "no built-in profile named %r (built-in profiles: %s)%s"
                       % (name, ", ".join(known), hint))


# The largest profile read (the biggest real ones are a few hundred KiB): a bound that stops
# /dev/zero or a runaway pipe before it takes all memory.
MAX_PROFILE_BYTES = 64 << 20


def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise ProfileError("", "cannot read profile %r: %s" % (path, exc.strerror)) from None
    if len(data) > MAX_PROFILE_BYTES:
        raise ProfileError("", "profile %r is larger than %d MiB"
                           % (path, MAX_PROFILE_BYTES >> 20))
    return data.decode("utf-8", errors="replace")


def loads(text: str, origin: str = "profile", *, name: Optional[str] = None) -> Profile:
    """A profile from its JSON (or Kubernetes YAML) *text*, read from *origin* (the path that
    errors name): for a caller that has read the file already, as a pipe (``<(...)``,
    /dev/stdin) cannot be read a second time. *name*: as for `load`."""
    return _from_data(_decode(text, origin), origin, name)


def _names_match(text: str) -> bool:
    """Whether *text* is syscall names ([A-Za-z0-9_]+), comma-separated."""
    global _NAME_MATCH
    if _NAME_MATCH is None:
        import re

        _NAME_MATCH = re.compile(r"[A-Za-z0-9_]+(?:,[A-Za-z0-9_]+)*\Z").match
    return _NAME_MATCH(text) is not None


def _decode(text: str, origin: str) -> Any:
    import json

    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if looks_like_yaml(text) or origin.lower().endswith((".yaml", ".yml")):
            return _yaml_document(text, origin)
        raise ProfileError(origin, "invalid JSON at line %d column %d: %s"
                           % (exc.lineno, exc.colno, exc.msg)) from None
    except RecursionError:
        raise ProfileError(origin, "invalid profile: JSON nested too deeply") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise ProfileError(origin, "invalid JSON: %s" % exc) from None


def looks_like_yaml(text: str) -> bool:
    """Whether *text* is a YAML document rather than JSON (Kubernetes manifests such as the
    Security Profiles Operator's ``SeccompProfile``: ``---`` or ``key: value`` first)."""
    for line in text.splitlines():
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        return s == "---" or s.startswith("apiVersion:") or s.startswith("kind:")
    return False


def _yaml_document(text: str, origin: str) -> Any:
    """The one document (or the one ``SeccompProfile`` among several) of YAML *text*."""
    try:
        import yaml
    except ImportError:
        raise ProfileError(origin, "a YAML document (a Kubernetes SeccompProfile resource?): "
                                   "reading YAML needs PyYAML (pip install pyyaml); or give "
                                   "it as JSON") from None
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise ProfileError(origin, "invalid YAML: %s" % " ".join(str(exc).split())) from None
    if len(docs) == 1:
        return docs[0]
    return {"kind": _DOCUMENTS, "items": docs}  # picked from by _from_data


# The kind _yaml_document gives the documents of a YAML file that has several.
_DOCUMENTS = "YAML documents"


def _one_resource(data: "Mapping[str, Any]", origin: str, name: Optional[str]) -> Any:
    """The ``SeccompProfile`` named *name* (or the only one) among the items of *data*: a
    List, or the documents of a YAML file."""
    profiles = [d for d in data["items"]
                if isinstance(d, Mapping) and d.get("kind") == "SeccompProfile"]
    names = [str((d.get("metadata") or {}).get("name")) for d in profiles]
    where = "one YAML file" if data["kind"] == _DOCUMENTS else "a %s" % data["kind"]
    if name is not None:
        if name in names:
            return profiles[names.index(name)]
        raise ProfileError(origin, "no SeccompProfile resource named %r in %s (it has: %s)"
                           % (name, where, ", ".join(names) or "none"))
    if len(profiles) == 1:
        return profiles[0]
    raise ProfileError(origin, "%d SeccompProfile resources in %s (%s): choose one by its "
                               "name (--thread NAME)" % (len(profiles), where,
                                                         ", ".join(names) or "none"))


# The fields that mark a whole OCI config.json (as opposed to a profile).
_CONFIG_KEYS = ("ociVersion", "linux", "process", "root")


def _from_data(data: Any, origin: str, name: Optional[str] = None) -> Profile:
    if isinstance(data, Mapping) and str(data.get("kind")).endswith(("List", _DOCUMENTS)) \
            and isinstance(data.get("items"), list):  # kubectl get seccompprofiles -o yaml
        data = _one_resource(data, origin, name)
    elif name is not None:
        meta = data.get("metadata") if isinstance(data, Mapping) else None
        if not isinstance(data, Mapping) or data.get("kind") != "SeccompProfile":
            raise ProfileError(origin, "%r names one of several SeccompProfile resources; %s "
                                       "is a single profile"
                               % (name, "this" if origin == "profile" else origin))
        if not isinstance(meta, Mapping) or meta.get("name") != name:
            raise ProfileError(origin, "no SeccompProfile resource named %r (it has: %s)"
                               % (name, meta.get("name") if isinstance(meta, Mapping) else
                                  "none"))
    if not isinstance(data, Mapping) and origin != "profile":  # a file: name it
        raise ProfileError(origin, "a profile is a JSON object (or a SeccompProfile "
                                   "resource), not %s" % _json_type(data))
    if isinstance(data, Mapping) and "kind" in data and "apiVersion" in data \
            and data.get("kind") != "SeccompProfile":  # another Kubernetes object
        raise ProfileError(origin if origin != "profile" else "kind",
                           "a %s (apiVersion %s), not a SeccompProfile resource"
                           % (data.get("kind"), data.get("apiVersion")))
    if isinstance(data, Mapping) and data.get("kind") == "SeccompProfile":
        from .kubernetes import from_resource  # the Security Profiles Operator's resource
        return from_resource(data)
    if not isinstance(data, Mapping) or "defaultAction" in data or \
            not any(k in data for k in _CONFIG_KEYS):
        return _parse(data, "")
    linux = data.get("linux")
    if linux is not None and not isinstance(linux, Mapping):
        raise ProfileError("linux", "expected an object, not %s" % _json_type(linux))
    if not linux or linux.get("seccomp") is None:
        raise ProfileError("linux.seccomp", "missing: %s is an OCI config without a seccomp "
                                            "profile" % ("this" if origin == "profile" else origin))
    profile = _parse(linux["seccomp"], "linux.seccomp")
    return profile._replace(caps=_config_caps(data))


def _config_caps(config: Mapping[str, Any]) -> FrozenSet[str]:
    """An OCI config's ``process.capabilities.bounding``, the set runc, crun, Docker and
    containers/common resolve profiles for: every capability the process can ever hold (an
    exec of a file with capabilities may raise its effective set up to it). A config without
    it gives the process no capabilities, and so does this."""
    process = config.get("process")
    if process is None:
        return frozenset()
    caps = _object(process, "process", None).get("capabilities")
    if caps is None:
        return frozenset()
    bounding = _object(caps, "process.capabilities", None).get("bounding")
    place = "process.capabilities.bounding"
    return frozenset(_capability(c, "%s[%d]" % (place, i))
                     for i, c in enumerate(_list(bounding, place)))


def _capability(value: Any, place: str) -> str:
    name = _string(value, place)
    if name not in _CAP_SET:
        raise ProfileError(place, unknown_capability(name))
    return name


_TOP_KEYS = {"defaultAction", "defaultErrnoRet", "defaultErrno", "architectures", "archMap",
             "flags", "listenerPath", "listenerMetadata", "syscalls", "comment"}
_RULE_KEYS = {"name", "names", "action", "errnoRet", "errno", "args", "comment", "includes",
              "excludes"}
_ARG_KEYS = {"index", "value", "valueTwo", "op"}
_MATCH_KEYS = {"caps", "arches", "minKernel"}
_ARCHMAP_KEYS = {"architecture", "subArchitectures"}


def _object(value: Any, place: str, keys: Optional[Set[str]]) -> Mapping[str, Any]:
    """*value* checked to be an object with only *keys* (any keys when None) or comments
    (keys starting with ``_``)."""
    if type(value) is dict and (keys is None or keys.issuperset(value)):  # noqa: E721 (fast)
        return value
    if not isinstance(value, Mapping):
        raise ProfileError(place or "profile", "expected an object, not %s" % _json_type(value))
    if keys is None:
        return value
    for k in value:
        if k not in keys and not (isinstance(k, str) and k.startswith("_")):
            raise ProfileError(_join(place, str(k)), "unknown field (expected one of %s)"
                               % ", ".join(sorted(keys)))
    return value



def parse_errno(value: Union[int, str], place: str = "errno", limit: int = LARGEST_ERRNO) -> int:
    """An errno given as a number or a name (``"EPERM"``), checked to be 0-*limit* (the most
    libseccomp accepts in an ERRNO action, 4094; TRACE's message may take 16 bits)."""
    if isinstance(value, str):
        name = value.strip()
        if name.isascii() and name.isdigit():
            return _uint(int(name), place, limit)
        code = getattr(_errno, name.upper(), None)
        if not isinstance(code, int) or not name.upper().startswith("E"):
            raise ProfileError(place, "unknown errno name %r" % value)
        return code
    return _uint(value, place, limit)


_ARCH_CACHE: Dict[str, Arch] = {}


def _arch(value: Any, place: str) -> Arch:
    try:
        return _ARCH_CACHE[value]
    except (KeyError, TypeError):
        pass
    name = _string(value, place)
    try:
        arch = Arch(name)  # libseccomp's names, GOARCH's (Docker's) and other aliases
    except InvalidArgumentError:
        raise ProfileError(place, "unknown architecture %r" % name) from None
    _ARCH_CACHE[name] = arch
    return arch


def _action(obj: Mapping[str, Any], place: str, action_key: str, ret_key: str,
            name_key: str) -> Action:
    name = obj.get(action_key)
    action = ACTIONS.get(name) if type(name) is str else None  # noqa: E721
    if action is None:
        where = _join(place, action_key)
        if action_key not in obj:
            raise ProfileError(where, "missing (an action such as SCMP_ACT_ALLOW)")
        _string(name, where)
        raise ProfileError(where, "unknown action %s (expected one of %s)"
                           % (_quoted(name), ", ".join(sorted(ACTIONS))))
    code: Optional[int] = None
    ret, by_name = obj.get(ret_key), obj.get(name_key)
    if ret is None and by_name is None:
        return action
    if ret is not None:
        code = parse_errno(ret, _join(place, ret_key), 0xFFFF)  # checked below for ERRNO
    if by_name is not None:
        where = _join(place, name_key)
        named = parse_errno(_string(by_name, where), where, 0xFFFF)
        if code is not None and code != named:
            raise ProfileError(where, "%s (%d) contradicts %s %d" % (by_name, named, ret_key, code))
        code = named
    assert code is not None
    if action.kind == "ERRNO":
        if code > LARGEST_ERRNO:  # libseccomp refuses it (runc and crun cannot start the container)
            raise ProfileError(_join(place, ret_key if ret is not None else name_key),
                               "errno %d is out of range 0-%d" % (code, LARGEST_ERRNO))
        return Action.ERRNO(code)
    if action.kind == "TRACE":
        return Action.TRACE(code)
    raise ProfileError(_join(place, ret_key if ret is not None else name_key),
                       "an errno is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE, not %s"
                       % name)


def _match(value: Any, base: str, key: str) -> Match:
    place = _join(base, key)
    obj = _object(value, place, _MATCH_KEYS)
    caps = obj.get("caps")
    if type(caps) is not list or not _CAP_SET.issuperset(caps):  # noqa: E721 (fast path)
        p_caps = _join(place, "caps")
        caps = [_capability(c, "%s[%d]" % (p_caps, i)) for i, c in enumerate(_list(caps, p_caps))]
    arches = tuple(_arch(a, place + ".arches[%d]" % i)
                   for i, a in enumerate(_list(obj.get("arches"), _join(place, "arches"))))
    kernel = None
    if obj.get("minKernel") is not None:
        kernel = _kernel_version(obj["minKernel"], _join(place, "minKernel"))
    return Match(tuple(caps), arches, kernel)


def _parse_arg(value: Any, place: str) -> Arg:
    if type(value) is dict and _ARG_KEYS.issuperset(value):  # noqa: E721 (fast)
        index, op_name = value.get("index"), value.get("op")
        v1, v2 = _or(value.get("value"), 0), _or(value.get("valueTwo"), 0)
        if type(index) is int and 0 <= index <= 5 and type(op_name) is str and \
                op_name in _OPS and type(v1) is int and 0 <= v1 <= _U64 and \
                type(v2) is int and 0 <= v2 <= _U64:  # noqa: E721
            return Arg(index, v1, _OPS[op_name], v2)
    obj = _object(value, place, _ARG_KEYS)
    if "index" not in obj:
        raise ProfileError(_join(place, "index"), "missing (argument index 0-5)")
    index = _uint(obj["index"], _join(place, "index"), 5)
    if "op" not in obj:
        raise ProfileError(_join(place, "op"), "missing (an operator such as SCMP_CMP_EQ)")
    op_name = _string(obj["op"], _join(place, "op"))
    if op_name not in _OPS:
        raise ProfileError(_join(place, "op"), "unknown operator %s (expected one of %s)"
                           % (_quoted(op_name), ", ".join(_OPS)))
    value_ = _uint(_or(obj.get("value"), 0), _join(place, "value"))
    value_two = _uint(_or(obj.get("valueTwo"), 0), _join(place, "valueTwo"))
    return Arg(index, value_, _OPS[op_name], value_two)


def _parse_rule(value: Any, place: str, index: int) -> Rule:
    obj = _object(value, place, _RULE_KEYS)
    # Docker's single-name form "name" is used when set and not empty (as Go reads it).
    name = _or(obj.get("name"), "")
    if type(name) is not str:  # noqa: E721
        _string(name, _join(place, "name"))
    names = obj.get("names")
    if type(names) is not list:  # noqa: E721
        names = _list(names, _join(place, "names"))
    if name and names:
        raise ProfileError(place, "both 'name' and 'names' are set; use one of them")
    key = "names"
    if name:
        key, names = "name", [name]
    if not names:
        raise ProfileError(_join(place, "names"), "no syscall names")
    try:
        valid = _names_match(",".join(names))  # one check for the whole list
    except TypeError:
        valid = False
    if not valid:
        for i, n in enumerate(names):
            if type(n) is not str or not _names_match(n) or "," in n:  # noqa: E721
                where = _join(place, key if key == "name" else "names[%d]" % i)
                raise ProfileError(where, "invalid syscall name %r" % _string(n, where))
    action = _action(obj, place, "action", "errnoRet", "errno")
    args: Tuple[Arg, ...] = ()
    raw_args = obj.get("args")
    if raw_args is not None and raw_args != []:
        p_args = _join(place, "args")
        args = tuple(_parse_arg(a, "%s[%d]" % (p_args, i))
                     for i, a in enumerate(_list(raw_args, p_args)))
    comment = _or(obj.get("comment"), "")
    if type(comment) is not str:  # noqa: E721
        _string(comment, _join(place, "comment"))
    inc, exc = obj.get("includes"), obj.get("excludes")
    return Rule(tuple(names), action, args, comment,
                _NO_MATCH if inc is None or inc == {} else _match(inc, place, "includes"),
                _NO_MATCH if exc is None or exc == {} else _match(exc, place, "excludes"),
                index)


def _or(value: Any, default: Any) -> Any:
    """*value*, or *default* for JSON null (which Go, and so Docker, reads as "not set")."""
    return default if value is None else value


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
        if e.get("architecture") is None:
            raise ProfileError(_join(p, "architecture"), "missing (an architecture such as "
                                                         "SCMP_ARCH_X86_64)")
        main = _arch(e["architecture"], _join(p, "architecture"))
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
                               % (_quoted(fl), ", ".join(FLAGS)))
        flags.append(fl)
    p_sys = _join(place, "syscalls")
    rules = tuple(_parse_rule(r, "%s[%d]" % (p_sys, i), i)
                  for i, r in enumerate(_list(obj.get("syscalls"), p_sys)))
    listener = _string(_or(obj.get("listenerPath"), ""), _join(place, "listenerPath"))
    metadata = _string(_or(obj.get("listenerMetadata"), ""), _join(place, "listenerMetadata"))
    if metadata and not listener:
        raise ProfileError(_join(place, "listenerMetadata"), "set without listenerPath")
    comment = _string(_or(obj.get("comment"), ""), _join(place, "comment"))
    return Profile(default, rules, arches, tuple(arch_map), tuple(flags), listener, metadata,
                   comment)



def _quoted(text: object) -> str:
    """*text* as a JSON string, for messages."""
    from .._jsontext import dumps

    return dumps(text)
