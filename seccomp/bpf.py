"""Know what a seccomp filter does without loading it: check, run, disassemble and explain BPF.

    >>> bpf = f.export_bpf()
    >>> evaluate(bpf, "ptrace")                      # what the kernel would answer
    Action.ERRNO(1)
    >>> evaluate(bpf, "clone", [0x10000000], arch="aarch64")
    >>> print(disassemble(bpf))

*program* is always the bytes of a classic BPF program in the byte order of its architecture
(what `Filter.export_bpf()` gives). Programs the kernel would refuse raise
`seccomp.InvalidArgumentError` with the kernel's reason. The interpreter is in C.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Set, Tuple, Union

from . import _bpf, _core
from ._core import InvalidArgumentError, SeccompError
from ._enums import Action, Arch

__all__ = ["evaluate", "evaluate_many", "check", "disassemble", "explain", "Explanation",
           "SyscallVerdict", "decode_action", "MAX_INSTRUCTIONS"]

MAX_INSTRUCTIONS = _bpf.MAX_INSTRUCTIONS

ArchLike = Union[Arch, str, int, None]
Syscall = Union[int, str]

_AUDIT_ARCH_64BIT = 0x80000000
_AUDIT_ARCH_LE = 0x40000000
_X32_SYSCALL_BIT = 0x40000000


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
        t = _TARGETS[key] = _bpf.Target(token, not token & _AUDIT_ARCH_LE,
                                        bool(token & _AUDIT_ARCH_64BIT), _ACTIONS, decode_action,
                                        functools.partial(_number, arch=a))
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


@functools.lru_cache(maxsize=1024)
def _real_number(name: str, arch: Arch) -> int:
    nr = _core.syscall_resolve_name(name, arch)
    if nr >= 0:
        return nr
    # libseccomp names some syscalls by a negative pseudo number (socket on x86, multiplexed
    # through socketcall); the kernel sees the direct syscall's number where there is one
    base = _X32_SYSCALL_BIT if arch is Arch.X32 else 0
    for number in range(base, base + 1024):
        try:
            if _core.syscall_resolve_num(number, arch) == name:
                return number
        except SeccompError:
            continue
    raise InvalidArgumentError(22, "%s has no syscall number of its own on %s (it is reached "
                                   "through a multiplexer such as socketcall or ipc)" % (name, arch))


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
        return Action(value & 0xFFFF0000)  # data on an action that takes none is ignored
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
        for a in ([Arch.X86_64, Arch.X32] if token == int(Arch.X86_64) else [Arch(token)]):
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
                elif src == 0 and not code & 0x08 and k < _X32_SYSCALL_BIT * 2:
                    label = _syscall_label(k & ~_X32_SYSCALL_BIT if k >= _X32_SYSCALL_BIT and
                                           k != _X32_SYSCALL_BIT else k, arches)
                    if code == 0x15:
                        note = label
                    elif k == _X32_SYSCALL_BIT:
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


# ---------------------------------------------------------------------------------------------
# Explain: what each syscall gets, and common holes
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SyscallVerdict:
    """What a filter does with one syscall on one architecture: the actions it can take and
    the arguments (indexes) its conditions look at (empty: unconditional)."""
    arch: Arch
    syscall: str
    number: int
    actions: Tuple[Action, ...]
    args: Tuple[int, ...]

    @property
    def unconditional(self) -> bool:
        return len(self.actions) == 1


@dataclass
class Explanation:
    """`explain`'s answer: the verdict per syscall and architecture, the default action per
    architecture, and warnings about common holes."""
    arches: Tuple[Arch, ...]
    default: Dict[Arch, Tuple[Action, ...]]
    syscalls: List[SyscallVerdict] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def table(self, *, only_non_default: bool = True) -> str:
        """A text table: syscall, architecture, action(s), arguments tested."""
        rows = []
        for v in self.syscalls:
            if only_non_default and v.actions == self.default.get(v.arch):
                continue
            rows.append("%-24s %-10s %-28s %s" % (
                v.syscall, v.arch, " | ".join(str(a) for a in v.actions),
                "args " + ",".join(map(str, v.args)) if v.args else ""))
        head = ["default: " + ", ".join("%s %s" % (a, " | ".join(map(str, acts)))
                                        for a, acts in self.default.items())]
        return "\n".join(head + [r.rstrip() for r in rows] +
                         ["warning: " + w for w in self.warnings]) + "\n"


# A symbolic machine state: pc, A, X and the scratch memory words written (None: unknown).
_Value = Optional[int]
_State = Tuple[int, _Value, _Value, Tuple[Tuple[int, _Value], ...]]


def _explore(c: "_bpf.Checked", nr: int, audit_arch: int, big_endian: bool,
             limit: int = 20000) -> Tuple[FrozenSet[int], FrozenSet[int]]:
    """Every value *c* can return for syscall *nr* on *audit_arch* whatever the arguments and
    instruction pointer are, and the argument indexes it tests; symbolic where A or X come
    from an argument (both branches of a jump on them are followed)."""
    n = len(c)
    results: Set[int] = set()
    args_seen: Set[int] = set()
    seen: Set[_State] = set()
    stack: List[_State] = [(0, 0, 0, ())]  # pc, A, X, scratch memory; None: unknown
    while stack:
        if len(seen) > limit:
            raise InvalidArgumentError(22, "the program has too many paths to explain")
        state = stack.pop()
        if state in seen:
            continue
        seen.add(state)
        pc, a, x, mem = state
        code, jt, jf, k = c.instruction(pc)
        op = code & 0x07
        mem_d: Dict[int, _Value] = dict(mem)
        if code == 0x20:
            if k == 0:
                a = nr
            elif k == 4:
                a = audit_arch
            else:
                a = None
                if k >= 16:
                    args_seen.add((k - 16) // 8)
            stack.append((pc + 1, a, x, mem))
        elif code == 0x06:
            results.add(k)
        elif code == 0x16:
            if a is None:
                results.add(-1)
            else:
                results.add(a)
        elif op == 0x05:
            if code == 0x05:
                stack.append((pc + 1 + k, a, x, mem))
                continue
            operand = x if code & 0x08 else k
            if a is None or operand is None:
                stack.append((pc + 1 + jt, a, x, mem))
                stack.append((pc + 1 + jf, a, x, mem))
                continue
            cmp = code & 0xf0
            taken = (a == operand if cmp == 0x10 else a > operand if cmp == 0x20 else
                     a >= operand if cmp == 0x30 else bool(a & operand))
            stack.append((pc + 1 + (jt if taken else jf), a, x, mem))
        elif op == 0x04:
            operand = x if code & 0x08 else k
            if a is None or (operand is None and code != 0x84):
                a = None
            else:
                # run the one instruction through the C interpreter's rules
                a = _alu(code, a, operand)
                if a is not None and a < 0:
                    results.add(0)  # division by zero ends the program with 0
                    continue
            stack.append((pc + 1, a, x, mem))
        else:
            if code == 0x80:
                a = 64
            elif code == 0x81:
                x = 64
            elif code == 0x00:
                a = k
            elif code == 0x01:
                x = k
            elif code == 0x60:
                a = mem_d.get(k)
            elif code == 0x61:
                x = mem_d.get(k)
            elif code == 0x02:
                mem_d[k] = a
            elif code == 0x03:
                mem_d[k] = x
            elif code == 0x07:
                x = a
            else:
                a = x
            stack.append((pc + 1, a, x, tuple(sorted(mem_d.items()))))
    return frozenset(results), frozenset(args_seen)


def _alu(code: int, a: int, operand: Optional[int]) -> Optional[int]:
    op = code & 0xf0
    m = 0xFFFFFFFF
    if op == 0x80:
        return -a & m
    assert operand is not None
    if op == 0x30:
        return -1 if operand == 0 else a // operand
    return {0x00: a + operand, 0x10: a - operand, 0x20: a * operand, 0x40: a | operand,
            0x50: a & operand, 0xa0: a ^ operand, 0x60: a << (operand & 31),
            0x70: a >> (operand & 31)}[op] & m


# Syscalls that do the same job: denying one but allowing another is usually a hole.
_SIBLINGS = [
    ("execve", "execveat"), ("open", "openat", "openat2"), ("clone", "clone3"),
    ("unlink", "unlinkat"), ("rename", "renameat", "renameat2"), ("mkdir", "mkdirat"),
    ("chmod", "fchmod", "fchmodat"), ("chown", "fchown", "fchownat", "lchown"),
    ("dup2", "dup3"), ("link", "linkat"), ("symlink", "symlinkat"),
    ("mount", "fsmount", "move_mount"), ("kexec_load", "kexec_file_load"),
    ("init_module", "finit_module"), ("ptrace", "process_vm_writev"),
]


def explain(source: object, arches: Optional[Iterable[ArchLike]] = None) -> Explanation:
    """What a filter does with every syscall on each of its architectures, and warnings about
    common holes. *source* is a `Filter`, a loaded profile (`seccomp.profile.Profile`) or BPF
    bytes (then give *arches*, default the native one)."""
    program, covered = _source(source, arches)
    result = Explanation(tuple(covered), {})
    for arch in covered:
        t = _target(arch)
        c = _program(program, t)
        unknown, _ = _explore(c, 0x3FFF if arch is not Arch.X32 else
                              _X32_SYSCALL_BIT | 0x3FFF, t.audit_arch, t.big_endian)
        result.default[arch] = tuple(sorted({decode_action(v) for v in unknown}, key=int))
        for nr in range(1024):
            number = nr | (_X32_SYSCALL_BIT if arch is Arch.X32 else 0)
            try:
                name = _core.syscall_resolve_num(number, arch)
            except SeccompError:
                continue
            values, args = _explore(c, number, t.audit_arch, t.big_endian)
            actions = tuple(sorted({decode_action(v) for v in values}, key=int))
            result.syscalls.append(SyscallVerdict(arch, name, number, actions,
                                                  tuple(sorted(args))))
    result.warnings = _audit(program, covered, result)
    return result


def _source(source: object, arches: Optional[Iterable[ArchLike]]) -> Tuple[bytes, List[Arch]]:
    from ._filter import Filter
    if isinstance(source, Filter):
        return source.export_bpf_bytes(), list(source.arches)
    if hasattr(source, "compile") and hasattr(source, "default_action"):  # a Profile
        f = source.compile()
        return f.export_bpf_bytes(), list(f.arches)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source), [_arch(_target(a)) for a in (arches or [None])]
    raise TypeError("explain() takes a Filter, a Profile or BPF bytes, not %s"
                    % type(source).__name__)


def _is_allow(actions: Tuple[Action, ...]) -> bool:
    return any(a in (Action.ALLOW, Action.LOG) for a in actions)


def _audit(program: bytes, covered: List[Arch], e: Explanation) -> List[str]:
    warnings = []
    for arch, actions in e.default.items():
        if _is_allow(actions):
            warnings.append("%s: the default action is %s: syscalls not listed are allowed "
                            "(a deny-list misses syscalls added to the kernel later)"
                            % (arch, " | ".join(map(str, actions))))
    native = _target(covered[0]) if covered else _target(None)
    c = _program(program, native)
    if not any(c.instruction(pc)[0] == 0x20 and c.instruction(pc)[3] == 4
               for pc in range(len(c))):
        warnings.append("the program never checks the architecture: syscall numbers of "
                        "another architecture get the same answers")
    else:
        foreign = next(a for a in (Arch.PARISC64, Arch.S390X, Arch.X86_64) if a not in covered)
        t = _target(foreign)
        values, _ = _explore(_program(program, _target(covered[0] if covered else None)), 0,
                             t.audit_arch, t.big_endian)
        if _is_allow(tuple(decode_action(v) for v in values)):
            warnings.append("syscalls of architectures the filter does not cover are allowed")
    if Arch.X86_64 in covered and Arch.X32 not in covered:
        t = _target(Arch.X86_64)
        denied = [v for v in e.syscalls if v.arch is Arch.X86_64 and not _is_allow(v.actions)]
        for v in denied[:200]:
            x32, _ = _explore(c if _arch(native) is Arch.X86_64 else _program(program, t),
                              v.number | _X32_SYSCALL_BIT, t.audit_arch, False)
            if _is_allow(tuple(decode_action(r) for r in x32)):
                warnings.append("x86_64: %s is denied but its x32 number (0x%x) is allowed: "
                                "block x32 (add Arch.X32 or check the 0x40000000 bit)"
                                % (v.syscall, v.number | _X32_SYSCALL_BIT))
                break
    by_key = {(v.arch, v.syscall): v for v in e.syscalls}
    for arch in covered:
        for group in _SIBLINGS:
            present = [(name, by_key[(arch, name)]) for name in group if (arch, name) in by_key]
            blocked = [n for n, v in present if not _is_allow(v.actions)]
            allowed = [n for n, v in present if v.unconditional and _is_allow(v.actions)]
            if blocked and allowed:
                warnings.append("%s: %s is blocked but %s is allowed" % (
                    arch, "/".join(blocked), "/".join(allowed)))
    return warnings
