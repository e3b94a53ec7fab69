"""What every subcommand shares: the error it raises, reading inputs, writing outputs, --json.

A subcommand reports a failure by raising `CommandError` (or letting a library exception
through): `seccomp.cli.main` is the one place that prints ``seccomp: error: ...`` and picks
the exit status. Its ``_cmd_NAME`` is decorated with `subcommand` (the library's warnings as
``seccomp: warning:`` lines); everything it prints goes through `write_output` (`out`,
`print_json`): a closed or failing stdout is an error naming stdout, never output dropped.
"""
from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    import argparse
    from typing import Any, Callable, Optional, Union

# The most a command reads from one file or stdin: far above any real profile or program
# (a BPF program is at most 4096 * 8 bytes), and it stops /dev/zero or a runaway pipe.
MAX_INPUT = 64 << 20


class CommandError(Exception):
    """A failure the command reports as ``seccomp: error: MESSAGE``, exiting with *status*."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def command_argv(args: argparse.Namespace, usage: str) -> "list[str]":
    """The COMMAND ARGS... after ``--`` of run and record; a usage error (2) when empty."""
    argv = list(args.command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise CommandError("no command given (%s)" % usage, 2)
    return argv


def error(message: str) -> None:
    """Print ``seccomp: error: MESSAGE`` to stderr, for a failure the command goes on after
    (failures that end it are raised as `CommandError`). An over-long message (one that
    quotes a 5000-digit input) is shortened in the middle."""
    message = message.strip()
    if len(message) > 400:
        message = message[:250] + " [...] " + message[-100:]
    flush_std()
    to_stderr("seccomp: error: " + message)


def to_stderr(line: str) -> None:
    """Print *line* to stderr; nothing when fd 2 was closed (the exit status still tells).
    print(file=None) would write it to stdout, into the command's output."""
    if sys.stderr is not None:
        print(line, file=sys.stderr)


def flush_std() -> None:
    """Flush stdout (what it cannot take is dropped: the error is reported where it was
    written) and stderr, before an error message or exec. A stream whose fd was closed at
    start-up is None."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except OSError:
                pass


def parse_int(text: str, what: str = "number") -> int:
    """An integer written in ASCII: decimal, 0x hex, 0o octal or 0b binary, maybe negative.

    Python's int() also takes other digits ('²', Arabic-Indic digits) and underscores; the
    command line takes only what C tools take."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or "_" in body or not body[:1].isdigit():
        raise CommandError("%s: not an integer: %r" % (what, text))
    try:
        return int(text, 0)
    except ValueError:
        raise CommandError("%s: not an integer: %r" % (what, text)) from None


def is_number(text: str) -> bool:
    """Whether a command-line word is meant as a number (ASCII digits after an optional -)."""
    body = text[1:] if text[:1] == "-" else text
    return body[:1].isascii() and body[:1].isdigit()


def read_input(path: str, what: str = "file") -> bytes:
    """The bytes of *path* (``-``: stdin), read up to `MAX_INPUT`; a `CommandError` naming
    the file for anything that cannot be read."""
    if path == "-":
        if sys.stdin is None:  # fd 0 closed (`<&-`)
            raise CommandError("cannot read %s from stdin: it is closed" % what)
        try:
            data = sys.stdin.buffer.read(MAX_INPUT + 1)
        except OSError as exc:
            raise CommandError("cannot read %s from stdin: %s" % (what, exc.strerror)) from None
    else:
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_INPUT + 1)
        except OSError as exc:
            raise CommandError("cannot read %s %s: %s" % (what, path, exc.strerror)) from None
    if len(data) > MAX_INPUT:
        raise CommandError("%s %s is larger than %d MiB" % (what, path, MAX_INPUT >> 20))
    return data


class QuickArgs:
    """The namespace a subcommand's ``quick_args`` returns (argparse's Namespace without
    importing argparse)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def add_output_option(p: argparse.ArgumentParser,
                      help: str = "write to FILE instead of stdout (- means stdout)") -> None:
    """Add ``-o/--output FILE`` (``-`` or absent: stdout)."""
    p.add_argument("-o", "--output", metavar="FILE", default="-", help=help)


def write_output(path: Optional[str], data: Union[bytes, str], *, binary: bool = False) -> None:
    """Write *data* to *path* (``-`` or None: stdout). Binary data is refused on a terminal.
    Every subcommand's output goes through here: stdout closed or failing is a
    `CommandError` naming stdout (a reader gone is BrokenPipeError: `seccomp.cli.main` stops
    quietly), never output silently dropped."""
    raw = data.encode() if isinstance(data, str) else data
    if path in (None, "-"):
        stream = sys.stdout
        if stream is None:  # fd 1 closed (`seccomp info >&-`): print() would drop it all
            raise CommandError("cannot write to stdout: it is closed")
        if binary and stream.isatty():
            raise CommandError("refusing to write binary data to a terminal: redirect it or "
                               "use -o FILE")
        try:
            stream.flush()
            stream.buffer.write(raw)
            stream.buffer.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise CommandError("cannot write to stdout: %s" % exc.strerror) from None
        return
    assert path is not None
    try:
        with open(path, "wb") as fh:
            fh.write(raw)
    except OSError as exc:
        raise CommandError("cannot write %s: %s" % (path, exc.strerror)) from None


def add_json_option(p: argparse.ArgumentParser) -> None:
    """Add ``--json``: print the answer as one JSON document (see `print_json`)."""
    p.add_argument("--json", action="store_true", help="print the answer as JSON")


def out(text: str) -> None:
    """Write *text* to stdout (`write_output`)."""
    write_output("-", text)


def print_json(data: Any) -> None:
    """Print *data* as indented JSON (Actions and Arches as their names)."""
    import json

    out(json.dumps(data, indent=2, default=str) + "\n")


def warn(message: str) -> None:
    """Print ``seccomp: warning: MESSAGE`` to stderr."""
    to_stderr("seccomp: warning: " + message)


class WarningsAsLines:
    """Within it, the library's warnings (a rule left out, an @include read from elsewhere,
    TSYNC unavailable: UserWarning and its subclasses) reach the user as ``seccomp: warning:
    MESSAGE`` lines, at once and every time, not in Python's format with a file, a line number
    and source code."""

    def __enter__(self) -> None:
        import warnings

        self._saved = warnings.catch_warnings()
        self._saved.__enter__()
        shown = warnings.showwarning

        def show(message: Any, category: Any, *rest: Any, **kw: Any) -> None:
            if issubclass(category, UserWarning):
                warn(str(message))
            else:
                shown(message, category, *rest, **kw)

        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = show

    def __exit__(self, *exc: Any) -> None:
        self._saved.__exit__(*exc)


def subcommand(func: Callable[[Any], int]) -> Callable[[Any], int]:
    """A subcommand's ``_cmd_NAME`` as it is registered: run within `WarningsAsLines`
    (``run`` execs after, so its warnings come at once). ``record`` instead enters it once
    its command has started: the warnings module's import would delay that."""

    def run(args: Any) -> int:
        with WarningsAsLines():
            return func(args)

    run.__name__, run.__doc__ = func.__name__, func.__doc__
    return run
