"""Notification round trips: supervisors in C, in Python on this package, and on libseccomp's
own module, side by side, for four placements of supervisor and target.

    python3 benchmarks/bench_notify.py [--calls N] [--rounds R]

A target in C (benchmarks/c/notify_target.c) calls getppid() N times under a filter that
sends it to a supervisor, which answers 4242. Supervisors:
  C                        benchmarks/c/notify_supervisor.c: the two ioctls in a loop
  ours: receive/send       seccomp.notify.receive() and send() in a Python loop
  ours: Supervisor         seccomp.notify.Supervisor, a Python handler returning 4242
  ours: asyncio            the same Supervisor with run_async() on an asyncio loop
  libseccomp's module      its receive_notify()/respond_notify() under /usr/bin/python3: it has
                           no way to take a listener from another process, so the supervisor
                           loads the filter itself and execs the target, which inherits it
  ours: SyscallFilter      the same script as the previous row, on this package
Placements: both on CPU 0; supervisor on CPU 0 and target on CPU 1; unpinned without and with
SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6+; this package sets it by default, the pinned
placements use it too, and it is set on libseccomp's fd for that module's rows).
Nanoseconds per round trip: the median of R interleaved rounds, and the median of each round's
ratio to C in the same placement with its lowest and highest.
"""
import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SYSTEM_PYTHON = "/usr/bin/python3"
sys.path.insert(0, ROOT)

# Supervisor and target in one script, the target exec'd after the filter is loaded.
INHERITED = """
import fcntl, os, sys, time
from seccomp import ALLOW, NOTIFY, NotificationResponse, SyscallFilter
target, n_calls, sync, cpu_sup, cpu_target = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", \
    sys.argv[4], sys.argv[5]
if cpu_sup != "-":
    os.sched_setaffinity(0, {int(cpu_sup)})
f = SyscallFilter(ALLOW)
f.add_rule(NOTIFY, "getppid")
f.load()                                 # this process must not call getppid() from here on
fd = f.get_notify_fd()
if sync:
    fcntl.ioctl(fd, 0x40082104, 1)       # SECCOMP_IOCTL_NOTIF_SET_FLAGS, SYNC_WAKE_UP
pid = os.fork()
if pid == 0:
    if cpu_target != "-":
        os.sched_setaffinity(0, {int(cpu_target)})
    os.execv(target, [target, str(n_calls), "-1"])
start = time.perf_counter()
for _ in range(n_calls):
    n = f.receive_notify()
    f.respond_notify(NotificationResponse(n, 4242, 0, 0))
elapsed = time.perf_counter() - start
_, status = os.waitpid(pid, 0)
assert status == 0, status
print(elapsed / n_calls * 1e9)
"""

PLACEMENTS = [  # name, supervisor CPU, target CPU, SYNC_WAKE_UP
    ("same CPU", 0, 0, True),
    ("different CPUs", 0, 1, True),
    ("unpinned", None, None, False),
    ("unpinned, SYNC_WAKE_UP", None, None, True),
]
SUPERVISORS = ["c", "ours-raw", "ours-supervisor", "ours-asyncio", "libseccomp", "ours-compat"]
NAMES = {"c": "C", "ours-raw": "ours: receive/send", "ours-supervisor": "ours: Supervisor",
         "ours-asyncio": "ours: asyncio", "libseccomp": "libseccomp's module",
         "ours-compat": "ours: SyscallFilter"}


def build(tmp):
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libseccomp"], check=True,
                           capture_output=True, text=True).stdout.split()
    exes = {}
    for name, extra in (("notify_target", flags), ("notify_supervisor", [])):
        exes[name] = os.path.join(tmp, name)
        subprocess.run(["gcc", "-O2", "-o", exes[name], os.path.join(HERE, "c", name + ".c"),
                        *extra], check=True)
    return exes


def _pin(cpu):
    return (lambda: os.sched_setaffinity(0, {cpu})) if cpu is not None else None


