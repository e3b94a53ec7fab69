"""``seccomp dump``: the seccomp filters a running process has loaded (see `seccomp.dump`)."""
from __future__ import annotations

import argparse

from .common import CommandError, add_output_option, subcommand, to_stderr, write_output

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any


def add_dump(sub: Any) -> None:
    """Register ``seccomp dump``."""
    p = sub.add_parser(
        "dump", help="the seccomp filters a running process has loaded",
        description="Read the filters process PID runs under (ptrace's "
                    "PTRACE_SECCOMP_GET_FILTER: needs CAP_SYS_ADMIN, permission to ptrace "
                    "PID, and no filter on this process), in the order they were loaded, and "
                    "print them as raw BPF, an annotated listing, or what each does with every "
                    "syscall on each architecture it checks.",
        epilog="exit status: 0, or 1 when the filters cannot be read.")
    p.add_argument("pid", type=int, metavar="PID", help="a process (or thread) id")
    p.add_argument("--format", choices=("explain", "disasm", "bpf"), default="explain",
                   help="output format (default: %(default)s); bpf writes one filter: choose "
                        "it with --index when there are several")
    p.add_argument("--index", type=int, metavar="N",
                   help="only the filter loaded Nth (0: the first loaded)")
    add_output_option(p)
    p.set_defaults(func=_cmd_dump)


@subcommand
def _cmd_dump(args: argparse.Namespace) -> int:
    from .. import bpf, dump

    try:
        filters = dump.filters(args.pid)
    except ProcessLookupError as exc:
        raise CommandError(str(exc.strerror)) from None
    if args.index is not None:
        if not 0 <= args.index < len(filters):
            raise CommandError("process %d has %d filter(s): no index %d"
                               % (args.pid, len(filters), args.index))
        filters = [filters[args.index]]
    if not filters:
        if args.format == "bpf":
            raise CommandError("process %d runs under no seccomp filter" % args.pid)
        to_stderr("seccomp dump: process %d runs under no seccomp filter" % args.pid)
        return 0
    if args.format == "bpf":
        if len(filters) > 1:
            raise CommandError("process %d has %d filters: choose one with --index"
                               % (args.pid, len(filters)))
        write_output(args.output, filters[0].program, binary=True)
        return 0
    out = []
    for f in filters:
        out.append("# filter %d (%d instructions%s; architectures: %s)\n" % (
            f.index, len(f.program) // 8, ", LOG" if f.log else "",
            ", ".join(map(str, f.arches))))
        if args.format == "disasm":
            out.append(bpf.disassemble(f.program))
        else:
            out.append(bpf.explain(f.program, f.arches).table())
    if len(filters) > 1:
        out.append("# the kernel runs every filter, the last loaded first; the strictest "
                   "answer wins\n")
    write_output(args.output, "".join(out))
    return 0
