"""User notification with real targets: a forked child loads a filter with NOTIFY rules, sends
its listener fd to the test process, and makes syscalls that the test answers."""
import asyncio
import ctypes
import errno
import gc
import json
import math
import mmap
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

pytestmark = [pytest.mark.skipif(not seccomp.action_available(Action.NOTIFY),
                                 reason="the kernel has no seccomp user notification"),
              pytest.mark.timeout(60)]


def _open_fds():
    return set(os.listdir("/proc/self/fd"))


@pytest.fixture(autouse=True)
def no_leaks():
    """Every test leaves no fd open and no child process behind."""
    before = _open_fds()
    yield
    gc.collect()
    deadline = time.monotonic() + 5
    while _open_fds() - before and time.monotonic() < deadline:
        time.sleep(0.05)  # a watchdog thread may still be closing
    leaked = {fd: _fd_target(fd) for fd in _open_fds() - before}
    assert not leaked, "fds left open: %s" % leaked
    try:
        pid, _ = os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        pid = 0
    assert pid == 0, "a child process was left behind"


def _fd_target(fd):
    try:
        return os.readlink("/proc/self/fd/" + fd)
    except OSError:
        return "?"


class Target:
    """A forked child under a filter with NOTIFY rules for *syscalls*; it runs *body* and the
    test reads what body returned from `result()`."""

    def __init__(self, syscalls, body, *args, make_filter=None):
        parent, child = socket.socketpair()
        r, w = os.pipe()
        self.go_r, self.go_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            signal.alarm(20)  # never outlive a broken test
            try:
                parent.close()
                if make_filter is None:
                    f = Filter(Action.ALLOW)
                    for name in syscalls:
                        f.add_rule(Action.NOTIFY, name)
                else:
                    f = make_filter()
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

    def reap(self):
        """What body returned; the child is reaped (the listener stays open)."""
        if self.results is not None:
            with os.fdopen(self.results, "rb") as f:
                data = f.read()
            self.results = None
            _, status = os.waitpid(self.pid, 0)
            os.close(self.go_r)
            os.close(self.go_w)
            self.outcome = pickle.loads(data) if data else ("died", status)
        return self.outcome

    def result(self):
        """What body returned (the child is reaped, and every fd of this target closed)."""
        outcome = self.reap()
        self.listener.close()
        return outcome

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
    t.reap()
    assert not t.listener.id_valid(n)
    with pytest.raises(notify.NotificationGone) as info:
        t.listener.reply(n, 1)
    assert info.value.errno == errno.ENOENT
    with pytest.raises(notify.TargetsGone):
        t.listener.receive(timeout=10)      # no process uses the filter any more
    t.result()


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


@pytest.mark.parametrize("recv_returns_when_unused", [True, False])
def test_asyncio_supervisor(monkeypatch, recv_returns_when_unused):
    # False: as before Linux 6.11, where RECV waits on once no process uses the filter
    from seccomp import _notify

    monkeypatch.setattr(_notify, "_recv_returns_when_unused", recv_returns_when_unused)
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


def test_run_async_and_a_thread_share_a_listener():
    """run_async and a supervisor thread of the same process answer one busy target's calls
    between them: neither holds the GIL while RECV could wait for a notification the other
    took (the thread needs it to answer, and the target waits for that answer)."""
    t = Target(["getppid"], lambda: [os.getppid() for _ in range(500)])
    in_thread = Supervisor(t.listener)
    in_thread.add_handler("getppid", lambda n: 7)
    in_loop = Supervisor(t.listener)
    in_loop.add_handler("getppid", lambda n: 7)
    in_thread.start()

    async def main():
        t.go()
        await asyncio.wait_for(in_loop.run_async(), 20)

    try:
        asyncio.run(main())
    finally:
        in_thread.close()
    assert t.result() == ("ok", [7] * 500)
    assert in_thread.handled + in_loop.handled == 500


