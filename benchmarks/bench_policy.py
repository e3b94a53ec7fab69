"""Policy text to a filter: seccomp.policy in each format against adding the same rules to a
`seccomp.Filter` directly.

    python3 benchmarks/bench_policy.py [--rounds N]

The policy has 400 rules (200 syscalls, each allowed for two values of its first argument;
the default kills), written in each format: a minijail .policy, gosecco's language,
seccompiler JSON and an OCI profile. Both sides make a filter, set the same optimisation
level, add the same 400 libseccomp rules and release the filter; the baseline builds its 400
conditions itself.

- "compile" is ``seccomp.policy.loads(text).compile(check=False)``: reading the text,
  lowering the policy to libseccomp rules and adding them. This is issue 17's goal ("at most
  1.5x the time of adding the same rules to a Filter"), against "Filter.add_rule x400".
- "+ export" also makes the BPF program, checked against the filter's rules (every filter is,
  before it leaves the library; libseccomp does most of its work there): against
  "Filter.add_rule x400 + export", which does the same.
- "+ check" is the default ``compile()``: the exported program is also checked against the
  policy's own meaning with the emulator (the proof that the lowering is right), against
  "Filter.add_rule x400 + export". Two checks of different models, each once: exporting the
  returned filter later does not check its rules again.

gosecco's "kill" is KILL_THREAD where the others kill the process: libseccomp's work is the
same. Time is CPU time of this process (the machine may be shared); rounds alternate between
the cases; printed are the median over the rounds, the spread (min-max) and the ratio of
medians to the baseline.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from typing import Callable, Dict, List, Tuple

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import seccomp  # noqa: E402
import seccomp.policy as sp  # noqa: E402
from seccomp import Action, Cond, Filter, Op  # noqa: E402


def _syscalls(n: int) -> List[str]:
    names = []
    for nr in range(450):
        try:
            name = seccomp.syscall_name(nr)
        except seccomp.SeccompError:
            continue
        names.append(name)
        if len(names) == n:
            break
    return names


NAMES = _syscalls(200)
VALUES = [(7 * i + 1, 7 * i + 3) for i in range(len(NAMES))]


def texts() -> Dict[str, str]:
    minijail = "".join("%s: arg0 == %d || arg0 == %d\n" % (n, a, b)
                       for n, (a, b) in zip(NAMES, VALUES))
    gosecco = "DEFAULT_POSITIVE = allow\nDEFAULT_NEGATIVE = kill\nDEFAULT_POLICY = kill\n" + \
        "".join("%s: arg0 == %d || arg0 == %d\n" % (n, a, b) for n, (a, b) in zip(NAMES, VALUES))
    rules = [{"syscall": n, "args": [{"index": 0, "type": "qword", "op": "eq", "val": v}]}
             for n, vs in zip(NAMES, VALUES) for v in vs]
    seccompiler = json.dumps({"main": {"mismatch_action": "kill_process",
                                       "match_action": "allow", "filter": rules}})
    oci = json.dumps({"defaultAction": "SCMP_ACT_KILL_PROCESS", "syscalls": [
        {"names": [n], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": v, "op": "SCMP_CMP_EQ"}]}
        for n, vs in zip(NAMES, VALUES) for v in vs]})
    return {"minijail": minijail, "gosecco": gosecco, "seccompiler": seccompiler, "oci": oci}


def baseline(export: bool) -> None:
    f = Filter(Action.KILL_PROCESS)
    f.optimize = 2
    for n, vs in zip(NAMES, VALUES):
        for v in vs:
            f.add_rule(Action.ALLOW, n, Cond(0, Op.EQ, v))
    if export:
        f.export_bpf()
    f.release()


def ours(fmt: str, text: str, check: bool, export: bool = False) -> None:
    p = sp.loads(text, format=fmt)
    f = p.compile(check=check)
    if export:
        f.export_bpf()
    f.release()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args()
    src = texts()
    cases: List[Tuple[str, Callable[[], None]]] = [
        ("Filter.add_rule x400", lambda: baseline(False)),
        ("Filter.add_rule x400 + export", lambda: baseline(True))]
    for fmt, text in src.items():
        cases.append(("%s compile" % fmt, lambda f=fmt, t=text: ours(f, t, False)))
        cases.append(("%s compile + export" % fmt,
                      lambda f=fmt, t=text: ours(f, t, False, True)))
        cases.append(("%s compile + check" % fmt, lambda f=fmt, t=text: ours(f, t, True)))
    times: Dict[str, List[float]] = {name: [] for name, _ in cases}
    for _ in range(args.rounds):
        for name, fn in cases:
            t0 = time.process_time()
            fn()
            times[name].append(time.process_time() - t0)
    base = {False: statistics.median(times["Filter.add_rule x400"]),
            True: statistics.median(times["Filter.add_rule x400 + export"])}
    print("%-34s %10s %22s %8s" % ("case", "CPU ms", "spread ms", "ratio"))
    for name, _ in cases:
        ts = times[name]
        med = statistics.median(ts)
        ref = base["check" in name or "export" in name]
        print("%-34s %10.2f %10.2f-%-11.2f %7.2fx" % (name, med * 1e3, min(ts) * 1e3,
                                                      max(ts) * 1e3, med / ref))


if __name__ == "__main__":
    main()
