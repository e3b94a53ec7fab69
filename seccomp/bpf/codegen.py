"""A straightforward generator of seccomp BPF from a `RuleModel` (see `seccomp.bpf.model`).

Used where libseccomp's program does not implement the rules (libseccomp 2.5's merge of
overlapping conditions, its 32-bit view of x32 arguments, its byte-order mix-up in large
filters for big-endian architectures) or cannot express them (32-bit comparisons other than
EQ and MASKED_EQ). The program, in the architectures' byte order:

    ld [arch]; jeq AUDIT_ARCH, <block> ...; ret <bad-arch action>
    block:  ld [nr]; (x86_64: numbers of the other ABI get the bad-arch action)
            binary search over the syscall numbers, each leaf a short chain of jeq
    syscall: its rules, most restrictive first; each rule's conditions in turn (a failed
            one goes to the next rule); all hold: ret its action; none: ret the default

Conditions compare 64-bit arguments as two 32-bit words (high word first); on 32-bit
architectures the high word is known to be 0 and is not loaded. It is written backwards (each
jump's target already placed), so jumps longer than 255 instructions go through a ``ja``.
A condition libseccomp cannot state (`seccomp.bpf.expr.ExprCondition`) is computed with the
A and X registers and the scratch memory (`seccomp.bpf.expr.emit`). On x86_64 without x32,
x32 numbers get the model's x32 action where it has one.
"""
from __future__ import annotations

import struct

from .._core import InvalidArgumentError
from .._enums import X32_SYSCALL_BIT, Arch
from .emulator import MAX_INSTRUCTIONS
from .model import (EQ, GE, GT, LE, LT, MASKED_EQ, NE, U32, ArchModel, Condition, Rule,
                    RuleModel, _is_computed, precedence)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Dict, List, Sequence, Tuple

__all__ = ["generate"]

_LD_ABS, _JA, _JEQ, _JGT, _JGE, _AND, _RET = 0x20, 0x05, 0x15, 0x25, 0x35, 0x54, 0x06
_LEAF = 6  # syscalls per linear chain at the bottom of the binary search


class _Emitter:
    """Instructions written from the end of the program backwards. A label is an
    instruction's index counted from the end; the next instruction written sits just before
    the last one written, which is where it falls through to."""

    def __init__(self) -> None:
        self.rev: List[Tuple[int, int, int, int]] = []
        self.rets: Dict[int, int] = {}

    @property
    def next(self) -> int:
        """The label of the last instruction written (what a new one falls through to)."""
        return len(self.rev) - 1

    def op(self, code: int, k: int = 0) -> int:
        self.rev.append((code, 0, 0, k & U32))
        return len(self.rev) - 1

    def ret(self, value: int) -> int:
        """A label returning *value*: an existing one in reach, else a new one."""
        label = self.rets.get(value)
        if label is None or len(self.rev) - label - 1 > 200:
            label = self.rets[value] = self.op(_RET, value)
        return label

    def jump(self, code: int, k: int, yes: int, no: int) -> int:
        """A conditional jump to labels *yes* / *no* (through a ``ja`` when out of reach)."""
        targets = []
        for t in (yes, no):
            if len(self.rev) - t - 1 > 255:
                t = self.op(_JA, len(self.rev) - t - 1)
            targets.append(t)
        here = len(self.rev)
        self.rev.append((code, here - targets[0] - 1, here - targets[1] - 1, k & U32))
        return here

    def goto(self, target: int) -> int:
        """An unconditional jump (nothing when *target* is the next instruction)."""
        if target == self.next:
            return target
        return self.op(_JA, len(self.rev) - target - 1)

    def program(self, big_endian: bool) -> bytes:
        if len(self.rev) > MAX_INSTRUCTIONS:
            raise InvalidArgumentError(22, "the filter needs %d BPF instructions; the kernel "
                                           "accepts at most %d" % (len(self.rev),
                                                                  MAX_INSTRUCTIONS))
        pack = struct.Struct(">HBBI" if big_endian else "<HBBI").pack
        return b"".join(pack(*insn) for insn in reversed(self.rev))


def _words(arg: int, big_endian: bool) -> Tuple[int, int]:
    """The seccomp_data offsets of argument *arg*'s high and low 32-bit words."""
    base = 16 + 8 * arg
    return (base, base + 4) if big_endian else (base + 4, base)