def test_serve_one_answers_what_is_pending_then_gives_the_loop_back():
    """One readiness call (what run_async makes) answers every pending notification of a
    multi-threaded target and those that follow within the linger, returns once the target
    is quiet, and says TargetsGone when it has exited."""
    import select
    from seccomp._notify import Server

    def body():
        got = []
        threads = [threading.Thread(target=lambda: got.append(os.getppid())) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        time.sleep(1.0)  # quiet for longer than the linger
        return got + [os.getppid()]

    t = Target(["getppid"], body)
    server = Server(t.listener.fileno(), lambda arch, nr: lambda n: 5)
    t.go()
    readable = select.poll()
    readable.register(t.listener.fileno(), select.POLLIN)
    assert readable.poll(10000)
    start = time.monotonic()
    assert server.serve_one(200000, 10000000) == 4   # linger 0.2 s: the four threads' calls
    assert time.monotonic() - start < 0.9            # back before the target's next call
    assert readable.poll(10000)
    assert server.serve_one(0, 0) == 1
    with pytest.raises(notify.TargetsGone):
        for _ in range(100):
            readable.poll(10000)                     # readable (hung up) once it has exited
            server.serve_one(200000, 1000000)
    assert t.result() == ("ok", [5] * 5)
    assert server.handled == 5


def test_notification_holds_plain_ints():
    """A Notification made from Python keeps its arguments as plain ints, not the caller's
    objects, so nothing can form a reference cycle through it (it is not GC-tracked)."""
    class Big(int):
        pass

    n = notify.Notification(1, 2, 0, 39, 0xC000003E, 0, [Big(1), 2, 3, 4, 5, True])
    assert n.args == (1, 2, 3, 4, 5, 1)
    assert all(type(a) is int for a in n.args)
    assert not gc.is_tracked(n)
    with pytest.raises(OverflowError):
        notify.Notification(1, 2, 0, 39, 0xC000003E, 0, [-1, 2, 3, 4, 5, 6])


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
    """The README's example: deny opening under /etc/, open the rest on the target's behalf."""
    allowed = tmp_path / "ok"
    allowed.write_text("x")
    t = Target(["openat"], _open_two, str(allowed))
    with Supervisor(t.listener) as sup:
        seen = []

        @sup.handler("openat")
        def openat(n):
            path = sup.listener.read_string(n, n.args[1])
            seen.append(path)
            if path.startswith("/etc/"):
                raise PermissionError(errno.EACCES, path)
            return sup.listener.open_for(n, path, n.args[2], n.args[3], dirfd=n.args[0])

        assert supervise(t, sup) == ("ok", [errno.EACCES, 0])
    assert seen[-2:] == ["/etc/hostname", str(allowed)]


# --- issue: a supervisor that cannot hang, cannot fail open, and is safe to decide with -------

def _cpu_seconds():
    t = os.times()
    return t.user + t.system


@pytest.mark.parametrize("how", ["listener", "module", "compat"])
def test_receive_without_timeout_raises_targets_gone_instead_of_spinning(how):
    t = Target(["getppid"], lambda: 0)
    t.go()
    t.reap()                                  # the only target exited without a notification
    fd = t.listener.fileno()
    receive = {"listener": t.listener.receive, "module": lambda: notify.receive(fd),
               "compat": lambda: seccomp.SyscallFilter(seccomp.ALLOW).receive_notify(fd=fd)}
    start, cpu = time.monotonic(), _cpu_seconds()
    with pytest.raises(notify.TargetsGone):
        receive[how]()
    assert time.monotonic() - start < 2 and _cpu_seconds() - cpu < 1
    t.result()


def _syscall_answers(name, count):
    return [syscall(name) for _ in range(count)]


BAD_ANSWERS = [
    (lambda: 2 ** 70, ValueError),
    (lambda: -2 ** 64, ValueError),
    (lambda: "42", TypeError),
    (lambda: 1.5, TypeError),
    (lambda: None, TypeError),                       # a handler that forgot to return
    (lambda: True, TypeError),
    (lambda: InjectFd(999), seccomp.SeccompError),   # the kernel's ADDFD fails: EBADF
    (lambda: InjectFd(0, target_fd=-1), ValueError),
    (lambda: OSError("not an errno", "x"), TypeError),
    (lambda: OSError(0, "zero"), ValueError),
    (lambda: OSError(5000, "too big"), ValueError),
    (lambda: OSError(-5000, "too small"), ValueError),
    (lambda: [], TypeError),
]


BAD_IDS = ["2**70", "-2**64", "str", "float", "None", "bool", "InjectFd(999)", "target_fd=-1",
           "errno-str", "errno-0", "errno-5000", "errno--5000", "list"]
# every bad answer returned, and the OSErrors among them raised as well
BAD_CASES = [pytest.param(a, e, False, id="returned-" + i)
             for (a, e), i in zip(BAD_ANSWERS, BAD_IDS)]
BAD_CASES += [pytest.param(a, e, True, id="raised-" + i)
              for (a, e), i in zip(BAD_ANSWERS, BAD_IDS) if i.startswith("errno")]


@pytest.mark.parametrize("answer, error, raised", BAD_CASES)
def test_an_answer_that_cannot_be_sent_answers_enosys_and_reaches_the_owner(answer, error,
                                                                            raised):
    t = Target(["getppid"], _syscall_answers, "getppid", 2)
    sup = Supervisor(t.listener)

    @sup.handler("getppid")
    def bad(n):
        if raised:
            raise answer()
        return answer()

    watchdog = threading.Timer(20, t.kill)
    watchdog.start()
    try:
        t.go()
        for _ in range(2):                   # the error comes out; the owner carries on
            with pytest.raises(error):
                sup.run()
        assert t.result() == ("ok", [(-1, errno.ENOSYS)] * 2)
    finally:
        watchdog.cancel()
    assert sup.handled == 2


@pytest.mark.parametrize("err", [errno.EACCES, -errno.EACCES])
def test_a_negative_errno_means_the_same_errno_never_success(err):
    t = Target(["openat"], _open_two, "/etc/hostname")
    sup = Supervisor(t.listener)

    @sup.handler("openat")
    def deny(n):
        raise OSError(err, "denied")

    assert supervise(t, sup) == ("ok", [errno.EACCES, errno.EACCES])


def test_an_oserror_without_errno_denies_with_eperm():
    t = Target(["getppid"], _syscall_answers, "getppid", 1)
    sup = Supervisor(t.listener)
    sup.add_handler("getppid", lambda n: OSError("no errno given"))
    assert supervise(t, sup) == ("ok", [(-1, errno.EPERM)])


def test_replying_twice_says_the_notification_was_already_answered():
    t = Target(["getppid"], os.getppid)
    t.go()
    n = t.listener.receive(timeout=10)
    t.listener.reply(n, 5)
    # EINPROGRESS while the target has not woken up yet, ENOENT once it has left the syscall
    with pytest.raises((notify.AlreadyAnswered, notify.NotificationGone),
                       match="answered already"):
        t.listener.reply(n, 6)
    assert t.result() == ("ok", 5)


def test_a_handler_that_answered_itself_is_not_answered_again():
    t = Target(["getppid"], os.getppid)
    sup = Supervisor(t.listener)

    @sup.handler("getppid")
    def twice(n):
        sup.listener.reply(n, 8)
        return 9

    t.go()
    try:
        sup.run()
    except notify.AlreadyAnswered as exc:
        assert "getppid" in str(exc)
    assert t.result() == ("ok", 8)


def test_receive_timeout_inf_is_no_timeout_and_nan_is_refused():
    t = Target(["getppid"], os.getppid)
    with pytest.raises(ValueError, match="NaN"):
        t.listener.receive(timeout=math.nan)
    with pytest.raises(TypeError, match="timeout"):
        t.listener.receive(timeout="1")
    threading.Timer(0.3, t.go).start()
    n = t.listener.receive(timeout=math.inf)
    t.listener.reply(n, 3)
    assert t.result() == ("ok", 3)


def test_default_must_be_an_errno_or_explicit_continue():
    r, w = os.pipe()
    try:
        for bad in (0, None, 5000, "EPERM", True, 1.0):
            with pytest.raises(ValueError, match="default"):
                Supervisor(r, default=bad)
        assert Supervisor(r, default=-errno.EPERM).default == errno.EPERM
        assert Supervisor(r, default=CONTINUE).default is CONTINUE
    finally:
        os.close(r)
        os.close(w)


# Dispatch by (architecture, syscall number) ----------------------------------------------------

I386 = seccomp.Arch.X86
# x86_64 code calling the i386 syscall ABI (int 0x80): long f(a, b, c, nr).
#   push rbx; mov eax, ecx; mov ebx, edi; mov ecx, esi; int 0x80; pop rbx; ret
INT80 = bytes.fromhex("53 89 c8 89 fb 89 f1 cd 80 5b c3")


def _int80():
    code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    code.write(INT80)
    address = ctypes.addressof(ctypes.c_char.from_buffer(code))
    fn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int)(address)
    fn.keep = code
    return fn


