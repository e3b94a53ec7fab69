"""Soak runs: resident memory before and after long loops of the package's work.

    python3 benchmarks/soak.py                 # every soak, full length
    python3 benchmarks/soak.py --scale 0.01    # a quick pass

Each soak warms up (a tenth of its cycles), then measures resident memory (VmRSS) before and
after the measured cycles. A leak of one object per cycle shows as tens of megabytes; the
table reports the growth per thousand cycles. Exits 1 if any soak grew by more than --limit KiB.
"""
import argparse
import gc
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from seccomp import Action, Cond, Filter, Op  # noqa: E402
import seccomp.profile as profile  # noqa: E402


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def filters(n: int) -> None:
    """Create, add a rule with a condition, export BPF and PFC, release (or drop)."""
    for i in range(n):
        f = Filter(Action.ALLOW)
        f.add_rule(Action.ERRNO(1), "getppid", Cond(0, Op.EQ, i))
        f.export_bpf()
        if i % 64 == 0:
            f.export_pfc()
        if i % 2:
            f.release()  # the other half are freed by their finalizer


def errors(n: int) -> None:
    """The error paths: unknown names, bad conditions, use after release."""
    for i in range(n):
        f = Filter(Action.ALLOW)
        for bad in (lambda: f.add_rule(Action.ERRNO(1), "no_such_syscall"),
                    lambda: Cond(7, Op.EQ, i),
                    lambda: f.merge(f)):
            try:
                bad()
            except (ValueError, TypeError, RuntimeError):
                pass
        f.release()
        try:
            f.export_bpf()
        except RuntimeError:
            pass


_PROFILE = None


def profiles(n: int) -> None:
    """Read the built-in default profile's text and compile it to a filter."""
    global _PROFILE
    if _PROFILE is None:
        with open(os.path.join(ROOT, "seccomp", "profile", "default.json")) as f:
            _PROFILE = f.read()
    for _ in range(n):
        profile.load(_PROFILE).compile().release()


def notifications(n: int) -> None:
    """Round trips through seccomp.notify.Supervisor: a forked target calls getppid() n times,
    each answered by a Python handler (with a Notification object made per call)."""
    import socket
    from seccomp import notify

    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        f = Filter(Action.ALLOW)
        f.add_rule(Action.NOTIFY, "getppid")
        listener = notify.load(f)
        notify.send_fd(child, listener.fileno())
        ok = all(os.getppid() == 7 for _ in range(n))
        os._exit(0 if ok else 1)
    with notify.Listener(notify.receive_fd(parent)) as listener:
        sup = notify.Supervisor(listener)
        sup.add_handler("getppid", lambda note: 7)
        sup.run()
        sup.close()
    parent.close()
    child.close()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        raise RuntimeError("the target did not get its answers")


SOAKS = {"filters": (filters, 1_000_000), "errors": (errors, 200_000),
         "profiles": (profiles, 10_000), "notifications": (notifications, 100_000)}


def soak(name: str, scale: float):
    fn, cycles = SOAKS[name]
    n = max(int(cycles * scale), 10)
    fn(max(n // 10, 1))
    gc.collect()
    before = rss_kib()
    start = time.perf_counter()
    fn(n)
    elapsed = time.perf_counter() - start
    gc.collect()
    after = rss_kib()
    return n, before, after, elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full cycles")
    parser.add_argument("--limit", type=int, default=1024, help="allowed growth in KiB")
    parser.add_argument("names", nargs="*", choices=[[], *SOAKS], default=[])
    args = parser.parse_args()
    failed = False
    print("| soak | cycles | RSS before (KiB) | RSS after (KiB) | growth per 1000 cycles | time |")
    print("|---|---|---|---|---|---|")
    for name in args.names or SOAKS:
        n, before, after, elapsed = soak(name, args.scale)
        grown = after - before
        failed |= grown > args.limit
        print("| %s | %d | %d | %d | %.3f KiB | %.1f s |"
              % (name, n, before, after, grown * 1000 / n, elapsed), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
