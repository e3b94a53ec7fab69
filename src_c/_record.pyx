# cython: language_level=3
"""The compiled part of seccomp.record: start a command under a recording filter whose
listener the recorder holds before the command's first syscall, and answer and note every
syscall from a thread of its own that never takes the GIL (see scmpy_record.h)."""
from cpython.exc cimport PyErr_CheckSignals, PyErr_SetFromErrno
from libc.errno cimport EINTR, EINVAL, ENOTTY, ETIMEDOUT
from libc.stdint cimport int32_t, uint32_t, uint64_t
from libc.signal cimport SIGKILL
from libc.stdlib cimport free, malloc
from posix.signal cimport kill
from posix.unistd cimport close, usleep

from kernel cimport BPF_MAXINSNS, sock_filter, sock_fprog
from libseccomp cimport seccomp_arch_native

cdef extern from "<sys/socket.h>" nogil:
    enum:
        MSG_DONTWAIT
    ssize_t recv(int fd, void *buf, size_t n, int flags)

cdef extern from "scmpy_record.h" nogil:
    enum:
        SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
    ctypedef struct scmpy_rec_watch:
        uint32_t arch
        int32_t nr
        int index
    ctypedef struct scmpy_rec_entry:
        uint32_t arch
        int32_t nr
        int used
        size_t n
    ctypedef struct scmpy_recorder:
        int listener
        int pid
        scmpy_rec_entry *table
        size_t mask
        scmpy_rec_watch *watch
        size_t nwatch
        long notifications
        int error
        int started
        int joined
    enum:
        SCMPY_RECORD_FILTER_LEN
    unsigned long scmpy_handoff_address()
    void scmpy_record_filter(sock_filter *prog, uint32_t arch, int sock, uint64_t address)
    long scmpy_record_fork(const sock_fprog *prog, int ours, int sock, const char *path,
                           char **argv, char **envp)
    long scmpy_record_receive(int sock, int timeout_ms, char *buf, size_t size, int *fd)
    int scmpy_notif_set_flags(int fd, uint64_t flags)
    void scmpy_recorder_init(scmpy_recorder *r)
    void scmpy_recorder_free(scmpy_recorder *r)
    int scmpy_recorder_start(scmpy_recorder *r)
    int scmpy_recorder_join(scmpy_recorder *r, int timeout_ms)
    int scmpy_recorder_stop(scmpy_recorder *r)
    uint64_t scmpy_rec_arg(const scmpy_rec_entry *e, size_t k, int i)
    int scmpy_record_socketpair(int sv[2])

#: The hand-over message's address: the recording filter allows sendmsg(sock, this, ...).
HANDOFF_ADDRESS = scmpy_handoff_address()


def recording_filter(int sock, uint64_t address):
    """The recording filter's BPF (native byte order): notify every syscall of every
    architecture, except the hand-over ``sendmsg(sock, address, ...)`` on the native one."""
    cdef sock_filter prog[SCMPY_RECORD_FILTER_LEN]
    scmpy_record_filter(prog, seccomp_arch_native(), sock, address)
    return (<char *>prog)[:sizeof(prog)]


cdef char **_strings(list items) except NULL:
    cdef Py_ssize_t i, n = len(items)
    cdef char **out = <char **>malloc((n + 1) * sizeof(char *))
    if out == NULL:
        raise MemoryError()
    for i in range(n):
        out[i] = <bytes>items[i]
    out[n] = NULL
    return out


def _check_program(bytes bpf not None):
    """A ValueError unless *bpf* is a program the kernel could take (1-BPF_MAXINSNS 8-byte
    instructions)."""
    if len(bpf) == 0 or len(bpf) % 8 or len(bpf) // 8 > BPF_MAXINSNS:
        raise ValueError("a BPF program of 1-%d 8-byte instructions, not %d bytes"
                         % (BPF_MAXINSNS, len(bpf)))