def _i386_supported():
    if seccomp.Arch.native() != seccomp.Arch.X86_64:
        return False
    return in_child(lambda: _int80()(0, 0, 0, 20) == os.getpid()).value is True  # getpid


def _i386_and_native_openat():
    call = _int80()
    nr = seccomp.syscall_number("openat", I386)
    return call(-100, 0, 0, nr), syscall("openat", -100, 0, 0)[0]


def _x86_filter():
    f = Filter(Action.ALLOW)
    f.add_arch(I386)
    f.add_rule(Action.NOTIFY, "openat")
    return f


@pytest.mark.skipif(not _i386_supported(),
                    reason="needs x86_64 with the i386 syscall ABI (int 0x80) enabled")
def test_a_handler_by_name_answers_a_32_bit_target_too():
    t = Target([], _i386_and_native_openat, make_filter=_x86_filter)
    sup = Supervisor(t.listener)
    seen = []

    @sup.handler("openat")
    def openat(n):
        seen.append((n.arch, n.syscall))
        return 4000 + len(seen)

    # i386 openat is 295, which is preadv on x86_64: that handler must not see it
    sup.add_handler("preadv", lambda n: seen.append("preadv") or 1)
    assert supervise(t, sup) == ("ok", (4001, 4002))
    assert seen == [(I386, 295), (seccomp.Arch.native(), syscall_nr("openat"))]


