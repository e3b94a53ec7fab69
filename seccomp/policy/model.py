"""One model of a seccomp policy, whatever format it was written in.

A `Policy` is a default action and, per syscall, an ordered list of `Rule`s: the first rule
whose condition holds gives the action; when none holds, the default action applies. A
condition is an expression over the syscall's six 64-bit arguments (`Arg`, also their 32-bit
halves), numbers, arithmetic and bit operations, comparisons and boolean operators.

Compiling lowers each syscall's rules to libseccomp rules: constants are folded, every
condition becomes a disjunction of conjunctions of comparisons of one argument (or a half of
it, or its bits under a mask) with a constant, the rules of different actions are made
disjoint (a rule only applies where no earlier rule of another action does), and each
argument's comparisons within a conjunction are merged into what one libseccomp condition can
say (ranges, masked patterns). A syscall whose conditions libseccomp cannot state (arithmetic
on an argument, two arguments compared, more than 512 rules) gets BPF of the library's own
(`seccomp.policy.bpf_lowering`, `seccomp.bpf.codegen`); what classic BPF cannot compute
exactly either is refused with the place and the reason. The compiled filter is checked
against this model with the emulator before it is returned.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from typing import (Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Set,
                    Tuple, Union)

from .. import _core
from .._core import Cond, InvalidArgumentError, SeccompError
from .._errors import PolicyError
from .._enums import ACTION_KIND_MASK, Action, Arch, Op, precedence
from .._filter import Filter
from .._info import syscall_known
from .._policyfast import add_rules, rule_count
from ..bpf.expr import ExprCondition
from ..bpf.model import FilterMismatchError, RuleExtras, multiplexed

__all__ = ["Place", "PolicyError", "Expr", "Num", "Arg", "BinOp", "Inv", "Cmp", "And", "Or",
           "Not", "Bool", "TRUE", "FALSE", "Rule", "Policy", "Atom", "fold", "evaluate",
           "action_rank", "PolicyFilter", "dnf", "dnf_expr", "atom_expr"]

U64 = (1 << 64) - 1
U32 = (1 << 32) - 1

#: Most conjunctions a condition may lower to, and most libseccomp rules per syscall.
MAX_CONJUNCTS = 4096
MAX_RULES_PER_SYSCALL = 512


# The model's value classes are frozen dataclasses whose constructors store the fields in the
# instance dict: the generated frozen __init__ goes through object.__setattr__ per field, twice
# as slow, and reading a policy makes several of them per rule.

@dataclass(frozen=True, init=False)
class Place:
    """Where something was written: file, line and column (1-based; 0 when unknown)."""

    file: str = ""
    line: int = 0
    column: int = 0

    def __init__(self, file: str = "", line: int = 0, column: int = 0) -> None:
        d = self.__dict__
        d["file"] = file
        d["line"] = line
        d["column"] = column

    def __str__(self) -> str:
        out = self.file or "<policy>"
        if self.line:
            out += ":%d" % self.line
            if self.column:
                out += ":%d" % self.column
        return out


# ---------------------------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------------------------

class Expr:
    """An expression of a condition (numbers and booleans; see the subclasses)."""

    __slots__ = ()


@dataclass(frozen=True, init=False)
class Num(Expr):
    """A 64-bit unsigned number."""

    value: int

    def __init__(self, value: int) -> None:
        d = self.__dict__
        d["value"] = value


@dataclass(frozen=True, init=False)
class Arg(Expr):
    """Syscall argument *index* (0-5): the whole 64 bits, or its ``"lo"``/``"hi"`` half."""

    index: int
    half: str = ""

    def __init__(self, index: int, half: str = "") -> None:
        d = self.__dict__
        d["index"] = index
        d["half"] = half


@dataclass(frozen=True, init=False)
class _Binary(Expr):
    """An operator between two operands: the fields `BinOp` and `Cmp` share."""

    op: str
    left: Expr
    right: Expr
    pos: Optional[Place] = field(default=None, compare=False)

    def __init__(self, op: str, left: Expr, right: Expr, pos: Optional[Place] = None) -> None:
        d = self.__dict__
        d["op"] = op
        d["left"] = left
        d["right"] = right
        d["pos"] = pos


@dataclass(frozen=True, init=False)
class BinOp(_Binary):
    """Arithmetic or bit operation: ``+ - * / % & | ^ << >>`` (64-bit, wrapping)."""


@dataclass(frozen=True)
class Inv(Expr):
    """Bitwise complement (``~``) over 64 bits."""

    operand: Expr


@dataclass(frozen=True, init=False)
class Cmp(_Binary):
    """Unsigned comparison: ``== != < <= > >=``."""


@dataclass(frozen=True, init=False)
class And(Expr):
    """All of *items* hold."""

    items: Tuple[Expr, ...]

    def __init__(self, items: Tuple[Expr, ...]) -> None:
        d = self.__dict__
        d["items"] = items


@dataclass(frozen=True, init=False)
class Or(Expr):
    """Any of *items* holds."""

    items: Tuple[Expr, ...]

    def __init__(self, items: Tuple[Expr, ...]) -> None:
        d = self.__dict__
        d["items"] = items


@dataclass(frozen=True, init=False)
class Not(Expr):
    """*operand* does not hold."""

    operand: Expr

    def __init__(self, operand: Expr) -> None:
        d = self.__dict__
        d["operand"] = operand


@dataclass(frozen=True)
class Bool(Expr):
    """A constant truth value."""

    value: bool


TRUE = Bool(True)
FALSE = Bool(False)

_NEGATED = {"==": "!=", "!=": "==", "<": ">=", ">=": "<", "<=": ">", ">": "<="}
_FLIPPED = {"==": "==", "!=": "!=", "<": ">", ">": "<", "<=": ">=", ">=": "<="}
_COMPARE = {
    "==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _arith(op: str, a: int, b: int, pos: Optional[Place]) -> int:
    if op in ("/", "%") and b == 0:
        raise PolicyError(pos, "division by zero")
    if op in ("<<", ">>"):
        if b >= 64:
            return 0
        return (a << b) & U64 if op == "<<" else a >> b
    return {"+": a + b, "-": a - b, "*": a * b, "/": a // b if b else 0,
            "%": a % b if b else 0, "&": a & b, "|": a | b, "^": a ^ b}[op] & U64


def evaluate(expr: Expr, args: Sequence[int]) -> Union[int, bool]:
    """The value of *expr* for syscall arguments *args* (six 64-bit values): the model's own
    meaning, independent of any compilation."""
    if isinstance(expr, Cmp):
        return bool(_COMPARE[expr.op](evaluate(expr.left, args), evaluate(expr.right, args)))
    if isinstance(expr, Arg):
        v = args[expr.index] & U64
        return v & U32 if expr.half == "lo" else v >> 32 if expr.half == "hi" else v
    if isinstance(expr, Num):
        return expr.value
    if isinstance(expr, And):
        return all(evaluate(i, args) for i in expr.items)
    if isinstance(expr, Or):
        return any(evaluate(i, args) for i in expr.items)
    if isinstance(expr, Not):
        return not evaluate(expr.operand, args)
    if isinstance(expr, Bool):
        return expr.value
    if isinstance(expr, BinOp):
        return _arith(expr.op, evaluate(expr.left, args), evaluate(expr.right, args), expr.pos)
    if isinstance(expr, Inv):
        return ~evaluate(expr.operand, args) & U64
    raise TypeError("not an expression: %r" % (expr,))


def fold(expr: Expr) -> Expr:
    """*expr* with constants folded and boolean constants simplified away (what gosecco's
    simplifier does at compile time)."""
    if isinstance(expr, BinOp):
        left, right = fold(expr.left), fold(expr.right)
        if isinstance(left, Num) and isinstance(right, Num):
            return Num(_arith(expr.op, left.value, right.value, expr.pos))
        if expr.op == "&" and (left == Num(0) or right == Num(0)):
            return Num(0)
        return BinOp(expr.op, left, right, expr.pos)
    if isinstance(expr, Inv):
        operand = fold(expr.operand)
        return Num(~operand.value & U64) if isinstance(operand, Num) else Inv(operand)
    if isinstance(expr, Cmp):
        left, right = fold(expr.left), fold(expr.right)
        if isinstance(left, Num) and isinstance(right, Num):
            return Bool(_COMPARE[expr.op](left.value, right.value))
        return Cmp(expr.op, left, right, expr.pos)
    if isinstance(expr, Not):
        operand = fold(expr.operand)
        if isinstance(operand, Bool):
            return Bool(not operand.value)
        if isinstance(operand, Not):
            return operand.operand
        return Not(operand)
    if isinstance(expr, (And, Or)):
        neutral = isinstance(expr, And)
        items: List[Expr] = []
        for i in expr.items:
            f = fold(i)
            if isinstance(f, Bool):
                if f.value != neutral:
                    return Bool(not neutral)
                continue
            same = isinstance(f, And) if neutral else isinstance(f, Or)
            items.extend(f.items if same and isinstance(f, (And, Or)) else (f,))
        if not items:
            return Bool(neutral)
        if len(items) == 1:
            return items[0]
        return And(tuple(items)) if neutral else Or(tuple(items))
    return expr


# ---------------------------------------------------------------------------------------------
# Atoms: one argument (or half, or masked bits) compared with a constant
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True, init=False)
class Atom:
    """``(arg[.half] & mask) op value``: the comparisons libseccomp-style filters are made of.
    *half* is "" (64 bits), "lo" or "hi" (32 bits); *mask* None means no mask."""

    index: int
    op: str
    value: int
    half: str = ""
    mask: Optional[int] = None
    pos: Optional[Place] = field(default=None, compare=False)

    def __init__(self, index: int, op: str, value: int, half: str = "",
                 mask: Optional[int] = None, pos: Optional[Place] = None) -> None:
        d = self.__dict__
        d["index"] = index
        d["op"] = op
        d["value"] = value
        d["half"] = half
        d["mask"] = mask
        d["pos"] = pos

    @property
    def width(self) -> int:
        return 64 if not self.half else 32

    def negated(self) -> "Atom":
        return replace(self, op=_NEGATED[self.op])

    def holds(self, args: Sequence[int]) -> bool:
        x = args[self.index] & U64
        x = x & U32 if self.half == "lo" else x >> 32 if self.half == "hi" else x
        if self.mask is not None:
            x &= self.mask
        return bool(_COMPARE[self.op](x, self.value))

    def patterns(self) -> List[Tuple[int, int]]:
        """The argument values that satisfy the atom as (mask, value) patterns over the 64-bit
        argument: x satisfies when ``x & mask == value`` for one of them."""
        w = self.width
        top = (1 << w) - 1
        shift = 32 if self.half == "hi" else 0
        m = top if self.mask is None else self.mask & top
        out: List[Tuple[int, int]] = []
        if self.op == "==" and self.mask is not None:
            out = [(m, self.value)] if self.value & ~m == 0 else []
        elif self.op == "!=" and self.mask is not None:
            if self.value & ~m:
                out = [(0, 0)]
            else:
                out = [(b, ~self.value & b) for b in _bits(m)]
        else:
            for lo, hi in _intervals(self.op, self.value, top):
                for pm, pv in _prefixes(lo, hi, w):
                    if pv & pm & ~m:
                        continue  # the masked value has 0 there
                    out.append((pm & m, pv & m))
        return [(pm << shift, pv << shift) for pm, pv in out]


def _bits(m: int) -> Iterator[int]:
    while m:
        b = m & -m
        yield b
        m ^= b


def _intervals(op: str, c: int, top: int) -> List[Tuple[int, int]]:
    """The values 0..top that satisfy ``x op c`` as closed intervals."""
    spans = {"==": [(c, c)], "!=": [(0, c - 1), (c + 1, top)], "<": [(0, c - 1)],
             "<=": [(0, c)], ">": [(c + 1, top)], ">=": [(c, top)]}[op]
    return [(max(lo, 0), min(hi, top)) for lo, hi in spans if max(lo, 0) <= min(hi, top)]


def _prefixes(lo: int, hi: int, width: int) -> List[Tuple[int, int]]:
    """The interval lo..hi as (mask, value) prefix patterns over *width* bits."""
    out = []
    top = (1 << width) - 1
    while lo <= hi:
        size = lo & -lo if lo else 1 << width  # the largest block aligned at lo ...
        size = min(size, 1 << ((hi - lo + 1).bit_length() - 1))  # ... within lo..hi
        out.append((top & ~(size - 1), lo))
        lo += size
    return out


def _intersect(a: List[Tuple[int, int]], b: List[Tuple[int, int]]) -> List[Tuple[int, int]]:
    out = set()
    for m1, v1 in a:
        for m2, v2 in b:
            if (v1 ^ v2) & m1 & m2 == 0:
                out.add((m1 | m2, v1 | v2))
                if len(out) > MAX_RULES_PER_SYSCALL:
                    raise _TooLarge()
    return sorted(out)


class _TooLarge(Exception):
    pass


class _BeyondLibseccomp(PolicyError):
    """A syscall's conditions cannot be stated as libseccomp rules (the library's own BPF
    may still compute them)."""


class _Unlowerable(Exception):
    def __init__(self, pos: Optional[Place], reason: str) -> None:
        super().__init__(reason)
        self.pos = pos
        self.reason = reason


def _operand(e: Expr) -> Optional[Tuple[int, str, Optional[int]]]:
    """(index, half, mask) when *e* is an argument, a half, or one of them ``& constant``."""
    if isinstance(e, Arg):
        return e.index, e.half, None
    if isinstance(e, BinOp) and e.op == "&":
        for x, y in ((e.left, e.right), (e.right, e.left)):
            if isinstance(x, Arg) and isinstance(y, Num):
                return x.index, x.half, y.value
            inner = _operand(x) if isinstance(y, Num) else None
            if inner is not None and inner[2] is not None and isinstance(y, Num):
                return inner[0], inner[1], inner[2] & y.value
    return None


def _atom(c: Cmp) -> Union[Atom, Bool]:
    for x, y, op in ((c.left, c.right, c.op), (c.right, c.left, _FLIPPED[c.op])):
        if not isinstance(y, Num):
            continue
        operand = _operand(x)
        if operand is None:
            continue
        index, half, mask = operand
        atom = Atom(index, op, y.value, half, mask, c.pos)
        if atom.width == 32 and y.value > U32 or mask is not None and y.value > mask and \
                op in ("==", "!="):
            # a 32-bit or masked quantity never equals a larger constant: fold the comparison
            return Bool(_COMPARE[op](0, 1) if op in ("<", "<=") else op == "!=")
        return atom
    if _has_arg(c.left) and _has_arg(c.right):
        raise _Unlowerable(c.pos, "compares two arguments, which libseccomp cannot state")
    raise _Unlowerable(c.pos, "computes with an argument (only a comparison of an argument, "
                              "a half of it or its bits under a mask with a constant can be "
                              "compiled)")


def _has_arg(e: Expr) -> bool:
    if isinstance(e, Arg):
        return True
    if isinstance(e, BinOp):
        return _has_arg(e.left) or _has_arg(e.right)
    if isinstance(e, Inv):
        return _has_arg(e.operand)
    return False


Conj = Tuple[Atom, ...]


def dnf(expr: Expr, negate: bool = False) -> List[Conj]:
    """*expr* (folded) as a disjunction of conjunctions of atoms (of its negation when
    *negate*). Raises PolicyError for what has no such form or grows too large."""
    if isinstance(expr, Bool):
        return [()] if expr.value != negate else []
    if isinstance(expr, Not):
        return dnf(expr.operand, not negate)
    if isinstance(expr, Cmp):
        a = _atom(expr)
        if isinstance(a, Bool):
            return [()] if a.value != negate else []
        return [(a.negated() if negate else a,)]
    if isinstance(expr, (And, Or)):
        conjunctive = (isinstance(expr, And)) != negate
        parts = [dnf(i, negate) for i in expr.items]
        if not conjunctive:
            return [c for p in parts for c in p]
        out: List[Conj] = [()]
        for p in parts:
            out = [c for c in (tuple(dict.fromkeys(a + b)) for a in out for b in p)
                   if _satisfiable(c)]
            if len(out) > MAX_CONJUNCTS:
                raise _TooLarge()
        return out
    if isinstance(expr, (Num, Arg, BinOp, Inv)):
        raise _Unlowerable(getattr(expr, "pos", None), "a number is not a condition: "
                                                        "compare it with something")
    raise TypeError("not an expression: %r" % (expr,))


def _satisfiable(conj: Conj) -> bool:
    by_arg: Dict[int, List[Atom]] = {}
    for a in conj:
        by_arg.setdefault(a.index, []).append(a)
    try:
        return all(_arg_set(atoms) for atoms in by_arg.values() if len(atoms) > 1)
    except _TooLarge:
        return True


def _arg_set(atoms: List[Atom]) -> Union[List[Tuple[int, int]], "Intervals"]:
    """The values of one argument satisfying all *atoms*: intervals when they are plain
    64-bit (or high-half) ranges, else (mask, value) patterns. Empty: unsatisfiable."""
    if all(a.mask is None and a.half != "lo" for a in atoms):
        iv = Intervals.full()
        for a in atoms:
            iv = iv.intersect(Intervals.of(a))
        return iv
    pats: List[Tuple[int, int]] = [(0, 0)]
    for a in atoms:
        pats = _intersect(pats, a.patterns())
        if not pats:
            break
    return pats


class Intervals:
    """A set of 64-bit values as sorted disjoint closed intervals."""

    __slots__ = ("spans",)

    def __init__(self, spans: List[Tuple[int, int]]) -> None:
        self.spans = spans

    @classmethod
    def full(cls) -> "Intervals":
        return cls([(0, U64)])

    @classmethod
    def of(cls, a: Atom) -> "Intervals":
        if a.half == "hi":  # (x >> 32) op c: whole blocks of 2**32 values
            return cls([(lo << 32, (hi << 32) | U32) for lo, hi in _intervals(a.op, a.value, U32)])
        return cls(_intervals(a.op, a.value, U64))

    def intersect(self, other: "Intervals") -> "Intervals":
        out = []
        for a, b in self.spans:
            for c, d in other.spans:
                lo, hi = max(a, c), min(b, d)
                if lo <= hi:
                    out.append((lo, hi))
        return Intervals(sorted(out))

    def __bool__(self) -> bool:
        return bool(self.spans)

    def conditions(self, index: int) -> List[Optional[Cond]]:
        """The set as alternatives of one libseccomp condition each (None: no condition)."""
        spans = self.spans
        if spans == [(0, U64)]:
            return [None]
        if len(spans) == 2 and spans[0][0] == 0 and spans[1][1] == U64 and \
                spans[0][1] + 2 == spans[1][0]:
            return [Cond(index, Op.NE, spans[0][1] + 1)]
        out: List[Optional[Cond]] = []
        for lo, hi in spans:
            if lo == hi:
                out.append(Cond(index, Op.EQ, lo))
            elif lo == 0:
                out.append(Cond(index, Op.LE, hi))
            elif hi == U64:
                out.append(Cond(index, Op.GE, lo))
            else:
                out.extend(_masked(index, m, v) for m, v in _prefixes(lo, hi, 64))
        return out


def _masked(index: int, m: int, v: int) -> Optional[Cond]:
    if m == 0:
        return None
    if m == U64:
        return Cond(index, Op.EQ, v)
    return Cond(index, Op.MASKED_EQ, m, v)


def _direct(a: Atom) -> Optional[Cond]:
    """The one libseccomp condition for an atom alone, where there is one."""
    if not a.half and a.mask is None:
        return Cond(a.index, Op[{"==": "EQ", "!=": "NE", "<": "LT", "<=": "LE", ">": "GT",
                                  ">=": "GE"}[a.op]], a.value)
    if a.op == "==" and (a.mask is not None or a.half == "lo"):
        pats = a.patterns()
        if len(pats) == 1:
            return _masked(a.index, *pats[0])
    return None


def lower_conj(conj: Conj) -> List[Tuple[Cond, ...]]:
    """A conjunction as libseccomp rules (alternatives, each a tuple of conditions with at
    most one per argument)."""
    by_arg: Dict[int, List[Atom]] = {}
    for a in conj:
        by_arg.setdefault(a.index, []).append(a)
    per_arg: List[List[Optional[Cond]]] = []
    for index in sorted(by_arg):
        atoms = by_arg[index]
        direct = _direct(atoms[0]) if len(atoms) == 1 else None
        if direct is not None:
            per_arg.append([direct])
            continue
        s = _arg_set(atoms)
        if not s:
            return []
        if isinstance(s, Intervals):
            per_arg.append(s.conditions(index))
        else:
            per_arg.append([_masked(index, m, v) for m, v in s])
    rules = []
    for combo in itertools.product(*per_arg):
        rules.append(tuple(c for c in combo if c is not None))
        if len(rules) > MAX_RULES_PER_SYSCALL:
            raise _TooLarge()
    return rules


_PLAIN_OPS = {"==": Op.EQ, "!=": Op.NE, "<": Op.LT, "<=": Op.LE, ">": Op.GT, ">=": Op.GE}


def _plain_cond(e: Expr) -> Optional[Cond]:
    """The libseccomp condition of ``argN op constant`` (all 64 bits, no mask), else None."""
    if type(e) is Cmp:
        left, right = e.left, e.right
        if type(left) is Arg and not left.half and type(right) is Num:
            return Cond(left.index, _PLAIN_OPS[e.op], right.value)
    return None


def _plain_conj(e: Expr) -> Optional[Tuple[Cond, ...]]:
    """One plain comparison, or a conjunction of them on distinct arguments, as one
    libseccomp rule (conditions in argument order, as `lower_conj` gives them), else None."""
    if type(e) is And:
        conds = []
        for item in e.items:
            c = _plain_cond(item)
            if c is None:
                return None
            conds.append(c)
        if len({c.arg for c in conds}) != len(conds):
            return None
        conds.sort(key=lambda c: c.arg)
        return tuple(conds)
    c = _plain_cond(e)
    return None if c is None else (c,)


def _plain_entries(rules: Sequence["Rule"], default: Action
                   ) -> Optional[List[Tuple[Action, Iterable[List[Tuple[Cond, ...]]], "Rule"]]]:
    """The lowering of a syscall's rules that all have one action and conditions already in
    libseccomp's form (``1``, comparisons of whole arguments with constants, conjunctions of
    them on distinct arguments, disjunctions of those), up to a last unconditional rule with
    the *default* action: what `Policy.disjoint` and `lower_conj` make of them, without the
    DNF. None for anything else."""
    action = rules[0].action
    out: List[Tuple[Action, Iterable[List[Tuple[Cond, ...]]], Rule]] = []
    for r in rules:
        e = r.condition
        if type(e) is Bool and e.value and r.action == default:
            break  # what it decides needs no rule (gosecco's negative rules)
        if r.action != action:
            return None  # later rules are cut by earlier ones of other actions
        if type(e) is Bool:
            if not e.value:
                continue  # decides nothing
            out.append((action, ([()],), r))
            break  # later rules for this syscall can never decide
        alternatives = []
        for item in e.items if type(e) is Or else (e,):
            conj = _plain_conj(item)
            if conj is None:
                return None
            alternatives.append([conj])
        out.append((action, alternatives, r))
    return out


# ---------------------------------------------------------------------------------------------
# Rules and policies
# ---------------------------------------------------------------------------------------------

def action_rank(action: int) -> int:
    """How restrictive an action is, as the kernel orders them across stacked filters
    (lower: more restrictive; the data of ERRNO and TRACE does not count)."""
    return precedence(action & ACTION_KIND_MASK)


@dataclass(frozen=True, init=False)
class Rule:
    """*action* for *syscall* when *condition* holds (checked in order, first match wins)."""

    syscall: str
    condition: Expr
    action: Action
    place: Optional[Place] = field(default=None, compare=False)
    comment: str = field(default="", compare=False)

    def __init__(self, syscall: str, condition: Expr, action: Action,
                 place: Optional[Place] = None, comment: str = "") -> None:
        d = self.__dict__
        d["syscall"] = syscall
        d["condition"] = condition
        d["action"] = action
        d["place"] = place
        d["comment"] = comment


@dataclass(frozen=True)
class Policy:
    """A policy: rules per syscall in order (first match wins), the default action for calls
    no rule matches, and the filter's settings.

    *arches* lists the architectures the filter covers (empty: the native one);
    *bad_arch_action* is the action for other architectures (None: the library's default,
    KILL_THREAD); *x32_action* the action for x32 syscalls on x86_64 (None: like any other
    foreign architecture); *name* is a seccompiler thread category."""

    default_action: Action
    rules: Tuple[Rule, ...] = ()
    arches: Tuple[Arch, ...] = ()
    bad_arch_action: Optional[Action] = None
    x32_action: Optional[Action] = None
    name: str = ""
    source: str = field(default="", compare=False)

    # -- queries ------------------------------------------------------------------------------

    @property
    def _by_syscall(self) -> Dict[str, List[Rule]]:
        """The rules grouped by syscall in order (computed once: the policy is immutable)."""
        cached: Optional[Dict[str, List[Rule]]] = self.__dict__.get("_by_syscall_cache")
        if cached is None:
            cached = {}
            for r in self.rules:
                cached.setdefault(r.syscall, []).append(r)
            self.__dict__["_by_syscall_cache"] = cached
        return cached

    def _folded(self, syscall: str) -> List[Tuple[Rule, Expr]]:
        """The syscall's rules in order, each with its condition folded (computed once)."""
        cache: Dict[str, List[Tuple[Rule, Expr]]] = self.__dict__.setdefault("_folded_cache", {})
        out = cache.get(syscall)
        if out is None:
            out = cache[syscall] = [(r, fold(r.condition))
                                    for r in self._by_syscall.get(syscall, ())]
        return out

    def syscalls(self) -> List[str]:
        """The syscalls the rules name, in first-seen order."""
        return list(self._by_syscall)

    def rules_for(self, syscall: str) -> List[Rule]:
        """The syscall's rules, in order."""
        return list(self._by_syscall.get(syscall, ()))

    def decide(self, syscall: str, args: Sequence[int] = ()) -> Action:
        """The action the policy means for *syscall* with *args* (the model, not the BPF)."""
        full = (tuple(args) + (0,) * 6)[:6]
        for r in self._by_syscall.get(syscall, ()):
            if evaluate(r.condition, full):
                return r.action
        return self.default_action

    # -- lowering -------------------------------------------------------------------------------

    def lowered(self) -> Dict[str, List[Tuple[Action, List[Tuple[Cond, ...]]]]]:
        """Per syscall, the libseccomp rules that implement it: (action, condition tuples),
        the rules of different actions disjoint, none with the default action."""
        ready = self.__dict__.get("_ready_lowering")
        if ready is not None:
            return dict(ready)
        out: Dict[str, List[Tuple[Action, List[Tuple[Cond, ...]]]]] = {}
        for name in self.syscalls():
            out[name] = self._lower_syscall(name)
        return out

    def disjoint(self, syscall: str, lowering: bool = False
                 ) -> List[Tuple[Action, List[Conj], Rule]]:
        """The syscall's rules as (action, DNF of the part where this rule decides, rule).
        For *lowering*, a last unconditional rule with the default action is left out (what
        it decides needs no rule)."""
        entries: List[Tuple[Action, List[Conj], Rule]] = []
        earlier: List[Tuple[Action, Expr]] = []
        for r in self.rules_for(syscall):
            folded = fold(r.condition)
            if lowering and folded == TRUE and r.action == self.default_action:
                break
            try:
                others = tuple(Not(c) for a, c in earlier if a != r.action)
                conjs = dnf(fold(And((folded,) + others)) if others else folded)
            except _Unlowerable as exc:
                raise _BeyondLibseccomp(exc.pos or r.place,
                                        "%s: %s" % (syscall, exc.reason)) from None
            except _TooLarge:
                raise _BeyondLibseccomp(r.place, "%s: the conditions grow too large to state "
                                                 "as libseccomp rules (more than %d)"
                                        % (syscall, MAX_RULES_PER_SYSCALL)) from None
            entries.append((r.action, conjs, r))
            earlier.append((r.action, folded))
            if folded == TRUE:
                break  # later rules for this syscall can never decide
        return entries

    def outcomes(self, syscall: str) -> Dict[Action, List[Conj]]:
        """The syscall's actions and, for each, the DNF of the argument values that get it
        (disjoint), the default action included where some values fall through to it."""
        out: Dict[Action, List[Conj]] = {}
        decided: List[Expr] = []
        for action, conjs, r in self.disjoint(syscall):
            if conjs:
                out.setdefault(action, []).extend(conjs)
                decided.append(fold(r.condition))
        try:
            rest = dnf(fold(Not(Or(tuple(decided))))) if decided else [()]
        except (_Unlowerable, _TooLarge):
            rest = [()]
        if rest:
            out.setdefault(self.default_action, []).extend(rest)
        return out

    def _lower_syscall(self, name: str) -> List[Tuple[Action, List[Tuple[Cond, ...]]]]:
        entries: Optional[List[Tuple[Action, Iterable[List[Tuple[Cond, ...]]], Rule]]]
        entries = _plain_entries(self._by_syscall[name], self.default_action)
        if entries is None:
            entries = [(action, (lower_conj(c) for c in conjs), r)
                       for action, conjs, r in self.disjoint(name, lowering=True)]
        out = []
        total = 0
        for action, alternatives, r in entries:
            if action == self.default_action:
                continue
            rules: List[Tuple[Cond, ...]] = []
            try:
                for more in alternatives:
                    rules.extend(more)
                    total += len(more)
                    if total > MAX_RULES_PER_SYSCALL:
                        raise _TooLarge()
            except _TooLarge:
                raise _BeyondLibseccomp(r.place, "%s: the conditions grow too large to state "
                                                 "as libseccomp rules (more than %d)"
                                        % (name, MAX_RULES_PER_SYSCALL)) from None
            if rules:
                out.append((action, _dedupe(rules)))
        if sum(len(r) for _, r in out) > 1 and any(len(c) > 1 for _, r in out for c in r):
            try:
                out = _spelled_for_libseccomp(out)
            except _TooLarge:
                raise _BeyondLibseccomp(self._place(name), "%s: the conditions grow too large "
                                        "to state as libseccomp rules (more than %d)"
                                        % (name, MAX_RULES_PER_SYSCALL)) from None
        return out

    def _split_lowering(self) -> Tuple[Dict[str, List[Tuple[Action, List[Tuple[Cond, ...]]]]],
                                       Dict[str, List[Tuple[Action, "ExprCondition"]]]]:
        """The syscalls as libseccomp rules (see `lowered`) where libseccomp can state them,
        and the others as conditions the library's own BPF computes: (action, condition),
        disjoint like `disjoint`'s, none with the default action."""
        ready = self.__dict__.get("_ready_lowering")
        if ready is not None:
            return ready, {}
        lowered: Dict[str, List[Tuple[Action, List[Tuple[Cond, ...]]]]] = {}
        beyond: Dict[str, List[Tuple[Action, ExprCondition]]] = {}
        for name in self.syscalls():
            try:
                lowered[name] = self._lower_syscall(name)
            except _BeyondLibseccomp:
                beyond[name] = self._computed(name)
        return lowered, beyond

    def _computed(self, syscall: str) -> List[Tuple[Action, "ExprCondition"]]:
        from . import bpf_lowering

        out: List[Tuple[Action, ExprCondition]] = []
        earlier: List[Tuple[Action, Expr]] = []
        for r in self.rules_for(syscall):
            folded = fold(r.condition)
            if folded == TRUE and r.action == self.default_action:
                break
            others = tuple(Not(c) for a, c in earlier if a != r.action)
            condition = fold(And((folded,) + others)) if others else folded
            if r.action != self.default_action and condition != FALSE:
                if int(r.action) & 0xFFFF0000 == int(Action.NOTIFY):
                    raise PolicyError(r.place, "%s: a NOTIFY rule whose condition libseccomp "
                                               "cannot state (the notification listener is "
                                               "libseccomp's)" % syscall)
                out.append((r.action, bpf_lowering.lower(condition, r.place, syscall)))
            earlier.append((r.action, folded))
            if folded == TRUE:
                break
        return out

    # -- compiling ------------------------------------------------------------------------------

    def compile(self, *, arch: Union[Arch, str, int, None] = None, check: bool = True,
                strict: bool = False) -> "PolicyFilter":
        """The policy as a `seccomp.Filter`, checked against this model with the emulator
        (a mismatch raises PolicyError naming architecture, syscall, arguments, expected and
        actual action). Syscall names libseccomp does not know are skipped with a warning
        (and listed in ``skipped_syscalls``); *strict* refuses them instead.

        libseccomp merges some sets of conditional rules with different actions wrongly
        depending on the order they are added in: when the check finds a difference, the
        rules are added again in other orders before the difference is reported."""
        import warnings

        target = Arch.native() if arch is None else Arch(arch).resolved
        lowered, computed = self._split_lowering()
        # each syscall's rules: later (fall-back) rules first, as lowered, the widest first
        orders = ["reverse", "keep", "widest"]
        failure: Optional[PolicyError] = None
        if computed or self._x32_differs():
            orders = orders[:1]  # the program is the library's own: the order does not matter
        for order in orders if check else orders[:1]:
            ordered = lowered if order != "widest" else {
                k: sorted(v, key=lambda x: -max(len(c) for c in x[1])) for k, v in lowered.items()}
            f = self._build(target, ordered, computed, backwards=order == "reverse")
            if f.skipped_syscalls and failure is None:
                msg = "syscalls unknown to libseccomp skipped: %s" % " ".join(
                    f.skipped_syscalls)
                if strict:
                    raise PolicyError(self._place(f.skipped_syscalls[0]), msg)
                warnings.warn(msg, stacklevel=2)
            if not check:
                return f
            try:
                program = self._own_program(f) if f.rule_extras else f.export_bpf()
                for a in f.arches:
                    self.check(program, a, skip=f.skipped_syscalls)
            except PolicyError as exc:
                failure = failure or exc
                f.release()
                continue
            return f
        assert failure is not None
        raise failure

    def _own_program(self, f: "PolicyFilter") -> bytes:
        """The library's own program for *f* (`seccomp.bpf.codegen`, checked against the
        rules), its failures as PolicyErrors."""
        try:
            return f.export_bpf()
        except FilterMismatchError as exc:
            f.release()
            raise PolicyError(self.source, str(exc.strerror)) from None
        except InvalidArgumentError as exc:  # over the kernel's 4096 instructions
            f.release()
            raise PolicyError(self.source, "the conditions grow too large: %s"
                              % exc.strerror) from None

    def _x32_differs(self) -> bool:
        bad = self.bad_arch_action if self.bad_arch_action is not None else Action.KILL_THREAD
        return self.x32_action is not None and self.x32_action != bad

    def _build(self, target: Arch,
               lowered: Dict[str, List[Tuple[Action, List[Tuple[Cond, ...]]]]],
               computed: Optional[Dict[str, List[Tuple[Action, "ExprCondition"]]]] = None,
               backwards: bool = False) -> "PolicyFilter":
        """The filter of *lowered* (each syscall's rules added last first when *backwards*)
        and *computed* rules."""
        try:
            f = PolicyFilter(self.default_action)
        except SeccompError as exc:
            raise PolicyError(self.source, "default action: %s" % exc.strerror) from None
        arches = self.arches or (target,)
        native = Arch.native()
        if native not in arches:
            f.remove_arch(native)  # first: one filter cannot mix byte orders
        for a in arches:
            f.add_arch(a)
        x32_action: Optional[int] = None
        if self._x32_differs():
            assert self.x32_action is not None
            bad = self.bad_arch_action if self.bad_arch_action is not None else Action.KILL_THREAD
            covered = f.arches
            if Arch.X32 in covered or Arch.X86_64 not in covered:
                f.release()
                raise PolicyError(self.source, "an x32 action (%s) other than the action for "
                                  "foreign architectures (%s) applies to a filter for x86_64 "
                                  "without x32; this one covers %s" % (
                                      self.x32_action, bad, ", ".join(str(a) for a in covered)))
            x32_action = int(self.x32_action)
        if self.bad_arch_action is not None:
            f.bad_arch_action = self.bad_arch_action
        if rule_count(lowered) >= 32:
            f.optimize = 2
        skipped: List[str] = []
        numbers = _newer_numbers(lowered, f.arches)
        def by_number(action: Action, name: str, *conds: Cond) -> None:
            f.add_rule(action, numbers.get(name, name), *conds)

        # by number: libseccomp takes them for a filter of the native arch alone
        add = by_number if numbers else f.add_rule
        for name, refused in add_rules(add, lowered, backwards):
            if not syscall_known(name):
                if _on_any(name, f.arches):  # else no syscall of these: nothing to add
                    skipped.append(name)
                continue
            raise PolicyError(self._place(name), "cannot add the rule for %s: %s"
                              % (name, getattr(refused, "strerror", refused))) from None
        extras: List[Tuple[int, str, Tuple[ExprCondition, ...], Tuple[int, ...]]] = []
        for name, conditions in (computed or {}).items():
            if not syscall_known(name):
                if _on_any(name, f.arches):
                    skipped.append(name)
                continue
            for a in f.arches:
                if multiplexed(name, a):
                    f.release()
                    raise PolicyError(self._place(name), "%s: on %s it is also reached through "
                                      "socketcall or ipc, whose arguments a filter cannot read: "
                                      "its condition cannot be computed there" % (name, a))
            for action, condition in conditions:
                extras.append((int(action), name, (condition,), f._arch_tokens))
        if extras or x32_action is not None:
            f.rule_extras = RuleExtras(tuple(extras), x32_action)
        f.skipped_syscalls = tuple(skipped)
        return f

    def _place(self, syscall: str) -> Optional[Place]:
        rules = self._by_syscall.get(syscall)
        return rules[0].place if rules else None

    def check(self, program: bytes, arch: Union[Arch, str, int, None] = None,
              skip: Iterable[str] = ()) -> int:
        """Check that BPF *program* does what this policy says on *arch*, at the boundary
        values of every comparison; returns the number of cases checked. A mismatch raises
        PolicyError naming the architecture, syscall, arguments and both actions."""
        from .. import bpf

        target = Arch.native() if arch is None else Arch(arch).resolved
        skipped = set(skip)
        calls: List[Tuple[Union[str, int], Tuple[int, ...]]] = []
        names: List[str] = []
        numbers = _newer_numbers(dict.fromkeys(self.syscalls()), (target,))
        for name in self.syscalls():
            if name in skipped:
                continue
            call: Union[str, int] = numbers.get(name, name)
            try:
                bpf.evaluate(program, call, arch=target)
            except SeccompError:
                continue  # not a syscall of this architecture
            for args in self._vectors(name):
                calls.append((call, args))
                names.append(name)
        if not calls:
            return 0
        got = bpf.evaluate_many(program, calls, arch=target)
        wide = bpf.emulator._target(target).wide  # 32-bit architectures pass 32-bit arguments
        for name, (_, args), actual in zip(names, calls, got):
            expected = self.decide(name, args if wide else tuple(a & U32 for a in args))
            if int(actual) != int(expected):
                raise PolicyError(self._place(name), "the compiled filter does not do what the "
                                  "policy says on %s: %s(%s) gives %s, the policy says %s"
                                  % (target, name, ", ".join("0x%x" % a for a in args),
                                     actual, expected))
        return len(calls)

    def _vectors(self, syscall: str) -> List[Tuple[int, ...]]:
        """Argument vectors at the boundaries of the syscall's comparisons."""
        values: Dict[int, Set[int]] = {}
        bases: List[List[int]] = [[0] * 6]
        computed: List[Tuple[int, ...]] = []  # for conditions libseccomp cannot state
        folded = self._folded(syscall)
        for _, condition in folded:
            for a in _atoms_of(condition):
                vs = values.setdefault(a.index, set())
                vs.update(_boundaries(a))
        for _, condition in folded:
            try:
                conjs = dnf(condition)
            except (_Unlowerable, _TooLarge):
                computed.extend(tuple(v) for v in _computed_vectors(condition))
                continue
            for c in conjs[:16]:
                base = [0] * 6
                for a in c:
                    pats = a.patterns()
                    if pats:
                        m, v = pats[0]
                        base[a.index] = (base[a.index] & ~m) | v
                bases.append(base)
        out: Set[Tuple[int, ...]] = set(computed)
        edges = [(index, v & U64) for index, vs in values.items() for v in vs]
        for base in bases[:32]:
            out.add(tuple(base))
            for index, v in edges:
                b = base.copy()
                b[index] = v
                out.add(tuple(b))
        return sorted(out)

    # -- conversions ----------------------------------------------------------------------------

    def with_rules(self, rules: Iterable[Rule]) -> "Policy":
        return replace(self, rules=tuple(rules))

    @classmethod
    def _deferred(cls, rules: Callable[[], Tuple[Rule, ...]],
                  lowering: Dict[str, List[Tuple[Action, List[Tuple[Cond, ...]]]]],
                  default_action: Action, **fields: object) -> "Policy":
        """A policy whose libseccomp rules are *lowering* (what `lowered` gives) and whose
        `rules` are made by *rules* on first use: the readers' fast path
        (`seccomp.policy.fast`), which compiles without them."""
        policy = cls(default_action, **fields)  # type: ignore[arg-type]
        d = policy.__dict__
        del d["rules"]
        d["_read_rules"] = rules
        d["_ready_lowering"] = lowering
        return policy

    def __getstate__(self) -> Dict[str, object]:
        state = dict(self.__dict__)
        if "_read_rules" in state:  # a function: pickle the rules themselves
            state["rules"] = self.rules
            del state["_read_rules"]
        return state


