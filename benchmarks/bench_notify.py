"""Notification round trips: a supervisor in C against this package's, side by side.

    python3 benchmarks/bench_notify.py [--calls N] [--rounds R]

A target process in C (benchmarks/c/notify_target.c) loads a filter that sends getppid() to
its listener, passes the listener fd over a unix socket, and calls getppid() N times; each
call waits until the supervisor answers 4242. Supervisors:
  C                      benchmarks/c/notify_supervisor.c: the ioctls in a loop
  C, SYNC_WAKE_UP        the same with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6+)
  ours: receive/send     seccomp.notify.receive() and send() in a Python loop
  ours: Supervisor       seccomp.notify.Supervisor with a Python handler returning 4242
  libseccomp's module    its receive_notify()/respond_notify() in the process that loaded
                         the filter (that module cannot take a listener fd from elsewhere),
                         the target a thread calling getppid through ctypes
Nanoseconds per round trip, the minimum over R rounds, with the ratio to C with SYNC_WAKE_UP
(ours sets it by default where the kernel has it).
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SYSTEM_PYTHON = "/usr/bin/python3"
sys.path.insert(0, ROOT)

IN_PROCESS = """
import ctypes, sys, threading, time
from seccomp import ALLOW, NOTIFY, Arch, NotificationResponse, SyscallFilter, resolve_syscall
n_calls = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
nr = resolve_syscall(Arch(), "getppid")
f = SyscallFilter(ALLOW)
f.add_rule(NOTIFY, "getppid")
ready, go = threading.Event(), threading.Event()
def target():
    f.load()                    # TSYNC is off: only this thread is filtered
    ready.set()
    go.wait()
    for _ in range(n_calls):
        assert libc.syscall(nr) == 4242
threading.Thread(target=target, daemon=True).start()
ready.wait()
start = time.perf_counter()
go.set()
for _ in range(n_calls):
    n = f.receive_notify()
    f.respond_notify(NotificationResponse(n, 4242, 0, 0))
print((time.perf_counter() - start) / n_calls * 1e9)
"""


def build(tmp):
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libseccomp"], check=True,
                           capture_output=True, text=True).stdout.split()
    exes = {}
    for name, extra in (("notify_target", flags), ("notify_supervisor", [])):
        exes[name] = os.path.join(tmp, name)
        subprocess.run(["gcc", "-O2", "-o", exes[name], os.path.join(HERE, "c", name + ".c"),
                        *extra], check=True)
    return exes


def round_trip(exes, calls, supervisor):
    """ns per round trip with *supervisor* ("c", "c-sync", "ours-raw", "ours-supervisor")."""
    mine, theirs = socket.socketpair()
    target = subprocess.Popen([exes["notify_target"], str(calls), str(theirs.fileno())],
                              pass_fds=(theirs.fileno(),))
    theirs.close()
    try:
        if supervisor.startswith("c"):
            done = subprocess.run([exes["notify_supervisor"], str(calls),
                                   "1" if supervisor == "c-sync" else "0", str(mine.fileno())],
                                  pass_fds=(mine.fileno(),), capture_output=True, text=True,
                                  timeout=300, check=True)
            ns = float(done.stdout)
        else:
            from seccomp import notify
            listener = notify.Listener(notify.receive_fd(mine))
            if supervisor == "ours-raw":
                fd, receive, send = listener.fileno(), notify.receive, notify.send
                start = time.perf_counter()
                mine.send(b"g")
                for _ in range(calls):
                    send(fd, receive(fd).id, 4242)
            else:
                sup = notify.Supervisor(listener)
                sup.add_handler("getppid", lambda n: 4242)
                start = time.perf_counter()
                mine.send(b"g")
                sup.run()        # until the target exits
            ns = (time.perf_counter() - start) / calls * 1e9
            listener.close()
        if target.wait(60) != 0:
            raise RuntimeError("the target did not get the supervisor's answers")
        return ns
    finally:
        target.kill()
        mine.close()


def in_process(python, calls, ours):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if ours:
        env["PYTHONPATH"] = ROOT
    try:
        done = subprocess.run([python, "-c", IN_PROCESS, str(calls)], capture_output=True,
                              text=True, timeout=20, env=env, cwd="/")
    except subprocess.TimeoutExpired:
        return "deadlock"
    if done.returncode != 0:
        return "failed: " + done.stderr.strip().splitlines()[-1]
    return float(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = ["c", "c-sync", "ours-raw", "ours-supervisor"]
    best = {r: float("inf") for r in rows}
    with tempfile.TemporaryDirectory() as tmp:
        exes = build(tmp)
        for _ in range(args.rounds):       # alternate, so load on the machine hits all alike
            for r in rows:
                best[r] = min(best[r], round_trip(exes, args.calls, r))
    base = best["c-sync"]
    names = {"c": "C supervisor", "c-sync": "C supervisor, SYNC_WAKE_UP",
             "ours-raw": "ours: receive/send loop", "ours-supervisor": "ours: Supervisor"}
    print("%d calls, %d rounds, ns per round trip (ratio to C with SYNC_WAKE_UP)"
          % (args.calls, args.rounds))
    print("| supervisor | ns per round trip | ratio |")
    print("|---|---|---|")
    for r in rows:
        print("| %s | %.0f | %.2fx |" % (names[r], best[r], best[r] / base))
    if os.path.exists(SYSTEM_PYTHON):
        calls = min(args.calls, 2000)
        for label, ours in (("libseccomp's module, in-process thread target", False),
                            ("ours (SyscallFilter), in-process thread target", True)):
            ns = in_process(SYSTEM_PYTHON, calls, ours)
            print("| %s [%s] | %s | %s |" % (
                label, SYSTEM_PYTHON, ns if isinstance(ns, str) else "%.0f" % ns,
                "-" if isinstance(ns, str) else "%.2fx" % (ns / base)))


if __name__ == "__main__":
    main()
