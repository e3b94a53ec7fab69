"""The `seccomp` command: run, export, resolve, info.

Every `seccomp run` is a subprocess (`python -m seccomp run ...`), so the filters load there.
Dangerous syscalls are probed with arguments that make them fail harmlessly when allowed
(a bad reboot magic, a NULL module image, a mount on a missing directory), and each denial is
checked against a control run where the syscall is allowed, to prove the EPERM came from the
filter and not from the kernel.
"""
import errno
import json
import os
import subprocess
import sys

import pytest

import seccomp
from seccomp import Arch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
PY = sys.executable

# Calls syscalls given as "NUMBER,ARG,ARG..." (ARG an int, or s:TEXT for a string pointer)
# and prints the errno of each as a JSON list (0 for success).
PROBE = r"""
import ctypes, json, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = []
for spec in sys.argv[1:]:
    nr, *args = spec.split(",")
    cargs = [ctypes.c_char_p(a[2:].encode()) if a.startswith("s:") else ctypes.c_long(int(a, 0))
             for a in args]
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(int(nr)), *cargs)
    out.append(ctypes.get_errno() if rc == -1 else 0)
print(json.dumps(out))
"""

CLONE_NEWUSER = 0x10000000
PROBES = {
    "mount": ("mount", "s:none", "s:/nonexistent-seccomp-test/dir", "s:tmpfs", 0, 0),
    "reboot": ("reboot", 0, 0, 0, 0),                 # bad magic: EINVAL when allowed
    "init_module": ("init_module", 0, 0, "s:"),       # empty image: ENOEXEC/EFAULT when allowed
    "kexec_load": ("kexec_load", 0, 0, 0, 0),
    "bpf": ("bpf", 0x7FFFFFF, 0, 0),                  # unknown command: EINVAL when allowed
    "keyctl": ("keyctl", 0x7FFF, 0, 0, 0, 0),         # unknown command: EOPNOTSUPP when allowed
    "personality_unsafe": ("personality", 0x0040000),  # ADDR_NO_RANDOMIZE
    "personality_query": ("personality", 0xFFFFFFFF),
    "unshare_user": ("unshare", CLONE_NEWUSER),
    "unshare_files": ("unshare", 0x400),              # CLONE_FILES: harmless, allowed
    "setns": ("setns", -1, 0),                        # bad fd: EBADF when allowed
    "clone3": ("clone3", 0, 0),
    "getppid": ("getppid",),
    "socket": ("socket", 1, 1, 0),                    # AF_UNIX, SOCK_STREAM
}


def seccomp_cmd(*args, timeout=60):
    return subprocess.run([PY, "-m", "seccomp", *args], capture_output=True, text=True,
                          cwd=ROOT, env=ENV, timeout=timeout)


def probe(*names, options=()):
    """errno of each probe under `seccomp run OPTIONS`, by name."""
    specs = []
    for name in names:
        call, *args = PROBES[name]
        specs.append(",".join([str(seccomp.syscall_number(call))] + [str(a) for a in args]))
    r = seccomp_cmd("run", *options, "--", PY, "-c", PROBE, *specs)
    assert r.returncode == 0, r.stderr
    return dict(zip(names, json.loads(r.stdout)))


DENIED = ["mount", "reboot", "init_module", "kexec_load", "bpf", "keyctl", "personality_unsafe",
          "unshare_user", "setns"]


# ---------------------------------------------------------------------------------------------
# seccomp run: ordinary commands
# ---------------------------------------------------------------------------------------------

def test_run_ls():
    r = seccomp_cmd("run", "--", "ls", "-la", "/")
    assert r.returncode == 0, r.stderr
    assert "usr" in r.stdout and "etc" in r.stdout


