# cython: language_level=3
"""The compiled part of seccomp.record: start a command under a recording filter whose
listener the recorder holds before the command's first syscall, and answer and note every
syscall from a thread of its own that never takes the GIL (see scmpy_record.h)."""
from cpython.exc cimport PyErr_CheckSignals
from libc.errno cimport EINTR
from libc.stdint cimport int32_t, uint32_t, uint64_t
from libc.signal cimport SIGKILL
from libc.stdlib cimport free, malloc
from posix.signal cimport kill
from posix.unistd cimport close, usleep

cdef extern from "<pthread.h>" nogil:
    ctypedef struct pthread_mutex_t:
        pass
    int pthread_mutex_lock(pthread_mutex_t *m)
    int pthread_mutex_unlock(pthread_mutex_t *m)

cdef extern from *:
    unsigned long __atomic_load_n(unsigned long *p, int order) nogil
    int __ATOMIC_ACQUIRE

from kernel cimport sock_filter, sock_fprog

cdef extern from "scmpy_record.h" nogil:
    enum:
        SCMPY_LAUNCH_PENDING
        SCMPY_LAUNCH_LOADED
        SCMPY_LAUNCH_FAILED
        SCMPY_LAUNCH_GONE
    ctypedef struct scmpy_launch:
        int pid
        int state
        int stage
        int err
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
        scmpy_launch launch
        int listener
        scmpy_rec_entry *table
        size_t mask
        scmpy_rec_watch *watch
        size_t nwatch
        pthread_mutex_t table_lock
        unsigned long kept
        long notifications
        int old_recv
        int error
        int started
        int joined
    const sock_filter scmpy_record_program[1]
    void scmpy_recorder_init(scmpy_recorder *r)
    void scmpy_recorder_free(scmpy_recorder *r)
    long scmpy_recorder_launch(scmpy_recorder *r, const sock_fprog *prog, const char *path,
                               char **argv, char **envp)
    int scmpy_recorder_join(scmpy_recorder *r, int timeout_ms)
    int scmpy_recorder_stop(scmpy_recorder *r)
    int scmpy_child_ended(int pid, int *pidfd, int timeout_ms)
    int scmpy_listener_hung_up(int fd, int timeout_ms)
    uint64_t scmpy_rec_arg(const scmpy_rec_entry *e, size_t k, int i)


def recording_filter():
    """The recording filter's BPF (native byte order): notify every syscall of every
    architecture."""
    return (<char *>scmpy_record_program)[:sizeof(scmpy_record_program)]


cdef char **_strings(list items) except NULL:
    cdef Py_ssize_t i, n = len(items)
    cdef char **out = <char **>malloc((n + 1) * sizeof(char *))
    if out == NULL:
        raise MemoryError()
    for i in range(n):
        out[i] = <bytes>items[i]
    out[n] = NULL
    return out


