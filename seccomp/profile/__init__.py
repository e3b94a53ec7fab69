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

from .build import BINARY_TREE_THRESHOLD, ProfileFilter
from .container import (CAP_SETS, DOCKER_CAPS, PODMAN_CAPS, UNCONFINED, capabilities,
                        capability_set, may_skip_no_new_privs, require_skip_no_new_privs)
from .errors import ProfileError
from .groups import GROUPS, describe, expand
from .host import CAPABILITIES, CONTAINER_CAPS, host_caps, host_kernel, parse_caps
from .model import FLAGS, Arg, Match, Profile, Rule
from .parse import builtin_profiles, load, parse_errno


__all__ = [
    "ProfileFilter",
    "load", "builtin_profiles", "Profile", "Rule", "Arg", "Match", "ProfileError",
    "CONTAINER_CAPS", "CAPABILITIES", "host_caps", "host_kernel", "parse_caps", "parse_errno",
    "GROUPS", "expand", "describe", "FLAGS", "BINARY_TREE_THRESHOLD",
    "DOCKER_CAPS", "PODMAN_CAPS", "CAP_SETS", "UNCONFINED", "capabilities", "capability_set",
    "may_skip_no_new_privs", "require_skip_no_new_privs",
]
