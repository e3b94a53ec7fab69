"""seccomp.bpf.enosys: syscalls a profile does not know fail with ENOSYS, not the default errno.

Checked with the emulator on every architecture of the default profile's archMap (every syscall
number up to past the table, both modes: the profile's horizon and a target kernel's table), on
hand-made stubs the check must refuse, and by the kernel in children.
"""
import ctypes
import errno
import struct

import pytest

import seccomp
from seccomp import Action, Arch
from seccomp import profile as P
from seccomp.bpf import enosys, evaluate_many
from seccomp.profile import CONTAINER_CAPS
from childproc import in_child
from kernel import syscall

ENOSYS = Action.ERRNO(errno.ENOSYS)
EPERM = Action.ERRNO(errno.EPERM)
DEFAULT = P.load("default")
# the default profile's archMap (Docker's) lists architectures newer libseccomps add
ARCHMAP = [pytest.param(m, s, marks=pytest.mark.skipif(
    m not in Arch.known(), reason="libseccomp %s lacks %s" % (
        ".".join(map(str, seccomp.library_version())), m))) for m, s in DEFAULT.arch_map]
# Where each architecture's syscall numbers start, as the filter sees them.
BASE = {Arch.X32: 0x40000000, Arch.MIPS: 4000, Arch.MIPSEL: 4000, Arch.MIPS64: 5000,
        Arch.MIPSEL64: 5000, Arch.MIPS64N32: 6000, Arch.MIPSEL64N32: 6000}

