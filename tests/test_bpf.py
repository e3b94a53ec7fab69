"""seccomp.bpf: the emulator agrees with the kernel, the checker refuses what the kernel
refuses, and the listing and explanation say what the filter does."""
import ctypes
import errno
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seccomp
from seccomp import Action, Arch, Cond, Filter, Op, Program, bpf

from childproc import in_child
from kernel import syscall

U64 = (1 << 64) - 1
NATIVE = Arch.native()
PROBES = ["getppid", "getuid", "getgid", "geteuid", "getegid", "sched_yield"]


def outcome(action):
    """What a probe syscall returns to the child under *action*: its errno, 0 if it runs."""
    if action in (Action.ALLOW, Action.LOG):
        return 0
    if action & 0xFFFF0000 == 0x00050000:
        return action & 0xFFFF
    raise AssertionError("probe action %s" % action)


def _kernel_answers(program_or_filter, calls):
    if isinstance(program_or_filter, Filter):
        program_or_filter.load()
    else:
        Program(program_or_filter).load()
    return [syscall(name, *(a - (1 << 64) if a >= 1 << 63 else a for a in args))[1]
            for name, args in calls]


# -- random filters: emulator == kernel -------------------------------------------------------

ops = st.sampled_from(list(Op))
values = st.one_of(st.integers(0, U64), st.integers(0, 0xFFFFFFFF),
                   st.sampled_from([0, 1, 0xFFFFFFFF, 1 << 32, U64, 0x80000000]))
other_arches = st.lists(st.sampled_from([Arch.X86, Arch.X32, Arch.AARCH64, Arch.ARM]),
                        max_size=2, unique=True)


@st.composite
def filters(draw):
    rules = []
    for i, name in enumerate(draw(st.lists(st.sampled_from(PROBES), min_size=1, max_size=5,
                                           unique=True))):
        conds = []
        for arg in draw(st.lists(st.integers(0, 5), max_size=3, unique=True)):
            op, v = draw(ops), draw(values)
            conds.append((arg, op, v, draw(values) & v if op == Op.MASKED_EQ else 0))
        rules.append((name, Action.ERRNO(10 + i), conds))
    return draw(other_arches), rules, draw(st.booleans())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(filters(), st.lists(st.lists(values, min_size=6, max_size=6), min_size=2, max_size=4))
def test_emulator_agrees_with_the_kernel(case, arg_sets):
    arches, rules, tree = case
    f = Filter(Action.ALLOW, tsync=False)
    for a in arches:
        f.add_arch(a)
    if tree:
        f.optimize = 2
    for name, action, conds in rules:
        f.add_rule(action, name, *(Cond(a, op, v, v2) for a, op, v, v2 in conds))
    program = f.export_bpf()
    calls = []
    for name, _, conds in rules:
        hit = [0] * 6
        for arg, op, v, v2 in conds:
            hit[arg] = v2 if op == Op.MASKED_EQ else v
        calls.append((name, tuple(hit)))
        calls.extend((name, tuple(args)) for args in arg_sets)
    emulated = bpf.evaluate_many(program, [(n, a) for n, a in calls])
    assert emulated == [bpf.evaluate(program, n, a) for n, a in calls]
    assert emulated == [f.simulate(n, *a) for n, a in calls]
    kernel = in_child(_kernel_answers, f, calls).unwrap()
    assert [outcome(a) for a in emulated] == kernel


# -- hand-written programs with what libseccomp never emits -------------------------------------

def asm(*insns):
    """Classic BPF in native (little-endian) byte order from (code, jt, jf, k) tuples."""
    return b"".join(struct.pack("<HBBI", *i) for i in insns)


def ld(k):
    return (0x20, 0, 0, k)


def ret(k):
    return (0x06, 0, 0, k)


def probe_program(*body):
    """Allow everything except getppid, whose answer *body* computes from its arguments."""
    nr = seccomp.syscall_number("getppid")
    return asm(ld(0), (0x15, 0, len(body), nr), *body, ret(Action.ALLOW))


