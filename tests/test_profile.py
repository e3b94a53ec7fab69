"""seccomp.profile: reading both formats, validation messages, resolution for a target,
compilation with container-runtime semantics, writing OCI JSON, syscall groups.

Fixtures in tests/profiles/ are written for these tests from the documented formats (OCI
runtime-spec `linux.seccomp`, Docker/Moby profiles, Podman's additions). Filters are loaded only
in forked children, which report the errno the kernel really returned.
"""
import ctypes
import errno
import json
import os
import pathlib
import signal
import warnings

import pytest

import seccomp
import seccomp.bpf
from seccomp import Action, Arch, Op
from seccomp import profile as P
from seccomp.profile import CONTAINER_CAPS, ProfileError
from childproc import in_child
from kernel import syscall

HERE = pathlib.Path(__file__).parent / "profiles"
DOCKER = HERE / "docker_style.json"
PODMAN = HERE / "podman_style.json"
OCI_CONFIG = HERE / "oci_config.json"
NATIVE = Arch.native()
needs_x86_64 = pytest.mark.skipif(NATIVE != Arch.X86_64, reason="fixture expectations are "
                                  "written for an x86_64 host")


def names_of(prof):
    """syscall name -> list of (action, args) over the profile's rules."""
    out = {}
    for r in prof.rules:
        for n in r.names:
            out.setdefault(n, []).append((r.action, r.args))
    return out


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def test_load_accepts_path_text_bytes_dict_and_builtin_name():
    text = DOCKER.read_text()
    from_path = P.load(str(DOCKER))
    assert P.load(DOCKER) == from_path                     # os.PathLike
    assert P.load(text) == from_path
    assert P.load(text.encode()) == from_path
    assert P.load(json.loads(text)) == from_path
    assert "default" in P.builtin_profiles()
    assert P.load("default").default_action == Action.ERRNO(errno.EPERM)


def test_docker_format_fields():
    p = P.load(DOCKER)
    assert p.default_action == Action.ERRNO(1)
    assert p.arch_map[0] == (Arch.X86_64, (Arch.X86, Arch.X32))
    assert p.comment.startswith("Fixture")
    assert not p.resolved
    single = p.rules[1]
    assert single.names == ("getppid",) and single.comment == "the old single-name form"
    assert p.rules[2].includes.arches == (Arch.X86_64, Arch.X32)    # "amd64" is x86_64
    assert p.rules[4].includes.caps == ("CAP_SYS_ADMIN", "CAP_SYS_PTRACE")
    assert p.rules[5].includes.min_kernel == (4, 8)
    clone = p.rules[7]
    assert clone.args == (P.Arg(0, 0x7E020000, Op.MASKED_EQ, 0),)
    assert clone.excludes.arches == (Arch.S390, Arch.S390X)
    assert p.rules[11].action == Action.ERRNO(errno.EACCES)


def test_podman_errno_names():
    p = P.load(PODMAN)
    assert p.default_action == Action.ERRNO(errno.ENOSYS)          # defaultErrno
    acts = {r.names[0]: r.action for r in p.rules}
    assert acts["getppid"] == Action.ERRNO(errno.EPERM)           # errnoRet + matching errno
    assert acts["getpgid"] == Action.ERRNO(errno.EXDEV)           # errno name only
    assert acts["getsid"] == Action.ERRNO(errno.EACCES)           # a name where a number goes


def test_oci_config_json_and_every_oci_field():
    p = P.load(OCI_CONFIG)
    assert p.default_action == Action.ALLOW
    assert p.architectures == (Arch.X86_64, Arch.X86)
    assert p.flags == ("SECCOMP_FILTER_FLAG_LOG",)
    assert p.listener_path == "/run/seccomp-agent.sock" and p.listener_metadata == "meta"
    assert p.rules[0].action == Action.ERRNO(18)
    assert p.rules[1].action == Action.ERRNO(errno.EPERM)         # SCMP_ACT_ERRNO defaults to EPERM
    assert p.rules[2].action == Action.KILL_PROCESS
    assert p.rules[2].args[1] == P.Arg(1, 0, Op.EQ, 0)
    assert p.resolved


