"""seccomp.bpf.assemble and ``seccomp asm``: the reverse of disassemble."""
import subprocess
import sys

import pytest

import seccomp
import seccomp.bpf as bpf
from seccomp import Action, Arch, Cond, Filter, Op

ARCHES = [a for a in (Arch.X86_64, Arch.X86, Arch.AARCH64, Arch.ARM, Arch.S390X, Arch.PPC64LE,
                      Arch.MIPS, Arch.RISCV64) if a in set(Arch.known())]


def _filter_program(arch):
    f = Filter(Action.ERRNO(1))
    if arch != Arch.native():
        f.remove_arch(Arch.native())
        f.add_arch(arch)
    f.add_rule(Action.ALLOW, "read")
    for op, v in ((Op.EQ, 1), (Op.NE, 2), (Op.LT, 3), (Op.LE, 4), (Op.GT, 1 << 33),
                  (Op.GE, 6)):
        f.add_rule(Action.KILL_PROCESS, "write", Cond(0, op, v), Cond(1, Op.EQ, int(op)))
    f.add_rule(Action.TRAP, "close", Cond(2, Op.MASKED_EQ, 0xF0, 0x30))
    f.add_rule(Action.LOG, "dup")
    return f.export_bpf()


@pytest.mark.parametrize("arch", ARCHES, ids=str)
def test_assemble_reverses_disassemble_for_filters(arch):
    program = _filter_program(arch)
    assert bpf.assemble(bpf.disassemble(program, arch), arch) == program


@pytest.mark.parametrize("arch", [Arch.X86_64, Arch.AARCH64, Arch.S390X], ids=str)
def test_assemble_reverses_disassemble_for_the_default_profile(arch):
    if arch not in set(Arch.known()):
        pytest.skip("libseccomp lacks %s" % arch)
    program = seccomp.profile.load("default").compile(arch=arch).export_bpf()
    assert bpf.assemble(bpf.disassemble(program, arch), arch) == program


HAND = """\
; every mnemonic, labels, symbolic names
        ld [arch]
        jeq #x86_64, start, kill
start:  ld [nr]
        jeq #read, allow, next
next:   jeq #getpid, math, other
math:   ld [arg0]
        st M[0]
        ldx #3
        add x
        sub #1
        mul #2
        div #2
        or #0
        and #0xffffffff
        lsh #1
        rsh #1
        xor #0
        neg
        neg
        tax
        txa
        ld M[0]
        ldx M[0]
        stx M[1]
        ld #len
        ldx #len
        ld #5
        jgt x, big, small
big:    ret ERRNO(7)
small:  jset #1, odd, even
odd:    ret TRACE(3)
even:   ja allow
other:  jge #0x40000000, kill, deny
deny:   ret ERRNO(1)
allow:  ret ALLOW
kill:   ret KILL_PROCESS
"""


@pytest.mark.skipif(Arch.native() != Arch.X86_64, reason="the listing names x86_64")
def test_hand_written_program_with_labels_and_every_mnemonic():
    program = bpf.assemble(HAND)
    ev = bpf.evaluate
    assert ev(program, "read") == Action.ALLOW
    assert ev(program, "open") == Action.ERRNO(1)
    assert ev(program, "getpid", [0]) == Action.TRACE(3)  # A = 5, X = 64: not greater; 5 is odd
    assert ev(program, "read", arch=Arch.AARCH64) == Action.KILL_PROCESS
    assert bpf.assemble(bpf.disassemble(program)) == program


@pytest.mark.parametrize("text, what", [
    ("ret #0\nbogus #1\n", "line 2: unknown instruction"),
    ("ja nowhere\nret #0\n", "line 1: unknown label"),
    ("x: ret #0\njeq #1, x, x\n", "line 2: jump target x is behind"),
    ("ld [nr]\njeq #notasyscall, 2, 2\nret #0\n", "line 2: 'notasyscall' is not"),
    ("0: 0006 00 00 7fff0000  ret #0x7fff0001\n", "line 1: 'ret #0x7fff0001' is 0006"),
    ("1: ret #0\n", "line 1: instruction 1 is at index 0"),
    ("ld M[16]\nret a\n", "line 1: scratch memory"),
    ("", "no instructions"),
    ("ld [nr]\n", "last instruction"),
    ("ret #0\nret ERRNO(99999)\n", "line 2: errno 99999 is out of range"),  # had no line
    ("ret TRACE(65536)\n", "line 1: trace message 65536 is out of range"),
])
def test_assembler_errors_name_the_line(text, what):
    with pytest.raises(seccomp.InvalidArgumentError) as e:
        bpf.assemble(text)
    assert what in str(e.value), str(e.value)
    assert isinstance(e.value, ValueError)


def test_seccomp_asm_command_round_trips(tmp_path):
    program = _filter_program(Arch.native())
    src = tmp_path / "p.bpf"
    src.write_bytes(program)
    listing = subprocess.run([sys.executable, "-m", "seccomp", "disasm", str(src)],
                             capture_output=True, text=True, check=True).stdout
    out = tmp_path / "again.bpf"
    r = subprocess.run([sys.executable, "-m", "seccomp", "asm", "-o", str(out)], input=listing,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == program
    r = subprocess.run([sys.executable, "-m", "seccomp", "asm"], input="bogus\n",
                       capture_output=True, text=True)
    assert r.returncode == 1 and "line 1: unknown instruction" in r.stderr
    assert "Traceback" not in r.stderr
