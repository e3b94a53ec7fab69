"""Named syscall groups in the spirit of systemd's ``SystemCallFilter=`` sets.

Each group is a tuple of syscall names (or other ``@groups``), covering every architecture:
a name an architecture lacks is simply not there when a filter is built for it. Use them to
build filters by hand::

    f = seccomp.Filter(seccomp.Action.ERRNO(errno.EPERM))
    for name in seccomp.profile.expand("@system-service"):
        f.add_rule(seccomp.Action.ALLOW, name)   # see Profile for skipping unknown names

or on the command line: ``seccomp run --deny @mount -- CMD``.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Tuple

__all__ = ["GROUPS", "expand", "describe"]

# name -> (what it is for, members). Members starting with "@" are other groups.
_GROUPS: Dict[str, Tuple[str, str]] = {
    "@default": ("What nearly every program calls: start-up, memory, time, identity queries, exit", """
        arch_prctl brk cacheflush clock_getres clock_getres_time64 clock_gettime clock_gettime64
        clock_nanosleep clock_nanosleep_time64 execve exit exit_group futex futex_time64
        futex_waitv get_robust_list get_thread_area getegid getegid32 geteuid geteuid32 getgid
        getgid32 getgroups getgroups32 getpgid getpgrp getpid getppid getrandom getresgid
        getresgid32 getresuid getresuid32 getrlimit getsid gettid gettimeofday getuid getuid32
        membarrier mmap mmap2 mprotect munmap nanosleep pause prlimit64 restart_syscall
        riscv_flush_icache rseq rt_sigreturn sched_getaffinity sched_yield set_robust_list
        set_thread_area set_tid_address set_tls sigreturn time ugetrlimit"""),
    "@aio": ("Asynchronous I/O (POSIX AIO and io_uring)", """
        io_cancel io_destroy io_getevents io_pgetevents io_pgetevents_time64 io_setup io_submit
        io_uring_enter io_uring_register io_uring_setup"""),
    "@basic-io": ("Reading, writing and closing file descriptors already open", """
        _llseek close close_range dup dup2 dup3 lseek pread64 preadv preadv2 pwrite64 pwritev
        pwritev2 read readv write writev"""),
    "@chown": ("Changing file ownership", """
        chown chown32 fchown fchown32 fchownat lchown lchown32"""),
    "@clock": ("Setting the system clock", """
        adjtimex clock_adjtime clock_adjtime64 clock_settime clock_settime64 settimeofday stime"""),
    "@cpu-emulation": ("Running code of another CPU mode (vm86, LDT changes)", """
        modify_ldt subpage_prot switch_endian vm86 vm86old"""),
    "@debug": ("Tracing and inspecting other processes", """
        kcmp lookup_dcookie perf_event_open pidfd_getfd process_vm_readv process_vm_writev
        ptrace rtas s390_runtime_instr sys_debug_setcontext"""),
    "@file-system": ("Opening, creating, examining and removing files and directories", """
        access chdir chmod close creat faccessat faccessat2 fallocate fchdir fchmod fchmodat
        fcntl fcntl64 fgetxattr flistxattr fremovexattr fsetxattr fstat fstat64 fstatat64
        fstatfs fstatfs64 ftruncate ftruncate64 futimesat getcwd getdents getdents64 getxattr
        inotify_add_watch inotify_init inotify_init1 inotify_rm_watch lgetxattr link linkat
        listxattr llistxattr lremovexattr lsetxattr lstat lstat64 mkdir mkdirat mknod mknodat
        mmap mmap2 munmap newfstatat oldfstat oldlstat oldstat open openat openat2 readlink
        readlinkat removexattr rename renameat renameat2 rmdir setxattr stat stat64 statfs
        statfs64 statx symlink symlinkat truncate truncate64 unlink unlinkat utime utimensat
        utimensat_time64 utimes"""),
    "@io-event": ("Waiting for file descriptors: select, poll, epoll, eventfd", """
        _newselect epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
        epoll_wait epoll_wait_old eventfd eventfd2 poll ppoll ppoll_time64 pselect6
        pselect6_time64 select"""),
    "@ipc": ("Pipes, shared memory, SysV and POSIX message queues and semaphores", """
        ipc memfd_create mq_getsetattr mq_notify mq_open mq_timedreceive mq_timedreceive_time64
        mq_timedsend mq_timedsend_time64 mq_unlink msgctl msgget msgrcv msgsnd pipe pipe2
        semctl semget semop semtimedop semtimedop_time64 shmat shmctl shmdt shmget"""),
    "@keyring": ("The kernel keyring, which is not namespaced", """
        add_key keyctl request_key"""),
    "@memlock": ("Locking memory into RAM", """
        mlock mlock2 mlockall munlock munlockall"""),
    "@module": ("Loading and unloading kernel modules", """
        create_module delete_module finit_module init_module"""),
    "@mount": ("Mounting file systems and changing the root directory", """
        chroot fsconfig fsmount fsopen fspick mount mount_setattr move_mount open_tree
        pivot_root umount umount2"""),
    "@network-io": ("Sockets: creating, connecting, sending and receiving", """
        accept accept4 bind connect getpeername getsockname getsockopt listen recv recvfrom
        recvmmsg recvmmsg_time64 recvmsg send sendmmsg sendmsg sendto setsockopt shutdown
        socket socketcall socketpair"""),
    "@obsolete": ("Syscalls no current program should need", """
        _sysctl afs_syscall bdflush break create_module ftime get_kernel_syms getpmsg gtty idle
        lock mpx prof profil putpmsg query_module security sgetmask ssetmask stty sysfs tuxcall
        ulimit uselib ustat vserver"""),
    "@pkey": ("Memory protection keys", """
        pkey_alloc pkey_free pkey_mprotect"""),
    "@process": ("Creating, replacing, waiting for and signalling processes", """
        capget clone clone3 execve execveat fork getrusage kill pidfd_open pidfd_send_signal
        prctl rt_sigqueueinfo rt_tgsigqueueinfo setns swapcontext tgkill times tkill unshare
        vfork wait4 waitid waitpid"""),
    "@raw-io": ("Direct hardware port and PCI access", """
        ioperm iopl pciconfig_iobase pciconfig_read pciconfig_write s390_pci_mmio_read
        s390_pci_mmio_write"""),
    "@reboot": ("Rebooting or replacing the running kernel", """
        kexec_file_load kexec_load reboot"""),
    "@resources": ("Changing scheduling, memory placement and resource limits", """
        ioprio_set mbind migrate_pages move_pages nice sched_setaffinity sched_setattr
        sched_setparam sched_setscheduler set_mempolicy setpriority setrlimit"""),
    "@setuid": ("Changing user and group identity", """
        setgid setgid32 setgroups setgroups32 setregid setregid32 setresgid setresgid32
        setresuid setresuid32 setreuid setreuid32 setuid setuid32"""),
    "@signal": ("Handling and blocking signals", """
        rt_sigaction rt_sigpending rt_sigprocmask rt_sigsuspend rt_sigtimedwait
        rt_sigtimedwait_time64 sigaction sigaltstack signal signalfd signalfd4 sigpending
        sigprocmask sigsuspend"""),
    "@swap": ("Enabling and disabling swap", """
        swapoff swapon"""),
    "@sync": ("Flushing files to storage", """
        fdatasync fsync msync sync sync_file_range sync_file_range2 syncfs"""),
    "@timer": ("Timers and alarms", """
        alarm getitimer setitimer timer_create timer_delete timer_getoverrun timer_gettime
        timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
        timerfd_gettime64 timerfd_settime timerfd_settime64 times"""),
    "@privileged": ("What only a privileged process may do", """
        @chown @clock @module @raw-io @reboot @swap _sysctl acct bpf capset chroot
        fanotify_init fanotify_mark nfsservctl open_by_handle_at pivot_root quotactl
        quotactl_fd setdomainname setfsuid setfsuid32 setgroups setgroups32 sethostname
        setresuid setresuid32 setreuid setreuid32 setuid setuid32 vhangup"""),
    "@system-service": ("What an ordinary system service needs (a broad allow list)", """
        @aio @basic-io @chown @default @file-system @io-event @ipc @keyring @memlock
        @network-io @process @resources @setuid @signal @sync @timer brk capget capset
        copy_file_range fadvise64 fadvise64_64 flock get_mempolicy getcpu getpriority ioctl
        ioprio_get kcmp madvise mremap name_to_handle_at oldolduname olduname personality
        readahead readdir remap_file_pages sched_get_priority_max sched_get_priority_min
        sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval
        sched_rr_get_interval_time64 sendfile sendfile64 setfsgid setfsgid32 setfsuid
        setfsuid32 setpgid setsid splice sysinfo tee umask uname userfaultfd vmsplice"""),
}


def _build() -> Dict[str, Tuple[str, ...]]:
    return {name: tuple(members.split()) for name, (_, members) in _GROUPS.items()}


#: Every group: its name (with the "@") -> its members as written (may name other groups).
GROUPS: Dict[str, Tuple[str, ...]] = _build()


def describe(group: str) -> str:
    """One line saying what a group is for."""
    _check(group)
    return _GROUPS[group][0]


def _check(group: str) -> None:
    if group not in GROUPS:
        from .._core import InvalidArgumentError
        known = ", ".join(sorted(GROUPS))
        raise InvalidArgumentError(22, "unknown syscall group %r (known: %s)" % (group, known))


def expand(names: "str | Iterable[str]") -> Tuple[str, ...]:
    """Syscall names with every ``@group`` replaced by its members, recursively; sorted,
    without duplicates. A single name or group may be given as a str."""
    if isinstance(names, str):
        names = (names,)
    out: List[str] = []
    seen = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        if name.startswith("@"):
            _check(name)
            stack.extend(GROUPS[name])
        else:
            out.append(name)
    return tuple(sorted(out))
