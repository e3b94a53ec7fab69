"""The `seccomp` command (also `python -m seccomp`).

One module per group of subcommands. Each module has, per subcommand, an ``add_NAME(sub)``
that registers its parser and sets ``func`` to a ``_cmd_NAME(args) -> int`` whose return value
is the exit status. To add a subcommand, write its ``add_NAME`` and list it in ``SUBCOMMANDS``.
Shared helpers (errors, reading inputs, ``-o``, ``--json``) are in `seccomp.cli.common`.

Exit status: 0 success, 1 an error (``seccomp: error: ...`` on stderr) or a failed
``--expect``/``--strict`` check, 2 a usage error; ``run`` exits with its command's status.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, List, NoReturn, Optional

from . import asm, bpf, diff, dump, export, info, record, resolve, run
from .common import CommandError, error

#: The registration list: each function adds one subcommand (in this order in ``--help``).
SUBCOMMANDS: List[Callable[[Any], None]] = [
    run.add_run,
    export.add_export,
    resolve.add_resolve,
    info.add_info,
    bpf.add_disasm,
    bpf.add_check,
    bpf.add_explain,
    asm.add_asm,
    record.add_record,
    dump.add_dump,
    diff.add_diff,
]


class _Parser(argparse.ArgumentParser):
    """argparse with the command's one error prefix (``seccomp: error:``), exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        error(message)
        self.exit(2)


def _version() -> str:
    from .. import __version__, _core
    from .._info import api_level, library_version

    return "seccomp %s (libseccomp %s, compiled against %s, API level %d)" % (
        __version__, ".".join(map(str, library_version())),
        ".".join(map(str, _core.COMPILED_VERSION)), api_level())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = _Parser(prog="seccomp", description="Build, inspect and apply seccomp filters.",
                     epilog="exit status: 0 success, 1 error or failed check, 2 usage error")
    parser.add_argument("--version", action="version", version=_version(),
                        help="print the package's and libseccomp's versions and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit status.

    The one place where failures become ``seccomp: error: ...``: `CommandError`, the library's
    exceptions (`seccomp.SeccompError`, which includes invalid input), files that cannot be
    read, input too deep or too large to parse. No traceback reaches the user."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        return int(args.func(args) or 0)
    except CommandError as exc:
        return _fail(str(exc), exc.status)
    except BrokenPipeError:
        # The reader went away (`seccomp info | head`): stop quietly, as cat does.
        _silence_stdout()
        return 1
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # SeccompError too: an OSError carrying errno and a message
        message = str(exc.strerror or exc)
        return _fail("%s: %s" % (exc.filename, message) if exc.filename else message, 1)
    except RecursionError:
        return _fail("input nested too deeply", 1)
    except MemoryError:
        return _fail("out of memory (input too large?)", 1)
    except ValueError as exc:  # invalid input the library reports as plain ValueError
        return _fail(str(exc), 1)


def _fail(message: str, status: int) -> int:
    try:
        error(message)
    except OSError:  # stdout is a closed pipe
        _silence_stdout()
        error(message)
    return status


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
