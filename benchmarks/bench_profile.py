"""Profile text to BPF: seccomp.profile against libseccomp's own Python module.

    python3 benchmarks/bench_profile.py [--repeat N]

Both sides start from the same text, the built-in default profile resolved for this host and
an unprivileged container and written as OCI JSON (~380 syscall names, 3 architectures on
x86_64), and end with the BPF program the kernel would load, written to a memfd (what
``seccomp_load`` generates; loading itself is the same kernel call for both). libseccomp's
module runs under /usr/bin/python3 (where Debian installs it) from a small script that
follows the same rules: skip rules whose action is the default, one rule per condition when
an argument repeats, skip names libseccomp does not know, binary tree optimisation.

Each number is the minimum over N runs, taken in alternating rounds of both sides (the machine
is shared; the minimum is the least disturbed run). Also printed: the part of our time that is
pure Python (reading, validating, resolving), i.e. the overhead beyond libseccomp's own work.
By default ours runs under the same interpreter as libseccomp's module (/usr/bin/python3, in a
child); --ours-here times it in the interpreter running this script instead.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Optional

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from seccomp import profile as P  # noqa: E402

LIBSECCOMP_SCRIPT = r"""
import json, os, sys, time
import seccomp as S

ACT = {"SCMP_ACT_ALLOW": S.ALLOW, "SCMP_ACT_KILL": S.KILL, "SCMP_ACT_KILL_PROCESS": S.KILL_PROCESS,
       "SCMP_ACT_KILL_THREAD": S.KILL, "SCMP_ACT_TRAP": S.TRAP, "SCMP_ACT_LOG": S.LOG}
OPS = {"SCMP_CMP_NE": S.NE, "SCMP_CMP_LT": S.LT, "SCMP_CMP_LE": S.LE, "SCMP_CMP_EQ": S.EQ,
       "SCMP_CMP_GE": S.GE, "SCMP_CMP_GT": S.GT, "SCMP_CMP_MASKED_EQ": S.MASKED_EQ}

def action(name, code):
    if name == "SCMP_ACT_ERRNO":
        return S.ERRNO(1 if code is None else code)
    if name == "SCMP_ACT_TRACE":
        return S.TRACE(1 if code is None else code)
    return ACT[name]

def build(text):
    prof = json.loads(text)
    default = action(prof["defaultAction"], prof.get("defaultErrnoRet"))
    f = S.SyscallFilter(default)
    for a in prof.get("architectures", ()):
        try:
            f.add_arch(getattr(S.Arch, a[len("SCMP_ARCH_"):]))
        except RuntimeError:
            pass  # already there (native)
    f.set_attr(S.Attr.CTL_OPTIMIZE, 2)
    for rule in prof["syscalls"]:
        act = action(rule["action"], rule.get("errnoRet"))
        if act == default:
            continue
        args = [S.Arg(a["index"], OPS[a["op"]], a["value"], a.get("valueTwo", 0))
                for a in rule.get("args", ())]
        if len({a["index"] for a in rule.get("args", ())}) != len(args):
            groups = [[a] for a in args]
        else:
            groups = [args]
        for name in rule["names"]:
            for g in groups:
                try:
                    f.add_rule(act, name, *g)
                except (ValueError, RuntimeError):
                    break  # a name libseccomp does not know (its module says either)
    return f

text = open(sys.argv[1]).read()
repeat = int(sys.argv[2])
out = open(os.memfd_create("bpf"), "wb")
t_build = t_total = float("inf")
for _ in range(repeat):
    t0 = time.perf_counter()
    f = build(text)
    t1 = time.perf_counter()
    out.seek(0)
    f.export_bpf(out)
    t2 = time.perf_counter()
    t_build, t_total = min(t_build, t1 - t0), min(t_total, t2 - t0)
    del f