cdef class Recorder:
    """One recording: `launch` forks the child that loads the recording filter, hands its
    listener over and execs the command; `receive` takes the hand-over; `serve` starts the
    thread that answers every notification with CONTINUE and notes it; `join` waits for it
    (until no process uses the filter); `calls` is what it noted. The thread holds no GIL and
    runs no Python code, so the interpreter is free for other work meanwhile."""
    cdef scmpy_recorder rec
    cdef int sock
    cdef readonly int pid

    def __cinit__(self):
        scmpy_recorder_init(&self.rec)
        self.sock = -1
        self.pid = -1

    def __dealloc__(self):
        if self.rec.started and not self.rec.joined:
            # dropped while the command runs (so not reaped: its pid is still its own): kill it,
            # for nobody will answer its syscalls, and before its execve is answered it holds
            # a listener of its own, so it would wait for an answer for ever; then stop
            # answering (what the command started gets ENOSYS once the listener is closed)
            if self.pid > 0:
                kill(self.pid, SIGKILL)
            while not scmpy_recorder_stop(&self.rec):
                usleep(100)
            with nogil:
                while not scmpy_recorder_join(&self.rec, 1000):
                    pass
        self.close()
        scmpy_recorder_free(&self.rec)

    def launch(self, bytes bpf not None, int ours, int theirs, bytes path not None,
               list argv not None, list envp not None, list watch not None):
        """Fork the child: it sets no_new_privs, loads *bpf* with a new listener, sends the
        listener over unix socket *theirs* and execs *path*. Takes both ends of the socket
        (*theirs* is closed here once the child has it). *watch*: ``(arch token, nr,
        index)`` of the syscalls whose calls are kept once per value of argument *index*.
        Returns the child's pid."""
        cdef sock_fprog prog
        cdef char **c_argv = NULL
        cdef char **c_envp = NULL
        cdef const char *c_path = path
        cdef long rc
        cdef Py_ssize_t i
        try:
            if self.rec.watch != NULL or self.pid >= 0:
                raise ValueError("a Recorder launches one command")
            _check_program(bpf)
            for item in argv + envp:
                if type(item) is not bytes or b"\0" in item:
                    raise ValueError("arguments and environment are bytes without NUL: %r"
                                     % (item,))
            if watch:
                self.rec.watch = <scmpy_rec_watch *>malloc(len(watch) * sizeof(scmpy_rec_watch))
                if self.rec.watch == NULL:
                    raise MemoryError()
                for i, (arch, nr, index) in enumerate(watch):
                    if not 0 <= index < 6:
                        raise ValueError("argument index %r is not 0-5" % (index,))
                    self.rec.watch[i].arch = arch
                    self.rec.watch[i].nr = nr
                    self.rec.watch[i].index = index
                    self.rec.nwatch = i + 1
            prog.len = <unsigned short>(len(bpf) // 8)
            prog.filter = <sock_filter *><char *>bpf
            c_argv = _strings(argv)
            c_envp = _strings(envp)
            with nogil:
                rc = scmpy_record_fork(&prog, ours, theirs, c_path, c_argv, c_envp)
        except BaseException:
            close(ours)
            raise
        finally:
            free(c_argv)
            free(c_envp)
            close(theirs)
        if rc < 0:
            close(ours)
            raise OSError(-rc, "cannot fork")
        self.sock = ours
        self.pid = rc
        self.rec.pid = rc
        return rc

    def receive(self, double timeout):
        """The child's hand-over within *timeout* seconds: ``(message, listener fd or -1)``
        (a message without fd says why: see scmpy_record_child). TimeoutError if none came."""
        cdef char buf[64]
        cdef int fd = -1
        cdef long n
        cdef int ms = <int>(timeout * 1000)
        cdef int step
        while True:
            step = 100 if ms > 100 else ms
            with nogil:
                n = scmpy_record_receive(self.sock, step, buf, sizeof(buf), &fd)
            if n >= 0:
                return buf[:n], fd
            if n == -ETIMEDOUT:
                ms -= step
                if ms <= 0:
                    raise TimeoutError("no hand-over within %s s" % timeout)
            elif n != -EINTR:
                raise OSError(-n, "cannot receive the hand-over")
            PyErr_CheckSignals()

    def serve(self, int listener):
        """Start answering and noting the notifications of *listener* (taken: closed by
        `close`) in a thread of its own. Asks the kernel to wake the command on the recorder's
        CPU where it can (SYNC_WAKE_UP, Linux 6.6)."""
        cdef int rc
        if self.rec.started:
            raise ValueError("this Recorder serves already")
        self.rec.listener = listener
        rc = scmpy_notif_set_flags(listener, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP)
        if rc < 0 and rc != -EINVAL and rc != -ENOTTY:
            raise OSError(-rc, "cannot set flags on the recording listener")
        rc = scmpy_recorder_start(&self.rec)
        if rc < 0:
            raise OSError(-rc, "cannot start the recording thread")

    def join(self):
        """Wait until the thread has ended (no process uses the filter any more, or `stop`).
        Signals are looked at every 100 ms (KeyboardInterrupt comes out here)."""
        cdef int done = 0
        while not done:
            with nogil:
                done = scmpy_recorder_join(&self.rec, 100)
            if not done:
                PyErr_CheckSignals()

    def stop(self):
        """Ask the thread to stop answering (from any thread); `join` then returns."""
        cdef int _attempt
        for _attempt in range(20000):  # it leaves the ioctl within microseconds
            if scmpy_recorder_stop(&self.rec):
                return
            with nogil:
                usleep(100)
        raise OSError(EINTR, "cannot interrupt the recording thread")

    def close(self):
        """Close the listener and the hand-over socket (after `join`)."""
        if self.rec.started and not self.rec.joined:
            raise ValueError("the recording thread still runs: stop() and join() first")
        if self.rec.listener >= 0:
            close(self.rec.listener)
            self.rec.listener = -1
        if self.sock >= 0:
            close(self.sock)
            self.sock = -1

    def failure(self):
        """What the child said after the hand-over (b"X<errno>": its execve failed), or b""."""
        cdef char buf[64]
        cdef ssize_t n
        if self.sock < 0:
            return b""
        n = recv(self.sock, buf, sizeof(buf), MSG_DONTWAIT)
        return buf[:n] if n > 0 else b""

    @property
    def listener(self):
        """The recording filter's listener fd (-1: none yet, or closed)."""
        return self.rec.listener

    @property
    def notifications(self):
        """How many notifications were answered."""
        return self.rec.notifications

    @property
    def error(self):
        """The errno that ended the thread early (it could not receive or answer a
        notification, or ran out of memory; the command was killed), or 0."""
        return -self.rec.error

    def calls(self):
        """What was noted: ``{arch token: {nr: [args, ...]}}``, *args* a tuple of 6 ints (the
        first call, then one per new value of a watched argument). After `join`."""
        cdef size_t i, k
        cdef scmpy_rec_entry *e
        if self.rec.started and not self.rec.joined:
            raise ValueError("the recording thread still runs")
        out = {}
        if self.rec.table == NULL:
            return out
        for i in range(self.rec.mask + 1):
            e = &self.rec.table[i]
            if not e.used:
                continue
            out.setdefault(e.arch, {})[e.nr] = [
                (scmpy_rec_arg(e, k, 0), scmpy_rec_arg(e, k, 1), scmpy_rec_arg(e, k, 2),
                 scmpy_rec_arg(e, k, 3), scmpy_rec_arg(e, k, 4), scmpy_rec_arg(e, k, 5))
                for k in range(e.n)]
        return out


def socketpair():
    """A connected pair of unix stream sockets, close-on-exec: ``(ours, theirs)``."""
    cdef int sv[2]
    if scmpy_record_socketpair(sv) < 0:
        PyErr_SetFromErrno(OSError)
    return sv[0], sv[1]
