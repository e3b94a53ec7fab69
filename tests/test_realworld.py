"""Real policies other projects ship (excerpts in tests/realworld/, sources in its README).

Each construct a real file uses is read, compiled, checked against the model by the emulator,
written in every format that can state it and read back with the same decisions. The whole
files were checked the same way when these tests were written: crosvm's 97 policies
(x86_64, aarch64, riscv64; the same decisions as minijail's own policy compiler on every
boundary value), Firecracker's x86_64 and aarch64 JSON (every thread category), Subgraph OZ's
gosecco profiles, and Docker's, Podman's and runc's profiles.
"""
import errno
import json
import os
import re
import shutil
import subprocess
import sys
import warnings

import pytest

import seccomp.policy as sp
from seccomp import Action, bpf, profile
from seccomp.policy import PolicyError, constants, gosecco, minijail

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "realworld")
CROSVM = os.path.join(HERE, "crosvm")
FIRECRACKER = os.path.join(HERE, "firecracker_x86_64.json")
OZ = os.path.join(HERE, "oz_whitelist.seccomp")

KILL = Action.KILL_PROCESS
ALLOW = Action.ALLOW


def _program(policy, arch):
    f = policy.compile(arch=arch)  # checked against the policy with the emulator
    try:
        return f.export_bpf()
    finally:
        f.release()


def _decide(program, arch, name, *args):
    return bpf.evaluate(program, name, args, arch=arch)


def _round_trips(policy, arch, formats):
    """Write *policy* in each of *formats*, read it back: the same decisions at the boundary
    values of every comparison, by the emulator on both programs."""
    original = _program(policy, arch)
    calls = [(name, args) for name in policy.syscalls() for args in policy._vectors(name)]
    calls += [(name, ()) for name in ("ptrace", "mount", "execve")]
    want = bpf.evaluate_many(original, calls, arch=arch)
    for fmt in formats:
        text = sp.dumps(policy, fmt)
        back = sp.loads(text, fmt, **({"arch": arch} if fmt == "minijail" else {}))
        got = bpf.evaluate_many(_program(back, arch), calls, arch=arch)
        diff = [(c, w, g) for c, w, g in zip(calls, want, got) if int(w) != int(g)]
        assert not diff, (fmt, diff[:3])


# -- crosvm: minijail policies as minijail's policy compiler reads them -------------------------