class _Rules:
    """`Policy.rules`: the tuple given, or the one a deferred policy makes on first use."""

    def __get__(self, policy: Optional[Policy], owner: object = None) -> Tuple[Rule, ...]:
        if policy is None:
            return ()  # the dataclass field's default
        d = policy.__dict__
        rules: Optional[Tuple[Rule, ...]] = d.get("rules")
        if rules is None:  # read once (threads first using it at once may each read it)
            reader = d.get("_read_rules")
            rules = d["rules"] if reader is None else tuple(reader())
            d["rules"] = rules
            d.pop("_read_rules", None)
        return rules

    def __set__(self, policy: Policy, rules: Tuple[Rule, ...]) -> None:
        policy.__dict__["rules"] = rules


Policy.rules = _Rules()  # type: ignore[assignment]


_RANGE_OPS = {Op.LT: "<", Op.LE: "<=", Op.GT: ">", Op.GE: ">="}


def unknown_syscall(name: str) -> Optional[str]:
    """Why *name* is refused, or None: no architecture has such a syscall (libseccomp's names
    and, for syscalls newer than it, the package's syscall table's). gosecco, minijail and
    seccompiler refuse names they have no number for, where a typo would otherwise leave the
    syscall to the default action. (OCI profiles skip unknown names, as runc does.)"""
    if syscall_known(name):
        return None
    from .._syscall_table import newer_syscalls

    if name in newer_syscalls():
        return None
    return "invalid syscall %r: no architecture has a syscall of this name" % name


