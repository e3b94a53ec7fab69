"""``seccomp diff``: what changes between two filters or profiles (see
`seccomp.bpf.diff`)."""
from __future__ import annotations

import argparse

from .._enums import Arch
from .common import CommandError, add_json_option, out, print_json, subcommand
from .options import _caps_options, _enosys_option

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any


def add_diff(sub: Any) -> None:
    """Register ``seccomp diff``."""
    p = sub.add_parser(
        "diff", help="what changes between two filters or profiles",
        description="Compare two filters: profiles (a path or a built-in name) or BPF files "
                    "(as export --format bpf or dump --format bpf write them), in any mix. "
                    "Profiles are built as export builds them, for the target (--arch, "
                    "--kernel, --caps). Prints, per architecture and syscall, the argument "
                    "values that get another action in B than in A.",
        epilog="exit status: 0 when they do the same, 1 when they differ, 2 on an error.")
    p.add_argument("a", metavar="A", help="the first filter (profile, built-in name, BPF file; "
                                          "- for stdin)")
    p.add_argument("b", metavar="B", help="the second one")
    p.add_argument("--arch", help="target architecture (default: this machine's)")
    p.add_argument("--kernel", metavar="MAJOR.MINOR",
                   help="target kernel version (default: the running kernel)")
    p.add_argument("--thread", metavar="NAME",
                   help="the filter to compare of a file that holds several: a thread "
                        "category of a seccompiler/Firecracker file, or the name of a "
                        "SeccompProfile resource (a file of one filter ignores it)")
    _caps_options(p)
    _enosys_option(p)
    add_json_option(p)
    p.set_defaults(func=_cmd_diff)


@subcommand
def _cmd_diff(args: argparse.Namespace) -> int:
    from .. import profile
    from .._errors import SeccompError
    from ..bpf import diff

    try:
        caps = None  # each profile's own default: an unprivileged container, or a config's set
        if args.caps or args.cap or args.cap_drop:
            caps = profile.capabilities(args.caps or "docker", add=args.cap, drop=args.cap_drop)
        arch = Arch(args.arch).resolved if args.arch else None
        d = diff.diff(args.a, args.b, arch=arch, caps=caps, kernel=args.kernel,
                      enosys=not args.no_enosys, thread=args.thread)
    except (SeccompError, OSError) as exc:  # 1 means "they differ": trouble is 2, as diff(1)
        raise CommandError(str(exc.strerror or exc), 2) from None
    if args.json:
        print_json(d.to_dict())
    else:
        out(d.text())
    return 1 if d else 0
