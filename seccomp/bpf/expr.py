"""Conditions computed with classic BPF's registers, for rules libseccomp cannot state.

A *value* is a 32-bit word: a half of a syscall argument (`Load`), a constant (`Imm`), or an
ALU operation of two values (`Alu`: ``+ - * / & | ^ << >>``, wrapping at 32 bits as the
kernel's classic BPF does). A *test* compares two values (`Test`: ``== != < <= > >=``
unsigned, and ``&``: some bit in common, BPF's ``jset``) and tests combine with `AllOf`, `AnyOf`
and `Neg`. This is exactly what a classic BPF program can compute: `emit` writes a test into
`seccomp.bpf.codegen`'s program (one operand in A, the other a constant or in X; deeper
operands go through the scratch memory words M[0..15]). What a policy says over 64-bit
values is lowered to these words by `seccomp.policy` (``seccomp/policy/bpf_lowering.py``),
which refuses what cannot be computed exactly.

`ExprCondition` is such a test as a rule condition of `seccomp.bpf.model`: the test the
program computes, the meaning it must have (the policy's own evaluation, independent of the
lowering) and the argument values at which the check tries it.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Callable, Dict, List, NamedTuple, Protocol, Sequence, Tuple, Union

from .._errors import InvalidArgumentError

__all__ = ["Load", "Imm", "Alu", "Test", "AllOf", "AnyOf", "Neg", "TRUE", "FALSE", "Value",
           "Boolean", "alu", "test", "all_of", "any_of", "negate", "value_of", "holds",
           "emit", "instructions", "ExprCondition", "MAX_CONDITION_SIZE"]

U32 = 0xFFFFFFFF
MEMWORDS = 16  # the kernel's BPF_MEMWORDS
#: Most instructions one condition may take (the whole program is limited to 4096).
MAX_CONDITION_SIZE = 2048


def _unsupported(reason: str) -> InvalidArgumentError:
    """The error for a test that classic BPF cannot compute (too deep for the scratch
    memory, too long, a shift or division it refuses)."""
    return InvalidArgumentError(errno.EINVAL, reason)


# ---------------------------------------------------------------------------------------------
# Values and tests
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Load:
    """The high (*high*) or low 32-bit word of syscall argument *arg* (0-5)."""

    arg: int
    high: bool


@dataclass(frozen=True)
class Imm:
    """A 32-bit constant."""

    value: int


@dataclass(frozen=True)
class Alu:
    """``left op right`` on 32-bit words: ``+ - * & | ^`` wrap; ``/`` only by a constant
    other than 0, ``<< >>`` only by a constant below 32 (what the kernel accepts)."""

    op: str
    left: "Value"
    right: "Value"


Value = Union[Load, Imm, Alu]


@dataclass(frozen=True)
class Test:
    """``left op right``, unsigned: ``== != < <= > >=``, or ``&`` (``left & right != 0``)."""

    op: str
    left: Value
    right: Value


@dataclass(frozen=True)
class AllOf:
    """Every item holds."""

    items: Tuple["Boolean", ...]


@dataclass(frozen=True)
class AnyOf:
    """Some item holds."""

    items: Tuple["Boolean", ...]


@dataclass(frozen=True)
class Neg:
    """*item* does not hold."""

    item: "Boolean"


@dataclass(frozen=True)
class Truth:
    """A constant truth value."""

    value: bool


TRUE = Truth(True)
FALSE = Truth(False)
Boolean = Union[Test, AllOf, AnyOf, Neg, Truth]

_ALU: Dict[str, Callable[[int, int], int]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
    "/": lambda a, b: a // b, "&": lambda a, b: a & b, "|": lambda a, b: a | b,
    "^": lambda a, b: a ^ b, "<<": lambda a, b: a << b, ">>": lambda a, b: a >> b,
}
_TEST: Dict[str, Callable[[int, int], bool]] = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "&": lambda a, b: a & b != 0,
}
_COMMUTES = frozenset("+*&|^")
_FLIP = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<=", "&": "&"}


def alu(op: str, left: Value, right: Value) -> Value:
    """``left op right``, with constants folded and identities (x + 0, x & 0, x * 1...)
    simplified; a constant operand goes to the right where the operation commutes."""
    if op not in _ALU:
        raise ValueError("not a BPF ALU operation: %r" % op)
    if isinstance(right, Imm):
        k = right.value & U32
        if op in ("<<", ">>") and k >= 32:
            raise _unsupported("a shift by %d (classic BPF shifts by at most 31)" % k)
        if op == "/" and k == 0:
            raise _unsupported("a division by zero")
        if isinstance(left, Imm):
            return Imm(_ALU[op](left.value, k) & U32)
        if k == 0 and op in ("+", "-", "|", "^", "<<", ">>"):
            return left
        if k == 0 and op in ("&", "*"):
            return Imm(0)
        if k == 1 and op in ("*", "/"):
            return left
        if k == U32 and op == "&":
            return left
        if k == U32 and op == "|":
            return Imm(U32)
    elif op in ("/", "<<", ">>"):
        raise _unsupported("a %s by a value that is not a constant (classic BPF %s)" % (
            "division" if op == "/" else "shift",
            "ends the program on a division by zero" if op == "/" else
            "shifts by the value modulo 32"))
    elif isinstance(left, Imm) and op in _COMMUTES:
        return alu(op, right, left)
    return Alu(op, left, right)


def test(op: str, left: Value, right: Value) -> Boolean:
    """``left op right`` with constants folded; a constant goes to the right."""
    if op not in _TEST:
        raise ValueError("not a BPF comparison: %r" % op)
    if isinstance(left, Imm) and isinstance(right, Imm):
        return Truth(_TEST[op](left.value, right.value))
    if isinstance(left, Imm):
        return test(_FLIP[op], right, left)
    if isinstance(right, Imm):
        k = right.value
        if op == "&":
            return FALSE if k == 0 else Test(op, left, right)
        if k == 0 and op in ("<", ">="):  # nothing is below 0
            return FALSE if op == "<" else TRUE
        if k == U32 and op in (">", "<="):
            return FALSE if op == ">" else TRUE
        if k == 0 and op in ("==", "!=") and isinstance(left, Alu) and left.op == "&":
            some = test("&", left.left, left.right)  # (a & b) == 0: jset, without the AND
            return negate(some) if op == "==" else some
    if left == right and op != "&":
        return Truth(op in ("==", "<=", ">="))
    return Test(op, left, right)


def all_of(*items: Boolean) -> Boolean:
    """AllOf *items* hold (constants simplified away, nested `AllOf` flattened)."""
    out: List[Boolean] = []
    for i in items:
        if i == FALSE:
            return FALSE
        if i != TRUE:
            out.extend(i.items if isinstance(i, AllOf) else (i,))
    return TRUE if not out else out[0] if len(out) == 1 else AllOf(tuple(out))


def any_of(*items: Boolean) -> Boolean:
    """Some of *items* holds (constants simplified away, nested `AnyOf` flattened)."""
    out: List[Boolean] = []
    for i in items:
        if i == TRUE:
            return TRUE
        if i != FALSE:
            out.extend(i.items if isinstance(i, AnyOf) else (i,))
    return FALSE if not out else out[0] if len(out) == 1 else AnyOf(tuple(out))


def negate(item: Boolean) -> Boolean:
    """*item* does not hold."""
    if isinstance(item, Truth):
        return Truth(not item.value)
    if isinstance(item, Neg):
        return item.item
    return Neg(item)


def value_of(v: Value, args: Sequence[int]) -> int:
    """The word *v* for the six 64-bit syscall arguments *args*."""
    if isinstance(v, Imm):
        return v.value
    if isinstance(v, Load):
        a = args[v.arg]
        return (a >> 32) & U32 if v.high else a & U32
    return _ALU[v.op](value_of(v.left, args), value_of(v.right, args)) & U32


def holds(b: Boolean, args: Sequence[int]) -> bool:
    """Whether test *b* holds for the six 64-bit syscall arguments *args*."""
    if isinstance(b, Test):
        return _TEST[b.op](value_of(b.left, args), value_of(b.right, args))
    if isinstance(b, AllOf):
        return all(holds(i, args) for i in b.items)
    if isinstance(b, AnyOf):
        return any(holds(i, args) for i in b.items)
    if isinstance(b, Neg):
        return not holds(b.item, args)
    return b.value


# ---------------------------------------------------------------------------------------------
# Code
# ---------------------------------------------------------------------------------------------

_LD_W_ABS, _LD_IMM, _LD_MEM, _LDX_MEM, _ST, _TAX = 0x20, 0x00, 0x60, 0x61, 0x02, 0x07
_ALU_CODE = {"+": 0x04, "-": 0x14, "*": 0x24, "/": 0x34, "|": 0x44, "&": 0x54, "<<": 0x64,
             ">>": 0x74, "^": 0xa4}
_X = 0x08
# comparison -> (jump opcode, whether the outcomes are swapped)
_JUMP = {"==": (0x15, False), "!=": (0x15, True), ">": (0x25, False), "<=": (0x25, True),
         ">=": (0x35, False), "<": (0x35, True), "&": (0x45, False)}

Code = List[Tuple[int, int]]  # (opcode, k), in program order


def _uses_x(v: Value) -> bool:
    return isinstance(v, Alu) and (not isinstance(v.right, Imm) or _uses_x(v.left))


def _into_x(right: Value, left: Value, depth: int, words: "_Words") -> Tuple[Code, Code]:
    """Code putting *right* in X, then code putting *left* in A (X kept)."""
    if not _uses_x(left):  # X is free while A is computed
        return _value(right, depth, words) + [(_TAX, 0)], _value(left, depth, words)
    if depth >= MEMWORDS:
        raise _unsupported("an expression nested too deeply for classic BPF's %d scratch "
                          "memory words" % MEMWORDS)
    return (_value(right, depth, words) + [(_ST, depth)],
            _value(left, depth + 1, words) + [(_LDX_MEM, depth)])


class _Words:
    """Where the argument words are: offsets of each argument's high and low word, and
    whether the high word exists (on a 32-bit architecture it is 0)."""

    def __init__(self, wide: bool, big_endian: bool) -> None:
        self.wide = wide
        self.big_endian = big_endian

    def load(self, v: Load) -> Tuple[int, int]:
        if v.high and not self.wide:
            return (_LD_IMM, 0)
        base = 16 + 8 * v.arg
        low_first = not self.big_endian
        return (_LD_W_ABS, base + (4 if v.high == low_first else 0))


def _value(v: Value, depth: int, words: _Words) -> Code:
    """Code leaving *v* in A (scratch memory words from *depth* on are free)."""
    if isinstance(v, Imm):
        return [(_LD_IMM, v.value)]
    if isinstance(v, Load):
        return [words.load(v)]
    if isinstance(v.right, Imm):
        return _value(v.left, depth, words) + [(_ALU_CODE[v.op], v.right.value)]
    first, then = _into_x(v.right, v.left, depth, words)
    return first + then + [(_ALU_CODE[v.op] | _X, 0)]


def instructions(b: Boolean, wide: bool = True) -> int:
    """How many instructions `emit` writes for *b* (at most; long jumps may add some)."""
    words = _Words(wide, False)

    def count(x: Boolean) -> int:
        if isinstance(x, Test):
            if isinstance(x.right, Imm):
                return len(_value(x.left, 0, words)) + 1
            first, then = _into_x(x.right, x.left, 0, words)
            return len(first) + len(then) + 1
        if isinstance(x, (AllOf, AnyOf)):
            return sum(count(i) for i in x.items)
        if isinstance(x, Neg):
            return count(x.item)
        return 0

    return count(b)


class _EmitterLike(Protocol):
    """What `emit` uses of `seccomp.bpf.codegen`'s emitter."""

    def op(self, code: int, k: int = 0) -> int: ...
    def jump(self, code: int, k: int, yes: int, no: int) -> int: ...


