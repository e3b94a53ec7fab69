"""seccomp.record: real commands recorded, then run under the recorded profile by the kernel."""
import errno
import os
import subprocess
import sys
import time

import pytest

import seccomp
from seccomp import Action, Arch, bpf, profile, record

PY = sys.executable
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT)
NATIVE = Arch.native()
EPERM = Action.ERRNO(errno.EPERM)
# what a profile's filter answers for a syscall it does not allow: its errno, or ENOSYS for a
# syscall beyond what the profile knows (as runc and crun do)
DENIED = (EPERM, Action.ERRNO(errno.ENOSYS))

pytestmark = pytest.mark.skipif(not seccomp.action_available(Action.NOTIFY),
                                reason="the kernel has no seccomp user notification")


def run_under(path, *argv, timeout=60):
    return subprocess.run([PY, "-m", "seccomp", "run", "--profile", str(path), "--", *argv],
                          capture_output=True, timeout=timeout, env=ENV, cwd=ROOT)


def native_program(prof):
    flt = prof.compile(caps=profile.CONTAINER_CAPS)
    try:
        return flt.export_bpf()
    finally:
        flt.release()


# ---------------------------------------------------------------------------------------------
# The recording filter
# ---------------------------------------------------------------------------------------------

def test_recording_filter_notifies_everything():
    prog = record.recording_filter()
    same_endian = [a for a in (Arch.X86, Arch.X32, Arch.X86_64, Arch.AARCH64, Arch.ARM)
                   if (int(a) & 0x40000000) == (int(NATIVE) & 0x40000000)]
    for arch in same_endian:
        for call, args in [("sendmsg", [3, 0x7F0012345678]), ("read", [0, 0]), ("execve", []),
                           ("seccomp", []), ("exit_group", [0])]:
            assert bpf.evaluate(prog, call, args, arch=arch) == Action.NOTIFY, (call, arch)


# ---------------------------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------------------------

def test_records_the_command_not_the_recorder():
    rec = record.record([PY, "-c", "pass"])
    assert rec.returncode == 0
    names = rec.syscalls()
    assert {"execve", "exit_group", "read", "mmap"} <= set(names)
    # the launcher's own syscalls (prctl, seccomp, the hand-over sendmsg) are not there
    assert not {"seccomp", "sendmsg", "prctl"} & set(names)
    assert rec.arches == (NATIVE,)
    assert rec.notifications >= len(names)


def test_exit_status_and_failures():
    assert record.record(["sh", "-c", "exit 3"]).returncode == 3
    assert record.record(["sh", "-c", "kill -TERM $$"]).returncode == -15
    with pytest.raises(record.RecordError, match="command not found"):
        record.record(["no-such-command-here"])
    with pytest.raises(seccomp.InvalidArgumentError):
        record.record([])


def test_exec_failure_after_the_filter_is_loaded(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"\x7fELF garbage")
    bad.chmod(0o755)
    with pytest.raises(record.RecordError, match="Exec format error"):
        record.record([str(bad)])


def test_command_starts_as_after_fork_and_exec(tmp_path):
    """The launcher's child shares the recorder's memory until its execve and blocks every
    signal meanwhile: the command must still start with the recorder's signal mask and
    ignored signals, and default handlers, as after fork and exec."""
    import signal

    out = tmp_path / "status"
    script = "exec grep -E '^Sig(Blk|Ign):' /proc/self/status > %s" % out
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    old_usr2 = signal.signal(signal.SIGUSR2, signal.SIG_IGN)
    old_hup = signal.signal(signal.SIGHUP, lambda *_: None)
    try:
        assert record.record(["sh", "-c", script]).returncode == 0
        mine = {line.split(":")[0]: int(line.split()[1], 16)
                for line in open("/proc/thread-self/status")
                if line.startswith(("SigBlk", "SigIgn"))}
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        signal.signal(signal.SIGUSR2, old_usr2)
        signal.signal(signal.SIGHUP, old_hup)
    theirs = {line.split(":")[0]: int(line.split()[1], 16) for line in open(out)}
    assert theirs["SigBlk"] == mine["SigBlk"]
    assert theirs["SigBlk"] & 1 << (signal.SIGUSR1 - 1)
    assert theirs["SigIgn"] & 1 << (signal.SIGUSR2 - 1)       # ignored stays ignored
    assert not theirs["SigIgn"] & 1 << (signal.SIGHUP - 1)     # a handler becomes default
    # but not the two the interpreter ignores itself (as subprocess does)
    assert mine["SigIgn"] & 1 << (signal.SIGPIPE - 1)
    for sig in (signal.SIGPIPE, signal.SIGXFSZ):
        assert not theirs["SigIgn"] & 1 << (sig - 1), sig


