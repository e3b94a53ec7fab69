# cython: language_level=3
"""The compiled part of seccomp.record: start a command under a recording filter whose
listener the recorder holds before the command's first syscall (see scmpy_record.h)."""
from libc.stdlib cimport malloc, free

from kernel cimport BPF_MAXINSNS, sock_filter, sock_fprog

cdef extern from "scmpy_record.h" nogil:
    unsigned long scmpy_handoff_address()
    long scmpy_record_exec(const sock_fprog *prog, int sock, const char *path, char **argv,
                           char **envp, int *stage)

#: The hand-over message's address: the recording filter allows sendmsg(sock, this, ...).
HANDOFF_ADDRESS = scmpy_handoff_address()


cdef char **_strings(list items) except NULL:
    cdef Py_ssize_t i, n = len(items)
    cdef char **out = <char **>malloc((n + 1) * sizeof(char *))
    if out == NULL:
        raise MemoryError()
    for i in range(n):
        out[i] = <bytes>items[i]
    out[n] = NULL
    return out


def exec_recorded(bytes bpf not None, int sock, bytes path not None, list argv not None,
                  list envp not None):
    """In a forked child: set no_new_privs, load *bpf* with a new listener, send the listener
    over unix socket *sock*, and exec *path*. Returns ``(stage, errno)`` only on failure:
    stage 1 before the filter was loaded, 2 after it (then every syscall is notified)."""
    if len(bpf) == 0 or len(bpf) % 8 or len(bpf) // 8 > BPF_MAXINSNS:
        raise ValueError("a BPF program of 1-%d 8-byte instructions, not %d bytes"
                         % (BPF_MAXINSNS, len(bpf)))
    for item in argv + envp:
        if type(item) is not bytes or b"\0" in item:
            raise ValueError("arguments and environment are bytes without NUL: %r" % (item,))
    cdef sock_fprog prog
    prog.len = <unsigned short>(len(bpf) // 8)
    prog.filter = <sock_filter *><char *>bpf
    cdef char **c_argv = _strings(argv)
    cdef char **c_envp = NULL
    cdef int stage = 0
    cdef long rc
    cdef const char *c_path = path
    try:
        c_envp = _strings(envp)
        with nogil:
            rc = scmpy_record_exec(&prog, sock, c_path, c_argv, c_envp, &stage)
    finally:
        free(c_argv)
        free(c_envp)
    return (stage, -rc)
