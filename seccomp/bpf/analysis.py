"""Explain what a filter does with every syscall, and audit it for common holes (see
`seccomp.bpf`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Dict, FrozenSet, Iterable, List, Optional, Set, Tuple

from .. import _bpf
from .._core import InvalidArgumentError
from .._enums import X32_SYSCALL_BIT, Action, Arch
from .emulator import _arch, _program, _target, arch_syscalls, decode_action

if TYPE_CHECKING:
    from .emulator import ArchLike

__all__ = ["explain", "Explanation", "SyscallVerdict", "arches_checked"]


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
                              X32_SYSCALL_BIT | 0x3FFF, t.audit_arch, t.big_endian)
        result.default[arch] = tuple(sorted({decode_action(v) for v in unknown}, key=int))
        for number, name in arch_syscalls(arch):
            values, args = _explore(c, number, t.audit_arch, t.big_endian)
            actions = tuple(sorted({decode_action(v) for v in values}, key=int))
            result.syscalls.append(SyscallVerdict(arch, name, number, actions,
                                                  tuple(sorted(args))))
    result.warnings = _audit(program, covered, result)
    return result


def arches_checked(program: bytes) -> List[Arch]:
    """The architectures a BPF program compares ``seccomp_data.arch`` with, in program order
    (x32 shares x86_64's audit value and is not listed separately). Empty for a program that
    never checks the architecture."""
    for target in (_target(None), _target(Arch.S390X), _target(Arch.X86_64)):  # BE, then LE
        try:
            c = _program(program, target)
        except InvalidArgumentError:
            continue
        # Forward pass (BPF only jumps forward): on which instructions A holds the arch.
        n = len(c)
        a_is_arch = [False] * (n + 1)
        tokens: List[int] = []
        for pc in range(n):
            code, jt, jf, k = c.instruction(pc)
            here = a_is_arch[pc]
            if code == 0x15 and here and k not in tokens:  # jeq #k with A = arch
                tokens.append(k)
            if code & 0x07 == 0x05:  # jumps keep A
                targets = [pc + 1 + k] if code == 0x05 else [pc + 1 + jt, pc + 1 + jf]
                for t in targets:
                    a_is_arch[min(t, n)] |= here
            elif code & 0x07 != 0x06:  # ret ends a path; ld, alu, txa change A
                changes = code & 0x07 in (0x00, 0x04) or code == 0x87
                a_is_arch[pc + 1] |= (code == 0x20 and k == 4) if changes else here
        by_token = {int(a): a for a in Arch.known() if a is not Arch.X32}
        found = [by_token[t] for t in tokens if t in by_token]
        if found:
            return found
    return []


def _source(source: object, arches: Optional[Iterable[ArchLike]]) -> Tuple[bytes, List[Arch]]:
    from .._filter import Filter
    if isinstance(source, Filter):
        return source._checked_bpf()[0], list(source.arches)
    if hasattr(source, "compile") and hasattr(source, "default_action"):  # a Profile
        f = source.compile()
        return f._checked_bpf()[0], list(f.arches)
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
                              v.number | X32_SYSCALL_BIT, t.audit_arch, False)
            if _is_allow(tuple(decode_action(r) for r in x32)):
                warnings.append("x86_64: %s is denied but its x32 number (0x%x) is allowed: "
                                "block x32 (add Arch.X32 or check the 0x40000000 bit)"
                                % (v.syscall, v.number | X32_SYSCALL_BIT))
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