def syscall_nr(name, arch=None):
    return seccomp.syscall_number(name, arch) if arch else seccomp.syscall_number(name)


def test_dispatch_is_by_architecture_and_number_fed_notifications():
    """Notifications of several architectures fed to Supervisor.handle (their answers go to a
    real listener and find no such notification): which handler ran."""
    t = Target(["getppid"], os.getppid)
    sup = Supervisor(t.listener)
    ran = []
    sup.add_handler("openat", lambda n: ran.append(("openat", n.arch)) or 0)
    sup.add_handler(295, lambda n: ran.append(("native 295", n.arch)) or 0)
    sup.add_handler("getpid", lambda n: ran.append(("i386 getpid", n.arch)) or 0, arch=I386)
    cases = [(seccomp.Arch.X86, 295), (seccomp.Arch.AARCH64, 56), (seccomp.Arch.X86_64, 257),
             (seccomp.Arch.X86_64, 295), (seccomp.Arch.X86, 20), (seccomp.Arch.X86_64, 39),
             (seccomp.Arch.X86, 100000)]
    for i, (arch, nr) in enumerate(cases):
        sup.handle(notify.Notification(1 << 60 | i, 1, 0, nr, arch, 0, [0] * 6))
    native = seccomp.Arch.native()
    if native == seccomp.Arch.X86_64:
        assert ran == [("openat", I386), ("openat", seccomp.Arch.AARCH64),
                       ("openat", seccomp.Arch.X86_64), ("native 295", seccomp.Arch.X86_64),
                       ("i386 getpid", I386)]   # x86_64 getpid and an unknown number: default
    t.kill()
    t.result()


# Lifetimes -------------------------------------------------------------------------------------

def test_dropped_supervisors_keep_the_fd_count_flat():
    t = Target(["getppid"], os.getppid)
    gc.collect()
    before = len(_open_fds())
    for _ in range(200):
        sup = Supervisor(t.listener)
        sup.add_handler("getppid", lambda n, sup=sup: 1)   # a cycle, as decorators make
        del sup
    gc.collect()
    assert len(_open_fds()) <= before
    t.kill()
    t.result()


def test_a_listener_collected_open_is_closed_with_a_resource_warning():
    r, w = os.pipe()
    os.close(w)
    listener = Listener(r, sync_wake_up=False)
    with pytest.warns(ResourceWarning, match="Listener"):
        del listener
        gc.collect()
    with pytest.raises(OSError):
        os.fstat(r)                                        # closed


def test_listener_and_supervisor_are_context_managers():
    t = Target(["getppid"], os.getppid)
    with Listener(t.listener.fileno(), own=False) as borrowed:
        with Supervisor(borrowed) as sup:
            sup.add_handler("getppid", lambda n: 12)
            thread = sup.start()
            t.go()
            assert t.reap() == ("ok", 12)
        assert not thread.is_alive()                        # leaving the block joined it
    assert borrowed.closed and not t.listener.closed       # not owned: the fd stays open
    t.result()


