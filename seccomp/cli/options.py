"""Options shared by the subcommands that build a filter from a profile."""
from __future__ import annotations

import errno

from .._core import InvalidArgumentError
from .._enums import Action
from .._info import syscall_name, syscall_number
from .common import CommandError, is_number, parse_int, warn

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    import argparse
    from typing import Any, Callable, Optional, Tuple


def _profile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", metavar="default|unconfined|PATH",
                   help="the profile: a built-in name, 'unconfined' (no filter at all), or the "
                        "path of a Docker/Podman/OCI JSON file, OCI config.json, "
                        "SeccompProfile resource, gosecco policy, minijail .policy file or "
                        "seccompiler/Firecracker JSON (a path contains '/': ./default names a "
                        "file, default the built-in profile) (default: %(default)s)")
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
                   help="the filter to use of a file that holds several: a thread category "
                        "of a seccompiler/Firecracker file, or the name of a SeccompProfile "
                        "resource")
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
    ``--profile unconfined`` (no filter). A policy in another format (gosecco, minijail,
    seccompiler) is returned as its `seccomp.policy.Policy`, --allow/--deny its first rules
    (`seccomp.cli.policies`); it is also kept in ``args.policy`` (None for a profile)."""
    from .. import profile

    args.policy = None
    if args.profile == profile.UNCONFINED:
        if args.allow or args.deny:
            raise InvalidArgumentError(errno.EINVAL, "--allow and --deny need a profile: "
                                                     "'unconfined' has no filter")
        return None
    prof = None
    if args.input_format != "oci" and (args.input_format != "auto"
                                       or args.profile not in profile.builtin_profiles()):
        from .policies import read_policy, with_overrides  # not for a built-in profile
        source = read_policy(args)
        if isinstance(source, profile.Profile):
            prof = source
        elif source is not None:
            args.policy = policy = with_overrides(source, args, _syscall_arg)
            return policy
    if args.thread and prof is None:
        raise InvalidArgumentError(errno.EINVAL, "--thread names a category of a seccompiler "
                                                 "file or one of several SeccompProfile "
                                                 "resources; %s is an OCI profile"
                                   % args.profile)
    if prof is None:
        prof = profile.load(args.profile)
    # the base set: --caps, else the bundle's (export --bundle), else a config.json's bounding
    # set, else an unprivileged container's
    base = args.caps or getattr(args, "bundle_caps", None) or (
        "docker" if prof.caps is None else sorted(prof.caps))
    caps = profile.capabilities(base, add=args.cap, drop=args.cap_drop)
    prof = prof.resolve(arch=arch, caps=caps, kernel=kernel)
    for name in args.allow:
        prof = prof.with_rule([_syscall_arg(name)], Action.ALLOW)
    for spec in args.deny:
        name, action = deny_spec(spec)
        prof = prof.with_rule([_syscall_arg(name)], action)
    return prof


def deny_spec(spec: str) -> Tuple[str, Action]:
    """``--deny NAME[:ERRNO]``: the name and its action (EPERM when no errno is given)."""
    from .. import profile

    name, colon, code = spec.partition(":")
    if colon and not code.strip():
        raise CommandError("--deny %s: no errno after ':' (NAME, or NAME:ERRNO such as "
                           "%s:EACCES)" % (spec, name))
    return name, Action.ERRNO(profile.parse_errno(code, "--deny %s" % spec) if colon
                              else errno.EPERM)


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
             kernel: Optional[str] = None, no_new_privs: bool = True,
             report: Callable[[str], None] = warn) -> Any:
    """Build the filter of a resolved profile as the options say: with --strict, a rule that
    cannot be added is an error; without, a warning (to *report*: stderr), every time. The
    ENOSYS stub unless --no-enosys, by *kernel*'s syscall table when one is given. A policy of
    another format (`_resolved`) is compiled by `seccomp.cli.policies.compile_policy`."""
    import warnings

    if args.policy is not None:
        from .policies import compile_policy
        return compile_policy(prof, args, arch=arch, no_new_privs=no_new_privs)
    from .. import profile

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", profile.SkippedSyscallWarning)
        flt = prof.compile(arch=arch, strict=args.strict, kernel=kernel,
                           no_new_privs=no_new_privs, enosys=not args.no_enosys)
    for w in caught:
        if issubclass(w.category, profile.SkippedSyscallWarning):
            report(str(w.message))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return flt