def test_run_python():
    r = seccomp_cmd("run", "--", PY, "-c",
                    "import json, os, subprocess, threading, tempfile\n"
                    "t = threading.Thread(target=print, args=('thread',)); t.start(); t.join()\n"
                    "with tempfile.TemporaryDirectory() as d:\n"
                    "    open(os.path.join(d, 'f'), 'w').write('x')\n"
                    "print(subprocess.run(['echo', 'child'], capture_output=True,\n"
                    "                     text=True).stdout.strip())\n"
                    "print(6 * 7)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["thread", "child", "42"]


def test_run_shell_pipeline_and_exit_status():
    r = seccomp_cmd("run", "--", "sh", "-c",
                    "printf 'b\\na\\nc\\n' | sort | tr a-z A-Z | head -2; exit 7")
    assert r.stdout.split() == ["A", "B"]
    assert r.returncode == 7


def test_run_without_double_dash():
    r = seccomp_cmd("run", "true")
    assert r.returncode == 0, r.stderr


def test_run_errors():
    r = seccomp_cmd("run", "--", "no-such-command-xyz")
    assert r.returncode == 127
    assert "no-such-command-xyz: command not found" in r.stderr
    r = seccomp_cmd("run")
    assert r.returncode == 2 and "no command given" in r.stderr
    r = seccomp_cmd("run", "--profile", "nope", "--", "true")
    assert r.returncode == 1 and "no built-in profile named 'nope'" in r.stderr
    r = seccomp_cmd("run", "--deny", "getpid:ENOPE", "--", "true")
    assert r.returncode == 1 and "unknown errno name 'ENOPE'" in r.stderr
    r = seccomp_cmd("run", "--allow", "opne", "--", "true")
    assert r.returncode == 1 and "syscall 'opne' is not known" in r.stderr
    r = seccomp_cmd("run", "--cap", "sys admin", "--", "true")
    assert r.returncode == 1 and "unknown capability" in r.stderr


def test_run_reports_an_invalid_profile_by_place(tmp_path):
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getpid"], "action": "SCMP_ACT_ERRNO",
         "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQQ"}]}]}))
    r = seccomp_cmd("run", "--profile", str(bad), "--", "true")
    assert r.returncode == 1
    assert 'syscalls[0].args[0].op: unknown operator "SCMP_CMP_EQQ"' in r.stderr


def test_run_custom_profile_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errno": "EXDEV"}]}))
    got = probe("getppid", options=("--profile", str(path)))
    assert got["getppid"] == errno.EXDEV


# ---------------------------------------------------------------------------------------------
# seccomp run: what the default profile denies, and what --cap / --allow / --deny change
# ---------------------------------------------------------------------------------------------

def test_unshare_user_command_is_denied():
    r = seccomp_cmd("run", "--", "unshare", "--user", "true")
    assert r.returncode != 0
    assert "Operation not permitted" in r.stderr


def test_mount_command_is_denied(tmp_path):
    try:
        r = seccomp_cmd("run", "--", "mount", "-t", "tmpfs", "none", str(tmp_path))
        assert r.returncode != 0
        assert "ermission denied" in r.stderr or "not permitted" in r.stderr, r.stderr
        assert not os.path.ismount(str(tmp_path))
    finally:
        if os.path.ismount(str(tmp_path)):      # only if the filter failed
            subprocess.run(["umount", str(tmp_path)])


def test_default_profile_denies_with_eperm():
    got = probe(*DENIED, "personality_query", "unshare_files", "clone3", "socket")
    for name in DENIED:
        assert got[name] == errno.EPERM, (name, got)
    assert got["personality_query"] == 0
    assert got["unshare_files"] == errno.EPERM  # unshare needs CAP_SYS_ADMIN, as under Docker
    # so libc falls back to clone, whose flags are checked
    assert got["clone3"] == errno.ENOSYS
    assert got["socket"] == 0


def test_the_eperm_came_from_the_filter():
    """Allowed by --allow, the same calls fail differently (or succeed): the kernel itself
    would not have said EPERM."""
    opts = []
    for name in ("mount", "reboot", "bpf", "keyctl", "setns", "personality"):
        opts += ["--allow", name]
    got = probe("mount", "reboot", "bpf", "keyctl", "setns", "personality_unsafe", options=opts)
    assert got == {"mount": errno.ENOENT, "reboot": errno.EINVAL, "bpf": errno.EINVAL,
                   "keyctl": errno.EOPNOTSUPP, "setns": errno.EBADF, "personality_unsafe": 0}


def test_module_and_kexec_when_allowed():
    got = probe("init_module", "kexec_load", options=("--allow", "init_module",
                                                      "--allow", "kexec_load"))
    if got["init_module"] == errno.EPERM:
        pytest.skip("the kernel itself refuses module loading here (modules_disabled)")
    assert got["init_module"] != errno.EPERM
    # kexec_load may be refused by the kernel too (kexec_load_disabled): only check it ran
    assert got["kexec_load"] in (errno.EPERM, errno.EINVAL, errno.ENOSYS, errno.EBUSY, 0)


