"""ENOSYS for syscalls a profile does not know: a stub in front of libseccomp's program.

C libraries probe new syscalls and fall back to older ones only when the kernel answers
ENOSYS (glibc's ``fchmodat2``, ``clone3``, ``faccessat2``, ...). A profile written before a
syscall existed denies it with its default errno (EPERM), which breaks the fallback. Container
runtimes (runc's ``patchbpf``, crun) therefore prepend a stub that answers ``ERRNO(ENOSYS)`` for
syscall numbers the profile cannot know; this module does the same, for every architecture
libseccomp supports, and can use the target kernel's own syscall table:

- *Profile horizon* (no kernel given, what runc does): a number greater than every number the
  profile names on that architecture gets ENOSYS. On s390/s390x syscall 0 does too unless named
  (the kernel passes unknown large numbers through it). x86_64 and x32 share one audit
  architecture and are told apart by bit 30 of the number; each has its own horizon.
- *Kernel table* (a target kernel version given): a number the kernel of that version has gets
  the profile's answer; a number it lacks (never assigned, reserved, added later) gets ENOSYS.

Either way, a number the profile names never gets ENOSYS, and neither does any number for which
libseccomp's program does not answer the default action unconditionally (whatever the
arguments): the stub is computed from the program itself by an exact interval analysis, then
the patched program is checked the same way against the original over every syscall number of
every architecture (`verify`). A program whose default action lets syscalls through (ALLOW,
LOG, TRACE) or already answers ENOSYS is left as it is.
"""
from __future__ import annotations

import errno as _errno
import struct

from .. import _bpf, _core, _syscall_table
from .._memo import memo
from .._core import InvalidArgumentError, SeccompError
from .._enums import AUDIT_ARCH_LE, X32_SYSCALL_BIT, Action, Arch
from .._fields import Frozen
from .emulator import ARM_PRIVATE_BASE, syscall_table, table_base

__all__ = ["patch", "verify", "plan", "EnosysPlan", "kernel_syscalls", "KERNEL_TABLE_ARCHES",
           "ENOSYS_ACTION"]

#: The action the stub answers for unknown syscalls.
ENOSYS_ACTION = Action.ERRNO(_errno.ENOSYS)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import (Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set,
                        Tuple, Union)

    ArchLike = Union[Arch, str, int]
    Instruction = Tuple[int, int, int, int]
    # An outcome is ("ret", value): the program returns value whatever the arguments; or
    # ("pc", n): it reaches instruction n and then depends on more than the number and the
    # architecture (arguments, instruction pointer, registers the analysis does not follow).
    Outcome = Tuple[str, int]

_U32 = 0xFFFFFFFF
# Blocks numbered apart from an architecture's main table, which do not move its horizon:
# ARM's private syscalls (cacheflush, set_tls, ...) and x32's own entry points (512-547).
_SEPARATE_BLOCK = {Arch.ARM: ARM_PRIVATE_BASE, Arch.X32: X32_SYSCALL_BIT + 512}

# Classic BPF opcodes the stub uses and the analysis understands.
_LD_W_ABS = 0x20
_LD_W_LEN = 0x80
_JA, _JEQ, _JGT, _JGE, _JSET = 0x05, 0x15, 0x25, 0x35, 0x45
_RET_K = 0x06
_OFF_NR, _OFF_ARCH = 0, 4

# ---------------------------------------------------------------------------------------------
# Kernel tables
# ---------------------------------------------------------------------------------------------

#: Architectures (libseccomp names) with a kernel syscall table.
KERNEL_TABLE_ARCHES: Tuple[str, ...] = _syscall_table.table_arches()


def kernel_syscalls(arch: ArchLike, kernel: Tuple[int, int]) -> FrozenSet[int]:
    """The syscall numbers (as the filter sees them) that Linux *kernel* (major, minor) has on
    *arch*. Raises InvalidArgumentError for an architecture without a table."""
    name = str(Arch(arch).resolved)
    numbers = _syscall_table.kernel_numbers(name, kernel)
    if numbers is None:
        raise InvalidArgumentError(_errno.EINVAL, "no kernel syscall table for %s" % name)
    return numbers


