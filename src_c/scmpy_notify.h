/* The seccomp user-notification ioctls, called directly on a listener fd (libseccomp 2.5 hides
 * their errno behind -ECANCELED and has no ADDFD). Each returns the ioctl's result or -errno,
 * and none takes the GIL, so the callers release it around them.
 */
#ifndef SCMPY_NOTIFY_H
#define SCMPY_NOTIFY_H

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
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
    if (fds[0].revents & POLLIN)
        return 1;
    if (fds[0].revents & POLLHUP)
        return -EPIPE;
    if (fds[0].revents & POLLNVAL)
        return -EBADF;
    return 1;
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

#endif