print(json.dumps({"build": t_build, "total": t_total, "bpf_size": out.tell()}))
"""


def ours(text: str, repeat: int, docker: bool) -> dict:
    out = open(os.memfd_create("bpf"), "wb")
    best = {"parse": float("inf"), "resolve": float("inf"), "build": float("inf"),
            "total": float("inf")}
    caps = P.CONTAINER_CAPS
    for _ in range(repeat):
        t0 = time.perf_counter()
        prof = P.load(text)
        t1 = time.perf_counter()
        if docker:
            prof = prof.resolve(caps=caps)
        t2 = time.perf_counter()
        f = prof.compile(enosys=False)  # libseccomp's program, as the other side makes
        t3 = time.perf_counter()
        out.seek(0)
        f.export_bpf(out)
        t4 = time.perf_counter()
        for key, value in (("parse", t1 - t0), ("resolve", t2 - t1), ("build", t3 - t0),
                           ("total", t4 - t0)):
            best[key] = min(best[key], value)
        f.release()
    best["bpf_size"] = out.tell()
    return best


def _same_work(text: str) -> str:
    """The profile without the syscalls this libseccomp does not know (ours adds them from its
    newer table on the native architecture, libseccomp's module cannot), so that both sides
    build the same program."""
    import seccomp

    def known(name: str) -> bool:
        try:
            seccomp.syscall_number(name)
            return True
        except seccomp.InvalidArgumentError:
            return False

    data = json.loads(text)
    for entry in data["syscalls"]:
        entry["names"] = [n for n in entry["names"] if known(n)]
    data["syscalls"] = [e for e in data["syscalls"] if e["names"]]
    return json.dumps(data)


def _best(a: Optional[dict], b: dict) -> dict:
    """Element-wise minimum of two timing dicts."""
    return b if a is None else {k: min(a[k], b[k]) for k in b}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=100, help="runs per side (default 100)")
    ap.add_argument("--rounds", type=int, default=5,
                    help="the runs are split in this many alternating rounds")
    ap.add_argument("--python", default="/usr/bin/python3",
                    help="the interpreter that has libseccomp's module")
    ap.add_argument("--ours-here", action="store_true",
                    help="time ours in this interpreter instead of under --python (the same "
                         "interpreter for both sides is the fair comparison)")
    ap.add_argument("--child", nargs=3, metavar=("TEXTFILE", "DOCKER", "N"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        path, is_docker, n = args.child
        print(json.dumps(ours(open(path).read(), int(n), docker=is_docker == "1")))
        return

    docker_text = _same_work(open(os.path.join(os.path.dirname(P.__file__),
                                               "default.json")).read())
    oci_text = P.load(docker_text).resolve(caps=P.CONTAINER_CAPS).to_json(oci=True)
    n_names = sum(len(e["names"]) for e in json.loads(oci_text)["syscalls"])

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        fh.write(oci_text)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as dh:
        dh.write(docker_text)

    def run_ours(path: str, docker: bool, n: int) -> dict:
        if args.ours_here:
            return ours(open(path).read(), n, docker=docker)
        r = subprocess.run([args.python, "-I", os.path.abspath(__file__), "--child", path,
                            "1" if docker else "0", str(n)], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("ours failed under %s:\n%s" % (args.python, r.stderr))
        return json.loads(r.stdout)

    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as sh:
        sh.write(LIBSECCOMP_SCRIPT)
    # Alternate the two sides in rounds so that both see the same load from other processes.
    theirs = None
    oci = docker = None
    per_round = max(1, args.repeat // args.rounds)
    try:
        for _ in range(args.rounds):
            # -I: isolated, so the system interpreter imports libseccomp's module, not ours
            r = subprocess.run([args.python, "-I", sh.name, fh.name, str(per_round)],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print("libseccomp's module unavailable under %s:\n%s" % (args.python, r.stderr))
                theirs = None
                break
            theirs = _best(theirs, json.loads(r.stdout))
            oci = _best(oci, run_ours(fh.name, False, per_round))
            docker = _best(docker, run_ours(dh.name, True, per_round))
        if oci is None:
            oci = run_ours(fh.name, False, args.repeat)
            docker = run_ours(dh.name, True, args.repeat)
    finally:
        os.unlink(fh.name)
        os.unlink(dh.name)
        os.unlink(sh.name)
    assert theirs is None or theirs["bpf_size"] == oci["bpf_size"], (theirs, oci)

    ms = lambda s: "%.3f" % (s * 1e3)  # noqa: E731
    print("Resolved default profile: %d syscall names, %d BPF instructions; min of %d runs; "
          "ours under %s" % (n_names, oci["bpf_size"] // 8, args.repeat,
                             sys.executable if args.ours_here else args.python))
    print("%-46s %12s %14s %7s" % ("step", "ours (ms)", "libseccomp (ms)", "ratio"))
    rows = [("OCI text -> Filter with every rule added", oci["build"],
             theirs and theirs["build"]),
            ("OCI text -> BPF program (build + generate)", oci["total"],
             theirs and theirs["total"]),
            ("Docker text -> resolve -> BPF program", docker["total"], None)]
    for label, mine, other in rows:
        ratio = "%.2fx" % (mine / other) if other else "-"
        print("%-46s %12s %14s %7s" % (label, ms(mine), ms(other) if other else "-", ratio))
    print("pure-Python part of ours: read+validate OCI %s ms, Docker %s ms; resolve %s ms"
          % (ms(oci["parse"]), ms(docker["parse"]), ms(docker["resolve"])))


if __name__ == "__main__":
    main()
