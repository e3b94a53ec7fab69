"""The `seccomp` command's conventions, each in a subprocess: --version, --json, exit statuses
that gate CI (check --expect, explain --strict), -o -, no binary to a terminal, env's 126/127,
labelled resolve output, and no traceback for any bad input (`seccomp: error: ...`, 1 or 2).
"""
import errno
import json
import os
import pty
import subprocess
import sys

import pytest

import seccomp
from seccomp import Action, Arch, Filter, bpf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
X86_64 = pytest.mark.skipif(Arch.native() != Arch.X86_64, reason="numbers are x86_64's")


def cli(*args, input=None, cwd=None, **kw):
    return subprocess.run([sys.executable, "-m", "seccomp", *args], capture_output=True,
                          text=input is None or isinstance(input, str), input=input,
                          cwd=cwd or ROOT, env=ENV, timeout=60, **kw)


def test_version_names_the_package_and_libseccomp():
    r = cli("--version")
    assert r.returncode == 0
    assert seccomp.__version__ in r.stdout
    assert "libseccomp " + ".".join(map(str, seccomp.library_version())) in r.stdout


# -- check --------------------------------------------------------------------------------------

def test_check_expect_gates_on_the_action():
    assert cli("check", "--expect", "ALLOW", "read").returncode == 0
    assert cli("check", "--expect", "errno(EPERM)", "unshare", "0x10000000").returncode == 0
    assert cli("check", "--expect", "SCMP_ACT_ERRNO", "unshare", "0x10000000").returncode == 0
    r = cli("check", "--expect", "ALLOW", "unshare", "0x10000000")
    assert r.returncode == 1 and r.stdout.strip() == "ERRNO(1)"
    assert "seccomp: error: unshare: expected ALLOW, got ERRNO(1)" in r.stderr
    assert cli("check", "--expect", "ERRNO(2)", "unshare", "0x10000000").returncode == 1
    r = cli("check", "--expect", "MAYBE", "read")
    assert r.returncode == 2 and r.stderr.startswith("seccomp: error: unknown action 'MAYBE'")


def test_check_json():
    r = cli("check", "--json", "--arch", "aarch64", "--expect", "KILL_PROCESS", "unshare",
            str(0x10000000))
    data = json.loads(r.stdout)
    assert r.returncode == 1
    assert data == {"arch": "aarch64", "syscall": "unshare", "args": [0x10000000],
                    "action": "ERRNO(1)", "kind": "ERRNO", "data": 1,
                    "expected": "KILL_PROCESS", "matches": False}


# -- explain ------------------------------------------------------------------------------------

def _bpf_file(tmp_path, *arches):
    f = Filter(Action.ALLOW)
    for a in arches:
        if a not in f.arches:
            f.add_arch(a)
    f.add_rule(Action.ERRNO(1), "execve")
    path = tmp_path / "f.bpf"
    path.write_bytes(f.export_bpf())
    return path


def test_explain_of_a_bpf_file_covers_every_architecture_it_checks(tmp_path):
    path = _bpf_file(tmp_path, Arch.AARCH64, Arch.X86)
    data = json.loads(cli("explain", "--json", str(path)).stdout)
    assert set(data["arches"]) == {str(Arch.native()), "aarch64", "x86"}
    execve = {(s["arch"], s["number"]) for s in data["syscalls"] if s["syscall"] == "execve"}
    assert execve >= {("aarch64", seccomp.syscall_number("execve", "aarch64")),
                      ("x86", seccomp.syscall_number("execve", "x86"))}
    assert all(s["actions"] == ["ERRNO(1)"] for s in data["syscalls"])
    assert any("execveat is allowed" in w for w in data["warnings"])
    # --arch limits it to one
    data = json.loads(cli("explain", "--json", "--arch", "aarch64", str(path)).stdout)
    assert data["arches"] == ["aarch64"]


def test_explain_strict_fails_on_warnings(tmp_path):
    path = _bpf_file(tmp_path)
    r = cli("explain", "--strict", str(path))
    assert r.returncode == 1 and "warning:" in r.stdout
    assert cli("explain", str(path)).returncode == 0
    strict = Filter(Action.KILL_PROCESS)
    strict.add_rule(Action.ALLOW, "exit_group")
    clean = tmp_path / "clean.bpf"
    clean.write_bytes(strict.export_bpf())
    r = cli("explain", "--strict", "--json", str(clean))
    assert json.loads(r.stdout)["warnings"] == [] and r.returncode == 0, r.stdout


# -- resolve ------------------------------------------------------------------------------------

@X86_64
def test_resolve_labels_each_item_and_goes_on_after_errors():
    r = cli("resolve", "openat", "read", "9999", "write", "²")
    assert r.returncode == 1
    assert r.stdout.splitlines() == ["openat 257", "read 0", "write 1"]
    assert r.stderr.splitlines() == [
        "seccomp: error: syscall number 9999 is not known on x86_64",
        "seccomp: error: syscall '²' is not known on x86_64"]