def round_trip(exes, calls, supervisor, placement):
    """ns per round trip for *supervisor* in *placement*."""
    _, cpu_sup, cpu_target, sync = placement
    if supervisor in ("libseccomp", "ours-compat"):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        if supervisor == "ours-compat":
            env["PYTHONPATH"] = ROOT
        done = subprocess.run(
            [SYSTEM_PYTHON, "-c", INHERITED, exes["notify_target"], str(calls),
             "1" if sync else "0", "-" if cpu_sup is None else str(cpu_sup),
             "-" if cpu_target is None else str(cpu_target)],
            capture_output=True, text=True, timeout=300, env=env, cwd="/")
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip().splitlines()[-1])
        return float(done.stdout)
    mine, theirs = socket.socketpair()
    target = subprocess.Popen([exes["notify_target"], str(calls), str(theirs.fileno())],
                              pass_fds=(theirs.fileno(),), preexec_fn=_pin(cpu_target))
    theirs.close()
    try:
        if supervisor == "c":
            done = subprocess.run([exes["notify_supervisor"], str(calls), "1" if sync else "0",
                                   str(mine.fileno())], pass_fds=(mine.fileno(),),
                                  preexec_fn=_pin(cpu_sup), capture_output=True, text=True,
                                  timeout=300, check=True)
            ns = float(done.stdout)
        else:
            ns = _python_supervisor(supervisor, mine, calls, cpu_sup, sync)
        if target.wait(60) != 0:
            raise RuntimeError("the target did not get the supervisor's answers")
        return ns
    finally:
        target.kill()
        mine.close()


def _python_supervisor(kind, sock, calls, cpu, sync):
    from seccomp import notify
    saved = os.sched_getaffinity(0)
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    try:
        with notify.Listener(notify.receive_fd(sock), sync_wake_up=sync) as listener:
            # set up before the clock starts (the target waits for "g"): only the round trips
            # are timed, as in the C supervisor
            sup = notify.Supervisor(listener)
            sup.add_handler("getppid", lambda n: 4242)
            loop = asyncio.new_event_loop()
            start = time.perf_counter()
            sock.send(b"g")
            if kind == "ours-raw":
                fd, receive, send = listener.fileno(), notify.receive, notify.send
                for _ in range(calls):
                    send(fd, receive(fd).id, 4242)
            elif kind == "ours-supervisor":
                sup.run()                          # until the target exits
            else:
                loop.run_until_complete(sup.run_async())
            elapsed = time.perf_counter() - start
            loop.close()
            sup.close()
            return elapsed / calls * 1e9
    finally:
        os.sched_setaffinity(0, saved)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--placement", action="append", choices=[p[0] for p in PLACEMENTS],
                        help="only this placement (repeatable; default: all)")
    parser.add_argument("--supervisor", action="append", choices=SUPERVISORS[1:],
                        help="only this supervisor besides C (repeatable; default: all)")
    args = parser.parse_args()
    have_reference = os.path.exists(SYSTEM_PYTHON) and subprocess.run(
        [SYSTEM_PYTHON, "-c", "import seccomp; seccomp.SyscallFilter"], cwd="/",
        capture_output=True).returncode == 0
    placements = [p for p in PLACEMENTS if (os.cpu_count() >= 2 or p[2] != 1)
                  and (not args.placement or p[0] in args.placement)]
    supervisors = [s for s in SUPERVISORS if (have_reference or s not in ("libseccomp",
                                                                           "ours-compat"))
                   and (s == "c" or not args.supervisor or s in args.supervisor)]
    times = {}   # (placement, supervisor) -> ns of each round
    ratios = {}  # (placement, supervisor) -> its ns / C's ns in the same round
    with tempfile.TemporaryDirectory() as tmp:
        exes = build(tmp)
        for _ in range(args.rounds):  # interleaved, so changes in machine load hit all alike
            for placement in placements:
                this_round = {s: round_trip(exes, args.calls, s, placement)
                              for s in supervisors}
                for s, ns in this_round.items():
                    key = (placement[0], s)
                    times.setdefault(key, []).append(ns)
                    ratios.setdefault(key, []).append(ns / this_round["c"])
    print("%d calls, %d interleaved rounds: median ns per round trip, and the median of the "
          "per-round ratios to C in the same placement [lowest-highest]" % (args.calls,
                                                                             args.rounds))
    print("| supervisor | " + " | ".join(p[0] for p in placements) + " |")
    print("|---|" + "---|" * len(placements))
    for s in supervisors:
        cells = []
        for p in placements:
            key = (p[0], s)
            cells.append("%.0f ns (%.2fx [%.2f-%.2f])" % (
                statistics.median(times[key]), statistics.median(ratios[key]),
                min(ratios[key]), max(ratios[key])))
        print("| %s | %s |" % (NAMES[s], " | ".join(cells)))


if __name__ == "__main__":
    main()
