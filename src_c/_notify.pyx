# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled part of seccomp.notify: notification objects and the listener-fd calls.

Every call that can wait releases the GIL; EINTR runs Python's signal handlers (so Ctrl-C
raises KeyboardInterrupt at once) and retries. Errors are the core's exception classes, plus
`NotificationGone` when the target of a notification has died or left the syscall.

A notified target always gets an answer: whatever a handler returns or raises, `Server`
answers the notification (ENOSYS when the handler's answer cannot be sent) before it reports
the handler's error.
"""
cimport cython
from libc.errno cimport (EINTR, ENOENT, EPIPE, EINVAL, ENOTTY, EBADF, EINPROGRESS,
                         EBUSY, ERANGE, EPERM as EPERM_, ENOSYS as ENOSYS_)
from posix.fcntl cimport O_CLOEXEC as O_CLOEXEC_
from posix.signal cimport sigset_t
from posix.unistd cimport usleep
from libc.stdint cimport uint32_t, uint64_t, int32_t, int64_t
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from cpython.exc cimport PyErr_CheckSignals
from cpython.number cimport PyNumber_Index

import math
import os
import time

from seccomp._core import arch_object, syscall_resolve_num
from seccomp._errors import InvalidArgumentError, NotificationGone, SeccompError, fail, invalid

from libseccomp cimport seccomp_notif

cdef extern from "scmpy_notify.h" nogil:
    int SECCOMP_USER_NOTIF_FLAG_CONTINUE
    int SECCOMP_ADDFD_FLAG_SETFD
    int SECCOMP_ADDFD_FLAG_SEND
    int SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
    int scmpy_notif_recv(int fd, seccomp_notif *req)
    int scmpy_notif_send(int fd, uint64_t id, int64_t val, int32_t error, uint32_t flags)
    int scmpy_notif_id_valid(int fd, uint64_t id)
    int scmpy_notif_addfd(int fd, uint64_t id, uint32_t flags, uint32_t srcfd, uint32_t newfd,
                          uint32_t newfd_flags)
    int scmpy_notif_set_flags(int fd, uint64_t flags)
    int scmpy_notif_wait(int fd, int wake_fd, int timeout_ms)
    int scmpy_notif_pending(int fd)
    int scmpy_notif_linger(int fd, long timeout_us)
    long long scmpy_now_us()
    long scmpy_vm_read(int pid, void *local, size_t size, unsigned long remote)
    long scmpy_vm_write(int pid, const void *local, size_t size, unsigned long remote)
    int scmpy_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
                      uint64_t resolve)
    int SCMPY_POLL_MS
    int scmpy_wake_signal_ready()
    void scmpy_wake_signal_unblock(sigset_t *old)
    void scmpy_sigmask_restore(const sigset_t *old)
    ctypedef struct scmpy_stopper:
        pass
    void scmpy_stopper_init(scmpy_stopper *s)
    void scmpy_stopper_destroy(scmpy_stopper *s)
    int scmpy_stopper_enter(scmpy_stopper *s, int use_signal)
    void scmpy_stopper_leave(scmpy_stopper *s)
    int scmpy_stopper_begin_wait(scmpy_stopper *s)
    void scmpy_stopper_end_wait(scmpy_stopper *s)
    int scmpy_stopper_stopping(scmpy_stopper *s)
    int scmpy_stopper_stop(scmpy_stopper *s)

FLAG_CONTINUE = SECCOMP_USER_NOTIF_FLAG_CONTINUE
ADDFD_FLAG_SETFD = SECCOMP_ADDFD_FLAG_SETFD
ADDFD_FLAG_SEND = SECCOMP_ADDFD_FLAG_SEND


@cython.freelist(8)  # one per round trip: reuse their memory
@cython.no_gc  # holds no object but a tuple of ints it makes itself: no cycle can pass through
cdef class Notification:
    """A syscall the kernel holds until it gets an answer.

    ``Notification(id, pid, flags, syscall, syscall_arch, syscall_ip, syscall_args)``, the
    fields of the kernel's ``struct seccomp_notif``; ``arch``, ``ip``, ``args`` (a tuple)
    and ``syscall_name`` read more easily."""
    cdef readonly uint64_t id
    cdef readonly uint32_t pid
    cdef readonly uint32_t flags
    cdef readonly int syscall
    cdef readonly uint32_t syscall_arch
    cdef readonly uint64_t syscall_ip
    cdef uint64_t _args[6]
    cdef tuple _args_tuple   # made on first use: most handlers read few arguments, or none

    def __init__(self, id, pid, flags, syscall, syscall_arch, syscall_ip, syscall_args):
        self.id = id
        self.pid = pid
        self.flags = flags
        self.syscall = syscall
        self.syscall_arch = syscall_arch & 0xFFFFFFFF
        self.syscall_ip = syscall_ip
        args = tuple(syscall_args)
        if len(args) != 6:
            invalid("a notification has 6 arguments, not %d" % len(args))
        for i in range(6):
            self._args[i] = args[i]

    @property
    def args(self):
        """The six arguments, as a tuple of unsigned 64-bit ints."""
        if self._args_tuple is None:
            self._args_tuple = (self._args[0], self._args[1], self._args[2], self._args[3],
                                self._args[4], self._args[5])
        return self._args_tuple

    @property
    def syscall_args(self):
        """The six arguments, as a list (libseccomp's module's form)."""
        return list(self.args)

    @property
    def arch(self):
        """The architecture of the syscall, as an `Arch`."""
        return arch_object(self.syscall_arch)

    @property
    def ip(self):
        """The instruction pointer at the syscall."""
        return self.syscall_ip

    @property
    def syscall_name(self):
        """The syscall's name on its architecture (or its number as text if unknown)."""
        try:
            return syscall_resolve_num(self.syscall, self.syscall_arch)
        except SeccompError:
            return str(self.syscall)

    def __repr__(self):
        return "<Notification id=%d pid=%d %s(%s)>" % (
            self.id, self.pid, self.syscall_name, ", ".join(hex(a) for a in self.args))


cdef Notification _from_c(seccomp_notif *req):
    cdef Notification n = Notification.__new__(Notification)
    n.id = req.id
    n.pid = req.pid
    n.flags = req.flags
    n.syscall = req.data.nr
    n.syscall_arch = req.data.arch
    n.syscall_ip = req.data.instruction_pointer
    n._args = req.data.args
    return n


cdef class NotificationResponse:
    """An answer to a notification: ``NotificationResponse(notify, val=0, error=0, flags=0)``.

    *error* is a negative errno (``-errno.EPERM``) or 0, in which case the syscall returns
    *val*; flags=`FLAG_CONTINUE` runs the real syscall instead."""
    cdef public uint64_t id
    cdef public int64_t val
    cdef public int32_t error
    cdef public uint32_t flags

    def __init__(self, notify, val=0, error=0, flags=0):
        self.id = _c_u64(notify.id if isinstance(notify, Notification) else notify,
                         "notification id")
        self.val = _checked(val, -0x8000000000000000, 0x7FFFFFFFFFFFFFFF, "val")
        self.error = _c_int(error, "error")
        self.flags = _checked(flags, 0, 0xFFFFFFFF, "flags")

    def __repr__(self):
        return "<NotificationResponse id=%d val=%d error=%d flags=%d>" % (
            self.id, self.val, self.error, self.flags)


cdef class NotificationAddfd:
    """An fd to install in a notification's target:
    ``NotificationAddfd(notify, flags, fd, newfd=0, newfd_flags=0)``.

    *flags*: `ADDFD_FLAG_SETFD` (use *newfd* as the number), `ADDFD_FLAG_SEND` (also answer
    the notification: the syscall returns the new fd); *newfd_flags*: ``os.O_CLOEXEC``."""
    cdef public uint64_t id
    cdef public uint32_t flags
    cdef public uint32_t fd
    cdef public uint32_t newfd
    cdef public uint32_t newfd_flags

    def __init__(self, notify, flags, fd, newfd=0, newfd_flags=0):
        self.id = _c_u64(notify.id if isinstance(notify, Notification) else notify,
                         "notification id")
        self.flags = _checked(flags, 0, 0xFFFFFFFF, "flags")
        self.fd = _checked(fd, 0, 0x7FFFFFFF, "fd")
        self.newfd = _checked(newfd, 0, 0x7FFFFFFF, "newfd")
        self.newfd_flags = _checked(newfd_flags, 0, 0xFFFFFFFF, "newfd_flags")

    def __repr__(self):
        return "<NotificationAddfd id=%d fd=%d flags=%d newfd=%d newfd_flags=%d>" % (
            self.id, self.fd, self.flags, self.newfd, self.newfd_flags)


cdef int _check_signals() except -1:
    # EINTR: run the Python signal handlers (KeyboardInterrupt comes out here), then retry.
    PyErr_CheckSignals()
    return 0


cdef double _deadline(timeout) except? -1:
    """The monotonic time *timeout* seconds from now; -1 for no timeout (None or infinity)."""
    if timeout is None:
        return -1
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError("timeout is seconds (a number) or None, not %r" % (timeout,))
    cdef double t = timeout
    if math.isnan(t):
        invalid("timeout is NaN: give seconds, or None to wait for ever")
    if math.isinf(t) and t > 0:
        return -1
    return time.monotonic() + max(t, 0.0)


cdef int _ms_left(double deadline):
    if deadline < 0:
        return -1
    cdef double left = (deadline - time.monotonic()) * 1000 + 0.999
    return <int>min(max(left, 0.0), 1e9)


# The functions below take their integers as Python objects and check them here: Cython's own
# conversion to a C type raises OverflowError ("Python int too large to convert to C long"),
# which names neither the parameter nor its range, and is not the ValueError bad input is.
# Each public function is a thin def over a cdef one with the C types.
cdef object _checked(object value, object low, object high, str what):
    value = PyNumber_Index(value)  # TypeError for what is not an integer
    if not low <= value <= high:
        invalid("%s %d is out of range %d..%d" % (what, value, low, high))
    return value


cdef inline int _c_int(object value, str what) except? -1:
    if type(value) is int and -0x80000000 <= value <= 0x7FFFFFFF:
        return value
    return _checked(value, -0x80000000, 0x7FFFFFFF, what)


cdef inline uint64_t _c_u64(object value, str what) except? 0xFFFFFFFFFFFFFFFF:
    if type(value) is int and 0 <= value <= 0xFFFFFFFFFFFFFFFF:
        return value
    return _checked(value, 0, 0xFFFFFFFFFFFFFFFF, what)


def receive(fd, timeout=None, wake_fd=-1):
    """Wait for the next notification on listener *fd* and return it.

    *timeout* in seconds (None or infinity waits for ever) raises TimeoutError when it passes;
    a readable *wake_fd* makes it return None. Raises `TargetsGone` when no process uses the
    filter any more (at once, also without a timeout)."""
    return _receive(_c_int(fd, "fd"), timeout, _c_int(wake_fd, "wake_fd"))


cdef object _receive(int fd, timeout, int wake_fd):
    cdef seccomp_notif req
    cdef int rc, ms
    cdef double deadline = _deadline(timeout)
    # before Linux 6.11 a RECV does not return once no process uses the filter: poll first
    cdef bint must_wait = deadline >= 0 or wake_fd >= 0 or not recv_returns_when_unused()
    while True:
        if must_wait:
            ms = _ms_left(deadline)
            with nogil:
                rc = scmpy_notif_wait(fd, wake_fd, ms)
            if rc == -EINTR:
                _check_signals()
                continue
            if rc == 0:
                raise TimeoutError("no notification within %s s" % timeout)
            if rc == 2:
                return None
            if rc < 0:
                fail(rc, "cannot wait for a notification on fd %d" % fd)
        with nogil:
            rc = scmpy_notif_recv(fd, &req)
        if rc == 0:
            return _from_c(&req)
        if rc == -EINTR:
            _check_signals()
        elif rc == -ENOENT:
            # The target died before we read it, or no process uses the filter any more (the
            # ioctl then returns ENOENT at once, every time): wait, which tells them apart.
            must_wait = True
        else:
            fail(rc, "cannot receive a notification on fd %d" % fd)


def respond(fd, NotificationResponse response not None):
    """Answer a notification."""
    _send(_c_int(fd, "fd"), response.id, response.val, response.error, response.flags)


def send(fd, id, val=0, error=0, flags=0):
    """Answer notification *id*: return *val*, or fail with *error* (a negative errno), or run
    the real syscall with flags=`FLAG_CONTINUE`. `AlreadyAnswered` if it was answered."""
    _send(_c_int(fd, "fd"), _c_u64(id, "notification id"),
          _checked(val, -0x8000000000000000, 0x7FFFFFFFFFFFFFFF, "val"), _c_int(error, "error"),
          _checked(flags, 0, 0xFFFFFFFF, "flags"))


cdef int _send(int fd, uint64_t id, int64_t val, int32_t error, uint32_t flags) except -1:
    cdef int rc
    while True:
        with nogil:
            rc = scmpy_notif_send(fd, id, val, error, flags)
        if rc == 0:
            return 0
        if rc != -EINTR:
            fail(rc, "cannot answer notification %d" % id)
        _check_signals()


def id_valid(fd, id):
    """Whether notification *id* is still pending (its target is still in the syscall)."""
    return _id_valid(_c_int(fd, "fd"), _c_u64(id, "notification id"))


cdef object _id_valid(int fd, uint64_t id):
    cdef int rc
    with nogil:
        rc = scmpy_notif_id_valid(fd, id)
    if rc == 0:
        return True
    if rc == -ENOENT:
        return False
    fail(rc, "cannot check notification %d" % id)


def add_fd(fd, NotificationAddfd addfd not None):
    """Install an fd in a notification's target; returns its number there."""
    return _add_fd(_c_int(fd, "fd"), addfd)


cdef object _add_fd(int fd, NotificationAddfd addfd):
    cdef int rc
    while True:
        with nogil:
            rc = scmpy_notif_addfd(fd, addfd.id, addfd.flags, addfd.fd, addfd.newfd,
                                   addfd.newfd_flags)
        if rc >= 0:
            return rc
        if rc == -EINPROGRESS:
            fail(rc, "cannot add fd %d to notification %d" % (addfd.fd, addfd.id),
                 "it was not received yet, or was answered already")
        if rc == -EBUSY:
            fail(rc, "cannot add fd %d with SEND" % addfd.fd,
                 "other fds for notification %d are being added" % addfd.id)
        if rc != -EINTR:
            fail(rc, "cannot add fd %d to the target of notification %d"
                 % (addfd.fd, addfd.id))
        _check_signals()


def set_sync_wake_up(fd):
    """Ask the kernel to wake targets on the supervisor's CPU (Linux 6.6+; much faster round
    trips on a multi-CPU machine). Returns False where the kernel lacks it."""
    return _set_sync_wake_up(_c_int(fd, "fd"))


cdef object _set_sync_wake_up(int fd):
    cdef int rc = scmpy_notif_set_flags(fd, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
    if rc == 0:
        return True
    if rc in (-EINVAL, -ENOTTY):
        return False
    fail(rc, "cannot set flags on listener fd %d" % fd)


def read_memory(pid, address, size):
    """Read *size* bytes at *address* in process *pid* (process_vm_readv): may be short.

    Nothing here says *pid* is still the target: check `id_valid` afterwards (as
    ``Listener.read_memory`` does)."""
    if PyNumber_Index(size) < 0:
        invalid("cannot read %d bytes" % size)
    return _read_memory(_c_int(pid, "pid"), _c_u64(address, "address"),
                        _checked(size, 0, 0x7FFFFFFFFFFFFFFF, "size"))


cdef object _read_memory(int pid, unsigned long address, Py_ssize_t size):
    cdef bytes buf = PyBytes_FromStringAndSize(NULL, size)
    cdef char *p = PyBytes_AS_STRING(buf)
    cdef long rc
    with nogil:
        rc = scmpy_vm_read(pid, p, size, address)
    if rc < 0:
        fail(rc, "cannot read %d bytes at 0x%x in process %d" % (size, address, pid))
    return buf if rc == size else buf[:rc]


def write_memory(pid, address, const unsigned char[:] data):
    """Write *data* at *address* in process *pid* (process_vm_writev); returns bytes written.

    Racy against pid reuse when used for a notification's target: ``Listener.write_memory``
    is the safe form."""
    return _write_memory(_c_int(pid, "pid"), _c_u64(address, "address"), data)


cdef object _write_memory(int pid, unsigned long address, const unsigned char[:] data):
    cdef long rc
    cdef Py_ssize_t n = data.shape[0]
    if n == 0:
        return 0
    with nogil:
        rc = scmpy_vm_write(pid, &data[0], n, address)
    if rc < 0:
        fail(rc, "cannot write %d bytes at 0x%x in process %d" % (n, address, pid))
    return rc


def openat2(dirfd, path, flags, mode=0, resolve=0):
    """openat2(2): open *path* relative to *dirfd* with RESOLVE_* flags; returns the fd.
    Raises OSError with the kernel's errno (ENOSYS before Linux 5.6)."""
    return _openat2(_c_int(dirfd, "dirfd"), path, _c_int(flags, "flags"),
                    _checked(mode, 0, 0o7777, "mode"), _c_u64(resolve, "resolve"))


cdef object _openat2(int dirfd, path, int flags, int mode, uint64_t resolve):
    cdef bytes p = os.fsencode(path)
    if b"\0" in p:  # the C string would end there: another file (as os.open refuses it)
        raise ValueError("embedded null byte")
    cdef const char *cp = p
    cdef int rc
    with nogil:
        rc = scmpy_openat2(dirfd, cp, <uint32_t>flags, mode, resolve)
    if rc < 0:
        raise OSError(-rc, os.strerror(-rc), path)
    return rc


# ---------------------------------------------------------------------------------------------
# Handlers' answers, and the supervisor's loop in C: only the handler itself runs Python code.
# ---------------------------------------------------------------------------------------------

cdef class _Continue:
    def __repr__(self):
        return "CONTINUE"

    def __reduce__(self):
        return "CONTINUE"


#: A handler's answer: let the syscall run for real.
CONTINUE = _Continue()


cdef class InjectFd:
    """A handler's answer: install *fd* in the target (as *target_fd* if given); the syscall
    returns its number there. With *close* the supervisor's *fd* is closed once sent (or once
    sending failed)."""
    cdef readonly int fd
    cdef readonly bint cloexec
    cdef readonly object target_fd
    cdef readonly bint close

    def __init__(self, fd, *, bint cloexec=False, target_fd=None, bint close=False):
        fd = _c_int(fd, "fd")
        if fd < 0:
            raise InvalidArgumentError(EBADF, "InjectFd needs an open fd, not %d" % fd)
        if target_fd is not None and (isinstance(target_fd, bool) or not isinstance(
                target_fd, int) or not 0 <= target_fd <= 0x7FFFFFFF):
            raise InvalidArgumentError(EBADF, "target_fd is an fd number (0 or more) or None, "
                                              "not %r" % (target_fd,))
        self.fd = fd
        self.cloexec = cloexec
        self.target_fd = target_fd
        self.close = close

    def __repr__(self):
        return "InjectFd(%d, cloexec=%s, target_fd=%r, close=%s)" % (
            self.fd, self.cloexec, self.target_fd, self.close)


cdef int _refuse(int fd, Notification n, exc) except -1:
    """The handler's answer cannot be sent: the target's syscall fails with ENOSYS, and *exc*
    goes to the supervisor's owner."""
    scmpy_notif_send(fd, n.id, 0, -ENOSYS_, 0)
    raise exc


cdef str _what(Notification n):
    return "the handler for %s (pid %d, notification %d)" % (n.syscall_name, n.pid, n.id)


cdef int _errno_of(Notification n, exc) except -1:
    """The errno an OSError answer means (positive); EPERM if it has none."""
    err = (<BaseException>exc).errno
    if err is None:
        return EPERM_
    if isinstance(err, bool) or not isinstance(err, int):
        raise TypeError("%s raised %r: its errno is not an int" % (_what(n), exc))
    if err < 0:
        err = -err  # libseccomp's convention: -EACCES means EACCES
    if not 1 <= err <= 4095:
        raise InvalidArgumentError(ERANGE, "%s raised %r: errno %d is not in 1..4095"
                                   % (_what(n), exc, (<BaseException>exc).errno))
    return err


cdef int _send_answer(int fd, Notification n, answer) except -1:
    """Send a handler's answer; one that cannot be sent answers ENOSYS and raises. A target
    that died meanwhile is not an error."""
    cdef int rc
    cdef int64_t val
    cdef InjectFd inj
    cdef uint32_t flags
    if type(answer) is int or (isinstance(answer, int) and not isinstance(answer, bool)):
        try:
            val = answer
        except OverflowError:
            _refuse(fd, n, InvalidArgumentError(ERANGE, "%s returned %d: a syscall result "
                                                        "is a signed 64-bit int" % (_what(n),
                                                                                    answer)))
        rc = scmpy_notif_send(fd, n.id, val, 0, 0)
    elif answer is CONTINUE:
        rc = scmpy_notif_send(fd, n.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)
    elif isinstance(answer, OSError):
        try:
            rc = _errno_of(n, answer)
        except Exception as exc:
            _refuse(fd, n, exc)
        rc = scmpy_notif_send(fd, n.id, 0, -rc, 0)
    elif isinstance(answer, InjectFd):
        inj = <InjectFd>answer
        flags = SECCOMP_ADDFD_FLAG_SEND
        if inj.target_fd is not None:
            flags |= SECCOMP_ADDFD_FLAG_SETFD
        rc = scmpy_notif_addfd(fd, n.id, flags, inj.fd,
                               inj.target_fd if inj.target_fd is not None else 0,
                               O_CLOEXEC_ if inj.cloexec else 0)
        if inj.close:
            os.close(inj.fd)
        if rc >= 0 or rc == -ENOENT:
            return 0
        if rc != -EINPROGRESS:
            _refuse(fd, n, SeccompError(-rc, "%s answered %r, which the kernel refused: %s"
                                        % (_what(n), inj, os.strerror(-rc))))
    else:
        _refuse(fd, n, TypeError(
            "%s returned %r: a handler returns an int (the syscall's result), CONTINUE or an "
            "InjectFd, or raises OSError" % (_what(n), answer)))
    if rc == 0 or rc == -ENOENT:
        return 0
    if rc == -EINPROGRESS:
        fail(rc, "%s answered, but" % _what(n))
    _refuse(fd, n, SeccompError(-rc, "cannot send the answer of %s: %s" % (
        _what(n), os.strerror(-rc))))


cdef int _dispatch(int fd, Notification n, fn) except -1:
    try:
        answer = fn(n)
    except NotificationGone as exc:  # its target went away while the handler worked
        answer = exc
    except SeccompError:
        # The library's own errors (a bad InjectFd, a failed call) are the supervisor's
        # problem, not an errno meant for the target.
        scmpy_notif_send(fd, n.id, 0, -ENOSYS_, 0)
        raise
    except OSError as exc:
        answer = exc
    except BaseException:
        scmpy_notif_send(fd, n.id, 0, -ENOSYS_, 0)  # never leave the target hanging
        raise
    return _send_answer(fd, n, answer)


cdef class Server:
    """The supervisor's loop over one listener fd: receives each notification, picks its
    handler and sends the handler's answer, in C; only handlers run Python code.

    ``Server(fd, resolve)``: *resolve(arch, nr)* returns the handler for syscall *nr* of
    architecture *arch* (a Python callable taking the `Notification`); its answers are cached
    until `forget()`. Holds no fd of its own: `stop()` wakes a waiting `serve()` with a
    signal (SIGURG, unless the program handles that itself: then `serve()` polls)."""
    cdef int fd
    cdef object resolve
    cdef dict cache
    cdef uint64_t last_key
    cdef object last_fn
    cdef scmpy_stopper stopper
    cdef public long handled

    def __cinit__(self):
        scmpy_stopper_init(&self.stopper)

    def __init__(self, int fd, resolve not None):
        self.fd = fd
        self.resolve = resolve
        self.cache = {}
        self.handled = 0

    def __dealloc__(self):
        scmpy_stopper_destroy(&self.stopper)

    def forget(self):
        """Drop the cached handlers (after handlers changed)."""
        self.cache.clear()
        self.last_fn = None

    cdef object _handler(self, uint32_t arch, int nr):
        cdef uint64_t key = (<uint64_t>arch << 32) | <uint32_t>nr
        if self.last_fn is not None and key == self.last_key:
            return self.last_fn
        fn = self.cache.get(key)
        if fn is None:
            fn = self.resolve(arch, nr)
            self.cache[key] = fn
        self.last_key = key
        self.last_fn = fn
        return fn

    def handle(self, Notification n not None):
        """Answer *n* with its handler."""
        try:
            fn = self._handler(n.syscall_arch, n.syscall)
        except BaseException:  # resolve's error, or Ctrl-C while it ran
            self.handled += 1
            scmpy_notif_send(self.fd, n.id, 0, -ENOSYS_, 0)  # never leave the target hanging
            raise
        self.handled += 1
        _dispatch(self.fd, n, fn)

    cdef int _serve_req(self, seccomp_notif *req) except -1:
        cdef Notification n
        try:
            fn = self._handler(req.data.arch, req.data.nr)
            n = _from_c(req)
        except BaseException:  # resolve's error, Ctrl-C while it ran, no memory
            self.handled += 1
            scmpy_notif_send(self.fd, req.id, 0, -ENOSYS_, 0)  # never leave the target hanging
            raise
        self.handled += 1
        return _dispatch(self.fd, n, fn)

    def serve_one(self, long linger_us=0, long budget_us=0):
        """Answer the pending notification: call it when the listener is readable (as an
        event loop does), and only from one loop per listener (the wait is in the kernel's
        RECV). Then, for up to *budget_us*, answer each one that follows within *linger_us*
        (an event loop saves a turn per notification of a busy target): it waits for those
        with poll() and sched_yield(), arming no timer, so keep *linger_us* short. Returns how
        many were answered (0 if the target died meanwhile); `TargetsGone` when no process
        uses the filter any more."""
        cdef seccomp_notif req
        cdef int rc, pending
        cdef int fd = self.fd
        cdef long count = 0
        cdef long long until = scmpy_now_us() + budget_us
        if not recv_returns_when_unused():
            # the listener is readable once no process uses the filter, and before Linux
            # 6.11 RECV would then wait for ever: look first
            with nogil:
                pending = scmpy_notif_pending(fd)
            if pending == -EPIPE:
                fail(pending, "cannot receive a notification on fd %d" % fd)
            if pending != 1:
                return 0
        with nogil:
            rc = scmpy_notif_recv(fd, &req)
        while rc == 0:
            self._serve_req(&req)
            count += 1
            if linger_us <= 0 or scmpy_now_us() >= until:
                return count
            with nogil:
                # RECV only once poll() saw one pending (then it returns at once, unless another
                # supervisor of this listener took it: hence without the GIL)
                pending = scmpy_notif_pending(fd)
                if pending == 0:
                    pending = scmpy_notif_linger(fd, linger_us)
                if pending == 1:
                    rc = scmpy_notif_recv(fd, &req)
            if pending != 1:
                if pending == 0 or pending == -EPIPE:
                    return count  # quiet (or gone: the next call says so)
                fail(pending, "cannot wait for a notification on fd %d" % fd)
        if rc == -ENOENT:
            # the target died before we read it, or no process uses the filter any more (then
            # RECV returns ENOENT at once, every time): poll tells them apart
            with nogil:
                rc = scmpy_notif_wait(fd, -1, 0)
            if rc != -EPIPE:
                return count
        elif rc == -EINTR:
            _check_signals()  # Ctrl-C comes out here; the event loop calls again if readable
            return count
        fail(rc, "cannot receive a notification on fd %d" % fd)

    def serve(self):
        """Answer notifications until `stop()` or until no process uses the filter; returns
        how many were answered. A handler's error (after its target got an answer) ends it
        and comes out here."""
        cdef seccomp_notif req
        cdef int rc
        cdef int fd = self.fd
        cdef long before = self.handled
        cdef sigset_t saved
        # waiting in RECV directly saves a poll() per notification, but before Linux 6.11
        # RECV does not return once no process uses the filter: serve() would never end
        cdef bint use_signal = recv_returns_when_unused() and scmpy_wake_signal_ready()
        if scmpy_stopper_enter(&self.stopper, use_signal) < 0:
            raise SeccompError(EBUSY, "the supervisor of fd %d is already running" % fd)
        scmpy_wake_signal_unblock(&saved)
        try:
            while scmpy_stopper_begin_wait(&self.stopper):
                if use_signal:
                    with nogil:
                        rc = scmpy_notif_recv(fd, &req)
                else:
                    with nogil:
                        rc = scmpy_notif_wait(fd, -1, SCMPY_POLL_MS)
                        if rc == 1:
                            rc = scmpy_notif_recv(fd, &req)
                        elif rc == 0:
                            rc = -EINTR  # look at the stop request again
                scmpy_stopper_end_wait(&self.stopper)
                if rc == 0:
                    self._serve_req(&req)
                elif rc == -EINTR:
                    _check_signals()
                elif rc == -ENOENT:
                    # The target died before we read it, or no process uses the filter any
                    # more (then RECV returns ENOENT at once, every time): poll tells them apart.
                    with nogil:
                        rc = scmpy_notif_wait(fd, -1, 0)
                    if rc == -EPIPE:
                        break
                elif rc == -EPIPE:
                    break
                else:
                    fail(rc, "cannot receive a notification on fd %d" % fd)
        finally:
            scmpy_stopper_leave(&self.stopper)
            scmpy_sigmask_restore(&saved)
        return self.handled - before

    def stop(self):
        """End `serve()` (from any thread, or from a signal handler); a stop asked while
        nothing serves ends the next `serve()` at once."""
        cdef int _attempt
        for _attempt in range(20000):  # the thread leaves the ioctl within microseconds
            if scmpy_stopper_stop(&self.stopper):
                return
            with nogil:
                usleep(100)
        raise SeccompError(EBUSY, "cannot interrupt the supervisor of fd %d: does the "
                                  "program block SIGURG in its thread?" % self.fd)


_recv_returns_when_unused = None


def recv_returns_when_unused(release=None):
    """Whether the kernel's RECV returns once no process uses the filter (Linux 6.11 and
    later; earlier ones wait on, and only poll() sees the listener hang up). For the running
    kernel, or for a uname *release* such as '6.1.0-13-amd64'."""
    global _recv_returns_when_unused
    from ._info import split_kernel_release

    if release is None:
        if _recv_returns_when_unused is None:
            import os

            _recv_returns_when_unused = recv_returns_when_unused(os.uname().release)
        return _recv_returns_when_unused
    parsed = split_kernel_release(release)
    return parsed is not None and parsed[:2] >= (6, 11)


def dispatch(int fd, Notification n not None, fn):
    """Run handler *fn* on *n* and send its answer: an int (the syscall's result), CONTINUE,
    an InjectFd, or an OSError raised or returned (the syscall fails with its errno). An
    answer that cannot be sent answers ENOSYS and raises."""
    _dispatch(fd, n, fn)
