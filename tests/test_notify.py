"""User notification with real targets: a forked child loads a filter with NOTIFY rules, sends
its listener fd to the test process, and makes syscalls that the test answers."""
import asyncio
import ctypes
import errno
import os
import pickle
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import seccomp
from seccomp import Action, Filter, notify
from seccomp.notify import CONTINUE, InjectFd, Listener, Supervisor

from childproc import in_child
from kernel import syscall

pytestmark = pytest.mark.skipif(not seccomp.action_available(Action.NOTIFY),
                                reason="the kernel has no seccomp user notification")


class Target:
    """A forked child under a filter with NOTIFY rules for *syscalls*; it runs *body* and the
    test reads what body returned from `result()`."""

    def __init__(self, syscalls, body, *args):
        parent, child = socket.socketpair()
        r, w = os.pipe()
        self.go_r, self.go_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            signal.alarm(20)  # never outlive a broken test
            try:
                parent.close()
                f = Filter(Action.ALLOW)
                for name in syscalls:
                    f.add_rule(Action.NOTIFY, name)
                listener = notify.load(f)
                notify.send_fd(child, listener.fileno())
                listener.close()
                os.read(self.go_r, 1)  # wait until the test is ready
                payload = ("ok", body(*args))
            except BaseException as exc:
                payload = ("error", repr(exc))
            os.write(w, pickle.dumps(payload))
            os._exit(0)
        child.close()
        os.close(w)
        self.results = r
        self.listener = Listener(notify.receive_fd(parent))
        parent.close()

    def go(self):
        os.write(self.go_w, b"g")

    def result(self):
        with os.fdopen(self.results, "rb") as f:
            data = f.read()
        _, status = os.waitpid(self.pid, 0)
        if not data:
            return ("died", status)
        return pickle.loads(data)

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def supervise(target, sup, seconds=15):
    """Run *sup* until the target exits (a watchdog stops it after *seconds*)."""
    watchdog = threading.Timer(seconds, lambda: (sup.stop(), target.kill()))
    watchdog.start()
    try:
        target.go()
        sup.run()
    finally:
        watchdog.cancel()
    return target.result()


def test_handler_returns_a_value():
    t = Target(["getppid"], lambda: [os.getppid(), os.getppid()])
    sup = Supervisor(t.listener)
    seen = []

    @sup.handler("getppid")
    def fake(n):
        seen.append((n.pid, n.syscall_name, n.arch))
        return 4242

    assert supervise(t, sup) == ("ok", [4242, 4242])
    assert seen == [(t.pid, "getppid", seccomp.Arch.native())] * 2


def _mkdir(path):
    try:
        os.mkdir(path)
    except OSError as exc:
        return exc.errno
    return 0


def test_handler_errno_and_reading_the_targets_memory(tmp_path):
    path = str(tmp_path / "not-allowed")
    t = Target(["mkdirat", "mkdir"], _mkdir, path)
    sup = Supervisor(t.listener)
    paths = []

    @sup.handler("mkdirat", "mkdir")
    def deny(n):
        address = n.args[1] if n.syscall_name == "mkdirat" else n.args[0]
        paths.append(t.listener.read_string(n, address))
        raise PermissionError(errno.EACCES, "no")

    assert supervise(t, sup) == ("ok", errno.EACCES)
    assert paths == [path]
    assert not os.path.exists(path)


def test_continue_runs_the_real_syscall():
    t = Target(["getpid"], lambda: syscall("getpid")[0])
    sup = Supervisor(t.listener)
    sup.add_handler("getpid", lambda n: CONTINUE)
    assert supervise(t, sup) == ("ok", t.pid)


def test_default_answer_for_syscalls_without_handler():
    t = Target(["getppid", "getpgrp"], lambda: (syscall("getppid"), syscall("getpgrp")))
    sup = Supervisor(t.listener, default=errno.EROFS)
    sup.add_handler("getppid", lambda n: 5)
    assert supervise(t, sup) == ("ok", ((5, 0), (-1, errno.EROFS)))