def _on_any(name: str, arches: Sequence[Arch]) -> bool:
    """Whether one of *arches* has syscall *name*, which libseccomp does not know, by the
    package's table (riscv_hwprobe is riscv64's alone; a name the table lacks: unknown, so
    yes). libseccomp itself ignores a rule for a syscall it knows an architecture lacks."""
    from .._syscall_table import newer_syscalls

    numbers = newer_syscalls().get(name)
    return numbers is None or any(str(a) in numbers for a in arches)


def _newer_numbers(names: Iterable[str], arches: Sequence[Arch]) -> Dict[str, int]:
    """The numbers of the syscalls among *names* that libseccomp does not know (``mseal`` on
    2.5.4, which ChromeOS's policies allow) from the package's syscall table, where *arches*
    is the native architecture alone: libseccomp takes raw numbers only for it."""
    if len(arches) != 1 or arches[0] != Arch.native():
        return {}
    from .._syscall_table import newer_syscalls

    newer = newer_syscalls()
    arch = str(arches[0])
    return {n: newer[n][arch] for n in names
            if n in newer and arch in newer[n] and not syscall_known(n)}


def _without_ranges(rules: List[Tuple[Cond, ...]]) -> List[Tuple[Cond, ...]]:
    """The rules with each range or inequality in a rule of several conditions spelled as
    masked patterns: libseccomp 2.5.4 loops for ever in seccomp_rule_add() on some rule sets
    whose rules start with the same such comparison (``arg0 <= 5 && arg1 <= 7`` then
    ``arg0 <= 5 && arg1 == 2``; the same with ``arg0 != 5``); equality and masked equality
    do not.

    Still needed beside the core's rule guard (src_c/_rule_guard.pxi), which is exact for two
    rules but not for the long rule lists first-match order makes: without this, getpgid's
    ``arg1 <= 7 && arg2 == 2**64-2: TRAP``, ``arg1 <= 7 && arg0 < 2**64-2: KILL_PROCESS``,
    ``arg1 <= 2**64-2: ERRNO(1)`` (default ALLOW) lowers to ~250 rules, the guard holds
    123 of them and libseccomp still never returns from adding the KILL_PROCESS one. On 400
    random policies of such rules (tools/compare_lowering.py, seed 7) removing this lost 16
    that compile: 2 then hang in libseccomp despite the guard, 14 get a generated program (the
    held rules') over the kernel's 4096 instructions; it gained 6 (programs it made too
    large); the 365 that compile both ways do the same (70359 argument vectors)."""
    def first(r: Tuple[Cond, ...]) -> Tuple[int, int, int]:
        c = min(r, key=lambda c: c.arg)
        return (c.arg, int(c.op), c.value)

    shared: Dict[Tuple[int, int, int], int] = {}
    for r in rules:
        if len(r) > 1:
            shared[first(r)] = shared.get(first(r), 0) + 1
    out: List[Tuple[Cond, ...]] = []
    for r in rules:
        if len(r) < 2 or shared[first(r)] < 2 or first(r)[1] in (Op.EQ, Op.MASKED_EQ):
            out.append(r)
            continue
        alts: List[List[Optional[Cond]]] = []
        for c in r:
            if c.op in _RANGE_OPS:
                pats = _intervals(_RANGE_OPS[Op(c.op)], c.value, U64)
                alts.append([_masked(c.arg, m, v) for lo, hi in pats
                             for m, v in _prefixes(lo, hi, 64)])
            elif c.op == Op.NE:  # some bit differs
                alts.append([_masked(c.arg, b, ~c.value & b) for b in _bits(U64)])
            else:
                alts.append([c])
        for combo in itertools.product(*alts):
            out.append(tuple(x for x in combo if x is not None))
            if len(out) > MAX_RULES_PER_SYSCALL:
                raise _TooLarge()
    return _dedupe(out)


