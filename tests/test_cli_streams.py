"""The `seccomp` command with the streams and files a demanding user gives it: stdout or
stderr closed or failing, a profile that is a pipe (``<(...)``, /dev/stdin, read once), an
empty file, library warnings, and which of two files an error is about. Each case runs the
real command in a subprocess (nothing here loads a filter in the test process)."""
import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))


def cli(*args, close=(), stdin=None, stdout=subprocess.PIPE, input=None, cwd=None):
    """`python -m seccomp ARGS` with the fds in *close* closed (as `>&-` does)."""
    def closing():
        for fd in close:
            os.close(fd)
    return subprocess.run([sys.executable, "-m", "seccomp", *args], stdin=stdin,
                          stdout=stdout, stderr=subprocess.PIPE, input=input,
                          preexec_fn=closing if close else None, cwd=cwd or ROOT, env=ENV,
                          timeout=60)


# -- stdout closed or failing: an error naming stdout, never output silently dropped ----------

PRINTING = [["info"], ["resolve", "read"], ["resolve", "@aio"], ["check", "read"],
            ["explain"], ["disasm"], ["export"], ["diff", "default", "default"],
            ["resolve", "--json", "read"]]


@pytest.mark.parametrize("argv", PRINTING, ids=" ".join)
def test_closed_stdout_is_an_error_naming_it(argv):
    r = cli(*argv, close=(1,))
    assert r.returncode == 1 and r.stderr.decode() == \
        "seccomp: error: cannot write to stdout: it is closed\n"


@pytest.mark.parametrize("argv", [["info"], ["resolve", "@aio"], ["explain"],
                                  ["resolve", "read", "write"]], ids=" ".join)
def test_failing_stdout_is_one_error_naming_it(argv):
    with open("/dev/full", "wb") as full:
        r = cli(*argv, stdout=full)
    assert r.returncode == 1
    assert r.stderr.decode() == "seccomp: error: cannot write to stdout: No space left on " \
                                "device\n"


def test_record_to_a_closed_stdout_says_so_before_running_the_command(tmp_path):
    mark = tmp_path / "ran"
    r = cli("record", "--", "sh", "-c", "touch %s" % mark, close=(1,))
    assert r.returncode == 1 and r.stderr.decode() == (
        "seccomp: error: cannot write the profile to stdout: it is closed (give -o FILE)\n")
    assert not mark.exists()
    r = cli("record", "-o", str(tmp_path / "p.json"), "--", "sh", "-c", "touch %s" % mark,
            close=(1,))
    assert r.returncode == 0 and mark.exists() and (tmp_path / "p.json").stat().st_size


def test_run_with_stdout_closed_runs_the_command_so():
    """The command is run with fd 1 closed, as asked: nothing of seccomp's needs stdout."""
    r = cli("run", "--", "sh", "-c", "echo ran >&2; echo out || echo closed >&2", close=(1,))
    assert r.returncode == 0, r.stderr
    assert b"ran" in r.stderr and b"closed" in r.stderr


def test_closed_stderr_keeps_errors_out_of_stdout():
    r = subprocess.run([sys.executable, "-m", "seccomp", "resolve", "nosuch", "read"],
                       stdout=subprocess.PIPE, preexec_fn=lambda: os.close(2), cwd=ROOT,
                       env=ENV, timeout=60)
    assert r.returncode == 1 and r.stdout.decode().split()[0] == "read"
    assert b"error" not in r.stdout