def emit(e: "_EmitterLike", b: Boolean, ok: int, fail: int, wide: bool,
         big_endian: bool) -> int:
    """Write test *b* into emitter *e* (which writes backwards), going to label *ok* when it
    holds and *fail* when not; returns the entry label. Raises InvalidArgumentError when the
    test cannot be computed or is longer than MAX_CONDITION_SIZE."""
    words = _Words(wide, big_endian)
    size = instructions(b, wide)
    if size > MAX_CONDITION_SIZE:
        raise _unsupported("the condition needs %d BPF instructions (at most %d)"
                          % (size, MAX_CONDITION_SIZE))
    return _emit(e, b, ok, fail, words)


def _emit(e: "_EmitterLike", b: Boolean, ok: int, fail: int, words: _Words) -> int:
    if isinstance(b, Truth):
        return ok if b.value else fail
    if isinstance(b, Neg):
        return _emit(e, b.item, fail, ok, words)
    if isinstance(b, AllOf):
        entry = ok
        for item in reversed(b.items):
            entry = _emit(e, item, entry, fail, words)
        return entry
    if isinstance(b, AnyOf):
        entry = fail
        items = b.items
        i = len(items) - 1
        while i >= 0:
            item, before = items[i], items[i - 1] if i else None
            if isinstance(before, Test) and isinstance(item, AllOf) and \
                    isinstance(item.items[0], Test) and \
                    (item.items[0].left, item.items[0].right) == (before.left, before.right):
                # ``x > y || x == y && rest`` (a 64-bit comparison's high words): both jumps
                # test the operands computed once
                after = _emit(e, all_of(*item.items[1:]), ok, entry, words)
                second = _jump(e, item.items[0], after, entry)
                entry = _operands(e, before, _jump(e, before, ok, second), words)
                i -= 2
            else:
                entry = _emit(e, item, ok, entry, words)
                i -= 1
        return entry
    return _operands(e, b, _jump(e, b, ok, fail), words)


