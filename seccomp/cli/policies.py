"""``--profile FILE`` in a policy format other than OCI/Docker: gosecco, minijail or
seccompiler/Firecracker JSON.

Such a policy stays a `seccomp.policy.Policy` all the way: ``--allow``/``--deny`` become its
first rules, and `Policy.compile` builds the filter (libseccomp's rules where libseccomp can
state the conditions, BPF of the library's own where it cannot), checked against the policy.
Only imported when --profile names a file, so a built-in profile never loads the readers.
"""
from __future__ import annotations

import argparse

from .._enums import Action
from .common import CommandError, warn
from .options import deny_spec

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Callable, List, Optional, Union

    from ..policy import Policy, PolicyFilter
    from ..profile import Profile


def read_policy(args: argparse.Namespace) -> Union[Policy, Profile, None]:
    """What --profile names, read once (a pipe such as ``<(...)`` cannot be read twice): the
    policy (format detected, or --input-format; the --thread category of a seccompiler
    file), or the OCI/Docker `seccomp.profile.Profile` of a file (--thread: the
    SeccompProfile resource of that name, of several); None for a path the
    profile reader reports on (it says what is wrong with it)."""
    from .. import policy

    fmt = args.input_format
    try:
        text, path = policy.read_source(args.profile)
    except policy.PolicyError:
        if fmt == "auto":
            return None  # the profile reader says what is wrong with the path
        raise
    if text is None:  # a bare name: a built-in profile (OCI)
        if fmt != "auto":
            raise CommandError("--input-format %s: %r names a built-in OCI profile, not a "
                               "file (a path contains '/')" % (fmt, args.profile), 2)
        return None
    if fmt == "auto":
        fmt = policy.detect(text, path)
    if fmt == "oci":
        from ..profile.parse import loads
        return loads(text, path, name=args.thread)  # --thread: one of several resources
    options = {"arch": args.arch} if fmt == "minijail" and getattr(args, "arch", None) else {}
    return policy.loads(text, format=fmt, path=path, thread=args.thread, **options)


def with_overrides(pol: Policy, args: argparse.Namespace,
                   check_name: Callable[[str], str]) -> Policy:
    """*pol* with --allow and --deny as its first rules (first match wins: they decide
    whatever the policy says; a --deny over an --allow of the same syscall)."""
    if args.caps or args.cap or args.cap_drop:
        raise CommandError("--caps, --cap and --cap-drop pick the rules of an OCI profile "
                           "that depend on capabilities; a %s policy has none"
                           % (args.input_format if args.input_format != "auto" else "non-OCI"),
                           2)
    if not args.allow and not args.deny:
        return pol
    from .. import profile
    from ..policy import Place, Rule
    from ..policy.model import TRUE

    first: List[Rule] = []
    for option, specs in (("--deny", reversed(args.deny)), ("--allow", reversed(args.allow))):
        for spec in specs:
            name, action = deny_spec(spec) if option == "--deny" else (spec, Action.ALLOW)
            name = check_name(name)
            names = profile.expand(name) if name.startswith("@") else [name]
            place = Place("%s %s" % (option, spec))
            first.extend(Rule(n, TRUE, action, place, "added by the caller") for n in names)
    return pol.with_rules(first + list(pol.rules))


def compile_policy(pol: Policy, args: argparse.Namespace, arch: Optional[str] = None,
                   no_new_privs: bool = True) -> PolicyFilter:
    """The policy's filter (`Policy.compile`: checked against the policy). A syscall this
    libseccomp does not know is left out with a warning, or refused with --strict; the
    policy's default action answers the syscalls it does not name (no ENOSYS stub)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flt = pol.compile(arch=arch, strict=args.strict)
    for w in caught:
        if w.category is UserWarning:  # what Policy.compile says (syscalls it skipped)
            warn(str(w.message))
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    if not no_new_privs:
        flt.no_new_privs = False
    return flt


def as_profile(pol: Policy) -> Any:
    """The policy as an OCI profile (for --format oci/seccompprofile and --bundle): a
    PolicyError with the place of a condition OCI cannot state."""
    from ..policy import to_profile
    return to_profile(pol)