def _read_injected():
    fd, err = syscall("dup", 12345)   # answered with an injected fd
    if fd < 0:
        return ("error", err)
    return os.read(fd, 100)


def test_injected_fd_is_readable_in_the_target():
    r, w = os.pipe()
    os.write(w, b"from the supervisor")
    os.close(w)
    t = Target(["dup"], _read_injected)
    sup = Supervisor(t.listener)
    sup.add_handler("dup", lambda n: InjectFd(r, cloexec=True))
    try:
        assert supervise(t, sup) == ("ok", b"from the supervisor")
    finally:
        os.close(r)


def test_target_dying_mid_notification():
    t = Target(["getppid"], os.getppid)
    t.go()
    n = t.listener.receive(timeout=10)
    assert t.listener.id_valid(n)
    t.kill()
    os.waitpid(t.pid, 0)
    assert not t.listener.id_valid(n)
    with pytest.raises(notify.NotificationGone) as info:
        t.listener.reply(n, 1)
    assert info.value.errno == errno.ENOENT
    with pytest.raises(notify.TargetsGone):
        t.listener.receive(timeout=10)      # no process uses the filter any more


def test_receive_times_out():
    t = Target(["getppid"], os.getppid)
    try:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            t.listener.receive(timeout=0.2)
        assert time.monotonic() - start >= 0.19
    finally:
        t.kill()
        t.result()


def test_stop_ends_a_blocked_supervisor_thread():
    t = Target(["getppid"], os.getppid)   # never told to go: no notification comes
    sup = Supervisor(t.listener)
    thread = sup.start()
    time.sleep(0.1)
    assert thread.is_alive()
    sup.stop()
    thread.join(10)
    assert not thread.is_alive()
    t.kill()
    t.result()


def test_asyncio_supervisor():
    t = Target(["getppid"], lambda: [os.getppid() for _ in range(20)])
    sup = Supervisor(t.listener)
    sup.add_handler("getppid", lambda n: 77)

    async def main():
        ticks = 0

        async def ticker():     # the loop stays free while supervising
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        other = asyncio.ensure_future(ticker())
        t.go()
        await asyncio.wait_for(sup.run_async(), 15)
        other.cancel()
        return ticks

    ticks = asyncio.run(main())
    assert t.result() == ("ok", [77] * 20)
    assert sup.handled == 20
    assert ticks > 0


def test_listener_per_filter_and_compat_calls():
    """SyscallFilter's notify calls work on a listener fd given with fd=."""
    t = Target(["getppid"], os.getppid)
    t.go()
    f = seccomp.SyscallFilter(seccomp.ALLOW)
    n = f.receive_notify(fd=t.listener.fileno())
    assert isinstance(n, seccomp.Notification) and n.syscall == seccomp.syscall_number("getppid")
    assert n.syscall_args == list(n.args)
    assert f.notify_id_valid(n.id, fd=t.listener.fileno())
    f.respond_notify(seccomp.NotificationResponse(n, 99, 0, 0), fd=t.listener.fileno())
    assert t.result() == ("ok", 99)


def test_bad_listener_input():
    with pytest.raises(ValueError):
        Listener(-1)
    with pytest.raises(ValueError):
        notify.load(Filter(Action.ALLOW))   # no NOTIFY rule
    with pytest.raises(TypeError):
        notify.respond(0, None)
    r, w = os.pipe()
    os.write(w, b"x")                        # readable, but a pipe is no listener
    try:
        with pytest.raises(seccomp.SeccompError) as info:
            notify.receive(r, 1)
        assert info.value.errno == errno.ENOTTY
    finally:
        os.close(r)
        os.close(w)


CTRL_C = textwrap.dedent("""
    import os, signal, socket, sys
    import seccomp
    from seccomp import Action, Filter, notify
    parent, child = socket.socketpair()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        f = Filter(Action.ALLOW)
        f.add_rule(Action.NOTIFY, "getppid")
        l = notify.load(f)
        notify.send_fd(child, l.fileno())
        os.read(go_r, 1)
        os._exit(0 if os.getppid() == 7 else 1)
    listener = notify.Listener(notify.receive_fd(parent))
    print("ready", flush=True)
    try:
        listener.receive()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    os.write(go_w, b"g")
    n = listener.receive(timeout=10)
    listener.reply(n, 7)
    _, status = os.waitpid(pid, 0)
    print("answered", os.waitstatus_to_exitcode(status), flush=True)
""")


