"""OCI bundles: a profile written into ``config.json`` (``linux.seccomp``) for a runtime, the
process's capabilities read from it, and what a given runtime would refuse::

    written = write_bundle("bundle/", profile.load("default"), runtime="runc")
    prof = bundle_profile("bundle/")          # ProfileError when it has no linux.seccomp

The profile is resolved for the capabilities the bundle gives its process
(``process.capabilities.bounding``, what Docker and Podman resolve ``includes.caps`` against)
and the target architecture, then written as OCI JSON. Fields the target runtime rejects are
dropped with a warning: runc before 1.2 refuses any ``flags``; runc 1.2 does not implement
SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV. The runtime applies its own ENOSYS handling (runc's
patchbpf, crun's equivalent) to what it loads.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import warnings
from typing import Any, Dict, FrozenSet, Iterable, List, Mapping, Optional, Tuple, Union

from .._enums import Arch
from .._errors import RuntimeFieldWarning
from .errors import ProfileError
from .host import parse_caps
from .model import Profile

__all__ = ["read_config", "bundle_caps", "bundle_profile", "write_bundle", "rejected_fields",
           "runtime_version", "RuntimeFieldWarning"]

PathLike = Union[str, "os.PathLike[str]"]


def _config_path(bundle: PathLike) -> str:
    path = os.fspath(bundle)
    return os.path.join(path, "config.json") if os.path.isdir(path) else path


def read_config(bundle: PathLike) -> Dict[str, Any]:
    """The ``config.json`` of *bundle* (the bundle's directory or the file itself)."""
    from .parse import MAX_PROFILE_BYTES

    path = _config_path(bundle)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_PROFILE_BYTES + 1)  # bounded: /dev/zero or a pipe never ends
    except OSError as exc:
        raise ProfileError("", "cannot read %s: %s" % (path, exc.strerror)) from None
    if len(raw) > MAX_PROFILE_BYTES:
        raise ProfileError(path, "larger than %d MiB: not an OCI config.json"
                                 % (MAX_PROFILE_BYTES >> 20))
    try:
        data = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise ProfileError(path, "invalid JSON at line %d column %d: %s"
                                 % (exc.lineno, exc.colno, exc.msg)) from None
    except RecursionError:
        raise ProfileError(path, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise ProfileError(path, "invalid JSON: %s" % exc) from None
    if not isinstance(data, dict):
        raise ProfileError(path, "an OCI config.json is a JSON object")
    if "defaultAction" in data:  # write_bundle would add "linux" to someone's profile
        raise ProfileError(path, "this is a seccomp profile, not an OCI config.json (a "
                                 "bundle's config.json has the profile in linux.seccomp)")
    return data


def bundle_caps(config: Mapping[str, Any]) -> FrozenSet[str]:
    """The capabilities an OCI config gives its process: ``process.capabilities.bounding``
    (no ``capabilities``: none), as `seccomp.profile.load` reads them from a config."""
    from .parse import _config_caps
    return _config_caps(config)


def bundle_profile(bundle: Union[PathLike, Mapping[str, Any]]) -> Profile:
    """The profile in a bundle's ``linux.seccomp``; ProfileError naming the file when there is
    none (the container would run without a seccomp filter)."""
    from .parse import load
    config = bundle if isinstance(bundle, Mapping) else read_config(bundle)
    linux = config.get("linux")
    if not isinstance(linux, Mapping) or linux.get("seccomp") is None:
        where = "config.json" if isinstance(bundle, Mapping) else _config_path(bundle)
        raise ProfileError("linux.seccomp", "%s has no linux.seccomp: its container runs "
                                            "without a seccomp filter" % where)
    return load(config)


_VERSION = re.compile(r"(\d+)\.(\d+)")


def runtime_version(runtime: str) -> Optional[Tuple[int, int]]:
    """The (major, minor) version that ``RUNTIME --version`` reports, None when it cannot be
    run."""
    try:
        out = subprocess.run([runtime, "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = _VERSION.search(out)
    return (int(m.group(1)), int(m.group(2))) if m else None


def rejected_fields(seccomp: Mapping[str, Any], runtime: str,
                    version: Optional[Tuple[int, int]] = None) -> List[Tuple[str, str]]:
    """The fields of an OCI ``linux.seccomp`` object that *runtime* (``runc``, ``crun``; a
    path to one works too) at *version* would reject, as (place, reason) pairs. Without a
    version, the runtime is asked (``--version``); an unknown runtime rejects nothing known."""
    name = os.path.basename(runtime)
    if version is None:
        version = runtime_version(runtime)
    out: List[Tuple[str, str]] = []
    flags = list(seccomp.get("flags") or [])
    if name == "runc":
        if version is None or version < (1, 2):
            if flags:
                out.append(("flags", "runc %s rejects seccomp flags (supported from 1.2)"
                            % ("%d.%d" % version if version else "before 1.2")))
        else:
            for i, flag in enumerate(flags):
                if flag == "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV":
                    out.append(("flags[%d]" % i, "runc %d.%d does not implement %s"
                                % (version + (flag,))))
    return out


def _drop(seccomp: Dict[str, Any], rejected: List[Tuple[str, str]]) -> None:
    drop_flags = set()
    for place, _ in rejected:
        if place == "flags":
            seccomp.pop("flags", None)
        elif place.startswith("flags["):
            drop_flags.add(int(place[6:-1]))
    if drop_flags and "flags" in seccomp:
        kept = [f for i, f in enumerate(seccomp["flags"]) if i not in drop_flags]
        if kept:
            seccomp["flags"] = kept
        else:
            del seccomp["flags"]


def write_bundle(bundle: PathLike, profile: Optional[Profile], *,
                 runtime: Optional[str] = None,
                 runtime_version: Optional[Tuple[int, int]] = None,
                 arch: Union[Arch, str, int, None] = None,
                 caps: Optional[Iterable[str]] = None,
                 kernel: Union[str, Tuple[int, ...], None] = None) -> Optional[Dict[str, Any]]:
    """Write *profile* into the bundle's ``config.json`` as ``linux.seccomp`` and return what
    was written (None: *profile* None, which removes ``linux.seccomp``: unconfined).

    The profile is resolved for *caps* (default: the bundle's `bundle_caps`), *arch* (default:
    this machine's) and *kernel* (default: the running one). With *runtime*, fields it rejects
    (see `rejected_fields`) are left out, each with a `RuntimeFieldWarning`. The rest of the
    file is kept as it was."""
    path = _config_path(bundle)
    config = read_config(path)
    linux = config.setdefault("linux", {})
    if not isinstance(linux, dict):
        raise ProfileError("linux", "expected an object")
    if profile is None:
        linux.pop("seccomp", None)
        seccomp: Optional[Dict[str, Any]] = None
    else:
        capset = bundle_caps(config) if caps is None else parse_caps(list(caps))
        resolved = profile.resolve(arch=arch, caps=capset, kernel=kernel)
        seccomp = resolved.to_dict(oci=True)
        if runtime is not None:
            rejected = rejected_fields(seccomp, runtime, runtime_version)
            for place, reason in rejected:
                warnings.warn("linux.seccomp.%s left out: %s" % (place, reason),
                              RuntimeFieldWarning, stacklevel=2)
            _drop(seccomp, rejected)
        linux["seccomp"] = seccomp
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(config, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)
    return seccomp
