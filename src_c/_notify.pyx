# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled part of seccomp.notify: notification objects and the listener-fd calls.

Every call that can wait releases the GIL; EINTR runs Python's signal handlers (so Ctrl-C
raises KeyboardInterrupt at once) and retries. Errors come from `seccomp._errors`:
`NotificationGone` when the target of a notification has died or left the syscall,
`TargetsGone` when no process uses the filter any more.
"""
from libc.errno cimport (EINTR, ENOENT, EPIPE, EINVAL, ENOTTY, EINPROGRESS, EBUSY,
                         EPERM as EPERM_, ENOSYS as ENOSYS_)
from posix.fcntl cimport O_CLOEXEC as O_CLOEXEC_
from libc.stdint cimport uint32_t, uint64_t, int32_t, int64_t
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from cpython.exc cimport PyErr_CheckSignals

import time

from seccomp._core import arch_object, syscall_resolve_num
from seccomp._errors import SeccompError, NotificationGone, TargetsGone, fail, invalid

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
    long scmpy_vm_read(int pid, void *local, size_t size, unsigned long remote)
    long scmpy_vm_write(int pid, const void *local, size_t size, unsigned long remote)

FLAG_CONTINUE = SECCOMP_USER_NOTIF_FLAG_CONTINUE
ADDFD_FLAG_SETFD = SECCOMP_ADDFD_FLAG_SETFD
ADDFD_FLAG_SEND = SECCOMP_ADDFD_FLAG_SEND


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
    cdef readonly tuple args

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
        self.args = args

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
    n.args = (req.data.args[0], req.data.args[1], req.data.args[2], req.data.args[3],
              req.data.args[4], req.data.args[5])
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
        self.id = notify.id if isinstance(notify, Notification) else notify
        self.val = val
        self.error = error
        self.flags = flags

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
        self.id = notify.id if isinstance(notify, Notification) else notify
        self.flags = flags
        self.fd = fd
        self.newfd = newfd
        self.newfd_flags = newfd_flags

    def __repr__(self):
        return "<NotificationAddfd id=%d fd=%d flags=%d newfd=%d newfd_flags=%d>" % (
            self.id, self.fd, self.flags, self.newfd, self.newfd_flags)


cdef int _check_signals() except -1:
    # EINTR: run the Python signal handlers (KeyboardInterrupt comes out here), then retry.
    PyErr_CheckSignals()
    return 0


def receive(int fd, timeout=None, int wake_fd=-1):
    """Wait for the next notification on listener *fd* and return it.

    *timeout* in seconds (None waits for ever) raises TimeoutError when it passes; a readable
    *wake_fd* makes it return None (how a supervisor is stopped). Raises `TargetsGone` when
    no process uses the filter any more."""
    cdef seccomp_notif req
    cdef int rc
    cdef int ms
    cdef double deadline = 0
    if timeout is not None:
        deadline = time.monotonic() + timeout
    while True:
        if timeout is not None or wake_fd >= 0:
            ms = -1
            if timeout is not None:
                ms = max(0, <int>((deadline - time.monotonic()) * 1000 + 0.999))
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
        elif rc != -ENOENT:  # ENOENT: the target died before we read it; wait for the next
            fail(rc, "cannot receive a notification on fd %d" % fd)


def respond(int fd, NotificationResponse response not None):
    """Answer a notification."""
    send(fd, response.id, response.val, response.error, response.flags)


def send(int fd, uint64_t id, int64_t val=0, int32_t error=0, uint32_t flags=0):
    """Answer notification *id*: return *val*, or fail with *error* (a negative errno), or run
    the real syscall with flags=`FLAG_CONTINUE`."""
    cdef int rc
    while True:
        with nogil:
            rc = scmpy_notif_send(fd, id, val, error, flags)
        if rc == 0:
            return
        if rc != -EINTR:
            fail(rc, "cannot answer notification %d" % id)
        _check_signals()


def id_valid(int fd, uint64_t id):
    """Whether notification *id* is still pending (its target is still in the syscall)."""
    cdef int rc
    with nogil:
        rc = scmpy_notif_id_valid(fd, id)
    if rc == 0:
        return True
    if rc == -ENOENT:
        return False
    fail(rc, "cannot check notification %d" % id)


def add_fd(int fd, NotificationAddfd addfd not None):
    """Install an fd in a notification's target; returns its number there."""
    cdef int rc
    while True:
        with nogil:
            rc = scmpy_notif_addfd(fd, addfd.id, addfd.flags, addfd.fd, addfd.newfd,
                                   addfd.newfd_flags)
        if rc >= 0:
            return rc
        if rc == -EINPROGRESS:
            fail(rc, "cannot add fd %d with SEND" % addfd.fd,
                 "the notification was not received")
        if rc == -EBUSY:
            fail(rc, "cannot add fd %d" % addfd.fd, "the notification was answered already")
        if rc != -EINTR:
            fail(rc, "cannot add fd %d to the target of notification %d" % (addfd.fd, addfd.id))
        _check_signals()


