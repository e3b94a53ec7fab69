"""Seccomp policies in every format, through one model.

Read a policy in any supported format, check it, compile it to a `seccomp.Filter`, or write it
in another format::

    import seccomp.policy as sp
    pol = sp.load("app.policy")                          # minijail, detected
    f = pol.compile()                                    # checked against the policy
    print(sp.dumps(pol, "seccompiler"))                  # the same policy as seccompiler JSON
    vmm = sp.load("firecracker.json", thread="vmm")      # one thread category

Formats: ``oci`` (OCI runtime-spec / Docker / Podman profiles, `seccomp.profile`), ``gosecco``
(gosecco's policy language), ``minijail`` (minijail ``.policy`` files) and ``seccompiler``
(rust-vmm seccompiler / Firecracker JSON). The model is `Policy`: per syscall an ordered list of
rules (first match wins) and a default action; see `seccomp.policy.model`.
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, Optional, Tuple, Union

from .model import Place, Policy, PolicyError, PolicyFilter, Rule, _BeyondLibseccomp

__all__ = ["FORMATS", "load", "load_all", "loads", "dumps", "detect", "read_source", "Policy",
           "Rule", "Place", "PolicyError", "PolicyFilter", "from_profile", "to_profile"]

#: The formats `load` reads and `dumps` writes.
FORMATS = ("oci", "gosecco", "minijail", "seccompiler")

# (YAML: Kubernetes manifests, read by the profile reader, which says what else it is)
_EXTENSIONS = {".policy": "minijail", ".seccomp": "gosecco", ".yaml": "oci", ".yml": "oci"}


def detect(text: str, path: str = "") -> str:
    """The format of policy *text* (from *path*'s extension where it tells)."""
    stripped = text.lstrip()
    if not stripped:  # every reader would take it as a policy with no rules: kill everything
        raise PolicyError(Place(path) if path else None, "the policy is empty")
    ext = os.path.splitext(path)[1].lower()
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if stripped.startswith(("{", "[")):
        from . import seccompiler
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return "oci"  # the profile reader says what is wrong with it
        return "seccompiler" if seccompiler.looks_like(data) else "oci"
    from ..profile.parse import looks_like_yaml
    if looks_like_yaml(text):
        return "oci"  # a Kubernetes SeccompProfile resource
    from . import gosecco, minijail
    if gosecco.looks_like(text) and not minijail.looks_like(text):
        return "gosecco"
    return "minijail"


def read_source(source: str) -> Tuple[Optional[str], str]:
    """(text, path) of a source: text itself (several lines, JSON, ``{inline}...``) or a
    path. A bare name (no '/') that is not JSON or text names a built-in profile."""
    from .gosecco import INLINE_MARKER
    if source.startswith(INLINE_MARKER):
        return source[len(INLINE_MARKER):], "<inline>"
    if "\n" in source or source.lstrip().startswith(("{", "[")):
        return source, "<text>"
    if os.sep not in source:
        return None, source  # a built-in profile name
    from ..profile.parse import MAX_PROFILE_BYTES  # the same bound as the profile reader's
    try:
        with open(source, "rb") as fh:
            data = fh.read(MAX_PROFILE_BYTES + 1)
    except OSError as exc:
        raise PolicyError(Place(source), "cannot read the policy: %s" % exc.strerror) from None
    if len(data) > MAX_PROFILE_BYTES:
        raise PolicyError(Place(source), "the policy is larger than %d MiB"
                          % (MAX_PROFILE_BYTES >> 20))
    return data.decode("utf-8", errors="replace"), source


def load_all(source: str, *, format: Optional[str] = None, **options: Any) -> Dict[str, Policy]:
    """Every filter of a policy source by name: seccompiler's thread categories, or one
    entry named "" for the single-filter formats. *format* forces one of `FORMATS`;
    *options* go to the format's reader (gosecco's settings, ``arch`` for minijail, the
    resolution target ``arch``/``caps``/``kernel`` for OCI profiles)."""
    text, path = read_source(source)
    return _load_all(text, path, source, format, options)


def _load_all(text: Optional[str], path: str, source: str, format: Optional[str],
              options: Dict[str, Any]) -> Dict[str, Policy]:
    if text is None:
        fmt = "oci"
    else:
        fmt = format or detect(text, path)
    if fmt not in FORMATS:
        raise PolicyError(None, "unknown policy format %r (expected one of %s)"
                          % (fmt, ", ".join(FORMATS)))
    try:
        return _parse(fmt, text, path, source, options)
    except RecursionError:
        raise PolicyError(Place(path), "the policy is nested too deeply") from None


def _parse(fmt: str, text: Optional[str], path: str, source: str,
           options: Dict[str, Any]) -> Dict[str, Policy]:
    if text is not None and not options:
        from . import fast
        policies = fast.read(fmt, text, path, lambda: _read(fmt, text, path, source, options))
        if policies is not None:
            return policies
    return _read(fmt, text, path, source, options)


def _read(fmt: str, text: Optional[str], path: str, source: str,
          options: Dict[str, Any]) -> Dict[str, Policy]:
    """The policies of a source by the format's own reader."""
    if fmt == "seccompiler" and text is not None:
        from . import seccompiler
        return seccompiler.parse(text, file=path)
    if fmt == "gosecco" and text is not None:
        from . import gosecco
        return {"": gosecco.parse(text, file=path, **options)}
    if fmt == "minijail" and text is not None:
        from . import minijail
        return {"": minijail.parse(text, file=path, **options)}
    from .. import profile
    from .oci import from_profile
    if text is None:
        prof = profile.load(source)
    else:  # parsed from the text read once: a pipe has nothing left to read again
        from ..profile.parse import loads as profile_loads
        prof = profile_loads(text, path if not path.startswith("<") else "profile")
    return {"": from_profile(prof, **options)}


def load(source: str, *, format: Optional[str] = None, thread: Optional[str] = None,
         **options: Any) -> Policy:
    """A policy from a path, text, ``{inline}`` text or a built-in profile name. For a
    seccompiler file *thread* names the category (required when it has several)."""
    return _choose(load_all(source, format=format, **options), thread)


def _choose(policies: Dict[str, Policy], thread: Optional[str]) -> Policy:
    """The policy of seccompiler category *thread*, or the only one."""
    if thread is not None:
        if thread not in policies:
            raise PolicyError(None, "no thread category %r (the file has: %s)"
                              % (thread, ", ".join(sorted(policies)) or "none"))
        return policies[thread]
    if len(policies) != 1:
        raise PolicyError(None, "the file has several thread categories (%s): choose one "
                                "(--thread NAME)" % ", ".join(sorted(policies)))
    return next(iter(policies.values()))


def loads(text: str, format: Optional[str] = None, *, path: str = "<inline>",
          **options: Any) -> Policy:
    """A policy from its text (see `load`); *path*: the file it was read from, for the
    format's detection and the errors (a caller that has read a pipe cannot have it read
    twice)."""
    thread = options.pop("thread", None)
    return _choose(_load_all(text, path, text, format, options), thread)


def dumps(policy: Union[Policy, Dict[str, Policy]], format: str) -> str:
    """*policy* (or seccompiler categories by name) written in *format* (one of `FORMATS`).
    gosecco, minijail and seccompiler files name no architecture (their compiler's target
    is the one): writing a policy that covers several warns, naming them."""
    if format in ("gosecco", "minijail", "seccompiler"):
        _warn_arches(policy, format)
    if format == "seccompiler":
        from . import seccompiler
        policies = policy if isinstance(policy, dict) else {policy.name or "main": policy}
        try:
            return seccompiler.dumps(policies)
        except _BeyondLibseccomp as exc:  # its conditions are libseccomp's, no more
            raise PolicyError(exc.place, "%s (seccompiler's format cannot state it)"
                              % exc.reason) from None
    if isinstance(policy, dict):
        if len(policy) != 1:
            raise PolicyError(None, "%s holds one filter; this has %d" % (format, len(policy)))
        policy = next(iter(policy.values()))
    if format == "gosecco":
        from . import gosecco
        return gosecco.dump(policy)
    if format == "minijail":
        from . import minijail
        try:
            return minijail.dump(policy)
        except _BeyondLibseccomp as exc:  # its conditions are libseccomp's, no more
            raise PolicyError(exc.place, "%s (minijail's format cannot state it)"
                              % exc.reason) from None
    if format == "oci":
        return str(to_profile(policy).to_json())
    raise PolicyError(None, "unknown policy format %r (expected one of %s)"
                      % (format, ", ".join(FORMATS)))


def _warn_arches(policy: Union[Policy, Dict[str, Policy]], format: str) -> None:
    for pol in policy.values() if isinstance(policy, dict) else (policy,):
        if len(pol.arches) > 1:
            import warnings

            warnings.warn("%s's format names no architecture: the policy covers %s, the file "
                          "only the one it is compiled for" % (
                              format, ", ".join(str(a) for a in pol.arches)), stacklevel=3)
            return


def from_profile(profile: Any, **options: Any) -> Policy:
    """A `seccomp.profile.Profile` as a policy (see `seccomp.policy.oci.from_profile`)."""
    from .oci import from_profile as convert
    return convert(profile, **options)


def to_profile(policy: Policy) -> Any:
    """A policy as a resolved `seccomp.profile.Profile`."""
    from .oci import to_profile as convert
    return convert(policy)
