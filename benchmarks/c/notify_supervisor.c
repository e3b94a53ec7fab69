/* Benchmark supervisor in C: receive the listener fd on unix socket SOCK_FD, optionally set
 * SYNC_WAKE_UP, send "go", answer N notifications with 4242, print nanoseconds per round trip.
 *   notify_supervisor N SYNC(0|1) SOCK_FD
 */
#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif

static int recv_fd(int sock)
{
    char byte, cbuf[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {&byte, 1};
    struct msghdr msg = {0};
    int fd;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof(cbuf);
    if (recvmsg(sock, &msg, 0) != 1 || !CMSG_FIRSTHDR(&msg))
        return -1;
    memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
    return fd;
}

int main(int argc, char **argv)
{
    long n = atol(argv[1]), done = 0;
    int sync = atoi(argv[2]), sock = atoi(argv[3]), fd = recv_fd(sock);
    struct seccomp_notif req;
    struct seccomp_notif_resp resp;
    struct timespec a, b;
    if (fd < 0)
        return 3;
    if (sync && ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, 1UL) < 0)
        return 4;
    clock_gettime(CLOCK_MONOTONIC, &a);
    if (write(sock, "g", 1) != 1)
        return 3;
    while (done < n) {
        memset(&req, 0, sizeof(req));
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            if (errno == EINTR || errno == ENOENT)
                continue;
            return 5;
        }
        resp.id = req.id;
        resp.val = 4242;
        resp.error = 0;
        resp.flags = 0;
        if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) == 0)
            done++;
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
    return 0;
}
