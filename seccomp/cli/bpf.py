"""``seccomp disasm``, ``check`` and ``explain``: what a filter does, without loading it."""
from __future__ import annotations

import argparse
import errno

from .._core import InvalidArgumentError
from .._enums import Action, Arch
from .common import (CommandError, add_json_option, error, is_number, out, parse_int,
                     print_json, read_input, subcommand)
from .options import _compile, _profile_options, _resolved

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple

    from .. import bpf


def _source_options(p: argparse.ArgumentParser, file_help: bool = True) -> None:
    _profile_options(p)
    p.add_argument("--arch", help="target architecture (default: this machine's; for a BPF "
                                  "file, every architecture the program checks)")
    if file_help:
        p.add_argument("file", nargs="?", metavar="FILE.bpf",
                       help="a BPF program (raw, as Filter.export_bpf() writes it; - for "
                            "stdin) instead of a profile")


def _program(args: argparse.Namespace) -> Tuple[bytes, List[Arch]]:
    """The BPF program the options name and the architectures to look at it for."""
    from .. import bpf

    if getattr(args, "file", None):
        program = read_input(args.file, "BPF program")
        if args.arch:
            return program, [Arch(args.arch).resolved]
        bpf.check(program)  # a clear error for what is not a BPF program at all
        return program, bpf.arches_checked(program) or [Arch.native()]
    prof = _resolved(args, arch=args.arch)
    if prof is None:
        raise CommandError("'unconfined' is no filter at all (every syscall runs): there is "
                           "nothing to %s" % {"disasm": "disassemble"}.get(args.command,
                                                                             args.command))
    flt = _compile(args, prof, arch=args.arch)
    try:
        return flt.export_bpf(), list(flt.arches)
    finally:
        flt.release()


def _main_arch(args: argparse.Namespace, arches: List[Arch]) -> Arch:
    """The one architecture disasm and check look at: --arch, else this machine's if the
    program covers it, else the first the program checks."""
    if args.arch:
        return Arch(args.arch).resolved
    native = Arch.native()
    return native if native in arches else arches[0]


def add_disasm(sub: Any) -> None:
    """Register ``seccomp disasm``."""
    p = sub.add_parser("disasm", help="print a filter's BPF as an annotated listing",
                       description="Disassemble a BPF program, or the filter a profile "
                                   "compiles to, with the architecture checks, syscall names, "
                                   "argument loads and actions written out.")
    _source_options(p)
    p.set_defaults(func=_cmd_disasm)


@subcommand
def _cmd_disasm(args: argparse.Namespace) -> int:
    from .. import bpf

    program, arches = _program(args)
    out(bpf.disassemble(program, _main_arch(args, arches)))
    return 0


def _arg(text: str) -> int:
    """An argparse type: a syscall argument in ASCII decimal or 0x hex (a usage error else)."""
    try:
        return parse_int(text)
    except CommandError:
        raise argparse.ArgumentTypeError("not an integer: %r" % text) from None


def parse_action(text: str) -> Tuple[str, Optional[int]]:
    """An action as written on the command line: ``ALLOW``, ``KILL_PROCESS``, ``ERRNO``
    (any errno), ``ERRNO(1)``, ``ERRNO(EPERM)``, ``TRACE(5)``, with or without libseccomp's
    ``SCMP_ACT_`` prefix, any case. Returns the kind and the data (None: any)."""
    spec = text.strip().upper()
    spec = spec[len("SCMP_ACT_"):] if spec.startswith("SCMP_ACT_") else spec
    kind, paren, rest = spec.partition("(")
    kind = {"KILL": "KILL_THREAD"}.get(kind.strip(), kind.strip())
    kinds = set(Action.members()) | {"ERRNO", "TRACE"}
    if kind not in kinds:
        raise CommandError("unknown action %r (one of %s, ERRNO(N), TRACE(N))"
                           % (text, ", ".join(sorted(kinds))), status=2)
    if not paren:
        return kind, None
    if not rest.endswith(")") or kind not in ("ERRNO", "TRACE"):
        raise CommandError("invalid action %r" % text, status=2)
    data = rest[:-1].strip()
    if is_number(data):
        try:  # the range an action's data has: an ERRNO(70000) never matches
            code = getattr(Action, kind)(parse_int(data, "action data")).data
        except (CommandError, InvalidArgumentError) as exc:
            raise CommandError("invalid action %r: %s" % (
                text, exc if isinstance(exc, CommandError) else exc.strerror), 2) from None
        return kind, code
    code = getattr(errno, data, None)
    if kind != "ERRNO" or not data.startswith("E") or not isinstance(code, int):
        raise CommandError("invalid action %r: unknown errno %r" % (text, data), status=2)
    return kind, code


