"""``seccomp record``: run a command and write the smallest profile that lets it run (see
`seccomp.record`)."""
from __future__ import annotations

import errno
import sys

from .common import (CommandError, QuickArgs, WarningsAsLines, add_output_option, command_argv,
                     to_stderr, write_output)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    import argparse
    from typing import Any, List, Optional

_FORMATS = ("docker", "oci")


def add_record(sub: Any) -> None:
    """Register ``seccomp record``."""
    p = sub.add_parser(
        "record", help="run a command and write the smallest profile that lets it run",
        description="Run COMMAND under a filter that notifies every syscall (answered at once: "
                    "the command runs as usual, with no_new_privs set), then write the "
                    "smallest profile that lets the same run pass: the architectures and "
                    "syscalls seen, everything else denied with EPERM (ENOSYS beyond what it "
                    "names). Threads and children are recorded too. Needs no privilege. The "
                    "profile is checked with the emulator against the recording before it "
                    "is written.",
        epilog="exit status: the command's (128+N when signal N ended it); 126/127 when it "
               "cannot be run, 1 when it cannot be recorded, 2 for a usage error.\n"
               "example: seccomp record -o ls.json -- ls /; seccomp run --profile ls.json "
               "-- ls /")
    import argparse

    add_output_option(p, "write the profile to FILE instead of stdout (- means stdout, where it "
                         "follows the command's own output: give -o FILE when the command "
                         "writes there)")
    p.add_argument("--format", choices=_FORMATS, default="docker",
                   help="docker: with comments (and a --merge profile's Docker fields); oci: "
                        "only the OCI runtime-spec's fields, resolved for this machine and an "
                        "unprivileged container (default: %(default)s)")
    p.add_argument("--args", action="store_true",
                   help="also record the argument values rules usually name (personality, "
                        "clone and unshare flags, socket families, ioctl requests, prctl "
                        "options) and allow only those")
    p.add_argument("--merge", metavar="FILE",
                   help="add this run to the profile in FILE: only what it does not allow "
                        "already is added")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND ARGS...",
                   help="the command to record")
    p.set_defaults(func=_cmd_record, exit_at_once=True)


def quick_args(argv: List[str]) -> Optional[QuickArgs]:
    """``seccomp record ...`` parsed without argparse when it is in the common forms (the
    options spelt in full, ``-oFILE``, ``--name=value``, then the command): what argparse
    would give, so the command starts without argparse's import. None for anything else
    (help, abbreviations, usage errors): argparse parses those."""
    values: dict = {"output": "-", "format": "docker", "args": False, "merge": None}
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--" or arg == "-" or not arg.startswith("-"):
            break
        if arg == "--args":
            values["args"] = True
            i += 1
            continue
        name, equals, value = arg.partition("=")
        key = {"-o": "output", "--output": "output", "--format": "format",
               "--merge": "merge"}.get(name)
        if equals and name.startswith("--") and key:
            i += 1
        elif key and not equals and i + 1 < len(argv):
            value = argv[i + 1]
            if value.startswith("-") and value != "-":
                return None  # an option, or a value argparse may take for one
            i += 2
        elif arg.startswith("-o") and len(arg) > 2 and not arg.startswith("--") and not equals:
            key, value = "output", arg[2:]
            i += 1
        else:
            return None
        if key == "format" and value not in _FORMATS:
            return None
        values[key] = value
    return QuickArgs(command=argv[i:], func=_cmd_record, exit_at_once=True, **values)


def _cmd_record(args: argparse.Namespace) -> int:
    """Not a `subcommand`: it enters `WarningsAsLines` once its command has started."""
    from .. import record

    argv = command_argv(args, "seccomp record [OPTIONS] -- COMMAND ARGS...")
    if args.output in (None, "-") and sys.stdout is None:  # said before the run, not after
        raise CommandError("cannot write the profile to stdout: it is closed (give -o FILE)")
    base = None
    if args.merge:
        from .. import profile
        from .._errors import SeccompError

        try:
            with WarningsAsLines():
                base = profile.load(args.merge)
        except SeccompError as exc:
            raise CommandError("--merge %s: %s" % (args.merge, exc.strerror)) from None
    # Ctrl-C reaches the command (its process group); the recorder waits for it to end and
    # writes what it did. A handler, not SIG_IGN: the command must not inherit "ignored".
    # (_signal: the signal module's own import would delay the command's start.)
    import _signal

    previous = _signal.signal(_signal.SIGINT, lambda *_: None)
    try:
        try:
            started = record.start(argv, args=args.args)
        except record.RecordError as exc:
            # naming the command: it could not be run (127 not there, 126 not executable, as
            # a shell says); else the recording could not be set up
            status = 1 if exc.filename is None else 127 if exc.errno == errno.ENOENT else 126
            raise CommandError(str(exc.strerror), status) from None
        # the command runs, answered by the recorder's own thread: meanwhile this interpreter
        # builds and checks the profile of what it has done so far
        with WarningsAsLines():
            rec, prof = started.wait_profile(merge=base)
    finally:
        _signal.signal(_signal.SIGINT, previous)
    from .. import profile

    if args.format == "oci" and not prof.resolved:
        with WarningsAsLines():
            prof = prof.resolve(caps=profile.CONTAINER_CAPS)
    write_output(args.output, prof.to_json(oci=args.format == "oci"))
    counts = ", ".join("%d syscalls on %s" % (len(rec.calls[a]), a) for a in rec.arches)
    where = "" if args.output in (None, "-") else "; profile written to %s" % args.output
    to_stderr("seccomp record: %s: %s (%d notifications, exit status %d)%s"
              % (argv[0], counts or "no syscalls", rec.notifications, rec.returncode, where))
    return rec.returncode if rec.returncode >= 0 else 128 - rec.returncode
