"""``seccomp asm``: assemble BPF text (what ``seccomp disasm`` prints) into a program."""
from __future__ import annotations

import argparse

from .common import add_output_option, read_input, subcommand, write_output

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any


def add_asm(sub: Any) -> None:
    """Register ``seccomp asm``."""
    p = sub.add_parser(
        "asm", help="assemble BPF text (as disasm prints it) into a program",
        description="Assemble a classic BPF listing into the bytes the kernel loads: what "
                    "'seccomp disasm' prints, or hand-written code with labels and symbolic "
                    "syscall, action and architecture names (see seccomp.bpf.asm). The "
                    "program is checked as the kernel checks it.")
    p.add_argument("file", nargs="?", default="-", metavar="FILE",
                   help="the listing (default: - for stdin)")
    p.add_argument("--arch", help="architecture for syscall names and byte order (default: "
                                  "this machine's)")
    add_output_option(p)
    p.set_defaults(func=_cmd_asm)


@subcommand
def _cmd_asm(args: argparse.Namespace) -> int:
    from ..bpf import assemble

    text = read_input(args.file, "listing").decode("utf-8", errors="replace")
    write_output(args.output, assemble(text, args.arch), binary=True)
    return 0
