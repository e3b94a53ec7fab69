"""The controls Docker and Podman users have, for profiles: capability sets by engine name,
``--cap-add``/``--cap-drop`` (``ALL`` included), ``unconfined``, and loading without
no_new_privs where the caller may::

    caps = capabilities("podman", drop=["ALL"], add=["NET_BIND_SERVICE"])
    f = profile.load("default").compile(caps=caps, no_new_privs=not may_skip_no_new_privs())
"""
from __future__ import annotations

import errno as _errno

from .._core import InvalidArgumentError, SeccompError
from .host import CAPABILITIES, CONTAINER_CAPS, host_caps, parse_caps

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import FrozenSet, Iterable, Mapping, Union

__all__ = ["DOCKER_CAPS", "PODMAN_CAPS", "CAP_SETS", "UNCONFINED", "capabilities",
           "capability_set", "may_skip_no_new_privs", "require_skip_no_new_privs"]

#: Docker's default capability set (moby's ``DefaultCapabilities``).
DOCKER_CAPS: FrozenSet[str] = CONTAINER_CAPS

#: Podman's default capability set (containers/common's ``DefaultCapabilities``): Docker's
#: without CAP_AUDIT_WRITE, CAP_MKNOD and CAP_NET_RAW.
PODMAN_CAPS: FrozenSet[str] = frozenset({
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
    "CAP_NET_BIND_SERVICE", "CAP_SETFCAP", "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID",
    "CAP_SYS_CHROOT",
})

#: Capability sets by name, for ``--caps NAME``.
CAP_SETS: Mapping[str, FrozenSet[str]] = {
    "docker": DOCKER_CAPS, "podman": PODMAN_CAPS, "none": frozenset(),
    "all": frozenset(CAPABILITIES),
}

#: The profile name that means no seccomp filter at all (Docker's ``seccomp=unconfined``).
UNCONFINED = "unconfined"


def capability_set(spec: Union[str, Iterable[str]]) -> FrozenSet[str]:
    """An exact capability set: a set's name (``docker``, ``podman``, ``none``, ``all``), or
    capability names (a list, or one string separated by commas: ``CHOWN,SYS_ADMIN``)."""
    if isinstance(spec, str):
        named = CAP_SETS.get(spec.strip().lower())
        if named is not None:
            return named
        spec = [part for part in spec.split(",") if part.strip()]
    return parse_caps(list(spec))


def capabilities(base: Union[str, Iterable[str]] = "docker", add: Iterable[str] = (),
                 drop: Iterable[str] = ()) -> FrozenSet[str]:
    """The capabilities a container gets, as Docker and Podman work them out: *base* (a set's
    name or capability names, see `capability_set`), then ``--cap-drop`` *drop*, then
    ``--cap-add`` *add*. ``ALL`` in *drop* empties the base; in *add*, it adds every
    capability. A capability both added and dropped is refused, as the engines do."""
    add_l, drop_l = [a.strip() for a in add], [d.strip() for d in drop]
    adds = parse_caps([a for a in add_l if a.upper() != "ALL"])
    drops = parse_caps([d for d in drop_l if d.upper() != "ALL"])
    both = sorted(adds & drops)
    if both:
        raise InvalidArgumentError(_errno.EINVAL, "capability %s is both added and dropped"
                                   % ", ".join(both))
    caps = set(capability_set(base))
    if any(d.upper() == "ALL" for d in drop_l):
        caps.clear()
    caps -= drops
    if any(a.upper() == "ALL" for a in add_l):
        caps.update(CAPABILITIES)
    caps |= adds
    return frozenset(caps)


def may_skip_no_new_privs() -> bool:
    """Whether this process may load a filter without no_new_privs (Docker's default): the
    kernel requires CAP_SYS_ADMIN in the process's user namespace for that."""
    return "CAP_SYS_ADMIN" in host_caps()


def require_skip_no_new_privs() -> None:
    """Raise a clear error (SeccompError with EPERM) when this process may not load a filter
    without no_new_privs."""
    if not may_skip_no_new_privs():
        raise SeccompError(_errno.EPERM, "loading a filter without no_new_privs needs "
                                   "CAP_SYS_ADMIN, which this process does not have: keep "
                                   "no_new_privs (the default) or run with that capability")
