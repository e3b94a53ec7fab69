"""Start-up of the `seccomp` command, side by side with the interpreter's own start-up.

    python3 benchmarks/bench_startup.py [--rounds R] [--venv DIR]

Rows, each a fresh process:
  python3 -c pass                        the interpreter alone (the floor of any Python command)
  seccomp run -- /bin/true               the built-in default profile built, checked, loaded,
                                         then /bin/true exec'd (goal: under 2x python3 -c pass)
  seccomp record -- python3 -c pass      python3 -c pass recorded, its profile checked and
                                         written (goal: within 3x python3 -c pass)

The interpreter and the `seccomp` console script are those of --venv DIR (``DIR/bin/python3``,
``DIR/bin/seccomp``): a scratch venv with a normal ``pip install .`` is what a user gets from
a wheel. Without --venv: this interpreter and ``python3 -m seccomp`` from this checkout (its
modules byte-compiled first, as in an installed package). Rounds are interleaved (each round
runs every row once, in turn); printed per row: the median wall time of R rounds with its
spread (min-max), the ratio of the medians to python3 -c pass, and the median CPU time
(user+system, the process and its children: steadier than wall time on a busy machine) with
its ratio.
"""
from __future__ import annotations

import argparse
import compileall
import os
import statistics
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(argv: list, env: dict) -> "tuple[float, float]":
    """(wall, cpu) seconds of one run of *argv* (cpu: user+system of it and its children, from
    wait4), which must exit with status 0."""
    devnull = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_WRONLY, 0) for fd in (1, 2)]
    t = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=devnull)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        sys.exit("%s failed (wait status %d)" % (" ".join(argv), status))
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument("--venv", metavar="DIR",
                        help="time DIR/bin/python3 and DIR/bin/seccomp (a normal install)")
    args = parser.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # an installed package has its .pyc files
    if args.venv:
        python = os.path.join(args.venv, "bin", "python3")
        seccomp = [os.path.join(args.venv, "bin", "seccomp")]
        where = "console script of %s" % args.venv
    else:
        python = sys.executable
        seccomp = [python, "-m", "seccomp"]
        env["PYTHONPATH"] = ROOT
        compileall.compile_dir(os.path.join(ROOT, "seccomp"), quiet=1)
        where = "python3 -m seccomp from %s" % ROOT
    fd, out = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    rows = {
        "python3 -c pass": [python, "-c", "pass"],
        "seccomp run -- /bin/true": seccomp + ["run", "--", "/bin/true"],
        "seccomp record -- python3 -c pass": seccomp + ["record", "-o", out, "--", python,
                                                        "-c", "pass"],
    }
    times: "dict[str, list[tuple[float, float]]]" = {name: [] for name in rows}
    try:
        for argv in rows.values():  # warm the page cache once, untimed
            _run(argv, env)
        for _ in range(args.rounds):
            for name, argv in rows.items():
                times[name].append(_run(argv, env))
    finally:
        os.unlink(out)
    base = statistics.median(w for w, _ in times["python3 -c pass"])
    cpu_base = statistics.median(c for _, c in times["python3 -c pass"])
    print("%s, %s (%d rounds, interleaved)" % (python, where, args.rounds))
    print("%-36s %9s  %-15s %6s  %8s %6s" % ("", "wall", "(min-max)", "ratio", "cpu", "ratio"))
    for name, ts in times.items():
        walls = [w for w, _ in ts]
        med = statistics.median(walls)
        cpu = statistics.median(c for _, c in ts)
        print("%-36s %6.1f ms  (%5.1f-%5.1f)  %5.2fx  %5.1f ms %5.2fx" % (
            name, med * 1e3, min(walls) * 1e3, max(walls) * 1e3, med / base, cpu * 1e3,
            cpu / cpu_base))

if __name__ == "__main__":
    main()
