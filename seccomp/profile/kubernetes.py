"""Profiles for Kubernetes nodes: kubelet "localhost" profile files and the Security Profiles
Operator's ``SeccompProfile`` resource, written and read back.

A pod names a localhost profile by its path under the kubelet's seccomp root
(``securityContext.seccompProfile: {type: Localhost, localhostProfile: profiles/app.json}``);
the file holds a profile in the OCI JSON form, which every CRI runtime reads. The operator's
resource (``security-profiles-operator.x-k8s.io``, kind ``SeccompProfile``) carries the same
fields in its ``spec``, and the operator installs it on each node as
``operator/NAMESPACE/NAME.json`` under that root::

    path, context = write_localhost(profile.load("default"), "profiles/app.json", root=tmp)
    resource = to_resource(profile.load("default"), "app", namespace="prod")
    again = from_resource(resource)
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple, Union

from .._enums import Arch
from .errors import ProfileError
from .model import Profile

__all__ = ["KUBELET_SECCOMP_ROOT", "SPO_API_VERSION", "SPO_API_VERSIONS", "to_localhost",
           "write_localhost", "read_localhost", "security_context", "to_resource",
           "from_resource", "resource_localhost_profile"]

#: Where the kubelet looks for localhost profiles.
KUBELET_SECCOMP_ROOT = "/var/lib/kubelet/seccomp"
#: The operator's API version written; every version below is read.
SPO_API_VERSION = "security-profiles-operator.x-k8s.io/v1beta1"
SPO_API_VERSIONS = ("security-profiles-operator.x-k8s.io/v1alpha1", SPO_API_VERSION,
                    "security-profiles-operator.x-k8s.io/v1")
_KIND = "SeccompProfile"
# A Kubernetes object name: a DNS subdomain (RFC 1123).
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# The fields of the resource's spec: the OCI profile's, without defaultErrnoRet, plus the base
# and whether the operator installs it: ``disabled`` (a bool, 2023-2026), then ``state``
# (Enabled or Disabled; the API server fills in Enabled, so resources read back have it).
_SPEC_KEYS = {"baseProfileName", "defaultAction", "architectures", "listenerPath",
              "listenerMetadata", "syscalls", "flags", "disabled", "state"}
_STATES = ("Enabled", "Disabled")

ArchLike = Union[Arch, str, int, None]


def _resolved(profile: Profile, arch: ArchLike, caps: Optional[Iterable[str]],
              kernel: Union[str, Tuple[int, ...], None]) -> Profile:
    if profile.resolved and arch is None and caps is None and kernel is None:
        return profile
    return profile.resolve(arch=arch, caps=caps, kernel=kernel)


# ---------------------------------------------------------------------------------------------
# kubelet localhost profiles
# ---------------------------------------------------------------------------------------------

def to_localhost(profile: Profile, *, arch: ArchLike = None, caps: Optional[Iterable[str]] = None,
                 kernel: Union[str, Tuple[int, ...], None] = None) -> str:
    """The text of a localhost profile file: *profile* resolved for the node (see
    `Profile.resolve`; a resolved profile is written as it is) in the OCI JSON form."""
    return _resolved(profile, arch, caps, kernel).to_json(oci=True)


def _localhost_path(root: str, relative: str) -> str:
    if not relative or os.path.isabs(relative) or ".." in relative.split("/"):
        raise ProfileError("localhostProfile", "%r is not a path inside the kubelet's seccomp "
                                               "root (relative, without '..')" % relative)
    return os.path.join(root, relative)


def security_context(localhost_profile: str) -> Dict[str, Any]:
    """The pod or container ``securityContext`` that applies a localhost profile."""
    _localhost_path("/", localhost_profile)
    return {"seccompProfile": {"type": "Localhost", "localhostProfile": localhost_profile}}


def write_localhost(profile: Profile, localhost_profile: str, *,
                    root: str = KUBELET_SECCOMP_ROOT, arch: ArchLike = None,
                    caps: Optional[Iterable[str]] = None,
                    kernel: Union[str, Tuple[int, ...], None] = None) -> Tuple[str,
                                                                                Dict[str, Any]]:
    """Write *profile* as the localhost profile *localhost_profile* (a path relative to
    *root*, e.g. ``profiles/app.json``); returns the file's path and the ``securityContext``
    that applies it. Directories are created as needed."""
    path = _localhost_path(root, localhost_profile)
    text = to_localhost(profile, arch=arch, caps=caps, kernel=kernel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)  # the kubelet never sees half a file
    return path, security_context(localhost_profile)


def read_localhost(localhost_profile: str, *, root: str = KUBELET_SECCOMP_ROOT) -> Profile:
    """Read the localhost profile a pod names as *localhost_profile* under *root*."""
    from .parse import load
    path = _localhost_path(root, localhost_profile)
    if not os.path.exists(path):
        raise ProfileError("localhostProfile", "no localhost profile %r under %s"
                                               % (localhost_profile, root))
    return load(path)


# ---------------------------------------------------------------------------------------------
# The Security Profiles Operator's SeccompProfile
# ---------------------------------------------------------------------------------------------

def to_resource(profile: Profile, name: str, *, namespace: Optional[str] = None,
                arch: ArchLike = None, caps: Optional[Iterable[str]] = None,
                kernel: Union[str, Tuple[int, ...], None] = None) -> Dict[str, Any]:
    """A ``SeccompProfile`` resource (as JSON data: ``json.dumps`` it for kubectl) holding
    *profile*, resolved for the nodes (see `Profile.resolve`).

    The resource has no ``defaultErrnoRet``: a default errno other than EPERM cannot be
    carried and raises ProfileError, as do names that are not Kubernetes object names."""
    for what, value in (("name", name), ("namespace", namespace)):
        if value is not None and (len(value) > 253 or not _NAME.match(value)):
            raise ProfileError("metadata." + what, "%r is not a Kubernetes object name "
                                                   "(lower-case letters, digits, '-', '.')" % value)
    data = _resolved(profile, arch, caps, kernel).to_dict(oci=True)
    default_errno = data.pop("defaultErrnoRet", None)
    if default_errno not in (None, 1):
        raise ProfileError("defaultErrnoRet", "the SeccompProfile resource has no "
                                              "defaultErrnoRet: the default errno %d cannot be "
                                              "carried (only EPERM)" % default_errno)
    for rule in data.get("syscalls", []):
        if "errnoRet" in rule:  # a string in the resource's schema
            rule["errnoRet"] = str(rule["errnoRet"])
    metadata: Dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": SPO_API_VERSION, "kind": _KIND, "metadata": metadata, "spec": data}


def _document(source: Union[str, bytes, Mapping[str, Any]]) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    from .parse import _decode, _one_resource, looks_like_yaml
    text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
    if not text.lstrip().startswith("{") and not looks_like_yaml(text):
        try:
            with open(text, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            raise ProfileError("", "cannot read %r: %s" % (source, exc.strerror)) from None
    data = _decode(text, "")  # JSON, or YAML as Kubernetes manifests are written
    if isinstance(data, Mapping) and isinstance(data.get("items"), list):
        data = _one_resource(data, "", None)  # several documents, a List: the only one
    if not isinstance(data, Mapping):
        raise ProfileError("", "a SeccompProfile resource is a JSON object")
    return data


def from_resource(source: Union[str, bytes, Mapping[str, Any]]) -> Profile:
    """The profile in a ``SeccompProfile`` resource (data, JSON or YAML text, or a file's path;
    YAML needs PyYAML).
    A resource that builds on a base profile (``spec.baseProfileName``) or is disabled is
    refused with ProfileError: what it means depends on other objects in the cluster."""
    from .parse import _parse
    data = _document(source)
    if data.get("kind") != _KIND or data.get("apiVersion") not in SPO_API_VERSIONS:
        raise ProfileError("kind", "not a SeccompProfile resource (apiVersion %r, kind %r; "
                                   "expected %s, %s)" % (data.get("apiVersion"), data.get("kind"),
                                                         SPO_API_VERSION, _KIND))
    spec = data.get("spec")
    if not isinstance(spec, Mapping):
        raise ProfileError("spec", "missing or not an object")
    unknown = sorted(set(spec) - _SPEC_KEYS)
    if unknown:
        raise ProfileError("spec." + unknown[0], "unknown field (expected one of %s)"
                                                 % ", ".join(sorted(_SPEC_KEYS)))
    if spec.get("baseProfileName"):
        raise ProfileError("spec.baseProfileName", "the profile builds on %r, which is another "
                                                   "object of the cluster: merge it first"
                                                   % spec["baseProfileName"])
    if spec.get("disabled"):
        raise ProfileError("spec.disabled", "the profile is disabled")
    state = spec.get("state")
    if state is not None and state not in _STATES:
        raise ProfileError("spec.state", "expected %s, not %r" % (" or ".join(_STATES), state))
    if state == "Disabled":
        raise ProfileError("spec.state", "the profile is disabled")
    oci: Dict[str, Any] = {k: v for k, v in spec.items()
                           if k not in ("baseProfileName", "disabled", "state")}
    syscalls: List[Any] = []
    for rule in oci.get("syscalls") or []:
        if isinstance(rule, Mapping) and isinstance(rule.get("errnoRet"), str) \
                and rule["errnoRet"].strip().isdigit():
            rule = dict(rule, errnoRet=int(rule["errnoRet"]))
        syscalls.append(rule)
    if syscalls:
        oci["syscalls"] = syscalls
    return _parse(oci, "spec")


def resource_localhost_profile(resource: Mapping[str, Any]) -> str:
    """Where the operator installs a resource on each node, as a pod's ``localhostProfile``
    names it: ``operator/NAMESPACE/NAME.json``."""
    meta = resource.get("metadata") or {}
    name = str(meta.get("name", ""))
    if not name:
        raise ProfileError("metadata.name", "missing")
    if not name.endswith(".json"):
        name += ".json"
    return "operator/%s/%s" % (meta.get("namespace") or "default", name)
