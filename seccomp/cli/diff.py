"""``seccomp diff``: what changes between two filters or profiles (see
`seccomp.bpf.diff`)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .._enums import Arch
from .._errors import SeccompError


def add_diff(sub: Any) -> None:
    """Register ``seccomp diff``."""
    p = sub.add_parser(
        "diff", help="what changes between two filters or profiles",
        description="Compare two filters: profiles (a path or a built-in name) or BPF files "
                    "(as export --format bpf or dump --format bpf write them), in any mix. "
                    "Profiles are built for the target (--arch, --kernel, and an unprivileged "
                    "container's capabilities plus --cap). Prints, per architecture and "
                    "syscall, the argument values that get another action in B than in A.",
        epilog="exit status: 0 when they do the same, 1 when they differ, 2 on an error.")
    p.add_argument("a", metavar="A", help="the first filter (profile, built-in name, BPF file)")
    p.add_argument("b", metavar="B", help="the second one")
    p.add_argument("--arch", help="target architecture (default: this machine's)")
    p.add_argument("--kernel", metavar="MAJOR.MINOR",
                   help="target kernel version (default: the running kernel)")
    p.add_argument("--cap", action="append", default=[], metavar="CAP",
                   help="resolve profiles as if the process had capability CAP too (on top "
                        "of an unprivileged container's set); repeatable")
    p.add_argument("--json", action="store_true", help="print the changes as JSON")
    p.set_defaults(func=_cmd_diff)


def _cmd_diff(args: argparse.Namespace) -> int:
    from .. import profile
    from ..bpf import diff

    try:
        caps = profile.CONTAINER_CAPS | profile.parse_caps(args.cap)
        arch = Arch(args.arch).resolved if args.arch else None
        d = diff.diff(args.a, args.b, arch=arch, caps=caps, kernel=args.kernel)
    except (SeccompError, OSError) as exc:
        print("seccomp diff: %s" % (exc.strerror or exc), file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(json.dumps(d.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(d.text())
    return 1 if d else 0
