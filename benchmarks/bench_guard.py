"""The rule guard's cost: rules of two conditions or more, this package beside libseccomp's own
module (which has no guard), in one run.

    /usr/bin/python3 -m venv /tmp/bench && /tmp/bench/bin/pip install .
    /tmp/bench/bin/python benchmarks/bench_guard.py [--rounds N]

Run it under the interpreter Debian builds libseccomp's module (python3-seccomp) for, as
benchmarks/bench_core.py; without that module only this package's rows are printed.

Before every rule reaches libseccomp, the guard (src_c/_rule_guard.pxi) runs a model of
libseccomp's argument trees for the syscalls that have had a rule of two conditions or more.
Times are CPU time of the process (the guard forks nothing), microseconds per filter: the
median over interleaved rounds, with their spread.
  multi   create a filter, add 20 ioctl and 20 mmap rules of two conditions each (as in
          Firecracker's seccompiler policies), release it
  single  the same with one condition a rule (the guard does nothing for them)
  held    ours only: the 372 rules a policy compiler made of getpgid's three ranges, of which
          libseccomp never returns from the 371st; the guard holds the rules whose add is
          dear and the filter's program is made by the package (export not included)
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_core import import_libseccomp_module  # noqa: E402

import seccomp  # noqa: E402

BATCH = {"multi": 50, "single": 50, "held": 2}


def workloads(mod, filter_class, cond, allow, errno1, eq):
    def multi():
        f = filter_class(errno1)
        for i in range(20):
            f.add_rule(allow, "ioctl", cond(0, eq, 3), cond(1, eq, 0x5400 + i))
        for i in range(20):
            f.add_rule(allow, "mmap", cond(2, eq, i), cond(3, eq, 0x22))

    def single():
        f = filter_class(errno1)
        for i in range(20):
            f.add_rule(allow, "ioctl", cond(1, eq, 0x5400 + i))
        for i in range(20):
            f.add_rule(allow, "mmap", cond(2, eq, i))

    return {"multi": multi, "single": single}


def slow_prune():
    """getpgid's `arg1 <= 7 && arg2 == 2**64-2: TRAP`, `arg1 <= 7 && arg0 < 2**64-2: KILL`,
    `arg1 <= 2**64-2: ERRNO(1)` with ranges written as masked patterns (372 rules; the same
    as tests/test_rule_guard.py's slow_prune_rules)."""
    S = seccomp
    from seccomp.policy.model import _prefixes  # [lo, hi] as MASKED_EQ blocks

    x = (1 << 64) - 2
    blocks = _prefixes(8, x - 1, 64)
    arg1 = [S.Cond(1, S.Op.MASKED_EQ, m, v) for m, v in blocks] + [S.Cond(1, S.Op.EQ, x)]
    rules = ([(S.Action.ERRNO(1), (c,)) for c in arg1]
             + [(S.Action.ERRNO(1), (S.Cond(0, S.Op.GE, x), c)) for c in arg1]
             + [(S.Action.ERRNO(1), (c, S.Cond(2, S.Op.NE, x))) for c in arg1]
             + [(S.Action.ERRNO(1), (S.Cond(0, S.Op.GE, x), S.Cond(1, S.Op.LE, x),
                                     S.Cond(2, S.Op.NE, x))),
                (S.Action.KILL_PROCESS, (S.Cond(0, S.Op.LT, x), S.Cond(1, S.Op.LE, 7),
                                         S.Cond(2, S.Op.NE, x))),
                (S.Action.TRAP, (S.Cond(1, S.Op.LE, 7), S.Cond(2, S.Op.EQ, x)))])
    assert len(rules) == 372

    def held():
        f = S.Filter(S.Action.ALLOW, tsync=False)
        for action, conds in rules:
            f.add_rule(action, "getpgid", *conds)
        assert f._held_rules

    return held


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    S = seccomp
    sides = {"ours": workloads(S, S.Filter, S.Cond, S.Action.ALLOW, S.Action.ERRNO(1), S.Op.EQ)}
    sides["ours"]["held"] = slow_prune()
    mod = import_libseccomp_module()
    if mod is not None:
        sides["libseccomp module"] = workloads(mod, mod.SyscallFilter, mod.Arg, mod.ALLOW,
                                               mod.ERRNO(1), mod.EQ)
    times = {(side, name): [] for side, w in sides.items() for name in w}
    for _ in range(args.rounds):
        for side, work in sides.items():
            for name, fn in work.items():
                t0 = time.process_time_ns()
                for _ in range(BATCH[name]):
                    fn()
                times[side, name].append((time.process_time_ns() - t0) / BATCH[name] / 1000)
    print("%-18s %-8s %12s  %s" % ("side", "workload", "us/filter", "spread"))
    for (side, name), ts in times.items():
        print("%-18s %-8s %12.1f  [%.1f .. %.1f]" % (side, name, statistics.median(ts),
                                                    min(ts), max(ts)))


if __name__ == "__main__":
    main()