def _matches(action: Action, expected: Tuple[str, Optional[int]]) -> bool:
    kind, data = expected
    return action.kind == kind and (data is None or action.data == data)


def add_check(sub: Any) -> None:
    """Register ``seccomp check``."""
    p = sub.add_parser("check", help="what a filter answers to one syscall (no loading)",
                       description="Work out, without loading anything, the action a profile's "
                                   "filter (or a BPF file given with --bpf) takes for SYSCALL "
                                   "with the given arguments (decimal or 0x hex).",
                       epilog="exit status: 0, or 1 when --expect is given and the action "
                              "differs.\nexample: seccomp check --arch aarch64 --expect "
                              "'ERRNO(EPERM)' clone 0x10000000",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _source_options(p, file_help=False)
    p.add_argument("--bpf", metavar="FILE.bpf", dest="file", help="a BPF program file")
    p.add_argument("--expect", metavar="ACTION",
                   help="exit 1 unless the action is ACTION: ALLOW, KILL_PROCESS, ERRNO (any "
                        "errno), ERRNO(1), ERRNO(EPERM), ...")
    add_json_option(p)
    p.add_argument("syscall", metavar="SYSCALL", help="a syscall name or number")
    p.add_argument("args", nargs="*", type=_arg, metavar="ARG", help="up to six arguments")
    p.set_defaults(func=_cmd_check)


@subcommand
def _cmd_check(args: argparse.Namespace) -> int:
    from .. import bpf

    expected = parse_action(args.expect) if args.expect else None
    if len(args.args) > 6:
        raise CommandError("a syscall has at most six arguments, not %d" % len(args.args), 2)
    program, arches = _program(args)
    arch = _main_arch(args, arches)
    syscall: Any = (parse_int(args.syscall, "SYSCALL") if is_number(args.syscall)
                    else args.syscall)
    action = bpf.evaluate(program, syscall, args.args, arch=arch)
    ok = expected is None or _matches(action, expected)
    if args.json:
        print_json({"arch": str(arch), "syscall": syscall, "args": args.args,
                    "action": str(action), "kind": action.kind, "data": action.data,
                    "expected": args.expect, "matches": ok if expected else None})
    else:
        out("%s\n" % action)
        if not ok:
            error("%s: expected %s, got %s" % (args.syscall, args.expect, action))
    return 0 if ok else 1


def add_explain(sub: Any) -> None:
    """Register ``seccomp explain``."""
    p = sub.add_parser("explain", help="what a filter does with each syscall, and its holes",
                       description="List what a profile's filter (or a BPF file) does with "
                                   "each syscall that does not get the default action, per "
                                   "architecture, with the arguments its conditions test, and "
                                   "warn about common holes.",
                       epilog="exit status: 0, or 1 when --strict is given and there are "
                              "warnings (--strict also refuses a profile rule that cannot be "
                              "added).")
    _source_options(p)
    p.add_argument("--all", action="store_true", help="list the syscalls with the default "
                                                      "action too")
    add_json_option(p)
    p.set_defaults(func=_cmd_explain)


def _explanation_data(e: bpf.Explanation, only_non_default: bool) -> Dict[str, Any]:
    return {
        "arches": [str(a) for a in e.arches],
        "default": {str(a): [str(x) for x in acts] for a, acts in e.default.items()},
        "syscalls": [{"arch": str(v.arch), "syscall": v.syscall, "number": v.number,
                      "actions": [str(a) for a in v.actions], "args": list(v.args)}
                     for v in e.syscalls
                     if not (only_non_default and v.actions == e.default.get(v.arch))],
        "warnings": list(e.warnings),
    }


@subcommand
def _cmd_explain(args: argparse.Namespace) -> int:
    from .. import bpf

    program, arches = _program(args)
    e = bpf.explain(program, arches)
    if args.json:
        print_json(_explanation_data(e, not args.all))
    else:
        out(e.table(only_non_default=not args.all))
    return 1 if args.strict and e.warnings else 0
