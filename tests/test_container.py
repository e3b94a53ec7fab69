"""Container tooling: Docker/Podman capability controls, OCI bundles run by real runtimes,
Kubernetes profile files and the Security Profiles Operator's resource.

The runtime tests build a busybox root filesystem in a temporary bundle and run Debian's runc
(and crun) on it with the exported profile; they skip, saying why, where the machine cannot.
"""
import dataclasses
import errno
import json
import os
import shutil
import subprocess
import sys
import uuid
import warnings

import pytest

from seccomp import Action, SeccompError
from seccomp import profile as P
from seccomp.profile import bundle as B
from seccomp.profile import kubernetes as K
from seccomp.profile import ProfileError
from childproc import in_child
from kernel import syscall

# ---------------------------------------------------------------------------------------------
# Capabilities
# ---------------------------------------------------------------------------------------------


def test_engine_default_sets():
    assert P.DOCKER_CAPS == P.CONTAINER_CAPS and len(P.DOCKER_CAPS) == 14
    assert P.DOCKER_CAPS - P.PODMAN_CAPS == {"CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"}
    assert P.PODMAN_CAPS < P.DOCKER_CAPS
    assert P.capability_set("podman") == P.PODMAN_CAPS
    assert P.capability_set("none") == frozenset()
    assert P.capability_set("chown, sys_admin") == {"CAP_CHOWN", "CAP_SYS_ADMIN"}
    assert P.capability_set(["CAP_KILL"]) == {"CAP_KILL"}


def test_cap_add_and_drop_as_the_engines_do():
    assert P.capabilities("docker", drop=["ALL"]) == frozenset()
    assert P.capabilities("docker", drop=["ALL"], add=["NET_BIND_SERVICE"]) == \
        {"CAP_NET_BIND_SERVICE"}
    assert P.capabilities("podman", add=["sys_admin"]) == P.PODMAN_CAPS | {"CAP_SYS_ADMIN"}
    assert P.capabilities(drop=["NET_RAW", "mknod"]) == \
        P.DOCKER_CAPS - {"CAP_NET_RAW", "CAP_MKNOD"}
    assert P.capabilities("none", add=["ALL"]) == frozenset(P.CAPABILITIES)
    with pytest.raises(ValueError, match="both added and dropped"):
        P.capabilities(add=["CHOWN"], drop=["CAP_CHOWN"])
    with pytest.raises(ValueError):
        P.capabilities(add=["NOT A CAP"])


def test_capabilities_decide_the_profile():
    prof = P.load("default")
    allowed = {n for r in prof.resolve(caps=P.capabilities(add=["SYS_ADMIN"])).rules
               if r.action == Action.ALLOW and not r.args for n in r.names}
    assert "mount" in allowed
    allowed = {n for r in prof.resolve(caps=P.capabilities(drop=["ALL"])).rules
               if r.action == Action.ALLOW and not r.args for n in r.names}
    assert "mount" not in allowed


def test_loading_without_no_new_privs():
    prof = P.load("default")

    def child():
        prof.compile(caps=P.DOCKER_CAPS, no_new_privs=False).load()
        with open("/proc/self/status") as fh:
            nnp = [line.split()[1] for line in fh if line.startswith("NoNewPrivs:")][0]
        return nnp, syscall("mount", 0, 0, 0, 0, 0)[1]

    if P.may_skip_no_new_privs():
        assert in_child(child).unwrap() == ("0", errno.EPERM)
    else:
        with pytest.raises(SeccompError, match="CAP_SYS_ADMIN"):
            P.require_skip_no_new_privs()


def test_without_cap_sys_admin_the_refusal_is_clear():
    def child():
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        # drop CAP_SYS_ADMIN from the effective and bounding sets of this child
        libc.prctl(24, 21, 0, 0, 0)  # PR_CAPBSET_DROP CAP_SYS_ADMIN
        hdr = (ctypes.c_uint32 * 2)(0x20080522, 0)
        data = (ctypes.c_uint32 * 6)()
        libc.syscall(125, hdr, data)                         # capget
        data[0] &= ~(1 << 21)
        data[1] &= ~(1 << 21)
        libc.syscall(126, hdr, data)                         # capset
        try:
            P.require_skip_no_new_privs()
        except SeccompError as exc:
            return exc.errno, str(exc)
        return None

    if os.uname().machine != "x86_64":
        pytest.skip("capget/capset numbers written for x86_64")
    result = in_child(child).unwrap()
    assert result[0] == errno.EPERM and "CAP_SYS_ADMIN" in result[1]