ERRNO = 0x50000
BODIES = {
    # A = (args[0] + args[1]) & 0xff through scratch memory, X, TXA
    "alu_and_memory": [ld(16), (0x02, 0, 0, 0), ld(24), (0x07, 0, 0, 0), (0x60, 0, 0, 0),
                       (0x0c, 0, 0, 0), (0x54, 0, 0, 0xff), (0x44, 0, 0, ERRNO), (0x16, 0, 0, 0)],
    # jset on args[0], then two different errnos
    "jset": [ld(16), (0x45, 0, 1, 0x4), ret(ERRNO | 4), ret(ERRNO | 5)],
    # 100 / args[0]: a zero divisor ends the program with 0 (KILL_THREAD)
    "div_by_x": [ld(16), (0x07, 0, 0, 0), (0x00, 0, 0, 100), (0x3c, 0, 0, 0),
                 (0x44, 0, 0, ERRNO), (0x16, 0, 0, 0)],
    # shifts, sub, mul, xor, neg of args[0] by args[1] (X), masked into an errno
    "shifts": [ld(24), (0x07, 0, 0, 0), ld(16), (0x6c, 0, 0, 0), (0x7c, 0, 0, 0),
               (0x14, 0, 0, 3), (0x24, 0, 0, 7), (0xa4, 0, 0, 0x55), (0x84, 0, 0, 0),
               (0x54, 0, 0, 0x3ff), (0x44, 0, 0, ERRNO), (0x16, 0, 0, 0)],
    # len loads, ja over a wrong answer, stx/ldx memory, txa
    "len_and_ja": [(0x80, 0, 0, 0), (0x81, 0, 0, 0), (0x03, 0, 0, 5), (0x05, 0, 0, 1),
                   ret(ERRNO | 99), (0x61, 0, 0, 5), (0x87, 0, 0, 0), (0x44, 0, 0, ERRNO),
                   (0x16, 0, 0, 0)],
    # the instruction pointer's high word (user space: above 4 GiB) and an argument's high word
    "ip_and_high_words": [ld(12), (0x25, 1, 0, 0), ret(ERRNO | 7), ld(20),
                          (0x15, 0, 1, 0), ret(ERRNO | 8), ret(ERRNO | 9)],
}


def _kernel_signal_or_errno(program, args):
    Program(program).load()
    return syscall("getppid", *args)[1]


@pytest.mark.parametrize("name", sorted(BODIES))
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                               HealthCheck.function_scoped_fixture])
@given(args=st.lists(st.integers(0, 0xFFFFFFFF), min_size=2, max_size=2))
def test_hand_written_programs_agree_with_the_kernel(name, args):
    program = probe_program(*BODIES[name])
    # the kernel reports the instruction pointer inside libc's syscall()
    ip = ctypes.cast(ctypes.CDLL(None).syscall, ctypes.c_void_p).value
    emulated = bpf.evaluate(program, "getppid", args, ip=ip)
    result = in_child(_kernel_signal_or_errno, program, args)
    if emulated == Action.KILL_THREAD:
        assert result.signal == 31                       # SIGSYS
    else:
        assert result.unwrap() == outcome(emulated)


REJECTED = {
    "mod is not allowed": [ld(16), (0x94, 0, 0, 3), ret(0)],
    "byte loads are not allowed": [(0x30, 0, 0, 0), ret(0)],
    "misaligned load": [ld(2), ret(0)],
    "load past seccomp_data": [ld(64), ret(0)],
    "memory read before written": [(0x60, 0, 0, 1), ret(0)],
    "memory written on one path only": [ld(0), (0x15, 0, 1, 1), (0x02, 0, 0, 3),
                                        (0x60, 0, 0, 3), ret(0)],
    "jump past the end": [ld(0), (0x15, 5, 0, 1), ret(0)],
    "ja past the end": [(0x05, 0, 0, 3), ret(0)],
    "no final return": [ret(0), ld(0)],
    "division by constant zero": [ld(0), (0x34, 0, 0, 0), ret(0)],
    "shift by 32": [ld(0), (0x64, 0, 0, 32), ret(0)],
    "scratch word 16": [(0x02, 0, 0, 16), ret(0)],
}


def _kernel_loads(program):
    try:
        Program(program).load()
    except seccomp.SeccompError as exc:
        return exc.errno
    return 0


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_programs_the_kernel_rejects_are_rejected(name):
    program = asm(*REJECTED[name])
    with pytest.raises(seccomp.InvalidArgumentError, match="kernel would reject"):
        bpf.check(program)
    assert in_child(_kernel_loads, program).unwrap() == errno.EINVAL


def test_size_limits():
    with pytest.raises(ValueError, match="8-byte"):
        bpf.check(b"")
    with pytest.raises(ValueError, match="4096"):
        bpf.check(asm(*([ld(0)] * 4096 + [ret(0)])))
    assert bpf.check(asm(*([ld(0)] * 4095 + [ret(0)]))) == 4096


# -- other architectures, byte order ---------------------------------------------------------

