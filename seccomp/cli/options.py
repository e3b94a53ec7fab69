"""Options shared by the subcommands that build a filter from a profile."""
from __future__ import annotations

import argparse
import errno

from .._core import InvalidArgumentError
from .._enums import Action
from .._info import syscall_name, syscall_number
from .common import is_number, parse_int, warn

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Optional


def _profile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", metavar="default|unconfined|PATH",
                   help="the profile: a built-in name, 'unconfined' (no filter at all), or the "
                        "path of a Docker/Podman/OCI JSON file, OCI config.json or "
                        "SeccompProfile resource (a path contains '/': ./default names a file, "
                        "default the built-in profile) (default: %(default)s)")
    p.add_argument("--allow", action="append", default=[], metavar="NAME",
                   help="allow syscall NAME (or every syscall of an @group), whatever the "
                        "profile says; repeatable")
    p.add_argument("--deny", action="append", default=[], metavar="NAME[:ERRNO]",
                   help="make syscall NAME (or an @group) fail with ERRNO (a name such as "
                        "EACCES or a number; default EPERM); repeatable")
    _caps_options(p)
    _enosys_option(p)
    p.add_argument("--input-format", default="auto",
                   choices=("auto", "oci", "gosecco", "minijail", "seccompiler"),
                   help="the format of --profile: OCI/Docker JSON, gosecco's policy language, "
                        "a minijail .policy file or seccompiler/Firecracker JSON (default: "
                        "detected from the file)")
    p.add_argument("--thread", metavar="NAME",
                   help="the thread category of a seccompiler/Firecracker file to use "
                        "(needed when it has several)")
    p.add_argument("--strict", action="store_true",
                   help="refuse a profile when a rule stricter than its default action names "
                        "a syscall this libseccomp cannot add (by default the rule is left "
                        "out with a warning on stderr)")


def _caps_options(p: argparse.ArgumentParser) -> None:
    """--caps, --cap/--cap-add, --cap-drop: the capabilities a profile is resolved for."""
    p.add_argument("--caps", metavar="SET|LIST",
                   help="resolve the profile for exactly this capability set: docker (the "
                        "default: an unprivileged container's), podman, none, all, or a "
                        "comma-separated list (CHOWN,SYS_ADMIN); --cap and --cap-drop apply "
                        "on top. Only changes which rules apply: it grants no capability")
    p.add_argument("--cap", "--cap-add", action="append", default=[], metavar="CAP",
                   dest="cap",
                   help="add capability CAP (CAP_SYS_ADMIN, sys_admin, ALL) to the set; "
                        "repeatable")
    p.add_argument("--cap-drop", action="append", default=[], metavar="CAP|ALL",
                   help="drop capability CAP from the set (ALL: every one, before --cap "
                        "adds); repeatable")


def _enosys_option(p: argparse.ArgumentParser) -> None:
    """--no-enosys."""
    p.add_argument("--no-enosys", action="store_true",
                   help="leave libseccomp's program as it is: syscalls the profile does not "
                        "know get its default errno instead of ENOSYS")


def _resolved(args: argparse.Namespace, arch: Optional[str] = None,
              kernel: Optional[str] = None) -> Any:
    """The profile named by the options, resolved and with --allow/--deny applied; None for
    ``--profile unconfined`` (no filter). A policy in another format (`seccomp.policy`) is
    read as the profile of its lowered rules, and kept in ``args.policy``."""
    from .. import profile

    if args.profile == profile.UNCONFINED:
        if args.allow or args.deny:
            raise InvalidArgumentError(errno.EINVAL, "--allow and --deny need a profile: "
                                                     "'unconfined' has no filter")
        return None
    args.policy = policy = _policy(args)
    prof = profile.load(args.profile) if policy is None else _policy_profile(policy)
    # the base set: --caps, else a config.json's bounding set, else an unprivileged container's
    base = args.caps or ("docker" if prof.caps is None else sorted(prof.caps))
    caps = profile.capabilities(base, add=args.cap, drop=args.cap_drop)
    prof = prof.resolve(arch=arch, caps=caps, kernel=kernel)
    for name in args.allow:
        prof = prof.with_rule([_syscall_arg(name)], Action.ALLOW)
    for spec in args.deny:
        name, _, code = spec.partition(":")
        errno_ = profile.parse_errno(code, "--deny %s" % spec) if code else errno.EPERM
        prof = prof.with_rule([_syscall_arg(name)], Action.ERRNO(errno_))
    return prof


def _policy(args: argparse.Namespace) -> Any:
    """The `seccomp.policy.Policy` of --profile when it is not an OCI/Docker profile, else
    None."""
    from ..profile import builtin_profiles

    fmt = getattr(args, "input_format", "auto")
    thread = getattr(args, "thread", None)
    if fmt == "oci":
        return None
    if fmt == "auto":
        if args.profile in builtin_profiles():  # OCI: the policy readers need not be loaded
            oci = True
        else:
            from .. import policy
            try:
                text, path = policy.read_source(args.profile)
            except policy.PolicyError:
                return None  # the profile reader says what is wrong with the path
            oci = text is None or policy.detect(text, path) == "oci"
        if oci:
            if thread:
                raise InvalidArgumentError(22, "--thread names a category of a seccompiler "
                                               "file; %s is not one" % args.profile)
            return None
        fmt = None
    from .. import policy
    return policy.load(args.profile, format=fmt, thread=thread)


def _policy_profile(policy: Any) -> Any:
    """A policy as a resolved profile (its rules lowered to libseccomp's)."""
    from ..policy import to_profile
    return to_profile(policy)


def _syscall_arg(name: str) -> str:
    """Check a syscall or @group named on the command line."""
    from .. import profile

    if name.startswith("@"):
        profile.expand(name)  # raises for unknown groups
    elif is_number(name):
        return syscall_name(parse_int(name, "syscall number"))
    else:
        try:
            syscall_number(name)
        except InvalidArgumentError:
            from ..profile.newer_syscalls import NEWER_SYSCALLS
            if name not in NEWER_SYSCALLS:  # newer than this libseccomp: compile resolves it
                raise
    return name


def _compile(args: argparse.Namespace, prof: Any, arch: Optional[str] = None,
             kernel: Optional[str] = None, no_new_privs: bool = True) -> Any:
    """Build the filter of a resolved profile as the options say: with --strict, a rule that
    cannot be added is an error; without, a warning on stderr, every time. The ENOSYS stub
    unless --no-enosys (and for a `seccomp.policy` format: its default action stands), by
    *kernel*'s syscall table when one is given."""
    import warnings

    from .. import profile

    policy = getattr(args, "policy", None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", profile.SkippedSyscallWarning)
        # a policy's syscalls it does not name get its default action, not ENOSYS
        flt = prof.compile(arch=arch, strict=args.strict, kernel=kernel,
                           no_new_privs=no_new_privs,
                           enosys=not args.no_enosys and policy is None)
    for w in caught:
        if issubclass(w.category, profile.SkippedSyscallWarning):
            warn(str(w.message))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if policy is not None and not args.allow and not args.deny:
        for a in flt.arches:  # the lowering, checked against the policy itself
            policy.check(flt.export_bpf(), a, skip=getattr(flt, "skipped_syscalls", ()))
    return flt
