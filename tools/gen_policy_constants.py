#!/usr/bin/env python3
"""Generate seccomp/policy/minijail_constants.json: the named constants minijail's policy
compiler knows (every all-caps ``#define`` of the kernel and C library headers minijail's
``gen_constants.sh`` reads: ioctl numbers such as ``FS_IOC_GETFLAGS`` and ``TCGETS2``, ``PR_*``,
``MADV_*``, ``SO_*``, ...), per architecture, for the minijail reader
(`seccomp.policy.constants`). The curated table in constants.py wins where both have a name.

Source: minijail's architecture JSON (``{"arch_name", "bits", "syscalls", "constants"}``, as
minijail's ``tools/generate_constants_json.py`` writes it), which crosvm ships for the
architectures it runs on, generated from recent kernel headers::

    git -C CROSVM show HEAD:jail/seccomp/x86_64/constants.json > x86_64.json
    git -C CROSVM show HEAD:jail/seccomp/aarch64/constants.json > aarch64.json
    git -C CROSVM show HEAD:jail/seccomp/riscv64/constants.json > riscv64.json
    python3 tools/gen_policy_constants.py x86_64.json aarch64.json riscv64.json \\
        seccomp/policy/minijail_constants.json

The output holds the first file's architecture in full ("base") and, for each other one, the
names whose value differs or that only it has. Values are 64-bit unsigned, as minijail stores
them. Architectures without a file get no generated constants (32-bit ones spell many ioctl
numbers differently), only the curated table.
"""
from __future__ import annotations

import json
import sys
from typing import Dict

_ARCH_NAMES = {"arm64": "aarch64"}  # minijail's names -> libseccomp's
_SKIP_PREFIXES = ("MINIJAIL_",)     # minijail's own, not the kernel's


def read(path: str) -> "tuple[str, Dict[str, int]]":
    with open(path) as fh:
        data = json.load(fh)
    arch = _ARCH_NAMES.get(data["arch_name"], data["arch_name"])
    values = {k: int(v) & 0xFFFFFFFFFFFFFFFF for k, v in data["constants"].items()
              if not k.startswith(_SKIP_PREFIXES)}
    return arch, values


def main(argv: "list[str]") -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    *inputs, out = argv[1:]
    base_arch, base = read(inputs[0])
    doc: Dict[str, object] = {"base": base_arch, "arches": {base_arch: dict(sorted(base.items()))}}
    arches = doc["arches"]
    assert isinstance(arches, dict)
    for path in inputs[1:]:
        arch, values = read(path)
        arches[arch] = {k: v for k, v in sorted(values.items()) if base.get(k) != v}
        # a name the base has but this architecture lacks: None (unknown there)
        arches[arch].update({k: None for k in sorted(base) if k not in values})
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=0, sort_keys=False)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
