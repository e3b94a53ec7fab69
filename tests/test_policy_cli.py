"""``seccomp run|check|explain|export|disasm --profile FILE`` with policies in every format
(gosecco, minijail, seccompiler/Firecracker JSON), also those whose conditions libseccomp
cannot state: compiled by `Policy.compile`, run in a child under ``seccomp run`` where the
kernel's answer (errno, signal) is checked, and the other subcommands' outputs compared with
the policy's own meaning."""
import errno
import itertools
import json
import signal
import subprocess

import pytest

import seccomp
import seccomp.policy as sp
from seccomp import Action, Arch, bpf
from seccomp.cli import main

from test_cli import ENV, PY, ROOT

GETPPID = seccomp.syscall_number("getppid")
GETPGID = seccomp.syscall_number("getpgid")

# Arithmetic on arguments and a disjunction (getppid), two arguments compared (getpgid).
GOSECCO = """\
# computed conditions
DEFAULT_POSITIVE = allow
DEFAULT_NEGATIVE = EXDEV
DEFAULT_POLICY = allow
getppid: argL0 + argL1 == argL2 || argL3 &? 4
getpgid[+kill]: argL0 == argL1 + 1
"""

MINIJAIL = """\
# a disjunction libseccomp states as two rules
@denylist
getppid: arg0 == 3 || arg1 >= 10; return EXDEV
getpgid: return 13
"""

SECCOMPILER = {
    "vmm": {"default_action": "allow", "filter_action": {"errno": 18},
            "filter": [{"syscall": "getppid",
                        "args": [{"index": 0, "type": "qword", "op": "eq", "val": 7}]},
                       {"syscall": "getppid",
                        "args": [{"index": 1, "type": "dword", "op": {"masked_eq": 0xF0},
                                  "val": 0x30}]}]},
    "api": {"default_action": "allow", "filter_action": "kill_process",
            "filter": [{"syscall": "getpgid"}]},
}

# Makes each getppid/getpgid call given as "NR,ARG,..." and prints [result errno] of each
# (a signal ends it: the ones before are printed first).
CALLS = r"""
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
for spec in sys.argv[1:]:
    nr, *args = (int(x, 0) for x in spec.split(","))
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    print(ctypes.get_errno() if rc == -1 else 0, flush=True)
"""


@pytest.fixture
def files(tmp_path):
    (tmp_path / "p.seccomp").write_text(GOSECCO)
    (tmp_path / "p.policy").write_text(MINIJAIL)
    (tmp_path / "fc.json").write_text(json.dumps(SECCOMPILER))
    return tmp_path


def run_calls(profile, *calls, options=()):
    """`seccomp run --profile PROFILE` of a child making *calls* ((nr, args...)): the
    completed process and the errno of each call it lived to make."""
    specs = [",".join(str(x) for x in c) for c in calls]
    r = subprocess.run([PY, "-m", "seccomp", "run", "--profile", str(profile), *options, "--",
                        PY, "-c", CALLS, *specs], capture_output=True, text=True, cwd=ROOT,
                       env=ENV, timeout=60)
    return r, [int(x) for x in r.stdout.split()]


