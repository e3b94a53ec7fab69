"""``seccomp resolve``: syscall name <-> number, @group members."""
from __future__ import annotations

import argparse
import sys
from typing import Any

from .. import _core
from .._enums import Arch
from .._info import syscall_name, syscall_number


def add_resolve(sub: Any) -> None:
    """Register ``seccomp resolve``."""
    p = sub.add_parser(
        "resolve", help="syscall name <-> number, or the members of an @group",
        description="Print the number of a syscall name, the name of a number, or the "
                    "syscalls of an @group, one per line.")
    p.add_argument("syscalls", nargs="+", metavar="NAME|NUMBER|@GROUP")
    p.add_argument("--arch", default="native", help="architecture (default: this machine's)")
    p.set_defaults(func=_cmd_resolve)


def _cmd_resolve(args: argparse.Namespace) -> int:
    from .. import profile

    arch = Arch(args.arch)
    status = 0
    for item in args.syscalls:
        try:
            if item.startswith("@"):
                for name in profile.expand(item):
                    print(name)
            elif item.lstrip("-").isdigit():
                print(syscall_name(int(item), arch))
            else:
                print(syscall_number(item, arch))
        except _core.InvalidArgumentError as exc:
            print("seccomp resolve: %s" % exc.strerror, file=sys.stderr)
            status = 1
    return status
