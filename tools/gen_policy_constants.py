#!/usr/bin/env python3
"""Generate seccomp/policy/minijail_constants.json: the named constants minijail's policy
compiler and gosecco know (every all-caps ``#define`` of the kernel and C library headers minijail's
``gen_constants.sh`` reads: ioctl numbers such as ``FS_IOC_GETFLAGS`` and ``TCGETS2``, ``PR_*``,
``MADV_*``, ``SO_*``, ...), per architecture, for the minijail reader
(`seccomp.policy.constants`). The curated table in constants.py wins where both have a name.

Source: minijail's architecture JSON (``{"arch_name", "bits", "syscalls", "constants"}``, as
minijail's ``tools/generate_constants_json.py`` writes it), which crosvm ships for the
architectures it runs on, generated from recent kernel headers::

    git -C CROSVM show HEAD:jail/seccomp/x86_64/constants.json > x86_64.json
    git -C CROSVM show HEAD:jail/seccomp/aarch64/constants.json > aarch64.json
    git -C CROSVM show HEAD:jail/seccomp/riscv64/constants.json > riscv64.json
    git -C GOSECCO show HEAD:constants/go_constants.go > go_constants.go
    python3 tools/gen_policy_constants.py x86_64.json aarch64.json riscv64.json \\
        --gosecco go_constants.go seccomp/policy/minijail_constants.json

The output holds the first file's architecture in full ("base") and, for each other one, the
names whose value differs or that only it has. Values are 64-bit unsigned, as minijail stores
them. Architectures without a file get no generated constants (32-bit ones spell many ioctl
numbers differently), only the curated table.

With ``--gosecco constants/go_constants.go`` (github.com/twtiger/gosecco), the names gosecco
registers from Go's ``syscall`` package (``IPV6_V6ONLY``, ``ETH_P_*``, ``RTM_*``, ...) that the
minijail table lacks are added under "gosecco", their values from this machine's C headers
(run it on x86_64: gosecco's values are its build machine's, and its users' are amd64). The
Go-only spellings ``WALL``/``WCLONE``/``WNOTHREAD`` are the headers' ``__WALL``...; names no
header here defines are left out.

With ``--cross ARCH=CC`` (repeatable; Debian's ``gcc-arm-linux-gnueabihf`` and
``gcc-i686-linux-gnu``), the base's names are evaluated for another architecture the way
minijail's ``gen_constants.sh`` does (its header list, its fallbacks for names newer than the
headers), by that cross compiler, read from the object's data (nothing runs); the names its
headers lack are unknown there. For the 32-bit ones (``arm``, ``x86``), where ioctl numbers
and flags differ: ``--cross arm=arm-linux-gnueabihf-gcc --cross x86=i686-linux-gnu-gcc``.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from typing import Dict, List

_ARCH_NAMES = {"arm64": "aarch64"}  # minijail's names -> libseccomp's
_SKIP_PREFIXES = ("MINIJAIL_",)     # minijail's own, not the kernel's


def read(path: str) -> "tuple[str, Dict[str, int]]":
    with open(path) as fh:
        data = json.load(fh)
    arch = _ARCH_NAMES.get(data["arch_name"], data["arch_name"])
    values = {k: int(v) & 0xFFFFFFFFFFFFFFFF for k, v in data["constants"].items()
              if not k.startswith(_SKIP_PREFIXES)}
    return arch, values


_HEADERS = """#define _GNU_SOURCE
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/ip.h>
#include <netinet/icmp6.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/in_route.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/filter.h>
#include <linux/reboot.h>
#include <linux/sched.h>
#include <linux/sockios.h>
#include <sys/inotify.h>
#include <sys/ptrace.h>
#include <asm/ptrace-abi.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/prctl.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <termios.h>
#define WALL __WALL
#define WCLONE __WCLONE
#define WNOTHREAD __WNOTHREAD
"""


# minijail's gen_constants-inl.h (and arch.h's linux/audit.h): the headers its constants come
# from, and its definitions of
# names newer than some headers (the kernel's values, the same on arm, x86 and asm-generic)
_MINIJAIL_HEADERS = """#include <linux/audit.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fd.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/mman.h>
#include <linux/net.h>
#include <linux/prctl.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/serial.h>
#include <linux/sockios.h>
#include <linux/termios.h>
#include <signal.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#if defined(__i386__) || defined(__x86_64__)
#include <asm/prctl.h>
#endif
#undef BLKTRACESETUP
#undef BLKTRACESETUP2
#undef FS_IOC_FIEMAP
#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif
"""


def c_values(names: List[str], headers: str = _HEADERS, cc: str = "cc") -> Dict[str, int]:
    """The values of *names* (64-bit unsigned) by C compiler *cc* and *headers*, read from the
    object's data (so a cross compiler's work without running anything); names the headers
    lack are dropped, after the compiler says which. A 32-bit target's negative values wrap
    at 32 bits, as its ``unsigned long`` (minijail's type) does."""
    missing: set = set()
    objcopy = cc[:-len("gcc")] + "objcopy" if cc.endswith("gcc") else "objcopy"
    with tempfile.TemporaryDirectory() as tmp:
        src, obj, raw = (os.path.join(tmp, n) for n in ("p.c", "p.o", "p.bin"))
        for _ in range(20):
            todo = [n for n in names if n not in missing]
            with open(src, "w") as fh:
                fh.write(headers + "unsigned long long values[] = {\n")
                fh.write("".join("(unsigned long long)(%s), (unsigned long)(%s),\n" % (n, n)
                                 for n in todo))
                fh.write("0};\n")
            r = subprocess.run([cc, "-w", "-c", src, "-o", obj], capture_output=True, text=True)
            if r.returncode == 0:
                subprocess.run([objcopy, "-O", "binary", "--only-section=.data", obj, raw],
                               check=True)
                with open(raw, "rb") as fh:
                    data = fh.read()
                out = {}
                for i, n in enumerate(todo):
                    full = int.from_bytes(data[16 * i:16 * i + 8], "little")
                    value = int.from_bytes(data[16 * i + 8:16 * i + 16], "little")
                    # a 32-bit target's unsigned long cannot hold a 64-bit flag
                    # (CLONE_INTO_CGROUP): unknown there rather than a wrong 0
                    if full == value or full == value | 0xFFFFFFFF00000000:
                        out[n] = value
                return out
            new = set(re.findall(r"[\u2018']([A-Za-z0-9_]+)[\u2019'] undeclared", r.stderr))
            new |= set(re.findall(r"[\u2018']([A-Za-z0-9_]+)[\u2019'] (?:has an )?incomplete",
                                  r.stderr))
            bad_lines = {int(m) for m in re.findall(r"p\.c:(\d+):\d+: error", r.stderr)}
            first = headers.count("\n") + 2  # the line of the first name
            new |= {todo[line - first] for line in bad_lines if 0 <= line - first < len(todo)}
            if not new:
                raise SystemExit(r.stderr)
            missing |= new
    raise SystemExit("too many rounds of undeclared names")


def main(argv: "list[str]") -> int:
    args = argv[1:]
    gosecco = None
    cross: List[str] = []
    while "--cross" in args:
        i = args.index("--cross")
        cross.append(args[i + 1])
        del args[i:i + 2]
    if "--gosecco" in args:
        i = args.index("--gosecco")
        gosecco = args[i + 1]
        del args[i:i + 2]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    *inputs, out = args
    base_arch, base = read(inputs[0])
    doc: Dict[str, object] = {"base": base_arch, "arches": {base_arch: dict(sorted(base.items()))}}
    arches = doc["arches"]
    assert isinstance(arches, dict)
    for path in inputs[1:]:
        arch, values = read(path)
        arches[arch] = {k: v for k, v in sorted(values.items()) if base.get(k) != v}
        # a name the base has but this architecture lacks: None (unknown there)
        arches[arch].update({k: None for k in sorted(base) if k not in values})
    for spec in cross:
        arch, _, cc = spec.partition("=")
        values = c_values(sorted(base), _MINIJAIL_HEADERS, cc)
        arches[arch] = {k: v for k, v in sorted(values.items()) if base.get(k) != v}
        arches[arch].update({k: None for k in sorted(base) if k not in values})
    if gosecco:
        with open(gosecco) as fh:
            names = re.findall(r'RegisterConstant\("([A-Za-z0-9_]+)", syscall\.', fh.read())
        values = c_values(sorted(set(names) - set(base)), _HEADERS, "cc")
        doc["gosecco"] = dict(sorted(values.items()))
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=0, sort_keys=False)
        fh.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