# ---------------------------------------------------------------------------------------------
# Kubernetes
# ---------------------------------------------------------------------------------------------

def oci(prof):
    return prof.to_dict(oci=True)


def test_kubelet_localhost_profile_round_trip(tmp_path):
    prof = P.load("default")
    path, context = K.write_localhost(prof, "profiles/app.json", root=str(tmp_path),
                                      caps=P.PODMAN_CAPS, arch="x86_64")
    assert path == str(tmp_path / "profiles" / "app.json")
    assert context == {"seccompProfile": {"type": "Localhost",
                                          "localhostProfile": "profiles/app.json"}}
    back = K.read_localhost("profiles/app.json", root=str(tmp_path))
    assert oci(back) == oci(prof.resolve(caps=P.PODMAN_CAPS, arch="x86_64"))
    assert json.loads(open(path).read())["defaultAction"] == "SCMP_ACT_ERRNO"
    for bad in ("../etc/passwd", "/abs.json", ""):
        with pytest.raises(ProfileError, match="kubelet"):
            K.write_localhost(prof, bad, root=str(tmp_path))
    with pytest.raises(ProfileError, match="no localhost profile"):
        K.read_localhost("profiles/none.json", root=str(tmp_path))


def test_security_profiles_operator_resource_round_trip(tmp_path):
    prof = P.load("default").with_rule(["getppid"], Action.ERRNO(errno.EACCES))
    res = K.to_resource(prof, "app", namespace="prod", caps=P.DOCKER_CAPS, arch="aarch64")
    assert res["apiVersion"] == "security-profiles-operator.x-k8s.io/v1beta1"
    assert res["kind"] == "SeccompProfile"
    assert res["metadata"] == {"name": "app", "namespace": "prod"}
    assert set(res["spec"]) <= {"defaultAction", "architectures", "syscalls", "flags",
                                "listenerPath", "listenerMetadata"}
    assert res["spec"]["architectures"] == ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
    errnos = [r["errnoRet"] for r in res["spec"]["syscalls"] if "errnoRet" in r]
    assert errnos and all(isinstance(e, str) for e in errnos)  # the schema's type
    want = oci(prof.resolve(caps=P.DOCKER_CAPS, arch="aarch64"))
    for form in (res, json.dumps(res), json.dumps(res).encode()):
        assert oci(K.from_resource(form)) == want
    f = tmp_path / "sp.json"
    f.write_text(json.dumps(res))
    assert oci(K.from_resource(str(f))) == want
    assert K.resource_localhost_profile(res) == "operator/prod/app.json"
    assert oci(P.load(str(f))) == want              # load() knows the resource too


def test_resource_refusals():
    prof = P.load("default")
    with pytest.raises(ProfileError, match="Kubernetes object name"):
        K.to_resource(prof, "App_1")
    with pytest.raises(ProfileError, match="defaultErrnoRet"):
        K.to_resource(dataclasses.replace(prof, default_action=Action.ERRNO(errno.ENOSYS)), "a")
    res = K.to_resource(prof, "a", caps=[])
    for change, match in (({"kind": "Pod"}, "not a SeccompProfile"),
                          ({"spec": dict(res["spec"], baseProfileName="runc-v1.0.0")},
                           "runc-v1.0.0"),
                          ({"spec": dict(res["spec"], bogus=1)}, "spec.bogus"),
                          ({"spec": dict(res["spec"], defaultAction="SCMP_ACT_NOPE")},
                           "spec.defaultAction")):
        with pytest.raises(ProfileError, match=match):
            K.from_resource(dict(res, **change))


def test_resource_loads_in_the_kernel():
    res = K.to_resource(P.load("default").with_rule(["getppid"], Action.ERRNO(errno.EXDEV)),
                        "app", caps=P.DOCKER_CAPS)
    prof = K.from_resource(json.dumps(res))

    def child():
        prof.compile().load()
        return syscall("getppid")[1], syscall("mount", 0, 0, 0, 0, 0)[1]

    assert in_child(child).unwrap() == (errno.EXDEV, errno.EPERM)