def test_a_recording_inside_a_recording_says_why_it_cannot(capfd):
    inner = [PY, "-m", "seccomp", "record", "-o", os.devnull, "--", "true"]
    outer = record.record(inner, env=ENV)
    assert outer.returncode == 1
    err = capfd.readouterr().err
    assert "cannot record true" in err and "one listener per chain of filters" in err, err


def test_other_threads_of_the_recorder_go_on_meanwhile(tmp_path):
    """The launching thread sleeps until the command has exec'd; the recorder's other threads
    run meanwhile, opening and closing files in the fd table the child shares until then."""
    import threading

    stop = threading.Event()
    opened = []

    def churn():
        while not stop.is_set():
            fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
            opened.append(fd)
            os.close(fd)

    t = threading.Thread(target=churn)
    t.start()
    try:
        recs = [record.record(["sh", "-c", "exit 7"]) for _ in range(5)]
    finally:
        stop.set()
        t.join()
    assert [r.returncode for r in recs] == [7] * 5 and opened
    assert all("execve" in r.syscalls() for r in recs)


@pytest.mark.timeout(60)
def test_recording_ends_where_recv_does_not_return_at_the_end():
    """Before Linux 6.11 the kernel's RECV does not return once no process uses the filter:
    the recording must end anyway (the listener hangs up). The recorder's thread is made to
    wait as those kernels do."""
    for command in (["sh", "-c", "true"], ["sh", "-c", "sleep 0.2 & exit 3"]):
        started = record.start(command)
        started._rec._old_recv = True
        rec = started.wait()
        assert "execve" in rec.syscalls() and rec.returncode == int(command[-1][-1] == "3") * 3
    started = record.start([PY, "-c", "pass"])
    started._rec._old_recv = True
    started._rec._use_pidfd = False  # and without pidfds (before Linux 5.3): waitid looks
    rec, prof = started.wait_profile()
    assert rec.check(prof) == [] and rec.returncode == 0


def test_a_command_reaped_by_someone_else_ends_the_recording():
    """A program's own SIGCHLD handler may reap every child, the command included."""
    for use_pidfd in (True, False):
        started = record.start(["sh", "-c", "exit 5"])
        started._rec._use_pidfd = use_pidfd
        os.waitpid(started.pid, 0)  # as such a handler would
        rec = started.wait()
        assert "execve" in rec.syscalls() and rec.returncode == -9  # its status is lost


def test_threads_and_children_are_followed():
    code = ("import os, threading\n"
            "t = threading.Thread(target=lambda: os.getpgid(0)); t.start(); t.join()\n"
            "pid = os.fork()\n"
            "if pid == 0:\n"
            "    os.getsid(0); os._exit(0)\n"
            "os.waitpid(pid, 0)\n")
    names = record.record([PY, "-c", code]).syscalls()
    assert {"getpgid", "getsid"} <= set(names)  # made only in the thread and in the child


def test_args_records_values_and_the_profile_names_them():
    code = "import socket; socket.socket(socket.AF_UNIX).close()"
    rec = record.record([PY, "-c", code], args=True)
    assert 1 in rec.arg_values(NATIVE, "socket")  # AF_UNIX
    prof = rec.profile()
    prog = native_program(prof)
    assert bpf.evaluate(prog, "socket", [1, 1, 0]) == Action.ALLOW
    assert bpf.evaluate(prog, "socket", [2, 1, 0]) in DENIED  # AF_INET: not used
    rules = [r for r in prof.rules if "socket" in r.names]
    assert rules and all(r.args and r.args[0].index == 0 for r in rules)
    # without args the same syscall is allowed whatever its arguments
    plain = native_program(record.record([PY, "-c", code]).profile())
    assert bpf.evaluate(plain, "socket", [2, 1, 0]) == Action.ALLOW


