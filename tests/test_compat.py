"""Drop-in compatibility with libseccomp's own Python module (Debian's python3-seccomp).

The scripts of tests/compat_cases.py run unchanged under that module (the system interpreter)
and under this package; the PFC text, BPF bytes and values they see must be the same, and
where that module raises, this package raises something its callers catch the same way."""
import errno
import os
import json
import subprocess
import sys

import pytest

import seccomp
from seccomp import SyscallFilter, bpf

from childproc import in_child
from kernel import syscall

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = "/usr/bin/python3"
# The libseccomp version the reference module runs with (it links the system's library).
LIBRARY_VERSION = """
import ctypes, seccomp
lib = ctypes.CDLL("libseccomp.so.2")
lib.seccomp_version.restype = ctypes.POINTER(ctypes.c_uint)
v = lib.seccomp_version()
print(v[0], v[1], v[2])
"""

def _run(python, env):
    done = subprocess.run([python, os.path.join(HERE, "compat_cases.py")], capture_output=True,
                          text=True, timeout=120, env=env, cwd="/")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def results():
    probe = subprocess.run([REFERENCE, "-c", LIBRARY_VERSION], capture_output=True, text=True,
                           cwd="/") if os.path.exists(REFERENCE) else None
    if probe is None or probe.returncode != 0:
        pytest.skip("libseccomp's Python module (python3-seccomp) is not importable by %s"
                    % REFERENCE)
    theirs_lib = tuple(map(int, probe.stdout.split()))
    if theirs_lib != seccomp.library_version():
        pytest.skip("that module links libseccomp %s, this package %s: filters are only "
                    "comparable from the same library" % (theirs_lib, seccomp.library_version()))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    theirs = _run(REFERENCE, env)
    ours = _run(sys.executable, dict(env, PYTHONPATH=ROOT))
    return theirs, ours


def _cases():
    sys.path.insert(0, HERE)
    import compat_cases
    return sorted(compat_cases.CASES)


# Where that module's program does not implement the rules, ours differs on purpose (each
# filter is checked against its rules, seccomp.bpf.model): the case, and a syscall on which the
# rules and that module's program disagree: (arch, syscall, args, what the rules say).
DIFFERS = {
    # x32 syscalls get 64-bit arguments; libseccomp compares only their low halves there
    "arches": ("x32", "write", (0x100000002,), seccomp.ERRNO(errno.ENOSYS)),
}


@pytest.mark.parametrize("name", _cases())
def test_same_results_as_libseccomps_module(results, name):
    theirs, ours = results[0][name], results[1][name]
    if "error" in theirs:
        assert "error" in ours, "that module raises %s; ours did not" % theirs["error"]
        assert theirs["error"] in ours["bases"] or theirs["error"] == "OverflowError" and \
            "ValueError" in ours["bases"], (theirs, ours)
    else:
        assert "error" not in ours, ours
    assert len(theirs["out"]) == len(ours["out"])
    for (key, want), (key2, got) in zip(theirs["out"], ours["out"]):
        assert key == key2
        if key == "bpf" and name in DIFFERS and got != want:
            arch, syscall, args, rules_say = DIFFERS[name]
            assert bpf.evaluate(bytes.fromhex(got), syscall, args, arch=arch) == rules_say
            assert bpf.evaluate(bytes.fromhex(want), syscall, args, arch=arch) != rules_say
            continue
        assert got == want, "%s: %r != %r" % (key, got, want)


def test_reset_keeps_the_default_action():
    f = SyscallFilter(seccomp.ERRNO(3))
    f.add_rule(seccomp.ALLOW, "read")
    f.reset()
    assert f.get_attr(seccomp.Attr.ACT_DEFAULT) == seccomp.ERRNO(3)


def test_merged_away_filter_raises_instead_of_crashing():
    f, g = SyscallFilter(seccomp.ALLOW), SyscallFilter(seccomp.ALLOW)
    g.remove_arch(seccomp.Arch.NATIVE)
    g.add_arch(seccomp.Arch.X86)
    f.merge(g)
    with pytest.raises(RuntimeError, match="merged"):
        g.add_rule(seccomp.ERRNO(1), "read")
    with pytest.raises(TypeError):
        f.merge(None)


def test_tsync_is_off_by_default_as_there():
    assert SyscallFilter(seccomp.ALLOW).get_attr(seccomp.Attr.CTL_TSYNC) == 0
    assert seccomp.Filter(seccomp.ALLOW).tsync


def test_export_bpf_mem_matches_export_bpf():
    f = SyscallFilter(seccomp.ALLOW)
    f.add_rule(seccomp.ERRNO(1), "read", seccomp.Arg(0, seccomp.EQ, 5))
    r, w = os.pipe()
    with os.fdopen(w, "wb") as out:
        f.export_bpf(out)
    with os.fdopen(r, "rb") as inp:
        assert f.export_bpf_mem() == inp.read()