@pytest.mark.parametrize("argv,what", [(["disasm", "-"], "BPF program"), (["asm"], "listing"),
                                       (["check", "--bpf", "-", "read"], "BPF program")],
                         ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_closed_or_write_only_stdin_is_an_error_naming_it(argv, what, tmp_path):
    r = cli(*argv, close=(0,))
    assert r.returncode == 1 and r.stderr.decode() == \
        "seccomp: error: cannot read %s from stdin: it is closed\n" % what
    with open(tmp_path / "w", "wb") as write_only:
        r = cli(*argv, stdin=write_only)
    assert r.returncode == 1 and r.stderr.decode() == \
        "seccomp: error: cannot read %s from stdin: Bad file descriptor\n" % what


# -- a profile read once -----------------------------------------------------------------------

MINIJAIL = "getppid: 1\nexecve: 1\nexit_group: 1\n"


@pytest.mark.parametrize("text,want", [
    (MINIJAIL, "ALLOW"),                                                   # minijail
    ('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["getppid"], '
     '"action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}', "ERRNO(13)"),        # OCI
    ("DEFAULT_POSITIVE = allow\ngetppid: 1\n", "ALLOW"),                  # gosecco
])
def test_a_profile_from_a_pipe_is_read_once(text, want):
    """/dev/stdin (as ``<(...)``) cannot be read twice: a second read found nothing, and the
    empty policy killed every syscall."""
    r = cli("check", "--profile", "/dev/stdin", "getppid", input=text.encode())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == [want]


def test_diff_reads_a_pipe_once(tmp_path):
    (tmp_path / "p.policy").write_text(MINIJAIL)
    r = cli("diff", "/dev/stdin", str(tmp_path / "p.policy"), input=MINIJAIL.encode())
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().startswith("no difference")


@pytest.mark.parametrize("argv", [["check", "--profile", "{}", "read"],
                                  ["export", "--profile", "{}"],
                                  ["run", "--profile", "{}", "--", "true"],
                                  ["diff", "{}", "default"], ["diff", "default", "{}"]])
def test_an_empty_profile_file_is_refused(tmp_path, argv):
    """An empty file (a download or an export that failed) is not a policy that kills
    every syscall, nor one with "no difference" from another empty one."""
    for content in ("", " \n\n"):
        empty = tmp_path / "empty.json"
        empty.write_text(content)
        r = cli(*[str(empty) if a == "{}" else a for a in argv])
        assert r.returncode == (2 if argv[0] == "diff" else 1)
        assert r.stderr.decode() == "seccomp: error: %s: the policy is empty\n" % empty


# -- which file, and warnings as the command's own ------------------------------------------

def test_diff_names_the_file_an_error_is_about(tmp_path):
    bad_json, bad_bpf = tmp_path / "a.json", tmp_path / "b.bpf"
    bad_json.write_text('{"defaultAction": ')
    bad_bpf.write_bytes(b"\0" * 12)
    r = cli("diff", "default", str(bad_json))
    assert r.returncode == 2 and r.stderr.decode().startswith(
        "seccomp: error: %s: invalid JSON" % bad_json)
    r = cli("diff", str(bad_bpf), "default")
    assert r.returncode == 2 and r.stderr.decode().startswith(
        "seccomp: error: %s: the kernel would reject the program" % bad_bpf)


def test_library_warnings_are_seccomp_warnings(tmp_path):
    """A rule left out is said as `seccomp: warning: ...` by every command, diff too (not
    Python's warning format with file, line and source)."""
    prof = tmp_path / "p.json"
    prof.write_text(json.dumps({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["no_such_call"], "action": "SCMP_ACT_ERRNO"}]}))
    for argv in (["diff", str(prof), "default"], ["check", "--profile", str(prof), "read"],
                 ["explain", "--profile", str(prof)]):
        r = cli(*argv)
        lines = r.stderr.decode().splitlines()
        assert lines and all(line.startswith("seccomp: warning: ") for line in lines), argv
        assert "no_such_call" in lines[0]


# -- --bundle: bounded, and never written into a profile --------------------------------------

def test_bundle_that_is_a_device_or_a_profile_is_refused(tmp_path):
    r = cli("export", "--bundle", "/dev/zero")
    assert r.returncode == 1 and b"/dev/zero: larger than" in r.stderr
    prof = tmp_path / "profile.json"
    text = '{"defaultAction": "SCMP_ACT_ALLOW"}'
    prof.write_text(text)
    r = cli("export", "--bundle", str(prof))
    assert r.returncode == 1 and b"is a seccomp profile, not an OCI config.json" in r.stderr
    assert prof.read_text() == text


# -- --expect: an action that can never match is a usage error ---------------------------------

@pytest.mark.parametrize("spec", ["ERRNO(", "ERRNO(1", "ALLOW()", "ERRNO(70000)", "ERRNO(-1)",
                                  "TRACE(65536)", "ERRNO(" + "9" * 60 + ")"])
def test_check_expect_refuses_an_action_that_cannot_be(spec):
    r = cli("check", "--expect", spec, "read")
    assert r.returncode == 2 and r.stderr.decode().startswith(
        "seccomp: error: invalid action %r" % spec)


