"""The package's one table of syscall numbers (syscall_table.json, generated from libseccomp's
syscalls.csv by tools/gen_syscall_table.py): per architecture, each syscall's number as the
kernel sees it and the Linux version that added it. Two views of it:

- `newer_syscalls()`: the numbers of syscalls the oldest supported libseccomp with an
  architecture (2.5.4; 2.6.0 for loongarch64, m68k, sh) does not know there, name ->
  {architecture: number}, for profiles (`seccomp.profile.newer_syscalls`);
- `kernel_numbers(arch, kernel)`: the numbers Linux *kernel* has on an architecture, for the
  ENOSYS stub (`seccomp.bpf.enosys.kernel_syscalls`).

The first, with `table_arches()`, comes from _syscall_newer.py, the small view the generator
writes beside the table, so that building a profile does not parse the whole table (only the
ENOSYS stub for a given kernel needs it) and needs no json. Each is read once, on first use.
"""
from __future__ import annotations

import os

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Dict, FrozenSet, Optional, Set, Tuple

__all__ = ["newer_syscalls", "kernel_numbers", "table_arches"]

# The version under which numbers the kernel reserves but does not implement are listed.
_UNVERSIONED = "none"

_DOC: Optional[Dict[str, Dict[str, object]]] = None
_VIEW: Optional[Dict[str, object]] = None


def _read(name: str) -> Dict[str, object]:
    import json

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), name)
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)  # type: ignore[no-any-return]


def _doc() -> Dict[str, Dict[str, object]]:
    global _DOC
    if _DOC is None:
        _DOC = _read("syscall_table.json")  # type: ignore[assignment]
    assert _DOC is not None
    return _DOC


def _view() -> Dict[str, object]:
    global _VIEW
    if _VIEW is None:
        from ._syscall_newer import VIEW

        _VIEW = VIEW
    return _VIEW


def _column(arch: str) -> Optional[Dict[str, Dict[str, int]]]:
    """The table of libseccomp architecture *arch* (variants share their base's)."""
    doc = _doc()
    name = str(doc["variants"].get(arch, arch))
    table = doc["tables"].get(name)
    return table  # type: ignore[return-value]


def table_arches() -> Tuple[str, ...]:
    """The libseccomp architecture names the table has numbers for (variants included)."""
    return tuple(_view()["table_arches"])  # type: ignore[arg-type]


def newer_syscalls() -> Dict[str, Dict[str, int]]:
    """Syscalls the oldest supported libseccomp with an architecture (2.5.4; 2.6.0 for the
    architectures it added) does not know: name -> {architecture: number}, names and
    architectures in sorted order. The same dict on every call: do not change it."""
    return _view()["newer"]  # type: ignore[return-value]


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