def set_sync_wake_up(int fd):
    """Ask the kernel to wake targets on the supervisor's CPU (Linux 6.6+; much faster round
    trips on a multi-CPU machine). Returns False where the kernel lacks it."""
    cdef int rc = scmpy_notif_set_flags(fd, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
    if rc == 0:
        return True
    if rc in (-EINVAL, -ENOTTY):
        return False
    fail(rc, "cannot set flags on listener fd %d" % fd)


def read_memory(int pid, unsigned long address, Py_ssize_t size):
    """Read *size* bytes at *address* in process *pid* (process_vm_readv): may be short."""
    if size < 0:
        invalid("cannot read %d bytes" % size)
    cdef bytes buf = PyBytes_FromStringAndSize(NULL, size)
    cdef char *p = PyBytes_AS_STRING(buf)
    cdef long rc
    with nogil:
        rc = scmpy_vm_read(pid, p, size, address)
    if rc < 0:
        fail(rc, "cannot read %d bytes at 0x%x in process %d" % (size, address, pid))
    return buf if rc == size else buf[:rc]


def write_memory(int pid, unsigned long address, const unsigned char[:] data):
    """Write *data* at *address* in process *pid* (process_vm_writev); returns bytes written."""
    cdef long rc
    cdef Py_ssize_t n = data.shape[0]
    if n == 0:
        return 0
    with nogil:
        rc = scmpy_vm_write(pid, &data[0], n, address)
    if rc < 0:
        fail(rc, "cannot write %d bytes at 0x%x in process %d" % (n, address, pid))
    return rc


# ---------------------------------------------------------------------------------------------
# The supervisor's loop, in C: only the handler itself runs Python code.
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
    returns its number there."""
    cdef readonly int fd
    cdef readonly bint cloexec
    cdef readonly object target_fd

    def __init__(self, int fd, *, bint cloexec=False, target_fd=None):
        self.fd = fd
        self.cloexec = cloexec
        self.target_fd = target_fd

    def __repr__(self):
        return "InjectFd(%d, cloexec=%s, target_fd=%r)" % (self.fd, self.cloexec, self.target_fd)


cdef int _answer(int fd, Notification n, answer) except -1:
    """Send a handler's answer; a target that died meanwhile is not an error."""
    cdef int rc
    cdef InjectFd inj
    cdef uint32_t flags
    if isinstance(answer, OSError):
        err = (<object>answer).errno
        rc = scmpy_notif_send(fd, n.id, 0, -(err if err else EPERM_), 0)
    elif answer is CONTINUE:
        rc = scmpy_notif_send(fd, n.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE)
    elif isinstance(answer, InjectFd):
        inj = <InjectFd>answer
        flags = SECCOMP_ADDFD_FLAG_SEND
        if inj.target_fd is not None:
            flags |= SECCOMP_ADDFD_FLAG_SETFD
        rc = scmpy_notif_addfd(fd, n.id, flags, inj.fd,
                               inj.target_fd if inj.target_fd is not None else 0,
                               O_CLOEXEC_ if inj.cloexec else 0)
        if rc > 0:
            rc = 0
    else:
        rc = scmpy_notif_send(fd, n.id, answer if answer is not None else 0, 0, 0)
    if rc < 0 and rc != -ENOENT:
        fail(rc, "cannot answer notification %d" % n.id)
    return 0


cdef int _dispatch(int fd, Notification n, fn) except -1:
    try:
        answer = fn(n)
    except OSError as exc:
        answer = exc
    except BaseException:
        scmpy_notif_send(fd, n.id, 0, -ENOSYS_, 0)  # never leave the target hanging
        raise
    return _answer(fd, n, answer)


def dispatch(int fd, Notification n not None, fn):
    """Run handler *fn* on *n* and send its answer: an int (the syscall's result), CONTINUE,
    an InjectFd, or an OSError raised or returned (the syscall fails with its errno)."""
    _dispatch(fd, n, fn)


def serve(int fd, int wake_fd, dict handlers not None, default):
    """Answer notifications on *fd* with ``handlers[syscall number]`` (else *default*) until
    *wake_fd* is readable or no process uses the filter; returns how many were answered."""
    cdef seccomp_notif req
    cdef int rc
    cdef long handled = 0
    cdef Notification n
    while True:
        with nogil:
            rc = scmpy_notif_wait(fd, wake_fd, -1)
        if rc == 1:
            with nogil:
                rc = scmpy_notif_recv(fd, &req)
            if rc == 0:
                n = _from_c(&req)
                _dispatch(fd, n, handlers.get(n.syscall, default))
                handled += 1
                continue
            if rc == -ENOENT:
                continue
        if rc == 2 or rc == -EPIPE:
            return handled
        if rc == -EINTR:
            _check_signals()
            continue
        fail(rc, "cannot receive a notification on fd %d" % fd)
