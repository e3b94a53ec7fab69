/* Benchmark target: load a filter that sends getppid() to a supervisor, pass the listener fd
 * to the supervisor over the unix socket SOCK_FD, wait for "go", then call getppid() N times.
 * Exit status 0 if every call got the supervisor's answer (4242).
 *   notify_target N SOCK_FD
 *   notify_target N -1      (the filter is inherited from the parent: just make the calls)
 */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int send_fd(int sock, int fd)
{
    char byte = 'f', cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {0};
    struct cmsghdr *c;
    memset(cbuf, 0, sizeof(cbuf));
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof(cbuf);
    c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(sock, &msg, 0) == 1 ? 0 : -1;
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[1]) : 0, i, bad = 0;
    int sock = argc > 2 ? atoi(argv[2]) : -1;
    if (argc < 3)
        return 2;
    char go;
    if (sock >= 0) {
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(getppid), 0) ||
            seccomp_load(ctx))
            return 2;
        if (send_fd(sock, seccomp_notify_fd(ctx)) || read(sock, &go, 1) != 1)
            return 3;
    }
    for (i = 0; i < n; i++)
        bad += syscall(SYS_getppid) != 4242;
    return bad ? 1 : 0;
}