def _crosvm(name="fs_device_vhost_user.policy", arch="x86_64"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        policy = sp.load(os.path.join(CROSVM, name), arch=arch)
    return policy, caught


def test_crosvm_nested_includes_of_installed_paths_join_the_statements():
    policy, caught = _crosvm()
    # /usr/share/policy/crosvm/X.policy is read from beside the including file, saying so
    fallbacks = [w for w in caught if issubclass(w.category, minijail.IncludeFallbackWarning)]
    messages = " | ".join(str(w.message) for w in fallbacks)
    for name in ("vhost_user", "fs_device", "common_device"):
        assert "@include /usr/share/policy/crosvm/%s.policy: no such file; reading %s" % (
            name, os.path.join(CROSVM, name + ".policy")) in messages
    assert len(fallbacks) == 3
    prog = _program(policy, "x86_64")
    d = lambda *a: _decide(prog, "x86_64", *a)  # noqa: E731
    # ioctl has rules in three files, two levels of @include deep: each file's values allow
    for request in (0x5421, 0x802C542A,  # vhost_user: FIONBIO, TCGETS2
                    0x80086601, 0x801C581F, 0x40806685,  # fs_device: FS_IOC_GETFLAGS, ...
                    0xC018AA3F):  # common_device: UFFDIO_API
        assert d("ioctl", 3, request) == ALLOW, hex(request)
    assert d("ioctl", 3, 0x5412) == KILL  # TIOCSTI
    assert d("prctl", 0x53564D41) == ALLOW and d("prctl", 15) == ALLOW  # PR_SET_VMA, _NAME
    assert d("prctl", 22) == KILL  # PR_SET_SECCOMP
    assert d("madvise", 0, 0, 102) == ALLOW and d("madvise", 0, 0, 3) == KILL  # GUARD_INSTALL
    assert d("mmap", 0, 4096, 3) == ALLOW and d("mmap", 0, 4096, 5) == KILL  # in ~PROT_EXEC
    assert d("clone", 0x10000 | 0x100) == ALLOW and d("clone", 0x11) == KILL  # & CLONE_THREAD
    assert d("open") == Action.ERRNO(errno.ENOENT)
    assert d("socketpair", 1) == ALLOW and d("socketpair", 2) == KILL


def test_crosvm_round_trips_through_every_format_that_states_it():
    policy, _ = _crosvm()
    _round_trips(policy, "x86_64", ("minijail", "oci"))
    with pytest.raises(PolicyError, match="KILL_PROCESS"):  # gosecco has no KILL_PROCESS
        sp.dumps(policy, "gosecco")
    with pytest.raises(PolicyError, match=r"fs_device.policy:\d+:7: seccompiler's format has "
                                          r"one match action per filter; open needs"):
        sp.dumps(policy, "seccompiler")


def test_crosvm_from_the_command_line():
    path = os.path.join(CROSVM, "fs_device_vhost_user.policy")
    run = [sys.executable, "-m", "seccomp"]
    out = subprocess.run(run + ["check", "--profile", path, "ioctl", "3", "0x80086601"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "ALLOW", out.stderr
    assert "reading" in out.stderr and "common_device.policy" in out.stderr  # the fallback
    out = subprocess.run(run + ["export", "--profile", path, "--format", "oci"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    written = json.loads(out.stdout)
    assert written["defaultAction"] == "SCMP_ACT_KILL_PROCESS"
    assert "ioctl" in {n for rule in written["syscalls"] for n in rule["names"]}


def test_minijail_statements_of_a_syscall_join_in_order(tmp_path):
    # minijail's policy compiler: a second statement adds to the first; nothing after an
    # unconditional action decides: ignored, naming both places (the compiler refuses it;
    # the C parser, as Android builds it, warns and keeps the first definition)
    p = minijail.parse("ioctl: arg1 == 1\nread: 1\nioctl: arg1 == 2; return EPERM\n",
                       file="t.policy")
    assert [p.decide("ioctl", [0, v]) for v in (1, 2, 3)] == [
        ALLOW, ALLOW, Action.ERRNO(errno.EPERM)]
    with pytest.warns(UserWarning, match=r"t.policy:3:1: syscall ioctl already had an "
                                         r"unconditional action applied \(at t.policy:2:"):
        p = minijail.parse("ioctl: arg1 == 1\nioctl: return EPERM\nioctl: arg1 == 2\n",
                           file="t.policy")
    assert [p.decide("ioctl", [0, v]) for v in (1, 2)] == [ALLOW, Action.ERRNO(errno.EPERM)]


def test_minijail_absolute_include_missing_everywhere_names_it(tmp_path):
    main = tmp_path / "main.policy"
    main.write_text("@include /nonexistent/dir/common.policy\n")
    with pytest.raises(PolicyError, match=r"main.policy:1:10: cannot @include "
                                          r"/nonexistent/dir/common.policy"):
        minijail.load(str(main))


@pytest.mark.parametrize("name, arch, value", [
    ("FS_IOC_GETFLAGS", "x86_64", 0x80086601),     # an ioctl number (_IOR('f', 1, long))
    ("TCGETS2", "aarch64", 0x802C542A),
    ("MADV_GUARD_INSTALL", "riscv64", 102),         # newer than many machines' headers
    ("PR_GET_AUXV", "x86_64", 0x41555856),
    ("O_DIRECTORY", "aarch64", 0o40000),            # differs by architecture
    ("O_DIRECTORY", "x86_64", 0o200000),
    ("AT_FDCWD", "x86_64", (1 << 64) - 100),
    # 32-bit ones (ChromeOS's *-arm.policy files): a long is 4 bytes in ioctl numbers
    ("FS_IOC_GETFLAGS", "arm", 0x80046601), ("BLKGETSIZE64", "x86", 0x80041272),
    ("TCGETS2", "arm", 0x802C542A), ("MADV_GUARD_INSTALL", "arm", 102),
    ("AT_FDCWD", "arm", (1 << 64) - 100),  # the reader wraps it at 32 bits: 0xffffff9c
])
def test_minijail_knows_minijails_constants(name, arch, value):
    assert constants.lookup(name, arch) == value
    p = minijail.parse("ioctl: arg1 == %s\n" % name, arch=arch)
    bits = 32 if arch in ("arm", "x86") else 64  # a 32-bit architecture's arguments
    assert p.decide("ioctl", [0, value & ((1 << bits) - 1)]) == ALLOW


def test_constants_of_one_architecture_are_unknown_on_another():
    assert constants.lookup("ARCH_SET_FS", "x86_64") == 0x1002
    with pytest.raises(PolicyError, match=r"t.policy:1:21: unknown constant 'ARCH_SET_FS'"):
        minijail.parse("arch_prctl: arg0 == ARCH_SET_FS\n", file="t.policy", arch="aarch64")
    # a 64-bit flag has no 32-bit value: unknown there, not 0
    assert constants.lookup("CLONE_INTO_CGROUP", "x86_64") == 0x200000000
    assert constants.lookup("CLONE_INTO_CGROUP", "arm") is None
    # architectures without minijail's table keep the curated one only
    assert constants.lookup("FS_IOC_GETFLAGS", "s390x") is None
    assert constants.lookup("O_CLOEXEC", "s390x") == 0o2000000


def test_a_32_bit_arm_policy_compiles_with_its_own_values():
    # as ChromeOS's platform2 *-seccomp-arm.policy files write them
    text = ("ioctl: arg1 == TCGETS2 || arg1 == BLKGETSIZE64 || arg1 == FS_IOC_GETFLAGS\n"
            "madvise: arg2 == MADV_GUARD_INSTALL\nopenat: arg2 in O_RDONLY|O_DIRECTORY\n")
    prog = _program(minijail.parse(text, arch="arm"), "arm")
    assert _decide(prog, "arm", "ioctl", 3, 0x80041272) == ALLOW
    assert _decide(prog, "arm", "ioctl", 3, 0x80081272) == KILL  # the 64-bit number
    assert _decide(prog, "arm", "ioctl", 3, 0x80046601) == ALLOW
    assert _decide(prog, "arm", "openat", 0, 0, 0o40000) == ALLOW  # arm's O_DIRECTORY
    assert _decide(prog, "arm", "openat", 0, 0, 0o200000) == KILL


def test_syscalls_newer_than_libseccomp_are_added_by_number_for_the_native_arch():
    # 355 of ChromeOS platform2's 377 policies allow mseal (Linux 6.10), which libseccomp
    # 2.5.4 does not know: skipped, glibc's mseal would kill the program
    from seccomp import Arch
    from seccomp._syscall_table import newer_syscalls
    native = str(Arch.native())
    policy = minijail.parse("mseal: 1\nread: 1\nlistmount: arg0 == 0\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing skipped
        prog = _program(policy, native)
    mseal, listmount = (newer_syscalls()[n][native] for n in ("mseal", "listmount"))
    assert _decide(prog, native, mseal) == ALLOW
    assert _decide(prog, native, listmount, 0) == ALLOW
    assert _decide(prog, native, listmount, 1) == KILL
    # libseccomp takes numbers only for the native architecture: elsewhere, skipped, saying so
    from seccomp._info import syscall_known
    if syscall_known("mseal") or syscall_known("listmount"):
        return  # a libseccomp that knows them adds them by name everywhere
    other = "aarch64" if native != "aarch64" else "x86_64"
    with pytest.warns(UserWarning, match="skipped: mseal listmount"):
        f = policy.compile(arch=other)
    assert f.skipped_syscalls == ("mseal", "listmount")
    f.release()


def test_minijail_names_arms_private_syscalls_with_a_prefix():
    # ChromeOS's *-arm.policy files: "ARM_set_tls: 1" (__ARM_NR_set_tls), libseccomp's set_tls
    prog = _program(minijail.parse("ARM_set_tls: 1\n", arch="arm"), "arm")
    assert _decide(prog, "arm", "set_tls") == ALLOW
    assert _decide(prog, "arm", 0x0F0005) == ALLOW and _decide(prog, "arm", "read") == KILL


# -- Firecracker: seccompiler JSON per thread category ---------------------------------------

@pytest.mark.parametrize("thread", ["vmm", "api", "vcpu"])
def test_firecracker_threads_compile_check_and_round_trip(thread):
    policy = sp.load(FIRECRACKER, thread=thread)
    assert policy.default_action == Action.TRAP
    prog = _program(policy, "x86_64")
    d = lambda *a: _decide(prog, "x86_64", *a)  # noqa: E731
    assert d("write") == ALLOW and d("execve") == Action.TRAP
    # dword compares the low 32 bits: musl leaves garbage in the high half of ioctl's request
    request = 0xAE80 if thread == "vcpu" else 0x5421  # KVM_RUN, FIONBIO
    assert d("ioctl", 9, request) == ALLOW
    assert d("ioctl", 9, 0xFFFFFFFF00000000 | request) == ALLOW
    assert d("ioctl", 9, request + 1) == Action.TRAP
    # {"masked_eq": 4} with val 0: mmap without PROT_EXEC
    flags = {"vmm": 0x32, "api": 0x22, "vcpu": 0x1}[thread]
    assert d("mmap", 0, 4096, 3, flags) == ALLOW and d("mmap", 0, 4096, 7, flags) == Action.TRAP
    _round_trips(policy, "x86_64", ("seccompiler", "oci", "gosecco", "minijail"))


def test_firecracker_every_thread_from_the_command_line():
    run = [sys.executable, "-m", "seccomp"]
    out = subprocess.run(run + ["check", "--profile", FIRECRACKER, "ioctl", "3", "0x5401"],
                         capture_output=True, text=True)
    assert out.returncode == 1 and "--thread" in out.stderr  # several categories: choose
    out = subprocess.run(run + ["check", "--profile", FIRECRACKER, "--thread", "vcpu",
                                "ioctl", "3", "0xae80"], capture_output=True, text=True)
    assert out.stdout.strip() == "ALLOW", out.stderr
    out = subprocess.run(run + ["export", "--profile", FIRECRACKER, "--thread", "api",
                                "--format", "minijail"], capture_output=True, text=True)
    assert out.returncode == 0 and "@default trap" in out.stdout, out.stderr


# -- Subgraph OZ: gosecco's language --------------------------------------------------------

def test_oz_gosecco_profile():
    policy = sp.load(OZ)  # blanks end some lines; &? on whole arguments; named constants
    prog = _program(policy, "x86_64")
    d = lambda *a: _decide(prog, "x86_64", *a)  # noqa: E731
    kill = Action.KILL_THREAD
    # arg1 &? FUTEX_WAKE: any of its bits set, in all 64 bits of the argument
    assert d("futex", 0, 0x81) == ALLOW and d("futex", 0, 0x100000001) == ALLOW
    assert d("futex", 0, 0x80) == kill and d("futex", 0, 0x100000000) == kill
    assert d("futex", 0, 4 | 128) == ALLOW  # == FUTEX_CMP_REQUEUE|FUTEX_PRIVATE_FLAG
    assert d("socket", 1, 1 | 0o2000000, 0) == ALLOW and d("socket", 1, 2, 0) == kill
    assert d("fcntl", 0, 7) == ALLOW and d("fcntl", 0, 8) == kill
    assert d("ioctl", 0, 0x5401) == ALLOW and d("read") == ALLOW
    _round_trips(policy, "x86_64", ("gosecco", "oci", "seccompiler"))


@pytest.mark.parametrize("name, value", [
    ("IPV6_V6ONLY", 26), ("ETH_P_IP", 0x800), ("RTM_NEWLINK", 16), ("WALL", 0x40000000),
    ("SOL_SOCKET", 1), ("FUTEX_WAKE", 1), ("FS_IOC_GETFLAGS", 0x80086601),
])
def test_gosecco_knows_gos_syscall_constants(name, value):
    # gosecco takes its names from Go's syscall package (Subgraph OZ's coyim profile has
    # "arg1 == SOL_IPV6 && arg2 == IPV6_V6ONLY")
    assert constants.gosecco_lookup(name) == value
    p = gosecco.parse("setsockopt: arg2 == %s\n" % name)
    assert p.decide("setsockopt", [0, 0, value]) == ALLOW
    with pytest.raises(PolicyError, match="variable 'IPV6_V6ONL' is not defined"):
        gosecco.parse("setsockopt: arg2 == IPV6_V6ONL\n")


def test_gosecco_and_on_a_whole_argument_needs_a_number():
    with pytest.raises(PolicyError, match=r"t.seccomp:1:12: &\? between a 64-bit argument "
                                          r"and a computed value"):
        gosecco.parse("read: arg0 &? arg1\n", file="t.seccomp")


# -- errno range: what libseccomp accepts, refused where it is written --------------------------

@pytest.mark.parametrize("fmt, text, where", [
    ("minijail", "read: return 4095\n", "1:14"),
    ("minijail", "read: arg0 == 1; return 5000\n", "1:25"),
    ("gosecco", "read: return 4095\n", "1:1"),
    ("seccompiler", '{"t": {"mismatch_action": "allow", "match_action": {"errno": 4095}, '
                    '"filter": [{"syscall": "read"}]}}', "t.match_action.errno"),
])
def test_an_errno_above_max_errno_is_refused_where_written(fmt, text, where):
    # libseccomp wants less than the kernel's MAX_ERRNO (4095)
    with pytest.raises(PolicyError, match="4095|5000") as e:
        sp.loads(text, fmt)
    assert where in str(e.value) and re.search("out of range 0(-|..)4094", str(e.value))
    sp.loads(text.replace("4095", "4094").replace("5000", "4094"), fmt).compile().release()


def test_oci_errno_ret_above_max_errno_is_refused_where_written():
    # moby/profiles' seccomp/fixtures/example.json has "errnoRet": 12345 (runc and crun
    # cannot load it: libseccomp refuses errnos above 4094)
    doc = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1, "syscalls": [
        {"names": ["close"], "action": "SCMP_ACT_ALLOW"},
        {"names": ["syslog"], "action": "SCMP_ACT_ERRNO", "errnoRet": 12345}]}
    with pytest.raises(profile.ProfileError, match=r"syscalls\[1\].errnoRet: errno 12345 is "
                                                   r"out of range 0-4094"):
        profile.load(json.dumps(doc))
    doc["syscalls"][1]["action"] = "SCMP_ACT_TRACE"  # TRACE's message takes 16 bits
    profile.load(json.dumps(doc)).compile().release()


# -- Kubernetes: the Security Profiles Operator's SeccompProfile resources, in YAML -------------

# as in kubernetes-sigs/security-profiles-operator's examples/baseprofile-runc.yaml
SPO_YAML = """---
apiVersion: security-profiles-operator.x-k8s.io/v1alpha1
kind: SeccompProfile
metadata:
  name: runc-v1.0.0-rc92
spec:
  defaultAction: SCMP_ACT_ERRNO
  architectures:
  - SCMP_ARCH_X86_64
  syscalls:
  - action: SCMP_ACT_ALLOW
    names:
    - execve
    - write
  - action: SCMP_ACT_ERRNO
    errnoRet: 38
    names: [clone3]
"""


def test_seccompprofile_resource_in_yaml(tmp_path):
    pytest.importorskip("yaml", reason="reading YAML needs PyYAML")
    path = tmp_path / "profile.yaml"
    path.write_text(SPO_YAML)
    p = profile.load(str(path))
    assert p.default_action == Action.ERRNO(errno.EPERM)
    out = subprocess.run([sys.executable, "-m", "seccomp", "check", "--profile", str(path),
                          "clone3"], capture_output=True, text=True)
    assert out.stdout.strip() == "ERRNO(38)", out.stderr
    assert sp.load(str(path)).decide("write") == ALLOW  # detected as a profile, not minijail
    # examples/seccompprofile.yaml holds three resources: which one is meant is not said
    path.write_text(SPO_YAML + SPO_YAML.replace("runc-v1.0.0-rc92", "other"))
    with pytest.raises(profile.ProfileError, match=r"2 SeccompProfile resources in one YAML "
                                                   r"file \(runc-v1.0.0-rc92, other\)"):
        profile.load(str(path))


def test_yaml_without_pyyaml_says_what_is_needed(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "yaml", None)  # import yaml raises ImportError
    path = tmp_path / "profile.yaml"
    path.write_text(SPO_YAML)
    with pytest.raises(profile.ProfileError, match="reading YAML needs PyYAML"):
        profile.load(str(path))


@pytest.mark.skipif(shutil.which("busybox") is None, reason="needs busybox")
def test_docker_and_podman_defaults_run_busybox():
    profiles = os.path.join(os.path.dirname(HERE), "profiles")
    for name in ("docker_default.json", "podman_default.json"):
        out = subprocess.run([sys.executable, "-m", "seccomp", "run", "--profile",
                              os.path.join(profiles, name), "--", "busybox", "sh", "-c",
                              "ls / >/dev/null && echo ok"], capture_output=True, text=True)
        assert (out.returncode, out.stdout) == (0, "ok\n"), (name, out.stderr)
