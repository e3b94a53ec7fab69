/* Start a command under a recording filter (seccomp.record).
 *
 * The filter notifies every syscall, so after it is loaded nobody can answer the child until
 * the recorder holds the listener. The hand-over is the one syscall the filter lets through:
 * sendmsg() on the hand-over socket with this file's static message (the filter checks the fd
 * and the message's address, which no program after exec can reproduce by chance). Between
 * loading and execve() nothing else runs, and nothing allocates, so the only syscalls the
 * recorder sees are the command's own, from its execve() on.
 */
#ifndef SCMPY_RECORD_H
#define SCMPY_RECORD_H

#include "scmpy_notify.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

static struct msghdr scmpy_handoff_msg;
static struct iovec scmpy_handoff_iov;
static char scmpy_handoff_byte = 'L';
static union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
} scmpy_handoff_control;

/* The address the filter expects as sendmsg's second argument. */
static inline unsigned long scmpy_handoff_address(void)
{
    return (unsigned long)&scmpy_handoff_msg;
}

/* The recording filter's length and program (native byte order): notify every syscall of every
 * architecture, except the hand-over sendmsg(sock, address, ...) on the native one (*arch*, its
 * token: every architecture shares the syscall's number space only with itself). The number
 * allowed is the one the child's hand-over uses. Each failed check jumps to the last
 * instruction, "return NOTIFY". */
#define SCMPY_RECORD_FILTER_LEN 14

static inline void scmpy_rec_insn(struct sock_filter *insn, uint16_t code, uint8_t jf,
                                  uint32_t k)
{
    insn->code = code;
    insn->jt = 0;
    insn->jf = jf;
    insn->k = k;
}

static inline void scmpy_record_filter(struct sock_filter *prog, uint32_t arch, int sock,
                                       uint64_t address)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    const uint32_t lo = 0, hi = 4; /* where the halves of a 64-bit argument are */
#else
    const uint32_t lo = 4, hi = 0;
#endif
    const uint32_t offsets[4] = {16 + lo, 16 + hi, 24 + lo, 24 + hi}; /* args[0], args[1] */
    const uint32_t values[4] = {(uint32_t)sock, 0, (uint32_t)address, (uint32_t)(address >> 32)};
    const uint16_t ld = BPF_LD | BPF_W | BPF_ABS, jeq = BPF_JMP | BPF_JEQ | BPF_K;
    const int notify = SCMPY_RECORD_FILTER_LEN - 1;
    int i, n = 0;
    scmpy_rec_insn(&prog[n], ld, 0, 4); /* seccomp_data.arch */
    n++;
    scmpy_rec_insn(&prog[n], jeq, (uint8_t)(notify - n - 1), arch);
    n++;
    scmpy_rec_insn(&prog[n], ld, 0, 0); /* seccomp_data.nr */
    n++;
    scmpy_rec_insn(&prog[n], jeq, (uint8_t)(notify - n - 1), __NR_sendmsg);
    n++;
    for (i = 0; i < 4; i++) {
        scmpy_rec_insn(&prog[n], ld, 0, offsets[i]);
        n++;
        scmpy_rec_insn(&prog[n], jeq, (uint8_t)(notify - n - 1), values[i]);
        n++;
    }
    scmpy_rec_insn(&prog[n], BPF_RET | BPF_K, 0, SECCOMP_RET_ALLOW);
    scmpy_rec_insn(&prog[n + 1], BPF_RET | BPF_K, 0, SECCOMP_RET_USER_NOTIF);
}

/* Load *prog* with a new listener, send the listener over *sock*, exec. Returns -errno: before
 * the filter is loaded (1) or after it (the hand-over or execve failed: 2), via *stage*. */