SMALL = {"defaultAction": "SCMP_ACT_ERRNO",
         "syscalls": [{"names": ["read", "write", "exit_group", "getpid"],
                       "action": "SCMP_ACT_ALLOW"},
                      {"names": ["mount"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}


def named_numbers(prof, arch):
    return enosys.plan([n for r in prof.rules for n in r.names], [arch]).named[arch]


def numbers(arch):
    base = BASE.get(arch, 0)
    return [base + n for n in range(0, 1100)] + [base + 0xF0000 + n for n in range(8)] + \
        [0x3FFFFFFF, 0x7FFFFFFF, 0xFFFFFFFF]


def compare(plain, patched, arch, named, default):
    """Every number: the same answer, or ENOSYS where the plain program gives the default
    answer and the profile does not name the number. Returns the numbers that got ENOSYS."""
    nrs = numbers(arch)
    before = evaluate_many(plain, nrs, arch=arch)
    after = evaluate_many(patched, nrs, arch=arch)
    got_enosys = set()
    for nr, b, a in zip(nrs, before, after):
        if a == b:
            continue
        assert a == ENOSYS and b == default and nr not in named, (arch, nr, b, a)
        got_enosys.add(nr)
    return got_enosys


@pytest.mark.parametrize("main,subs", ARCHMAP, ids=lambda v: str(v))
def test_default_profile_every_archmap_architecture_horizon(main, subs):
    prof = DEFAULT.resolve(arch=main, caps=CONTAINER_CAPS)
    plain = prof.compile(arch=main, enosys=False).export_bpf()
    patched = prof.compile(arch=main).export_bpf()
    for arch in (main,) + subs:
        named = named_numbers(prof, arch)
        # x32's own entry points (512-547) and ARM's private syscalls do not move the horizon
        apart = {Arch.X32: BASE[Arch.X32] + 512, Arch.ARM: 0xF0000}.get(arch, 1 << 32)
        horizon = max(n for n in named if n < apart)
        got = compare(plain, patched, arch, named, EPERM)
        plain_1000 = evaluate_many(plain, [BASE.get(arch, 0) + 1000], arch=arch)[0]
        if plain_1000 == EPERM:  # libseccomp's program gives the default there: the stub works
            assert BASE.get(arch, 0) + 1000 in got
            table = range(BASE.get(arch, 0), BASE.get(arch, 0) + 1100)
            assert all(nr > horizon or (nr == 0 and arch in (Arch.S390, Arch.S390X))
                       for nr in got if nr in table), (arch, horizon, sorted(got)[:5])


@pytest.mark.parametrize("main,subs", ARCHMAP, ids=lambda v: str(v))
def test_kernel_table_mode_every_archmap_architecture(main, subs):
    prof = P.load(SMALL)
    for kernel in ((5, 4), (6, 18)):
        plain = prof.compile(arch=main, enosys=False).export_bpf()
        patched = prof.compile(arch=main, kernel=kernel).export_bpf()
        for arch in (main,) + subs:
            f = P.load(SMALL).compile(arch=main, enosys=False)
            if not f.has_arch(arch):
                continue
            named = named_numbers(prof, arch)
            table = enosys.kernel_syscalls(arch, kernel)
            got = compare(plain, patched, arch, named, EPERM)
            for nr in numbers(arch):
                if nr in table or nr in named:
                    assert nr not in got, (arch, kernel, nr)
            plain_answers = evaluate_many(plain, numbers(arch), arch=arch)
            missing = [nr for nr, a in zip(numbers(arch), plain_answers)
                       if a == EPERM and nr not in table and nr not in named]
            assert set(missing) <= got, (arch, kernel, sorted(set(missing) - got)[:5])


@pytest.mark.skipif(Arch.native() != Arch.X86_64, reason="x86_64 syscall numbers")
def test_kernel_versions_decide_between_enosys_and_the_profiles_errno():
    prof = P.load(SMALL)

    def answer(kernel, nr):
        return prof.compile(kernel=kernel).simulate(nr)

    assert answer("6.5", 452) == ENOSYS       # fchmodat2 came in 6.6
    assert answer("6.6", 452) == EPERM
    assert answer("6.10", 335) == ENOSYS      # uretprobe: 6.11, out of order
    assert answer("6.11", 335) == EPERM
    assert answer("6.18", 400) == ENOSYS      # a hole in the x86_64 table
    assert answer("6.18", 39) == Action.ALLOW   # getpid: named, allowed
    assert answer("6.18", 165) == Action.ERRNO(errno.EACCES)  # mount: named, its own errno
    assert answer("6.18", 110) == EPERM       # getppid: the kernel has it, the profile denies
    assert prof.compile().simulate(110) == EPERM   # horizon: below the highest name (231)
    assert prof.compile().simulate(300) == ENOSYS  # above it



def test_nothing_to_patch():
    allow = {"defaultAction": "SCMP_ACT_ALLOW",
             "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO"}]}
    plain = P.load(allow).compile(enosys=False).export_bpf()
    assert P.load(allow).compile().export_bpf() == plain
    already = dict(SMALL, defaultErrnoRet=errno.ENOSYS)
    plain = P.load(already).compile(enosys=False).export_bpf()
    assert P.load(already).compile().export_bpf() == plain
    assert P.load(SMALL).compile(enosys=False).enosys is None


def test_rules_added_after_compile_are_respected():
    f = P.load(SMALL).compile()
    assert f.simulate(1000) == ENOSYS
    f.add_rule(Action.ALLOW, 1000)
    assert f.simulate(1000) == Action.ALLOW
    assert f.simulate(1001) == ENOSYS


def test_many_intervals_span_several_blocks():
    f = seccomp.Filter(EPERM)
    program = f.export_bpf()
    native = Arch.native()
    named = frozenset(range(BASE.get(native, 0), BASE.get(native, 0) + 1100, 3))
    plan = enosys.EnosysPlan({native: named}, (3, 0))
    patched = enosys.patch(program, EPERM, [native], plan)
    table = enosys.kernel_syscalls(native, (3, 0))
    intervals = enosys.enosys_intervals(program, EPERM, [native], plan)
    assert sum(len(v) for v in intervals.values()) > 2 * 100  # three blocks of tests
    nrs = numbers(native)
    plain = evaluate_many(program, nrs, arch=native)  # x32 numbers: libseccomp's bad-arch kill
    for nr, got, before in zip(nrs, evaluate_many(patched, nrs, arch=native), plain):
        want = before if nr in named or nr in table or before != EPERM else ENOSYS
        assert got == want, (nr, got, want)


def _with_stub(program, intervals, big_endian=False):
    fmt = ">HBBI" if big_endian else "<HBBI"
    return b"".join(struct.pack(fmt, *i) for i in enosys._stub(intervals)) + program


def test_check_refuses_a_stub_that_hides_a_named_syscall():
    native = Arch.native()
    f = seccomp.Filter(EPERM)
    program = f.export_bpf()
    getpid = seccomp.syscall_number("getpid")
    plan = enosys.EnosysPlan({native: frozenset({getpid})})
    token = int(Arch.X86_64) if native is Arch.X32 else int(native)
    bad = _with_stub(program, {token: [(getpid, getpid)]})
    with pytest.raises(seccomp.SeccompError, match="which the profile names"):
        enosys.verify(program, bad, EPERM, [native], plan)


def test_check_refuses_a_stub_over_a_rule_of_the_filter():
    native = Arch.native()
    f = seccomp.Filter(EPERM)
    f.add_rule(Action.ALLOW, "getpid")
    program = f.export_bpf()
    getpid = seccomp.syscall_number("getpid")
    token = int(Arch.X86_64) if native is Arch.X32 else int(native)
    bad = _with_stub(program, {token: [(getpid - 1, getpid + 1)]})
    with pytest.raises(seccomp.SeccompError, match="the filter answers ALLOW"):
        enosys.verify(program, bad, EPERM, [native], enosys.EnosysPlan({native: frozenset()}))


def test_check_refuses_a_wrong_jump():
    native = Arch.native()
    program = seccomp.Filter(EPERM).export_bpf()
    token = int(Arch.X86_64) if native is Arch.X32 else int(native)
    stub = enosys._stub({token: [(500, 600)]})
    code, jt, jf, k = stub[-2]                  # the section's jump to the filter
    assert code == 0x05
    stub[-2] = (code, jt, jf, k - 1)            # now lands on the ENOSYS return
    bad = b"".join(struct.pack("<HBBI", *i) for i in stub) + program
    with pytest.raises(seccomp.SeccompError, match="ENOSYS stub check failed"):
        enosys.verify(program, bad, EPERM, [native], enosys.EnosysPlan({native: frozenset()}))


def test_kernel_table_lookup():
    assert 452 in enosys.kernel_syscalls("x86_64", (6, 6))
    assert 452 not in enosys.kernel_syscalls("x86_64", (6, 5))
    assert 0x40000000 + 452 in enosys.kernel_syscalls("x32", (6, 6))
    assert 4000 + 3 in enosys.kernel_syscalls("mipsel", (4, 0))   # o32 read
    assert 452 in enosys.kernel_syscalls(Arch.PPC64LE, (6, 6))
    with pytest.raises(ValueError):
        enosys.kernel_syscalls("x86_64_nope", (6, 6))


# ---------------------------------------------------------------------------------------------
# The kernel
# ---------------------------------------------------------------------------------------------

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def raw(nr, *args):
    ctypes.set_errno(0)
    rc = _libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    return ctypes.get_errno() if rc == -1 else 0


def test_kernel_default_profile_gives_enosys_for_unknown_syscalls():
    prof = DEFAULT.resolve(caps=CONTAINER_CAPS)
    fchmodat2 = seccomp.syscall_number("fchmodat2")
    names = {n for r in prof.rules for n in r.names}

    def child(enosys_on):
        prof.compile(enosys=enosys_on).load()
        return (raw(fchmodat2, -1, 0, 0, 0), raw(1000), syscall("mount", 0, 0, 0, 0, 0)[1],
                syscall("getppid")[1])

    on = in_child(child, True).unwrap()
    off = in_child(child, False).unwrap()
    if "fchmodat2" in names:
        assert on[0] == off[0] != errno.ENOSYS
    else:
        assert (on[0], off[0]) == (errno.ENOSYS, errno.EPERM)
    assert on[1:] == (errno.ENOSYS, errno.EPERM, 0)
    assert off[1:] == (errno.EPERM, errno.EPERM, 0)


def test_kernel_seccomp_run_gives_enosys(tmp_path):
    import subprocess
    import sys
    script = ("import ctypes; l = ctypes.CDLL(None, use_errno=True); "
              "l.syscall.restype = ctypes.c_long; r = l.syscall(ctypes.c_long(1000)); "
              "print(ctypes.get_errno())")
    out = subprocess.run([sys.executable, "-m", "seccomp", "run", "--", sys.executable, "-c",
                          script], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == str(errno.ENOSYS), out.stderr


@pytest.mark.parametrize("arch", ["x86", "s390", "s390x", "ppc64le"])
def test_multiplexed_socketcall_and_ipc_keep_their_rules(arch):
    """socket and shmget reach these kernels through socketcall/ipc too: libseccomp's rules
    there (on the multiplexer's first argument) keep their answers; pseudo numbers do not move
    the horizon."""
    prof = P.load({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", "socket", "shmget"], "action": "SCMP_ACT_ALLOW"}]})
    socketcall = seccomp._core.syscall_resolve_name("socketcall", arch)
    ipc = seccomp._core.syscall_resolve_name("ipc", arch)
    for kernel in (None, "6.1"):
        plain = prof.compile(arch=arch, enosys=False).export_bpf()
        patched = prof.compile(arch=arch, kernel=kernel).export_bpf()
        for nr, args in ((socketcall, [1]), (socketcall, [2]), (ipc, [23]), (ipc, [1])):
            assert evaluate_many(patched, [(nr, args)], arch=arch) == \
                evaluate_many(plain, [(nr, args)], arch=arch), (arch, kernel, nr, args)
        assert evaluate_many(patched, [(socketcall, [1])], arch=arch) == [Action.ALLOW]
        assert evaluate_many(patched, ["socket", 1000], arch=arch) == [Action.ALLOW, ENOSYS]


def test_names_from_the_newer_table_count_as_named():
    """A syscall this libseccomp does not know, numbered by the package's newer table, is
    named by the profile: never ENOSYS, and it moves the horizon."""
    from seccomp.profile.newer_syscalls import NEWER_SYSCALLS
    native = Arch.native()
    missing = [n for n in NEWER_SYSCALLS if str(native) in NEWER_SYSCALLS[n]
               and not enosys._numbers(n, native)]
    if not missing:
        pytest.skip("this libseccomp knows every syscall of the newer table")
    name = max(missing, key=lambda n: NEWER_SYSCALLS[n][str(native)])
    number = NEWER_SYSCALLS[name][str(native)]
    prof = P.load({"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
        {"names": ["read", name], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES}]})
    f = prof.compile()
    assert number in f.enosys.named[native]
    assert f.simulate(number) == Action.ERRNO(errno.EACCES)   # the rule, added by number
    assert f.simulate(number - 1) in (EPERM, Action.ERRNO(errno.EACCES))  # below the horizon
    assert f.simulate(number + 1000) == ENOSYS


@pytest.mark.skipif(Arch.native() != Arch.X86_64, reason="x86_64 syscall numbers")
def test_kernel_table_mode_in_the_kernel():
    """Built for the running kernel: a number its table lacks gets ENOSYS (400 is a hole in the
    x86_64 table), one it has gets the profile's errno."""
    rest = [n for n in P.expand("@system-service") if n not in ("getppid", "mount")]
    prof = P.load(SMALL).with_rule(rest, Action.ALLOW)
    kernel = P.host_kernel()

    def child():
        prof.compile(kernel=kernel).load()
        return raw(400), raw(1000), raw(110), syscall("mount", 0, 0, 0, 0, 0)[1]

    assert in_child(child).unwrap() == (errno.ENOSYS, errno.ENOSYS, errno.EPERM, errno.EACCES)