def _spelled_for_libseccomp(rules: List[Tuple[Action, List[Tuple[Cond, ...]]]]
                            ) -> List[Tuple[Action, List[Tuple[Cond, ...]]]]:
    """A syscall's lowered rules (several, some with several conditions) as libseccomp 2.5
    must be given them (see `_without_ranges`)."""
    return [(a, _without_ranges(r)) for a, r in rules]


def atom_expr(a: Atom) -> Expr:
    """An atom as an expression."""
    operand: Expr = Arg(a.index, a.half)
    if a.mask is not None:
        operand = BinOp("&", operand, Num(a.mask))
    return Cmp(a.op, operand, Num(a.value), a.pos)


def dnf_expr(conjs: List[Conj]) -> Expr:
    """A DNF of atoms as an expression."""
    return fold(Or(tuple(And(tuple(atom_expr(a) for a in c)) if c else TRUE for c in conjs)))


def _dedupe(rules: List[Tuple[Cond, ...]]) -> List[Tuple[Cond, ...]]:
    if len(rules) < 2:
        return rules
    seen = set()
    out = []
    for r in rules:
        key = tuple((c.arg, int(c.op), c.value, c.value2) for c in r)
        if key not in seen:
            seen.add(key)
            out.append(r)
    if () in seen:
        return [()]
    return out


