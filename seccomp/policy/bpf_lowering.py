"""Policy conditions libseccomp cannot state, lowered to what classic BPF computes exactly.

A policy computes with 64-bit values; classic BPF with 32-bit words (`seccomp.bpf.expr`).
Each 64-bit value becomes a pair of words (high, low):

* arguments: their two words; ``argL``/``argH`` halves: that word, high word 0; numbers: theirs;
* ``& | ^ ~``: word by word;
* ``+`` and ``-``: low words, then the high words with the carry (borrow) out of the low
  ones, computed without a jump: bit 31 of ``(a & b) | ((a | b) & ~sum)``
  (``(~a & b) | (~(a ^ b) & difference)`` for the borrow);
* ``*``: the low words' full product (its high word from 16-bit pieces), plus the cross
  products into the high word;
* ``<<`` and ``>>`` by a constant: words shifted, bits carried across;
* ``/`` and ``%`` by a constant: a power of two is a shift or a mask; another constant
  divides a value whose high word is 0 (``x % k`` is ``x - x / k * k``);
* comparisons: high words first, then the low words (``==``: both equal; ``<``: high less, or
  high equal and low less), an argument against another argument included.

What cannot be computed exactly is refused, with the place and the reason: a division of a
full 64-bit value by a constant other than a power of two, a division or shift by a value that
is not a constant (classic BPF ends the program on a division by zero and shifts modulo 32),
an expression deeper than the 16 scratch memory words or longer than
`seccomp.bpf.expr.MAX_CONDITION_SIZE` instructions.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from .._errors import InvalidArgumentError
from ..bpf import expr as bx
from ..bpf.expr import Imm, Value
from .model import (Arg, BinOp, Bool, Cmp, Expr, Inv, Num, Place, PolicyError, _Unlowerable,
                    evaluate, fold)
from .model import And as PAnd
from .model import Not as PNot
from .model import Or as POr

__all__ = ["lower", "condition", "boundaries"]

U32 = 0xFFFFFFFF
U64 = (1 << 64) - 1
Pair = Tuple[Value, Value]  # (high word, low word)
ZERO = Imm(0)


def _imm(v: int) -> Imm:
    return Imm(v & U32)


def _carry_bit(x: Value) -> Value:
    return bx.alu(">>", x, Imm(31))


def _add(a: Pair, b: Pair) -> Pair:
    (ah, al), (bh, bl) = a, b
    lo = bx.alu("+", al, bl)
    if bl == ZERO or al == ZERO:
        carry: Value = ZERO
    else:
        carry = _carry_bit(bx.alu("|", bx.alu("&", al, bl),
                                  bx.alu("&", bx.alu("|", al, bl), bx.alu("^", lo, Imm(U32)))))
    return bx.alu("+", bx.alu("+", ah, bh), carry), lo


def _sub(a: Pair, b: Pair) -> Pair:
    (ah, al), (bh, bl) = a, b
    lo = bx.alu("-", al, bl)
    if bl == ZERO:
        borrow: Value = ZERO
    else:
        borrow = _carry_bit(bx.alu("|", bx.alu("&", bx.alu("^", al, Imm(U32)), bl),
                                   bx.alu("&", bx.alu("^", bx.alu("^", al, bl), Imm(U32)), lo)))
    return bx.alu("-", bx.alu("-", ah, bh), borrow), lo


def _mul_high(a: Value, b: Value) -> Value:
    """The high word of the 64-bit product of words *a* and *b* (from 16-bit pieces, so that
    no partial product overflows 32 bits)."""
    m16 = Imm(0xFFFF)
    a0, a1 = bx.alu("&", a, m16), bx.alu(">>", a, Imm(16))
    b0, b1 = bx.alu("&", b, m16), bx.alu(">>", b, Imm(16))
    t = bx.alu("*", a0, b0)
    k = bx.alu(">>", t, Imm(16))
    t = bx.alu("+", bx.alu("*", a1, b0), k)
    w1, w2 = bx.alu("&", t, m16), bx.alu(">>", t, Imm(16))
    t = bx.alu("+", bx.alu("*", a0, b1), w1)
    k = bx.alu(">>", t, Imm(16))
    return bx.alu("+", bx.alu("+", bx.alu("*", a1, b1), w2), k)


def _mul(a: Pair, b: Pair) -> Pair:
    (ah, al), (bh, bl) = a, b
    cross = bx.alu("+", bx.alu("*", ah, bl), bx.alu("*", al, bh))
    return bx.alu("+", _mul_high(al, bl), cross), bx.alu("*", al, bl)


def _shift(op: str, a: Pair, k: int) -> Pair:
    ah, al = a
    if k >= 64:
        return ZERO, ZERO
    if k == 0:
        return a
    if op == "<<":
        if k >= 32:
            return bx.alu("<<", al, Imm(k - 32)), ZERO
        return bx.alu("|", bx.alu("<<", ah, Imm(k)), bx.alu(">>", al, Imm(32 - k))), \
            bx.alu("<<", al, Imm(k))
    if k >= 32:
        return ZERO, bx.alu(">>", ah, Imm(k - 32))
    return bx.alu(">>", ah, Imm(k)), \
        bx.alu("|", bx.alu(">>", al, Imm(k)), bx.alu("<<", ah, Imm(32 - k)))


def _divide(op: str, a: Pair, k: int, pos: Optional[Place]) -> Pair:
    if k == 0:
        raise _Unlowerable(pos, "division by zero")
    if k & (k - 1) == 0:  # a power of two
        if op == "/":
            return _shift(">>", a, k.bit_length() - 1)
        mask = k - 1
        return bx.alu("&", a[0], _imm(mask >> 32)), bx.alu("&", a[1], _imm(mask))
    if a[0] != ZERO:
        raise _Unlowerable(pos, "divides a 64-bit value by %d: classic BPF divides 32-bit "
                                "words only (use a 32-bit half, argL/argH)" % k)
    if k > U32:  # a 32-bit value divided by something larger
        return (ZERO, ZERO) if op == "/" else a
    quotient = bx.alu("/", a[1], Imm(k))
    if op == "/":
        return ZERO, quotient
    return ZERO, bx.alu("-", a[1], bx.alu("*", quotient, Imm(k)))


def _value(e: Expr) -> Pair:
    if isinstance(e, Num):
        return _imm(e.value >> 32), _imm(e.value)
    if isinstance(e, Arg):
        if e.half == "lo":
            return ZERO, bx.Load(e.index, False)
        if e.half == "hi":
            return ZERO, bx.Load(e.index, True)
        return bx.Load(e.index, True), bx.Load(e.index, False)
    if isinstance(e, Inv):
        h, lo = _value(e.operand)
        return bx.alu("^", h, Imm(U32)), bx.alu("^", lo, Imm(U32))
    if isinstance(e, BinOp):
        left = _value(e.left)
        if e.op in ("<<", ">>", "/", "%"):
            if not isinstance(e.right, Num):
                raise _Unlowerable(e.pos, "%s by a value that is not a constant: classic BPF "
                                          "%s" % ("shifts" if e.op in ("<<", ">>") else
                                                  "divides",
                                                  "shifts by it modulo 32" if e.op in ("<<", ">>")
                                                  else "ends the filter on a division by zero"))
            if e.op in ("<<", ">>"):
                return _shift(e.op, left, e.right.value)
            return _divide(e.op, left, e.right.value, e.pos)
        right = _value(e.right)
        if e.op in ("&", "|", "^"):
            return bx.alu(e.op, left[0], right[0]), bx.alu(e.op, left[1], right[1])
        if e.op == "+":
            return _add(left, right)
        if e.op == "-":
            return _sub(left, right)
        if e.op == "*":
            return _mul(left, right)
        raise _Unlowerable(e.pos, "unknown operation %r" % e.op)
    raise _Unlowerable(getattr(e, "pos", None), "a condition is not a number")


def _compare(op: str, a: Pair, b: Pair) -> bx.Boolean:
    if op in ("<", "<="):
        return _compare(">" if op == "<" else ">=", b, a)
    (ah, al), (bh, bl) = a, b
    if op == "==":
        return bx.all_of(bx.test("==", ah, bh), bx.test("==", al, bl))
    if op == "!=":
        return bx.negate(_compare("==", a, b))
    return bx.any_of(bx.test(">", ah, bh),
                     bx.all_of(bx.test("==", ah, bh), bx.test(op, al, bl)))


def condition(e: Expr) -> bx.Boolean:
    """The folded policy condition *e* as a test on BPF words. Raises `_Unlowerable` (with
    the place) for what cannot be computed exactly."""
    if isinstance(e, Bool):
        return bx.TRUE if e.value else bx.FALSE
    if isinstance(e, PNot):
        return bx.negate(condition(e.operand))
    if isinstance(e, PAnd):
        return bx.all_of(*(condition(i) for i in e.items))
    if isinstance(e, POr):
        return bx.any_of(*(condition(i) for i in e.items))
    if isinstance(e, Cmp):
        try:
            return _compare(e.op, _value(e.left), _value(e.right))
        except InvalidArgumentError as exc:
            raise _Unlowerable(e.pos, str(exc.strerror)) from None
    raise _Unlowerable(getattr(e, "pos", None), "a number is not a condition: compare it "
                                                "with something")


def _first_place(e: Expr) -> Optional[Place]:
    pos: Optional[Place] = getattr(e, "pos", None)
    if pos is not None:
        return pos
    for child in _children(e):
        pos = _first_place(child)
        if pos is not None:
            return pos
    return None


def _children(e: Expr) -> Tuple[Expr, ...]:
    if isinstance(e, (PAnd, POr)):
        return e.items
    if isinstance(e, PNot):
        return (e.operand,)
    if isinstance(e, Inv):
        return (e.operand,)
    if isinstance(e, (BinOp, Cmp)):
        return (e.left, e.right)
    return ()


def lower(e: Expr, place: Optional[Place], syscall: str) -> bx.ExprCondition:
    """The policy condition *e* as a rule condition computed by the program (what the check
    holds it to: the policy's own evaluation of *e*). Raises PolicyError naming the place
    and the reason for what classic BPF cannot compute exactly."""
    folded = fold(e)
    try:
        test = condition(folded)
        size = bx.instructions(test)
    except _Unlowerable as exc:
        raise PolicyError(exc.pos or place, "%s: %s" % (syscall, exc.reason)) from None
    except PolicyError:
        raise
    except InvalidArgumentError as exc:
        raise PolicyError(_first_place(folded) or place,
                          "%s: %s" % (syscall, exc.strerror)) from None
    if size > bx.MAX_CONDITION_SIZE:
        raise PolicyError(_first_place(folded) or place, "%s: the condition needs %d BPF "
                          "instructions (at most %d)" % (syscall, size, bx.MAX_CONDITION_SIZE))

    def meaning(args: object, _e: Expr = folded) -> bool:
        return bool(evaluate(_e, args))  # type: ignore[arg-type]

    values = tuple(sorted((i, tuple(sorted(vs))) for i, vs in boundaries(folded).items()))
    return bx.ExprCondition(test, meaning, values)


# ---------------------------------------------------------------------------------------------
# Values to try
# ---------------------------------------------------------------------------------------------

#: Values every argument of such a condition is tried at: 0, 1, around 2**31, 2**32 and
#: 2**63, all ones in either half (carries and borrows), all ones.
GENERIC = (0, 1, 2, 0x7FFFFFFF, 0x80000000, U32, 1 << 32, (1 << 32) + 1, U32 << 32,
           1 << 63, U64 - 1, U64)


def _args_in(e: Expr, out: Set[Tuple[int, str]]) -> None:
    if isinstance(e, Arg):
        out.add((e.index, e.half))
    for child in _children(e):
        _args_in(child, out)


def _solve(e: Expr, target: int) -> List[int]:
    """Values of the one argument in *e* for which *e* is (about) *target*: *e* undone
    operation by operation where it can be (``+ - ^ ~``, ``*`` by an odd number, shifts)."""
    if isinstance(e, Arg):
        return [target & U64]
    if isinstance(e, Inv):
        return _solve(e.operand, ~target & U64)
    if not isinstance(e, BinOp):
        return []
    for x, k, left in ((e.left, e.right, True), (e.right, e.left, False)):
        if not isinstance(k, Num):
            continue
        c = k.value
        if e.op == "+":
            return _solve(x, target - c)
        if e.op == "-":
            return _solve(x, target + c if left else c - target)
        if e.op == "^":
            return _solve(x, target ^ c)
        if e.op == "*" and c & 1:
            return _solve(x, target * pow(c, -1, 1 << 64))
        if e.op == "<<" and left and c < 64:  # and with a bit shifted out set
            low = target >> c  # and with the bit that crosses into the high word set
            return _solve(x, low) + _solve(x, (low | 1 << (64 - c)) & U64 if c else low) + \
                _solve(x, low | 1 << (32 - c) if 0 < c < 32 else low)
        if e.op == ">>" and left and c < 64:  # and with the bits shifted out set
            high = (target << c) & U64
            return _solve(x, high) + _solve(x, high | ((1 << c) - 1))
        if e.op in ("/", "%") and left and c:
            return _solve(x, target * c) + _solve(x, target * c + c - 1)
        if e.op in ("&", "|"):
            return _solve(x, target) + _solve(x, target | (~c & U64))
    return []


def _collect(e: Expr, out: Dict[int, Set[int]]) -> None:
    if isinstance(e, Cmp):
        for side, other in ((e.left, e.right), (e.right, e.left)):
            found: Set[Tuple[int, str]] = set()
            _args_in(side, found)
            if len(found) == 1 and isinstance(other, Num):
                (index, half), = found
                for x in _solve(side, other.value):
                    # its neighbours, and the bits where words meet or values wrap flipped
                    for v in (x - 1, x, x + 1, x ^ 1 << 31, x ^ 1 << 32, x ^ 1 << 63):
                        v &= U64 if not half else U32
                        vs = out.setdefault(index, set())
                        if half == "hi":
                            vs.update((v << 32, (v << 32) | U32))
                        elif half == "lo":
                            vs.update((v, v | (U32 << 32)))
                        else:
                            vs.add(v)
        return
    for child in _children(e):
        _collect(child, out)


def boundaries(e: Expr) -> Dict[int, Set[int]]:
    """Per argument index of folded condition *e*, the values to try it at: where each
    comparison with a constant changes (solved through the arithmetic), the constants and
    `GENERIC`. Arguments compared with each other get the same set, so the cross product
    has equal pairs and pairs one apart."""
    found: Set[Tuple[int, str]] = set()
    _args_in(e, found)
    out: Dict[int, Set[int]] = {}
    _collect(e, out)
    constants: Set[int] = set()
    _constants(e, constants)
    shared: Set[int] = set(GENERIC)
    for c in constants:
        shared.update(((c - 1) & U64, c, (c + 1) & U64))
    for vs in out.values():
        shared.update(vs)
    if len(shared) > 48:  # keep the cross product of several arguments small
        shared = set(sorted(shared)[::len(shared) // 48 + 1]) | set(GENERIC)
    return {index: set(shared) | out.get(index, set()) for index, _half in found}


def _constants(e: Expr, out: Set[int]) -> None:
    if isinstance(e, Num):
        out.add(e.value & U64)
    for child in _children(e):
        _constants(child, out)
