"""``seccomp resolve``: syscall name <-> number on one or more architectures, @group members."""
from __future__ import annotations

import argparse

from .. import _core
from .._enums import Arch
from .._info import syscall_name, syscall_number
from .common import (CommandError, add_json_option, error, is_number, out, parse_int,
                     print_json, subcommand)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, List


def add_resolve(sub: Any) -> None:
    """Register ``seccomp resolve``."""
    p = sub.add_parser(
        "resolve", help="syscall name <-> number, or the members of an @group",
        description="For each item, print the syscall's name and its number on each "
                    "architecture (a number is read on the first architecture, so naming two "
                    "translates between them), or the syscalls of an @group. Multiplexed "
                    "syscalls (socket on x86, ipc calls on s390x...) have a negative "
                    "pseudo-number in libseccomp; the line says so and gives the number the "
                    "kernel sees (-t prints that instead).",
        epilog="exit status: 0, or 1 if any item did not resolve (the others are still "
               "printed).\nexample: seccomp resolve -a x86_64 -a aarch64 openat 257",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("syscalls", nargs="+", metavar="NAME|NUMBER|@GROUP")
    p.add_argument("-a", "--arch", action="append", metavar="ARCH",
                   help="architecture (default: this machine's); repeat to translate between "
                        "architectures")
    p.add_argument("-t", "--translate", action="store_true",
                   help="print the number the kernel sees for multiplexed syscalls (socketcall "
                        "102 for socket on x86), not libseccomp's pseudo-number, as "
                        "scmp_sys_resolver -t does")
    add_json_option(p)
    p.set_defaults(func=_cmd_resolve)


def _entry(name: str, arch: Arch) -> Dict[str, Any]:
    """*name* on *arch*: libseccomp's number, and the kernel's when that is a pseudo-number."""
    try:
        number = syscall_number(name, arch)
    except _core.InvalidArgumentError:
        return {"arch": str(arch), "number": None}
    entry: Dict[str, Any] = {"arch": str(arch), "number": number}
    if number < 0:
        try:
            real = _core.syscall_resolve_name_rewrite(name, arch)
        except _core.InvalidArgumentError:
            real = None
        entry["kernel_number"] = real if real is not None and real >= 0 else None
        if real is not None and real >= 0:
            entry["kernel_syscall"] = syscall_name(real, arch)
    return entry


def _resolve_one(item: str, arches: List[Arch]) -> Dict[str, Any]:
    """One item resolved on every architecture; raises for an unknown name or number."""
    if is_number(item):
        nr = parse_int(item, "syscall number")
        name = syscall_name(nr, arches[0])
    else:
        name = item
    entries = [_entry(name, a) for a in arches]
    if all(e["number"] is None for e in entries):
        raise CommandError("syscall %r is not known on %s" % (
            name, ", ".join(str(a) for a in arches)))
    return {"item": item, "name": name, "arches": entries}


def _text(result: Dict[str, Any], translate: bool) -> str:
    parts = []
    for e in result["arches"]:
        label = e["arch"] + ":" if len(result["arches"]) > 1 else ""
        if e["number"] is None:
            parts.append(label + "-")
        elif e["number"] < 0 and translate and e.get("kernel_number") is not None:
            parts.append("%s%d" % (label, e["kernel_number"]))
        elif e["number"] < 0:
            real = ("; multiplexed through %s %d" % (e["kernel_syscall"], e["kernel_number"])
                    if e.get("kernel_number") is not None else "")
            parts.append("%s%d (libseccomp's pseudo-number%s)" % (label, e["number"], real))
        else:
            parts.append("%s%d" % (label, e["number"]))
    return "%s %s" % (result["name"], " ".join(parts))


@subcommand
def _cmd_resolve(args: argparse.Namespace) -> int:
    from .. import profile

    arches = [Arch(a).resolved for a in (args.arch or ["native"])]
    results: List[Dict[str, Any]] = []
    status = 0
    for item in args.syscalls:
        try:  # an item that does not resolve is reported, and the others still printed
            if item.startswith("@"):
                result: Dict[str, Any] = {"item": item, "group": list(profile.expand(item))}
            else:
                result = _resolve_one(item, arches)
        except (CommandError, _core.SeccompError) as exc:
            message = str(exc) if isinstance(exc, CommandError) else str(exc.strerror or exc)
            result = {"item": item, "error": message}
            status = 1
        results.append(result)
        if args.json:
            continue
        if "error" in result:
            error(result["error"])
        elif "group" in result:
            out("".join(name + "\n" for name in result["group"]))
        else:
            out(_text(result, args.translate) + "\n")
    if args.json:
        print_json(results)
    return status
