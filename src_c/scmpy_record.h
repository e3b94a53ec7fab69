/* Start a command under a recording filter (seccomp.record).
 *
 * The filter notifies every syscall, so from its load on only a supervisor holding the
 * listener can let the child go on. The child is cloned with CLONE_VM | CLONE_VFORK |
 * CLONE_FILES, as posix_spawn() clones: it shares the launcher's memory and fd table, and the
 * launching thread sleeps until the child's execve() has replaced its memory (or it exited).
 * So the listener the child's seccomp() returns is already in the launcher's fd table: the
 * child stores its number in shared memory and calls execve() at once, without another
 * syscall, and the recorder's thread (started before the clone: the launching thread sleeps)
 * picks it up from there and answers that execve(). The first syscall the recorder sees is the
 * command's execve(). No fork copies the interpreter's page tables, so neither the exec nor the
 * interpreter pays for copies of its memory afterwards.
 */
#ifndef SCMPY_RECORD_H
#define SCMPY_RECORD_H

#include "scmpy_notify.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif

/* The recording filter: one instruction, "notify", for every syscall of every architecture. */
static const struct sock_filter scmpy_record_program[1] = {
    {BPF_RET | BPF_K, 0, 0, SECCOMP_RET_USER_NOTIF},
};

/* What the launcher and its child share (CLONE_VM). *state* goes from PENDING to LOADED (the
 * child's listener is in *listener*) or FAILED (*stage* and *err* say why: 1, the filter was not
 * loaded; 2, execve() failed after it), or to GONE (set by the launcher: the child ended or was
 * never started without saying either). */
enum { SCMPY_LAUNCH_PENDING, SCMPY_LAUNCH_LOADED, SCMPY_LAUNCH_FAILED, SCMPY_LAUNCH_GONE };

typedef struct {
    const struct sock_fprog *prog;
    const char *path;
    char *const *argv;
    char *const *envp;
    sigset_t mask; /* the launching thread's signal mask: the command starts with it */
    pid_t pid;     /* the child's, set by the kernel before the child runs */
    int state;     /* atomic */
    int listener;
    int stage;
    int err;
} scmpy_launch;

static inline void scmpy_launch_fail(scmpy_launch *l, int stage, int err)
{
    l->stage = stage;
    l->err = err;
    __atomic_store_n(&l->state, SCMPY_LAUNCH_FAILED, __ATOMIC_RELEASE);
    _exit(err == ENOENT ? 127 : 126);
}

/* The child (see the top of this file). It runs on its own stack in the launcher's memory:
 * it calls only syscalls, and resets the launcher's signal handlers first (they would run in
 * the launcher's memory), with every signal blocked until then. Never returns. */
static int scmpy_record_child(void *arg)
{
    scmpy_launch *l = arg;
    struct sigaction sa;
    long fd;
    int sig;

    for (sig = 1; sig < NSIG; sig++) {
        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL &&
            sa.sa_handler != SIG_IGN) {
            sa.sa_handler = SIG_DFL;
            sa.sa_flags = 0;
            sigaction(sig, &sa, NULL);
        }
    }
    /* the interpreter ignores these two itself (as subprocess and `seccomp run` do, the
     * command gets them at their defaults: `yes | head` must end yes quietly) */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &sa, NULL);
    sigaction(SIGXFSZ, &sa, NULL);
    sigprocmask(SIG_SETMASK, &l->mask, NULL);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        scmpy_launch_fail(l, 1, errno);
    fd = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                 l->prog);
    if (fd < 0)
        scmpy_launch_fail(l, 1, errno);
    /* from here on every syscall waits for the recorder's answer, execve() first; the
     * listener is close-on-exec: the command does not inherit it */
    l->listener = (int)fd;
    __atomic_store_n(&l->state, SCMPY_LAUNCH_LOADED, __ATOMIC_RELEASE);
    execve(l->path, l->argv, l->envp);
    scmpy_launch_fail(l, 2, errno); /* its exit_group() is answered too */
    return 0;
}