# ---------------------------------------------------------------------------------------------
# What the profile knows
# ---------------------------------------------------------------------------------------------

class EnosysPlan(Frozen):
    """What the stub needs besides the program: per architecture, the numbers the profile
    names, and the target kernel (None: use the profile's horizon)."""

    __slots__ = ("named", "kernel")
    named: Mapping[Arch, FrozenSet[int]]
    kernel: Optional[Tuple[int, int]]

    def __init__(self, named: Mapping[Arch, FrozenSet[int]],
                 kernel: Optional[Tuple[int, int]] = None) -> None:
        object.__setattr__(self, "named", named)
        object.__setattr__(self, "kernel", kernel)


def plan(names: Iterable[str], arches: Iterable[ArchLike],
         kernel: Optional[Tuple[int, int]] = None,
         newer: Optional[Mapping[str, Mapping[str, int]]] = None) -> EnosysPlan:
    """The plan for a profile naming the syscalls *names*, built for *arches*. A name is
    resolved as the kernel sees it on each architecture: its own number, and for a name
    libseccomp reaches through a multiplexer (socketcall, ipc) both the direct number where
    there is one and the multiplexer. A name libseccomp does not know is looked up in *newer*
    (name -> {architecture: number}, the profile package's table of newer syscalls); without
    a number there, it is not counted (as in runc)."""
    names = sorted(set(names))
    named: Dict[Arch, FrozenSet[int]] = {}
    for a in arches:
        arch = Arch(a).resolved
        numbers: Set[int] = set()
        arch_name = str(arch)
        for name in names:
            found = _numbers(name, arch)
            if not found and newer is not None:
                number = newer.get(name, {}).get(arch_name)
                if number is not None:
                    numbers.add(number)
            numbers.update(found)
        named[arch] = frozenset(numbers)
    return EnosysPlan(named, None if kernel is None else (kernel[0], kernel[1]))


@memo(8192)
def _numbers(name: str, arch: Arch) -> FrozenSet[int]:
    """The numbers the kernel sees for syscall *name* on *arch* (cached: libseccomp's tables
    do not change)."""
    try:
        nr = _core.syscall_resolve_name(name, arch)
    except SeccompError:
        return frozenset()
    if nr >= 0:
        return frozenset((nr,))
    out: Set[int] = set()
    for mux in ("socketcall", "ipc"):
        try:
            m = _core.syscall_resolve_name(mux, arch)
        except SeccompError:
            continue
        if m >= 0:
            out.add(m)
    direct = _direct_numbers(arch).get(name)
    if direct is not None:
        out.add(direct)
    return frozenset(out)


def _direct_numbers(arch: Arch) -> Dict[str, int]:
    """Name -> number for every syscall of *arch*'s table (read once per architecture)."""
    return syscall_table(arch, table_base(arch))


def _domain(arch: Arch) -> List[Tuple[int, int]]:
    """The syscall numbers that belong to *arch* within its audit architecture."""
    if arch is Arch.X32:
        return [(X32_SYSCALL_BIT, 2 * X32_SYSCALL_BIT - 1)]
    if arch is Arch.X86_64:
        return [(0, X32_SYSCALL_BIT - 1), (2 * X32_SYSCALL_BIT, _U32)]
    return [(0, _U32)]


def _unknown(arch: Arch, named: FrozenSet[int],
             kernel: Optional[Tuple[int, int]]) -> List[Tuple[int, int]]:
    """The numbers of *arch* the profile does not know, as sorted disjoint intervals."""
    if kernel is not None:
        known = set(kernel_syscalls(arch, kernel)) | named
        out = []
        for lo, hi in _domain(arch):
            out.extend(_complement(sorted(n for n in known if lo <= n <= hi), lo, hi))
        return out
    main = [n for n in named if n < _SEPARATE_BLOCK.get(arch, _U32 + 1)]
    if not main:
        return []  # nothing to measure the profile's horizon by (runc skips it too)
    horizon = max(main)
    out = []
    if arch in (Arch.S390, Arch.S390X) and 0 not in named:
        out.append((0, 0))
    for lo, hi in _domain(arch):
        lo = max(lo, horizon + 1)
        if lo <= hi:
            out.extend(_complement(sorted(n for n in named if lo <= n <= hi), lo, hi))
    return out


