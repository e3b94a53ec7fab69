"""What the ENOSYS stub costs: building and exporting the default profile with and without it.

    python3 benchmarks/bench_enosys.py [--repeat N] [--rounds R]

Both sides start from the built-in default profile resolved as OCI JSON for this machine and
an unprivileged container, and end with the BPF program (what `seccomp run` loads). "with"
adds what the stub needs: resolving the profile's names per architecture, the interval analysis
of libseccomp's program that picks the ENOSYS numbers, the stub, and the check of the patched
program over every syscall number. Rounds alternate the two sides; printed: the median of the
round medians, and the spread (lowest and highest round median).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from seccomp import profile as P  # noqa: E402


def one(text: str, enosys: bool) -> float:
    t0 = time.perf_counter()
    f = P.load(text).compile(enosys=enosys)
    f.export_bpf()
    elapsed = time.perf_counter() - t0
    f.release()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=20, help="runs per side per round")
    ap.add_argument("--rounds", type=int, default=7, help="alternating rounds")
    args = ap.parse_args()
    text = P.load("default").resolve(caps=P.CONTAINER_CAPS).to_json(oci=True)
    one(text, True)  # warm the per-architecture name tables once
    rounds = {False: [], True: []}  # type: dict
    for r in range(args.rounds):
        for enosys in ((False, True) if r % 2 == 0 else (True, False)):
            rounds[enosys].append(statistics.median(one(text, enosys)
                                                    for _ in range(args.repeat)))
    for enosys, label in ((False, "without the stub"), (True, "with the ENOSYS stub")):
        meds = rounds[enosys]
        print("%-22s %7.2f ms  (rounds %.2f-%.2f ms)" % (label, statistics.median(meds) * 1e3,
                                                       min(meds) * 1e3, max(meds) * 1e3))
    ratio = statistics.median(rounds[True]) / statistics.median(rounds[False])
    print("cost of the stub: %+.0f%%" % ((ratio - 1) * 100))


if __name__ == "__main__":
    main()
