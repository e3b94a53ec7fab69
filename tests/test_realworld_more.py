"""More real inputs from other projects (sources in tests/realworld/README.md): each read,
compiled for the architectures it names, explained, and diffed against itself (empty) and
against a copy with one rule changed (exactly that change), through the library and the
`seccomp` command. Most of these tests failed before the fix they come with.
"""
import copy
import errno
import json
import os
import shutil
import subprocess
import sys
import warnings

import pytest

import seccomp.policy as sp
from seccomp import Action, Arch, bpf, profile
from seccomp.bpf import diff as bpfdiff
from seccomp.policy import gosecco

TESTS = os.path.dirname(os.path.abspath(__file__))
HERE = os.path.join(TESTS, "realworld")
DOCKER = os.path.join(TESTS, "profiles", "docker_default.json")  # moby/profiles, current
FIRECRACKER = os.path.join(HERE, "firecracker_x86_64.json")

ALLOW = Action.ALLOW
KILL = Action.KILL_PROCESS


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "seccomp", *args], capture_output=True,
                          text=True, cwd=cwd)


def _docker_with(edit):
    data = json.load(open(DOCKER))
    edit(data)
    return profile.load(data)


def _deny_writev(data):
    rule = next(r for r in data["syscalls"] if "writev" in r["names"] and not r.get("args"))
    rule["names"].remove("writev")
    data["syscalls"].append({"names": ["writev"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13})


# -- mips: syscall numbers from each ABI's base (4000, 5000, 6000) ---------------------------

def test_docker_default_diffs_and_explains_on_mips_with_the_kernels_numbers():
    # Docker's archMap builds mips64 with mips and mips64n32; libseccomp also resolves mips
    # numbers without their base, which the kernel never sends: explain and diff used those
    changed = _docker_with(_deny_writev)
    d = bpfdiff.diff(DOCKER, changed, arch="mips64")
    assert set(d.arches) == {Arch.MIPS, Arch.MIPS64, Arch.MIPS64N32}
    assert {(c.arch, c.syscall, c.number) for c in d.changes} == {
        (Arch.MIPS, "writev", 4146), (Arch.MIPS64, "writev", 5019),
        (Arch.MIPS64N32, "writev", 6019)}
    assert all((c.a, c.b, c.args) == (ALLOW, Action.ERRNO(13), ()) for c in d.changes)
    assert not bpfdiff.diff(DOCKER, DOCKER, arch="mips64")
    f = changed.compile(arch="mips64")
    try:
        e = bpf.explain(f)
    finally:
        f.release()
    verdicts = {(v.arch, v.syscall): v for v in e.syscalls}
    assert verdicts[(Arch.MIPS64, "writev")].number == 5019
    assert verdicts[(Arch.MIPS64, "writev")].actions == (Action.ERRNO(13),)
    assert verdicts[(Arch.MIPS64, "read")].actions == (ALLOW,)
    assert all(v.number >= 4000 for v in e.syscalls)


def test_a_name_libseccomp_multiplexes_on_mips_o32_is_evaluated_at_its_own_number():
    # libseccomp gives socket a pseudo number on mips (o32); the kernel sees 4183
    f = profile.load(DOCKER).compile(arch="mips64")
    try:
        program = f.export_bpf()
    finally:
        f.release()
    assert bpf.evaluate(program, "socket", (2, 1, 0), arch="mips") == \
        bpf.evaluate(program, 4183, (2, 1, 0), arch="mips") == ALLOW
    assert bpf.evaluate(program, 183, (2, 1, 0), arch="mips") != ALLOW  # below o32's base


# -- minijail policies for arm: ARM's private syscalls, the target's constants ----------------

ARM_POLICY = ("ARM_set_tls: 1\nread: 1\nioctl: arg1 == FS_IOC_GETFLAGS\n"
              "openat: arg2 in O_RDONLY|O_DIRECTORY\n")


def test_diff_reads_a_minijail_policy_for_the_target_architecture(tmp_path):
    # as ChromeOS's *-arm.policy files: ARM_ names and constants whose value is arm's
    a = tmp_path / "a-arm.policy"
    a.write_text(ARM_POLICY)
    b = tmp_path / "b-arm.policy"
    b.write_text(ARM_POLICY.replace("ARM_set_tls: 1\n", ""))
    assert not bpfdiff.diff(str(a), str(a), arch="arm")
    d = bpfdiff.diff(str(a), str(b), arch="arm")
    assert [(c.arch, c.syscall, c.number, c.a, c.b) for c in d.changes] == [
        (Arch.ARM, "set_tls", 0x0F0005, ALLOW, KILL)]
    # against the program `seccomp export --arch arm` writes: the same constants
    f = sp.load(str(a), arch="arm").compile(arch="arm")
    try:
        program = f.export_bpf()
    finally:
        f.release()
    assert bpf.evaluate(program, "ioctl", (3, 0x80046601), arch="arm") == ALLOW  # arm's value
    assert not bpfdiff.diff(str(a), program, arch="arm")
    out = _cli("diff", "--arch", "arm", str(a), str(b))
    assert out.returncode == 1 and "set_tls" in out.stdout and out.stderr == "", out.stderr


def test_explain_lists_arms_private_syscalls():
    f = sp.loads(ARM_POLICY, "minijail", arch="arm").compile(arch="arm")
    try:
        e = bpf.explain(f)
    finally:
        f.release()
    verdicts = {v.syscall: v for v in e.syscalls}
    assert verdicts["set_tls"].number == 0x0F0005 and verdicts["set_tls"].actions == (ALLOW,)
    assert verdicts["cacheflush"].actions == (KILL,)


# -- diff: the sources every other command reads ------------------------------------------------

def test_diff_compares_one_thread_category_of_a_firecracker_file(tmp_path):
    data = json.load(open(FIRECRACKER))
    rules = data["vcpu"]["filter"]  # KVM_RUN (0xAE80) no longer allowed
    rules.remove(next(r for r in rules if r["syscall"] == "ioctl"
                      and [a["val"] for a in r["args"]] == [0xAE80]))
    changed = tmp_path / "fc.json"
    changed.write_text(json.dumps(data))
    assert not bpfdiff.diff(FIRECRACKER, FIRECRACKER, thread="vcpu", arch="x86_64")
    d = bpfdiff.diff(FIRECRACKER, str(changed), thread="vcpu", arch="x86_64")
    assert {(c.syscall, c.a, c.b) for c in d.changes} == {("ioctl", ALLOW, Action.TRAP)}
    assert {dict(c.args)[1] & 0xFFFFFFFF for c in d.changes} == {0xAE80}
    assert not bpfdiff.diff(FIRECRACKER, str(changed), thread="vmm", arch="x86_64")
    out = _cli("diff", FIRECRACKER, FIRECRACKER)  # several categories: the option it names
    assert out.returncode == 2 and "choose one (--thread NAME)" in out.stderr
    out = _cli("diff", "--thread", "vcpu", "--arch", "x86_64", FIRECRACKER, str(changed))
    assert out.returncode == 1 and out.stdout.count("ioctl") == len(d.changes), out.stderr
    # against the category written in each other format: a file of one filter ignores it
    for fmt, ext in (("oci", ".json"), ("minijail", ".policy"), ("gosecco", ".seccomp"),
                     ("seccompiler", ".json")):
        written = tmp_path / ("vcpu-" + fmt + ext)
        written.write_text(sp.dumps(sp.load(FIRECRACKER, thread="vcpu"), fmt))
        assert not bpfdiff.diff(FIRECRACKER, str(written), thread="vcpu", arch="x86_64",
                                enosys=False), fmt


SPO_YAML = """apiVersion: security-profiles-operator.x-k8s.io/v1
kind: SeccompProfile
metadata:
  name: profile-allowed-syscalls
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures:
  - SCMP_ARCH_X86_64
  syscalls:
  - action: SCMP_ACT_ALLOW
    names:
    - exit_group
    - futex
    - nanosleep
"""


def test_diff_reads_seccompprofile_resources_in_yaml(tmp_path):
    pytest.importorskip("yaml", reason="reading YAML needs PyYAML")
    a = tmp_path / "a.yaml"
    a.write_text(SPO_YAML)
    b = tmp_path / "b.yaml"
    b.write_text(SPO_YAML.replace("    - futex\n", ""))
    assert not bpfdiff.diff(str(a), str(a))
    d = bpfdiff.diff(str(a), str(b), arch="x86_64")
    assert [(c.syscall, c.a, c.b) for c in d.changes] == [
        ("futex", ALLOW, Action.ERRNO(1))]


def test_diff_names_a_file_by_a_path_as_every_command_does(tmp_path):
    # a bare name is a built-in profile: a file called "default" does not replace it
    (tmp_path / "default").write_text('{"defaultAction": "SCMP_ACT_ALLOW"}')
    assert not bpfdiff.diff("default", profile.load("default"))
    out = _cli("diff", "default", "./default", cwd=str(tmp_path))
    assert out.returncode == 1, out.stderr
    out = _cli("diff", "default", "default.json", cwd=str(tmp_path))
    assert out.returncode == 2 and "./default.json" in out.stderr


def test_diff_reports_skipped_syscalls_as_the_other_commands_do(tmp_path):
    a = tmp_path / "a.policy"
    a.write_text("read: 1\nmseal: 1\n")
    out = _cli("diff", "--arch", "aarch64" if Arch.native() is not Arch.AARCH64 else "x86_64",
               str(a), str(a))
    assert out.returncode == 0, out.stderr
    from seccomp._info import syscall_known
    if not syscall_known("mseal"):  # left out on a foreign architecture, saying so
        lines = set(out.stderr.splitlines())
        assert lines == {"seccomp: warning: syscalls unknown to libseccomp skipped: mseal"}


def test_docker_one_rule_change_is_named_on_every_architecture_of_its_arch_map():
    changed = _docker_with(_deny_writev)
    for arch in ("x86_64", "aarch64", "s390x", "riscv64"):
        d = bpfdiff.diff(DOCKER, changed, arch=arch)
        assert {c.syscall for c in d.changes} == {"writev"}, arch
        assert {c.arch for c in d.changes} == set(d.arches), arch
    data = copy.deepcopy(json.load(open(DOCKER)))
    assert profile.load(data) == profile.load(DOCKER)


# -- Kubernetes: SeccompProfile resources as the API server returns them ----------------------

def test_seccompprofile_with_the_state_the_api_server_fills_in():
    # the operator's v1 API (2026) has spec.state, Enabled by default: a resource read back
    # from a cluster (kubectl get sp NAME -o yaml) has it, with a status
    pytest.importorskip("yaml", reason="reading YAML needs PyYAML")
    path = os.path.join(HERE, "spo_profile_allowed_syscalls.yaml")
    p = profile.load(path)
    assert p.default_action == Action.ERRNO(1)
    f = p.compile(arch="x86_64")
    try:
        program = f.export_bpf()
    finally:
        f.release()
    assert bpf.evaluate(program, "futex", arch="x86_64") == ALLOW
    assert bpf.evaluate(program, "mount", arch="x86_64") == Action.ERRNO(1)
    text = open(path).read()
    with pytest.raises(profile.ProfileError, match=r"spec.state: the profile is disabled"):
        profile.load(text.replace("state: Enabled", "state: Disabled"))
    with pytest.raises(profile.ProfileError, match=r"spec.state: expected Enabled or Disabled, "
                                                   r"not 'enabled'"):
        profile.load(text.replace("state: Enabled", "state: enabled"))


# -- Android: minijail policies read by minijail's C parser ------------------------------------

ANDROID = os.path.join(HERE, "android")


def test_android_policy_repeating_its_includes_lines_compiles_as_android_reads_it():
    # mediaextractor-arm64.policy allows readlinkat twice and prctl, mprotect and mmap
    # outright, then @includes crash_dump.arm64.policy, which allows them again with
    # conditions: Android's minijail (ALLOW_DUPLICATE_SYSCALLS) keeps the first definition
    path = os.path.join(ANDROID, "mediaextractor-arm64.policy")
    with pytest.warns(UserWarning) as caught:
        policy = sp.load(path, arch="aarch64")
    ignored = sorted(str(w.message).split(" syscall ")[1].split()[0] for w in caught
                     if "never decides" in str(w.message))
    assert ignored == ["mmap", "mprotect", "prctl"]  # plain repeats of "1" say nothing
    f = policy.compile(arch="aarch64")
    try:
        program = f.export_bpf()
    finally:
        f.release()
    d = lambda *a: bpf.evaluate(program, a[0], a[1:], arch="aarch64")  # noqa: E731
    assert d("prctl", 38) == ALLOW and d("mmap", 0, 4096, 7, 0x22) == ALLOW
    assert d("readlinkat") == ALLOW and d("recvfrom") == ALLOW  # from crash_dump
    assert d("execve") == KILL and d("socket", 2, 1, 0) == KILL


def test_android_policy_with_conditions_from_the_command_line():
    path = os.path.join(ANDROID, "mediaswcodec-arm64.policy")
    run = ["--profile", path, "--arch", "aarch64"]
    for args, want in ((["mmap", "0", "4096", "5", "0x22"], "ALLOW"),   # PROT_READ|EXEC
                       (["mmap", "0", "4096", "7", "0x22"], "KILL_PROCESS"),  # and WRITE
                       (["mremap", "0", "0", "0", "3"], "ALLOW"),
                       (["mremap", "0", "0", "0", "1"], "KILL_PROCESS")):
        out = _cli("check", *run, *args)
        assert out.stdout.strip() == want and out.stderr == "", (args, out.stderr)
    out = _cli("explain", *run)
    assert out.returncode == 0 and "mremap" in out.stdout, out.stderr


# -- a name that is no syscall: refused where the format refuses it ----------------------------

@pytest.mark.parametrize("fmt, text, where", [
    ("minijail", "read: 1\nreadlinkt: 1\n", "<inline>:2:1"),
    ("seccompiler", json.dumps({"main": {"mismatch_action": "trap", "match_action": "allow",
                                         "filter": [{"syscall": "read"},
                                                    {"syscall": "readlinkt"}]}}),
     "main.filter[1].syscall"),
    ("gosecco", "read: 1\nreadlinkt: 1\n", "<inline>:2:1"),
])
def test_a_misspelt_syscall_is_refused_with_its_place(fmt, text, where):
    # minijail and seccompiler refuse names they have no number for; the allow-list would
    # otherwise leave the syscall to the default action (it was skipped with a warning)
    with pytest.raises(sp.PolicyError, match="invalid syscall 'readlinkt': no architecture") \
            as e:
        sp.loads(text, fmt)
    assert where in str(e.value)
    sp.loads(text.replace("readlinkt", "readlinkat"), fmt).compile().release()
    sp.loads(text.replace("readlinkt", "mseal"), fmt)  # newer than libseccomp 2.5: known


def test_a_syscall_newer_than_libseccomp_is_named_by_explain_and_diff(tmp_path):
    # 355 of ChromeOS platform2's 377 policies allow mseal: on the native architecture it is
    # added by number, and explain and diff name it from the package's syscall table
    from seccomp._syscall_table import newer_syscalls
    native = Arch.native()
    number = newer_syscalls()["mseal"][str(native)]
    a = tmp_path / "a.policy"
    a.write_text("read: 1\nmseal: 1\n")
    b = tmp_path / "b.policy"
    b.write_text("read: 1\n")
    d = bpfdiff.diff(str(a), str(b))
    assert [(c.syscall, c.number, c.a, c.b) for c in d.changes] == [
        ("mseal", number, ALLOW, KILL)]
    f = sp.load(str(a)).compile()
    try:
        e = bpf.explain(f)
    finally:
        f.release()
    assert [(v.syscall, v.number, v.actions) for v in e.syscalls
            if v.syscall == "mseal"] == [("mseal", number, (ALLOW,))]


def test_gosecco_a_numeric_macro_used_as_a_rule_is_refused_where_it_is_used():
    # as gosecco's own test policy missing_variable_policy: the macro is fine, its use is not
    text = "# a comment\n\nplus_one(a) = 1 + a\n\nread: plus_one(b)\n"
    with pytest.raises(sp.PolicyError, match=r"^t.seccomp:5:7: expected a condition, found a "
                                             r"number: plus_one is one \(defined at "
                                             r"t.seccomp:3:1\)"):
        gosecco.parse(text, file="t.seccomp")


SPO_SEVERAL = os.path.join(HERE, "spo_seccompprofiles.yaml")


def test_one_of_several_seccompprofile_resources_by_its_name(tmp_path):
    # the operator's examples/seccompprofile.yaml holds four resources; kubectl get
    # seccompprofiles -o yaml gives a List: one is picked by its metadata.name
    yaml = pytest.importorskip("yaml", reason="reading YAML needs PyYAML")
    with pytest.raises(profile.ProfileError, match=r"4 SeccompProfile resources in one YAML "
                                                   r"file \(profile-block-all, .*\): choose one"):
        profile.load(SPO_SEVERAL)
    p = profile.load(SPO_SEVERAL, name="profile-complain-block-high-risk")
    assert p.default_action == Action.LOG
    assert profile.load(SPO_SEVERAL, name="profile-block-all").default_action == \
        Action.ERRNO(1)
    with pytest.raises(profile.ProfileError, match=r"no SeccompProfile resource named 'nope'"):
        profile.load(SPO_SEVERAL, name="nope")
    docs = [d for d in yaml.safe_load_all(open(SPO_SEVERAL)) if d]
    listed = tmp_path / "list.yaml"
    listed.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": docs}))
    assert profile.load(str(listed), name="profile-complain-block-high-risk") == p
    one = tmp_path / "one.json"
    one.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": docs[:1]}))
    assert profile.load(str(one)) == profile.load(SPO_SEVERAL, name="profile-block-all")
    out = _cli("check", "--profile", str(listed), "--thread", "profile-allow-unsafe", "ptrace")
    assert (out.returncode, out.stdout) == (0, "ALLOW\n"), out.stderr
    out = _cli("check", "--profile", SPO_SEVERAL, "ptrace")
    assert out.returncode == 1 and "choose one by its name (--thread NAME)" in out.stderr
    d = bpfdiff.diff(SPO_SEVERAL, str(listed), thread="profile-complain-block-high-risk")
    assert not d


def test_writing_a_profile_of_several_architectures_in_a_format_of_one_says_so():
    # Docker's profile for x86_64 also covers x86 and x32; a gosecco file names none
    policy = sp.from_profile(profile.load(DOCKER), arch="x86_64")
    with pytest.warns(UserWarning, match=r"gosecco's format names no architecture: the policy "
                                         r"covers x86_64, x86, x32"):
        sp.dumps(policy, "gosecco")


@pytest.mark.parametrize("name, text, message", [
    # a kustomize patch beside the operator's profiles (deploy/overlays/cluster)
    ("operator-profile.yaml", "- op: replace\n  path: /metadata/namespace\n  value: spo\n",
     "operator-profile.yaml: a profile is a JSON object (or a SeccompProfile resource), not "
     "an array"),
    ("cm.yaml", "apiVersion: v1\nkind: ConfigMap\ndata: {}\n",
     "cm.yaml: a ConfigMap (apiVersion v1), not a SeccompProfile resource"),
])
def test_a_kubernetes_manifest_that_is_no_profile_says_what_it_is(tmp_path, name, text,
                                                                   message):
    # was read as a minijail policy ("unexpected character '-'") or as a profile with
    # unknown fields ("apiVersion: unknown field")
    pytest.importorskip("yaml", reason="reading YAML needs PyYAML")
    path = tmp_path / name
    path.write_text(text)
    out = _cli("check", "--profile", str(path), "read")
    assert out.returncode == 1 and out.stderr == "seccomp: error: %s/%s\n" % (tmp_path, message)


def test_a_syscall_of_another_architecture_alone_is_not_reported_as_skipped():
    # Docker's profile allows riscv_hwprobe (riscv64's alone, newer than libseccomp 2.5.4):
    # written as a policy and compiled for another architecture, nothing is left out
    from seccomp._info import syscall_known
    if syscall_known("riscv_hwprobe"):
        pytest.skip("this libseccomp knows riscv_hwprobe")
    policy = sp.loads("read: 1\nriscv_hwprobe: 1\n", "minijail", arch="aarch64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = policy.compile(arch="aarch64")
    assert f.skipped_syscalls == ()
    f.release()
    with pytest.warns(UserWarning, match="skipped: riscv_hwprobe"):
        f = sp.loads("read: 1\nriscv_hwprobe: 1\n", "minijail", arch="riscv64").compile(
            arch="riscv64")
    assert f.skipped_syscalls == ("riscv_hwprobe",)
    f.release()


@pytest.mark.skipif(shutil.which("busybox") is None, reason="needs busybox")
def test_runcs_default_errno_profile_runs_a_shell_whose_fork_fails_with_enxio():
    # runc's integration test profile: 337 syscalls allowed (not clone), the rest fail with
    # defaultErrnoRet 6 (ENXIO); busybox sh writes, and cannot start another process
    path = os.path.join(HERE, "runc_seccomp_syscall_test2.json")
    out = subprocess.run([sys.executable, "-m", "seccomp", "run", "--profile", path, "--",
                          "busybox", "sh", "-c", "echo ok; busybox true; echo after"],
                         capture_output=True, text=True, timeout=60)
    assert out.stdout == "ok\n" and out.returncode == 2, (out.returncode, out.stderr)
    assert "can't fork: " + os.strerror(errno.ENXIO) in out.stderr
    assert bpfdiff.diff(path, path).changes == []


def test_systemds_known_group_says_why_it_is_not_one():
    # systemd-analyze syscall-filter lists @known; the other groups are systemd's own
    with pytest.raises(ValueError, match="systemd's @known .* is not a group here"):
        profile.expand("@known")


def test_diff_reads_one_side_from_stdin(tmp_path):
    # seccomp dump PID --format bpf | seccomp diff PROFILE -
    f = profile.load(DOCKER).compile()
    try:
        program = f.export_bpf()
    finally:
        f.release()
    out = subprocess.run([sys.executable, "-m", "seccomp", "diff", DOCKER, "-"],
                         input=program, capture_output=True)
    assert out.returncode == 0 and out.stdout.startswith(b"no difference"), out.stderr
