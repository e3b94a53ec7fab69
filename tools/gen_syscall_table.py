#!/usr/bin/env python3
"""Generate seccomp/syscall_table.json, the package's one table of syscall numbers: for each
architecture, each syscall's number and the Linux version that added it, and which of them
the oldest libseccomp this package supports with that architecture does not know (2.5.4;
2.6.0 for the architectures it added: loongarch64, m68k, sh). It serves the profile builder
(numbers of syscalls such a libseccomp cannot resolve, `NEWER_SYSCALLS`) and
the ENOSYS stub (which numbers each kernel version has, `seccomp.bpf.enosys`), through
seccomp/_syscall_table.py. Beside it, seccomp/_syscall_newer.py: the part every profile
build reads (the numbers of the syscalls those lack, the architectures with a table), a
view derived from the same document (`newer_view`) so that a build need not parse the
whole table (a sixth of `seccomp run`'s start-up when it builds its filter), written as a
Python module so that reading it needs no json (whose import, with re and enum, costs more
than building a recorded profile).

Source: libseccomp's src/syscalls.csv at four commits:

    git -C LIBSECCOMP show v2.5.4:src/syscalls.csv > oldest.csv     # what 2.5.4 knows
    git -C LIBSECCOMP show v2.6.0:src/syscalls.csv > oldest26.csv   # 2.6.0: its new arches
    git -C LIBSECCOMP show 031024a:src/syscalls.csv > versions.csv  # versions, Linux 6.16
    git -C LIBSECCOMP show origin/release-2.6:src/syscalls.csv > newest.csv  # Linux 7.1
    python3 tools/gen_syscall_table.py oldest.csv oldest26.csv versions.csv newest.csv seccomp/

Commit 031024a ("Populate the kernel versions for all arches") records the version that added
each syscall; later commits add syscalls without versions, which come from the kernel's release
notes (`NEWER` below). Corrections applied, each for a known gap in the source:
- the asm-generic architectures (aarch64, loongarch64, riscv64) record 3.0 for syscalls added
  later: they take the version x86_64 records for the same syscall when that is later;
- the csv's numbers are offsets for mips (o32 4000, n64 5000, n32 6000) and x32 (bit 30): the
  table holds the sums, the numbers the kernel (and a filter) sees;
- SCMP_KV_UNDEF means the number is reserved but not implemented (the kernel answers ENOSYS):
  such numbers are listed under the version "none".
Little- and big-endian variants of an architecture share its column (`variants`).
"""
from __future__ import annotations

import csv
import json
import os
import sys
from typing import Any, Dict, List, Optional, Tuple

# Syscalls the versioned table lacks (added after Linux 6.16).
NEWER = {"file_getattr": "6.17", "file_setattr": "6.17", "listns": "6.19", "uprobe": "6.19",
         "rseq_slice_yield": "7.0"}
BASE = {"mips": 4000, "mips64": 5000, "mips64n32": 6000, "x32": 0x40000000}
GENERIC = ("aarch64", "loongarch64", "riscv64")
# libseccomp architectures that use another's column (the other byte order).
VARIANTS = {"mipsel": "mips", "mipsel64": "mips64", "mipsel64n32": "mips64n32",
            "ppc64le": "ppc64"}
UNVERSIONED = "none"


def _version(text: str) -> Optional[Tuple[int, int]]:
    text = text.replace("SCMP_", "")
    if "UNDEF" in text or not text.startswith("KV_"):
        return None
    major, minor = text[3:].split("_")[:2]
    return (int(major), int(minor))


def _read(path: str) -> Tuple[str, List[str], Dict[str, Dict[str, Tuple[str, str]]]]:
    """(title, architectures, name -> {architecture: (number, version)}); the csv of 2.5.4
    has no version columns."""
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = rows[0]
    arches = [c for c in header[1:] if not c.endswith("_kver")]
    cols = {a: header.index(a) for a in arches}
    versioned = any(c.endswith("_kver") for c in header)
    table = {row[0]: {a: (row[i], row[i + 1] if versioned else "") for a, i in cols.items()}
             for row in rows[1:]}
    return header[0].lstrip("#").strip(), arches, table


