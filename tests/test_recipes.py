"""The recipes of docs/recipes.rst, run: bubblewrap with a filter from `seccomp export`,
a Docker/Podman profile file, and the systemd groups on the command line."""
import errno
import json
import os
import shutil
import subprocess
import sys

import pytest

from seccomp import Action, bpf, profile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
CLONE_NEWUSER = 0x10000000

# Prints the errno of unshare(CLONE_NEWUSER) and of getppid() (0: allowed).
PROBE = r"""
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
ctypes.set_errno(0)
unshare = ctypes.get_errno() if libc.unshare(0x10000000) == -1 else 0
ppid = libc.getppid()  # glibc returns the raw result: -errno when the filter denies it
print(unshare, -ppid if ppid < 0 else 0)
"""


def seccomp_cmd(*args, **kw):
    return subprocess.run([sys.executable, "-m", "seccomp", *args], capture_output=True,
                          env=ENV, timeout=120, **kw)


def test_bubblewrap_loads_the_exported_filter(tmp_path):
    if shutil.which("bwrap") is None:
        pytest.skip("bubblewrap is not installed (tools/setup.sh installs it)")
    base = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    trial = subprocess.run(base + ["true"], capture_output=True, text=True, timeout=60)
    if trial.returncode != 0:
        pytest.skip("bwrap cannot make a sandbox here: %s" % trial.stderr.strip())
    path = tmp_path / "filter.bpf"
    r = seccomp_cmd("export", "--format", "bpf", "--deny", "getppid:EXDEV", "-o", str(path))
    assert r.returncode == 0, r.stderr
    probe = [sys.executable, "-c", PROBE]
    with open(path, "rb") as fh:
        fd = fh.fileno()
        done = subprocess.run(base + ["--seccomp", str(fd), "--"] + probe, pass_fds=[fd],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    # getppid's EXDEV can only come from the filter; unshare(CLONE_NEWUSER) is denied
    assert done.stdout.split() == [str(errno.EPERM), str(errno.EXDEV)]
    done = subprocess.run(base + ["--"] + probe, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.split()[1] == "0"  # the control: no filter


def test_docker_profile_file(tmp_path):
    """No engine here: the file `--security-opt seccomp=FILE` gets is checked instead: the
    engines' schema, and the same answers as the profile it came from."""
    path = tmp_path / "profile.json"
    r = seccomp_cmd("export", "--format", "oci", "--deny", "@mount", "-o", str(path))
    assert r.returncode == 0, r.stderr
    data = json.loads(path.read_text())
    assert data["defaultAction"].startswith("SCMP_ACT_")
    assert all(set(rule) <= {"names", "action", "args", "errnoRet", "comment", "includes",
                             "excludes"} and rule["names"] for rule in data["syscalls"])
    program = profile.load(str(path)).compile().export_bpf()
    assert bpf.evaluate(program, "mount") == Action.ERRNO(errno.EPERM)
    assert bpf.evaluate(program, "unshare", [CLONE_NEWUSER]) == Action.ERRNO(errno.EPERM)
    assert bpf.evaluate(program, "read") == Action.ALLOW
    r = seccomp_cmd("check", "--profile", str(path), "--expect", "ALLOW", "read")
    assert r.returncode == 0, r.stderr


def test_systemd_groups_on_the_command_line():
    r = seccomp_cmd("check", "--deny", "@mount", "--expect", "ERRNO(EPERM)", "mount")
    assert r.returncode == 0, r.stderr
    r = seccomp_cmd("check", "--deny", "@mount", "--expect", "ALLOW", "read")
    assert r.returncode == 0, r.stderr
    r = seccomp_cmd("resolve", "@mount", text=True)
    assert r.returncode == 0 and set(r.stdout.split()) == set(profile.expand("@mount"))