@pytest.mark.parametrize("arch", [Arch.AARCH64, Arch.X86, Arch.S390X, Arch.PPC64, Arch.MIPS,
                                  Arch.ARM, Arch.RISCV64])
def test_filters_for_other_architectures(arch):
    f = Filter(Action.ALLOW)
    f.remove_arch(NATIVE)
    f.add_arch(arch)
    f.add_rule(Action.ERRNO(1), "openat", Cond(2, Op.MASKED_EQ, 0x3, 0x1))
    f.add_rule(Action.ERRNO(2), "read", Cond(0, Op.GT, 0x100000000))
    program = f.export_bpf()
    assert bpf.evaluate(program, "openat", [0, 0, 0x41], arch=arch) == Action.ERRNO(1)
    assert bpf.evaluate(program, "openat", [0, 0, 0x42], arch=arch) == Action.ALLOW
    if int(arch) & 0x80000000:
        assert bpf.evaluate(program, "read", [0x200000000], arch=arch) == Action.ERRNO(2)
        assert bpf.evaluate(program, "read", [5], arch=arch) == Action.ALLOW
    else:
        # the kernel passes 32-bit arguments there: none is greater than 2**32. libseccomp
        # compares only the low words ("$a0 > 0" in its PFC), which would deny read(5): the
        # check against the rules catches that and the program is generated instead (which
        # the exported pseudo filter code says)
        assert "$a0 > 0" in f._export_pfc_str()
        assert "generated by the seccomp package" in f.export_pfc()
        assert bpf.evaluate(program, "read", [5], arch=arch) == Action.ALLOW
        assert bpf.evaluate(program, "read", [0xFFFFFFFF], arch=arch) == Action.ALLOW
    other = Arch.X86_64 if arch is not Arch.X86_64 else Arch.AARCH64
    # a syscall of an arch the filter does not cover gets the bad-arch action
    if bool(int(other) & 0x40000000) == bool(int(arch) & 0x40000000):
        assert bpf.evaluate(program, 0, arch=other) == Action.KILL


def test_x32_and_socketcall():
    f = Filter(Action.ALLOW)
    f.add_arch(Arch.X86)
    f.add_rule(Action.ERRNO(1), "socket", Cond(0, Op.EQ, 16))
    program = f.export_bpf()
    assert bpf.evaluate(program, "socket", [16]) == Action.ERRNO(1)
    assert bpf.evaluate(program, "socket", [16], arch="x86") == Action.ERRNO(1)
    # on x86, socket() also comes through socketcall(SYS_SOCKET=1, args)
    assert bpf.evaluate(program, "socketcall", [1], arch="x86") == Action.ERRNO(1)
    assert bpf.evaluate(program, "socketcall", [2], arch="x86") == Action.ALLOW
    # x32 numbers on an x86_64-only filter are refused by libseccomp's filter
    assert bpf.evaluate(program, "read", arch="x32") == Action.KILL


def test_bad_input():
    with pytest.raises(TypeError):
        bpf.evaluate("not bytes", "read")
    program = Filter(Action.ALLOW).export_bpf()
    with pytest.raises(ValueError):
        bpf.evaluate(program, "no_such_syscall")
    with pytest.raises(ValueError):
        bpf.evaluate(program, "read", [1] * 7)
    with pytest.raises(ValueError):
        bpf.evaluate(program, "read", [1 << 64])
    with pytest.raises(TypeError):
        bpf.evaluate(program, "read", ["x"])
    with pytest.raises(ValueError):
        bpf.evaluate(program, "read", arch="vax")
    assert bpf.evaluate(program, "read", [-1]) == Action.ALLOW
    with pytest.raises(ValueError, match="32 bits"):       # found by tests/fuzz/fuzz_bpf.py
        bpf.evaluate(program, 1 << 32)
    with pytest.raises(ValueError, match="32 bits"):
        bpf.evaluate_many(program, [(1 << 40, ())])
    assert bpf.evaluate(program, 0xFFFFFFFF) == bpf.evaluate(program, -1)
    assert bpf.decode_action(0x12340000) == Action.KILL_PROCESS  # unknown: the kernel kills


# -- listing and explanation --------------------------------------------------------------------

def test_disassembly_names_what_it_sees():
    f = Filter(Action.ERRNO(errno.EPERM))
    f.add_arch(Arch.X86)
    f.add_rule(Action.ALLOW, "read")
    f.add_rule(Action.ALLOW, "write", Cond(0, Op.EQ, 1))
    text = bpf.disassemble(f.export_bpf())
    for expected in ("; arch", "; x86_64", "; x86\n", "; read", "; write", "args[0] low",
                     "; ALLOW", "; ERRNO(1)", "; KILL"):
        assert expected in text, expected
    assert len(text.splitlines()) == len(f.export_bpf()) // 8


