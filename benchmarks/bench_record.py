"""Recording a command's syscalls: wall time of the command alone, under `seccomp record`
(the API and the command), and under the tools one would use otherwise, side by side.

    python3 benchmarks/bench_record.py [--rounds R] [-- COMMAND ...]

Default command: python3 -c pass. Rows:
  bare                     the command itself
  seccomp.record.record()  the API (clone, recording filter, every syscall answered by the C loop)
  seccomp record           the command line (a fresh interpreter, writes the profile; its
                           modules byte-compiled, as in an installed package)
  strace -f -c             strace counting syscalls, following children (ptrace, where installed)
Rounds are interleaved (each round runs every row once, in turn); the median of R rounds is
given with the spread (min-max) and the ratio to bare.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from seccomp import record  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = [a for a in args.command if a != "--"] or ["python3", "-c", "pass"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    # byte-compiled modules, as an installed package has them
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    out = tempfile.mktemp(suffix=".json")
    devnull = subprocess.DEVNULL
    rows = {
        "bare": lambda: subprocess.run(command, stdout=devnull, check=True),
        "seccomp.record.record()": lambda: record.record(command),
        "seccomp record": lambda: subprocess.run(
            [sys.executable, "-m", "seccomp", "record", "-o", out, "--", *command],
            stdout=devnull, stderr=devnull, env=env, check=True),
    }
    if shutil.which("strace"):
        rows["strace -f -c"] = lambda: subprocess.run(
            ["strace", "-f", "-c", "-o", os.devnull, *command], stdout=devnull, check=True)
    times = {name: [] for name in rows}
    for _ in range(args.rounds):
        for name, fn in rows.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    base = statistics.median(times["bare"])
    print("command: %s (%d rounds, interleaved)" % (" ".join(command), args.rounds))
    for name, ts in times.items():
        med = statistics.median(ts)
        print("%-26s %8.1f ms  (%.1f-%.1f)  %5.2fx" % (name, med * 1e3, min(ts) * 1e3,
                                                       max(ts) * 1e3, med / base))
    if os.path.exists(out):
        os.unlink(out)


if __name__ == "__main__":
    main()
