"""The `seccomp` command (also `python -m seccomp`).

One module per group of subcommands. Each module has, per subcommand, an ``add_NAME(sub)``
that registers its parser and sets ``func`` to a ``_cmd_NAME(args) -> int`` whose return value
is the exit status, decorated with `seccomp.cli.common.subcommand` (library warnings as
``seccomp: warning:`` lines). To add a subcommand, write its ``add_NAME`` and list it in
``SUBCOMMANDS``. Shared helpers (errors, reading inputs, writing through ``write_output``/``out``,
``-o``, ``--json``) are in `seccomp.cli.common`.

Start-up is part of the command's cost (``seccomp run`` execs its command at once): only the
module of the subcommand named first on the command line is imported and registered (all of
them for ``--help`` and anything else), and ``--version`` is worked out only when asked.
The subcommands in ``QUICK`` parse their common command-line forms themselves, without
argparse: ``seccomp run -- CMD`` with no options loads the package's prebuilt program of the
default profile when it was made for exactly this host (`seccomp.cli.prebuilt`), ``seccomp
record`` starts its command before the recorder's own imports. A subcommand whose namespace
has ``exit_at_once`` set ends the process as soon as it returns, when run as the program
(``record``: the interpreter's finalization would only delay the end).

Exit status: 0 success, 1 an error (``seccomp: error: ...`` on stderr) or a failed
``--expect``/``--strict`` check, 2 a usage error; ``run`` exits with its command's status.
"""
from __future__ import annotations

import sys

from .common import CommandError, error, flush_std

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    import argparse
    from typing import Any, List, Optional, Sequence, Tuple

#: The registration list: (subcommand, module of seccomp.cli whose ``add_<subcommand>``
#: registers it), in this order in ``--help``.
SUBCOMMANDS: List[Tuple[str, str]] = [
    ("run", "run"),
    ("export", "export"),
    ("resolve", "resolve"),
    ("info", "info"),
    ("disasm", "bpf"),
    ("check", "bpf"),
    ("explain", "bpf"),
    ("asm", "asm"),
    ("record", "record"),
    ("dump", "dump"),
    ("diff", "diff"),
]


#: Subcommands whose module parses the common forms of their command line itself, without
#: argparse: its ``quick_args(argv)`` returns the namespace argparse would, or None to let
#: argparse parse the line (help, abbreviations, errors).
QUICK = {"run": "run", "record": "record"}


def _module(name: str) -> Any:
    """The module ``seccomp.cli.<name>``, imported (without importlib: its import costs as
    much as a subcommand's module)."""
    __import__(__name__ + "." + name)
    return sys.modules[__name__ + "." + name]


def _quick_args(argv: List[str]) -> Any:
    module = QUICK.get(argv[0]) if argv else None
    if module is None:
        return None
    return _module(module).quick_args(argv)


def build_parser(argv: Optional[Sequence[str]] = None) -> argparse.ArgumentParser:
    """The argument parser: with every subcommand, or, when *argv* starts with the name of
    one, with that one alone (it parses *argv* the same way, importing less)."""
    from .parser import Parser, VersionAction

    parser = Parser(prog="seccomp", description="Build, inspect and apply seccomp filters.",
                    epilog="exit status: 0 success, 1 error or failed check, 2 usage error")
    parser.add_argument("--version", action=VersionAction,
                        help="print the package's and libseccomp's versions and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    first = argv[0] if argv else None
    chosen = [entry for entry in SUBCOMMANDS if entry[0] == first] or SUBCOMMANDS
    for name, module in chosen:
        getattr(_module(module), "add_" + name)(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Run the command line; returns the exit status.

    The one place where failures become ``seccomp: error: ...``: `CommandError`, the library's
    exceptions (`seccomp.SeccompError`, which includes invalid input), files that cannot be
    read, input too deep or too large to parse. No traceback reaches the user."""
    program = argv is None  # run as the `seccomp` program, not called from Python
    try:
        if argv is None:
            argv = sys.argv[1:]
        args = _quick_args(argv) or build_parser(argv).parse_args(argv)
        status = int(args.func(args) or 0)
        if program and getattr(args, "exit_at_once", False):
            # the interpreter's finalization (a garbage collection and the teardown of every
            # module loaded) only delays the end: its files are closed, its output is flushed
            flush_std()
            import os

            os._exit(status)
        return status
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