/* The child's stack: it calls a few libc wrappers, no more. */
#define SCMPY_LAUNCH_STACK (64 * 1024)

/* Clone the child (see the top of this file) and return when it has exec'd or exited: its pid,
 * or -errno if it could not be cloned (then *l*'s state is GONE). With every signal blocked
 * meanwhile, so no handler of the launcher runs in the child before it resets them. */
static inline long scmpy_record_clone(scmpy_launch *l)
{
    sigset_t all;
    char *stack;
    long pid;
    int pending = SCMPY_LAUNCH_PENDING;

    stack = mmap(NULL, SCMPY_LAUNCH_STACK, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        pid = -errno;
    } else {
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &l->mask);
        pid = clone(scmpy_record_child, stack + SCMPY_LAUNCH_STACK,
                    CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_PARENT_SETTID | SIGCHLD, l,
                    &l->pid);
        if (pid < 0)
            pid = -errno;
        pthread_sigmask(SIG_SETMASK, &l->mask, NULL);
        munmap(stack, SCMPY_LAUNCH_STACK);
    }
    /* a child killed before it said anything, or none: the recorder's thread stops waiting */
    __atomic_compare_exchange_n(&l->state, &pending, SCMPY_LAUNCH_GONE, 0, __ATOMIC_ACQ_REL,
                                __ATOMIC_ACQUIRE);
    return pid;
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
    scmpy_launch launch;         /* the listener comes from there; its pid is killed if the
                                  * loop fails: nobody else would answer it */
    int listener;
    scmpy_rec_entry *table;      /* open addressing, size mask + 1 (a power of two) */
    size_t mask, count;
    scmpy_rec_watch *watch;
    size_t nwatch;
    pthread_mutex_t table_lock;  /* guards the table: the interpreter may read it meanwhile */
    unsigned long kept;          /* atomic: calls kept in the table so far */
    long notifications;
    int old_recv;                /* tests: act as kernels before 6.11, whose RECV does not
                                  * return once no process uses the filter */
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
    r->launch.listener = -1;
    r->launch.pid = -1;
    scmpy_stopper_init(&r->stopper);
    pthread_mutex_init(&r->done_lock, NULL);
    pthread_mutex_init(&r->table_lock, NULL);
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
    pthread_mutex_destroy(&r->table_lock);
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

/* Count a call kept by scmpy_rec_keep (*rc* 0). */
static inline int scmpy_rec_count(scmpy_recorder *r, int rc)
{
    if (rc == 0)
        __atomic_add_fetch(&r->kept, 1, __ATOMIC_RELEASE);
    return rc;
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
        return scmpy_rec_count(r, scmpy_rec_keep(e, args));
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
    return scmpy_rec_count(r, scmpy_rec_keep(e, args));
}

/* Wait for the child's listener (the launching thread sleeps meanwhile: CLONE_VFORK): 1 when
 * it is in r->listener, 0 if the child failed or is gone, or stop() was asked. The child gets
 * there within microseconds of the clone, and cannot wake anybody without a syscall (the
 * filter would hold it): a short spin, then short sleeps. */
static inline int scmpy_rec_await_listener(scmpy_recorder *r)
{
    struct timespec nap = {0, 20000};
    int state, spins = 0;
    while ((state = __atomic_load_n(&r->launch.state, __ATOMIC_ACQUIRE)) ==
           SCMPY_LAUNCH_PENDING) {
        if (scmpy_stopper_stopping(&r->stopper))
            return 0;
        if (spins++ < 200)
            sched_yield();
        else
            nanosleep(&nap, NULL);
    }
    if (state != SCMPY_LAUNCH_LOADED)
        return 0;
    r->listener = r->launch.listener;
    /* wake the command on this CPU where the kernel can (SYNC_WAKE_UP, Linux 6.6): each
     * round trip is then a switch between two tasks, not a wake-up of another CPU */
    scmpy_notif_set_flags(r->listener, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP);
    return 1;
}