def test_profile_is_checked_against_the_recording():
    rec = record.record(["sh", "-c", "true"])
    prof = rec.profile()
    assert rec.check(prof) == []
    # signal returns and thread exits depend on timing: allowed even when this run had none
    prog = native_program(prof)
    for name in ("rt_sigreturn", "restart_syscall", "exit"):
        assert bpf.evaluate(prog, name) == Action.ALLOW, name
    too_small = profile.load({"defaultAction": "SCMP_ACT_ERRNO",
                              "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]})
    failures = rec.check(too_small)
    assert any(f.startswith("%s: execve(" % NATIVE) for f in failures)
    assert not any(f.startswith("%s: read(" % NATIVE) for f in failures)


def test_wait_profile_has_what_the_command_did_last():
    """wait_profile builds profiles while the command runs: what the command does after the
    last of them (a syscall it makes only at its end) must still be in the one returned."""
    code = "import os, time\nfor _ in range(30): time.sleep(0.002)\nos.getsid(0)\n"
    rec, prof = record.start([PY, "-c", code]).wait_profile()
    assert "getsid" in rec.syscalls()
    assert rec.check(prof) == []
    assert prof == rec.profile()
    assert bpf.evaluate(native_program(prof), "getsid") == Action.ALLOW


def test_waiting_sleeps_once_the_command_has_started():
    """wait and wait_profile keep their thread running only for the command's first moments
    (_BUSY_SECONDS): recording a command that waits a second costs far less than a second
    of the recorder's CPU."""
    for wait in (lambda r: r.wait_profile()[0], lambda r: r.wait()):
        before = os.times()
        rec = wait(record.start(["sleep", "1"]))
        after = os.times()
        assert rec.returncode == 0
        cpu = (after.user - before.user) + (after.system - before.system)
        assert record._BUSY_SECONDS < 0.5 and cpu < record._BUSY_SECONDS + 0.4, cpu


def test_interrupted_wait_profile_kills_the_command():
    import signal

    def interrupt(*_):
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGALRM, interrupt)
    started = record.start(["sleep", "30"])
    t = time.monotonic()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(KeyboardInterrupt):
            started.wait_profile()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    assert time.monotonic() - t < 10
    with pytest.raises(ChildProcessError):  # killed and reaped
        os.waitpid(started.pid, os.WNOHANG)


def test_merge_adds_only_what_the_run_needs():
    first = record.record([PY, "-c", "import os; os.getpgid(0)"]).profile()
    second = record.record([PY, "-c", "import os; os.getsid(0)"])
    merged = second.profile(merge=first)
    assert merged.rules[:len(first.rules)] == first.rules
    added = {n for r in merged.rules[len(first.rules):] for n in r.names}
    assert "getsid" in added and "getpgid" not in added and "execve" not in added
    prog = native_program(merged)
    for name in ("getpgid", "getsid"):
        assert bpf.evaluate(prog, name) == Action.ALLOW
    # built while the command runs, the merged profile is the same
    third, built = record.start([PY, "-c", "import os; os.getsid(0)"]).wait_profile(
        merge=first)
    assert built == third.profile(merge=first)
    assert "getsid" in {n for r in built.rules[len(first.rules):] for n in r.names}
    assert bpf.evaluate(prog, "ptrace") in DENIED
    # into the built-in default profile: it allows both already, so nothing is added
    into_default = second.profile(merge="default")
    assert len(into_default.rules) == len(profile.load("default").rules)


# ---------------------------------------------------------------------------------------------
# Real programs, re-run under their recorded profiles by the kernel
# ---------------------------------------------------------------------------------------------

REAL = [
    ([PY, "-c", "import json, sqlite3, ssl"], ["ptrace", "mount", "mkdir", "unshare"]),
    (["sh", "-c", "ls / | sort"], ["ptrace", "socket", "mkdir", "unlink"]),
    (["sh", "-c", "tar czf - /usr/share/doc/bash | wc -c"], ["ptrace", "socket", "mkdir"]),
]


@pytest.mark.parametrize("argv,unused", REAL, ids=["python", "ls-sort", "tar-wc"])
def test_recorded_profile_runs_the_command_and_denies_the_rest(tmp_path, argv, unused):
    if "tar" in argv[-1] and not os.path.isdir("/usr/share/doc/bash"):
        pytest.skip("/usr/share/doc/bash is not installed")
    rec = record.record(argv, args=True)
    assert rec.returncode == 0
    path = tmp_path / "recorded.json"
    path.write_text(rec.profile().to_json())
    r = run_under(path, *argv)
    assert r.returncode == 0, r.stderr.decode()
    prog = native_program(profile.load(str(path)))
    for name in unused:
        if name not in rec.syscalls():
            assert bpf.evaluate(prog, name) in DENIED, name


def test_recorded_profile_denies_what_the_run_did_not_do(tmp_path):
    rec = record.record(["sh", "-c", "ls / | sort"])
    path = tmp_path / "ls.json"
    path.write_text(rec.profile().to_json())
    target = tmp_path / "made"
    r = run_under(path, "sh", "-c", "ls / | sort >/dev/null; mkdir %s" % target)
    assert r.returncode != 0 and not target.exists()
    assert b"Operation not permitted" in r.stderr


I386_GETPID = """
import ctypes, mmap, os
code = bytes([0xb8, 20, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax, 20 (i386 getpid); int 0x80; ret
m = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
m.write(code)
f = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(m)))
assert f() == os.getpid()
"""


@pytest.mark.skipif(NATIVE != Arch.X86_64, reason="i386 syscalls from an x86_64 process")
def test_syscalls_of_another_architecture_are_recorded(tmp_path):
    if subprocess.run([PY, "-c", I386_GETPID], capture_output=True).returncode != 0:
        pytest.skip("this kernel runs no i386 syscalls (no IA32 emulation)")
    rec = record.record([PY, "-c", I386_GETPID])
    assert rec.arches == (Arch.X86_64, Arch.X86)
    assert rec.syscalls(Arch.X86) == {"getpid": 20}
    prof = rec.profile()
    assert prof.architectures == (Arch.X86_64, Arch.X86)
    path = tmp_path / "i386.json"
    path.write_text(prof.to_json())
    r = run_under(path, PY, "-c", I386_GETPID)
    assert r.returncode == 0, r.stderr.decode()
    # the same profile without x86: the i386 syscall is refused (the process is killed)
    native_only = profile.load(dict(prof.to_dict(), architectures=["SCMP_ARCH_X86_64"]))
    assert rec.check(native_only) and all(f.startswith("x86:") for f in rec.check(native_only))


def test_a_failing_recorder_does_not_leave_the_command_hanging():
    # the recording thread's listener fd replaced under it: its next RECV fails, and the
    # command, which nobody would answer any more, is killed and the failure reported
    started = record.start([PY, "-c", "import time; time.sleep(0.5); open(%r).close()"
                            % os.devnull])
    devnull = os.open(os.devnull, os.O_RDONLY)
    try:
        os.dup2(devnull, started._rec.listener)
    finally:
        os.close(devnull)
    with pytest.raises(record.RecordError, match="cannot answer its syscalls"):
        started.wait()


def test_start_returns_while_the_command_runs(tmp_path):
    up, flag = tmp_path / "up", tmp_path / "flag"
    started = record.start(["sh", "-c", "touch %s; while [ ! -e %s ]; do sleep 0.01; done"
                            % (up, flag)])
    assert started.pid > 0 and "sh" in repr(started)
    for _ in range(3000):  # the command runs, answered, while nobody waits for it
        if up.exists():
            break
        time.sleep(0.01)
    assert up.exists() and os.waitpid(started.pid, os.WNOHANG) == (0, 0)
    flag.touch()  # the command ends only now
    rec = started.wait()
    assert rec.returncode == 0 and "wait4" in rec.syscalls()


def test_interrupted_wait_kills_the_command(monkeypatch):
    started = record.start(["sleep", "30"])

    def interrupted(pid, options):
        raise KeyboardInterrupt

    monkeypatch.setattr(record.os, "waitpid", interrupted)
    with pytest.raises(KeyboardInterrupt):
        started.wait()
    monkeypatch.undo()
    _, status = os.waitpid(started.pid, 0)  # killed, not left running
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9


def test_a_dropped_recorder_kills_its_command():
    # nobody waits: when the handle goes, the command is killed (even before its execve was
    # answered, when it holds a listener of its own) and the recorder's thread stopped
    started = record.start(["sleep", "5"])
    pid = started.pid
    del started
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.01)
    assert done == pid and os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9


@pytest.mark.skipif(os.geteuid() != 0, reason="runs as root to become an unprivileged user")
def test_recording_needs_no_privilege():
    from childproc import in_child

    def as_nobody():
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)  # from root: every capability is gone
        assert profile.host_caps() == frozenset()
        rec = record.record(["sh", "-c", "true"])
        return rec.returncode, sorted(rec.syscalls())

    returncode, names = in_child(as_nobody).unwrap()
    assert returncode == 0 and "execve" in names