def _atoms_of(expr: Expr) -> Iterator[Atom]:
    if isinstance(expr, Cmp):
        try:
            a = _atom(expr)
        except _Unlowerable:
            return
        if isinstance(a, Atom):
            yield a
    elif isinstance(expr, (And, Or)):
        for i in expr.items:
            yield from _atoms_of(i)
    elif isinstance(expr, Not):
        yield from _atoms_of(expr.operand)


def _boundaries(a: Atom) -> Set[int]:
    """Values of the 64-bit argument at the edges of an atom: the value, one either side,
    the mask's patterns, and the same in the other half."""
    value = a.value
    if not a.half:
        if a.mask is None:  # the common case: no half, no mask
            return {value & U64, (value - 1) & U64, (value + 1) & U64, 0, U64}
        top = U64
    else:
        top = U32
    shift = 32 if a.half == "hi" else 0
    base = [value, value - 1, value + 1, 0, top]
    if a.mask is not None:
        m = a.mask & top
        base += [m, value | (~m & top), value ^ (m & -m), (value | m) & top]
    out: Set[int] = set()
    other_half = U32 << (0 if shift else 32)
    for v in base:
        v &= top
        out.add(v << shift)
        if a.half:
            out.add((v << shift) | other_half)  # the other half set
    return {v & U64 for v in out}