# ---------------------------------------------------------------------------------------------
# OCI bundles
# ---------------------------------------------------------------------------------------------

def test_config_without_seccomp_says_so(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"ociVersion": "1.0.2", "linux": {}}))
    with pytest.raises(ProfileError, match="has no linux.seccomp"):
        B.bundle_profile(str(tmp_path))
    with pytest.raises(ProfileError, match="has no linux.seccomp"):
        B.bundle_profile({"process": {}})


def test_bundle_capabilities_resolve_the_profile(tmp_path):
    config = {"ociVersion": "1.0.2", "process": {"capabilities": {
        "bounding": ["CAP_SYS_ADMIN", "CAP_CHOWN"], "effective": ["CAP_CHOWN"]}},
        "linux": {"namespaces": [{"type": "pid"}]}, "hostname": "kept"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert B.bundle_caps(config) == {"CAP_SYS_ADMIN", "CAP_CHOWN"}
    written = B.write_bundle(tmp_path, P.load("default"))
    allowed = {n for r in written["syscalls"] if r["action"] == "SCMP_ACT_ALLOW"
               and "args" not in r for n in r["names"]}
    assert "mount" in allowed                 # CAP_SYS_ADMIN is in the bounding set
    back = json.loads((tmp_path / "config.json").read_text())
    assert back["hostname"] == "kept" and back["linux"]["namespaces"] == [{"type": "pid"}]
    assert oci(B.bundle_profile(tmp_path)) == written
    assert B.write_bundle(tmp_path, None) is None   # unconfined: no linux.seccomp
    assert "seccomp" not in json.loads((tmp_path / "config.json").read_text())["linux"]
    with pytest.raises(ProfileError, match="bounding"):
        B.bundle_caps({"process": {"capabilities": {"bounding": "CAP_CHOWN"}}})


def test_runtime_rejected_fields():
    flags = {"flags": ["SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}
    assert [p for p, _ in B.rejected_fields(flags, "runc", (1, 1))] == ["flags"]
    assert [p for p, _ in B.rejected_fields(flags, "/usr/sbin/runc", (1, 2))] == ["flags[1]"]
    assert B.rejected_fields(flags, "crun", (1, 8)) == []
    assert B.rejected_fields({}, "runc", (1, 1)) == []


def test_rejected_fields_are_dropped_with_a_warning(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"process": {}}))
    prof = dataclasses.replace(P.load("default"), flags=("SECCOMP_FILTER_FLAG_SPEC_ALLOW",))
    with pytest.warns(B.RuntimeFieldWarning, match="flags left out: runc 1.1"):
        written = B.write_bundle(tmp_path, prof, runtime="runc", runtime_version=(1, 1))
    assert "flags" not in written
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        written = B.write_bundle(tmp_path, prof, runtime="crun", runtime_version=(1, 8))
    assert written["flags"] == ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]


BUSYBOX = shutil.which("busybox") or "/bin/busybox"


def make_bundle(path, args):
    """A bundle whose root filesystem is busybox, read-only, running *args*."""
    rootfs = path / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy(BUSYBOX, rootfs / "bin" / "busybox")
    for tool in ("sh", "ls", "unshare", "mkdir", "true"):
        os.symlink("busybox", rootfs / "bin" / tool)
    config = {
        "ociVersion": "1.0.2",
        "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": args,
                    "env": ["PATH=/bin"], "cwd": "/", "noNewPrivileges": True,
                    "capabilities": {k: sorted(P.DOCKER_CAPS) for k in
                                     ("bounding", "effective", "permitted")}},
        "root": {"path": "rootfs", "readonly": True},
        "hostname": "seccomp-test",
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {"namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount")]},
    }
    (path / "config.json").write_text(json.dumps(config))


def run_runtime(runtime, bundle):
    cmd = [runtime] + (["--cgroup-manager=disabled"] if runtime == "crun" else []) + \
        ["run", "--bundle", str(bundle), "seccomp-test-" + uuid.uuid4().hex[:12]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False,
                          stdin=subprocess.DEVNULL)


