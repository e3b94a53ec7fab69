/* What the kernel spends running a seccomp filter: time a syscall loop, load the filter (raw
 * BPF from a file, through seccomp(2)), time the loop again.
 *   filter_cost PROGRAM.bpf ITERATIONS  ->  "<nr> <ns without> <ns with>" for getppid() and
 *   personality(0xffffffff) (a query)
 */
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double loop(long nr, unsigned long arg, long n)
{
    struct timespec a, b;
    long i;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (i = 0; i < n; i++)
        syscall(nr, arg);
    clock_gettime(CLOCK_MONOTONIC, &b);
    return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

int main(int argc, char **argv)
{
    static struct sock_filter insns[4096];
    struct sock_fprog prog;
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    double before[2], after[2];
    FILE *f;
    if (argc < 3 || !(f = fopen(argv[1], "rb")))
        return 2;
    prog.len = fread(insns, sizeof(insns[0]), 4096, f);
    prog.filter = insns;
    fclose(f);
    before[0] = loop(SYS_getppid, 0, n);
    before[1] = loop(SYS_personality, 0xffffffffUL, n);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog))
        return 3;
    after[0] = loop(SYS_getppid, 0, n);
    after[1] = loop(SYS_personality, 0xffffffffUL, n);
    printf("getppid %.1f %.1f\npersonality %.1f %.1f\n", before[0], after[0], before[1], after[1]);
    return 0;
}