def test_ctrl_c_interrupts_a_blocking_receive_and_loses_nothing():
    proc = subprocess.Popen([sys.executable, "-c", CTRL_C], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.2)                          # let it block in receive()
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert out.split("\n")[:2] == ["interrupted", "answered 0"]


def test_other_threads_run_while_one_waits_in_receive():
    t = Target(["getppid"], os.getppid)       # not told to go yet: receive() waits
    progress = []
    stop = threading.Event()

    def count():
        n = 0
        while not stop.is_set():
            n += 1
            if n % 1000 == 0:
                progress.append(time.monotonic())

    worker = threading.Thread(target=count)
    worker.start()
    try:
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            t.listener.receive(timeout=0.5)
        during = [p for p in progress if p >= start]
        assert len(during) > 10                # the counting thread kept the GIL meanwhile
    finally:
        stop.set()
        worker.join()
        t.kill()
        t.result()


def test_a_signal_during_receive_runs_its_handler_and_receive_carries_on():
    t = Target(["getppid"], os.getppid)
    seen = []
    old = signal.signal(signal.SIGUSR1, lambda *a: seen.append("handler"))
    try:
        timer = threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGUSR1))
        timer.start()
        threading.Timer(0.4, t.go).start()     # the notification comes after the signal
        n = t.listener.receive(timeout=10)
        assert seen == ["handler"]
        t.listener.reply(n, 31)
        assert t.result() == ("ok", 31)
    finally:
        signal.signal(signal.SIGUSR1, old)


def test_one_supervisor_holds_several_listeners():
    """Each filter has its own listener: a supervisor answers two targets on two listeners
    (the kernel allows one listener per filter chain, so each target is its own process)."""
    first = Target(["getppid"], os.getppid)
    second = Target(["getppid"], os.getppid)
    assert first.listener.fileno() != second.listener.fileno()
    first.go()
    second.go()
    for target, value in ((second, 22), (first, 11)):
        n = target.listener.receive(timeout=10)
        assert n.pid == target.pid
        target.listener.reply(n, value)
    assert first.result() == ("ok", 11) and second.result() == ("ok", 22)


def test_a_second_listener_in_one_chain_is_refused_clearly():
    def load_two():
        first = Filter(Action.ALLOW)
        first.add_rule(Action.NOTIFY, "getppid")
        kept = notify.load(first)  # (closing a listener detaches it: then a new one is fine)
        second = Filter(Action.ALLOW)
        second.add_rule(Action.NOTIFY, "getpgrp")
        try:
            notify.load(second)
        except seccomp.SeccompError as exc:
            return exc.errno, str(exc)
        finally:
            kept.close()
        return None

    err, message = in_child(load_two).unwrap()
    assert err == errno.EBUSY and "listener" in message


def _open_two(allowed):
    out = []
    for path in ("/etc/hostname", allowed):
        try:
            os.close(os.open(path, os.O_RDONLY))
            out.append(0)
        except OSError as exc:
            out.append(exc.errno)
    return out


def test_readme_example_path_policy(tmp_path):
    """The README's example: deny opening under /etc/, let the rest run for real."""
    allowed = tmp_path / "ok"
    allowed.write_text("x")
    t = Target(["openat"], _open_two, str(allowed))
    sup = Supervisor(t.listener)
    seen = []

    @sup.handler("openat")
    def openat(n):
        path = sup.listener.read_string(n, n.args[1])
        seen.append(path)
        if path.startswith("/etc/"):
            raise PermissionError(errno.EACCES, path)
        return CONTINUE

    assert supervise(t, sup) == ("ok", [errno.EACCES, 0])
    assert seen[-2:] == ["/etc/hostname", str(allowed)]