def runtime_or_skip(runtime, tmp_path):
    path = shutil.which(runtime)
    if path is None:
        pytest.skip("%s is not installed (tools/setup.sh installs Debian's)" % runtime)
    if not os.path.exists(BUSYBOX):
        pytest.skip("busybox is not installed (tools/setup.sh installs busybox-static)")
    if os.geteuid() != 0:
        pytest.skip("running %s needs root here" % runtime)
    probe = tmp_path / "probe"
    make_bundle(probe, ["/bin/true"])
    out = run_runtime(path, probe)
    if out.returncode != 0:
        pytest.skip("%s cannot run a container on this machine: %s"
                    % (runtime, (out.stderr or out.stdout).strip()[-300:]))
    return path


def cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "seccomp"] + list(args), capture_output=True,
                          text=True, timeout=60, check=False, **kw)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("runtime", ["runc", "crun"])
def test_runtime_runs_the_exported_profile(runtime, tmp_path):
    path = runtime_or_skip(runtime, tmp_path)

    def run(args, *options):
        bundle = tmp_path / uuid.uuid4().hex[:8]
        make_bundle(bundle, args)
        out = cli("export", "--bundle", str(bundle), "--runtime", path, *options)
        assert out.returncode == 0, out.stderr
        return run_runtime(path, bundle)

    ls = run(["/bin/ls", "/"])
    assert ls.returncode == 0 and "bin" in ls.stdout.split(), ls.stderr
    userns = run(["/bin/unshare", "-U", "/bin/true"])
    assert userns.returncode != 0 and "Operation not permitted" in userns.stderr, userns
    unconfined = run(["/bin/unshare", "-U", "/bin/true"], "--profile", "unconfined")
    assert unconfined.returncode == 0, unconfined.stderr     # the profile did it, not the rest
    mk = run(["/bin/mkdir", "/x"], "--deny", "mkdir:EACCES", "--deny", "mkdirat:EACCES")
    assert mk.returncode != 0 and "Permission denied" in mk.stderr, mk.stderr
    mk_plain = run(["/bin/mkdir", "/x"])                 # read-only root: EROFS, not EACCES
    assert "Read-only file system" in mk_plain.stderr, mk_plain.stderr
    # the API writes the same
    bundle = tmp_path / "api"
    make_bundle(bundle, ["/bin/mkdir", "/x"])
    B.write_bundle(bundle, P.load("default").with_rule(["mkdir", "mkdirat"],
                                                        Action.ERRNO(errno.EACCES)), runtime=path)
    assert "Permission denied" in run_runtime(path, bundle).stderr


@pytest.mark.timeout(120)
def test_runc_1_1_really_rejects_flags(tmp_path):
    path = runtime_or_skip("runc", tmp_path)
    version = B.runtime_version(path)
    if version is None or version >= (1, 2):
        pytest.skip("runc %s accepts seccomp flags" % (version,))
    bundle = tmp_path / "flags"
    make_bundle(bundle, ["/bin/true"])
    prof = dataclasses.replace(P.load("default"), flags=("SECCOMP_FILTER_FLAG_SPEC_ALLOW",))
    B.write_bundle(bundle, prof)                          # no runtime named: flags kept
    out = run_runtime(path, bundle)
    assert out.returncode != 0 and "flags" in out.stderr
    with pytest.warns(B.RuntimeFieldWarning):
        B.write_bundle(bundle, prof, runtime=path)        # runc named: flags dropped
    assert run_runtime(path, bundle).returncode == 0


def test_unconfined_is_not_a_profile():
    assert P.UNCONFINED == "unconfined"
    with pytest.raises(ProfileError, match="no seccomp filter"):
        P.load("unconfined")


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------

STATUS = "grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status"


def status_of(out):
    return dict(line.split(":\t") for line in out.stdout.strip().splitlines())


