# Declarations of libseccomp's seccomp.h (2.5 and 2.6), through seccomp_compat.h, which
# supplies the 2.6 calls and constants when compiling against 2.5.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t, int32_t, int64_t

from kernel cimport sock_fprog


cdef extern from "seccomp_compat.h" nogil:
    int SCMP_VER_MAJOR
    int SCMP_VER_MINOR
    int SCMP_VER_MICRO
    int SCMPY_HAVE_2_6
    int SCMPY_ENEEDS

    struct scmp_version:
        unsigned int major
        unsigned int minor
        unsigned int micro

    ctypedef void *scmp_filter_ctx

    enum scmp_filter_attr:
        SCMP_FLTATR_ACT_DEFAULT
        SCMP_FLTATR_ACT_BADARCH
        SCMP_FLTATR_CTL_NNP
        SCMP_FLTATR_CTL_TSYNC
        SCMP_FLTATR_API_TSKIP
        SCMP_FLTATR_CTL_LOG
        SCMP_FLTATR_CTL_SSB
        SCMP_FLTATR_CTL_OPTIMIZE
        SCMP_FLTATR_API_SYSRAWRC
        SCMP_FLTATR_CTL_WAITKILL

    enum scmp_compare:
        SCMP_CMP_NE
        SCMP_CMP_LT
        SCMP_CMP_LE
        SCMP_CMP_EQ
        SCMP_CMP_GE
        SCMP_CMP_GT
        SCMP_CMP_MASKED_EQ

    ctypedef uint64_t scmp_datum_t

    struct scmp_arg_cmp:
        unsigned int arg
        scmp_compare op
        scmp_datum_t datum_a
        scmp_datum_t datum_b

    uint32_t SCMP_ARCH_NATIVE
    uint32_t SCMP_ARCH_X86
    uint32_t SCMP_ARCH_X86_64
    uint32_t SCMP_ARCH_X32
    uint32_t SCMP_ARCH_ARM
    uint32_t SCMP_ARCH_AARCH64
    uint32_t SCMP_ARCH_LOONGARCH64
    uint32_t SCMP_ARCH_M68K
    uint32_t SCMP_ARCH_MIPS
    uint32_t SCMP_ARCH_MIPS64
    uint32_t SCMP_ARCH_MIPS64N32
    uint32_t SCMP_ARCH_MIPSEL
    uint32_t SCMP_ARCH_MIPSEL64
    uint32_t SCMP_ARCH_MIPSEL64N32
    uint32_t SCMP_ARCH_PPC
    uint32_t SCMP_ARCH_PPC64
    uint32_t SCMP_ARCH_PPC64LE
    uint32_t SCMP_ARCH_S390
    uint32_t SCMP_ARCH_S390X
    uint32_t SCMP_ARCH_PARISC
    uint32_t SCMP_ARCH_PARISC64
    uint32_t SCMP_ARCH_RISCV64
    uint32_t SCMP_ARCH_SH
    uint32_t SCMP_ARCH_SHEB

    uint32_t SCMP_ACT_KILL_PROCESS
    uint32_t SCMP_ACT_KILL_THREAD
    uint32_t SCMP_ACT_KILL
    uint32_t SCMP_ACT_TRAP
    uint32_t SCMP_ACT_NOTIFY
    uint32_t SCMP_ACT_LOG
    uint32_t SCMP_ACT_ALLOW
    uint32_t SCMP_ACT_ERRNO(uint32_t x)
    uint32_t SCMP_ACT_TRACE(uint32_t x)

    int __NR_SCMP_ERROR
    int __NR_SCMP_UNDEF

    struct seccomp_data:
        int nr
        uint32_t arch
        uint64_t instruction_pointer
        uint64_t args[6]

    struct seccomp_notif:
        uint64_t id
        uint32_t pid
        uint32_t flags
        seccomp_data data

    struct seccomp_notif_resp:
        uint64_t id
        int64_t val
        int32_t error
        uint32_t flags

    const scmp_version *seccomp_version()
    unsigned int seccomp_api_get()
    int seccomp_api_set(unsigned int level)

    scmp_filter_ctx seccomp_init(uint32_t def_action)
    int seccomp_reset(scmp_filter_ctx ctx, uint32_t def_action)
    void seccomp_release(scmp_filter_ctx ctx)
    int seccomp_merge(scmp_filter_ctx ctx_dst, scmp_filter_ctx ctx_src)

    uint32_t seccomp_arch_resolve_name(const char *arch_name)
    uint32_t seccomp_arch_native()
    int seccomp_arch_exist(const scmp_filter_ctx ctx, uint32_t arch_token)
    int seccomp_arch_add(scmp_filter_ctx ctx, uint32_t arch_token)
    int seccomp_arch_remove(scmp_filter_ctx ctx, uint32_t arch_token)

    int seccomp_load(const scmp_filter_ctx ctx)

    int seccomp_attr_get(const scmp_filter_ctx ctx, scmp_filter_attr attr, uint32_t *value)
    int seccomp_attr_set(scmp_filter_ctx ctx, scmp_filter_attr attr, uint32_t value)

    char *seccomp_syscall_resolve_num_arch(uint32_t arch_token, int num)
    int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)
    int seccomp_syscall_resolve_name_rewrite(uint32_t arch_token, const char *name)
    int seccomp_syscall_resolve_name(const char *name)
    int seccomp_syscall_priority(scmp_filter_ctx ctx, int syscall, uint8_t priority)

    int seccomp_rule_add_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
                               unsigned int arg_cnt, const scmp_arg_cmp *arg_array)
    int seccomp_rule_add_exact_array(scmp_filter_ctx ctx, uint32_t action, int syscall,
                                     unsigned int arg_cnt, const scmp_arg_cmp *arg_array)

    int seccomp_notify_alloc(seccomp_notif **req, seccomp_notif_resp **resp)
    void seccomp_notify_free(seccomp_notif *req, seccomp_notif_resp *resp)
    int seccomp_notify_receive(int fd, seccomp_notif *req)
    int seccomp_notify_respond(int fd, seccomp_notif_resp *resp)
    int seccomp_notify_id_valid(int fd, uint64_t id)
    int seccomp_notify_fd(const scmp_filter_ctx ctx)

    int seccomp_export_pfc(const scmp_filter_ctx ctx, int fd)
    int seccomp_export_bpf(const scmp_filter_ctx ctx, int fd)
    # libseccomp 2.6 (stubs returning -SCMPY_ENEEDS on 2.5)
    int seccomp_export_bpf_mem(const scmp_filter_ctx ctx, void *buf, size_t *len)
    int seccomp_precompute(const scmp_filter_ctx ctx)
    int seccomp_transaction_start(const scmp_filter_ctx ctx)
    int seccomp_transaction_commit(const scmp_filter_ctx ctx)
    void seccomp_transaction_reject(const scmp_filter_ctx ctx)

    # kernel interface
    unsigned int SECCOMP_SET_MODE_FILTER
    unsigned int SECCOMP_GET_ACTION_AVAIL
    unsigned int SECCOMP_GET_NOTIF_SIZES
    unsigned int SECCOMP_FILTER_FLAG_TSYNC
    unsigned int SECCOMP_FILTER_FLAG_LOG
    unsigned int SECCOMP_FILTER_FLAG_SPEC_ALLOW
    unsigned int SECCOMP_FILTER_FLAG_NEW_LISTENER
    unsigned int SECCOMP_FILTER_FLAG_TSYNC_ESRCH
    unsigned int SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

    long scmpy_load_program(const sock_fprog *prog, unsigned int flags, int nnp)
    long scmpy_seccomp_op(unsigned int op, unsigned int flags, void *arg)
