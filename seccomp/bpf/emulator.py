"""Run, check and disassemble classic BPF programs as the kernel would (see `seccomp.bpf`)."""
from __future__ import annotations


from .. import _bpf, _core
from .._memo import memo
from .._core import InvalidArgumentError, SeccompError
from .._enums import (ACTION_KIND_MASK, AUDIT_ARCH_64BIT, AUDIT_ARCH_LE, X32_SYSCALL_BIT, Action,
                      Arch)

__all__ = ["evaluate", "evaluate_many", "check", "disassemble", "decode_action",
           "MAX_INSTRUCTIONS"]

MAX_INSTRUCTIONS = _bpf.MAX_INSTRUCTIONS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Tuple, Union

    ArchLike = Union[Arch, str, int, None]
    Syscall = Union[int, str]


_TARGETS: Dict[object, "_bpf.Target"] = {}
_ARCH_OF: Dict[int, Arch] = {}


def _target(arch: ArchLike) -> "_bpf.Target":
    """The emulator's view of *arch*, cached (an Arch member by id: hashing it runs Python
    code)."""
    key = id(arch) if type(arch) is Arch else arch  # members live for ever: ids are stable
    t = _TARGETS.get(key)
    if t is None:
        a = Arch.native() if arch is None else Arch(arch).resolved
        token = int(a)
        if a is Arch.X32:  # x32 syscalls arrive as x86_64 ones with the x32 bit in the number
            token = int(Arch.X86_64)
        t = _TARGETS[key] = _bpf.Target(token, not token & AUDIT_ARCH_LE,
                                        bool(token & AUDIT_ARCH_64BIT), _ACTIONS, decode_action,
                                        lambda name: _number(name, arch=a))
        _ARCH_OF[id(t)] = a
    return t


def _arch(t: "_bpf.Target") -> Arch:
    return _ARCH_OF[id(t)]


def _program(program: bytes, target: "_bpf.Target") -> "_bpf.Checked":
    return target.program(program)


def _number(syscall: Syscall, arch: Arch) -> int:
    if isinstance(syscall, bool) or not isinstance(syscall, (int, str)):
        raise TypeError("a syscall is a name or a number, not %s" % type(syscall).__name__)
    if isinstance(syscall, str):
        return _real_number(syscall, arch)
    if not -(1 << 31) <= syscall < (1 << 32):
        raise InvalidArgumentError(22, "syscall number %d does not fit in 32 bits" % syscall)
    return syscall


@memo(1024)
def _real_number(name: str, arch: Arch) -> int:
    nr = _core.syscall_resolve_name(name, arch)
    if nr >= 0:
        return nr
    # libseccomp names some syscalls by a negative pseudo number (socket on x86, multiplexed
    # through socketcall); the kernel sees the direct syscall's number where there is one
    base = table_base(arch)
    number = syscall_table(arch, base).get(name)
    if number is not None and number < base + 1024:  # the first 1024 numbers from base
        return number
    raise InvalidArgumentError(22, "%s has no syscall number of its own on %s (it is reached "
                                   "through a multiplexer such as socketcall or ipc)"
                               % (name, arch))


#: How many numbers from its base `syscall_table` reads: past every architecture's table.
TABLE_SPAN = 1100

# Where each architecture's syscall numbers start, as the kernel sees them: x32's carry the
# x32 bit, and mips numbers its three ABIs from 4000, 5000 and 6000 (libseccomp also resolves
# mips numbers without their base, which the kernel never sees).
_TABLE_BASE = {Arch.X32: X32_SYSCALL_BIT, Arch.MIPS: 4000, Arch.MIPSEL: 4000, Arch.MIPS64: 5000,
               Arch.MIPSEL64: 5000, Arch.MIPS64N32: 6000, Arch.MIPSEL64N32: 6000}
# ARM's private syscalls (__ARM_NR_BASE, up to 0x0F07FF): set_tls, cacheflush, ...
ARM_PRIVATE_BASE = 0x0F0000
_ARM_PRIVATE_SPAN = 0x800


def table_base(arch: Arch) -> int:
    """The first syscall number of *arch*'s table, as the kernel sees it."""
    return _TABLE_BASE.get(arch, 0)