def test_explain_table_and_audit():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "execve")
    f.add_rule(Action.ERRNO(1), "mount", Cond(2, Op.EQ, 0))
    e = bpf.explain(f)
    verdicts = {(v.arch, v.syscall): v for v in e.syscalls}
    assert verdicts[(NATIVE, "execve")].actions == (Action.ERRNO(1),)
    assert verdicts[(NATIVE, "mount")].args == (2,)
    assert set(verdicts[(NATIVE, "mount")].actions) == {Action.ERRNO(1), Action.ALLOW}
    assert verdicts[(NATIVE, "read")].actions == (Action.ALLOW,)
    assert e.default[NATIVE] == (Action.ALLOW,)
    text = "\n".join(e.warnings)
    assert "default action is ALLOW" in text
    assert "execve is blocked but execveat is allowed" in text
    assert "execve" in e.table()


def test_audit_of_a_program_without_arch_check():
    program = asm(ld(0), (0x15, 0, 1, seccomp.syscall_number("ptrace")), ret(ERRNO | 1),
                  ret(Action.ALLOW))
    warnings = bpf.explain(program).warnings
    assert any("never checks the architecture" in w for w in warnings)


def test_x32_hole_is_reported():
    nr = seccomp.syscall_number("ptrace")
    # checks the arch but not the x32 bit
    program = asm(ld(4), (0x15, 1, 0, int(Arch.X86_64)), ret(0), ld(0), (0x15, 0, 1, nr),
                  ret(ERRNO | 1), ret(Action.ALLOW))
    warnings = bpf.explain(program, [Arch.X86_64]).warnings
    assert any("x32" in w for w in warnings), warnings


def test_default_profile_is_explained_without_holes():
    import seccomp.profile
    prof = seccomp.profile.load("default")
    e = bpf.explain(prof)
    assert not any("default action is ALLOW" in w for w in e.warnings)
    verdicts = {(v.arch, v.syscall): v for v in e.syscalls}
    assert Action.ALLOW in verdicts[(NATIVE, "read")].actions
    assert verdicts[(NATIVE, "kexec_load")].actions != (Action.ALLOW,)


# -- the command line -------------------------------------------------------------------------

def _cli(*args, input=None):
    import subprocess
    import sys
    return subprocess.run([sys.executable, "-m", "seccomp", *args], capture_output=True,
                          input=input, timeout=120)


def test_cli_check_answers_like_the_emulator():
    done = _cli("check", "unshare", "0x10000000")       # CLONE_NEWUSER: denied by default
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "ERRNO(1)"
    done = _cli("check", "--cap", "CAP_SYS_ADMIN", "unshare", "0x10000000")
    assert done.stdout.decode().strip() == "ALLOW"
    done = _cli("check", "--arch", "aarch64", "read", "0")
    assert done.stdout.decode().strip() == "ALLOW"
    done = _cli("check", "no_such_syscall")
    assert done.returncode != 0 and b"no_such_syscall" in done.stderr


def test_cli_disasm_and_explain_of_a_bpf_file(tmp_path):
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "execve")
    path = tmp_path / "f.bpf"
    path.write_bytes(f.export_bpf())
    done = _cli("disasm", str(path))
    assert done.returncode == 0 and b"; execve" in done.stdout
    assert _cli("disasm", "-", input=f.export_bpf()).stdout == done.stdout
    done = _cli("explain", str(path))
    text = done.stdout.decode()
    assert "execve" in text and "ERRNO(1)" in text and "execveat is allowed" in text
    done = _cli("check", "--bpf", str(path), "execve")
    assert done.stdout.decode().strip() == "ERRNO(1)"


def test_disassemble_a_program_that_checks_an_unknown_architecture():
    # ld arch; jeq #60 (no architecture has token 60); ld nr; jeq #2; ret ALLOW; ret KILL
    insns = [(0x20, 0, 0, 4), (0x15, 0, 3, 60), (0x20, 0, 0, 0), (0x15, 0, 1, 2),
             (0x06, 0, 0, 0x7fff0000), (0x06, 0, 0, 0)]
    program = b"".join(struct.pack("<HBBI", *i) for i in insns)
    bpf.check(program, "x86_64")
    lines = bpf.disassemble(program, "x86_64").splitlines()
    assert len(lines) == len(insns)
    assert "unknown arch 0x3c" in lines[1]
    assert bpf.evaluate(program, 2, arch="x86_64") == Action.KILL
