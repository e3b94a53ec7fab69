"""The built-in default profile against Docker's current default, syscall by syscall.

tests/profiles/docker_default.json is Docker's current default profile (moby/profiles seccomp
v0.2.3, as vendored by moby). For every architecture of its archMap (and their
sub-architectures), for an unprivileged container's capabilities, for all capabilities and for
each capability Docker's rules name added to the container's set, both profiles are compiled
and their BPF programs evaluated with the exact emulator for every syscall either profile names,
at every argument value Docker's (or our) rules compare with, one either side, and with bits
above the 32 a C `int` argument has. The built-in profile must:

- never be weaker: at every point, its action is at least as restrictive as Docker's;
- allow what Docker allows, except where DELIBERATE (below, and in the profile's comments and
  the README) says why not.

The kernel tests load the profile in children and check what the kernel answers.
"""
import errno
import os
import socket

import pytest

import seccomp
import seccomp.bpf
from seccomp import Action, Arch
from seccomp import profile as P
from childproc import in_child
from kernel import syscall

DOCKER = P.load(os.path.join(os.path.dirname(__file__), "profiles", "docker_default.json"))
OURS = P.load("default")
KERNEL = "6.18"

# How restrictive an action is (seccomp(2): the kernel applies the most restrictive one).
RANK = {"ALLOW": 0, "LOG": 1, "TRACE": 2, "NOTIFY": 3, "ERRNO": 4, "TRAP": 5, "KILL_THREAD": 6,
        "KILL_PROCESS": 7}


def deliberate(name, args):
    """Where the built-in profile denies what Docker allows, on purpose (see its comments)."""
    if name == "socket":
        # exact families: bits above 32 (the kernel reads an int) and families above AF_MCTP
        # (45) are refused, where Docker's "family > 40" lets them through
        return bool(args) and not 0 <= args[0] <= 45
    return False


def docker_caps():
    caps = set()
    for r in DOCKER.rules:
        caps.update(r.includes.caps)
        caps.update(r.excludes.caps)
    return sorted(caps)


CAP_SETS = [("container", P.CONTAINER_CAPS), ("all", frozenset(P.CAPABILITIES))] + [
    ("container+" + c, P.CONTAINER_CAPS | {c}) for c in docker_caps()]


def archmap_arches():
    out = []
    for main, subs in DOCKER.arch_map:
        out.append(pytest.param(main, subs, id=str(main)))
    return out


def probe_values(profiles, name):
    """Argument tuples at which to compare: every compared value, one either side, the mask's
    bits, and the same with the upper 32 bits set."""
    per_index = {}
    for prof in profiles:
        for r in prof.rules:
            if name in r.names:
                for a in r.args:
                    vals = per_index.setdefault(a.index, set())
                    for v in (a.value, a.value_two):
                        vals.update({v, v + 1, max(v - 1, 0)})
                        vals.add(v | (1 << 32))
                        vals.add((v & 0xFFFFFFFF) | 0xFFFFFFFF00000000)
                    vals.add(0)
    if not per_index:
        return [()]
    width = max(per_index) + 1
    probes = []
    for index, vals in sorted(per_index.items()):
        for v in sorted(vals):
            args = [0] * width
            args[index] = v & 0xFFFFFFFFFFFFFFFF
            probes.append(tuple(args))
    return probes


def number(name, arch):
    """The syscall's number on *arch*, from libseccomp or the package's newer table; None when
    it is not a syscall there."""
    try:
        nr = seccomp.syscall_number(name, arch)
        return nr if nr >= 0 else None
    except seccomp.InvalidArgumentError:
        from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
        return NEWER_SYSCALLS.get(name, {}).get(str(arch))


def compile_(prof, arch, caps):
    try:
        f = prof.compile(arch=arch, caps=caps, kernel=KERNEL, enosys=False)
    except seccomp.SeccompError as exc:
        pytest.skip("this libseccomp cannot build for %s: %s" % (arch, exc))
    try:
        return f.export_bpf()
    finally:
        f.release()


def rules_by_name(prof):
    out = {}
    for r in prof.rules:
        for n in r.names:
            out.setdefault(n, []).append((r.action, r.args))
    return out


def only(prof, names):
    """*prof* with only the rules for *names* (a small filter to compile)."""
    from dataclasses import replace
    rules = []
    for r in prof.rules:
        kept = tuple(n for n in r.names if n in names)
        if kept:
            rules.append(replace(r, names=kept))
    return replace(prof, rules=tuple(rules))


def corrupt(action):
    """libseccomp 2.5's byte-order bug for big-endian targets turns some returns into
    KILL_THREAD (issue 13); neither profile has a kill rule."""
    return action.kind == "KILL_THREAD"


