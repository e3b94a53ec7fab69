"""``seccomp disasm``, ``check`` and ``explain``: what a filter does, without loading it."""
from __future__ import annotations

import argparse
import sys
from typing import Any, Tuple

from .. import bpf
from .._enums import Arch
from .options import _compile, _profile_options, _resolved


def _source_options(p: argparse.ArgumentParser, file_help: bool = True) -> None:
    _profile_options(p)
    p.add_argument("--arch", help="target architecture (default: this machine's)")
    if file_help:
        p.add_argument("file", nargs="?", metavar="FILE.bpf",
                       help="a BPF program (raw, as Filter.export_bpf() writes it; - for "
                            "stdin) instead of a profile")


def _program(args: argparse.Namespace) -> Tuple[bytes, Arch]:
    """The BPF program the options name and its architecture."""
    arch = Arch(args.arch).resolved if args.arch else Arch.native()
    if getattr(args, "file", None):
        if args.file == "-":
            return sys.stdin.buffer.read(), arch
        with open(args.file, "rb") as fh:
            return fh.read(), arch
    flt = _compile(args, _resolved(args, arch=args.arch), arch=args.arch)
    try:
        return flt.export_bpf_bytes(), arch
    finally:
        flt.release()


def add_disasm(sub: Any) -> None:
    """Register ``seccomp disasm``."""
    p = sub.add_parser("disasm", help="print a filter's BPF as an annotated listing",
                       description="Disassemble a BPF program, or the filter a profile "
                                   "compiles to, with the architecture checks, syscall names, "
                                   "argument loads and actions written out.")
    _source_options(p)
    p.set_defaults(func=_cmd_disasm)


def _cmd_disasm(args: argparse.Namespace) -> int:
    program, arch = _program(args)
    sys.stdout.write(bpf.disassemble(program, arch))
    return 0


def _int(text: str) -> int:
    try:
        return int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError("not an integer: %r" % text) from None


def add_check(sub: Any) -> None:
    """Register ``seccomp check``."""
    p = sub.add_parser("check", help="what a filter answers to one syscall (no loading)",
                       description="Work out, without loading anything, the action a profile's "
                                   "filter (or a BPF file given with --bpf) takes for SYSCALL "
                                   "with the given arguments (decimal or 0x hex).",
                       epilog="example: seccomp check --arch aarch64 clone 0x10000000")
    _source_options(p, file_help=False)
    p.add_argument("--bpf", metavar="FILE.bpf", dest="file", help="a BPF program file")
    p.add_argument("syscall", metavar="SYSCALL", help="a syscall name or number")
    p.add_argument("args", nargs="*", type=_int, metavar="ARG", help="up to six arguments")
    p.set_defaults(func=_cmd_check)


def _cmd_check(args: argparse.Namespace) -> int:
    program, arch = _program(args)
    syscall: Any = int(args.syscall, 0) if args.syscall[:1].isdigit() else args.syscall
    print(bpf.evaluate(program, syscall, args.args, arch=arch))
    return 0


def add_explain(sub: Any) -> None:
    """Register ``seccomp explain``."""
    p = sub.add_parser("explain", help="what a filter does with each syscall, and its holes",
                       description="List what a profile's filter (or a BPF file) does with "
                                   "each syscall that does not get the default action, per "
                                   "architecture, with the arguments its conditions test, and "
                                   "warn about common holes.")
    _source_options(p)
    p.add_argument("--all", action="store_true", help="list the syscalls with the default "
                                                      "action too")
    p.set_defaults(func=_cmd_explain)


def _cmd_explain(args: argparse.Namespace) -> int:
    if args.file:
        program, arch = _program(args)
        e = bpf.explain(program, [arch])
    else:
        flt = _compile(args, _resolved(args, arch=args.arch), arch=args.arch)
        try:
            e = bpf.explain(flt)
        finally:
            flt.release()
    sys.stdout.write(e.table(only_non_default=not args.all))
    return 0

