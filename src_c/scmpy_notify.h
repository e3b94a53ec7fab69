/* The seccomp user-notification ioctls, called directly on a listener fd (libseccomp 2.5 hides
 * their errno behind -ECANCELED and has no ADDFD). Each returns the ioctl's result or -errno,
 * and none takes the GIL, so the callers release it around them.
 */
#ifndef SCMPY_NOTIFY_H
#define SCMPY_NOTIFY_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll */
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/seccomp.h>

#ifndef SECCOMP_IOCTL_NOTIF_ADDFD
struct seccomp_notif_addfd {
    __u64 id;
    __u32 flags;
    __u32 srcfd;
    __u32 newfd;
    __u32 newfd_flags;
};
#define SECCOMP_IOCTL_NOTIF_ADDFD SECCOMP_IOW(3, struct seccomp_notif_addfd)
#endif
#ifndef SECCOMP_ADDFD_FLAG_SETFD
#define SECCOMP_ADDFD_FLAG_SETFD (1UL << 0)
#endif
#ifndef SECCOMP_ADDFD_FLAG_SEND
#define SECCOMP_ADDFD_FLAG_SEND (1UL << 1)
#endif
#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif
/* Linux 6.6: wake the target on the supervisor's CPU (much faster round trips). */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static inline int scmpy_ioctl(int fd, unsigned long request, void *arg)
{
    return ioctl(fd, request, arg) < 0 ? -errno : 0;
}

static inline int scmpy_notif_recv(int fd, struct seccomp_notif *req)
{
    memset(req, 0, sizeof(*req)); /* the kernel insists on a zeroed buffer */
    return scmpy_ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, req);
}

static inline int scmpy_notif_send(int fd, __u64 id, __s64 val, __s32 error, __u32 flags)
{
    struct seccomp_notif_resp resp;
    resp.id = id;
    resp.val = val;
    resp.error = error;
    resp.flags = flags;
    return scmpy_ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static inline int scmpy_notif_id_valid(int fd, __u64 id)
{
    return scmpy_ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id);
}

static inline int scmpy_notif_addfd(int fd, __u64 id, __u32 flags, __u32 srcfd, __u32 newfd,
                                    __u32 newfd_flags)
{
    struct seccomp_notif_addfd addfd;
    int rc;
    addfd.id = id;
    addfd.flags = flags;
    addfd.srcfd = srcfd;
    addfd.newfd = newfd;
    addfd.newfd_flags = newfd_flags;
    rc = ioctl(fd, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
    return rc < 0 ? -errno : rc;
}

static inline int scmpy_notif_set_flags(int fd, __u64 flags)
{
    return ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, flags) < 0 ? -errno : 0;
}

/* What poll() said of the listener: readable (1), every process under the filter gone
 * (-EPIPE), or a bad fd (-EBADF). */
static inline int scmpy_listener_state(short revents)
{
    if (revents & POLLIN)
        return 1;
    if (revents & POLLHUP)
        return -EPIPE;
    if (revents & POLLNVAL)
        return -EBADF;
    return 1; /* POLLERR (the poll was interrupted): RECV says what is there */
}

/* Wait until the listener is readable (1), the wake fd is readable (2), the timeout passes (0),
 * or every process under the filter is gone (-EPIPE); -errno on failure (-EINTR included). */
static inline int scmpy_notif_wait(int fd, int wake_fd, int timeout_ms)
{
    struct pollfd fds[2];
    int n = wake_fd >= 0 ? 2 : 1, rc;
    fds[0].fd = fd;
    fds[0].events = POLLIN;
    fds[1].fd = wake_fd;
    fds[1].events = POLLIN;
    fds[0].revents = fds[1].revents = 0;
    rc = poll(fds, n, timeout_ms);
    if (rc < 0)
        return -errno;
    if (rc == 0)
        return 0;
    if (n == 2 && fds[1].revents)
        return 2;
    return scmpy_listener_state(fds[0].revents);
}

static inline long long scmpy_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Whether a notification is pending, without waiting: 1 (then RECV returns at once: the
 * kernel counts every notification it posts until a RECV takes that count, so RECV either
 * gets it or, if its target left the syscall meanwhile, fails with ENOENT; unless another
 * supervisor of the same listener took it first), 0 if none, -EPIPE once every process under
 * the filter is gone, or -errno. A busy target under SYNC_WAKE_UP has usually made its next
 * call by the time its previous answer was sent. */
static inline int scmpy_notif_pending(int fd)
{
    struct pollfd p;
    int rc;
    p.fd = fd;
    p.events = POLLIN;
    p.revents = 0;
    rc = poll(&p, 1, 0);
    if (rc < 0)
        return -errno;
    return rc == 0 ? 0 : scmpy_listener_state(p.revents);
}

/* Wait up to *timeout_us* microseconds for a notification: as scmpy_notif_pending. The target
 * was woken on this CPU by the last answer (SYNC_WAKE_UP): sched_yield() lets it run, then the
 * poll() is repeated. No timer is armed: a ppoll() with a timeout arms one, and programming a
 * timer costs more than a whole round trip where it traps to a hypervisor. */
static inline int scmpy_notif_linger(int fd, long timeout_us)
{
    long long until = scmpy_now_us() + timeout_us;
    int rc;
    for (;;) {
        sched_yield();
        rc = scmpy_notif_pending(fd);
        if (rc != 0 || scmpy_now_us() >= until)
            return rc;
    }
}