# -- --allow/--deny read the same way for every profile format --------------------------------

@pytest.mark.parametrize("option", [["--deny", "getppid:"], ["--deny", "getppid: "],
                                    ["--allow", "getppid:5"]])
def test_allow_and_deny_refuse_a_half_spec_for_every_format(tmp_path, option):
    """``--deny getppid:`` was EPERM, and ``--allow getppid:5`` on a minijail policy
    allowed getppid (the ':5' dropped); OCI profiles refused the latter."""
    (tmp_path / "p.policy").write_text(MINIJAIL)
    for prof in ("default", str(tmp_path / "p.policy")):
        r = cli("check", "--profile", prof, *option, "getppid")
        assert r.returncode == 1 and r.stderr.decode().startswith("seccomp: error: "), prof
        assert option[1].split(":")[0] in r.stderr.decode()


# -- the command gets the signal dispositions it would get from a shell ------------------------

@pytest.mark.parametrize("options", [[], ["--profile", "unconfined"], ["--deny", "rt_sigaction"]],
                         ids=["default", "unconfined", "rt_sigaction-denied"])
def test_run_does_not_pass_pythons_ignored_signals_on(options):
    """Python ignores SIGPIPE and SIGXFSZ; exec keeps "ignored": `seccomp run -- yes | head`
    printed "Broken pipe" and exited 1 instead of ending by SIGPIPE."""
    r = cli("run", *options, "--", "sh", "-c", "grep SigIgn /proc/self/status")
    assert r.returncode == 0, r.stderr
    ignored = int(r.stdout.decode().split()[1], 16)
    assert not ignored & (1 << (13 - 1)) and not ignored & (1 << (25 - 1))   # SIGPIPE, SIGXFSZ
    reader = subprocess.Popen(["head", "-c", "1"], stdin=subprocess.PIPE,
                              stdout=subprocess.DEVNULL)
    r = cli("run", *options, "--", "yes", stdout=reader.stdin)
    reader.stdin.close()
    reader.wait()
    assert r.returncode == -13 and b"Broken pipe" not in r.stderr   # killed by SIGPIPE


# -- 'unconfined', no filter at all -----------------------------------------------------------

@pytest.mark.parametrize("argv,verb", [(["check", "read"], "check"), (["explain"], "explain"),
                                       (["disasm"], "disassemble")])
def test_unconfined_has_nothing_to_look_at(argv, verb):
    """Was a traceback: AttributeError 'NoneType' object has no attribute 'compile'."""
    r = cli(*argv, "--profile", "unconfined")
    assert r.returncode == 1 and r.stderr.decode() == (
        "seccomp: error: 'unconfined' is no filter at all (every syscall runs): there is "
        "nothing to %s\n" % verb)


def test_diff_against_unconfined_lists_what_a_profile_denies():
    """'unconfined' was refused with a message for Python callers (test for
    seccomp.profile.UNCONFINED first); it is no filter: every syscall allowed."""
    r = cli("diff", "unconfined", "default")
    assert r.returncode == 1, r.stderr
    assert "A: ALLOW" in r.stdout.decode() and "B: ERRNO(1)" in r.stdout.decode()
    r = cli("diff", "unconfined", "unconfined")
    assert r.returncode == 0 and r.stdout.decode().startswith("no difference")


def test_every_subcommand_prints_and_warns_through_the_common_helpers():
    """The class of the defects above: a subcommand that prints with print() drops its
    output silently when stdout is closed, and one not wrapped by `subcommand` shows library
    warnings in Python's format. (record checks sys.stdout itself before its run, and
    enters WarningsAsLines once its command has started.)"""
    import glob

    from seccomp.cli import build_parser, common
    wrapped = common.subcommand(lambda args: 0).__code__
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name, parser in sub.choices.items():
        if name != "record":
            assert parser.get_default("func").__code__ is wrapped, name
    for path in glob.glob(os.path.join(ROOT, "seccomp", "cli", "*.py")):
        if os.path.basename(path) in ("common.py", "record.py", "prebuilt.py", "parser.py",
                                      "__init__.py"):
            continue
        with open(path) as fh:
            source = fh.read()
        assert "print(" not in source and "sys.stdout" not in source, path