def cli(capsys, *argv):
    """Run the command line in-process: (status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# ---------------------------------------------------------------------------------------------
# seccomp run: what the kernel did
# ---------------------------------------------------------------------------------------------

def test_run_a_computed_gosecco_policy_the_kernel_answers_as_it_says(files):
    calls = [(GETPPID, 1, 2, 3, 0), (GETPPID, 1, 2, 4, 0), (GETPPID, 1, 2, 4, 4),
             (GETPPID, 0xFFFFFFFF, 1, 0, 0),  # 2**32: the sum is 64-bit, not 0
             (GETPGID, 0, 0), (GETPGID, 5, 4)]
    r, errnos = run_calls(files / "p.seccomp", *calls)
    assert errnos == [0, errno.EXDEV, 0, errno.EXDEV, errno.EXDEV], r.stderr
    assert r.returncode == -signal.SIGSYS  # getpgid(5, 4): argL0 == argL1 + 1 kills


def test_run_a_minijail_disjunction(files):
    calls = [(GETPPID, 3, 0), (GETPPID, 4, 10), (GETPPID, 4, 9), (GETPPID, 3, 10), (GETPGID, 0)]
    r, errnos = run_calls(files / "p.policy", *calls)
    assert (r.returncode, errnos) == (0, [0, 0, errno.EXDEV, 0, errno.EACCES]), r.stderr


def test_run_a_seccompiler_thread_category(files):
    calls = [(GETPPID, 7, 0), (GETPPID, 8, 0x1_0000_0035), (GETPPID, 8, 0x45), (GETPGID, 0)]
    r, errnos = run_calls(files / "fc.json", *calls, options=("--thread", "vmm"))
    assert (r.returncode, errnos) == (0, [errno.EXDEV, errno.EXDEV, 0, 0]), r.stderr

    r, errnos = run_calls(files / "fc.json", (GETPPID,), (GETPGID, 0),
                          options=("--thread", "api"))
    assert r.returncode == -signal.SIGSYS and errnos == [0], r.stderr


def test_run_allow_and_deny_are_the_policys_first_rules(files):
    calls = [(GETPPID, 1, 2, 4, 0), (GETPGID, 5, 4)]
    r, errnos = run_calls(files / "p.seccomp", *calls,
                          options=("--allow", "getpgid", "--deny", "getppid:EPERM",
                                   "--allow", "getppid"))
    assert (r.returncode, errnos) == (0, [errno.EPERM, 0]), r.stderr  # --deny wins over --allow


def test_run_refuses_a_policy_that_notifies():
    # no listenerPath in these formats: nothing would answer the notification
    r = subprocess.run([PY, "-m", "seccomp", "run", "--profile",
                        "{inline}DEFAULT_POLICY = allow\ngetppid[+trace]: 1\n", "--", "true"],
                       capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert r.returncode == 0, r.stderr  # TRACE: runs (no tracer: the call fails ENOSYS)
    r = subprocess.run([PY, "-m", "seccomp", "run", "--input-format", "seccompiler",
                        "--profile", json.dumps({"main": {
                            "default_action": "allow", "filter_action": "user_notif",
                            "filter": [{"syscall": "getppid"}]}}), "--", "true"],
                       capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert r.returncode == 2 and "listenerPath" in r.stderr, r.stderr


# ---------------------------------------------------------------------------------------------
# check, explain, disasm: the policy's meaning, without loading
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, want", [
    ((1, 2, 3), "ALLOW"), ((1, 2, 4), "ERRNO(18)"), ((1, 2, 4, 4), "ALLOW"),
    ((0xFFFFFFFF, 1, 0), "ERRNO(18)")])
def test_check_a_computed_policy(files, capsys, args, want):
    status, out, err = cli(capsys, "check", "--profile", files / "p.seccomp", "getppid",
                           *args)
    assert (status, out, err) == (0, want + "\n", "")
    pol = sp.load(str(files / "p.seccomp"))
    assert str(pol.decide("getppid", args)) == want  # the model agrees


def test_check_json_and_expect_for_a_computed_policy(files, capsys):
    status, out, _ = cli(capsys, "check", "--json", "--expect", "KILL_THREAD", "--profile",
                         files / "p.seccomp", "getpgid", 9, 8)
    assert status == 0
    assert json.loads(out)["action"] == "KILL_THREAD"
    status, _, err = cli(capsys, "check", "--expect", "ALLOW", "--profile",
                         files / "p.seccomp", "getpgid", 9, 9)
    assert status == 1 and "expected ALLOW, got ERRNO(18)" in err


def test_check_every_format_and_thread(files, capsys):
    for profile, opts, call, want in (
            ("p.policy", (), ("getppid", 4, 10), "ALLOW"),
            ("p.policy", (), ("getppid", 4, 9), "ERRNO(18)"),
            ("p.policy", (), ("getpgid",), "ERRNO(13)"),
            ("fc.json", ("--thread", "vmm"), ("getppid", 0, 0x30), "ERRNO(18)"),
            ("fc.json", ("--thread", "api"), ("getpgid",), "KILL_PROCESS")):
        status, out, err = cli(capsys, "check", "--profile", files / profile, *opts, *call)
        assert (status, out.strip()) == (0, want), (profile, call, err)


def test_explain_a_computed_policy(files, capsys):
    status, out, _ = cli(capsys, "explain", "--json", "--profile", files / "p.seccomp")
    assert status == 0
    data = json.loads(out)
    rows = {v["syscall"]: v for v in data["syscalls"]}
    assert set(rows) == {"getppid", "getpgid"}
    assert set(rows["getppid"]["actions"]) == {"ERRNO(18)", "ALLOW"}
    assert rows["getppid"]["args"] == [0, 1, 2, 3]
    assert {"KILL_THREAD", "ERRNO(18)"} <= set(rows["getpgid"]["actions"])
    assert rows["getpgid"]["args"] == [0, 1]
    assert data["default"] == {str(seccomp.Arch.native()): ["ALLOW"]}


def test_disasm_shows_the_computed_program(files, capsys):
    status, out, _ = cli(capsys, "disasm", "--profile", files / "p.seccomp")
    assert status == 0
    assert "add" in out and "tax" in out and "getppid" in out and "ERRNO(18)" in out


# ---------------------------------------------------------------------------------------------
# export: every format, round trips keep the meaning
# ---------------------------------------------------------------------------------------------

def vectors():
    out = [(0,) * 6]
    for a in (0, 1, 2, 3, 4, 7, 9, 10, 0x30, 0x35, 0xFFFFFFFF, 1 << 32, (1 << 64) - 1):
        for i in range(4):
            v = [1, 2, 3, 0, 0, 0]
            v[i] = a
            out.append(tuple(v))
    return out


def agree(program, pol, syscalls=("getppid", "getpgid")):
    for name in syscalls:
        for v in vectors():
            assert bpf.evaluate(program, name, v) == pol.decide(name, v), (name, v)


def test_export_bpf_of_a_computed_policy_is_policy_compile(files, capsys, tmp_path):
    out = tmp_path / "p.bpf"
    status, _, err = cli(capsys, "export", "--format", "bpf", "-o", out, "--profile",
                         files / "p.seccomp")
    assert status == 0, err
    pol = sp.load(str(files / "p.seccomp"))
    assert out.read_bytes() == pol.compile().export_bpf()
    agree(out.read_bytes(), pol)


def test_export_pfc_of_a_computed_policy_says_whose_program_it_is(files, capsys):
    status, out, _ = cli(capsys, "export", "--profile", files / "p.seccomp")
    assert status == 0
    assert "generated by the seccomp package" in out and "arguments compared" in out
    assert "ERRNO(18)" in out and "; getppid" in out


@pytest.mark.parametrize("fmt, who", [("oci", "an OCI profile"),
                                      ("seccompprofile", "an OCI profile"),
                                      ("minijail", "minijail's format"),
                                      ("seccompiler", "seccompiler's format")])
def test_export_refuses_what_a_format_cannot_state_with_the_place(files, capsys, fmt, who):
    status, out, err = cli(capsys, "export", "--format", fmt, "--name", "x", "--profile",
                           files / "p.seccomp")
    assert status == 1 and out == ""
    assert "%s:5:" % (files / "p.seccomp") in err and who + " cannot state it" in err, err


def test_export_a_computed_policy_as_gosecco_keeps_its_meaning(files, capsys, tmp_path):
    out = tmp_path / "back.seccomp"
    status, _, err = cli(capsys, "export", "--format", "gosecco", "-o", out, "--profile",
                         files / "p.seccomp")
    assert status == 0, err
    assert "argL0 + argL1" in out.read_text() and "argL1 + 1" in out.read_text()
    pol, back = sp.load(str(files / "p.seccomp")), sp.load(str(out))
    program = back.compile().export_bpf()
    values = (0, 1, 2, 3, 4, 5, 0xFFFFFFFF, 1 << 32, (1 << 64) - 1)
    for name in ("getppid", "getpgid"):
        for v in itertools.product(values, repeat=4):
            assert back.decide(name, v) == pol.decide(name, v), (name, v)
            assert bpf.evaluate(program, name, v) == pol.decide(name, v), (name, v)
    # and what it wrote runs: the kernel answers as the original policy says
    r, errnos = run_calls(out, (GETPPID, 1, 2, 3, 0), (GETPPID, 1, 2, 4, 0))
    assert (r.returncode, errnos) == (0, [0, errno.EXDEV]), r.stderr


# One policy every format can state (kill the thread by default; getppid allowed when
# arg0 == 7 or the low half of arg1 masked with 0xF0 is 0x30; getpgid allowed), in each format.
COMMON = {
    "gosecco": "DEFAULT_POSITIVE = allow\nDEFAULT_NEGATIVE = kill\nDEFAULT_POLICY = kill\n"
               "getppid: arg0 == 7 || (argL1 & 0xF0) == 0x30\ngetpgid: 1\n",
    "minijail": "@default kill-thread\n"  # & is "any of these bits", in "none of the others"
                "getppid: arg0 == 7 || arg1 & 0x10 && arg1 & 0x20 && arg1 in ~0xC0\n"
                "getpgid: 1\n",
    "seccompiler": json.dumps({"main": {
        "default_action": "kill_thread", "filter_action": "allow",
        "filter": [{"syscall": "getppid",
                    "args": [{"index": 0, "type": "qword", "op": "eq", "val": 7}]},
                   {"syscall": "getppid",
                    "args": [{"index": 1, "type": "dword", "op": {"masked_eq": 0xF0},
                              "val": 0x30}]},
                   {"syscall": "getpgid"}]}}),
    "oci": json.dumps({"defaultAction": "SCMP_ACT_KILL_THREAD", "syscalls": [
        {"names": ["getppid"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 0, "value": 7, "op": "SCMP_CMP_EQ"}]},
        {"names": ["getppid"], "action": "SCMP_ACT_ALLOW",
         "args": [{"index": 1, "value": 0xFFFFFFF0 & 0xF0, "valueTwo": 0x30,
                   "op": "SCMP_CMP_MASKED_EQ"}]},
        {"names": ["getpgid"], "action": "SCMP_ACT_ALLOW"}]}),
}
SUFFIX = {"gosecco": ".seccomp", "minijail": ".policy", "seccompiler": ".json", "oci": ".json"}


@pytest.mark.parametrize("source", sorted(COMMON))
@pytest.mark.parametrize("fmt", sorted(COMMON))
def test_export_round_trips_keep_the_meaning(capsys, tmp_path, source, fmt):
    src = tmp_path / ("in" + SUFFIX[source])
    src.write_text(COMMON[source])
    pol = sp.load(str(src), format=source)
    assert pol.decide("getppid", (7,)) == Action.ALLOW  # the sample says what it should
    assert pol.decide("getppid", (0, 0x1_0000_0035)) == Action.ALLOW
    assert pol.decide("getppid", (0, 0x45)) == Action.KILL_THREAD
    out = tmp_path / ("out" + SUFFIX[fmt])
    status, _, err = cli(capsys, "export", "--format", fmt, "-o", out, "--profile", src)
    assert status == 0, err
    back = sp.load(str(out), format=fmt)
    agree(back.compile().export_bpf(), pol)
    # and the command line reads what it wrote, detecting the format
    for args in ((7,), (8, 0x35), (8, 0x45)):
        status, answer, err = cli(capsys, "check", "--profile", out, "getppid", *args)
        assert status == 0 and answer.strip() == str(pol.decide("getppid", args)), err


def test_export_with_allow_and_deny_writes_them_into_the_policy(files, capsys):
    status, out, err = cli(capsys, "export", "--format", "seccompiler", "--profile",
                           files / "fc.json", "--thread", "vmm", "--deny", "getpgid:EXDEV",
                           "--allow", "getppid")
    assert status == 0, err
    back = sp.loads(out, format="seccompiler", thread="vmm")
    assert back.decide("getpgid") == Action.ERRNO(errno.EXDEV)
    assert back.decide("getppid", (7,)) == Action.ALLOW  # the policy said ERRNO(18)


# ---------------------------------------------------------------------------------------------
# options and errors
# ---------------------------------------------------------------------------------------------

def test_errors_name_file_line_and_column(tmp_path, capsys):
    bad = tmp_path / "bad.seccomp"
    bad.write_text("DEFAULT_POLICY = allow\ngetppid: argL0 +* 2\n")
    for cmd in (("check",), ("explain",), ("export",), ("disasm",)):
        argv = cmd + ("--profile", bad) + (("getppid",) if cmd == ("check",) else ())
        status, _, err = cli(capsys, *argv)
        assert status == 1 and err.startswith("seccomp: error: %s:2:" % bad), err


def test_input_format_forces_the_reader(tmp_path, capsys):
    text = tmp_path / "policy.txt"
    text.write_text("getppid: arg0 == 1\n")  # both minijail and gosecco read this
    status, out, _ = cli(capsys, "check", "--input-format", "gosecco", "--profile", text,
                         "getppid", 2)
    assert (status, out) == (0, "KILL_THREAD\n")  # gosecco's negative default: kill (thread)
    status, out, _ = cli(capsys, "check", "--input-format", "minijail", "--profile", text,
                         "getppid", 2)
    assert (status, out) == (0, "KILL_PROCESS\n")  # minijail's default
    status, _, err = cli(capsys, "check", "--input-format", "seccompiler", "--profile", text,
                         "getppid")
    assert status == 1 and "invalid JSON" in err


def test_input_format_of_a_built_in_name_is_a_usage_error(capsys):
    status, _, err = cli(capsys, "check", "--input-format", "gosecco", "--profile", "default",
                         "getppid")
    assert status == 2 and "built-in OCI profile" in err, err
    status, out, _ = cli(capsys, "check", "--input-format", "oci", "--profile", "default",
                         "getppid")
    assert (status, out) == (0, "ALLOW\n")


def test_thread_is_needed_and_checked(files, capsys):
    status, _, err = cli(capsys, "check", "--profile", files / "fc.json", "getppid")
    assert status == 1 and "--thread" in err and "api, vmm" in err
    status, _, err = cli(capsys, "check", "--profile", files / "fc.json", "--thread", "x",
                         "getppid")
    assert status == 1 and "'x'" in err
    status, _, err = cli(capsys, "check", "--profile", "default", "--thread", "vmm", "getppid")
    assert status == 1 and "--thread" in err and "OCI profile" in err


def test_caps_options_do_not_apply_to_a_policy(files, capsys):
    status, _, err = cli(capsys, "check", "--cap", "SYS_ADMIN", "--profile",
                         files / "p.policy", "getppid")
    assert status == 2 and "capabilities" in err


def test_strict_refuses_a_syscall_this_libseccomp_lacks(tmp_path, capsys):
    from seccomp._info import syscall_known
    from seccomp._syscall_table import newer_syscalls
    lacking = sorted(n for n in newer_syscalls() if not syscall_known(n))
    if not lacking:
        pytest.skip("this libseccomp knows every syscall of the package's table")
    # by number on the native architecture only: elsewhere it cannot be added
    foreign = "aarch64" if Arch.native() is not Arch.AARCH64 else "x86_64"
    p = tmp_path / "p.policy"
    p.write_text("@denylist\n%s: return 1\ngetppid: return 1\n" % lacking[0])
    status, out, err = cli(capsys, "check", "--arch", foreign, "--profile", p, "getppid")
    assert status == 0 and out == "ERRNO(1)\n"
    assert "warning" in err and lacking[0] in err  # told, not dropped silently
    status, _, err = cli(capsys, "check", "--strict", "--arch", foreign, "--profile", p,
                         "getppid")
    assert status == 1 and "%s:2:" % p in err, err


def test_a_built_in_profile_name_does_not_load_the_policy_readers():
    code = ("import sys\nfrom seccomp.cli import main\n"
            "main(['check', '--profile', 'default', 'getppid'])\n"
            "print(sorted(m for m in sys.modules if m.startswith('seccomp.policy')"
            " or m == 'seccomp.cli.policies'))")
    r = subprocess.run([PY, "-c", code], capture_output=True, text=True, cwd=ROOT, env=ENV)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("[]"), r.stdout


def _whole_arg_arithmetic(e):
    from seccomp.policy.model import And, Arg, BinOp, Cmp, Inv, Not, Or
    if isinstance(e, BinOp):
        if any(isinstance(s, Arg) and not s.half for s in (e.left, e.right)):
            return True
        return _whole_arg_arithmetic(e.left) or _whole_arg_arithmetic(e.right)
    if isinstance(e, Cmp):
        return _whole_arg_arithmetic(e.left) or _whole_arg_arithmetic(e.right)
    if isinstance(e, Inv):
        return isinstance(e.operand, Arg) and not e.operand.half or \
            _whole_arg_arithmetic(e.operand)
    if isinstance(e, Not):
        return _whole_arg_arithmetic(e.operand)
    if isinstance(e, (And, Or)):
        return any(_whole_arg_arithmetic(i) for i in e.items)
    return False


@pytest.mark.parametrize("kind", sorted(__import__("test_policy_bpf").KINDS))
def test_gosecco_writes_each_kind_of_computed_condition(kind):
    from test_policy_bpf import KINDS, deny_when

    condition, vectors = KINDS[kind]
    pol = deny_when(condition)
    if _whole_arg_arithmetic(condition):  # gosecco computes on halves only: refused, said why
        with pytest.raises(sp.PolicyError, match="64-bit argument"):
            sp.dumps(pol, "gosecco")
        return
    back = sp.loads(sp.dumps(pol, "gosecco"), format="gosecco")
    program = back.compile().export_bpf()
    for v in vectors:
        args = tuple(v) + (0,) * (6 - len(v))
        assert back.decide("getppid", args) == pol.decide("getppid", args), (kind, v)
        assert bpf.evaluate(program, "getppid", args) == pol.decide("getppid", args)