def test_cap_sys_admin_re_allows():
    got = probe("mount", "bpf", "setns", "unshare_user", "clone3", "keyctl", "reboot",
                options=("--cap", "CAP_SYS_ADMIN"))
    assert got["mount"] == errno.ENOENT
    assert got["bpf"] == errno.EINVAL
    assert got["setns"] == errno.EBADF
    assert got["unshare_user"] == 0
    assert got["clone3"] not in (errno.EPERM, errno.ENOSYS)   # really called (EFAULT/EINVAL)
    assert got["keyctl"] == errno.EPERM                       # never allowed
    assert got["reboot"] == errno.EPERM                       # needs CAP_SYS_BOOT


def test_cap_sys_admin_runs_unshare_user():
    r = seccomp_cmd("run", "--cap", "sys_admin", "--", "unshare", "--user", "true")
    assert r.returncode == 0, r.stderr


def test_other_capabilities():
    got = probe("reboot", "init_module", "mount", options=("--cap", "CAP_SYS_BOOT",
                                                           "--cap", "CAP_SYS_MODULE"))
    assert got["reboot"] == errno.EINVAL                       # bad magic: it ran
    assert got["init_module"] != errno.EPERM or _modules_disabled()
    assert got["mount"] == errno.EPERM


def _modules_disabled():
    try:
        with open("/proc/sys/kernel/modules_disabled") as fh:
            return fh.read().strip() == "1"
    except OSError:
        return False


def test_deny_with_errno_names_numbers_and_groups():
    got = probe("getppid", "socket", options=("--deny", "getppid:EXDEV", "--deny", "@network-io"))
    assert got == {"getppid": errno.EXDEV, "socket": errno.EPERM}
    got = probe("getppid", "socket", options=("--deny", "getppid:%d" % errno.ENOTTY,
                                              "--deny", "socket:EACCES"))
    assert got == {"getppid": errno.ENOTTY, "socket": errno.EACCES}


def test_allow_a_group():
    got = probe("mount", options=("--allow", "@mount"))
    assert got["mount"] == errno.ENOENT


