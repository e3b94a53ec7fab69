"""One source per fact: each table the package keeps (actions, their order, architecture
aliases, the instruction limit, kernel versions, exceptions, fd passing) is checked against
an independent source (the kernel's uapi headers, libseccomp's own module, the kernel itself),
and the places that used to keep copies still agree with it."""
import importlib
import json
import os
import pkgutil
import re
import socket
import subprocess
import sys

import pytest

import seccomp
from seccomp import Action, Arch, _core, _errors

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = "/usr/bin/python3"
UAPI = "/usr/include/linux"


def _header_defines(name):
    """The #define NAME value pairs of a uapi header (hex or decimal values only)."""
    path = os.path.join(UAPI, name)
    if not os.path.exists(path):
        pytest.skip("%s is not installed (linux-libc-dev)" % path)
    with open(path) as fh:
        text = fh.read()
    return {m.group(1): int(m.group(2), 0)
            for m in re.finditer(r"^#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)U?\b", text, re.M)}


# ---------------------------------------------------------------------------------------------
# Actions
# ---------------------------------------------------------------------------------------------

def test_actions_are_the_kernels_values():
    ret = _header_defines("seccomp.h")
    kernel = {"KILL_PROCESS": ret["SECCOMP_RET_KILL_PROCESS"],
              "KILL_THREAD": ret["SECCOMP_RET_KILL_THREAD"], "TRAP": ret["SECCOMP_RET_TRAP"],
              "NOTIFY": ret["SECCOMP_RET_USER_NOTIF"], "LOG": ret["SECCOMP_RET_LOG"],
              "ALLOW": ret["SECCOMP_RET_ALLOW"]}
    assert {name: int(a) for name, a in Action.members().items()} == kernel
    assert int(Action.ERRNO(0)) == _core.ERRNO_BASE == ret["SECCOMP_RET_ERRNO"]
    assert int(Action.TRACE(0)) == _core.TRACE_BASE == ret["SECCOMP_RET_TRACE"]
    assert seccomp._enums.ACTION_KIND_MASK == ret["SECCOMP_RET_ACTION_FULL"]


def test_action_values_match_libseccomps_module():
    code = ("import json, seccomp; print(json.dumps({n: getattr(seccomp, n) for n in "
            "('KILL_PROCESS', 'KILL', 'TRAP', 'LOG', 'ALLOW', 'NOTIFY')} | "
            "{'ERRNO(7)': seccomp.ERRNO(7), 'TRACE(9)': seccomp.TRACE(9)}))")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([REFERENCE, "-c", code], capture_output=True, text=True, cwd="/",
                          env=env, timeout=60) if os.path.exists(REFERENCE) else None
    if done is None or done.returncode != 0:
        pytest.skip("libseccomp's Python module (python3-seccomp) is not importable by %s"
                    % REFERENCE)
    theirs = {name: value & 0xFFFFFFFF for name, value in json.loads(done.stdout).items()}
    ours = {name: int(getattr(seccomp, name)) for name in
            ("KILL_PROCESS", "KILL", "TRAP", "LOG", "ALLOW", "NOTIFY")}
    ours.update({"ERRNO(7)": int(seccomp.ERRNO(7)), "TRACE(9)": int(seccomp.TRACE(9))})
    assert ours == theirs
    assert int(Action.KILL) == theirs["KILL"] and int(Action.ERRNO(7)) == theirs["ERRNO(7)"]


