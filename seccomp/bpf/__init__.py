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
# Each name loads its module on first use: `seccomp run` needs the emulator and the model,
# not the explainer or the assembler.
_HOMES = {"assemble": "asm", "Explanation": "analysis", "SyscallVerdict": "analysis",
          "arches_checked": "analysis", "explain": "analysis", "MAX_INSTRUCTIONS": "emulator",
          "check": "emulator", "decode_action": "emulator", "disassemble": "emulator",
          "evaluate": "emulator", "evaluate_many": "emulator", "FilterMismatchError": "model"}
_SUBMODULES = frozenset({"analysis", "asm", "codegen", "diff", "emulator", "enosys", "expr",
                         "model"})

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from . import analysis, asm, codegen, diff, emulator, enosys, expr, model  # noqa: F401
    from .analysis import Explanation, SyscallVerdict, arches_checked, explain
    from .asm import assemble
    from .emulator import (MAX_INSTRUCTIONS, check, decode_action, disassemble, evaluate,
                           evaluate_many)
    from .model import FilterMismatchError

__all__ = ["evaluate", "evaluate_many", "check", "disassemble", "assemble", "explain",
           "Explanation", "SyscallVerdict", "arches_checked", "decode_action", "MAX_INSTRUCTIONS",
           "FilterMismatchError"]


def _submodule(name: str) -> object:
    """``seccomp.bpf.<name>``, imported (without importlib, whose own import costs more)."""
    import sys

    __import__(__name__ + "." + name)
    return sys.modules[__name__ + "." + name]


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(_submodule(home), name)
        globals()[name] = value  # found directly from now on
        return value
    if name in _SUBMODULES:
        return _submodule(name)
    raise AttributeError("module 'seccomp.bpf' has no attribute %r" % (name,))


def __dir__() -> "list[str]":
    return sorted(set(globals()) | set(_HOMES) | _SUBMODULES)