static inline long scmpy_record_exec(const struct sock_fprog *prog, int sock, const char *path,
                                     char *const argv[], char *const envp[], int *stage)
{
    struct cmsghdr *cmsg;
    long fd;

    *stage = 1;
    memset(&scmpy_handoff_msg, 0, sizeof(scmpy_handoff_msg));
    memset(&scmpy_handoff_control, 0, sizeof(scmpy_handoff_control));
    scmpy_handoff_iov.iov_base = &scmpy_handoff_byte;
    scmpy_handoff_iov.iov_len = 1;
    scmpy_handoff_msg.msg_iov = &scmpy_handoff_iov;
    scmpy_handoff_msg.msg_iovlen = 1;
    scmpy_handoff_msg.msg_control = scmpy_handoff_control.buf;
    scmpy_handoff_msg.msg_controllen = sizeof(scmpy_handoff_control.buf);
    cmsg = CMSG_FIRSTHDR(&scmpy_handoff_msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -errno;
    fd = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, prog);
    if (fd < 0)
        return -errno;
    *stage = 2;
    {
        int ifd = (int)fd;
        memcpy(CMSG_DATA(cmsg), &ifd, sizeof(ifd));
    }
    /* the listener is close-on-exec: the command does not inherit it */
    if (syscall(__NR_sendmsg, sock, &scmpy_handoff_msg, 0) < 0)
        return -errno;
    execve(path, argv, envp);
    return -errno;
}

/* The launcher's child: load the filter, hand the listener over, exec; on failure tell the
 * recorder ("F<errno>" before the filter was loaded, "X<errno>" after) and exit 127 (command
 * not found) or 126. Never returns; calls nothing but syscalls (it is a fork of a process with
 * an interpreter, maybe with threads). */
static inline void scmpy_record_child(const struct sock_fprog *prog, int sock, const char *path,
                                      char *const argv[], char *const envp[])
{
    char msg[16];
    int stage, err, n = 0, digits = 0, status;
    char rev[12];
    err = (int)-scmpy_record_exec(prog, sock, path, argv, envp, &stage);
    status = err == ENOENT ? 127 : 126;
    msg[n++] = stage == 1 ? 'F' : 'X';
    do {
        rev[digits++] = (char)('0' + err % 10);
        err /= 10;
    } while (err && digits < (int)sizeof(rev));
    while (digits)
        msg[n++] = rev[--digits];
    /* after the filter is loaded this write is notified too: the recorder answers it */
    if (write(sock, msg, (size_t)n) < 0) {
        /* nothing more to say: the exit status tells */
    }
    _exit(status);
}

/* A connected pair of unix stream sockets, both close-on-exec: 0 or -1 (errno set). */
static inline int scmpy_record_socketpair(int sv[2])
{
    return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

/* Fork the launcher's child (see scmpy_record_child); *ours* is closed in it. Returns the
 * child's pid or -errno. */
static inline long scmpy_record_fork(const struct sock_fprog *prog, int ours, int sock,
                                     const char *path, char *const argv[], char *const envp[])
{
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        close(ours);
        scmpy_record_child(prog, sock, path, argv, envp);
    }
    return pid;
}

/* Receive the hand-over message on *sock*, waiting up to *timeout_ms*: its length (the listener
 * in *fd*, -1 if none came with it), -ETIMEDOUT, or -errno (-EINTR: look at signals and call
 * again). 0 means the child closed its end without a word. */
static inline long scmpy_record_receive(int sock, int timeout_ms, char *buf, size_t size,
                                        int *fd)
{
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } control;
    struct iovec iov;
    struct msghdr msg;
    struct cmsghdr *cmsg;
    struct pollfd p;
    long n;
    int rc;

    *fd = -1;
    p.fd = sock;
    p.events = POLLIN;
    p.revents = 0;
    rc = poll(&p, 1, timeout_ms);
    if (rc < 0)
        return -errno;
    if (rc == 0)
        return -ETIMEDOUT;
    memset(&msg, 0, sizeof(msg));
    memset(&control, 0, sizeof(control));
    iov.iov_base = buf;
    iov.iov_len = size;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof(control.buf);
    n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS &&
            cmsg->cmsg_len >= CMSG_LEN(sizeof(int))) {
            memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
            break;
        }
    }
    return n;
}

/* ------------------------------------------------------------------------------------------
 * The recording loop: a thread of its own, no interpreter, answering every notification with
 * CONTINUE and keeping, per (architecture token, syscall number), the arguments of the first
 * call and, for the syscalls it watches, of the first call with each value of one argument.
 * ------------------------------------------------------------------------------------------ */