static void *scmpy_rec_loop(void *arg)
{
    scmpy_recorder *r = arg;
    struct seccomp_notif req;
    sigset_t set;
    int fd, rc;
    uint64_t args[6];

    scmpy_stopper_enter(&r->stopper, r->use_signal); /* its own stopper: never busy */
    sigemptyset(&set);
    sigaddset(&set, SCMPY_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    fd = scmpy_rec_await_listener(r) ? r->listener : -1;
    while (fd >= 0 && scmpy_stopper_begin_wait(&r->stopper)) {
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
            pthread_mutex_lock(&r->table_lock);
            rc = scmpy_rec_note(r, req.data.arch, req.data.nr, args);
            pthread_mutex_unlock(&r->table_lock);
            if (rc < 0) {
                r->error = rc;
                break;
            }
        } else if (rc == -EINTR) {
            continue;
        } else if (rc == -ENOENT) {
            /* the target died before we read it, or no process uses the filter any more
             * (then RECV returns ENOENT at once, every time): poll tells them apart */
            if (scmpy_notif_wait(fd, -1, 0) == -EPIPE) {
                while (r->old_recv && !scmpy_stopper_stopping(&r->stopper))
                    usleep(1000); /* as RECV there: until stop() */
                break;
            }
        } else if (rc == -EPIPE) {
            break;
        } else {
            r->error = rc;
            break;
        }
    }
    if (r->error && __atomic_load_n(&r->launch.pid, __ATOMIC_ACQUIRE) > 0)
        kill(r->launch.pid, SIGKILL); /* nobody answers it any more */
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

/* Start the recorder's thread, then the child that execs *path* under *prog* (see the top of
 * this file; *prog*, *path*, *argv* and *envp* are read until it has exec'd): the child's pid,
 * once it has exec'd or exited (r->launch.state says which), or -errno. The thread must be
 * joined in every case. */
static inline long scmpy_recorder_launch(scmpy_recorder *r, const struct sock_fprog *prog,
                                         const char *path, char *const argv[],
                                         char *const envp[])
{
    int rc;
    r->launch.prog = prog;
    r->launch.path = path;
    r->launch.argv = argv;
    r->launch.envp = envp;
    rc = scmpy_recorder_start(r);
    if (rc < 0)
        return rc;
    return scmpy_record_clone(&r->launch);
}

/* Whether process *pid* (a child, not reaped) has ended, waiting up to *timeout_ms*: 1 or 0,
 * or -errno. *pidfd* (-1 at first; -2: use none) keeps its pidfd (Linux 5.3); without one, it
 * looks every
 * millisecond. */
static inline int scmpy_child_ended(int pid, int *pidfd, int timeout_ms)
{
    struct pollfd p;
    siginfo_t info;
    int rc;
    if (*pidfd == -1) {
        *pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (*pidfd < 0 && errno == ESRCH)
            return 1; /* reaped already (by a SIGCHLD handler, say) */
    }
    if (*pidfd >= 0) {
        p.fd = *pidfd;
        p.events = POLLIN;
        p.revents = 0;
        rc = poll(&p, 1, timeout_ms);
        return rc < 0 ? -errno : rc > 0;
    }
    for (;;) {
        memset(&info, 0, sizeof(info));
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
            return errno == ECHILD ? 1 : -errno; /* ECHILD: reaped already */
        if (info.si_pid == pid)
            return 1;
        if (timeout_ms-- <= 0)
            return 0;
        usleep(1000);
    }
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

/* Whether *fd*, a listener, has hung up (no process uses its filter any more), waiting up to
 * *timeout_ms*: 1, 0, or -errno. Asks for no event: a pending notification does not count. */
static inline int scmpy_listener_hung_up(int fd, int timeout_ms)
{
    struct pollfd p;
    int rc;
    p.fd = fd;
    p.events = 0;
    p.revents = 0;
    rc = poll(&p, 1, timeout_ms);
    if (rc < 0)
        return -errno;
    return rc > 0 && (p.revents & POLLHUP) != 0;
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
