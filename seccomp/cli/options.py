"""Options shared by the subcommands that build a filter from a profile."""
from __future__ import annotations

import argparse
import errno
from typing import Any, Optional

from .._enums import Action
from .._info import syscall_name, syscall_number


def _profile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", metavar="default|PATH",
                   help="the profile: a built-in name or a Docker/Podman/OCI JSON file "
                        "(default: %(default)s)")
    p.add_argument("--allow", action="append", default=[], metavar="NAME",
                   help="allow syscall NAME (or every syscall of an @group), whatever the "
                        "profile says; repeatable")
    p.add_argument("--deny", action="append", default=[], metavar="NAME[:ERRNO]",
                   help="make syscall NAME (or an @group) fail with ERRNO (a name such as "
                        "EACCES or a number; default EPERM); repeatable")
    p.add_argument("--cap", action="append", default=[], metavar="CAP",
                   help="resolve the profile as if the process had capability CAP (e.g. "
                        "CAP_SYS_ADMIN, sys_admin, ALL), on top of an unprivileged container's "
                        "default set; repeatable. Only changes which rules apply: it grants "
                        "no capability")


def _resolved(args: argparse.Namespace, arch: Optional[str] = None,
              kernel: Optional[str] = None) -> Any:
    """The profile named by the options, resolved and with --allow/--deny applied."""
    from .. import profile

    prof = profile.load(args.profile)
    caps = profile.CONTAINER_CAPS | profile.parse_caps(args.cap)
    prof = prof.resolve(arch=arch, caps=caps, kernel=kernel)
    for name in args.allow:
        prof = prof.with_rule([_syscall_arg(name)], Action.ALLOW)
    for spec in args.deny:
        name, _, code = spec.partition(":")
        errno_ = profile.parse_errno(code, "--deny %s" % spec) if code else errno.EPERM
        prof = prof.with_rule([_syscall_arg(name)], Action.ERRNO(errno_))
    return prof


def _syscall_arg(name: str) -> str:
    """Check a syscall or @group named on the command line."""
    from .. import profile

    if name.startswith("@"):
        profile.expand(name)  # raises for unknown groups
    elif name.isdigit():
        return syscall_name(int(name))
    else:
        syscall_number(name)  # raises for unknown names
    return name
