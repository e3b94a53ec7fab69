/* What the core needs beyond the seccomp.h it is compiled against.
 *
 * - libseccomp 2.6 calls and constants, so the core compiles against 2.5.x too; there the
 *   2.6-only calls return -SCMPY_ENEEDS and the core raises "needs libseccomp >= 2.6.0".
 * - kernel seccomp(2) constants older uapi headers lack.
 * - scmpy_load_program(): load a ready BPF program with seccomp(2), no allocation, so it
 *   is safe between fork() and exec().
 */
#ifndef SCMPY_SECCOMP_COMPAT_H
#define SCMPY_SECCOMP_COMPAT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <seccomp.h>

#define SCMPY_ENEEDS ENOSYS

#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
#define SCMPY_HAVE_2_6 1
#else
#define SCMPY_HAVE_2_6 0
#endif

/* Architectures added in libseccomp 2.6 (tokens are the kernel's AUDIT_ARCH values). */
#ifndef __AUDIT_ARCH_64BIT
#define __AUDIT_ARCH_64BIT 0x80000000
#endif
#ifndef __AUDIT_ARCH_LE
#define __AUDIT_ARCH_LE 0x40000000
#endif
#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 (258 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE)
#endif
#ifndef SCMP_ARCH_M68K
#define SCMP_ARCH_M68K 4
#endif
#ifndef SCMP_ARCH_SH
#define SCMP_ARCH_SH (42 | __AUDIT_ARCH_LE)
#endif
#ifndef SCMP_ARCH_SHEB
#define SCMP_ARCH_SHEB 42
#endif

/* Kernel seccomp(2) constants. */
#ifndef SECCOMP_SET_MODE_FILTER
#define SECCOMP_SET_MODE_FILTER 1
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_GET_NOTIF_SIZES
#define SECCOMP_GET_NOTIF_SIZES 3
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC
#define SECCOMP_FILTER_FLAG_TSYNC (1UL << 0)
#endif
#ifndef SECCOMP_FILTER_FLAG_LOG
#define SECCOMP_FILTER_FLAG_LOG (1UL << 1)
#endif
#ifndef SECCOMP_FILTER_FLAG_SPEC_ALLOW
#define SECCOMP_FILTER_FLAG_SPEC_ALLOW (1UL << 2)
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif

#if !SCMPY_HAVE_2_6
#define SCMP_FLTATR_CTL_WAITKILL 10
static inline int seccomp_export_bpf_mem(const scmp_filter_ctx ctx, void *buf, size_t *len)
{ (void)ctx; (void)buf; (void)len; return -SCMPY_ENEEDS; }
static inline int seccomp_precompute(const scmp_filter_ctx ctx)
{ (void)ctx; return -SCMPY_ENEEDS; }
static inline int seccomp_transaction_start(const scmp_filter_ctx ctx)
{ (void)ctx; return -SCMPY_ENEEDS; }
static inline int seccomp_transaction_commit(const scmp_filter_ctx ctx)
{ (void)ctx; return -SCMPY_ENEEDS; }
static inline void seccomp_transaction_reject(const scmp_filter_ctx ctx)
{ (void)ctx; }
#endif

/* Load a BPF program: optional no_new_privs, then seccomp(SECCOMP_SET_MODE_FILTER).
 * Returns the syscall's result (0, a listener fd, or with TSYNC the id of a thread that
 * could not be synchronised) or -errno. Only syscalls: safe after fork(). */
static inline long scmpy_load_program(const struct sock_fprog *prog, unsigned int flags, int nnp)
{
    long rc;
    if (nnp && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -errno;
    rc = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, flags, prog);
    return rc < 0 ? -errno : rc;
}

/* seccomp(2) operations without a filter: action availability, notification sizes. */
static inline long scmpy_seccomp_op(unsigned int op, unsigned int flags, void *arg)
{
    long rc = syscall(__NR_seccomp, op, flags, arg);
    return rc < 0 ? -errno : rc;
}

#endif