@X86_64
def test_resolve_translates_between_architectures():
    r = cli("resolve", "-a", "x86_64", "-a", "aarch64", "257", "read")
    assert r.returncode == 0
    assert r.stdout.splitlines() == ["openat x86_64:257 aarch64:56", "read x86_64:0 aarch64:63"]


def test_resolve_says_when_libseccomp_gives_a_pseudo_number():
    r = cli("resolve", "-a", "x86", "socket")
    assert r.returncode == 0
    assert r.stdout.strip() == ("socket -101 (libseccomp's pseudo-number; multiplexed "
                                "through socketcall 102)")
    assert cli("resolve", "-a", "x86", "-t", "socket").stdout.strip() == "socket 102"
    data = json.loads(cli("resolve", "--json", "-a", "x86", "socket", "nope").stdout)
    assert data[0]["arches"] == [{"arch": "x86", "number": -101, "kernel_number": 102,
                                  "kernel_syscall": "socketcall"}]
    assert data[1] == {"item": "nope", "error": "syscall 'nope' is not known on x86"}


# -- export -------------------------------------------------------------------------------------

def test_export_dash_is_stdout(tmp_path):
    r = cli("export", "--format", "bpf", "-o", "-", cwd=tmp_path, input=b"")
    assert r.returncode == 0 and len(r.stdout) % 8 == 0 and len(r.stdout) > 8
    assert not (tmp_path / "-").exists()
    assert bpf.evaluate(r.stdout, "unshare", [0x10000000]) == Action.ERRNO(1)


def test_binary_bpf_is_not_written_to_a_terminal():
    controller, terminal = pty.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "seccomp", "export", "--format", "bpf"],
                           stdout=terminal, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                           env=ENV, timeout=60)
    finally:
        os.close(terminal)
        os.close(controller)
    assert r.returncode == 1
    assert r.stderr.startswith("seccomp: error: refusing to write binary data to a terminal")


# -- run ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("subcommand", [["run"], ["record", "-o", os.devnull]])
def test_run_and_record_exit_statuses_follow_env(tmp_path, subcommand):
    # record said "command not found" (127) for all but a missing command
    r = cli(*subcommand, "--", "/etc/passwd")
    assert r.returncode == 126 and r.stderr == "seccomp: error: /etc/passwd: Permission denied\n"
    r = cli(*subcommand, "--", str(tmp_path))
    assert r.returncode == 126 and "Is a directory" in r.stderr
    r = cli(*subcommand, "--", str(tmp_path / "missing"))
    assert r.returncode == 127 and "No such file or directory" in r.stderr
    r = cli(*subcommand, "--", "no-such-command-xyz")
    assert r.returncode == 127 and r.stderr == ("seccomp: error: no-such-command-xyz: command "
                                                "not found\n")
    r = cli(*subcommand, "--", "")  # was "Is a directory" (the name joined to PATH's directories)
    assert r.returncode == 127 and r.stderr == "seccomp: error: '': command not found\n"
    bad = tmp_path / "bad"  # found and executable, but execve refuses it
    bad.write_bytes(b"\x7fELF garbage")
    bad.chmod(0o755)
    r = cli(*subcommand, "--", str(bad))
    assert r.returncode == 126 and r.stderr == "seccomp: error: %s: Exec format error\n" % bad


def test_run_says_when_the_profile_kills_execve(tmp_path):
    profile = tmp_path / "p.json"
    profile.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["execve"], "action": "SCMP_ACT_KILL_PROCESS"}]}))
    r = cli("run", "--profile", str(profile), "--", "true")
    assert r.returncode == 126
    assert r.stderr.startswith("seccomp: error: the profile does not allow execve (it answers "
                               "KILL_PROCESS)")
    r = cli("run", "--deny", "execve:EACCES", "--", "true")
    assert r.returncode == 126 and "ERRNO(%d)" % errno.EACCES in r.stderr


# -- no tracebacks ------------------------------------------------------------------------------