def _complement(sorted_numbers: Sequence[int], lo: int, hi: int) -> List[Tuple[int, int]]:
    out = []
    start = lo
    for n in sorted_numbers:
        if n > start:
            out.append((start, n - 1))
        start = max(start, n + 1)
    if start <= hi:
        out.append((start, hi))
    return out


# ---------------------------------------------------------------------------------------------
# Exact analysis: what a program answers for every syscall number of one audit architecture
# ---------------------------------------------------------------------------------------------


def _decode(program: bytes, big_endian: bool) -> List[Instruction]:
    """The instructions of *program*, after the kernel's checks."""
    _bpf.check(program, big_endian)
    return list(struct.iter_unpack(">HBBI" if big_endian else "<HBBI", program))


def _outcomes(ins: Sequence[Instruction], audit_arch: int, lo: int = 0, hi: int = _U32,
              stop_at: int = -1) -> List[Tuple[int, int, Outcome]]:
    """Partition [lo, hi] into intervals of syscall numbers on which the program's outcome is
    the same, for audit architecture *audit_arch*. Reaching instruction *stop_at* is an
    outcome ("pc", stop_at) of its own."""
    n = len(ins)
    out: List[Tuple[int, int, Outcome]] = []
    # work items: pc, interval, what A holds (None: the syscall number; int: a constant;
    # -1: unknown)
    work: List[Tuple[int, int, int, Optional[int]]] = [(0, lo, hi, 0)]
    while work:
        pc, a_lo, a_hi, acc = work.pop()
        while True:
            if pc >= n:
                raise InvalidArgumentError(_errno.EINVAL, "program runs past its end")
            if pc == stop_at:
                out.append((a_lo, a_hi, ("pc", pc)))
                break
            code, jt, jf, k = ins[pc]
            if code == _RET_K:
                out.append((a_lo, a_hi, ("ret", k)))
                break
            if code == _LD_W_ABS and k in (_OFF_NR, _OFF_ARCH):
                acc = None if k == _OFF_NR else audit_arch
                pc += 1
                continue
            if code == _LD_W_LEN:
                acc = 64
                pc += 1
                continue
            if code == _JA:
                pc += 1 + k
                continue
            if code in (_JEQ, _JGT, _JGE) and acc != -1:
                t, f = pc + 1 + jt, pc + 1 + jf
                if acc is not None:  # a constant: the jump is decided
                    taken = (acc == k if code == _JEQ else acc > k if code == _JGT
                             else acc >= k)
                    pc = t if taken else f
                    continue
                # the number: split the interval where the comparison changes
                if code == _JEQ:
                    parts = [(a_lo, min(a_hi, k - 1), f), (max(a_lo, k), min(a_hi, k), t),
                             (max(a_lo, k + 1), a_hi, f)]
                else:
                    edge = k if code == _JGT else k - 1  # numbers <= edge: not taken
                    parts = [(a_lo, min(a_hi, edge), f), (max(a_lo, edge + 1), a_hi, t)]
                parts = [p for p in parts if p[0] <= p[1]]
                for p_lo, p_hi, target in parts[1:]:
                    work.append((target, p_lo, p_hi, None))
                a_lo, a_hi, pc = parts[0]
                continue
            if code == _JSET and acc is not None and acc != -1:
                pc = pc + 1 + (jt if acc & k else jf)
                continue
            out.append((a_lo, a_hi, ("pc", pc)))
            break
    out.sort()
    return out


# ---------------------------------------------------------------------------------------------
# The stub
# ---------------------------------------------------------------------------------------------

_CHUNK = 100  # intervals per block: keeps every conditional jump under 256


def _token(arch: Arch) -> int:
    return int(Arch.X86_64) if arch is Arch.X32 else int(arch)


