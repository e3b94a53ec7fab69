"""The record, dump and diff subcommands, run as a user runs them."""
import json
import os
import subprocess
import sys
import time

import pytest

import seccomp
from seccomp import Action, Filter
from seccomp.profile import host_caps

PY = sys.executable
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT)
notify = pytest.mark.skipif(not seccomp.action_available(Action.NOTIFY),
                            reason="the kernel has no seccomp user notification")


def cmd(*args, timeout=60):
    return subprocess.run([PY, "-m", "seccomp", *args], capture_output=True, text=True,
                          cwd=ROOT, env=ENV, timeout=timeout)


@notify
def test_record_writes_a_profile_the_command_runs_under(tmp_path):
    out = tmp_path / "p.json"
    r = cmd("record", "-o", str(out), "--args", "--", "sh", "-c", "echo hello; exit 5")
    assert r.returncode == 5 and r.stdout == "hello\n"
    assert "syscalls on" in r.stderr and str(out) in r.stderr
    data = json.loads(out.read_text())
    assert data["defaultAction"] == "SCMP_ACT_ERRNO"
    run = cmd("run", "--profile", str(out), "--", "sh", "-c", "echo hello; exit 5")
    assert (run.returncode, run.stdout) == (5, "hello\n"), run.stderr


@notify
def test_record_oci_to_stdout_and_merge(tmp_path):
    r = cmd("record", "--format", "oci", "--", "true")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert "comment" not in data and all("includes" not in s for s in data["syscalls"])
    first = tmp_path / "first.json"
    first.write_text(r.stdout)
    merged = cmd("record", "--merge", str(first), "-o", str(first), "--", "sh", "-c",
                 "mkdir %s" % (tmp_path / "d"))
    assert merged.returncode == 0, merged.stderr
    names = {n for s in json.loads(first.read_text())["syscalls"] for n in s["names"]}
    assert {"mkdir", "mkdirat"} & names and "execve" in names


def test_record_usage_errors():
    assert cmd("record").returncode == 2
    r = cmd("record", "--", "no-such-command-xyz")
    assert r.returncode == 127 and "command not found" in r.stderr and "Traceback" not in r.stderr


def test_diff_exit_status_and_json(tmp_path):
    same = cmd("diff", "default", "default")
    assert same.returncode == 0 and "no difference" in same.stdout
    data = json.load(open(os.path.join(ROOT, "seccomp", "profile", "default.json")))
    for rule in data["syscalls"]:
        if "getpid" in rule["names"] and not rule.get("args"):
            rule["names"].remove("getpid")
            break
    changed = tmp_path / "changed.json"
    changed.write_text(json.dumps(data))
    r = cmd("diff", "default", str(changed), "--json")
    assert r.returncode == 1
    changes = json.loads(r.stdout)["changes"]
    assert {c["syscall"] for c in changes} == {"getpid"}
    assert {c["arch"] for c in changes} == set(json.loads(r.stdout)["arches"])
    r = cmd("diff", "--arch", "aarch64", "default", str(changed))
    assert r.returncode == 1 and "aarch64" in r.stdout and "getpid" in r.stdout
    bad = cmd("diff", "default", str(tmp_path / "missing.json"))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.skipif("CAP_SYS_ADMIN" not in host_caps(), reason="needs CAP_SYS_ADMIN")
def test_dump_formats(tmp_path):
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "mkdirat")
    program = f.compile()
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            program.load()
            os.write(w, b"x")
            time.sleep(30)
        finally:
            os._exit(0)
    os.close(w)
    os.read(r, 1)
    try:
        out = tmp_path / "f.bpf"
        assert cmd("dump", str(pid), "--format", "bpf", "-o", str(out)).returncode == 0
        assert out.read_bytes() == program.bpf
        listing = cmd("dump", str(pid), "--format", "disasm")
        assert listing.returncode == 0 and "mkdirat" in listing.stdout
        explained = cmd("dump", str(pid))
        assert "mkdirat" in explained.stdout and "ERRNO(1)" in explained.stdout
        assert cmd("dump", str(pid), "--index", "3").returncode == 1
        # the dump compared with what was loaded: no difference
        assert cmd("diff", str(out), str(out)).returncode == 0
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def test_dump_errors():
    r = cmd("dump", "999999999")
    assert r.returncode == 1 and "Traceback" not in r.stderr


def test_diff_resolves_profiles_for_the_capabilities_given(tmp_path):
    data = json.load(open(os.path.join(ROOT, "seccomp", "profile", "default.json")))
    data["syscalls"] = [r for r in data["syscalls"]
                        if "CAP_SYS_ADMIN" not in r.get("includes", {}).get("caps", [])]
    path = tmp_path / "no-admin-rules.json"
    path.write_text(json.dumps(data))
    assert cmd("diff", "default", str(path)).returncode == 0  # an unprivileged container
    r = cmd("diff", "--cap-add", "SYS_ADMIN", "default", str(path))
    assert r.returncode == 1 and "mount" in r.stdout
    assert cmd("diff", "--caps", "all", "--cap-drop", "SYS_ADMIN", "default",
               str(path)).returncode == 0


# Command lines record parses itself (no argparse) and those it leaves to argparse: what it
# parses must be exactly what argparse gives.
QUICK_LINES = [
    ["record", "--", "true"], ["record", "true", "-x", "--args"], ["record", "-", "a"],
    ["record", "-o", "x.json", "--args", "--", "true"], ["record", "-ox.json", "--", "a"],
    ["record", "--output=x", "--format=oci", "sh", "-c", "exit 1"], ["record", ""],
    ["record", "--format", "oci", "--merge", "m.json", "--", "--", "true"],
    ["record", "-o", "-", "--output", "y", "true"], ["record", "--args"], ["record"],
    ["record", "--merge=", "true"], ["record", "-o", "a b", "true"],
]
ARGPARSE_LINES = [
    ["record", "--arg", "true"], ["record", "--out", "x", "true"], ["record", "-h"],
    ["record", "--format", "xml", "true"], ["record", "-o"], ["record", "-o", "--args", "t"],
    ["record", "-x", "true"], ["record", "-o=x", "true"], ["record", "--format=", "true"],
    ["record", "-o", "-1", "true"], ["record", "--args=1", "true"], ["record", "--help"],
]


@pytest.mark.parametrize("argv", QUICK_LINES)
def test_record_parses_its_common_forms_as_argparse_does(argv):
    from seccomp.cli import build_parser
    from seccomp.cli.common import CommandError, command_argv
    from seccomp.cli.record import quick_args

    quick = vars(quick_args(argv))
    full = vars(build_parser(argv).parse_args(argv))

    def command(values):  # argparse versions differ in what they keep of "--"
        try:
            return command_argv(type("A", (), values), "")
        except CommandError as exc:
            return exc.status

    assert command(quick) == command(full)
    del quick["command"], full["command"]
    assert quick == full


@pytest.mark.parametrize("argv", ARGPARSE_LINES)
def test_record_leaves_the_rest_to_argparse(argv):
    from seccomp.cli.record import quick_args

    assert quick_args(argv) is None


@notify
def test_record_starts_its_command_without_argparse(tmp_path):
    # the command line in its common form: the command starts before argparse is imported
    # (and the recorder's interpreter never imports it)
    code = ("import sys\n"
            "from seccomp.cli import main\n"
            "status = main(['record', '-o', %r, '--', 'true'])\n"
            "print(status, 'argparse' in sys.modules)\n" % str(tmp_path / "p.json"))
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, env=ENV, timeout=60)
    assert r.stdout.split() == ["0", "False"], r.stderr
