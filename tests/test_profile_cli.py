"""The `seccomp` command's profile handling: built-in names versus files, capabilities from a
config.json, unknown capabilities, syscalls this libseccomp does not know (stderr warnings,
--strict). Each command runs in a fresh interpreter, in a directory of the test's choosing.
"""
import errno
import json
import os
import pathlib
import subprocess
import sys

import pytest

import seccomp

ROOT = pathlib.Path(__file__).parent.parent
ALLOW_ALL = '{"defaultAction": "SCMP_ACT_ALLOW"}'


def seccomp_cmd(*args, cwd):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "seccomp", *args], capture_output=True,
                          text=True, cwd=str(cwd), env=env, timeout=120)


@pytest.fixture
def trap_dir(tmp_path):
    """A working directory with files named like the built-in profile."""
    (tmp_path / "default").write_text(ALLOW_ALL)
    (tmp_path / "default.json").write_text(ALLOW_ALL)
    return tmp_path


def test_every_command_reads_a_bare_name_as_the_builtin_profile(trap_dir, tmp_path_factory):
    clean = tmp_path_factory.mktemp("clean")
    for args in (["export", "--format", "oci"], ["export", "--format", "pfc"],
                 ["check", "unshare", "0x10000000"], ["explain"], ["disasm"]):
        for profile_args in ([], ["--profile", "default"]):
            here = seccomp_cmd(*args, *profile_args, cwd=trap_dir)
            there = seccomp_cmd(*args, *profile_args, cwd=clean)
            assert here.returncode == 0, (args, here.stderr)
            assert here.stdout == there.stdout, args
    check = seccomp_cmd("check", "unshare", "0x10000000", cwd=trap_dir)
    assert check.stdout.strip() == "ERRNO(1)"
    # a path names the file
    mine = seccomp_cmd("check", "--profile", "./default", "unshare", "0x10000000", cwd=trap_dir)
    assert mine.returncode == 0 and mine.stdout.strip() == "ALLOW"


def test_run_with_a_file_named_default_in_the_directory(trap_dir):
    r = seccomp_cmd("run", "--", sys.executable, "-c",
                    "import ctypes, os; libc = ctypes.CDLL(None, use_errno=True);"
                    "rc = libc.unshare(0x10000000); print(rc, ctypes.get_errno())",
                    cwd=trap_dir)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["-1", str(errno.EPERM)]


def test_unknown_builtin_names_and_missing_files(trap_dir):
    r = seccomp_cmd("export", "--profile", "nope", cwd=trap_dir)
    assert r.returncode == 1
    assert "no built-in profile named 'nope' (built-in profiles: default)" in r.stderr
    r = seccomp_cmd("export", "--profile", "default.json", cwd=trap_dir)
    assert r.returncode == 1 and "name it by a path: ./default.json" in r.stderr
    r = seccomp_cmd("check", "--profile", "./missing.json", "getpid", cwd=trap_dir)
    assert r.returncode == 1 and "cannot read profile './missing.json'" in r.stderr
    assert "Traceback" not in r.stderr


def test_unknown_capability_names_are_refused(tmp_path):
    r = seccomp_cmd("export", "--cap", "CAP_SYS_ADMN", cwd=tmp_path)
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "unknown capability 'CAP_SYS_ADMN' (did you mean CAP_SYS_ADMIN?)" in r.stderr


def test_a_config_json_profile_resolves_for_its_bounding_capabilities(tmp_path):
    config = {"ociVersion": "1.0.2", "process": {"capabilities": {
        "bounding": ["CAP_SYS_ADMIN"], "effective": []}},
        "linux": {"seccomp": json.loads((ROOT / "tests/profiles/docker_default.json").read_text())}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    r = seccomp_cmd("check", "--profile", "./config.json", "mount", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.strip() == "ALLOW", r.stderr
    del config["process"]["capabilities"]["bounding"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    r = seccomp_cmd("check", "--profile", "./config.json", "mount", cwd=tmp_path)
    assert r.stdout.strip() == "ERRNO(1)"


def _newest_unknown():
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    for name in ("mseal", "listmount", "setxattrat"):
        try:
            seccomp.syscall_number(name)
        except seccomp.InvalidArgumentError:
            if str(seccomp.Arch.native()) in NEWER_SYSCALLS[name]:
                return name
    pytest.skip("this libseccomp knows the newest syscalls")


@pytest.mark.skipif(seccomp.Arch.native() != seccomp.Arch.X86_64, reason="x86 compat arch")
def test_skipped_deny_rules_warn_on_stderr_every_time_and_strict_refuses(tmp_path):
    name = _newest_unknown()
    (tmp_path / "p.json").write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
        "syscalls": [{"names": [name, "no_such_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]}))
    for _ in range(2):
        r = seccomp_cmd("export", "--profile", "./p.json", "--format", "pfc", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        assert "warning" in r.stderr and "no_such_syscall_xyz" in r.stderr
        assert "%s (ERRNO(1)) on x86" % name in r.stderr
    r = seccomp_cmd("export", "--profile", "./p.json", "--strict", cwd=tmp_path)
    assert r.returncode == 1 and "refused" in r.stderr and r.stdout == ""
    r = seccomp_cmd("run", "--profile", "./p.json", "--strict", "--", "true", cwd=tmp_path)
    assert r.returncode == 1 and "refused" in r.stderr
    # --deny of a syscall this libseccomp does not know: from the newer table, no warning on
    # the native architecture, and the kernel applies it
    r = seccomp_cmd("run", "--profile", "./p.json", "--deny", "%s:EXDEV" % name, "--",
                    sys.executable, "-c",
                    "import ctypes; libc = ctypes.CDLL(None, use_errno=True);"
                    "print(libc.syscall(%d, 0, 0, 0), ctypes.get_errno())"
                    % _number(name), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["-1", str(errno.EXDEV)]


def _number(name):
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    return NEWER_SYSCALLS[name][str(seccomp.Arch.native())]


@pytest.mark.skipif(seccomp.Arch.native() != seccomp.Arch.X86_64, reason="x86_64 numbers")
def test_run_default_profile_current_syscalls_and_docker_s_denials(tmp_path):
    """Under `seccomp run` (the default profile): fchmodat2 (452) changes a file's mode, and
    socket(AF_ALG), socket(AF_VSOCK), kcmp (312) fail with EPERM, as under Docker."""
    target = tmp_path / "f"
    target.write_text("")
    target.chmod(0o600)
    code = ("import ctypes, os, socket; libc = ctypes.CDLL(None, use_errno=True)\n"
            "def call(nr, *a):\n"
            "    ctypes.set_errno(0); rc = libc.syscall(nr, *a)\n"
            "    return 0 if rc >= 0 else ctypes.get_errno()\n"
            "print(call(452, -100, %r.encode(), 0o640, 0),"
            " call(41, 38, socket.SOCK_SEQPACKET, 0), call(41, 40, socket.SOCK_STREAM, 0),"
            " call(312, os.getpid(), os.getpid(), 0, 0, 0))" % str(target))
    r = seccomp_cmd("run", "--", sys.executable, "-c", code, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    fchmodat2, alg, vsock, kcmp = map(int, r.stdout.split())
    assert (alg, vsock, kcmp) == (errno.EPERM,) * 3
    if fchmodat2 != errno.ENOSYS:                      # a kernel older than 6.6 lacks it
        assert fchmodat2 == 0 and target.stat().st_mode & 0o777 == 0o640