_COMPUTED_VECTORS = 512


def _computed_vectors(condition: Expr) -> List[List[int]]:
    """Argument vectors for a condition libseccomp cannot state: the cross product of the
    values of `bpf_lowering.boundaries` over its arguments (so arguments compared with each
    other meet equal and neighbouring values), sampled evenly when larger."""
    from .bpf_lowering import boundaries

    per_arg = sorted((i, sorted(vs)) for i, vs in boundaries(condition).items())
    total = 1
    for _i, vs in per_arg:
        total *= len(vs)
    step = max(1, total // _COMPUTED_VECTORS)
    out = []
    for pos in range(0, total, step):
        row = [0] * 6
        for i, vs in per_arg:
            pos, digit = divmod(pos, len(vs))
            row[i] = vs[digit]
        out.append(row)
    return out


class PolicyFilter(Filter):
    """A `seccomp.Filter` compiled from a policy; ``skipped_syscalls`` names the policy's
    syscalls that this libseccomp does not know; ``rule_extras`` holds the rules only the
    library's own BPF can compute, and the x32 action (`seccomp.bpf.model.RuleExtras`)."""

    __slots__ = ("skipped_syscalls", "rule_extras")

    skipped_syscalls: Tuple[str, ...]
    rule_extras: Optional[RuleExtras]

    def __init__(self, default_action: int, *, tsync: bool = True) -> None:
        super().__init__(default_action, tsync=tsync)
        self.skipped_syscalls = ()
        self.rule_extras = None

    def reset(self, default_action: Optional[int] = None) -> None:
        """Remove every rule (those the library computes too)."""
        super().reset(default_action)
        self.rule_extras = None

    def merge(self, other: "_core.Filter") -> None:
        """Merge *other* into this filter (consumed), with the rules only the library's own
        BPF computes, of both."""
        mine, theirs = self.rule_extras, getattr(other, "rule_extras", None)
        x32 = [e.x32_action for e in (mine, theirs) if e is not None and e.x32_action is not None]
        if len(set(x32)) > 1:
            raise PolicyError(None, "the filters have different x32 actions (%s)"
                              % ", ".join(str(Action(a)) for a in x32))
        super().merge(other)
        if theirs is not None:
            self.rule_extras = RuleExtras((mine.rules if mine else ()) + theirs.rules,
                                          x32[0] if x32 else None)


def scan_tokens(pattern: re.Pattern[str], text: str, file: str, line: int,
                offset: int = 0) -> Tuple[List[str], List[str], List[int]]:
    """The tokens *pattern* (one named group per kind, ``bad`` for any other character) finds
    in *text*: their kinds, texts and 1-based columns (plus *offset*), each list ending with an
    end marker ("", "", the column after the text) so that looking ahead needs no bounds
    check. A ``bad`` character is a PolicyError at its place."""
    kinds: List[str] = []
    texts: List[str] = []
    cols: List[int] = []
    for m in pattern.finditer(text):
        kind = m.lastgroup or ""
        start = m.start(kind)
        if kind == "bad":
            raise PolicyError(Place(file, line, offset + start + 1),
                              "unexpected character %r" % text[start])
        kinds.append(kind)
        texts.append(m[kind])
        cols.append(offset + start + 1)
    kinds.append("")
    texts.append("")
    cols.append(offset + len(text) + 1)
    return kinds, texts, cols
