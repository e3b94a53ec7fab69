"""Seccomp user notification: answer another process's syscalls from Python.

A filter rule with ``Action.NOTIFY`` stops the calling thread and hands the syscall to whoever
holds the filter's listener fd. Load the filter and get its listener::

    f = seccomp.Filter(Action.ALLOW)
    f.add_rule(Action.NOTIFY, "openat")
    listener = notify.load(f)          # in the process to supervise (then pass the fd on)

and answer from a supervisor (another process, or a thread that is not filtered)::

    with notify.Supervisor(listener) as sup:

        @sup.handler("openat")
        def openat(n):
            path = sup.listener.read_string(n, n.args[1])    # our copy: decide on it alone
            if path.startswith("/etc/"):
                raise PermissionError(errno.EACCES, path)    # the syscall fails with EACCES
            return sup.listener.open_for(n, path, n.args[2], n.args[3], dirfd=n.args[0])

        sup.run()             # or sup.start() (a thread), or await sup.run_async()

A handler returns an int (the syscall's result), `CONTINUE` (run the real syscall), an
`InjectFd` (install an fd in the target; the syscall returns its number), or raises OSError
(the syscall fails with its errno; ``OSError(-errno.EACCES)`` means EACCES too). Whatever it
does, the target gets an answer: an answer that cannot be sent (not one of those, an int out
of range, an errno outside 1..4095, an fd the kernel cannot install) or any other exception
makes the syscall fail with ENOSYS, and the error ends `Supervisor.run()` with it (in the
thread of `Supervisor.start()` it is reported, and the thread goes on answering).

**Deciding safely.** The target's memory can change after the supervisor read it (another
thread of the target, or shared memory), so `CONTINUE` after checking a path or a buffer
lets the kernel use what the target put there afterwards: never answer CONTINUE after a
decision about memory contents (seccomp_unotify(2)). CONTINUE is safe when the decision
rests only on the syscall number, the register arguments (``n.args`` values, not what they
point to) and who the target is. To allow an ``open`` by path, open the path yourself with
`Listener.open_for` (your copy of the path, resolved in the target's root and working
directory) and answer with the fd it returns.
"""
from __future__ import annotations

import errno as _errno
import os
import threading
import warnings
from typing import TYPE_CHECKING, Any, Callable, Dict, Optional, Tuple, Union

from . import _core
from ._errors import (AlreadyAnswered, InvalidArgumentError, NotificationGone, SeccompError,
                      TargetsGone, UnsupportedError)
from ._fdpass import receive_fd, send_fd
from ._filter import Filter
from ._info import kernel_version, syscall_name, syscall_number
from ._notify import (ADDFD_FLAG_SEND, ADDFD_FLAG_SETFD, CONTINUE, FLAG_CONTINUE, InjectFd,
                      Notification, NotificationAddfd, NotificationResponse, Server, add_fd,
                      id_valid, openat2, read_memory, receive, recv_returns_when_unused,
                      respond, send, set_sync_wake_up, write_memory)

if TYPE_CHECKING:
    pass

__all__ = [
    "Notification", "NotificationResponse", "NotificationAddfd", "NotificationGone",
    "TargetsGone", "AlreadyAnswered", "FLAG_CONTINUE", "ADDFD_FLAG_SETFD", "ADDFD_FLAG_SEND",
    "receive", "respond", "send", "id_valid", "add_fd", "set_sync_wake_up",
    "recv_returns_when_unused",
    "read_memory", "write_memory",
    "Listener", "load", "send_fd", "receive_fd", "Supervisor", "CONTINUE", "InjectFd",
    "features",
]

AT_FDCWD = -100
# openat2(2)'s RESOLVE_* flags (linux/openat2.h)
RESOLVE_NO_XDEV = 0x01
RESOLVE_NO_MAGICLINKS = 0x02
RESOLVE_NO_SYMLINKS = 0x04
RESOLVE_BENEATH = 0x08
RESOLVE_IN_ROOT = 0x10


def _id(notification: Union[Notification, int]) -> int:
    return notification.id if isinstance(notification, Notification) else notification