def test_actions_by_name():
    for name, want in [("SCMP_ACT_KILL", Action.KILL_THREAD), ("SCMP_ACT_TRAP", Action.TRAP),
                       ("SCMP_ACT_LOG", Action.LOG), ("SCMP_ACT_NOTIFY", Action.NOTIFY),
                       ("SCMP_ACT_KILL_PROCESS", Action.KILL_PROCESS)]:
        assert P.load({"defaultAction": name}).default_action == want
    p = P.load({"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["ptrace"], "action": "SCMP_ACT_TRACE", "errnoRet": 7}]})
    assert p.rules[0].action == Action.TRACE(7)


# ---------------------------------------------------------------------------------------------
# Validation: every error names its place
# ---------------------------------------------------------------------------------------------

def base(**changes):
    d = {"defaultAction": "SCMP_ACT_ALLOW",
         "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
                      {"names": ["getppid"], "action": "SCMP_ACT_ERRNO",
                       "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]}]}
    d.update(changes)
    return d


def with_rule(**fields):
    d = base()
    d["syscalls"][1] = dict(d["syscalls"][1], **fields)
    return d


def with_arg(**fields):
    return with_rule(args=[{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
                           dict({"index": 1, "value": 2, "op": "SCMP_CMP_EQ"}, **fields)])


INVALID = [
    (with_arg(op="SCMP_CMP_EQQ"), 'syscalls[1].args[1].op: unknown operator "SCMP_CMP_EQQ"'),
    (with_arg(index=6), "syscalls[1].args[1].index: 6 is out of range 0..5"),
    (with_arg(value=-1), "syscalls[1].args[1].value: -1 is out of range"),
    (with_arg(value=2 ** 64), "syscalls[1].args[1].value: 18446744073709551616 is out of range"),
    (with_arg(valueTwo="3"), "syscalls[1].args[1].valueTwo: expected a number, not a string"),
    (with_arg(op=None), "syscalls[1].args[1].op: expected a string, not null"),
    (with_arg(idx=1), "syscalls[1].args[1].idx: unknown field"),
    (with_rule(args=[{"value": 1, "op": "SCMP_CMP_EQ"}]), "syscalls[1].args[0].index: missing"),
    (with_rule(action="SCMP_ACT_ALLOWW"), 'syscalls[1].action: unknown action "SCMP_ACT_ALLOWW"'),
    (with_rule(action=None), "syscalls[1].action: expected a string, not null"),
    (with_rule(name="getpgid"), "syscalls[1]: both 'name' and 'names' are set"),
    (with_rule(names=[]), "syscalls[1].names: no syscall names"),
    (with_rule(names=["get pid"]), "syscalls[1].names[0]: invalid syscall name 'get pid'"),
    (with_rule(names=["getpid", 7]), "syscalls[1].names[1]: expected a string, not a number"),
    (with_rule(action="SCMP_ACT_ALLOW", errnoRet=1),
     "syscalls[1].errnoRet: an errno is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"),
    (with_rule(errnoRet=70000), "syscalls[1].errnoRet: 70000 is out of range 0..65535"),
    (with_rule(errnoRet="EPERMX"), "syscalls[1].errnoRet: unknown errno name 'EPERMX'"),
    (with_rule(errnoRet=1, errno="EACCES"), "syscalls[1].errno: EACCES (13) contradicts errnoRet 1"),
    (with_rule(includes={"caps": ["SYS_ADMIN"]}),
     "syscalls[1].includes.caps[0]: unknown capability 'SYS_ADMIN' (did you mean CAP_SYS_ADMIN?)"),
    (with_rule(includes={"arches": ["vax"]}), "syscalls[1].includes.arches[0]: unknown architecture 'vax'"),
    (with_rule(excludes={"minKernel": "four.eight"}),
     "syscalls[1].excludes.minKernel: invalid kernel version 'four.eight'"),
    (with_rule(excludes={"kernel": "4.8"}), "syscalls[1].excludes.kernel: unknown field"),
    (base(architectures=["SCMP_ARCH_X86_64"], archMap=[{"architecture": "SCMP_ARCH_X86_64"}]),
     "both 'architectures' and 'archMap' are set"),
    (base(architectures=["SCMP_ARCH_VAX"]), "architectures[0]: unknown architecture 'SCMP_ARCH_VAX'"),
    (base(archMap=[{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_Z80"]}]),
     "archMap[0].subArchitectures[0]: unknown architecture 'SCMP_ARCH_Z80'"),
    (base(flags=["SECCOMP_FILTER_FLAG_TSYNCC"]), 'flags[0]: unknown flag "SECCOMP_FILTER_FLAG_TSYNCC"'),
    (base(listenerMetadata="x"), "listenerMetadata: set without listenerPath"),
    (base(defaultActon="SCMP_ACT_ALLOW"), "defaultActon: unknown field"),
    (base(defaultAction="allow"), 'defaultAction: unknown action "allow"'),
    (base(defaultAction="SCMP_ACT_ALLOW", defaultErrnoRet=1),
     "defaultErrnoRet: an errno is only valid with SCMP_ACT_ERRNO"),
    (base(syscalls={"names": ["x"]}), "syscalls: expected an array, not an object"),
    (base(syscalls=["getpid"]), "syscalls[0]: expected an object, not a string"),
    ({"syscalls": []}, "defaultAction: missing"),
    # a field of the wrong type is an error, never "no restriction" (issue: {} read as "none")
    (with_rule(args={}), "syscalls[1].args: expected an array, not an object"),
    (with_rule(args=""), "syscalls[1].args: expected an array, not a string"),
    (with_rule(args=0), "syscalls[1].args: expected an array, not a number"),
    (with_rule(args=False), "syscalls[1].args: expected an array, not a boolean"),
    (with_rule(args=[None]), "syscalls[1].args[0]: expected an object, not null"),
    (with_rule(includes={"caps": ""}), "syscalls[1].includes.caps: expected an array, not a string"),
    (with_rule(includes={"caps": {}}), "syscalls[1].includes.caps: expected an array, not an object"),
    (with_rule(includes={"caps": False}), "syscalls[1].includes.caps: expected an array, not a boolean"),
    (with_rule(excludes={"caps": [7]}), "syscalls[1].excludes.caps[0]: expected a string, not a number"),
    (with_rule(includes={"caps": ["CAP_SYSADMIN"]}),
     "syscalls[1].includes.caps[0]: unknown capability 'CAP_SYSADMIN' (did you mean CAP_SYS_ADMIN?)"),
    (with_rule(includes={"caps": ["CAP_FROBNICATE"]}),
     "syscalls[1].includes.caps[0]: unknown capability 'CAP_FROBNICATE'"),
    (with_rule(includes=""), "syscalls[1].includes: expected an object, not a string"),
    (with_rule(includes=False), "syscalls[1].includes: expected an object, not a boolean"),
    (with_rule(excludes=[]), "syscalls[1].excludes: expected an object, not an array"),
    (with_rule(includes={"minKernel": ""}), "syscalls[1].includes.minKernel: invalid kernel version ''"),
    (with_rule(includes={"minKernel": "4"}), "syscalls[1].includes.minKernel: invalid kernel version '4'"),
    (with_rule(includes={"minKernel": "4.8x"}),
     "syscalls[1].includes.minKernel: invalid kernel version '4.8x'"),
    (with_rule(includes={"minKernel": 4.8}), "syscalls[1].includes.minKernel: expected a string, not a number"),
    (with_rule(includes={"arches": "amd64"}), "syscalls[1].includes.arches: expected an array, not a string"),
    (with_rule(excludes={"arches": [None]}), "syscalls[1].excludes.arches[0]: expected a string, not null"),
    (with_rule(name=0), "syscalls[1].name: expected a string, not a number"),
    (with_rule(name=False), "syscalls[1].name: expected a string, not a boolean"),
    (with_rule(names="getppid"), "syscalls[1].names: expected an array, not a string"),
    (with_rule(names={}), "syscalls[1].names: expected an array, not an object"),
    (with_rule(names=None), "syscalls[1].names: no syscall names"),
    (with_rule(comment=False), "syscalls[1].comment: expected a string, not a boolean"),
    (with_rule(comment=0), "syscalls[1].comment: expected a string, not a number"),
    (with_rule(action=""), 'syscalls[1].action: unknown action ""'),
    (with_rule(action=1), "syscalls[1].action: expected a string, not a number"),
    (with_rule(errnoRet=False), "syscalls[1].errnoRet: expected a number, not a boolean"),
    (with_rule(errnoRet=-1), "syscalls[1].errnoRet: -1 is out of range 0..65535"),
    (with_rule(errnoRet=1.5), "syscalls[1].errnoRet: expected a whole number, not 1.5"),
    (with_rule(errno=1), "syscalls[1].errno: expected a string, not a number"),
    (with_arg(index="0"), "syscalls[1].args[1].index: expected a number, not a string"),
    (with_arg(index=True), "syscalls[1].args[1].index: expected a number, not a boolean"),
    (with_arg(index=1.0), "syscalls[1].args[1].index: expected a whole number, not 1.0"),
    (with_arg(value=True), "syscalls[1].args[1].value: expected a number, not a boolean"),
    (with_arg(value="1"), "syscalls[1].args[1].value: expected a number, not a string"),
    (with_arg(valueTwo=False), "syscalls[1].args[1].valueTwo: expected a number, not a boolean"),
    (with_arg(valueTwo=[]), "syscalls[1].args[1].valueTwo: expected a number, not an array"),
    (with_arg(op=""), 'syscalls[1].args[1].op: unknown operator ""'),
    (base(defaultErrnoRet=False, defaultAction="SCMP_ACT_ERRNO"),
     "defaultErrnoRet: expected a number, not a boolean"),
    (base(defaultErrnoRet="nope", defaultAction="SCMP_ACT_ERRNO"),
     "defaultErrnoRet: unknown errno name 'nope'"),
    (base(architectures="SCMP_ARCH_X86_64"), "architectures: expected an array, not a string"),
    (base(architectures=[None]), "architectures[0]: expected a string, not null"),
    (base(archMap={}), "archMap: expected an array, not an object"),
    (base(archMap=["SCMP_ARCH_X86_64"]), "archMap[0]: expected an object, not a string"),
    (base(archMap=[{"subArchitectures": []}]), "archMap[0].architecture: missing"),
    (base(archMap=[{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": "SCMP_ARCH_X86"}]),
     "archMap[0].subArchitectures: expected an array, not a string"),
    (base(archMap=[{"architecture": "SCMP_ARCH_X86_64", "subArches": []}]),
     "archMap[0].subArches: unknown field"),
    (base(flags="SECCOMP_FILTER_FLAG_LOG"), "flags: expected an array, not a string"),
    (base(flags=[1]), "flags[0]: expected a string, not a number"),
    (base(listenerPath=False), "listenerPath: expected a string, not a boolean"),
    (base(listenerPath="/a", listenerMetadata={}), "listenerMetadata: expected a string, not an object"),
    (base(comment=0), "comment: expected a string, not a number"),
    (base(syscalls=False), "syscalls: expected an array, not a boolean"),
    ({"ociVersion": "1.0.2", "linux": {}}, "linux.seccomp: missing: this is an OCI config without a seccomp profile"),
    ({"ociVersion": "1.0.2", "linux": {"seccomp": base()},
      "process": {"capabilities": {"bounding": ["CAP_SYS_ADMN"]}}},
     "process.capabilities.bounding[0]: unknown capability 'CAP_SYS_ADMN' (did you mean CAP_SYS_ADMIN?)"),
    ({"ociVersion": "1.0.2", "linux": {"seccomp": base()}, "process": {"capabilities": {"bounding": ""}}},
     "process.capabilities.bounding: expected an array, not a string"),
    ({"ociVersion": "1.0.2", "linux": "x"}, "linux: expected an object, not a string"),
    ({"linux": {"seccomp": base(syscalls=[{"names": ["x"], "action": "SCMP_ACT_NOPE"}])}},
     'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_NOPE"'),
]


@pytest.mark.parametrize("data,message", INVALID, ids=[m[:40] for _, m in INVALID])
def test_invalid_profiles_name_the_place(data, message):
    with pytest.raises(ProfileError) as info:
        P.load(data)
    assert message in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, seccomp.InvalidArgumentError)
    assert info.value.errno == errno.EINVAL
    # the same error from JSON text
    with pytest.raises(ProfileError) as again:
        P.load(json.dumps(data))
    assert str(again.value) == str(info.value)


def test_invalid_json_and_missing_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "defaultAction": "SCMP_ACT_ALLOW",\n  "syscalls": [,]\n}\n')
    with pytest.raises(ProfileError, match=r"bad.json: invalid JSON at line 3 column 16"):
        P.load(str(bad))
    with pytest.raises(ProfileError, match=r"invalid JSON at line 1"):
        P.load("{nope")
    with pytest.raises(ProfileError, match=r"no built-in profile named 'nope' \(built-in "
                                           r"profiles: default\)"):
        P.load("nope")
    with pytest.raises(ProfileError, match=r"cannot read profile '/nonexistent/p.json'"):
        P.load("/nonexistent/p.json")
    with pytest.raises(ProfileError, match="^profile: expected an object, not an array$"):
        P.load("[]")
    with pytest.raises(TypeError):
        P.load(42)


def test_place_and_reason_attributes():
    with pytest.raises(ProfileError) as info:
        P.load(with_arg(op="SCMP_CMP_EQQ"))
    assert info.value.place == "syscalls[1].args[1].op"
    assert info.value.reason.startswith('unknown operator "SCMP_CMP_EQQ"')


def test_underscore_fields_are_comments():
    p = P.load(base(_comment="why", syscalls=[{"names": ["getpid"], "action": "SCMP_ACT_ERRNO",
                                                "_why": "x"}]))
    assert p.rules[0].action == Action.ERRNO(1)


# ---------------------------------------------------------------------------------------------
# Resolving for a target
# ---------------------------------------------------------------------------------------------

def test_resolve_archmap_includes_excludes_minkernel():
    p = P.load(DOCKER)
    r = p.resolve(arch="x86_64", caps=CONTAINER_CAPS, kernel="5.10")
    assert r.resolved and r.arch_map == ()
    assert r.architectures == (Arch.X86_64, Arch.X86, Arch.X32)
    n = names_of(r)
    assert "arch_prctl" in n                        # includes.arches amd64
    assert "sethostname" not in n and "setns" not in n    # includes.caps
    assert "ptrace" in n and "kcmp" not in n        # minKernel 4.8: included / excluded
    assert [args[0].index for _, args in n["clone"]] == [0]    # conditional, not s390's
    assert all(not (r_.includes or r_.excludes) for r_ in r.rules)


def test_resolve_with_capabilities():
    p = P.load(DOCKER)
    r = p.resolve(arch="amd64", caps=CONTAINER_CAPS | {"CAP_SYS_ADMIN"}, kernel=(6, 1))
    n = names_of(r)
    assert "sethostname" in n
    assert "setns" not in n                         # every includes cap is needed
    assert n["clone"] == [(Action.ALLOW, ())]       # unconditional; excluded by CAP_SYS_ADMIN
    both = p.resolve(arch="amd64", caps=["CAP_SYS_ADMIN", "sys_ptrace"], kernel="6.1")
    assert "setns" in names_of(both)


def test_resolve_old_kernel():
    n = names_of(P.load(DOCKER).resolve(arch="x86_64", caps=[], kernel="4.4.0-generic"))
    assert "ptrace" not in n and "kcmp" in n


def test_resolve_other_architectures():
    p = P.load(DOCKER)
    arm = p.resolve(arch="arm64", caps=[], kernel="6.1")
    assert arm.architectures == (Arch.AARCH64, Arch.ARM)
    assert "arch_prctl" not in names_of(arm)
    s390 = names_of(p.resolve(arch="s390x", caps=[], kernel="6.1"))
    assert [args[0].index for _, args in s390["clone"]] == [1]
    # an architecture the archMap does not list gets no extra architectures
    assert p.resolve(arch="ppc64le", caps=[], kernel="6.1").architectures == ()


def test_resolve_defaults_to_an_unprivileged_container_whoever_runs_it():
    p = P.load(DOCKER)
    assert p.resolve() == p.resolve(arch=NATIVE, caps=CONTAINER_CAPS, kernel=P.host_kernel())
    assert P.host_kernel() >= (3, 5)
    # the host's own capabilities only when asked for
    everything = p.resolve(caps=P.CAPABILITIES)
    assert "sethostname" in names_of(everything) and "sethostname" not in names_of(p.resolve())


def test_a_config_json_gives_its_bounding_capabilities():
    config = json.loads(OCI_CONFIG.read_text())
    config["linux"]["seccomp"] = json.loads(DOCKER.read_text())
    assert P.load(config).caps == frozenset()          # no capabilities object: none at all
    config["process"]["capabilities"] = {
        "bounding": ["CAP_SYS_ADMIN", "CAP_CHOWN"], "effective": ["CAP_CHOWN"],
        "permitted": ["CAP_SYS_ADMIN", "CAP_CHOWN"]}
    p = P.load(json.dumps(config))
    assert p.caps == {"CAP_SYS_ADMIN", "CAP_CHOWN"}
    assert "sethostname" in names_of(p.resolve(kernel="6.1"))     # from the bounding set
    assert "sethostname" not in names_of(p.resolve(caps=[], kernel="6.1"))   # caps= wins
    assert P.load(p.to_json()) == p and P.load(p.to_json()).caps is None   # not profile JSON


def test_a_bare_name_is_always_a_builtin_profile(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").write_text('{"defaultAction": "SCMP_ACT_ALLOW"}')
    (tmp_path / "mine.json").write_text('{"defaultAction": "SCMP_ACT_LOG"}')
    assert P.load("default").default_action == Action.ERRNO(errno.EPERM)   # not the file
    assert P.load("default") == P.load(pathlib.Path(P.__file__).parent / "default.json")
    assert P.load("./default").default_action == Action.ALLOW               # a path: the file
    assert P.load(pathlib.Path("default")).default_action == Action.ALLOW   # PathLike: a path
    assert P.load(str(tmp_path / "default")).default_action == Action.ALLOW
    assert P.load(b"default") == P.load("default")
    with pytest.raises(ProfileError, match=r"no built-in profile named 'mine.json' \(built-in "
                                           r"profiles: default\); to read the file 'mine.json' "
                                           r"in this directory, name it by a path: ./mine.json"):
        P.load("mine.json")
    with pytest.raises(ProfileError, match=r"no built-in profile named 'other.json' .*a profile "
                                           r"file is named by a path"):
        P.load("other.json")
    with pytest.raises(ProfileError, match=r"cannot read profile './nope.json': No such file"):
        P.load("./nope.json")


def test_real_profiles_of_other_projects_load():
    """Docker's current default, Podman's (containers-common) default and an OCI config of
    the shape LXC and runtime generators write: every field kind, nulls where Go writes
    them, empty includes/excludes, args null."""
    for name in ("docker_default.json", "podman_default.json", "lxc_oci_config.json"):
        p = P.load(HERE / name)
        assert p.rules, name
        for caps in ([], CONTAINER_CAPS, P.CAPABILITIES):
            r = p.resolve(caps=caps, kernel="6.12")
            assert r.resolved
    docker = P.load(HERE / "docker_default.json")
    assert docker.arch_map[-2] == (Arch.RISCV64, ())        # "subArchitectures": null


def test_parse_caps():
    assert P.parse_caps(["sys_admin", "CAP_NET_RAW"]) == {"CAP_SYS_ADMIN", "CAP_NET_RAW"}
    assert P.parse_caps(["ALL"]) == set(P.CAPABILITIES)
    assert P.parse_caps("cap_bpf") == {"CAP_BPF"}
    with pytest.raises(seccomp.InvalidArgumentError, match="unknown capability 'sys admin'"):
        P.parse_caps(["sys admin"])
    for wrong, near in [("CAP_SYS_ADMN", "CAP_SYS_ADMIN"), ("CAP_SYSADMIN", "CAP_SYS_ADMIN"),
                        ("net_rwa", "CAP_NET_RAW")]:
        with pytest.raises(ValueError, match=r"unknown capability '%s' \(did you mean %s\?\)"
                                             % (wrong, near)):
            P.parse_caps([wrong])
    with pytest.raises(ValueError, match="unknown capability 'CAP_FOO_BAR'$"):
        P.parse_caps(["CAP_FOO_BAR"])      # shaped like one, but not a capability
    with pytest.raises(ValueError, match="a capability is a name"):
        P.parse_caps([None])


# ---------------------------------------------------------------------------------------------
# Compiling
# ---------------------------------------------------------------------------------------------

@needs_x86_64
def test_compile_semantics():
    with pytest.warns(P.SkippedSyscallWarning, match=r"syscalls\[11\] not_a_real_syscall_xyz "
                                                     r"\(ERRNO\(13\)\) on x86_64, x86, x32"):
        f = P.load(DOCKER).compile(caps=CONTAINER_CAPS, kernel="6.1")
    assert set(f.arches) == {Arch.X86_64, Arch.X86, Arch.X32}
    assert f.skipped_syscalls == ("not_a_real_syscall_xyz",)   # unknown: skipped, reported
    assert f.default_action == Action.ERRNO(1)
    assert f.no_new_privs
    # (x86_64 with x32: the program is generated, which the exported text says; libseccomp's
    # text of the rules it was given shows which rules the profile became)
    assert "generated by the seccomp package" in f.export_pfc()
    pfc = f._export_pfc_str()
    assert '"getpgid"' in pfc
    assert '"socket"' not in pfc                    # same action as the default: skipped
    # two conditions on the same argument became two rules (either value allows)
    assert pfc.count("$a0 == 8") >= 1 and pfc.count("$a0 == 0") >= 1
    f.release()


def test_compile_options_and_flags():
    small = P.load(OCI_CONFIG).compile(no_new_privs=False)
    assert not small.no_new_privs
    assert small.log                                # SECCOMP_FILTER_FLAG_LOG
    assert small.optimize == 1                      # small profile: priority-sorted
    big = P.load("default").compile(caps=CONTAINER_CAPS)
    assert big.optimize == 2                        # large profile: binary tree
    assert set(big.skipped_syscalls) <= libseccomp_lacks()
    assert len(big.export_bpf()) // 8 < seccomp._core.MAX_INSTRUCTIONS


def test_compile_for_another_architecture():
    with pytest.warns(P.SkippedSyscallWarning, match="on aarch64, arm"):
        f = P.load(DOCKER).compile(arch="aarch64", caps=[], kernel="6.1")
    assert set(f.arches) == {Arch.AARCH64, Arch.ARM}
    assert len(f.export_bpf()) > 0


def test_conditions_on_different_arguments_stay_one_rule():
    prof = P.load(OCI_CONFIG)

    def child(sig):
        prof.compile().load()
        return syscall("kill", 999999, sig)[1]

    # kill(999999, 1) matches only the first condition: the rule needs both, so it runs
    assert in_child(child, 1).unwrap() == errno.ESRCH
    both = in_child(child, 0)                   # both conditions: KILL_PROCESS
    assert both.signal == signal.SIGSYS and both.value is None


# ---------------------------------------------------------------------------------------------
# Syscalls this libseccomp does not know
# ---------------------------------------------------------------------------------------------

def newest(name):
    """A syscall of the package's newer table that this libseccomp does not know natively."""
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    try:
        seccomp.syscall_number(name)
    except seccomp.InvalidArgumentError:
        return NEWER_SYSCALLS[name][str(NATIVE)]
    pytest.skip("this libseccomp knows %s" % name)


def deny(*names, default="SCMP_ACT_ALLOW", arches=None, errno_=errno.EXDEV):
    d = {"defaultAction": default,
         "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ALLOW"},
                      {"names": list(names), "action": "SCMP_ACT_ERRNO", "errnoRet": errno_}]}
    if arches:
        d["architectures"] = arches
    return P.load(d)


def test_a_syscall_libseccomp_lacks_comes_from_the_newer_table_on_the_native_arch():
    number = newest("mseal")
    with warnings.catch_warnings():
        warnings.simplefilter("error")               # nothing skipped, nothing to warn about
        f = deny("mseal").compile()
    assert f.skipped_syscalls == ()
    assert seccomp.bpf.evaluate(f.export_bpf(), number) == Action.ERRNO(errno.EXDEV)
    assert seccomp.bpf.evaluate(f.export_bpf(), "getpid") == Action.ALLOW

    def child():
        f.load()
        return syscall(number, 0, 0, 0)[1]

    assert in_child(child).unwrap() == errno.EXDEV       # the kernel applies the deny rule


def test_a_skipped_stricter_rule_warns_every_time_and_strict_refuses():
    other = {Arch.X86_64: "x86", Arch.AARCH64: "arm"}.get(NATIVE)
    if other is None:
        pytest.skip("needs a native architecture with a compat one")
    newest("mseal")
    prof = deny("mseal", "not_a_syscall_at_all",
                arches=["SCMP_ARCH_" + str(NATIVE).upper(), "SCMP_ARCH_" + other.upper()])
    for _ in range(2):                                   # every time, not once per place
        with pytest.warns(P.SkippedSyscallWarning) as record:
            f = prof.compile()
        assert len(record) == 1
        text = str(record[0].message)
        assert "syscalls[1] mseal (ERRNO(18)) on %s" % other in text        # non-native only
        assert "mseal (ERRNO(18)) on %s," % NATIVE not in text
        assert "syscalls[1] not_a_syscall_at_all (ERRNO(18)) on %s, %s" % (NATIVE, other) in text
        assert "stricter than the default action ALLOW" in text
        assert record[0].filename == __file__             # attributed to the caller
        assert set(f.skipped_syscalls) == {"mseal", "not_a_syscall_at_all"}
    with pytest.raises(ProfileError, match=r"^syscalls\[1\]: libseccomp .* does not know .*"
                                           r"\(refused: strict\)$"):
        prof.compile(strict=True)


def test_a_deny_rule_for_a_newer_syscall_is_never_dropped_silently_on_any_architecture():
    """On each architecture this libseccomp has, alone in a profile: the rule denies the
    syscall, or a warning names the architecture (2.6.0 has loongarch64, m68k and sh but
    not open_tree_attr there: the table says so, as for 2.5.4's architectures)."""
    from seccomp import _syscall_table as table
    checked = 0
    for arch in table.table_arches():
        if Arch(arch).min_libseccomp > seccomp.library_version() or \
                (int(Arch(arch)) ^ int(NATIVE)) & 0x40000000:
            continue  # (libseccomp lacks it, or a filter of the other byte order)
        column = table._doc()["variants"].get(arch, arch)
        number = next(n["open_tree_attr"] for n in table._doc()["tables"][column].values()
                      if "open_tree_attr" in n)
        prof = deny("open_tree_attr", arches=["SCMP_ARCH_" + arch.upper()])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            f = prof.compile()
        if f.skipped_syscalls:
            assert any("open_tree_attr (ERRNO(18)) on %s" % arch in str(w.message)
                       for w in caught), (arch, [str(w.message) for w in caught])
        else:
            assert seccomp.bpf.evaluate(f.export_bpf(), number, arch=arch) == \
                Action.ERRNO(errno.EXDEV), arch
        f.release()
        checked += 1
    assert checked >= 8


def test_skipped_allow_rules_weaken_nothing_and_do_not_warn():
    prof = P.load({"defaultAction": "SCMP_ACT_ERRNO",
                   "syscalls": [{"names": ["getpid", "not_a_syscall_at_all"],
                                 "action": "SCMP_ACT_ALLOW"},
                                {"names": ["not_a_syscall_either"], "action": "SCMP_ACT_LOG"}]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = prof.compile(strict=True)
    assert f.skipped_syscalls == ("not_a_syscall_at_all", "not_a_syscall_either")
    # a deny rule in a deny-by-default profile with another errno does change the filter
    with pytest.warns(P.SkippedSyscallWarning):
        deny("not_a_syscall_at_all", default="SCMP_ACT_ERRNO").compile()
    with pytest.raises(ProfileError, match=r"syscalls\[0\]: .* nope_nope \(KILL_PROCESS\)"):
        P.load({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
            {"names": ["nope_nope"], "action": "SCMP_ACT_KILL_PROCESS"}]}).compile(strict=True)


def test_newer_table_numbers_match_what_libseccomp_knows():
    """Where this libseccomp knows a name of the table, it agrees on every architecture (the
    table's offsets for mips and x32 included)."""
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    checked = 0
    for name, per_arch in NEWER_SYSCALLS.items():
        for arch, number in per_arch.items():
            if seccomp.Arch(arch).min_libseccomp > seccomp.library_version():
                continue  # (an architecture this libseccomp lacks)
            try:
                known = seccomp.syscall_number(name, arch)
            except seccomp.InvalidArgumentError:
                continue
            if known >= 0:
                assert known == number, (name, arch)
                checked += 1
    if not checked:
        pytest.skip("this libseccomp knows none of the table's syscalls")


def allow_rest_except(prof, *names):
    """Allow what a Python child needs to report back, except the syscalls under test."""
    rest = [n for n in P.expand("@system-service") if n not in names]
    return prof.with_rule(rest, Action.ALLOW)


def test_kernel_applies_podman_profile_errnos():
    prof = allow_rest_except(P.load(PODMAN).resolve(caps=[]), "getppid", "getpgid", "getsid",
                             "getuid")

    def child():
        prof.compile().load()
        return [syscall(n, 0)[1] for n in ("getppid", "getpgid", "getsid", "getuid")]

    assert in_child(child).unwrap() == [errno.EPERM, errno.EXDEV, errno.EACCES, errno.ENOSYS]


def test_kernel_applies_docker_profile_conditions():
    prof = allow_rest_except(P.load(DOCKER).resolve(caps=CONTAINER_CAPS), "personality",
                             "getpgid", "sethostname")

    def child():
        prof.compile().load()
        return (syscall("personality", 0xFFFFFFFF)[1],   # not listed: the default EPERM
                syscall("personality", 0x0040000)[1],    # ADDR_NO_RANDOMIZE: EPERM
                syscall("personality", 8)[1],            # PER_LINUX32: second alternative
                syscall("personality", 0)[1],            # PER_LINUX: first alternative
                syscall("getpgid", 0)[1],                # errnoRet 13
                syscall("sethostname", 0, 0)[1])         # needs CAP_SYS_ADMIN: EPERM

    assert in_child(child).unwrap() == (errno.EPERM, errno.EPERM, 0, 0, errno.EACCES,
                                        errno.EPERM)


def test_kernel_default_profile_via_the_api():
    prof = P.load("default")

    def child():
        prof.compile(caps=CONTAINER_CAPS).load()
        libc = ctypes.CDLL(None, use_errno=True)
        return (syscall("unshare", 0x10000000)[1],      # CLONE_NEWUSER
                syscall("unshare", 0x400)[1],           # CLONE_FILES: fine
                syscall("keyctl", 0, 0)[1],
                syscall("clone3", 0, 0)[1],
                os.getpid() > 0, libc.getpid() > 0)

    # unshare needs CAP_SYS_ADMIN, as under Docker, whatever its flags
    assert in_child(child).unwrap() == (errno.EPERM, errno.EPERM, errno.EPERM, errno.ENOSYS,
                                        True, True)


def test_kernel_default_profile_for_a_container_even_as_root():
    """Without caps=, the library resolves for an unprivileged container, as the CLI does:
    run as root, the filter still denies a user namespace and mount."""
    prof = P.load("default")

    def child():
        prof.compile().load()
        return (syscall("unshare", 0x10000000)[1],
                syscall("mount", 0, 0, 0, 0, 0)[1],
                syscall("getpid")[1])

    assert in_child(child).unwrap() == (errno.EPERM, errno.EPERM, 0)


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def test_resolved_profile_round_trips_as_oci_json():
    r = P.load(DOCKER).resolve(arch="x86_64", caps=CONTAINER_CAPS, kernel="6.1")
    data = json.loads(r.to_json(oci=True))
    assert set(data) == {"defaultAction", "defaultErrnoRet", "architectures", "syscalls"}
    assert data["architectures"] == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]
    for entry in data["syscalls"]:
        assert set(entry) <= {"names", "action", "errnoRet", "args"}   # OCI fields only
    again = P.load(data)
    def strip(p):
        return [(x.names, x.action, x.args) for x in p.rules]
    assert strip(again) == strip(r) and again.architectures == r.architectures
    assert again.default_action == r.default_action
    clone = [e for e in data["syscalls"] if e["names"] == ["clone"]][0]
    assert clone["args"] == [{"index": 0, "value": 0x7E020000, "valueTwo": 0,
                              "op": "SCMP_CMP_MASKED_EQ"}]


def test_unresolved_profile_round_trips_in_docker_format():
    for source in (DOCKER, PODMAN, OCI_CONFIG, "default"):
        p = P.load(source)
        assert P.load(p.to_json()) == p
    resolved = P.load(DOCKER).resolve(caps=[])
    assert P.load(resolved.to_json()) == resolved       # comments kept unless oci=True
    with pytest.raises(seccomp.InvalidArgumentError, match="call resolve"):
        P.load(DOCKER).to_json(oci=True)


def test_with_rule_overrides():
    p = P.load(DOCKER).resolve(arch="x86_64", caps=[], kernel="6.1")
    q = p.with_rule(["getpgid", "@mount"], Action.ERRNO(errno.EXDEV))
    n = names_of(q)
    assert n["getpgid"] == [(Action.ERRNO(errno.EXDEV), ())]
    assert n["mount"] == [(Action.ERRNO(errno.EXDEV), ())]
    assert "not_a_real_syscall_xyz" in n            # the rest of that entry stays


# ---------------------------------------------------------------------------------------------
# Groups
# ---------------------------------------------------------------------------------------------

def test_groups():
    assert "mount" in P.expand("@mount") and "umount2" in P.expand("@mount")
    service = P.expand("@system-service")
    assert {"read", "openat", "socket", "execve", "futex"} <= set(service)
    assert not any(n.startswith("@") for n in service)
    assert "mount" not in service and "reboot" not in service and "init_module" not in service
    assert set(P.expand("@privileged")) >= set(P.expand("@module"))
    assert P.expand(["getpid", "@swap"]) == ("getpid", "swapoff", "swapon")
    assert "network" in P.describe("@network-io").lower() or "socket" in P.describe("@network-io").lower()
    with pytest.raises(seccomp.InvalidArgumentError, match="unknown syscall group '@nope'"):
        P.expand("@nope")


def test_groups_mean_what_systemd_s_mean():
    """As in systemd: @file-system has no mmap/munmap (so denying it leaves a program able to
    start and fail cleanly), @process has execveat but not execve (which is in @default)."""
    fs = set(P.expand("@file-system"))
    assert {"openat", "stat", "close", "fchmodat2"} <= fs
    assert not fs & {"mmap", "mmap2", "munmap", "mprotect"}
    assert "execve" not in P.expand("@process") and "execveat" in P.expand("@process")
    assert "execve" in P.expand("@default") and "mmap" in P.expand("@default")
    assert "@known" not in P.GROUPS                 # "every syscall": not a group with a purpose


def systemd_analyze_groups():
    import shutil
    import subprocess
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    version = subprocess.run(["systemd-analyze", "--version"], capture_output=True,
                             text=True).stdout.splitlines()[0]
    from seccomp.profile import systemd_groups
    if version not in systemd_groups.__doc__:
        pytest.skip("the groups were generated from another systemd than %s" % version)
    text = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"],
                          capture_output=True, text=True, check=True).stdout
    groups, name = {}, None
    for line in text.splitlines():
        if line.startswith("@"):
            name = line.strip()
            groups[name] = []
        elif name and line.strip() and not line.strip().startswith("#"):
            groups[name].append(line.strip())
    return groups


def test_groups_have_systemd_analyze_s_members():
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    theirs = systemd_analyze_groups()
    assert set(P.GROUPS) == set(theirs) - {"@known"}
    for group, members in theirs.items():
        if group == "@known":
            continue
        knowable = [m for m in members if m.startswith("@") or m in NEWER_SYSCALLS
                    or any(_knows(m, a) for a in Arch.known())]
        assert list(P.GROUPS[group]) == knowable, group


def _knows(name, arch):
    try:
        return seccomp.syscall_number(name, arch) >= 0
    except seccomp.InvalidArgumentError:
        return False


def test_seccomp_run_deny_file_system_fails_cleanly_without_a_crash():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-m", "seccomp", "run", "--deny", "@file-system", "--",
                        "/bin/true"], capture_output=True, text=True, timeout=60,
                       cwd=str(pathlib.Path(__file__).parent.parent))
    assert r.returncode > 0, (r.returncode, r.stderr)     # no signal (a segfault is -11/139)
    assert r.returncode != 139
    if r.returncode == 127:                               # a dynamic /bin/true: the loader
        assert "Operation not permitted" in r.stderr      # says why, it does not crash


def libseccomp_lacks():
    """The syscall names of the package's newer table that this libseccomp does not know."""
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    out = set()
    for name in NEWER_SYSCALLS:
        try:
            seccomp.syscall_number(name)
        except seccomp.InvalidArgumentError:
            out.add(name)
    return out


def test_every_group_member_is_a_syscall_libseccomp_or_the_newer_table_knows():
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    arches = list(Arch.known())
    for group in P.GROUPS:
        for name in P.expand(group):
            if name in NEWER_SYSCALLS:
                continue
            for a in arches:
                try:
                    seccomp.syscall_number(name, a)
                    break
                except seccomp.InvalidArgumentError:
                    pass
            else:
                pytest.fail("%s: %s is not a syscall on any architecture" % (group, name))


def test_default_profile_has_a_comment_on_every_entry():
    p = P.load("default")
    assert p.comment
    assert all(len(r.comment) > 20 for r in p.rules)


def test_go_architecture_names_in_includes():
    p = P.load(base(syscalls=[{"names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW",
                               "includes": {"arches": ["386", "amd64", "arm64", "mips64le",
                                                       "ppc64le", "SCMP_ARCH_S390X",
                                                       "loong64"]}}]))
    assert p.rules[0].includes.arches == (Arch.X86, Arch.X86_64, Arch.AARCH64, Arch.MIPSEL64,
                                          Arch.PPC64LE, Arch.S390X, Arch.LOONGARCH64)
    assert P.load(p.to_json()) == p
    assert "modify_ldt" in names_of(p.resolve(arch="i386", caps=[], kernel="6.1"))
    assert "modify_ldt" not in names_of(p.resolve(arch="riscv64", caps=[], kernel="6.1"))


@pytest.mark.skipif(seccomp.library_version() >= (2, 6, 0), reason="libseccomp 2.6 has both")
def test_what_this_libseccomp_lacks_is_reported_by_place():
    with pytest.raises(ProfileError, match=r"^flags\[0\]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: "
                                           r".*needs libseccomp >= 2.6"):
        P.load(base(flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])).compile()
    with pytest.raises(ProfileError, match=r"^architectures\[1\]: .*loongarch64 needs libseccomp"):
        P.load(base(architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_LOONGARCH64"])).compile()


def test_one_filter_cannot_hold_both_byte_orders():
    prof = P.load(base(architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_S390X"]))
    with pytest.raises(ProfileError, match=r"^architectures\[1\]: s390x: one filter cannot hold "
                                           r"both byte orders \(s390x is big-endian, x86_64 "
                                           r"little\)"):
        prof.compile(arch="x86_64")


@pytest.mark.parametrize("arch", ["x86_64", "aarch64", "mips64", "mipsel64", "ppc64le", "s390x",
                                  "riscv64", "x86", "arm"])
@pytest.mark.parametrize("caps", [[], sorted(CONTAINER_CAPS), ["ALL"]])
def test_default_profile_compiles_for_every_architecture(arch, caps):
    f = P.load("default").compile(arch=arch, caps=caps, kernel="6.1")
    assert Arch(arch) in f.arches
    assert set(f.skipped_syscalls) <= libseccomp_lacks()   # only names newer than it
    assert 0 < len(f.export_bpf()) // 8 <= seccomp._core.MAX_INSTRUCTIONS
    f.release()