def test_precedence_is_the_kernels_order():
    """The kernel applies the action whose SECCOMP_RET_ACTION_FULL bits, read as a signed
    int, are lowest (kernel/seccomp.c, ACTION_ONLY); every user of the order agrees."""
    from seccomp._enums import ACTION_KIND_MASK, precedence
    from seccomp.bpf import model as bpf_model
    from seccomp.policy.model import action_rank
    from seccomp.profile.build import _weakens

    actions = list(Action.members().values()) + [Action.ERRNO(1), Action.ERRNO(2),
                                                 Action.TRACE(3)]

    def signed(v):
        return v - (1 << 32) if v >= 1 << 31 else v

    for a in actions:
        for b in actions:
            kernel_first = signed(a & ACTION_KIND_MASK) < signed(b & ACTION_KIND_MASK)
            assert (action_rank(a) < action_rank(b)) == kernel_first, (a, b)
            if (a & ACTION_KIND_MASK) != (b & ACTION_KIND_MASK):
                assert (precedence(a) < precedence(b)) == kernel_first, (a, b)
            # leaving out a rule weakens a filter when its action would have won
            assert _weakens(a, b) == (a != b and not signed(b & ACTION_KIND_MASK)
                                      < signed(a & ACTION_KIND_MASK)), (a, b)
    assert bpf_model.precedence is precedence
    assert precedence(Action.ERRNO(1)) < precedence(Action.ERRNO(2))
    order = sorted(Action.members(), key=lambda n: precedence(Action.members()[n]))
    assert order == ["KILL_PROCESS", "KILL_THREAD", "TRAP", "NOTIFY", "LOG", "ALLOW"]


def test_oci_action_names_are_libseccomps_macros():
    from seccomp.profile import load
    from seccomp.profile.model import ACTIONS

    kinds = set(Action.members()) | {"ERRNO", "TRACE"}
    assert set(ACTIONS) == {"SCMP_ACT_" + k for k in kinds} | {"SCMP_ACT_KILL"}
    for name, action in ACTIONS.items():
        assert name == "SCMP_ACT_KILL" or action.kind == name[len("SCMP_ACT_"):]
    assert ACTIONS["SCMP_ACT_KILL"] is Action.KILL_THREAD
    # and they round-trip through a profile, data included
    for action in list(Action.members().values()) + [Action.ERRNO(13), Action.TRACE(5)]:
        entry = {"names": ["ptrace"], "action": "SCMP_ACT_" + action.kind}
        if action.data is not None:
            entry["errnoRet"] = action.data
        prof = load({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [entry]})
        assert prof.rules[0].action == action
        written = json.loads(json.dumps(prof.to_dict()))
        assert written["syscalls"][0]["action"] == entry["action"]
        assert load(written).rules[0].action == action
    assert load({"defaultAction": "SCMP_ACT_ERRNO"}).default_action == Action.ERRNO(1)


def test_seccomp_info_lists_the_oci_actions():
    from seccomp.cli.info import info
    from seccomp.profile.model import ACTIONS

    listed = info()["seccomp"]["actions"]
    assert set(listed) <= set(ACTIONS)
    assert {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_TRAP"} <= set(listed)
    assert listed == sorted(listed)


# ---------------------------------------------------------------------------------------------
# Architectures, instruction limit, kernel versions, filter flags
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("goarch, arch", [
    ("386", Arch.X86), ("amd64", Arch.X86_64), ("arm64", Arch.AARCH64), ("arm", Arch.ARM),
    ("mips", Arch.MIPS), ("mipsle", Arch.MIPSEL), ("mips64", Arch.MIPS64),
    ("mips64le", Arch.MIPSEL64), ("mips64p32", Arch.MIPS64N32),
    ("mips64p32le", Arch.MIPSEL64N32), ("ppc64", Arch.PPC64), ("ppc64le", Arch.PPC64LE),
    ("riscv64", Arch.RISCV64), ("s390x", Arch.S390X), ("loong64", Arch.LOONGARCH64)])
def test_goarch_names_are_architecture_aliases(goarch, arch):
    """Docker writes GOARCH names in includes/excludes: Arch and profiles read the same table."""
    from seccomp.profile import load

    assert Arch(goarch) is arch
    prof = load({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "includes": {"arches": [goarch]}}]})
    assert prof.rules[0].includes.arches == (arch,)


