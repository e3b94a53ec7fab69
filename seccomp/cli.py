"""The `seccomp` command (also `python -m seccomp`).

Each subcommand is a function ``_cmd_NAME(args) -> int`` registered by an ``_add_NAME(sub)``
function listed in ``_SUBCOMMANDS``; the exit status is the command's.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, List, Optional

from . import _core

_SUBCOMMANDS: List[Callable[["argparse._SubParsersAction[argparse.ArgumentParser]"], None]] = []


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="seccomp", description="Build, inspect and apply seccomp filters.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in _SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except _core.SeccompError as exc:
        print("seccomp: error: %s" % (exc.strerror or exc), file=sys.stderr)
        return 1


from . import _cli_profile  # noqa: E402  (profile subcommands: run, export, resolve, info)

_SUBCOMMANDS.append(_cli_profile.add_run)
_SUBCOMMANDS.append(_cli_profile.add_export)
_SUBCOMMANDS.append(_cli_profile.add_resolve)
_SUBCOMMANDS.append(_cli_profile.add_info)

from . import _cli_bpf  # noqa: E402  (BPF subcommands: disasm, check, explain)

_SUBCOMMANDS.extend(_cli_bpf.SUBCOMMANDS)
