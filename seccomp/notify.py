"""Seccomp user notification: answer another process's syscalls from Python.

A filter rule with ``Action.NOTIFY`` stops the calling thread and hands the syscall to whoever
holds the filter's listener fd. Load the filter and get its listener::

    f = seccomp.Filter(Action.ALLOW)
    f.add_rule(Action.NOTIFY, "mkdirat")
    listener = notify.load(f)          # in the process to supervise (then pass the fd on)

and answer from a supervisor (another process, or a thread that is not filtered)::

    sup = notify.Supervisor(listener)

    @sup.handler("mkdirat")
    def mkdirat(n):
        raise PermissionError(errno.EPERM, "no")   # the syscall fails with EPERM

    sup.run()                 # or sup.start() (a thread), or await sup.run_async()

A handler returns an int (the syscall's result), `CONTINUE` (run the real syscall), an
`InjectFd` (install an fd in the target; the syscall returns its number), or raises OSError
(the syscall fails with its errno).
"""
from __future__ import annotations

import array
import asyncio
import errno as _errno
import os
import socket
import threading
from typing import Any, Callable, Dict, Optional, Union

from . import _core
from ._errors import InvalidArgumentError, NotificationGone, SeccompError, TargetsGone
from ._filter import Filter
from ._info import syscall_number
from ._notify import (ADDFD_FLAG_SEND, ADDFD_FLAG_SETFD, CONTINUE, FLAG_CONTINUE, InjectFd,
                      Notification, NotificationAddfd, NotificationResponse, add_fd, dispatch,
                      id_valid, read_memory, receive, respond, send, serve, set_sync_wake_up,
                      write_memory)

__all__ = [
    "Notification", "NotificationResponse", "NotificationAddfd", "NotificationGone",
    "TargetsGone", "FLAG_CONTINUE", "ADDFD_FLAG_SETFD", "ADDFD_FLAG_SEND",
    "receive", "respond", "send", "id_valid", "add_fd", "set_sync_wake_up",
    "read_memory", "write_memory",
    "Listener", "load", "send_fd", "receive_fd", "Supervisor", "CONTINUE", "InjectFd",
    "features",
]


class Listener:
    """A filter's listener fd: receive notifications and answer them.

    Owns the fd (closed by `close()`, the ``with`` block or the garbage collector) unless made
    with ``own=False``. Sets SYNC_WAKE_UP where the kernel has it (Linux 6.6+)."""

    def __init__(self, fd: int, *, own: bool = True, sync_wake_up: bool = True) -> None:
        if not isinstance(fd, int) or isinstance(fd, bool) or fd < 0:
            raise InvalidArgumentError(_errno.EBADF, "a listener is an open fd, not %r" % (fd,))
        self.fd = fd
        self._own = own
        self.sync_wake_up = set_sync_wake_up(fd) if sync_wake_up else False

    def fileno(self) -> int:
        """The listener fd (for select, asyncio, or sending to another process)."""
        if self.fd < 0:
            raise InvalidArgumentError(_errno.EBADF, "the listener is closed")
        return self.fd

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
        if getattr(self, "fd", -1) >= 0:
            self.close()

    def __repr__(self) -> str:
        return "<Listener fd=%d>" % self.fd

    def receive(self, timeout: Optional[float] = None) -> Notification:
        """The next notification (TimeoutError after *timeout* seconds)."""
        return receive(self.fileno(), timeout)

    def respond(self, response: NotificationResponse) -> None:
        """Answer with a `NotificationResponse`."""
        respond(self.fileno(), response)

    def reply(self, notification: Union[Notification, int], value: int = 0, *,
              error: int = 0, continue_syscall: bool = False) -> None:
        """Answer: the syscall returns *value*, or fails with errno *error* (positive), or runs
        for real with *continue_syscall*."""
        nid = notification.id if isinstance(notification, Notification) else notification
        if continue_syscall:
            send(self.fileno(), nid, 0, 0, FLAG_CONTINUE)
        else:
            send(self.fileno(), nid, value if not error else 0, -abs(error), 0)

    def id_valid(self, notification: Union[Notification, int]) -> bool:
        """Whether the notification is still pending."""
        nid = notification.id if isinstance(notification, Notification) else notification
        return id_valid(self.fileno(), nid)

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
        bytes belong to the process that made the syscall (not a reused pid)."""
        data = read_memory(notification.pid, address, size)
        if not self.id_valid(notification):
            raise NotificationGone(_errno.ENOENT, "the target of notification %d went away "
                                                  "while its memory was read" % notification.id)
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
        """Write to the target's memory, after checking the notification is still pending."""
        if not self.id_valid(notification):
            raise NotificationGone(_errno.ENOENT, "notification %d is gone" % notification.id)
        return write_memory(notification.pid, address, data)


def load(filter: Filter) -> Listener:  # noqa: A002 - the natural name
    """Load *filter* (which has NOTIFY rules) into this process and return its own listener.

    Loads through seccomp(2) with NEW_LISTENER and the filter's attributes (TSYNC, no_new_privs,
    log, SSB, wait-killable-recv), so every filter gets a listener of its own."""
    if not filter.has_notify_rules:
        raise InvalidArgumentError(_errno.EINVAL, "the filter has no NOTIFY rule: there would "
                                                  "be nothing to listen to")
    return Listener(filter.compile().load())