cdef class Recorder:
    """One recording: `launch` starts the thread that answers every notification with
    CONTINUE and notes it, then the child that loads the recording filter and execs the
    command; `join` waits for the thread (until no process uses the filter); `calls` is what
    it noted. The thread holds no GIL and runs no Python code, so the interpreter is free for
    other work meanwhile."""
    cdef scmpy_recorder rec
    cdef readonly int pid
    cdef int pidfd

    def __cinit__(self):
        scmpy_recorder_init(&self.rec)
        self.pid = -1
        self.pidfd = -1

    def __dealloc__(self):
        if self.rec.started and not self.rec.joined:
            # dropped while the command runs (so not reaped: its pid is still its own): kill it,
            # for nobody will answer its syscalls; then stop answering (what the command
            # started gets ENOSYS once the listener is closed)
            if self.pid > 0:
                kill(self.pid, SIGKILL)
            while not scmpy_recorder_stop(&self.rec):
                usleep(100)
            with nogil:
                while not scmpy_recorder_join(&self.rec, 1000):
                    pass
        self.close()
        scmpy_recorder_free(&self.rec)

    def launch(self, bytes path not None, list argv not None, list envp not None,
               list watch not None):
        """Start the recording thread, then the child: it sets no_new_privs, loads the
        recording filter with a new listener, which the thread takes, and execs *path*.
        Returns once the child has exec'd or exited (`failure` says which): its pid.
        *watch*: ``(arch token, nr, index)`` of the syscalls whose calls are kept once per
        value of argument *index*. OSError if no thread or child could be started."""
        cdef sock_fprog prog
        cdef char **c_argv = NULL
        cdef char **c_envp = NULL
        cdef const char *c_path = path
        cdef long rc
        cdef Py_ssize_t i
        if self.rec.started or self.rec.watch != NULL:
            raise ValueError("a Recorder launches one command")
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
        prog.len = 1
        prog.filter = <sock_filter *>scmpy_record_program
        try:
            c_argv = _strings(argv)
            c_envp = _strings(envp)
            with nogil:
                rc = scmpy_recorder_launch(&self.rec, &prog, c_path, c_argv, c_envp)
        finally:
            free(c_argv)
            free(c_envp)
        if rc < 0:
            if self.rec.started:
                self.join()
            raise OSError(-rc, "cannot start the command")
        self.pid = rc
        return rc

    @property
    def failure(self):
        """Why the child did not become the command: ``(stage, errno)``, stage 1 if it could
        not load the recording filter (errno 0: it was killed first), 2 if its execve failed
        after that; ``(0, 0)`` when it exec'd."""
        if self.rec.launch.state == SCMPY_LAUNCH_FAILED:
            return self.rec.launch.stage, self.rec.launch.err
        if self.rec.launch.state == SCMPY_LAUNCH_GONE:
            return 1, 0  # killed before it said anything
        return 0, 0

    def join(self):
        """Wait until the thread has ended: when no process uses the filter any more (or
        after `stop`). Before Linux 6.11 the kernel's RECV, where the thread waits, does not
        return then; the listener hangs up, though, and this stops the thread when it does.
        Signals are looked at every 10 ms (KeyboardInterrupt comes out here)."""
        cdef int done = 0
        cdef int hung_up = 0
        while True:
            with nogil:
                done = scmpy_recorder_join(&self.rec, 0)
                if not done and not hung_up and self.rec.listener >= 0:
                    hung_up = scmpy_listener_hung_up(self.rec.listener, 10) == 1
                elif not done:
                    done = scmpy_recorder_join(&self.rec, 10)
            if done:
                return
            if hung_up:
                self.stop()  # the thread leaves RECV, or has left it: either way it ends
            PyErr_CheckSignals()

    @property
    def _use_pidfd(self):
        """Tests: whether `ended` may use a pidfd (False: as before Linux 5.3)."""
        return self.pidfd != -2

    @_use_pidfd.setter
    def _use_pidfd(self, value):
        if self.pidfd >= 0:
            close(self.pidfd)
        self.pidfd = -1 if value else -2

    @property
    def _old_recv(self):
        """Tests: act as kernels before 6.11 (see `join`)."""
        return bool(self.rec.old_recv)

    @_old_recv.setter
    def _old_recv(self, value):
        self.rec.old_recv = 1 if value else 0

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
        """Close the listener (after `join`)."""
        if self.rec.started and not self.rec.joined:
            raise ValueError("the recording thread still runs: stop() and join() first")
        if self.rec.listener >= 0:
            close(self.rec.listener)
            self.rec.listener = -1
        if self.pidfd >= 0:
            close(self.pidfd)
            self.pidfd = -1

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

    @property
    def kept(self):
        """How many calls have been noted so far (see `calls`): a cheap test of whether
        anything new was noted since a snapshot."""
        return __atomic_load_n(&self.rec.kept, __ATOMIC_ACQUIRE)

    def ended(self, double timeout):
        """Whether the command (the launched process, not what it started) has ended,
        waiting up to *timeout* seconds (less if a signal comes); it is not reaped."""
        cdef int rc
        cdef int ms = <int>(timeout * 1000)
        if self.pid < 0:
            raise ValueError("no command was launched")
        with nogil:
            rc = scmpy_child_ended(self.pid, &self.pidfd, ms)
        if rc == -EINTR:
            PyErr_CheckSignals()  # a handler's exception (KeyboardInterrupt) comes out here
            return False
        if rc < 0:
            raise OSError(-rc, "cannot wait for the command")
        return rc == 1

    def calls(self):
        """What was noted: ``{arch token: {nr: [args, ...]}}``, *args* a tuple of 6 ints (the
        first call, then one per new value of a watched argument); while the command runs,
        what was noted so far."""
        cdef size_t i, k
        cdef scmpy_rec_entry *e
        out = {}
        with nogil:
            pthread_mutex_lock(&self.rec.table_lock)
        try:
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
        finally:
            pthread_mutex_unlock(&self.rec.table_lock)
