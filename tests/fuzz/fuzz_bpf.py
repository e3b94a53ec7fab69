"""Coverage-guided fuzzing (atheris/libFuzzer) of the BPF checker, interpreter and listing.

    python3 tests/fuzz/fuzz_bpf.py -max_total_time=60

Each input becomes a program, mostly of opcodes seccomp allows (with small jumps and loads
inside seccomp_data, so many pass the checker), sometimes raw bytes, plus seccomp_data fields.
A program the checker accepts must run to an answer, disassemble, and give the same answer
singly and in a batch; anything but InvalidArgumentError from the checker is a finding. (The
interpreter is C, not instrumented by atheris: this is a crash and consistency hunt.)
"""
import struct
import sys

import atheris

with atheris.instrument_imports():
    from seccomp import InvalidArgumentError, bpf


# every opcode seccomp accepts (see src_c/_bpf.pyx), and MOD, which it does not
OPCODES = [0x20, 0x80, 0x81, 0x06, 0x16, 0x84, 0x00, 0x01, 0x07, 0x87, 0x60, 0x61, 0x02, 0x03,
           0x05, 0x94] + [0x04 | op | src for op in (0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60,
                                                      0x70, 0xa0) for src in (0, 8)] + \
    [0x05 | op | src for op in (0x10, 0x20, 0x30, 0x40) for src in (0, 8)]


def one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    big = fdp.ConsumeBool()
    arch = "s390x" if big else "x86_64"
    nr = fdp.ConsumeIntInRange(0, 0xFFFFFFFF)
    args = [fdp.ConsumeIntInRange(0, (1 << 64) - 1) for _ in range(6)]
    if fdp.ConsumeBool():
        program = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 8 * 64))
    else:
        count = fdp.ConsumeIntInRange(1, 48)
        insns = []
        for _ in range(count):
            code = fdp.PickValueInList(OPCODES) if fdp.ConsumeIntInRange(0, 15) else \
                fdp.ConsumeIntInRange(0, 0xFFFF)
            k = fdp.PickValueInList([0, 4, 8, 16, 20, 60, 1, 3, 31, 32, 0xFFFFFFFF]) \
                if fdp.ConsumeBool() else fdp.ConsumeIntInRange(0, 0xFFFFFFFF)
            insns.append((code, fdp.ConsumeIntInRange(0, 4), fdp.ConsumeIntInRange(0, 4), k))
        insns.append((0x06, 0, 0, fdp.ConsumeIntInRange(0, 0xFFFFFFFF)))
        program = b"".join(struct.pack(">HBBI" if big else "<HBBI", *i) for i in insns)
    try:
        bpf.check(program, arch)
    except InvalidArgumentError:
        return
    answer = bpf.evaluate(program, nr, args, arch=arch)
    assert bpf.evaluate_many(program, [(nr, args)], arch=arch) == [answer]
    assert len(bpf.disassemble(program, arch).splitlines()) == len(program) // 8


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