typedef struct {
    uint32_t arch;
    int32_t nr;
    int index; /* the argument whose distinct values are kept */
} scmpy_rec_watch;

typedef struct {
    uint32_t arch;
    int32_t nr;
    int used;
    int index;     /* the watched argument, or -1: the first call only */
    size_t n, cap; /* calls kept */
    uint64_t (*calls)[6];
} scmpy_rec_entry;

typedef struct {
    int listener;
    int pid;                     /* killed if the loop fails: nobody else would answer it */
    scmpy_rec_entry *table;      /* open addressing, size mask + 1 (a power of two) */
    size_t mask, count;
    scmpy_rec_watch *watch;
    size_t nwatch;
    long notifications;
    int error;                   /* -errno that ended the loop early (0: it ended normally) */
    int use_signal;              /* waits in RECV, SIGURG wakes it; else polls */
    scmpy_stopper stopper;
    pthread_t thread;
    int started, joined;
    pthread_mutex_t done_lock;   /* guards done; done_cond tells a waiting join */
    pthread_cond_t done_cond;
    int done;
} scmpy_recorder;

static inline void scmpy_recorder_init(scmpy_recorder *r)
{
    memset(r, 0, sizeof(*r));
    r->listener = -1;
    r->pid = -1;
    scmpy_stopper_init(&r->stopper);
    pthread_mutex_init(&r->done_lock, NULL);
    pthread_cond_init(&r->done_cond, NULL);
}

static inline void scmpy_recorder_free(scmpy_recorder *r)
{
    size_t i;
    if (r->table) {
        for (i = 0; i <= r->mask; i++)
            free(r->table[i].calls);
        free(r->table);
        r->table = NULL;
    }
    free(r->watch);
    r->watch = NULL;
    scmpy_stopper_destroy(&r->stopper);
    pthread_mutex_destroy(&r->done_lock);
    pthread_cond_destroy(&r->done_cond);
}

static inline size_t scmpy_rec_hash(uint32_t arch, int32_t nr)
{
    uint64_t h = ((uint64_t)arch << 32 | (uint32_t)nr) * 0x9E3779B97F4A7C15ULL;
    return (size_t)(h >> 32);
}

static inline int scmpy_rec_grow(scmpy_recorder *r)
{
    size_t size = r->table ? (r->mask + 1) * 2 : 256, i, j;
    scmpy_rec_entry *t = calloc(size, sizeof(*t)), *e;
    if (!t)
        return -ENOMEM;
    if (r->table) {
        for (i = 0; i <= r->mask; i++) {
            e = &r->table[i];
            if (!e->used)
                continue;
            for (j = scmpy_rec_hash(e->arch, e->nr) & (size - 1); t[j].used; j = (j + 1) & (size - 1))
                ;
            t[j] = *e;
        }
        free(r->table);
    }
    r->table = t;
    r->mask = size - 1;
    return 0;
}

static inline int scmpy_rec_keep(scmpy_rec_entry *e, const uint64_t args[6])
{
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 1;
        void *calls = realloc(e->calls, cap * sizeof(*e->calls));
        if (!calls)
            return -ENOMEM;
        e->calls = calls;
        e->cap = cap;
    }
    memcpy(e->calls[e->n++], args, sizeof(e->calls[0]));
    return 0;
}

/* Argument *i* of the *k*th call kept in *e*. */
static inline uint64_t scmpy_rec_arg(const scmpy_rec_entry *e, size_t k, int i)
{
    return e->calls[k][i];
}

/* Note one call: 0, or -ENOMEM. */
static inline int scmpy_rec_note(scmpy_recorder *r, uint32_t arch, int32_t nr,
                                 const uint64_t args[6])
{
    scmpy_rec_entry *e;
    size_t i, k;
    int rc;
    if (!r->table || (r->count + 1) * 2 > r->mask + 1) {
        rc = scmpy_rec_grow(r);
        if (rc < 0)
            return rc;
    }
    for (i = scmpy_rec_hash(arch, nr) & r->mask; r->table[i].used; i = (i + 1) & r->mask) {
        e = &r->table[i];
        if (e->arch != arch || e->nr != nr)
            continue;
        if (e->index < 0)
            return 0;
        for (k = 0; k < e->n; k++)
            if (e->calls[k][e->index] == args[e->index])
                return 0;
        return scmpy_rec_keep(e, args);
    }
    e = &r->table[i];
    e->used = 1;
    e->arch = arch;
    e->nr = nr;
    e->index = -1;
    for (k = 0; k < r->nwatch; k++)
        if (r->watch[k].arch == arch && r->watch[k].nr == nr)
            e->index = r->watch[k].index;
    r->count++;
    return scmpy_rec_keep(e, args);
}