def test_stop_before_run_ends_it_at_once_and_a_signal_handler_can_stop():
    t = Target(["getppid"], os.getppid)
    sup = Supervisor(t.listener)
    sup.stop()
    start = time.monotonic()
    sup.run()                                              # returns: the stop was pending
    old = signal.signal(signal.SIGALRM, lambda *a: sup.stop())
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        sup.run()                                          # the signal handler stops it
    finally:
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - start < 5
    t.kill()
    t.result()


STOP_WITH_SIGURG_HANDLED = textwrap.dedent("""
    import os, signal, socket, sys, time
    from seccomp import Action, Filter, notify
    seen = []
    signal.signal(signal.SIGURG, lambda *a: seen.append(1))   # the program's own handler
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        f = Filter(Action.ALLOW)
        f.add_rule(Action.NOTIFY, "getppid")
        listener = notify.load(f)
        notify.send_fd(child, listener.fileno())
        time.sleep(30)
        os._exit(0)
    with notify.Listener(notify.receive_fd(parent)) as listener:
        sup = notify.Supervisor(listener)
        thread = sup.start()
        time.sleep(0.2)
        start = time.monotonic()
        sup.stop()
        thread.join(5)
        print(thread.is_alive(), time.monotonic() - start < 1, seen, flush=True)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
""")


def test_stop_works_when_the_program_handles_sigurg_itself():
    done = subprocess.run([sys.executable, "-c", STOP_WITH_SIGURG_HANDLED],
                          capture_output=True, text=True, timeout=30)
    assert done.stdout.split() == ["False", "True", "[]"], done.stderr


# Acting on the target's behalf ------------------------------------------------------------------

def _read_files(directory, names):
    os.chdir(directory)
    out = []
    for name in names:
        try:
            with open(name) as f:
                out.append(f.read())
        except OSError as exc:
            out.append(exc.errno)
    return out


def test_open_for_opens_in_the_targets_directory_and_installs_the_fd(tmp_path):
    (tmp_path / "mine").write_text("the target's file")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "deep").write_text("below")
    os.symlink("/proc/self/fd/0", str(tmp_path / "magic"))
    os.symlink(str(tmp_path / "mine"), str(tmp_path / "absolute-link"))
    t = Target(["openat"], _read_files, str(tmp_path),
               ["mine", "sub/deep", "nothing", "/etc/hostname", "absolute-link",
                str(tmp_path / "mine")])
    sup = Supervisor(t.listener)
    seen = []

    @sup.handler("openat")
    def openat(n):
        path = sup.listener.read_string(n, n.args[1])
        seen.append(path)
        if path.startswith("/etc/"):
            raise PermissionError(errno.EACCES, path)
        return sup.listener.open_for(n, path, n.args[2], n.args[3], dirfd=n.args[0])

    assert os.getcwd() != str(tmp_path)
    assert supervise(t, sup) == ("ok", ["the target's file", "below", errno.ENOENT, errno.EACCES,
                                        "the target's file", "the target's file"])
    assert seen[:2] == ["mine", "sub/deep"]


