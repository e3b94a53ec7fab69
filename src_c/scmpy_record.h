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

#include <errno.h>
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

#endif