static void *scmpy_rec_loop(void *arg)
{
    scmpy_recorder *r = arg;
    struct seccomp_notif req;
    sigset_t set;
    int fd = r->listener, rc;
    uint64_t args[6];

    scmpy_stopper_enter(&r->stopper, r->use_signal); /* its own stopper: never busy */
    sigemptyset(&set);
    sigaddset(&set, SCMPY_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    while (scmpy_stopper_begin_wait(&r->stopper)) {
        if (r->use_signal) {
            rc = scmpy_notif_recv(fd, &req);
        } else {
            rc = scmpy_notif_wait(fd, -1, SCMPY_POLL_MS);
            if (rc == 1)
                rc = scmpy_notif_recv(fd, &req);
            else if (rc == 0)
                rc = -EINTR; /* look at the stop request again */
        }
        scmpy_stopper_end_wait(&r->stopper);
        if (rc == 0) {
            /* answer first: the target goes on while the call is noted */
            rc = scmpy_notif_send(fd, req.id, 0, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
            if (rc < 0 && rc != -ENOENT) { /* ENOENT: the target died meanwhile */
                r->error = rc;
                break;
            }
            r->notifications++;
            memcpy(args, req.data.args, sizeof(args));
            rc = scmpy_rec_note(r, req.data.arch, req.data.nr, args);
            if (rc < 0) {
                r->error = rc;
                break;
            }
        } else if (rc == -EINTR) {
            continue;
        } else if (rc == -ENOENT) {
            /* the target died before we read it, or no process uses the filter any more
             * (then RECV returns ENOENT at once, every time): poll tells them apart */
            if (scmpy_notif_wait(fd, -1, 0) == -EPIPE)
                break;
        } else if (rc == -EPIPE) {
            break;
        } else {
            r->error = rc;
            break;
        }
    }
    if (r->error && r->pid > 0)
        kill(r->pid, SIGKILL); /* nobody answers it any more */
    scmpy_stopper_leave(&r->stopper);
    pthread_mutex_lock(&r->done_lock);
    r->done = 1;
    pthread_cond_broadcast(&r->done_cond);
    pthread_mutex_unlock(&r->done_lock);
    return NULL;
}

/* Start the loop on *r*'s listener in a thread of its own, which blocks every signal but the
 * wake signal (Ctrl-C and the like go to the interpreter's threads). 0 or -errno. */
static inline int scmpy_recorder_start(scmpy_recorder *r)
{
    sigset_t all, old;
    int rc;
    r->use_signal = scmpy_wake_signal_ready();
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&r->thread, NULL, scmpy_rec_loop, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return -rc;
    r->started = 1;
    return 0;
}

/* Wait up to *timeout_ms* for the loop to end: 1 when it has (and is joined), 0 if not yet. */
static inline int scmpy_recorder_join(scmpy_recorder *r, int timeout_ms)
{
    struct timespec until;
    int done;
    if (!r->started || r->joined)
        return 1;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->done_lock);
    while (!r->done) {
        if (pthread_cond_timedwait(&r->done_cond, &r->done_lock, &until) == ETIMEDOUT)
            break;
    }
    done = r->done;
    pthread_mutex_unlock(&r->done_lock);
    if (!done)
        return 0;
    pthread_join(r->thread, NULL);
    r->joined = 1;
    return 1;
}

/* Ask the loop to end (it may be waiting for a notification): 1 when asked, 0 to call again
 * shortly (see scmpy_stopper_stop). */
static inline int scmpy_recorder_stop(scmpy_recorder *r)
{
    if (!r->started || r->joined)
        return 1;
    return scmpy_stopper_stop(&r->stopper);
}

#endif