def test_architecture_bits_are_the_kernels():
    """The AUDIT_ARCH bits and the x32 syscall bit, kept once in seccomp._enums, are the
    kernel's, and libseccomp's tokens carry them as the architectures are."""
    from seccomp._enums import AUDIT_ARCH_64BIT, AUDIT_ARCH_LE, X32_SYSCALL_BIT

    audit = _header_defines("audit.h")
    assert AUDIT_ARCH_64BIT == audit["__AUDIT_ARCH_64BIT"]
    assert AUDIT_ARCH_LE == audit["__AUDIT_ARCH_LE"]
    unistd = "/usr/include/x86_64-linux-gnu/asm/unistd.h"
    if os.path.exists(unistd):
        with open(unistd) as fh:
            assert re.search(r"#define __X32_SYSCALL_BIT\s+0x%x\b" % X32_SYSCALL_BIT, fh.read())
    for arch in (Arch.X86_64, Arch.AARCH64, Arch.PPC64LE, Arch.RISCV64, Arch.MIPSEL64):
        assert int(arch) & AUDIT_ARCH_64BIT and int(arch) & AUDIT_ARCH_LE, arch
    for arch in (Arch.S390X, Arch.PPC64, Arch.MIPS64):
        assert int(arch) & AUDIT_ARCH_64BIT and not int(arch) & AUDIT_ARCH_LE, arch
    for arch in (Arch.X86, Arch.ARM, Arch.MIPSEL):
        assert not int(arch) & AUDIT_ARCH_64BIT and int(arch) & AUDIT_ARCH_LE, arch
    for arch in (Arch.S390, Arch.PPC, Arch.MIPS):
        assert not int(arch) & (AUDIT_ARCH_64BIT | AUDIT_ARCH_LE), arch
    assert seccomp.syscall_number("read", Arch.X32) == X32_SYSCALL_BIT


def test_instruction_limit_is_the_kernels():
    from seccomp import _bpf, bpf

    limit = _header_defines("bpf_common.h")["BPF_MAXINSNS"]
    assert _core.MAX_INSTRUCTIONS == _bpf.MAX_INSTRUCTIONS == bpf.MAX_INSTRUCTIONS == limit
    ret_allow = (0x06).to_bytes(2, sys.byteorder) + b"\0\0" + \
        int(Action.ALLOW).to_bytes(4, sys.byteorder)
    with pytest.raises(seccomp.InvalidArgumentError, match="at most %d" % limit):
        seccomp.Program(ret_allow * (limit + 1))
    with pytest.raises(seccomp.InvalidArgumentError):
        bpf.check(ret_allow * (limit + 1))
    assert bpf.check(ret_allow * limit) == limit


def test_one_kernel_version_parser():
    from seccomp._info import kernel_version, split_kernel_release
    from seccomp.profile import ProfileError, host_kernel, load

    assert split_kernel_release("6.1.0-13-amd64") == (6, 1, "-13-amd64")
    assert split_kernel_release("5.10") == (5, 10, "")
    assert split_kernel_release("4.19.282") == (4, 19, "")
    assert split_kernel_release("v6.1") is None and split_kernel_release("6") is None
    assert split_kernel_release("6.1.x") == (6, 1, ".x")
    assert split_kernel_release("\u0664.\u0668") is None  # ASCII digits only, as uname gives
    major, minor = os.uname().release.split(".")[:2]
    assert kernel_version() == host_kernel() == (int(major), int(re.match(r"\d+", minor)[0]))
    doc = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["ptrace"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "5.10"}}]}
    assert load(doc).rules[0].includes.min_kernel == (5, 10)
    doc["syscalls"][0]["includes"]["minKernel"] = "5.10-rc1"
    with pytest.raises(ProfileError, match="minKernel"):
        load(doc)
    from seccomp import notify
    assert notify.features()["sync_wake_up"] == (kernel_version() >= (6, 6))


