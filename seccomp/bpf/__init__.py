"""Know what a seccomp filter does without loading it: check, run, disassemble and explain BPF.

    >>> bpf = f.export_bpf()
    >>> evaluate(bpf, "ptrace")                      # what the kernel would answer
    Action.ERRNO(1)
    >>> evaluate(bpf, "clone", [0x10000000], arch="aarch64")
    >>> print(disassemble(bpf))

*program* is always the bytes of a classic BPF program in the byte order of its architecture
(what `Filter.export_bpf()` gives). Programs the kernel would refuse raise
`seccomp.InvalidArgumentError` with the kernel's reason. The interpreter is in C.

Modules: `emulator` (check, evaluate, disassemble), `analysis` (explain and its audit),
`asm` (assemble: the reverse of disassemble), `model` (the rules a filter was given, their
semantics, and the check of every exported program against them), `codegen` (BPF generated
from that model where libseccomp's is wrong).
"""
from .asm import assemble
from .analysis import Explanation, SyscallVerdict, arches_checked, explain
from .emulator import (MAX_INSTRUCTIONS, check, decode_action, disassemble, evaluate,
                       evaluate_many)
from .model import FilterMismatchError

__all__ = ["evaluate", "evaluate_many", "check", "disassemble", "assemble", "explain",
           "Explanation", "SyscallVerdict", "arches_checked", "decode_action", "MAX_INSTRUCTIONS",
           "FilterMismatchError"]