def enosys_intervals(program: bytes, default: Action, arches: Sequence[Arch],
                     the_plan: EnosysPlan) -> Dict[int, List[Tuple[int, int]]]:
    """Per audit architecture, the syscall numbers that get ENOSYS: those the profile does not
    know for which *program* answers *default* whatever the arguments."""
    by_token: Dict[int, List[Tuple[int, int]]] = {}
    for arch in arches:
        unknown = _unknown(arch, the_plan.named.get(arch, frozenset()), the_plan.kernel)
        if unknown:
            by_token.setdefault(_token(arch), []).extend(unknown)
    if not by_token:
        return {}
    big_endian = not any(_token(a) & AUDIT_ARCH_LE for a in arches)
    ins = _decode(program, big_endian)
    default_value = int(default)
    result: Dict[int, List[Tuple[int, int]]] = {}
    for token, candidates in sorted(by_token.items()):
        keep: List[Tuple[int, int]] = []
        for lo, hi in sorted(candidates):
            for p_lo, p_hi, outcome in _outcomes(ins, token, lo, hi):
                if outcome == ("ret", default_value):
                    if keep and keep[-1][1] + 1 == p_lo:
                        keep[-1] = (keep[-1][0], p_hi)
                    else:
                        keep.append((p_lo, p_hi))
        if keep:
            result[token] = keep
    return result


def _allows_through(action: Action) -> bool:
    return action.kind in ("ALLOW", "LOG", "TRACE")


def patch(program: bytes, default: Action, arches: Sequence[ArchLike],
          the_plan: EnosysPlan) -> bytes:
    """*program* (libseccomp's, for *arches*, default action *default*) with the ENOSYS stub
    in front, checked by `verify`; *program* itself when there is nothing to answer ENOSYS for
    (a default that lets syscalls through, or that is already ENOSYS)."""
    default = Action(default)
    if _allows_through(default) or default == ENOSYS_ACTION:
        return program
    arch_list = [Arch(a).resolved for a in arches]
    intervals = enosys_intervals(program, default, arch_list, the_plan)
    if not intervals:
        return program
    big_endian = not any(_token(a) & AUDIT_ARCH_LE for a in arch_list)
    stub = _stub(intervals)
    from .emulator import MAX_INSTRUCTIONS
    if len(stub) + len(program) // 8 > MAX_INSTRUCTIONS:
        raise InvalidArgumentError(_errno.E2BIG, "the ENOSYS stub (%d instructions) does not fit "
                                   "in front of a %d-instruction filter (the kernel accepts %d): "
                                   "build without it" % (len(stub), len(program) // 8,
                                                         MAX_INSTRUCTIONS))
    fmt = ">HBBI" if big_endian else "<HBBI"
    patched = b"".join(struct.pack(fmt, *ins) for ins in stub) + program
    verify(program, patched, default, arch_list, the_plan)
    return patched


def _stub(intervals: Mapping[int, List[Tuple[int, int]]]) -> List[Instruction]:
    """The stub's instructions; its last jumps land on the first instruction after it."""
    sections: List[List[Instruction]] = []
    for _, ivs in sorted(intervals.items()):
        sections.append(_section(ivs))
    dispatch_len = 1 + 2 * len(sections) + 1
    total = dispatch_len + sum(len(s) for s in sections)
    out: List[Instruction] = [(_LD_W_ABS, 0, 0, _OFF_ARCH)]
    start = dispatch_len
    for token, section in zip(sorted(intervals), sections):
        here = len(out)
        out.append((_JEQ, 0, 1, token))                 # this architecture: next, else skip
        out.append((_JA, 0, 0, start - (here + 2)))     # to its section
        start += len(section)
    out.append((_JA, 0, 0, total - (len(out) + 1)))     # any other: straight to the filter
    for section in sections:
        base = len(out)
        for code, jt, jf, k in section:
            if code == _JA and k == _TO_FILTER:
                k = total - (len(out) + 1)
            out.append((code, jt, jf, k))
        assert len(out) - base == len(section)
    return out


_TO_FILTER = -1  # placeholder jump target, fixed once the stub's length is known