def send_fd(sock: socket.socket, fd: int, message: bytes = b"fd") -> None:
    """Send *fd* over a unix socket (SCM_RIGHTS), e.g. a listener to a supervisor process."""
    sock.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])


def receive_fd(sock: socket.socket) -> int:
    """Receive one fd sent with `send_fd`."""
    fds = array.array("i")
    msg, ancdata, _, _ = sock.recvmsg(1024, socket.CMSG_SPACE(fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    if not fds:
        raise SeccompError(_errno.EBADMSG, "no fd in the message (%r)" % (msg,))
    return fds[0]


Handler = Callable[[Notification], Any]


class Supervisor:
    """Answers a listener's notifications with a handler per syscall.

    *default* answers syscalls without a handler: an errno (default ENOSYS), or `CONTINUE`.
    Run it with `run()` (blocking), `start()` (a thread) or ``await run_async()`` (asyncio);
    `stop()` ends any of them. It also ends when no process uses the filter any more."""

    def __init__(self, listener: Union[Listener, int], *, default: Any = _errno.ENOSYS) -> None:
        self.listener = listener if isinstance(listener, Listener) else Listener(listener,
                                                                                  own=False)
        self.default = default
        self._handlers: Dict[int, Handler] = {}
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        self.handled = 0

    def handler(self, *syscalls: Union[str, int]) -> Callable[[Handler], Handler]:
        """Decorator: answer *syscalls* (names or numbers) with the function."""
        def register(fn: Handler) -> Handler:
            for s in syscalls:
                self.add_handler(s, fn)
            return fn
        return register

    def add_handler(self, syscall: Union[str, int], fn: Handler) -> None:
        """Answer *syscall* (a name or a native number) with *fn*."""
        nr = syscall if isinstance(syscall, int) else syscall_number(syscall)
        self._handlers[nr] = fn

    def _default_handler(self, n: Notification) -> Any:
        if self.default is CONTINUE:
            return CONTINUE
        raise OSError(self.default, "no handler for %s" % n.syscall_name)

    def handle(self, n: Notification) -> None:
        """Answer one notification: run its handler and send what it returns."""
        dispatch(self.listener.fileno(), n, self._handlers.get(n.syscall, self._default_handler))
        self.handled += 1

    def run(self) -> None:
        """Answer notifications until `stop()` or until no process uses the filter."""
        self._drain()
        self.handled += serve(self.listener.fileno(), self._wake_r, self._handlers,
                              self._default_handler)

    def start(self) -> threading.Thread:
        """Run in a daemon thread; returns it (join it after `stop()`)."""
        t = threading.Thread(target=self.run, name="seccomp-supervisor", daemon=True)
        t.start()
        return t

    async def run_async(self) -> None:
        """Answer notifications on the running asyncio loop (no thread) until `stop()`."""
        self._drain()
        loop = asyncio.get_running_loop()
        done: "asyncio.Future[None]" = loop.create_future()
        fd = self.listener.fileno()

        def readable() -> None:
            try:
                while True:  # every pending notification, without blocking
                    n = receive(fd, 0)
                    self.handle(n)
            except TimeoutError:
                pass
            except TargetsGone:
                finish(None)
            except BaseException as exc:  # a handler's bug ends run_async with it
                finish(exc)

        def finish(exc: Optional[BaseException]) -> None:
            if not done.done():
                done.set_exception(exc) if exc else done.set_result(None)

        loop.add_reader(fd, readable)
        loop.add_reader(self._wake_r, lambda: finish(None))
        try:
            await done
        finally:
            loop.remove_reader(fd)
            loop.remove_reader(self._wake_r)

    def stop(self) -> None:
        """End `run()`, the thread of `start()`, or `run_async()` (from any thread)."""
        os.write(self._wake_w, b"x")

    def _drain(self) -> None:
        try:
            while os.read(self._wake_r, 64):
                pass
        except BlockingIOError:
            pass

    def close(self) -> None:
        """Free the wake-up pipe (the listener is left to its owner)."""
        for fd in (self._wake_r, self._wake_w):
            os.close(fd)
        self._wake_r = self._wake_w = -1


def features() -> Dict[str, Any]:
    """What the running kernel supports for filters and notifications."""
    from ._enums import Action
    try:
        sizes = _core.notif_sizes()
    except SeccompError:
        sizes = None
    plain = {name: getattr(Action, name) for name in ("KILL_PROCESS", "KILL", "TRAP", "NOTIFY",
                                                     "LOG", "ALLOW")}
    plain.update(ERRNO=Action.ERRNO(0), TRACE=Action.TRACE(0))
    actions = {name: _core.action_available(action) for name, action in plain.items()}
    return {"actions": actions, "notif_sizes": sizes, "api_level": _core.api_get(),
            "sync_wake_up": _kernel_at_least(6, 6)}


def _kernel_at_least(major: int, minor: int) -> bool:
    parts = os.uname().release.split(".")
    try:
        return (int(parts[0]), int(parts[1].split("-")[0])) >= (major, minor)
    except (IndexError, ValueError):
        return False