def _flags_by_hand(flags):
    """seccomp(SECCOMP_SET_MODE_FILTER, flags, NULL) through libc: EFAULT once the flags were
    accepted (the program pointer is read after them)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(seccomp.syscall_number("seccomp")), ctypes.c_long(1),
                      ctypes.c_long(flags), ctypes.c_void_p(None))
    return rc == -1 and ctypes.get_errno() == 14  # EFAULT


def test_filter_flags_available_asks_the_kernel():
    for name, value in _core.FILTER_FLAGS.items():
        assert _core.filter_flags_available(value) == _flags_by_hand(value), name
    assert _core.filter_flags_available(_core.FILTER_FLAGS["TSYNC"])  # Linux 3.17
    assert not _core.filter_flags_available(1 << 30)
    assert not _flags_by_hand(1 << 30)
    with open("/proc/self/status") as fh:  # nothing was loaded
        assert "Seccomp:\t0" in fh.read()


# ---------------------------------------------------------------------------------------------
# Exceptions and fd passing
# ---------------------------------------------------------------------------------------------

PUBLIC_EXCEPTIONS = [
    ("seccomp", "SeccompError"), ("seccomp", "InvalidArgumentError"),
    ("seccomp", "UnsupportedError"), ("seccomp", "OutOfRangeError"),
    ("seccomp", "NotificationGone"), ("seccomp", "TargetsGone"), ("seccomp", "ProfileError"),
    ("seccomp.notify", "AlreadyAnswered"), ("seccomp.profile", "ProfileError"),
    ("seccomp.profile", "SkippedSyscallWarning"),
    ("seccomp.profile.build", "SkippedSyscallWarning"),
    ("seccomp.profile.bundle", "RuntimeFieldWarning"), ("seccomp.policy", "PolicyError"),
    ("seccomp.policy.model", "PolicyError"), ("seccomp.policy.seccompiler", "ThreadSyncError"),
    ("seccomp.bpf", "FilterMismatchError"), ("seccomp.bpf.model", "FilterMismatchError"),
    ("seccomp.record", "RecordError"), ("seccomp.dump", "DumpError"),
    ("seccomp.policy.minijail", "IncludeFallbackWarning"),
]

# Exceptions that never leave the package: control flow inside one module.
INTERNAL = {"seccomp.cli.common.CommandError", "seccomp.policy.model._TooLarge",
            "seccomp.policy.model._Unlowerable",
            "seccomp.policy.model._BeyondLibseccomp"}  # a PolicyError: libseccomp cannot say it


@pytest.mark.parametrize("module, name", PUBLIC_EXCEPTIONS)
def test_exceptions_live_in_the_errors_module(module, name):
    cls = getattr(importlib.import_module(module), name)
    assert cls is getattr(_errors, name)
    assert cls.__module__ == "seccomp._errors"


def test_no_exception_class_is_defined_elsewhere():
    found = []
    for info in pkgutil.walk_packages(seccomp.__path__, "seccomp."):
        if info.name.endswith("__main__") or info.name == "seccomp._errors":
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, BaseException)
                    and value.__module__ == info.name):
                found.append(info.name + "." + value.__qualname__)
    assert set(found) <= INTERNAL, sorted(set(found) - INTERNAL)


def test_exception_behaviour_kept():
    from seccomp.policy import PolicyError, Place
    from seccomp.policy.seccompiler import ThreadSyncError

    e = PolicyError(Place("f.policy", 3), "bad")
    assert isinstance(e, ValueError) and e.errno == 22 and e.place == Place("f.policy", 3)
    assert str(e) == "%s: bad" % Place("f.policy", 3) and e.reason == "bad"
    assert str(PolicyError(None, "bad")) == "bad"
    t = ThreadSyncError(42, "thread 42 could not be synchronised")
    assert t.tid == 42 and t.errno == 3 and str(t) == "thread 42 could not be synchronised"
    for name in ("FilterMismatchError", "RecordError", "DumpError"):
        assert issubclass(getattr(_errors, name), seccomp.SeccompError)
    for name in ("SkippedSyscallWarning", "RuntimeFieldWarning", "IncludeFallbackWarning"):
        assert issubclass(getattr(_errors, name), UserWarning)


def test_fd_passing_is_one_implementation():
    from seccomp import notify
    from seccomp._fdpass import receive_fd, receive_fds, send_fd

    assert notify.send_fd is send_fd and notify.receive_fd is receive_fd
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = os.pipe()
    try:
        send_fd(a, w, b"hello")
        msg, fds = receive_fds(b, 64)
        assert msg == b"hello" and len(fds) == 1
        os.write(fds[0], b"x")
        os.close(fds[0])
        assert os.read(r, 1) == b"x"
        a.sendmsg([b"none"])
        with pytest.raises(seccomp.SeccompError, match="no fd"):
            receive_fd(b)
    finally:
        for s in (a, b):
            s.close()
        os.close(r)
        os.close(w)


# ---------------------------------------------------------------------------------------------
# The syscall table (one generator, one data file, two views)
# ---------------------------------------------------------------------------------------------

def test_syscall_table_agrees_with_libseccomp():
    """Every number the table has for a syscall the libseccomp in use knows is the number it
    resolves (a negative one: reached through socketcall or ipc there); each syscall it does
    not know is one the table lists as unknown to the oldest supported libseccomp with the
    architecture (2.5.4; 2.6.0 for the architectures it added), which profiles then add by
    number. (Only that way round: distributions add newer syscalls to their 2.5.4.)"""
    from seccomp import _syscall_table as table

    doc = table._doc()
    listed = {(name, column) for name, columns in doc["unknown_to_oldest_libseccomp"].items()
              for column in columns}
    version = seccomp.library_version()
    checked, wrong, unlisted = 0, [], []
    for arch in table.table_arches():
        if Arch(arch).min_libseccomp > version:
            continue
        column = doc["variants"].get(arch, arch)
        for names in doc["tables"][column].values():
            for name, number in names.items():
                try:
                    got = _core.syscall_resolve_name(name, arch)
                except seccomp.InvalidArgumentError:
                    if (name, column) not in listed:
                        unlisted.append((arch, name))
                    continue
                checked += 1
                if got != number and got >= 0:
                    wrong.append((arch, name, number, got))
    assert checked > 5000 and not wrong, wrong[:10]
    assert not unlisted, unlisted[:10]


def test_the_small_view_is_the_tables_own():
    """_syscall_newer.py is what the generator derives from syscall_table.json, so the
    profile builder's numbers are the table's."""
    from seccomp import _syscall_table as table
    sys.path.insert(0, os.path.join(HERE, "..", "tools"))
    try:
        import gen_syscall_table
    finally:
        sys.path.pop(0)
    view = gen_syscall_table.newer_view(table._doc())
    assert view == table._view()
    assert list(view["newer"]) == list(table.newer_syscalls())  # the order too
    assert all(list(v) == list(table.newer_syscalls()[k]) for k, v in view["newer"].items())


def test_both_views_of_the_syscall_table():
    from seccomp import _syscall_table as table
    from seccomp.bpf import enosys
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS

    assert NEWER_SYSCALLS is table.newer_syscalls()
    assert set(enosys.KERNEL_TABLE_ARCHES) == set(table.table_arches())
    for name, per_arch in NEWER_SYSCALLS.items():
        for arch, number in per_arch.items():
            assert number in enosys.kernel_syscalls(arch, (99, 0)), (name, arch)
    # a syscall is in a kernel's table from the version that added it on
    assert 452 in enosys.kernel_syscalls("x86_64", (6, 6))       # fchmodat2, Linux 6.6
    assert 452 not in enosys.kernel_syscalls("x86_64", (6, 5))
    assert NEWER_SYSCALLS["fchmodat2"]["x86_64"] == 452
    assert NEWER_SYSCALLS["fchmodat2"]["mipsel"] == NEWER_SYSCALLS["fchmodat2"]["mips"] == 4452
    assert NEWER_SYSCALLS["fchmodat2"]["x32"] == 0x40000000 + 452
    assert 184 not in enosys.kernel_syscalls("x86_64", (99, 0))  # tuxcall: reserved, ENOSYS


CSV_HEADER = "#syscall (v7.1.0-rc4 2026-05-21),x86,x86_kver,x86_64,x86_64_kver,x32,x32_kver," \
    "aarch64,aarch64_kver,mips,mips_kver,sh,sh_kver\n"


def test_syscall_table_generator(tmp_path, monkeypatch):
    """tools/gen_syscall_table.py on a small csv: offsets, the asm-generic version fix,
    reserved numbers, versions from the release notes, what 2.5.4 lacks (2.6.0 for the
    architectures it added), byte-order variants."""
    from seccomp import _syscall_table as table

    (tmp_path / "oldest.csv").write_text(
        "#syscall (v5.17.0 2022-04-05),x86,x86_64,x32,aarch64,mips\n"
        "read,3,0,0,63,3\ntuxcall,PNR,184,PNR,PNR,PNR\nfchmodat2,PNR,PNR,PNR,PNR,PNR\n")
    (tmp_path / "oldest26.csv").write_text(  # 2.6.0 added sh; it knows fchmodat2 there
        "#syscall (v6.13.0 2025-01-23),x86,x86_kver,sh,sh_kver\n"
        "read,3,SCMP_KV_UNDEF,3,SCMP_KV_UNDEF\nfchmodat2,452,SCMP_KV_6_6,452,SCMP_KV_6_6\n")
    (tmp_path / "versions.csv").write_text(
        CSV_HEADER
        + "read,3,SCMP_KV_3_0,0,SCMP_KV_3_0,0,SCMP_KV_3_4,63,SCMP_KV_3_0,3,SCMP_KV_3_0,3,"
          "SCMP_KV_3_0\n"
        + "tuxcall,PNR,SCMP_KV_UNDEF,184,SCMP_KV_UNDEF,PNR,SCMP_KV_UNDEF,PNR,SCMP_KV_UNDEF,"
          "PNR,SCMP_KV_UNDEF,PNR,SCMP_KV_UNDEF\n"
        + "fchmodat2,452,SCMP_KV_6_6,452,SCMP_KV_6_6,452,SCMP_KV_6_6,452,SCMP_KV_3_0,452,"
          "SCMP_KV_6_6,452,SCMP_KV_6_6\n")
    (tmp_path / "newest.csv").write_text(
        CSV_HEADER
        + "".join("%s,%s\n" % (name, ",".join(["%s,KV_UNDEF" % n] * 6)) for name, n in
                  (("read", "3"), ("tuxcall", "PNR"), ("fchmodat2", "452"),
                   ("file_getattr", "468")))
        .replace("read,3,KV_UNDEF,3,KV_UNDEF,3", "read,3,KV_UNDEF,0,KV_UNDEF,0")
        .replace("tuxcall,PNR,KV_UNDEF,PNR", "tuxcall,PNR,KV_UNDEF,184"))
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, os.path.join(HERE, "..", "tools",
                                                         "gen_syscall_table.py")]
                          + [str(tmp_path / n) for n in ("oldest.csv", "oldest26.csv",
                                                          "versions.csv", "newest.csv")]
                          + [str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / "syscall_table.json").read_text())
    namespace: dict = {}
    exec((out / "_syscall_newer.py").read_text(), namespace)  # the module the generator wrote
    view = namespace["VIEW"]
    tables = doc["tables"]
    assert tables["x86"] == {"3.0": {"read": 3}, "6.6": {"fchmodat2": 452},
                             "6.17": {"file_getattr": 468}}
    assert tables["x86_64"]["none"] == {"tuxcall": 184}
    assert tables["x32"]["3.4"] == {"read": 0x40000000}
    assert tables["mips"]["6.6"] == {"fchmodat2": 4452}
    assert tables["aarch64"]["6.6"] == {"fchmodat2": 452}  # x86_64's version, not 3.0
    assert doc["unknown_to_oldest_libseccomp"] == {
        "fchmodat2": ["aarch64", "mips", "x32", "x86", "x86_64"],
        "file_getattr": ["aarch64", "mips", "sh", "x32", "x86", "x86_64"]}  # sh: 2.6.0's
    monkeypatch.setattr(table, "_DOC", doc)
    monkeypatch.setattr(table, "_VIEW", view)
    assert table.table_arches() == ("x86", "x86_64", "x32", "aarch64", "mips", "mipsel", "sh")
    assert list(table.newer_syscalls()) == ["fchmodat2", "file_getattr"]
    assert table.newer_syscalls()["fchmodat2"] == {
        "aarch64": 452, "mips": 4452, "mipsel": 4452, "x32": 0x40000000 + 452, "x86": 452,
        "x86_64": 452}
    assert table.kernel_numbers("x86_64", (6, 5)) == {0}
    assert table.kernel_numbers("x86_64", (6, 6)) == {0, 452}
    assert table.kernel_numbers("mipsel", (6, 6)) == {4003, 4452}
    assert table.kernel_numbers("ppc", (6, 6)) is None


def test_notify_features_lists_every_action():
    from seccomp import notify

    actions = notify.features()["actions"]
    assert list(actions) == ["KILL_PROCESS", "KILL", "TRAP", "NOTIFY", "LOG", "ALLOW", "ERRNO",
                             "TRACE"]
    for name, available in actions.items():
        action = Action.ERRNO(0) if name == "ERRNO" else Action.TRACE(0) if name == "TRACE" \
            else getattr(Action, name)
        assert available == seccomp.action_available(action), name