@memo(None)
def arch_syscalls(arch: Arch) -> "Tuple[Tuple[int, str], ...]":
    """Every syscall number of *arch* that libseccomp names, with its name, in order: its
    table from `table_base`, ARM's private syscalls, and the syscalls newer than this
    libseccomp from the package's table (``mseal`` for libseccomp 2.5.4)."""
    from .._syscall_table import newer_syscalls

    base = table_base(arch)
    spans = [(base, TABLE_SPAN)]
    if arch is Arch.ARM:
        spans.append((ARM_PRIVATE_BASE, _ARM_PRIVATE_SPAN))
    found: Dict[int, str] = {}
    for first, count in spans:
        found.update((nr, name) for name, nr in _core.syscall_numbers(arch, first, count).items())
    for name, numbers in newer_syscalls().items():
        nr = numbers.get(str(arch))
        if nr is not None:
            found.setdefault(nr, name)
    return tuple(sorted(found.items()))


@memo(None)
def syscall_table(arch: Arch, base: int) -> Dict[str, int]:
    """Name -> lowest number in ``base .. base + TABLE_SPAN - 1`` that libseccomp names so on
    *arch*: the reverse of its table, read once per architecture and base (the emulator and
    `seccomp.bpf.enosys` share it)."""
    return _core.syscall_numbers(arch, base, TABLE_SPAN)


_ACTIONS: Dict[int, Action] = {}


def decode_action(value: int) -> Action:
    """The action the kernel takes for a filter's 32-bit return value (an unknown action
    kills the process, as in the kernel)."""
    action = _ACTIONS.get(value)
    if action is None:
        action = _ACTIONS[value] = _decode(value)
    return action


def _decode(value: int) -> Action:
    try:
        return Action(value)
    except SeccompError:
        pass
    try:
        return Action(value & ACTION_KIND_MASK)  # data on an action that takes none: ignored
    except SeccompError:
        return Action.KILL_PROCESS


def check(program: bytes, arch: ArchLike = None) -> int:
    """Apply the kernel's checks to *program*; returns its instruction count or raises
    InvalidArgumentError naming the first problem."""
    return len(_target(arch).program(program))


def evaluate(program: bytes, syscall: Syscall, args: Sequence[int] = (), *,
             arch: ArchLike = None, ip: int = 0) -> Action:
    """The action the kernel takes when *program* sees *syscall* (name or number on *arch*,
    default the native one) with up to six *args* and instruction pointer *ip*."""
    return _target(arch).evaluate(program, syscall, args, ip)


def evaluate_many(program: bytes, calls: Iterable[Union[Syscall, Tuple[Any, ...]]], *,
                  arch: ArchLike = None) -> List[Action]:
    """`evaluate` for many syscalls in one call: *calls* holds syscalls, or tuples
    ``(syscall, args)`` / ``(syscall, args, ip)``."""
    return _target(arch).evaluate_many(program, calls)


# ---------------------------------------------------------------------------------------------
# Disassembly
# ---------------------------------------------------------------------------------------------

_ALU = {0x00: "add", 0x10: "sub", 0x20: "mul", 0x30: "div", 0x40: "or", 0x50: "and",
        0x60: "lsh", 0x70: "rsh", 0x80: "neg", 0xa0: "xor"}
_JMP = {0x10: "jeq", 0x20: "jgt", 0x30: "jge", 0x40: "jset"}