def main(oldest_csvs: List[str], versions_csv: str, newest_csv: str, outdir: str) -> None:
    """*oldest_csvs*: what each supported libseccomp release that added architectures
    knows, oldest first; an architecture's syscalls are checked against the first that has
    it."""
    oldest_known = [_read(path)[1:] for path in oldest_csvs]
    _, _, versioned = _read(versions_csv)
    title, arches, newest = _read(newest_csv)
    tables: Dict[str, Dict[str, Dict[str, int]]] = {}
    unknown: Dict[str, List[str]] = {}
    for arch in arches:
        per_version: Dict[str, Dict[str, int]] = {}
        # (an architecture no supported libseccomp has is refused: none of them is known)
        oldest = next((known for arches_, known in oldest_known if arch in arches_), None)
        for name, cols in sorted(newest.items()):
            text = cols[arch][0]
            if not text.isdigit():
                continue                     # PNR: not a syscall on this architecture
            number = int(text) + BASE.get(arch, 0)
            version: Optional[Tuple[int, int]]
            if name in versioned and arch in versioned[name]:
                version = _version(versioned[name][arch][1])
                if arch in GENERIC and version is not None:
                    x86 = _version(versioned[name].get("x86_64", ("", "UNDEF"))[1])
                    if x86 is not None and x86 > version:
                        version = x86
            elif name in NEWER:
                major, minor = NEWER[name].split(".")
                version = (int(major), int(minor))
            else:
                version = None
            key = UNVERSIONED if version is None else "%d.%d" % version
            per_version.setdefault(key, {})[name] = number
            if oldest is not None and not oldest.get(name, {}).get(arch, ("PNR",))[0].isdigit():
                unknown.setdefault(name, []).append(arch)
        order = sorted(per_version, key=lambda k: (k == UNVERSIONED, k != UNVERSIONED
                                                   and tuple(map(int, k.split(".")))))
        tables[arch] = {k: per_version[k] for k in order}
    doc = {
        "comment": "Syscall numbers (as the kernel sees them) per architecture and the Linux "
                   "version that added them; generated by tools/gen_syscall_table.py from "
                   "libseccomp's syscalls.csv (%s; versions as of Linux 6.16 plus release "
                   "notes)." % title,
        "variants": VARIANTS,
        "unknown_to_oldest_libseccomp": {name: sorted(a) for name, a in sorted(unknown.items())},
        "tables": tables,
    }
    with open(os.path.join(outdir, "syscall_table.json"), "w", encoding="utf-8") as fh:
        fh.write(_layout(doc) + "\n")
    with open(os.path.join(outdir, "_syscall_newer.py"), "w", encoding="utf-8") as fh:
        fh.write(newer_module(newer_view(doc)))


def newer_view(doc: Dict[str, Any]) -> Dict[str, Any]:
    """The part of the table document every profile build needs: the architectures with a
    table (variants included), and for each syscall the oldest supported libseccomp with an
    architecture does not know its number
    per architecture (variants included; names and architectures in sorted order)."""
    tables: Dict[str, Dict[str, Dict[str, int]]] = doc["tables"]
    variants: Dict[str, str] = doc["variants"]
    unknown: Dict[str, List[str]] = doc["unknown_to_oldest_libseccomp"]
    newer: Dict[str, Dict[str, int]] = {}
    for name, columns in unknown.items():
        per_arch = {}
        for column in columns:
            number = next(n[name] for n in tables[column].values() if name in n)
            per_arch[column] = number
            for variant, base in variants.items():
                if base == column:
                    per_arch[variant] = number
        newer[name] = dict(sorted(per_arch.items()))
    return {
        "comment": "The numbers of the syscalls the oldest supported libseccomp with an "
                   "architecture (2.5.4; 2.6.0 for loongarch64, m68k, sh) does not know, and the "
                   "architectures syscall_table.json has: a view of it, generated with it by "
                   "tools/gen_syscall_table.py.",
        "table_arches": [name for column in tables for name in
                         [column] + [v for v, base in variants.items() if base == column]],
        "newer": newer,
    }


def newer_module(view: Dict[str, Any]) -> str:
    """The text of seccomp/_syscall_newer.py: *view* as the module's ``VIEW``."""
    import pprint

    return ('"""The syscall table\'s small view (see seccomp/_syscall_table.py), generated by\n'
            'tools/gen_syscall_table.py."""\n'
            "VIEW: \"dict[str, object]\" = %s\n" % pprint.pformat(view, width=72, sort_dicts=False))


def _layout(doc: Dict[str, Any], parts: Optional[Dict[str, int]] = None) -> str:
    """JSON with one line per table entry (a version's syscalls, one name's architectures):
    diffs between regenerations stay readable. *parts*: each key's depth of one-line
    values."""
    def nested(value: object, depth: int, flat_at: int) -> str:
        if depth == flat_at or not isinstance(value, dict):
            return json.dumps(value)
        pad = " " * (depth + 1)
        items = ",\n".join("%s%s: %s" % (pad, json.dumps(k), nested(v, depth + 1, flat_at))
                           for k, v in value.items())
        return "{\n%s\n%s}" % (items, " " * depth)
    if parts is None:
        parts = {"comment": 1, "variants": 1, "unknown_to_oldest_libseccomp": 2, "tables": 3}
    return "{\n%s\n}" % ",\n".join(
        " %s: %s" % (json.dumps(k), nested(doc[k], 1, parts[k])) for k in parts)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit("usage: gen_syscall_table.py OLDEST.csv [OLDER_WITH_NEW_ARCHES.csv...] "
                 "VERSIONS.csv NEWEST.csv OUTDIR")
    main(sys.argv[1:-3], sys.argv[-3], sys.argv[-2], sys.argv[-1])