def _section(intervals: List[Tuple[int, int]]) -> List[Instruction]:
    """``ld nr`` and the tests of one architecture: for sorted disjoint intervals, a number
    below an interval goes to the filter, one inside it to ENOSYS, one above it to the next
    test; blocks of _CHUNK intervals each end with their own two exits."""
    out: List[Instruction] = [(_LD_W_ABS, 0, 0, _OFF_NR)]
    chunks = [intervals[i:i + _CHUNK] for i in range(0, len(intervals), _CHUNK)]
    for c, chunk in enumerate(chunks):
        tests: List[Tuple[int, int, bool]] = []  # (opcode, k, to_enosys_when_false)
        for lo, hi in chunk:
            if lo > 0:
                tests.append((_JGE, lo, False))      # nr < lo: to the filter
            if hi < _U32:
                tests.append((_JGT, hi, True))       # nr <= hi: ENOSYS
            else:
                tests.append((_JGE, 0, True))        # always true: see below
        last = c == len(chunks) - 1
        n = len(tests)
        exits_at = n + (0 if last else 1)  # index (from the chunk's start) of the filter exit
        for i, (code, k, to_enosys) in enumerate(tests):
            if code == _JGE and k == 0 and to_enosys:
                out.append((_JA, 0, 0, exits_at + 1 - (i + 1)))  # the rest of the range: ENOSYS
                continue
            target = exits_at + (1 if to_enosys else 0)
            out.append((code, 0, target - (i + 1), k))
        if not last:
            out.append((_JA, 0, 0, 2))  # above every interval of this block: the next block
        out.append((_JA, 0, 0, _TO_FILTER))
        out.append((_RET_K, 0, 0, int(ENOSYS_ACTION)))
    return out


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------

def verify(original: bytes, patched: bytes, default: Action, arches: Sequence[ArchLike],
           the_plan: EnosysPlan) -> None:
    """Check that *patched* answers exactly what *original* answers, for every syscall number
    of every architecture and any arguments, except ENOSYS where the original answers the
    default action unconditionally and the profile does not name the number. Raises
    SeccompError naming the first difference.

    The stub is followed for every number (it reads only the number and the architecture);
    where it hands over to the original, the original starts afresh (it loads A first), so
    both answer the same; where it answers ENOSYS, the original is followed too."""
    arch_list = [Arch(a).resolved for a in arches]
    big_endian = not any(_token(a) & AUDIT_ARCH_LE for a in arch_list)
    orig = _decode(original, big_endian)
    new = _decode(patched, big_endian)
    shift = len(new) - len(orig)
    if patched[shift * 8:] != original:
        raise SeccompError(_errno.EINVAL, "ENOSYS stub check: the original program is not "
                                          "intact behind the stub")
    if orig[0][0] & 0x07 != 0x00:  # BPF_LD: the original's first instruction sets A
        raise SeccompError(_errno.EINVAL, "ENOSYS stub check: the program does not start by "
                                          "loading the accumulator")
    named: Dict[int, Set[int]] = {}
    for a in arch_list:
        named.setdefault(_token(a), set()).update(the_plan.named.get(a, frozenset()))
    default_ret = ("ret", int(default))
    enosys_ret = ("ret", int(ENOSYS_ACTION))
    tokens = sorted(set(_token(a) for a in arch_list)) + [0]  # 0: any other architecture
    for token in tokens:
        names = named.get(token, set())
        for lo, hi, got in _outcomes(new, token, stop_at=shift):
            if got == ("pc", shift):
                continue  # handed over to the original program
            if got == enosys_ret:
                clash = sorted(n for n in names if lo <= n <= hi)
                if clash:
                    raise SeccompError(_errno.EINVAL, "ENOSYS stub check failed on audit arch "
                                       "0x%08x: syscall %d, which the profile names, gets "
                                       "ENOSYS" % (token, clash[0]))
                for o_lo, o_hi, want in _outcomes(orig, token, lo, hi):
                    if want != default_ret:
                        raise SeccompError(_errno.EINVAL, "ENOSYS stub check failed on audit "
                                           "arch 0x%08x, syscalls %d-%d: the filter answers %s, "
                                           "the stub ENOSYS" % (token, o_lo, o_hi,
                                                                _describe(want)))
                continue
            raise SeccompError(_errno.EINVAL, "ENOSYS stub check failed on audit arch 0x%08x, "
                               "syscalls %d-%d: the stub answers %s instead of handing over"
                               % (token, lo, hi, _describe(got)))


def _describe(outcome: Outcome) -> str:
    if outcome[0] == "ret":
        from .emulator import decode_action
        return str(decode_action(outcome[1]))
    return "something that depends on the arguments (instruction %d)" % outcome[1]
