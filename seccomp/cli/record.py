"""``seccomp record``: run a command and write the smallest profile that lets it run (see
`seccomp.record`)."""
from __future__ import annotations

import argparse
import signal
import sys
from typing import Any, List, Optional

from .._errors import SeccompError
from .options import write_output


def add_record(sub: Any) -> None:
    """Register ``seccomp record``."""
    p = sub.add_parser(
        "record", help="run a command and write the smallest profile that lets it run",
        description="Run COMMAND under a filter that notifies every syscall (answered at once: "
                    "the command runs as usual, with no_new_privs set), then write the "
                    "smallest profile that lets the same run pass: the syscalls seen, per "
                    "architecture, everything else denied with EPERM. Threads and children "
                    "are recorded too. Needs no privilege. The profile is checked with the "
                    "emulator against the recording before it is written.",
        epilog="exit status: the command's; 126/127 when it cannot be run, 1 when it cannot "
               "be recorded, 2 for a usage error.\n"
               "example: seccomp record -o ls.json -- ls /; seccomp run --profile ls.json "
               "-- ls /")
    p.add_argument("-o", "--output", metavar="FILE",
                   help="write the profile to FILE (default: stdout, after the command's "
                        "own output)")
    p.add_argument("--format", choices=("docker", "oci"), default="docker",
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
    p.set_defaults(func=_cmd_record)


def _cmd_record(args: argparse.Namespace) -> int:
    from .. import profile, record

    argv: List[str] = list(args.command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("seccomp record: error: no command given (seccomp record [OPTIONS] -- COMMAND "
              "ARGS...)", file=sys.stderr)
        return 2
    base: Optional[profile.Profile] = None
    if args.merge:
        try:
            base = profile.load(args.merge)
        except SeccompError as exc:
            print("seccomp record: --merge %s: %s" % (args.merge, exc.strerror), file=sys.stderr)
            return 1
    # Ctrl-C reaches the command (its process group); the recorder waits for it to end and
    # writes what it did. A handler, not SIG_IGN: the command must not inherit "ignored".
    previous = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        rec = record.record(argv, args=args.args)
    except record.RecordError as exc:
        print("seccomp record: %s" % exc.strerror, file=sys.stderr)
        return 127 if exc.errno == 2 else 126 if exc.errno in (8, 13) else 1
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        prof = rec.profile(merge=base)
    except SeccompError as exc:
        print("seccomp record: %s" % exc.strerror, file=sys.stderr)
        return 1
    if args.format == "oci" and not prof.resolved:
        prof = prof.resolve(caps=profile.CONTAINER_CAPS)
    text = prof.to_json(oci=args.format == "oci").encode()
    if not write_output(text, args.output, "seccomp record"):
        return 1
    counts = ", ".join("%d syscalls on %s" % (len(rec.syscalls(a)), a) for a in rec.arches)
    print("seccomp record: %s: %s (%d notifications, exit status %d)%s"
          % (argv[0], counts or "no syscalls", rec.notifications, rec.returncode,
             "; profile written to %s" % args.output if args.output else ""), file=sys.stderr)
    return rec.returncode if rec.returncode >= 0 else 128 - rec.returncode
