"""What checking every filter against its rules costs (seccomp.bpf.model).

    python3 benchmarks/bench_check.py [--rounds N]

The built-in default profile (~370 rules) is built and exported, side by side:

  unchecked   profile.load("default").compile() + libseccomp's program with the ENOSYS stub
              (what export_bpf() gave before the check)
  checked     profile.load("default").compile() + export_bpf(): the rules' model, the
              emulator run at every boundary value, where libseccomp's program is wrong the
              generated one (checked too), and the ENOSYS stub

for each target architecture: x86_64 (its filter also covers x86 and x32, where libseccomp
compares only the low halves of x32 arguments, so the program is generated), aarch64 (where
libseccomp's program is right: the cost is the check alone) and s390x (big-endian: libseccomp
mixes byte orders in large filters, so the program is generated). Each round times every
variant once, interleaved; printed: the median over the rounds, the spread (min-max), and the
check's cost relative to the unchecked build+export.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from seccomp import profile  # noqa: E402
from seccomp.bpf import model  # noqa: E402


def unchecked(arch: str) -> None:
    f = profile.load("default").compile(arch=arch)
    f._finish_bpf(model._libseccomp_program(f))
    f.release()


def checked(arch: str) -> None:
    f = profile.load("default").compile(arch=arch)
    f.export_bpf()
    f.release()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    arches = ["x86_64", "aarch64", "s390x"]
    variants = [(a, name, fn) for a in arches for name, fn in
                (("unchecked", unchecked), ("checked", checked))]
    for a, _, fn in variants:  # warm the caches (syscall tables, profile text)
        fn(a)
    times = {(a, name): [] for a, name, _ in variants}
    for _ in range(args.rounds):
        for a, name, fn in variants:
            start = time.perf_counter()
            fn(a)
            times[(a, name)].append((time.perf_counter() - start) * 1000)
    print("%-8s %-10s %10s %17s" % ("arch", "variant", "median ms", "spread ms"))
    for a in arches:
        base = statistics.median(times[(a, "unchecked")])
        for name in ("unchecked", "checked"):
            t = times[(a, name)]
            print("%-8s %-10s %10.2f %8.2f-%-8.2f" % (a, name, statistics.median(t), min(t),
                                                      max(t)))
        cost = statistics.median(times[(a, "checked")]) - base
        print("%-8s check costs %+.2f ms = %+.0f%% of building and exporting\n"
              % (a, cost, 100 * cost / base))


if __name__ == "__main__":
    main()