def _field(offset: int, big_endian: bool) -> str:
    """What a 4-byte load at *offset* of seccomp_data reads."""
    if offset == 0:
        return "syscall number"
    if offset == 4:
        return "arch"
    half = (offset % 8 == 0) == big_endian  # the word at the lower address is high on BE
    if offset in (8, 12):
        return "instruction pointer %s" % ("high" if half else "low")
    return "args[%d] %s" % ((offset - 16) // 8, "high" if half else "low")


def _arch_name(token: int) -> Optional[str]:
    for a in Arch:
        if int(a) == token and a is not Arch.NATIVE:
            return str(a)
    return None


def _syscall_label(nr: int, arches: FrozenSet[int]) -> str:
    names = set()
    for token in arches:
        try:
            known = [Arch.X86_64, Arch.X32] if token == int(Arch.X86_64) else [Arch(token)]
        except SeccompError:  # a token no architecture has: its numbers have no names
            continue
        for a in known:
            try:
                names.add(_core.syscall_resolve_num(nr, a))
            except SeccompError:
                pass
    return "/".join(sorted(names))


def disassemble(program: bytes, arch: ArchLike = None) -> str:
    """An assembler listing of *program*, annotated: what each load reads, the architecture
    each check names, syscall numbers as names (for the architecture checked on that path)
    and the actions returned."""
    t = _target(arch)
    c = _program(program, t)
    n = len(c)
    # Forward pass: what A holds (a seccomp_data offset) and which arches a path can be on.
    loaded: List[Optional[int]] = [None] * n
    on_arch: List[Optional[FrozenSet[int]]] = [None] * n
    on_arch[0] = frozenset()
    lines = []
    for pc in range(n):
        code, jt, jf, k = c.instruction(pc)
        src = loaded[pc]
        arches = on_arch[pc] or frozenset()
        op = code & 0x07
        note = ""
        if code == 0x20:
            text = "ld [%d]" % k
            note = _field(k, t.big_endian)
            src = k
        elif op == 0x05:
            if code == 0x05:
                text = "ja %d" % (pc + 1 + k)
                targets = [(pc + 1 + k, arches)]
            else:
                operand = "x" if code & 0x08 else "#0x%x" % k
                text = "%s %s, %d, %d" % (_JMP[code & 0xf0], operand, pc + 1 + jt, pc + 1 + jf)
                yes, no = arches, arches
                if src == 4 and code == 0x15:
                    note = _arch_name(k) or "unknown arch 0x%x" % k
                    if k == int(Arch.X86_64):
                        note += " (and x32)"
                    yes = frozenset([k])
                elif src == 0 and not code & 0x08 and k < X32_SYSCALL_BIT * 2:
                    label = _syscall_label(k & ~X32_SYSCALL_BIT if k >= X32_SYSCALL_BIT and
                                           k != X32_SYSCALL_BIT else k, arches)
                    if code == 0x15:
                        note = label
                    elif k == X32_SYSCALL_BIT:
                        note = "x32 syscall numbers"
                    elif label:
                        note = "%s %s" % ({0x20: ">", 0x30: ">="}.get(code & 0xf0, "&"), label)
                elif src is not None and src >= 8:
                    note = _field(src, t.big_endian)
                targets = [(pc + 1 + jt, yes), (pc + 1 + jf, no)]
            for target, state in targets:
                if target < n:
                    on_arch[target] = state if on_arch[target] is None else (
                        on_arch[target] if on_arch[target] == state else frozenset())
                    loaded[target] = src if loaded[target] in (None, src) else -1
            lines.append((pc, code, jt, jf, k, text, note))
            continue
        elif code == 0x06:
            text = "ret #0x%x" % k
            note = str(decode_action(k))
        elif code == 0x16:
            text = "ret a"
        elif op == 0x04:
            text = ("%s x" if code & 0x08 else "%s #0x%x") % ((_ALU[code & 0xf0],) + (
                () if code & 0x08 else (k,))) if code != 0x84 else "neg"
            src = -1
        elif code == 0x80:
            text, src = "ld #len", -1
        elif code == 0x81:
            text = "ldx #len"
        elif code == 0x00:
            text, src = "ld #0x%x" % k, -1
        elif code == 0x01:
            text = "ldx #0x%x" % k
        elif code == 0x60:
            text, src = "ld M[%d]" % k, -1
        elif code == 0x61:
            text = "ldx M[%d]" % k
        elif code == 0x02:
            text = "st M[%d]" % k
        elif code == 0x03:
            text = "stx M[%d]" % k
        elif code == 0x07:
            text = "tax"
        else:
            text, src = "txa", -1
        if pc + 1 < n and op != 0x06:
            on_arch[pc + 1] = arches if on_arch[pc + 1] is None else (
                on_arch[pc + 1] if on_arch[pc + 1] == arches else frozenset())
            loaded[pc + 1] = src if loaded[pc + 1] in (None, src) else -1
        lines.append((pc, code, jt, jf, k, text, note))
    width = len(str(n - 1))
    out = []
    for pc, code, jt, jf, k, text, note in lines:
        row = "%*d: %04x %02x %02x %08x  %-28s" % (width, pc, code, jt, jf, k, text)
        out.append((row + "; " + note) if note else row.rstrip())
    return "\n".join(out) + "\n"