static inline long scmpy_vm_read(int pid, void *local, size_t size, unsigned long remote)
{
    struct iovec l = {local, size}, r = {(void *)remote, size};
    long rc = process_vm_readv(pid, &l, 1, &r, 1, 0);
    return rc < 0 ? -errno : rc;
}

static inline long scmpy_vm_write(int pid, const void *local, size_t size, unsigned long remote)
{
    struct iovec l = {(void *)local, size}, r = {(void *)remote, size};
    long rc = process_vm_writev(pid, &l, 1, &r, 1, 0);
    return rc < 0 ? -errno : rc;
}

/* openat2(2) (Linux 5.6): open *path* relative to *dirfd* with RESOLVE_* flags; -errno on
 * failure (-ENOSYS where the kernel or the C library lacks it). */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
struct scmpy_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

static inline int scmpy_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode,
                                uint64_t resolve)
{
    struct scmpy_open_how how = {flags, mode, resolve};
    long rc = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
    return rc < 0 ? -errno : (int)rc;
}

/* Stopping a supervisor that waits in SECCOMP_IOCTL_NOTIF_RECV. Only a signal interrupts that
 * ioctl, and waiting in it directly (not in poll() first) saves a syscall per notification, so
 * stop() sends SIGURG to the waiting thread: its default action is to ignore it and few programs
 * use it (the Go runtime preempts goroutines with it for the same reasons). Its handler does
 * nothing; the ioctl returns EINTR and the loop sees the stop request. A program that handles
 * SIGURG itself keeps its handler, and the supervisor then polls (stop() takes up to 100 ms). */
#define SCMPY_WAKE_SIGNAL SIGURG
#define SCMPY_POLL_MS 100

static void scmpy_wake_handler(int sig)
{
    (void)sig;
}

/* 1 if SIGURG can wake a waiting supervisor (its handler installed now if it had none). */
static inline int scmpy_wake_signal_ready(void)
{
    struct sigaction old, sa;
    if (sigaction(SCMPY_WAKE_SIGNAL, NULL, &old) < 0)
        return 0;
    if (old.sa_flags & SA_SIGINFO)
        return 0;
    if (old.sa_handler == scmpy_wake_handler)
        return 1;
    if (old.sa_handler != SIG_DFL && old.sa_handler != SIG_IGN)
        return 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = scmpy_wake_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: the ioctl must return EINTR */
    return sigaction(SCMPY_WAKE_SIGNAL, &sa, NULL) == 0;
}

/* The wake signal unblocked in the calling thread; *old* gets the previous mask. */
static inline void scmpy_wake_signal_unblock(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SCMPY_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, old);
}

static inline void scmpy_sigmask_restore(const sigset_t *old)
{
    pthread_sigmask(SIG_SETMASK, old, NULL);
}

typedef struct {
    pthread_mutex_t lock; /* held while a thread starts or ends serving, and by stop() */
    int serving;          /* a thread is in the loop (under lock) */
    int use_signal;       /* it waits in RECV and SIGURG wakes it (under lock) */
    pthread_t thread;     /* that thread (under lock) */
    int stopping;         /* atomic: stop() was asked */
    int waiting;          /* atomic: the thread waits, or is about to, in a blocking call */
} scmpy_stopper;

static inline void scmpy_stopper_init(scmpy_stopper *s)
{
    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->lock, NULL);
}

static inline void scmpy_stopper_destroy(scmpy_stopper *s)
{
    pthread_mutex_destroy(&s->lock);
}

/* The calling thread starts serving: 0, or -EBUSY if another thread is. */
static inline int scmpy_stopper_enter(scmpy_stopper *s, int use_signal)
{
    int rc = -EBUSY;
    pthread_mutex_lock(&s->lock);
    if (!s->serving) {
        s->serving = 1;
        s->use_signal = use_signal;
        s->thread = pthread_self();
        rc = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

/* It stops serving; a stop request is used up. */
static inline void scmpy_stopper_leave(scmpy_stopper *s)
{
    pthread_mutex_lock(&s->lock);
    s->serving = 0;
    __atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&s->stopping, 0, __ATOMIC_SEQ_CST);
    pthread_mutex_unlock(&s->lock);
}

/* Before each wait: 1 to go on waiting, 0 if stop() was asked. Announcing the wait before
 * reading the request means stop() either is seen here or sees the wait and sends a signal. */
static inline int scmpy_stopper_begin_wait(scmpy_stopper *s)
{
    __atomic_store_n(&s->waiting, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST)) {
        __atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
        return 0;
    }
    return 1;
}

static inline void scmpy_stopper_end_wait(scmpy_stopper *s)
{
    __atomic_store_n(&s->waiting, 0, __ATOMIC_SEQ_CST);
}

static inline int scmpy_stopper_stopping(scmpy_stopper *s)
{
    return __atomic_load_n(&s->stopping, __ATOMIC_SEQ_CST);
}

/* Ask the loop to stop: 1 when nothing more is needed, 0 when the thread was signalled while
 * waiting (call again shortly: the signal may have come just before the ioctl began). */
static inline int scmpy_stopper_stop(scmpy_stopper *s)
{
    int done = 1;
    __atomic_store_n(&s->stopping, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&s->lock);
    if (s->serving && s->use_signal && !pthread_equal(s->thread, pthread_self()) &&
        __atomic_load_n(&s->waiting, __ATOMIC_SEQ_CST)) {
        pthread_kill(s->thread, SCMPY_WAKE_SIGNAL);
        done = 0;
    }
    pthread_mutex_unlock(&s->lock);
    return done;
}

#endif
