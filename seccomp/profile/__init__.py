"""Container seccomp profiles: read, validate, resolve, compile and write them.

Reads the OCI runtime-spec ``linux.seccomp`` object and the Docker/Podman profile format
(``archMap``, ``includes``/``excludes`` by capabilities, architectures and kernel version,
``comment``, errno names), from a path, JSON text, bytes, a dict, or the name of a built-in
profile (``"default"``; a bare name is always a built-in profile, a file is named by a path
containing ``/``)::

    profile = seccomp.profile.load("default")
    f = profile.compile()            # a seccomp.Filter, for an unprivileged container
    f.load()                         # in the child, before exec

`Profile.resolve` picks what applies to a target (architecture, capabilities, kernel) and
gives a plain OCI profile back; ``Profile.to_json(oci=True)`` writes it. Capabilities default
to an unprivileged container's set (`CONTAINER_CAPS`), whoever runs the code; an OCI
config.json's ``process.capabilities.bounding`` when the profile comes from one; this
process's own only when asked (``caps=host_caps()``).

`Profile.compile` builds a `seccomp.Filter` with the semantics container runtimes (runc,
crun) use: rules whose action is the default action are skipped, several conditions on the
same argument become separate rules (any of them matches), and the binary-tree optimisation is
used for large profiles. Syscall names this libseccomp does not know come from the package's
table of newer syscalls where possible; the rest are skipped and listed in
``skipped_syscalls``, with a `SkippedSyscallWarning` (or, with ``strict=True``, a
`ProfileError`) when a skipped rule was stricter than the default action.

Invalid profiles raise `ProfileError` (an `InvalidArgumentError`, so also a `ValueError`)
whose message names the place: ``syscalls[12].args[0].op: unknown operator "SCMP_CMP_EQQ"``.
"""
from __future__ import annotations

from .build import BINARY_TREE_THRESHOLD, ProfileFilter, SkippedSyscallWarning
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
    "GROUPS", "expand", "describe", "FLAGS", "BINARY_TREE_THRESHOLD", "SkippedSyscallWarning",
    "DOCKER_CAPS", "PODMAN_CAPS", "CAP_SETS", "UNCONFINED", "capabilities", "capability_set",
    "may_skip_no_new_privs", "require_skip_no_new_privs",
]