def test_verbose_reports_skipped_names(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid", "not_a_syscall_xyz"], "action": "SCMP_ACT_ERRNO"}]}))
    r = seccomp_cmd("run", "-v", "--profile", str(path), "--", "true")
    assert r.returncode == 0
    assert "not_a_syscall_xyz" in r.stderr


# ---------------------------------------------------------------------------------------------
# export, resolve, info, help
# ---------------------------------------------------------------------------------------------

def test_export_formats(tmp_path):
    r = seccomp_cmd("export", "--format", "oci")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["defaultAction"] == "SCMP_ACT_ERRNO"
    assert "archMap" not in data
    assert data["architectures"][0] == "SCMP_ARCH_" + str(Arch.native()).upper()
    names = {n for e in data["syscalls"] for n in e["names"]}
    assert "read" in names and "sethostname" not in names      # resolved for a container
    r = seccomp_cmd("export", "--format", "oci", "--cap", "CAP_SYS_ADMIN")
    assert "sethostname" in {n for e in json.loads(r.stdout)["syscalls"] for n in e["names"]}
    out = tmp_path / "f.bpf"
    r = seccomp_cmd("export", "--format", "bpf", "-o", str(out))
    assert r.returncode == 0 and out.stat().st_size % 8 == 0 and out.stat().st_size > 800
    r = seccomp_cmd("export", "--format", "pfc", "--arch", "aarch64")
    assert r.returncode == 0 and "filter for arch aarch64" in r.stdout
    assert "filter for arch x86_64" not in r.stdout
    r = seccomp_cmd("export", "-o", "/nonexistent-dir/f.bpf")
    assert r.returncode == 1 and "cannot write /nonexistent-dir/f.bpf" in r.stderr
    r = seccomp_cmd("export", "--arch", "vax")
    assert r.returncode == 1 and "unknown architecture 'vax'" in r.stderr
    r = seccomp_cmd("export", "--format", "oci", "--kernel", "4.4", "--arch", "x86_64")
    assert "ptrace" not in {n for e in json.loads(r.stdout)["syscalls"] for n in e["names"]}


def test_export_oci_loads_back_and_runs(tmp_path):
    r = seccomp_cmd("export", "--format", "oci", "--deny", "getppid:EXDEV")
    path = tmp_path / "oci.json"
    path.write_text(r.stdout)
    got = probe("getppid", "mount", options=("--profile", str(path)))
    assert got == {"getppid": errno.EXDEV, "mount": errno.EPERM}


@pytest.mark.skipif(Arch.native() != Arch.X86_64, reason="numbers are x86_64's")
def test_resolve():
    r = seccomp_cmd("resolve", "openat", "59")
    assert r.returncode == 0 and r.stdout.splitlines() == ["openat 257", "execve 59"]
    r = seccomp_cmd("resolve", "--arch", "aarch64", "openat")
    assert r.stdout.split() == ["openat", "56"]
    r = seccomp_cmd("resolve", "@swap")
    assert r.stdout.split() == ["swapoff", "swapon"]
    r = seccomp_cmd("resolve", "opne")
    assert r.returncode == 1 and "syscall 'opne' is not known" in r.stderr


def test_info():
    r = seccomp_cmd("info")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["libseccomp"]["version"] == ".".join(map(str, seccomp.library_version()))
    assert data["libseccomp"]["apiLevel"] == seccomp.api_level()
    sc = data["seccomp"]
    assert sc["enabled"] is True
    assert {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL_PROCESS"} <= set(sc["actions"])
    assert "SCMP_CMP_MASKED_EQ" in sc["operators"]
    assert "SCMP_ARCH_X86_64" in sc["archs"]
    assert set(sc["supportedFlags"]) <= set(sc["knownFlags"])
    assert "SECCOMP_FILTER_FLAG_TSYNC" in sc["supportedFlags"]
    assert "default" in data["profiles"] and "@system-service" in data["groups"]


def test_help():
    r = seccomp_cmd("--help")
    assert r.returncode == 0
    for cmd in ("run", "export", "resolve", "info"):
        assert cmd in r.stdout
    r = seccomp_cmd("run", "--help")
    assert "--cap" in r.stdout and "--deny" in r.stdout and "exit status" in r.stdout


# ---------------------------------------------------------------------------------------------
# SCMP_ACT_NOTIFY: the listener fd goes to the OCI seccomp agent at listenerPath
# ---------------------------------------------------------------------------------------------

def test_notify_profile_hands_the_listener_to_the_agent(tmp_path):
    import array
    import socket

    if not seccomp.action_available(seccomp.Action.NOTIFY):
        pytest.skip("the kernel has no SECCOMP_RET_USER_NOTIF")
    sock_path = str(tmp_path / "agent.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(sock_path)
    server.listen(1)
    server.settimeout(30)
    prof = tmp_path / "notify.json"
    prof.write_text(json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": sock_path,
        "listenerMetadata": "hello agent",
        "syscalls": [{"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}))
    spec = str(seccomp.syscall_number("getppid"))
    proc = subprocess.Popen([PY, "-m", "seccomp", "run", "--profile", str(prof), "--",
                             PY, "-c", PROBE, spec], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)
    try:
        conn, _ = server.accept()
        fds = array.array("i")
        msg, ancdata, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(fds.itemsize))
        conn.close()
        for level, kind, data in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
        state = json.loads(msg)
        assert state["fds"] == ["seccompFd"] and len(fds) == 1
        assert state["metadata"] == "hello agent"
        assert state["pid"] == state["state"]["pid"] and state["state"]["status"] == "creating"
        assert os.readlink("/proc/self/fd/%d" % fds[0]) == "anon_inode:seccomp notify"
        os.close(fds[0])         # the agent goes away: the notified syscall fails with ENOSYS
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        server.close()
    assert proc.returncode == 0, err
    assert json.loads(out) == [errno.ENOSYS]


def test_notify_profile_without_agent(tmp_path):
    prof = tmp_path / "notify.json"
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}))
    r = seccomp_cmd("run", "--profile", str(prof), "--", "true")
    assert r.returncode == 2 and "sets no listenerPath" in r.stderr
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW",
                                "listenerPath": str(tmp_path / "nobody.sock"), "syscalls": [
                                    {"names": ["getppid"], "action": "SCMP_ACT_NOTIFY"}]}))
    r = seccomp_cmd("run", "--profile", str(prof), "--", "true")
    assert r.returncode == 1 and "cannot connect to the seccomp agent" in r.stderr