def _bad_inputs(tmp):
    """(argv, expected exit status) for input a user may give by mistake."""
    nested = os.path.join(tmp, "nested.json")
    with open(nested, "w") as fh:
        fh.write("[" * 100000 + "]" * 100000)
    nested_obj = os.path.join(tmp, "nested2.json")
    with open(nested_obj, "w") as fh:
        fh.write('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": ' + "[" * 50000)
    huge = os.path.join(tmp, "huge.json")
    with open(huge, "w") as fh:
        fh.write('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": %s}' % ("9" * 5000))
    big = os.path.join(tmp, "big.json")
    with open(big, "w") as fh:
        fh.write('{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": %s}' % ("9" * 400))
    odd = os.path.join(tmp, "odd.bpf")
    with open(odd, "wb") as fh:
        fh.write(b"\x06\x00\x00")
    missing = os.path.join(tmp, "missing")
    cases = [
        (["--allow", "²"], 1), (["--allow", "@nope"], 1), (["--deny", "read:²"], 1),
        (["--deny", "read:" + "9" * 5000], 1), (["--deny", "nope"], 1), (["--cap", "²"], 1),
        (["--profile", nested], 1), (["--profile", nested_obj], 1), (["--profile", huge], 1),
        (["--profile", big], 1), (["--profile", "/dev/zero"], 1), (["--profile", tmp], 1),
        (["--profile", missing], 1), (["--profile", "nope"], 1), (["--profile", "{"], 1),
        (["--profile", "/etc/passwd"], 1),
    ]
    # The profile options go through one function for every command: all of them once, with
    # export; one each with the other commands.
    per_command = {
        "export": cases + [
            (["--arch", "²"], 1), (["--kernel", "²"], 1), (["--kernel", "9" * 5000], 1),
            (["-o", os.path.join(missing, "x")], 1), (["--format", "nope"], 2)],
        "run": [(["--allow", "²", "--", "true"], 1), (["--profile", nested, "--", "true"], 1),
                ([], 2), (["--", missing], 127)],
        "check": [(["--profile", huge, "read"], 1),
                  (["²"], 1), (["9" * 5000], 1), (["read", "²"], 2), (["read", "9" * 5000], 2),
                  (["read", "1" * 30], 1), (["--bpf", missing, "read"], 1),
                  (["--bpf", tmp, "read"], 1), (["--bpf", odd, "read"], 1),
                  (["--bpf", "/dev/zero", "read"], 1), (["--arch", "nope", "read"], 1),
                  (["read"] + ["1"] * 7, 2), (["--expect", "ERRNO(²)", "read"], 2),
                  (["--expect", "ERRNO(" + "9" * 5000 + ")", "read"], 2)],
        "disasm": [(["--deny", "read:²"], 1),
                   ([missing], 1), ([tmp], 1), ([odd], 1), (["/dev/zero"], 1),
                   (["--arch", "²", odd], 1)],
        "explain": [(["--profile", "/dev/zero"], 1),
                    ([missing], 1), ([tmp], 1), ([odd], 1), (["/etc/passwd"], 1)],
        "resolve": [(["²"], 1), (["9" * 5000], 1), (["--", "-" + "9" * 5000], 1),
                    (["@nope"], 1), (["-a", "nope", "read"], 1), (["-a", "²", "read"], 1),
                    ([], 2)],
        "info": [(["--nope"], 2)],
        "asm": [([missing], 1), ([tmp], 1), (["/dev/zero"], 1), ([nested], 1)],
    }
    # every registered subcommand, also those added later: an unknown option is a usage error
    from seccomp.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:
        per_command.setdefault(name, []).append((["--no-such-option"], 2))
    return [([cmd] + argv, st) for cmd, tests in per_command.items() for argv, st in tests]


# Runs `seccomp.cli.main(argv)` for each case of a JSON list on stdin, in this one subprocess,
# stdin empty and stdout/stderr captured; prints per case the status, stderr and any exception
# that escaped main() (a traceback the user would have seen).
DRIVER = r"""
import io, json, sys, traceback
from seccomp.cli import main
results = []
real = sys.stdin, sys.stdout, sys.stderr
for argv in json.load(sys.stdin):
    sys.stdin = io.TextIOWrapper(io.BytesIO())
    sys.stdout = io.TextIOWrapper(io.BytesIO())
    sys.stderr = err = io.StringIO()
    escaped = ""
    try:
        status = main(argv)
    except SystemExit as exc:
        status = exc.code
    except BaseException:
        status, escaped = None, traceback.format_exc()
    sys.stdin, sys.stdout, sys.stderr = real
    results.append({"status": status, "stderr": err.getvalue(), "escaped": escaped})
json.dump(results, sys.stdout)
"""


def _check_errors(runs):
    failures = []
    for (argv, status), (code, text) in runs:
        last = text.rstrip("\n").splitlines()[-1] if text.strip() else ""
        if code != status or "Traceback" in text or not last.startswith("seccomp: error: ") \
                or len(last) > 500:
            failures.append("%s -> %s %r" % ([a[:40] for a in argv], code, text[-300:]))
    assert not failures, "\n".join(failures)


def test_no_traceback_for_any_bad_input(tmp_path):
    """Every bad input is one `seccomp: error:` line (after argparse's usage line for usage
    errors) with status 1, or 2 for usage."""
    cases = [c for c in _bad_inputs(str(tmp_path)) if c[0][0] != "run"]
    r = subprocess.run([sys.executable, "-c", DRIVER], input=json.dumps([a for a, _ in cases]),
                       capture_output=True, text=True, cwd=str(tmp_path), env=ENV, timeout=120)
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    _check_errors([(case, (res["status"], res["stderr"] + res["escaped"]))
                   for case, res in zip(cases, results)])


def test_no_traceback_from_run(tmp_path):
    """`run` in real subprocesses (a case that got through would exec its command)."""
    cases = [c for c in _bad_inputs(str(tmp_path)) if c[0][0] == "run"]
    runs = []
    for argv, status in cases:
        r = cli(*argv, cwd=str(tmp_path), input="")
        runs.append(((argv, status), (r.returncode, r.stderr)))
    _check_errors(runs)
