"""What the kernel really does under filters built with this package.

Every filter is loaded in a forked child (tests/childproc.py); the parent checks the values the
child saw and how it ended.
"""
import errno
import os
import signal
import threading

import pytest

import seccomp
from seccomp import Action, Cond, Filter, Op
from childproc import in_child
from kernel import no_new_privs, syscall


def test_errno_action_fails_the_syscall():
    def child():
        f = Filter(Action.ALLOW)
        f.add_rule(Action.ERRNO(errno.EPERM), "getppid")
        f.add_rule(Action.ERRNO(errno.ENOTSUP), "getpgid")
        f.load()
        return syscall("getppid"), syscall("getpgid", 0), syscall("getpid")

    (ppid, pgid, pid) = in_child(child).unwrap()
    assert ppid == (-1, errno.EPERM)
    assert pgid == (-1, errno.ENOTSUP)
    assert pid[0] > 0 and pid[1] == 0


def test_default_action_applies_to_unlisted_syscalls():
    def child():
        f = Filter(Action.ERRNO(errno.EACCES))
        # what the child still needs to report back and exit
        for name in ("write", "exit", "exit_group", "rt_sigreturn", "munmap", "mmap", "brk",
                     "futex", "close", "getpid", "rt_sigprocmask", "madvise"):
            f.add_rule(Action.ALLOW, name)
        f.load()
        return syscall("getppid"), syscall("getpid")[1]

    ppid, pid_errno = in_child(child).unwrap()
    assert ppid == (-1, errno.EACCES)
    assert pid_errno == 0


def test_kill_process_kills_with_sigsys():
    def child():
        f = Filter(Action.ALLOW)
        f.add_rule(Action.KILL_PROCESS, "getppid")
        f.load()
        syscall("getppid")
        return "survived"

    result = in_child(child)
    assert result.signal == signal.SIGSYS
    assert result.value is None


def test_trap_delivers_sigsys():
    def child():
        seen = []
        signal.signal(signal.SIGSYS, lambda signum, frame: seen.append(signum))
        f = Filter(Action.ALLOW)
        f.add_rule(Action.TRAP, "getppid")
        f.load()
        syscall("getppid")
        return seen

    assert in_child(child).unwrap() == [signal.SIGSYS]


def test_log_action_runs_the_syscall():
    if not seccomp.action_available(Action.LOG):
        pytest.skip("kernel without SECCOMP_RET_LOG")

    def child():
        f = Filter(Action.ALLOW)
        f.add_rule(Action.LOG, "getppid")
        f.load()
        return syscall("getppid")

    rc, err = in_child(child).unwrap()
    assert rc == os.getpid() and err == 0


@pytest.mark.parametrize("cond, matching, other", [
    (Cond(0, Op.EQ, 0), 0, 1),
    (Cond(0, Op.NE, 0), 1, 0),
    (Cond(0, Op.GT, 1), 2, 1),
    (Cond(0, Op.GE, 2), 2, 1),
    (Cond(0, Op.LT, 1), 0, 1),
    (Cond(0, Op.LE, 0), 0, 1),
    (Cond(0, Op.MASKED_EQ, 0x3, 0x2), 0x6, 0x5),
])
def test_argument_conditions_match_and_mismatch(cond, matching, other):
    def child():
        f = Filter(Action.ALLOW)
        f.add_rule(Action.ERRNO(errno.EPERM), "dup", cond)
        os.dup2(0, 5)
        os.dup2(0, 6)
        f.load()
        return syscall("dup", matching), syscall("dup", other)

    hit, miss = in_child(child).unwrap()
    assert hit == (-1, errno.EPERM)
    assert miss[0] >= 0 and miss[1] == 0  # the real dup ran and returned a new fd


def test_cmp32_condition_on_negative_int_argument():
    def child():
        f = Filter(Action.ALLOW)
        # fchdir(-1) is EBADF from the kernel; the rule turns exactly that call into EPERM
        f.add_rule(Action.ERRNO(errno.EPERM), "fchdir", Cond.cmp32(0, Op.EQ, -1))
        f.load()
        return syscall("fchdir", 0xFFFFFFFF), syscall("fchdir", 0xFFFFFFFE)

    hit, miss = in_child(child).unwrap()
    assert hit == (-1, errno.EPERM)
    assert miss == (-1, errno.EBADF)


def _thread_sees_filter(tsync):
    def child():
        go, done = threading.Event(), threading.Event()
        out = {}

        def worker():
            go.wait()
            out["r"] = syscall("getppid")
            done.set()

        t = threading.Thread(target=worker)
        t.start()  # started before the filter exists
        f = Filter(Action.ALLOW, tsync=tsync)
        f.add_rule(Action.ERRNO(errno.EPERM), "getppid")
        f.load()
        go.set()
        done.wait(10)
        t.join(10)
        return out["r"], syscall("getppid")

    return in_child(child).unwrap()


def test_tsync_filters_threads_started_before_load():
    thread_result, main_result = _thread_sees_filter(True)
    assert main_result == (-1, errno.EPERM)
    assert thread_result == (-1, errno.EPERM)


def test_without_tsync_other_threads_stay_unfiltered():
    thread_result, main_result = _thread_sees_filter(False)
    assert main_result == (-1, errno.EPERM)
    assert thread_result[1] == 0 and thread_result[0] > 0


def test_no_new_privs_is_honoured():
    def child(nnp):
        f = Filter(Action.ALLOW)
        f.no_new_privs = nnp
        before = no_new_privs()
        f.load()
        return before, no_new_privs()

    assert in_child(child, True).unwrap() == (0, 1)
    if os.geteuid() != 0:
        pytest.skip("loading without no_new_privs needs CAP_SYS_ADMIN")
    assert in_child(child, False).unwrap() == (0, 0)


def test_compiled_program_loads_through_seccomp_syscall():
    def child():
        f = Filter(Action.ALLOW)
        f.add_rule(Action.ERRNO(errno.EXDEV), "getppid", )
        program = f.compile()
        f.release()  # the program needs nothing from libseccomp any more
        rc = program.load()
        return rc, no_new_privs(), syscall("getppid")

    rc, nnp, ppid = in_child(child).unwrap()
    assert rc == 0 and nnp == 1
    assert ppid == (-1, errno.EXDEV)


def test_filters_stack_and_most_restrictive_wins():
    def child():
        a = Filter(Action.ALLOW)
        a.add_rule(Action.ERRNO(errno.EPERM), "getppid")
        a.load()
        b = Filter(Action.ALLOW)
        b.add_rule(Action.KILL_PROCESS, "getppid")
        b.load()
        syscall("getppid")
        return "survived"

    assert in_child(child).signal == signal.SIGSYS


def test_filter_built_before_fork_loads_in_child():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(errno.ENOSPC), "getppid")

    def child():
        f.load()
        return syscall("getppid")

    assert in_child(child).unwrap() == (-1, errno.ENOSPC)
    assert not f.released  # the parent's copy is untouched
