"""The `seccomp` command (also `python -m seccomp`).

One module per group of subcommands. Each module has, per subcommand, an ``add_NAME(sub)``
that registers its parser and sets ``func`` to a ``_cmd_NAME(args) -> int`` whose return value
is the exit status. To add a subcommand, write its ``add_NAME`` and list it in ``SUBCOMMANDS``.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, List, Optional

from .. import _core
from . import bpf, export, info, resolve, run

#: The registration list: each function adds one subcommand (in this order in ``--help``).
SUBCOMMANDS: List[Callable[[Any], None]] = [
    run.add_run,
    export.add_export,
    resolve.add_resolve,
    info.add_info,
    bpf.add_disasm,
    bpf.add_check,
    bpf.add_explain,
]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="seccomp", description="Build, inspect and apply seccomp filters.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for add in SUBCOMMANDS:
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
