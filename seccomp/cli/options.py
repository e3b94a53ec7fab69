"""Options shared by the subcommands that build a filter from a profile."""
from __future__ import annotations

import argparse
import errno
import sys
from typing import Any, Optional

from .._core import InvalidArgumentError
from .._enums import Action
from .._info import syscall_name, syscall_number


def _profile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", metavar="default|PATH",
                   help="the profile: a built-in name, or the path of a Docker/Podman/OCI "
                        "JSON file or OCI config.json (a path contains '/': ./default names "
                        "a file, default the built-in profile) (default: %(default)s)")
    p.add_argument("--allow", action="append", default=[], metavar="NAME",
                   help="allow syscall NAME (or every syscall of an @group), whatever the "
                        "profile says; repeatable")
    p.add_argument("--deny", action="append", default=[], metavar="NAME[:ERRNO]",
                   help="make syscall NAME (or an @group) fail with ERRNO (a name such as "
                        "EACCES or a number; default EPERM); repeatable")
    p.add_argument("--cap", action="append", default=[], metavar="CAP",
                   help="resolve the profile as if the process had capability CAP (e.g. "
                        "CAP_SYS_ADMIN, sys_admin, ALL), on top of an unprivileged container's "
                        "default set (a config.json's bounding set when the profile is one); "
                        "repeatable. Only changes which rules apply: it grants no capability")
    p.add_argument("--strict", action="store_true",
                   help="refuse a profile when a rule stricter than its default action names "
                        "a syscall this libseccomp cannot add (by default the rule is left "
                        "out with a warning on stderr)")


def _resolved(args: argparse.Namespace, arch: Optional[str] = None,
              kernel: Optional[str] = None) -> Any:
    """The profile named by the options, resolved and with --allow/--deny applied."""
    from .. import profile

    prof = profile.load(args.profile)
    base = profile.CONTAINER_CAPS if prof.caps is None else prof.caps
    caps = base | profile.parse_caps(args.cap)
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
        try:
            syscall_number(name)
        except InvalidArgumentError:
            from ..profile.newer_syscalls import NEWER_SYSCALLS
            if name not in NEWER_SYSCALLS:  # newer than this libseccomp: compile resolves it
                raise
    return name


def _compile(args: argparse.Namespace, prof: Any, arch: Optional[str] = None) -> Any:
    """Build the filter of a resolved profile as the options say: with --strict, a rule that
    cannot be added is an error; without, a warning on stderr, every time."""
    import warnings

    from .. import profile

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", profile.SkippedSyscallWarning)
        flt = prof.compile(arch=arch, strict=args.strict)
    for w in caught:
        if issubclass(w.category, profile.SkippedSyscallWarning):
            print("seccomp: warning: %s" % w.message, file=sys.stderr)
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return flt