def test_transactions_commit_and_reject():
    f = SyscallFilter(seccomp.ALLOW)
    f.add_rule(seccomp.ERRNO(1), "read")
    before = f.export_bpf_mem()
    f.start_transaction()
    f.add_rule(seccomp.ERRNO(2), "write")
    f.add_arch(seccomp.Arch.X86)
    f.set_attr(seccomp.Attr.CTL_NNP, 0)
    f.reject_transaction()
    assert f.export_bpf_mem() == before
    assert not f.exist_arch(seccomp.Arch.X86)
    assert f.get_attr(seccomp.Attr.CTL_NNP) == 1
    f.start_transaction()
    f.add_rule(seccomp.ERRNO(2), "write")
    f.start_transaction()                       # nested
    f.add_rule(seccomp.ERRNO(3), "close")
    f.reject_transaction()
    f.commit_transaction()
    pfc = f.export_pfc()
    assert "ERRNO(2)" in pfc and "ERRNO(3)" not in pfc
    with pytest.raises(ValueError, match="no transaction"):
        f.commit_transaction()


def _load_and_call(f, name):
    f.load()
    return syscall(name)[1]


def test_precompute_then_load_gives_the_same_filter():
    f = SyscallFilter(seccomp.ALLOW)
    f.add_rule(seccomp.ERRNO(errno.EPERM), "getppid")
    f.precompute()
    assert in_child(_load_and_call, f, "getppid").unwrap() == errno.EPERM
    f.add_rule(seccomp.ERRNO(errno.EACCES), "getpgrp")   # a change drops the precomputed one
    assert in_child(_load_and_call, f, "getpgrp").unwrap() == errno.EACCES


REFERENCE_PROGRAM = """
import errno, ctypes, os, sys
from seccomp import *
f = SyscallFilter(ALLOW)
f.add_rule(ERRNO(errno.EPERM), "getppid")
f.add_rule(ERRNO(errno.EACCES), "getpgid", Arg(0, EQ, 4242))
f.add_rule(KILL_PROCESS, "getpgrp")
f.load()
libc = ctypes.CDLL(None, use_errno=True)
for name, args in (("getppid", ()), ("getpgid", (4242,)), ("getpgid", (0,))):
    rc = libc.syscall(resolve_syscall(Arch(), name), *args)
    print(name, rc if rc >= 0 else -ctypes.get_errno())
sys.stdout.flush()
os.getpgrp()
print("not reached")
"""


def test_program_written_for_that_module_gets_the_same_kernel_behaviour(results):
    outputs = []
    for python, extra in ((REFERENCE, {}), (sys.executable, {"PYTHONPATH": ROOT})):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(extra)
        done = subprocess.run([python, "-c", REFERENCE_PROGRAM], capture_output=True,
                              text=True, timeout=60, env=env, cwd="/")
        outputs.append((done.returncode, done.stdout))
    assert outputs[0] == outputs[1]
    code, text = outputs[1]
    assert code == -31                                  # SIGSYS from KILL_PROCESS
    assert "getppid -%d" % errno.EPERM in text and "getpgid -%d" % errno.EACCES in text
    assert "not reached" not in text


SUPERVISOR_PROGRAM = """
import os
from seccomp import *
f = SyscallFilter(ALLOW)
f.add_rule(NOTIFY, "getppid")
f.load()
pid = os.fork()
if pid == 0:
    import ctypes
    os._exit(ctypes.CDLL(None).syscall(resolve_syscall(Arch(), "getppid")) & 0xFF)
n = f.receive_notify()
print(n.pid == pid, n.syscall == resolve_syscall(Arch(), "getppid"), n.flags,
      n.syscall_arch & 0xFFFFFFFF == system_arch() & 0xFFFFFFFF, len(n.syscall_args))
f.respond_notify(NotificationResponse(n, 42, 0, 0))
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), f.get_notify_fd() >= 0)
"""


def test_supervisor_written_for_that_module_works_the_same(results):
    outputs = []
    for python, extra in ((REFERENCE, {}), (sys.executable, {"PYTHONPATH": ROOT})):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        env.update(extra)
        done = subprocess.run([python, "-c", SUPERVISOR_PROGRAM], capture_output=True,
                              text=True, timeout=60, env=env, cwd="/")
        outputs.append((done.returncode, done.stdout, done.stderr[-300:]))
    assert outputs[0] == outputs[1]
    assert outputs[1][:2] == (0, "True True 0 True 6\n42 True\n")