class Listener:
    """A filter's listener fd: receive notifications and answer them.

    Owns the fd unless made with ``own=False``: `close()` or the ``with`` block closes it; one
    collected open is closed with a ResourceWarning, as files are. Sets SYNC_WAKE_UP where the
    kernel has it (Linux 6.6+)."""

    fd = -1

    def __init__(self, fd: int, *, own: bool = True, sync_wake_up: bool = True) -> None:
        if not isinstance(fd, int) or isinstance(fd, bool) or fd < 0:
            raise InvalidArgumentError(_errno.EBADF, "a listener is an open fd, not %r" % (fd,))
        self.sync_wake_up = set_sync_wake_up(fd) if sync_wake_up else False
        self._own = own
        self.fd = fd

    def fileno(self) -> int:
        """The listener fd (for select, asyncio, or sending to another process)."""
        if self.fd < 0:
            raise InvalidArgumentError(_errno.EBADF, "the listener is closed")
        return self.fd

    @property
    def closed(self) -> bool:
        """Whether `close()` was called."""
        return self.fd < 0

    def close(self) -> None:
        """Close the fd (if owned); pending targets then fail their syscall with ENOSYS."""
        fd, self.fd = self.fd, -1
        if fd >= 0 and self._own:
            os.close(fd)

    def __enter__(self) -> "Listener":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if self.fd >= 0 and self._own:
            warnings.warn("unclosed %r" % self, ResourceWarning, stacklevel=2, source=self)
            self.close()

    def __repr__(self) -> str:
        return "<Listener fd=%d>" % self.fd

    def receive(self, timeout: Optional[float] = None) -> Notification:
        """The next notification (TimeoutError after *timeout* seconds; `TargetsGone` once no
        process uses the filter)."""
        return receive(self.fileno(), timeout)

    def respond(self, response: NotificationResponse) -> None:
        """Answer with a `NotificationResponse`."""
        respond(self.fileno(), response)

    def reply(self, notification: Union[Notification, int], value: int = 0, *,
              error: int = 0, continue_syscall: bool = False) -> None:
        """Answer: the syscall returns *value*, or fails with errno *error* (positive), or runs
        for real with *continue_syscall*. `AlreadyAnswered` if it was answered."""
        if continue_syscall:
            send(self.fileno(), _id(notification), 0, 0, FLAG_CONTINUE)
        else:
            send(self.fileno(), _id(notification), value if not error else 0, -abs(error), 0)

    def id_valid(self, notification: Union[Notification, int]) -> bool:
        """Whether the notification is still pending."""
        return id_valid(self.fileno(), _id(notification))

    def _check_pending(self, notification: Notification, doing: str) -> None:
        if not self.id_valid(notification):
            raise NotificationGone(_errno.ENOENT, "the target of notification %d went away "
                                                  "while %s" % (notification.id, doing))

    def inject_fd(self, notification: Notification, fd: int, *, target_fd: Optional[int] = None,
                  cloexec: bool = False, reply: bool = False) -> int:
        """Install *fd* in the notification's target (as *target_fd* if given); with *reply*
        also answer, atomically: the syscall returns the new fd. Returns its number there."""
        flags = (ADDFD_FLAG_SETFD if target_fd is not None else 0) | (
            ADDFD_FLAG_SEND if reply else 0)
        return add_fd(self.fileno(), NotificationAddfd(
            notification, flags, fd, target_fd or 0, os.O_CLOEXEC if cloexec else 0))

    def read_memory(self, notification: Notification, address: int, size: int) -> bytes:
        """Read the target's memory, then check the notification is still pending, so the
        bytes belong to the process that made the syscall (not a reused pid). The target may
        change its memory afterwards: decide on these bytes, never CONTINUE on them."""
        data = read_memory(notification.pid, address, size)
        self._check_pending(notification, "its memory was read")
        return data

    def read_string(self, notification: Notification, address: int, limit: int = 4096) -> str:
        """A NUL-terminated string (a path argument) from the target's memory."""
        data = b""
        while len(data) < limit:
            # read page by page: a string may end just before an unmapped page
            chunk = self.read_memory(notification, address + len(data),
                                     min(limit - len(data), 4096 - (address + len(data)) % 4096))
            end = chunk.find(b"\0")
            if end >= 0:
                return (data + chunk[:end]).decode(errors="surrogateescape")
            if not chunk:
                break
            data += chunk
        raise InvalidArgumentError(_errno.ENAMETOOLONG, "no string end within %d bytes at 0x%x"
                                   % (limit, address))

    def write_memory(self, notification: Notification, address: int, data: bytes) -> int:
        """Write to the target's memory; returns the bytes written.

        Opens the target's ``/proc/PID/mem``, then checks the notification is still pending
        (so the file is the target's, not a reused pid's), then writes through that file."""
        fd = os.open("/proc/%d/mem" % notification.pid, os.O_RDWR | os.O_CLOEXEC)
        try:
            self._check_pending(notification, "its memory was opened")
            return os.pwrite(fd, data, address)
        finally:
            os.close(fd)

    def open_for(self, notification: Notification, path: Union[str, bytes],
                 flags: int = os.O_RDONLY, mode: int = 0, *, dirfd: int = AT_FDCWD) -> InjectFd:
        """Open *path* as the target would (``openat(dirfd, path, flags, mode)`` in its root
        and working directory), in the supervisor; returns the answer that installs the fd in
        the target (closing the supervisor's copy).

        Pass the path you read and checked: the target cannot change that copy, which makes
        this the safe form of "check the path, then let the open happen". Paths resolve with
        openat2(2) and RESOLVE_IN_ROOT (never above the target's root) and
        RESOLVE_NO_MAGICLINKS (no ``/proc/*/fd`` jumps); ``/proc/self`` is the supervisor.
        The file is opened with the supervisor's credentials and umask: decide in the handler
        who may open what. *dirfd* is the target's fd number (``n.args[0]`` of openat)."""
        pid = notification.pid
        dirfd = _signed32(dirfd)
        text = os.fsdecode(path)
        if not text:
            raise FileNotFoundError(_errno.ENOENT, "empty path")
        here = "/proc/%d/cwd" % pid if dirfd == AT_FDCWD else "/proc/%d/fd/%d" % (pid, dirfd)
        root = os.open("/proc/%d/root" % pid, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        base = -1
        try:
            if text.startswith("/"):
                base = root
            elif _same_file(root, "/"):  # the target's root is ours: its cwd resolves as is
                base = os.open(here, os.O_PATH | os.O_CLOEXEC)
            else:  # resolve from its root: the path of its cwd (or dirfd) below that root
                base, text = root, _below(os.readlink(here), os.readlink(
                    "/proc/%d/root" % pid)) + "/" + text
            # The fds above are the target's only if it is still in the syscall (pid reuse).
            self._check_pending(notification, "its root and directory were opened")
            fd = _open_in_root(base, text, flags, mode, in_root=base == root)
        finally:
            os.close(root)
            if base not in (root, -1):
                os.close(base)
        return InjectFd(fd, cloexec=bool(flags & os.O_CLOEXEC), close=True)


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def _same_file(fd: int, path: str) -> bool:
    a, b = os.fstat(fd), os.stat(path)
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _below(path: str, root: str) -> str:
    """*path* relative to *root* (both as the supervisor sees them)."""
    if root == "/":
        return path
    if path != root and not path.startswith(root.rstrip("/") + "/"):
        raise PermissionError(_errno.EXDEV, "the target's directory %s is outside its root %s"
                              % (path, root))
    return path[len(root):] or "/"


def _open_in_root(base: int, path: str, flags: int, mode: int, in_root: bool) -> int:
    resolve = RESOLVE_NO_MAGICLINKS | (RESOLVE_IN_ROOT if in_root else 0)
    try:
        return openat2(base, path, flags | os.O_CLOEXEC, mode, resolve)
    except OSError as exc:
        if exc.errno != _errno.ENOSYS:
            raise
    # Linux < 5.6 has no openat2: a plain openat below the same base (symlinks and ".." are
    # then the kernel's ordinary resolution, which may leave a target's own root).
    return os.open(path.lstrip("/") or ".", flags | os.O_CLOEXEC, mode, dir_fd=base)


def load(filter: Filter) -> Listener:  # noqa: A002 - the natural name
    """Load *filter* (with NOTIFY rules, or NOTIFY as its default action) into this process
    and return its own listener.

    Loads through seccomp(2) with NEW_LISTENER and the filter's attributes (TSYNC, no_new_privs,
    log, SSB, wait-killable-recv), so every filter gets a listener of its own. Every syscall
    this process makes afterwards that the filter notifies waits for a supervisor: hand the
    listener over with syscalls the filter allows."""
    program = filter.compile()
    if not program.flags & _core.FILTER_FLAGS["NEW_LISTENER"]:
        raise InvalidArgumentError(_errno.EINVAL, "the filter has no NOTIFY rule: there would "
                                                  "be nothing to listen to")
    check_api_level(filter.tsync)
    # No SYNC_WAKE_UP here: that ioctl may be notified itself, and the supervisor's own
    # Listener sets it (so does notify.set_sync_wake_up for a supervisor in this process).
    return Listener(program.load(), sync_wake_up=False)


def check_api_level(tsync: bool) -> None:
    """Refuse a listener with TSYNC where libseccomp's API level is below 6 (TSYNC_ESRCH, Linux
    5.7): the kernel would refuse the pair with a bare EINVAL."""
    level = _core.api_get()
    if tsync and level < 6:
        raise UnsupportedError(
            _errno.EINVAL, "a filter with a listener and TSYNC needs API level 6 (Linux 5.7: "
                           "TSYNC_ESRCH); this system has API level %d: make the filter with "
                           "tsync=False" % level)


Handler = Callable[[Notification], Any]

# run_async: how long one turn of the event loop waits for a busy target's next notification
# (yielding the CPU to it; no timer), and for how long in all it may keep answering before
# giving the loop back
_ASYNC_LINGER_US = 50
_ASYNC_BUDGET_US = 1000


class Supervisor:
    """Answers a listener's notifications with a handler per syscall.

    Handlers are found by (architecture, syscall number): one registered by name answers that
    syscall on every architecture (an i386 ``openat`` and an x86_64 one alike); one registered
    by number answers that number on the native architecture, or on *arch*. Syscalls without a
    handler get *default*: an errno (ENOSYS unless given), or `CONTINUE` only if asked for.

    Run it with `run()` (blocking), `start()` (a thread) or ``await run_async()`` (asyncio);
    `stop()` ends any of them, and so does the end of the last process using the filter. A
    handler's error ends `run()` and `run_async()` too, after its target got an answer (the
    caller decides what follows); the thread of `start()` reports it and carries on. A
    context manager: leaving the block stops it and waits for its thread. It holds no fd of
    its own; the listener stays its owner's."""

    def __init__(self, listener: Union[Listener, int], *, default: Any = _errno.ENOSYS) -> None:
        self.listener = listener if isinstance(listener, Listener) else Listener(listener,
                                                                                  own=False)
        if default is not CONTINUE and (isinstance(default, bool) or not isinstance(
                default, int) or not 1 <= abs(default) <= 4095):
            raise InvalidArgumentError(_errno.EINVAL, "default is an errno (1..4095) or "
                                                      "CONTINUE, not %r" % (default,))
        self.default = default if default is CONTINUE else abs(default)
        self._by_name: Dict[str, Handler] = {}
        self._by_number: Dict[Tuple[int, int], Handler] = {}
        self._server = Server(self.listener.fileno(), self._resolve)
        self._thread: Optional[threading.Thread] = None
        self._async_stop: Optional[Callable[[], None]] = None

    @property
    def handled(self) -> int:
        """How many notifications were answered."""
        return self._server.handled

    def handler(self, *syscalls: Union[str, int], arch: Any = None) -> Callable[[Handler],
                                                                                 Handler]:
        """Decorator: answer *syscalls* (names or numbers) with the function."""
        def register(fn: Handler) -> Handler:
            for s in syscalls:
                self.add_handler(s, fn, arch=arch)
            return fn
        return register

    def add_handler(self, syscall: Union[str, int], fn: Handler, *, arch: Any = None) -> None:
        """Answer *syscall* with *fn*: a name on every architecture (or on *arch* only), a
        number on the native architecture (or on *arch*)."""
        if not callable(fn):
            raise TypeError("a handler is a callable taking a Notification, not %r" % (fn,))
        from ._enums import Arch
        where = Arch.native() if arch is None else Arch(arch)
        if isinstance(syscall, str) and arch is None:
            syscall_number(syscall)  # raises for names this machine does not know
            self._by_name[syscall] = fn
        else:
            nr = syscall if isinstance(syscall, int) else syscall_number(syscall, where)
            self._by_number[(int(where), nr)] = fn
        self._server.forget()

    def _resolve(self, arch: int, nr: int) -> Handler:
        fn = self._by_number.get((arch, nr))
        if fn is None and self._by_name:
            try:
                fn = self._by_name.get(syscall_name(nr, arch))
            except SeccompError:  # a number unknown on that architecture
                fn = None
        return fn if fn is not None else self._default_handler

    def _default_handler(self, n: Notification) -> Any:
        if self.default is CONTINUE:
            return CONTINUE
        raise OSError(self.default, "no handler for %s" % n.syscall_name)

    def handle(self, n: Notification) -> None:
        """Answer one notification: run its handler and send what it returns."""
        self._server.handle(n)

    def run(self) -> None:
        """Answer notifications until `stop()` or until no process uses the filter."""
        self._server.serve()

    def start(self) -> threading.Thread:
        """Run in a daemon thread; returns it (`stop()` ends it). A handler's error there is
        reported as a thread's uncaught exception is (`threading.excepthook`), after its
        target got an answer, and the thread carries on: nobody could run it again, and
        the next targets would wait for ever."""
        t = threading.Thread(target=self._serve_in_thread, name="seccomp-supervisor",
                             daemon=True)
        self._thread = t
        t.start()
        return t

    def _serve_in_thread(self) -> None:
        while True:
            before = self.handled
            try:
                self._server.serve()
                return
            except Exception as exc:
                if self.handled == before:  # not a handler's: the listener itself failed
                    raise
                threading.excepthook(threading.ExceptHookArgs(  # type: ignore[attr-defined,unused-ignore]
                    (type(exc), exc, exc.__traceback__, threading.current_thread())))

    async def run_async(self) -> None:
        """Answer notifications on the running asyncio loop (no thread) until `stop()`."""
        import asyncio
        loop = asyncio.get_running_loop()
        done: "asyncio.Future[None]" = loop.create_future()
        fd = self.listener.fileno()
        serve_one = self._server.serve_one

        def finish(exc: Optional[BaseException]) -> None:
            if not done.done():
                done.set_exception(exc) if exc else done.set_result(None)

        def readable() -> None:
            try:
                # a busy target's next notification comes within microseconds: answering it
                # here saves a turn of the loop each (never longer than 1 ms in all)
                serve_one(_ASYNC_LINGER_US, _ASYNC_BUDGET_US)
            except TargetsGone:
                finish(None)
            except BaseException as exc:  # a handler's bug ends run_async with it
                finish(exc)

        def async_stop() -> None:
            loop.call_soon_threadsafe(finish, None)

        self._async_stop = async_stop
        loop.add_reader(fd, readable)
        try:
            await done
        finally:
            self._async_stop = None
            loop.remove_reader(fd)

    def stop(self) -> None:
        """End `run()`, the thread of `start()`, or `run_async()` (from any thread, or a
        signal handler). A stop while nothing runs ends the next `run()` at once."""
        async_stop = self._async_stop
        if async_stop is not None:
            async_stop()
        else:
            self._server.stop()

    def close(self) -> None:
        """Stop, and wait for the thread of `start()` (the listener is left to its owner)."""
        thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self.stop()
            thread.join()

    def __enter__(self) -> "Supervisor":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def features() -> Dict[str, Any]:
    """What the running kernel supports for filters and notifications."""
    from ._enums import Action
    try:
        sizes = _core.notif_sizes()
    except SeccompError:
        sizes = None
    # every action, KILL_THREAD under libseccomp's module's name for it
    plain = {"KILL" if name == "KILL_THREAD" else name: action
             for name, action in Action.members().items()}
    plain.update(ERRNO=Action.ERRNO(0), TRACE=Action.TRACE(0))
    actions = {name: _core.action_available(action) for name, action in plain.items()}
    return {"actions": actions, "notif_sizes": sizes, "api_level": _core.api_get(),
            "sync_wake_up": _kernel_at_least(6, 6)}


def _kernel_at_least(major: int, minor: int) -> bool:
    try:
        return kernel_version() >= (major, minor)
    except SeccompError:
        return False