def _condition(e: _Emitter, c: Condition, ok: int, fail: int, wide: bool,
               big_endian: bool) -> int:
    """Write *c*, going to *ok* when it holds and *fail* when not; returns its entry label
    (*ok* or *fail* itself where a 32-bit architecture's high word of 0 decides it)."""
    hi_off, lo_off = _words(c.arg, big_endian)
    op, v = c.op, c.value
    if op == MASKED_EQ:
        mask, want = c.value, c.value2
        if not c.low32:
            if not wide and want >> 32:
                return fail
            if wide and (mask >> 32 or want >> 32):
                low = _masked(e, lo_off, mask & U32, want & U32, ok, fail)
                e.jump(_JEQ, want >> 32, low, fail)
                e.op(_AND, mask >> 32)
                return e.op(_LD_ABS, hi_off)
        return _masked(e, lo_off, mask & U32, want & U32, ok, fail)
    if op in (LT, LE):  # the negations of GE and GT
        ok, fail = fail, ok
        op = GE if op == LT else GT
    if op == NE:
        ok, fail = fail, ok
        op = EQ
    lo, hi = v & U32, v >> 32
    if c.low32 or not wide:
        if not c.low32 and hi:  # the argument's high word is 0: compared with v's, decided
            return fail  # (NE arrives here as EQ with ok and fail swapped)
        code = {EQ: _JEQ, GT: _JGT, GE: _JGE}[op]
        e.jump(code, lo, ok, fail)
        return e.op(_LD_ABS, lo_off)
    code = {EQ: _JEQ, GT: _JGT, GE: _JGE}[op]
    e.jump(code, lo, ok, fail)
    low = e.op(_LD_ABS, lo_off)
    if op == EQ:
        e.jump(_JEQ, hi, low, fail)
    else:  # high word greater: holds; equal: the low words decide; less: fails
        e.jump(_JEQ, hi, low, fail)
        e.jump(_JGT, hi, ok, e.next)
    return e.op(_LD_ABS, hi_off)


def _masked(e: _Emitter, offset: int, mask: int, want: int, ok: int, fail: int) -> int:
    e.jump(_JEQ, want, ok, fail)
    if mask != U32:
        e.op(_AND, mask)
    return e.op(_LD_ABS, offset)


def _rules(e: _Emitter, rules: Sequence[Rule], default: int, wide: bool,
           big_endian: bool) -> int:
    """Write one syscall's rules; returns the entry label."""
    if len(rules) == 1 and not rules[0].conditions:  # the common case: one plain rule
        return e.ret(rules[0].action)
    ordered = sorted(rules, key=lambda r: precedence(r.action))
    for i, r in enumerate(ordered):
        if not r.conditions:
            ordered = ordered[:i + 1]
            break
    else:
        ordered.append(Rule(default, ()))
    entry = e.ret(ordered[-1].action)
    for r in reversed(ordered[:-1]):
        fail = entry
        ok = e.ret(r.action)
        start = ok
        for c in reversed(r.conditions):
            if _is_computed(c):
                from . import expr
                start = expr.emit(e, c.test, start, fail, wide, big_endian)
            else:
                start = _condition(e, c, start, fail, wide, big_endian)
        entry = start
    return entry


def _dispatch(e: _Emitter, m: ArchModel, numbers: Sequence[int], default: int,
              bad: int) -> int:
    """A binary search over *numbers* (sorted) with A holding the syscall number."""
    if len(numbers) <= _LEAF:
        nxt = e.ret(default)
        for nr in reversed(numbers):
            body = _rules(e, m.syscalls[nr], default, m.wide, m.big_endian)
            nxt = e.jump(_JEQ, nr, body, nxt)
        return nxt
    mid = len(numbers) // 2
    high = _dispatch(e, m, numbers[mid:], default, bad)
    low = _dispatch(e, m, numbers[:mid], default, bad)
    return e.jump(_JGE, numbers[mid], high, low)


def _arch_block(e: _Emitter, m: ArchModel, default: int, bad: int) -> int:
    body = _dispatch(e, m, sorted(m.syscalls), default, bad)
    if m.arch is Arch.X86_64:
        x86_64, x32 = Arch.X86_64 in m.members, Arch.X32 in m.members
        if x86_64 and not x32:  # x32 numbers (but -1) are another ABI
            other = bad if m.x32_action is None else m.x32_action
            minus_one = e.jump(_JEQ, U32, body, e.ret(other))
            body = e.jump(_JGE, X32_SYSCALL_BIT, minus_one, body)
        elif x32 and not x86_64:
            body = e.jump(_JGE, X32_SYSCALL_BIT, body, e.ret(bad))
    e.goto(body)
    return e.op(_LD_ABS, 0)


def generate(model: RuleModel) -> bytes:
    """The BPF program (bytes, in the architectures' byte order) implementing *model*."""
    if not model.arches:
        raise InvalidArgumentError(22, "the filter covers no architecture")
    e = _Emitter()
    nxt = e.ret(model.bad_arch)
    for m in reversed(model.arches):
        block = _arch_block(e, m, model.default, model.bad_arch)
        nxt = e.jump(_JEQ, m.audit_arch, block, nxt)
    e.goto(nxt)
    e.op(_LD_ABS, 4)
    return e.program(model.arches[0].big_endian)