def _open_and_report(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as exc:
        return exc.errno
    with os.fdopen(fd) as f:
        return f.read()


def test_the_decision_holds_when_the_target_changes_its_memory_after_the_check(tmp_path):
    """The target rewrites the path after the check (simulated by the supervisor writing into
    its memory, as another thread of the target could): the open uses the checked copy."""
    allowed = tmp_path / "allowed"
    allowed.write_text("allowed")
    secret = tmp_path / "secret"
    secret.write_text("secret")
    assert len(str(allowed)) == len(str(secret)) + 1
    t = Target(["openat"], _open_and_report, str(allowed))
    sup = Supervisor(t.listener)

    @sup.handler("openat")
    def openat(n):
        path = sup.listener.read_string(n, n.args[1])
        if path != str(allowed):
            raise PermissionError(errno.EACCES, path)
        sup.listener.write_memory(n, n.args[1], os.fsencode(str(secret)) + b"\0")  # the swap
        assert sup.listener.read_string(n, n.args[1]) == str(secret)
        return sup.listener.open_for(n, path, n.args[2], n.args[3], dirfd=n.args[0])

    assert supervise(t, sup) == ("ok", "allowed")


def test_open_for_and_write_memory_refuse_a_notification_that_is_gone(tmp_path):
    t = Target(["getppid"], os.getppid)
    t.go()
    n = t.listener.receive(timeout=10)
    t.kill()
    t.reap()
    with pytest.raises(OSError):
        t.listener.write_memory(n, 0x1000, b"x")    # gone (ENOENT), or its /proc entry is
    with pytest.raises(OSError):
        t.listener.open_for(n, "/etc/hostname")
    t.result()


# Loading: defaultAction NOTIFY, API levels ------------------------------------------------------

def _notify_by_default():
    f = Filter(Action.NOTIFY)
    # what this child does before the supervisor holds the listener must not wait for it
    for name in ("sendmsg", "close", "brk", "mmap", "munmap", "mprotect", "madvise"):
        f.add_rule(Action.ALLOW, name)
    return f


def test_notify_as_the_default_action_gets_a_listener():
    t = Target([], lambda: (syscall("getppid"), syscall("getpgrp")[0] == os.getpgrp()),
               make_filter=_notify_by_default)
    sup = Supervisor(t.listener, default=CONTINUE)      # everything else runs for real
    sup.add_handler("getppid", lambda n: 4242)
    assert supervise(t, sup) == ("ok", ((4242, 0), True))


def test_load_refuses_a_filter_with_nothing_to_notify_and_old_api_levels():
    with pytest.raises(ValueError, match="no NOTIFY"):
        notify.load(Filter(Action.ALLOW))

    def at_api_5():
        f = Filter(Action.ALLOW)
        f.add_rule(Action.NOTIFY, "getppid")
        seccomp.set_api_level(5)       # as libseccomp finds Linux 5.0-5.6
        try:
            notify.load(f)
        except seccomp.SeccompError as exc:
            return str(exc)

    message = in_child(at_api_5).unwrap()
    assert "API level 6" in message and "API level 5" in message and "tsync=False" in message


# seccomp run with NOTIFY -------------------------------------------------------------------------

def _seccomp_run(profile, tmp_path, *command):
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile))
    return subprocess.run([sys.executable, "-m", "seccomp", "run", "--profile", str(path), "--",
                           *command], capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("name", ["sendmsg", "close", "write"])
@pytest.mark.parametrize("conditional", [False, True])
def test_seccomp_run_refuses_notify_on_what_it_needs_after_loading(tmp_path, name, conditional):
    rule = {"names": [name], "action": "SCMP_ACT_NOTIFY"}
    if conditional:
        rule["args"] = [{"index": 0, "value": 1000, "op": "SCMP_CMP_EQ"}]
    done = _seccomp_run({"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "s"),
                         "syscalls": [rule]}, tmp_path, "true")
    assert done.returncode == 1
    assert "sends %s to the seccomp agent" % name in done.stderr and "Traceback" not in done.stderr


def test_seccomp_run_with_notify_as_the_default_action_hands_the_listener_over(tmp_path):
    """defaultAction SCMP_ACT_NOTIFY: a listener is made and sent to the agent at
    listenerPath, which answers the command's getppid() (the shell's $PPID)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(tmp_path / "agent"))
    server.listen(1)
    answered = []

    def agent():
        conn, _ = server.accept()
        with conn, Listener(notify.receive_fd(conn)) as listener:
            sup = Supervisor(listener, default=CONTINUE)
            sup.add_handler("getppid", lambda n: 4242)
            sup.run()
            answered.append(sup.handled)

    thread = threading.Thread(target=agent, daemon=True)
    thread.start()
    try:
        done = _seccomp_run({"defaultAction": "SCMP_ACT_NOTIFY",
                             "listenerPath": str(tmp_path / "agent"),
                             # (epoll_pwait2 names a recent syscall: the profile knows the
                             # syscalls below it, so they are not answered ENOSYS as unknown)
                             "syscalls": [{"names": ["sendmsg", "close", "write",
                                                     "epoll_pwait2"],
                                           "action": "SCMP_ACT_ALLOW"}]},
                            tmp_path, "sh", "-c", "echo $PPID")
        thread.join(20)
    finally:
        server.close()
    assert (done.returncode, done.stdout) == (0, "4242\n"), done.stderr
    assert answered and answered[0] > 10      # every other syscall went through the agent


@pytest.mark.parametrize("how", ["serve", "handle", "serve_one"])
def test_a_target_is_answered_when_finding_its_handler_fails(how):
    """Ctrl-C (or any error) while the supervisor looks up a syscall's handler, before the
    handler runs: the target still gets ENOSYS at once, with the listener left open."""
    t = Target(["getppid"], _syscall_answers, "getppid", 1)

    def resolve(arch, nr):
        raise KeyboardInterrupt

    server = notify.Server(t.listener.fileno(), resolve)
    watchdog = threading.Timer(10, t.kill)   # unanswered, the target would wait for ever
    watchdog.start()
    try:
        t.go()
        with pytest.raises(KeyboardInterrupt):
            if how == "serve":
                server.serve()
            elif how == "serve_one":
                server.serve_one()
            else:
                server.handle(t.listener.receive(timeout=10))
        assert t.reap() == ("ok", [(-1, errno.ENOSYS)])   # reaped with the listener open
    finally:
        watchdog.cancel()
        t.listener.close()
    assert server.handled == 1


def test_recv_returns_when_unused_from_linux_6_11():
    from seccomp._notify import recv_returns_when_unused

    for release, expected in [("6.11.0", True), ("6.18.44-fc-v1098", True), ("7.0", True),
                              ("6.10.14", False), ("6.1.0-13-amd64", False),
                              ("5.15.0-91-generic", False), ("garbage", False), ("", False)]:
        assert recv_returns_when_unused(release) is expected, release


def test_serve_ends_when_the_targets_are_gone_where_recv_would_wait_on(monkeypatch):
    """Before Linux 6.11 RECV does not return once no process uses the filter, so serve()
    polls the listener there (its hang-up ends the loop): force that way here."""
    from seccomp import _notify

    monkeypatch.setattr(_notify, "_recv_returns_when_unused", False)
    assert not _notify.recv_returns_when_unused()
    t = Target(["getppid"], lambda: [os.getppid(), os.getppid()])
    sup = Supervisor(t.listener)
    sup.add_handler("getppid", lambda n: 4242)
    assert supervise(t, sup) == ("ok", [4242, 4242])


def test_receive_without_timeout_raises_targets_gone_where_recv_would_wait_on(monkeypatch):
    from seccomp import _notify

    monkeypatch.setattr(_notify, "_recv_returns_when_unused", False)
    t = Target(["getppid"], lambda: os.getppid())
    t.go()
    n = t.listener.receive(timeout=10)
    notify.send(t.listener.fd, n.id, 7)
    assert t.reap() == ("ok", 7)
    with pytest.raises(seccomp.TargetsGone):
        t.listener.receive()  # no process uses the filter any more: at once, no timeout
    t.listener.close()


def test_a_supervisor_thread_reports_a_handlers_error_and_goes_on_answering(monkeypatch):
    """The thread of start() ended at a handler's error: nobody could run it again, and the
    target's next syscalls waited for ever (the listener still open)."""
    t = Target(["getppid"], _syscall_answers, "getppid", 3)
    sup = Supervisor(t.listener)
    calls = []
    reported = []
    monkeypatch.setattr(threading, "excepthook", reported.append)

    @sup.handler("getppid")
    def flaky(n):
        calls.append(n.id)
        if len(calls) == 2:
            raise RuntimeError("a bug in the handler")
        return 7

    watchdog = threading.Timer(10, t.kill)
    watchdog.start()
    try:
        thread = sup.start()
        t.go()
        assert t.reap() == ("ok", [(7, 0), (-1, errno.ENOSYS), (7, 0)])
    finally:
        watchdog.cancel()
        sup.close()
        t.listener.close()
    assert not thread.is_alive()
    assert [(r.exc_type, str(r.exc_value)) for r in reported] == [
        (RuntimeError, "a bug in the handler")]
    assert reported[0].thread is thread


def test_a_supervisor_thread_whose_listener_fails_ends(monkeypatch):
    """Carrying on is for handlers' errors only: a listener that cannot be read (not a
    listener at all here) ends the thread with its error, without spinning."""
    reported = []
    monkeypatch.setattr(threading, "excepthook", reported.append)
    fd = os.open("/dev/null", os.O_RDONLY)
    try:
        sup = Supervisor(fd)
        thread = sup.start()
        thread.join(10)
        assert not thread.is_alive()
    finally:
        os.close(fd)
    assert len(reported) == 1 and isinstance(reported[0].exc_value, seccomp.SeccompError)