@pytest.mark.filterwarnings("ignore::seccomp.profile.SkippedSyscallWarning")
@pytest.mark.parametrize("main,subs", archmap_arches())
def test_never_weaker_than_docker_and_allows_what_it_allows(main, subs):
    all_names = sorted({n for p in (DOCKER, OURS) for r in p.rules for n in r.names})
    base_d = rules_by_name(DOCKER.resolve(arch=main, caps=P.CONTAINER_CAPS, kernel=KERNEL))
    base_o = rules_by_name(OURS.resolve(arch=main, caps=P.CONTAINER_CAPS, kernel=KERNEL))
    checked = 0
    for label, caps in CAP_SETS:
        docker = DOCKER.resolve(arch=main, caps=caps, kernel=KERNEL)
        ours = OURS.resolve(arch=main, caps=caps, kernel=KERNEL)
        names = all_names
        if label != "container":
            # only what the capabilities change (in either profile) needs a look again
            new_d, new_o = rules_by_name(docker), rules_by_name(ours)
            names = sorted(n for n in all_names
                           if new_d.get(n) != base_d.get(n) or new_o.get(n) != base_o.get(n))
            if not names:
                continue
            docker, ours = only(docker, set(names)), only(ours, set(names))
        prog_d, prog_o = compile_(docker, main, caps), compile_(ours, main, caps)
        for arch in (main,) + subs:
            for name in names:
                nr = number(name, arch)
                if nr is None:
                    continue
                for args in probe_values((docker, ours), name):
                    want = seccomp.bpf.evaluate(prog_d, nr, args, arch=arch)
                    got = seccomp.bpf.evaluate(prog_o, nr, args, arch=arch)
                    if corrupt(want) or corrupt(got):
                        pytest.skip("libseccomp %s emitted a corrupt program for %s (its "
                                    "big-endian byte-order bug)"
                                    % (".".join(map(str, seccomp.library_version())), arch))
                    where = "%s on %s with %s, args %s" % (name, arch, label,
                                                          [hex(a) for a in args])
                    assert RANK[got.kind] >= RANK[want.kind], \
                        "weaker than Docker: %s: Docker %s, ours %s" % (where, want, got)
                    if want == Action.ALLOW and not deliberate(name, args):
                        assert got == Action.ALLOW, \
                            "denies what Docker allows: %s: ours %s" % (where, got)
                    checked += 1
    assert checked > 400


def test_the_probes_cover_docker_s_argument_rules():
    """The socket family boundaries Docker names are among the probed values."""
    values = {args[0] for args in probe_values((DOCKER,), "socket")}
    assert {37, 38, 39, 40, 41, (1 << 32) | 38} <= values


def test_deliberate_differences_are_the_documented_ones():
    assert "exact values" in [r for r in OURS.rules if r.names == ("socket",)][0].comment
    assert not deliberate("socket", (socket.AF_INET,)) and deliberate("socket", (1 << 32 | 38,))


# ---------------------------------------------------------------------------------------------
# The kernel: what the profile does in a child, for an unprivileged container's capabilities
# (whoever runs the tests)
# ---------------------------------------------------------------------------------------------

AT_FDCWD = -100
AF_ALG, AF_VSOCK = 38, 40


def test_kernel_denies_what_docker_denies_and_runs_current_syscalls(tmp_path):
    path = str(tmp_path / "file")
    open(path, "w").close()
    import ctypes
    buf = ctypes.create_string_buffer(path.encode())

    def child():
        f = P.load("default").compile()
        f.load()
        out = {}
        for label, args in [("AF_ALG", (AF_ALG, socket.SOCK_SEQPACKET, 0)),
                            ("AF_VSOCK", (AF_VSOCK, socket.SOCK_STREAM, 0)),
                            ("AF_ALG|1<<32", ((1 << 32) | AF_ALG, socket.SOCK_SEQPACKET, 0))]:
            out[label] = syscall("socket", *args)[1]
            out["AF_UNIX"] = syscall("socket", socket.AF_UNIX, socket.SOCK_STREAM, 0)[1]
        out["kcmp"] = syscall("kcmp", os.getpid(), os.getpid(), 0, 0, 0)[1]
        out["pidfd_getfd"] = syscall("pidfd_getfd", 0, 0, 0)[1]
        out["unshare(0)"] = syscall("unshare", 0)[1]
        for name, args in [("fchmodat2", (AT_FDCWD, ctypes.addressof(buf), 0o640, 0)),
                           ("mseal", (0, 0, 0)), ("futex_wake", (0, 0, 1, 0))]:
            nr = number(name, Arch.native())
            out[name] = None if nr is None else syscall(nr, *args)[1]
        return out

    got = in_child(child).unwrap()
    assert got["AF_ALG"] == got["AF_VSOCK"] == got["AF_ALG|1<<32"] == errno.EPERM
    assert got["AF_UNIX"] == 0
    assert got["kcmp"] == got["pidfd_getfd"] == got["unshare(0)"] == errno.EPERM
    # allowed: the kernel runs them (no EPERM from the filter; EINVAL/EFAULT are the kernel's)
    if got["fchmodat2"] is not None and got["fchmodat2"] != errno.ENOSYS:
        assert got["fchmodat2"] == 0
        assert os.stat(path).st_mode & 0o777 == 0o640
    for name in ("mseal", "futex_wake"):
        assert got[name] != errno.EPERM, name


@pytest.mark.skipif(Arch.native() != Arch.X86_64, reason="the x86 family's old calls")
def test_kernel_denies_the_old_x86_stat_uname_signal_family():
    def child():
        P.load("default").compile().load()
        # 64-bit numbers of calls Docker allows next to them: uname (63) stays allowed
        return syscall("uname", 0)[1]

    assert in_child(child).unwrap() == errno.EFAULT       # allowed: the kernel's EFAULT
    prog = P.load("default").compile(enosys=False).export_bpf()
    for name in ("oldstat", "oldfstat", "oldlstat", "olduname", "oldolduname", "signal",
                 "sigaction", "sigsuspend", "sigpending"):
        assert seccomp.bpf.evaluate(prog, name, arch="x86") == Action.ERRNO(errno.EPERM), name
    for name in ("uname", "rt_sigaction", "sigreturn", "sigprocmask"):
        assert seccomp.bpf.evaluate(prog, name, arch="x86") == Action.ALLOW, name
