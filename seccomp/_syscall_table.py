"""The package's one table of syscall numbers (syscall_table.json, generated from libseccomp's
syscalls.csv by tools/gen_syscall_table.py): per architecture, each syscall's number as the
kernel sees it and the Linux version that added it. Two views of it:

- `newer_syscalls()`: the numbers of syscalls libseccomp 2.5.4 (the oldest supported) does
  not know, name -> {architecture: number}, for profiles (`seccomp.profile.newer_syscalls`);
- `kernel_numbers(arch, kernel)`: the numbers Linux *kernel* has on an architecture, for the
  ENOSYS stub (`seccomp.bpf.enosys.kernel_syscalls`).

Read once, on first use.
"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, List, Optional, Set, Tuple

__all__ = ["newer_syscalls", "kernel_numbers", "table_arches"]

# The version under which numbers the kernel reserves but does not implement are listed.
_UNVERSIONED = "none"

_DOC: Optional[Dict[str, Dict[str, object]]] = None
_NEWER: Optional[Dict[str, Dict[str, int]]] = None


def _doc() -> Dict[str, Dict[str, object]]:
    global _DOC
    if _DOC is None:
        import json

        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "syscall_table.json")
        with open(path, encoding="utf-8") as fh:
            _DOC = json.load(fh)
    return _DOC


def _column(arch: str) -> Optional[Dict[str, Dict[str, int]]]:
    """The table of libseccomp architecture *arch* (variants share their base's)."""
    doc = _doc()
    name = str(doc["variants"].get(arch, arch))
    table = doc["tables"].get(name)
    return table  # type: ignore[return-value]


def table_arches() -> Tuple[str, ...]:
    """The libseccomp architecture names the table has numbers for (variants included)."""
    doc = _doc()
    variants: Dict[str, str] = doc["variants"]  # type: ignore[assignment]
    return tuple(name for column in doc["tables"]
                 for name in [column] + [v for v, base in variants.items() if base == column])


def newer_syscalls() -> Dict[str, Dict[str, int]]:
    """Syscalls libseccomp 2.5.4 does not know: name -> {architecture: number}, names and
    architectures in sorted order. The same dict on every call: do not change it."""
    global _NEWER
    if _NEWER is None:
        doc = _doc()
        tables: Dict[str, Dict[str, Dict[str, int]]] = doc["tables"]  # type: ignore[assignment]
        variants: Dict[str, str] = doc["variants"]  # type: ignore[assignment]
        unknown: Dict[str, List[str]] = doc["unknown_to_libseccomp_2_5_4"]  # type: ignore[assignment]
        numbers: Dict[str, Dict[str, int]] = {}  # arch -> name -> number, for those names
        for arch, by_version in tables.items():
            numbers[arch] = {name: nr for names in by_version.values()
                             for name, nr in names.items() if name in unknown}
        out: Dict[str, Dict[str, int]] = {}
        for name, columns in unknown.items():
            per_arch = {}
            for column in columns:
                per_arch[column] = numbers[column][name]
                for variant, base in variants.items():
                    if base == column:
                        per_arch[variant] = numbers[column][name]
            out[name] = dict(sorted(per_arch.items()))
        _NEWER = out
    return _NEWER


def kernel_numbers(arch: str, kernel: Tuple[int, int]) -> Optional[FrozenSet[int]]:
    """The syscall numbers Linux *kernel* (major, minor) implements on libseccomp architecture
    *arch*; None when the table has no such architecture."""
    table = _column(arch)
    if table is None:
        return None
    out: "Set[int]" = set()
    for version, names in table.items():
        if version == _UNVERSIONED:
            continue
        major, minor = version.split(".")
        if (int(major), int(minor)) <= tuple(kernel[:2]):
            out.update(names.values())
    return frozenset(out)