def _jump(e: "_EmitterLike", t: Test, ok: int, fail: int) -> int:
    """The jump of test *t*, its operands already in A (and X)."""
    code, swapped = _JUMP[t.op]
    yes, no = (fail, ok) if swapped else (ok, fail)
    if isinstance(t.right, Imm):
        return e.jump(code, t.right.value, yes, no)
    return e.jump(code | _X, 0, yes, no)


def _operands(e: "_EmitterLike", t: Test, entry: int, words: _Words) -> int:
    """The code putting test *t*'s operands in A (and X) before label *entry*."""
    if isinstance(t.right, Imm):
        code = _value(t.left, 0, words)
    else:
        first, then = _into_x(t.right, t.left, 0, words)
        code = first + then
    for opcode, k in reversed(code):
        entry = e.op(opcode, k)
    return entry


# ---------------------------------------------------------------------------------------------
# As a rule condition
# ---------------------------------------------------------------------------------------------

class ExprCondition(NamedTuple):
    """A rule condition of `seccomp.bpf.model` that libseccomp cannot state: *test*, what the
    program computes; *meaning*, whether the condition holds for six 64-bit arguments (the
    source's own semantics, which the check holds the program to); *values*, per argument
    index, the values the check tries (boundaries of each comparison, equal and unequal
    pairs)."""
    test: Boolean
    meaning: Callable[[Sequence[int]], bool]
    values: Tuple[Tuple[int, Tuple[int, ...]], ...]

    def matches(self, args: Sequence[int]) -> bool:
        """Whether the condition holds for the six 64-bit *args*."""
        return bool(self.meaning(args))