def test_cli_unconfined_and_no_new_privs():
    assert status_of(cli("run", "--profile", "unconfined", "--", "sh", "-c", STATUS)) == \
        {"Seccomp": "0", "NoNewPrivs": "0"}
    assert status_of(cli("run", "--", "sh", "-c", STATUS)) == {"Seccomp": "2", "NoNewPrivs": "1"}
    if not P.may_skip_no_new_privs():
        pytest.skip("this process lacks CAP_SYS_ADMIN")
    assert status_of(cli("run", "--skip-no-new-privs", "--", "sh", "-c", STATUS)) == \
        {"Seccomp": "2", "NoNewPrivs": "0"}

    def drop_sys_admin():
        import ctypes
        ctypes.CDLL(None).prctl(24, 21, 0, 0, 0)  # PR_CAPBSET_DROP CAP_SYS_ADMIN: gone at exec

    out = cli("run", "--skip-no-new-privs", "--", "true", preexec_fn=drop_sys_admin)
    assert out.returncode == 1 and "needs CAP_SYS_ADMIN" in out.stderr, out.stderr
    out = cli("run", "--profile", "unconfined", "--deny", "mount", "--", "true")
    assert out.returncode != 0 and "unconfined" in out.stderr


def test_cli_capability_sets():
    assert cli("run", "--", "unshare", "-U", "true").returncode != 0
    assert cli("run", "--cap-drop", "ALL", "--cap", "SYS_ADMIN", "--",
               "unshare", "-U", "true").returncode == 0
    assert cli("run", "--caps", "podman", "--cap-add", "sys_admin", "--",
               "unshare", "-U", "true").returncode == 0
    assert cli("run", "--caps", "none", "--", "unshare", "-U", "true").returncode != 0
    out = cli("run", "--cap", "CHOWN", "--cap-drop", "CHOWN", "--", "true")
    assert out.returncode != 0 and "both added and dropped" in out.stderr


def test_cli_export_enosys_and_kubernetes(tmp_path):
    from seccomp.bpf import evaluate
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "write", "exit_group", "getpid"], "action": "SCMP_ACT_ALLOW"}]}))
    bpf = tmp_path / "f.bpf"

    def answer(*options, nr):
        out = cli("export", "--profile", str(small), "--format", "bpf", "-o", str(bpf),
                  *options)
        assert out.returncode == 0, out.stderr
        return evaluate(bpf.read_bytes(), nr)

    enosys, eperm = Action.ERRNO(errno.ENOSYS), Action.ERRNO(errno.EPERM)
    assert answer(nr=1000) == enosys
    assert answer("--no-enosys", nr=1000) == eperm
    if P.load(str(small)).compile().has_arch("x86_64") and os.uname().machine == "x86_64":
        assert answer("--kernel", "6.5", nr=452) == enosys     # fchmodat2 came in 6.6
        assert answer("--kernel", "6.6", nr=452) == eperm
    out = cli("export", "--format", "seccompprofile", "--name", "app", "--namespace", "prod",
              "--deny", "getppid:EXDEV")
    assert out.returncode == 0, out.stderr
    back = K.from_resource(out.stdout)
    assert any(r.action == Action.ERRNO(errno.EXDEV) and "getppid" in r.names
               for r in back.rules)
    assert cli("export", "--format", "seccompprofile").returncode == 2
    assert cli("export", "--runtime", "runc").returncode == 2
    out = cli("export", "--profile", "unconfined")
    assert out.returncode == 1 and "no filter" in out.stderr


def test_cli_bundle_capabilities_and_warnings(tmp_path):
    config = {"ociVersion": "1.0.2", "process": {"capabilities": {"bounding": ["CAP_SYS_ADMIN"]}}}
    (tmp_path / "config.json").write_text(json.dumps(config))
    prof = tmp_path / "flags.json"
    prof.write_text(json.dumps(dict(P.load("default").resolve().to_dict(oci=True),
                                    flags=["SECCOMP_FILTER_FLAG_SPEC_ALLOW"])))
    out = cli("export", "--bundle", str(tmp_path), "--profile", str(prof), "--runtime", "runc")
    assert out.returncode == 0, out.stderr
    written = B.bundle_profile(tmp_path)
    if (B.runtime_version("runc") or (1, 1)) < (1, 2):
        assert "flags left out" in out.stderr and written.flags == ()
    # resolved for the bundle's own bounding set: CAP_SYS_ADMIN re-allows mount
    assert cli("export", "--bundle", str(tmp_path)).returncode == 0
    written = B.bundle_profile(tmp_path)
    assert any("mount" in r.names and r.action == Action.ALLOW and not r.args
               for r in written.rules)
    assert cli("export", "--bundle", str(tmp_path), "--profile", "unconfined").returncode == 0
    with pytest.raises(ProfileError, match="has no linux.seccomp"):
        B.bundle_profile(tmp_path)
