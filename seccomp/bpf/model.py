"""What a filter was asked to do, independent of its BPF, and the check of a program against it.

The **rule semantics** (what `Filter` promises, whoever generates the program):

- A syscall of an architecture the filter does not cover gets the bad-architecture action.
  On x86_64, x32 numbers (0x40000000 set, except -1) belong to x32: without Arch.X32 in the
  filter they get the bad-architecture action, and without Arch.X86_64 the other numbers do.
- A rule applies to the architectures the filter covered when it was added, under each one's
  number for the syscall's name (on x86, ppc and s390 a socket or SysV IPC call is also
  reached through ``socketcall``/``ipc``: the rule covers that form with its first argument
  equal to the sub-call number, as libseccomp does; the other arguments of that form are in
  memory the filter cannot read, so the rule's condition on argument 0 is replaced and the
  others compare the multiplexer's own arguments).
- A rule matches when all its conditions hold. A condition compares the 64-bit argument
  (on 32-bit architectures the kernel passes 32 bits: the high half is 0) with 64-bit
  operands; a `Cond.cmp32` condition compares the argument's low 32 bits only, whatever its
  high half holds.
- **Among the rules that match, the most restrictive action wins**, in the kernel's precedence
  order (the order it applies across stacked filters): KILL_PROCESS, KILL_THREAD, TRAP,
  ERRNO, NOTIFY, TRACE, LOG, ALLOW. Between two rules with the same action and different data
  (ERRNO(1), ERRNO(13)) the smaller data wins. Put together: the action whose 32-bit return
  value is the smallest as a signed number. Adding a rule can therefore never let through
  what another rule stops.
- No rule matches: the default action.

`RuleModel.of(filter)` builds this model from the rules the filter recorded (its `_rule_log`);
`RuleModel.first_mismatch(program)` runs the program in the emulator at the boundary values of
every condition (each compared value and its neighbours, both halves of 64-bit values, the
masks' bit patterns, sign-extended 32-bit values), for every architecture and syscall the
rules name, for syscalls they do not name and for a foreign architecture, and returns the
first disagreement. The input of `seccomp.bpf.codegen` is this model: per architecture, a map
from syscall number to rules, each a return value and a conjunction of `Condition` tuples.
"""
from __future__ import annotations

import errno
import itertools
import os
import sys
from array import array
from collections import namedtuple

from .._memo import memo
from .. import _bpf, _core
from .._errors import FilterMismatchError, SeccompError
from .._enums import X32_SYSCALL_BIT, Arch, precedence
from .emulator import MAX_INSTRUCTIONS, _real_number, _target, decode_action

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

    from typing_extensions import TypeIs

    from .._filter import Filter
    from .expr import ExprCondition

__all__ = ["Condition", "ExprCondition", "Rule", "ArchModel", "RuleModel", "RuleExtras",
           "Mismatch", "FilterMismatchError", "precedence", "checked_program", "multiplexed"]

U32 = 0xFFFFFFFF
U64 = (1 << 64) - 1
NE, LT, LE, EQ, GE, GT, MASKED_EQ = 1, 2, 3, 4, 5, 6, 7

# Architectures on which libseccomp also routes socket and SysV IPC calls through the
# multiplexers socketcall(call, args) and ipc(call, ...): the sub-call numbers are the
# kernel's (include/uapi/linux/net.h SYS_*, ipc/syscall.c SEMOP...).
_MUX_ARCHES = frozenset([Arch.X86, Arch.PPC, Arch.PPC64, Arch.PPC64LE, Arch.S390, Arch.S390X])
_SOCKETCALL = {
    "socket": 1, "bind": 2, "connect": 3, "listen": 4, "accept": 5, "getsockname": 6,
    "getpeername": 7, "socketpair": 8, "send": 9, "recv": 10, "sendto": 11, "recvfrom": 12,
    "shutdown": 13, "setsockopt": 14, "getsockopt": 15, "sendmsg": 16, "recvmsg": 17,
    "accept4": 18, "recvmmsg": 19, "sendmmsg": 20,
}
_IPC = {
    "semop": 1, "semget": 2, "semctl": 3, "semtimedop": 4, "msgsnd": 11, "msgrcv": 12,
    "msgget": 13, "msgctl": 14, "shmat": 21, "shmdt": 22, "shmget": 23, "shmctl": 24,
}

def _is_computed(c: object) -> "TypeIs[ExprCondition]":
    """Whether condition *c* is an `ExprCondition`. Without importing `seccomp.bpf.expr`:
    only rules that have one need it (its import is a good part of a command's start-up),
    and while nobody has imported it, no condition can be one."""
    expr = sys.modules.get(__package__ + ".expr")
    return expr is not None and isinstance(c, expr.ExprCondition)


def __getattr__(name: str) -> object:
    if name == "ExprCondition":  # imported when asked for (see _is_computed)
        from .expr import ExprCondition
        return ExprCondition
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


# Cross products of boundary values bigger than this are sampled (deterministically).
_MAX_VECTORS_PER_SYSCALL = 768


class Condition(namedtuple("Condition", "arg op value value2 low32")):
    """One comparison of a rule, as the model (and codegen) sees it: argument index, operator
    (libseccomp's numbers: 1 NE, 2 LT, 3 LE, 4 EQ, 5 GE, 6 GT, 7 MASKED_EQ), operands
    (for MASKED_EQ: mask, then the value), and whether only the low 32 bits are compared."""
    __slots__ = ()
    arg: int
    op: int
    value: int
    value2: int
    low32: bool

    def holds(self, argument: int) -> bool:
        """Whether the condition holds for the 64-bit *argument*."""
        if self.low32:
            argument &= U32
        op, v = self.op, self.value
        if op == EQ:
            return argument == v
        if op == NE:
            return argument != v
        if op == LT:
            return argument < v
        if op == LE:
            return argument <= v
        if op == GT:
            return argument > v
        if op == GE:
            return argument >= v
        return argument & v == self.value2

    def matches(self, args: Sequence[int]) -> bool:
        """Whether the condition holds for the six 64-bit *args*."""
        return self.holds(args[self.arg])

    def boundaries(self) -> Iterable[int]:
        """Argument values where the condition's truth can change, and their neighbours."""
        if self.op == MASKED_EQ:
            mask, want = self.value, self.value2
            width = U32 if self.low32 else U64
            bits = [mask & -mask, 1 << (mask.bit_length() - 1)] if mask else []
            if not self.low32:
                bits += [m & -m for m in (mask & U32, mask & ~U32) if m]
            out = [want, want | (~mask & width), want ^ mask, (want ^ mask) | (~mask & width)]
            out += [want ^ b for b in bits]
        else:
            v = self.value
            out = [v, v - 1, v + 1]
            if not self.low32:
                out += [v + (1 << 32), v - (1 << 32), v & U32, v | U32, v & ~U32]
        out = [x & U64 for x in out]
        if self.low32:  # the high half must not matter: try it clear, set and sign-extended
            out = [x & U32 for x in out]
            out += [x | (U32 << 32) for x in out] + [x | (1 << 32) for x in out[:3]]
        return out


class Rule(namedtuple("Rule", "action conditions")):
    """A rule on one architecture and syscall number: its action (the 32-bit return value)
    and the conditions that must all hold (`Condition`s, or an `ExprCondition` computed with
    the BPF registers where libseccomp cannot state the rule)."""
    __slots__ = ()
    action: int
    conditions: Tuple[Union[Condition, ExprCondition], ...]


class RuleExtras(namedtuple("RuleExtras", "rules x32_action", defaults=((), None))):
    """What a `Filter` subclass adds to its recorded rules (its ``rule_extras`` attribute):
    *rules* as (action, syscall name, conditions, architecture tokens), whose conditions
    libseccomp cannot state, and *x32_action*, the return value for x32 syscalls on x86_64
    when x32 is not one of the filter's architectures (None: the bad-architecture action).
    Either makes the program `seccomp.bpf.codegen`'s."""
    __slots__ = ()
    rules: Tuple[Tuple[int, str, Tuple[Union[Condition, ExprCondition], ...],
                       Tuple[int, ...]], ...]
    x32_action: Optional[int]


class ArchModel:
    """The rules of one architecture as the kernel identifies it (its AUDIT_ARCH value; on
    x86_64 that covers x32 too): syscall number -> rules, and which numbers belong to it."""

    def __init__(self, arch: Arch, members: Tuple[Arch, ...]) -> None:
        self.arch = arch  # the emulator target: X86_64 for x32
        self.members = members
        self.syscalls: Dict[int, List[Rule]] = {}
        target = _target(arch)
        self.audit_arch: int = target.audit_arch
        self.big_endian: bool = target.big_endian
        self.wide: bool = target.wide
        #: x86_64's x32 numbers get this action when x32 is not a member (None: bad-arch)
        self.x32_action: Optional[int] = None

    def owns(self, nr: int) -> bool:
        """Whether syscall number *nr* belongs to an architecture of the filter (on x86_64:
        x32 numbers to x32, the others to x86_64; -1 to both)."""
        if self.arch is not Arch.X86_64 or nr == U32:
            return True
        x32 = bool(nr & X32_SYSCALL_BIT)
        return (Arch.X32 in self.members) if x32 else (Arch.X86_64 in self.members)

    def answer(self, nr: int, args: Sequence[int], default: int, bad_arch: int) -> int:
        """The return value the rules give syscall *nr* with *args*."""
        if not self.owns(nr):
            if self.x32_action is not None and nr & X32_SYSCALL_BIT:
                return self.x32_action
            return bad_arch
        best: Optional[int] = None
        for rule in self.syscalls.get(nr, ()):
            if (best is None or precedence(rule.action) < precedence(best)) and all(
                    c.matches(args) for c in rule.conditions):
                best = rule.action
        return default if best is None else best


class Mismatch(namedtuple("Mismatch", "arch nr args expected actual")):
    """A syscall on which a program and the rules disagree."""
    __slots__ = ()
    arch: Arch
    nr: int
    args: Tuple[int, ...]
    expected: int
    actual: int

    def __str__(self) -> str:
        try:
            name = "%s (%d)" % (_core.syscall_resolve_num(self.nr, self.arch), self.nr)
        except SeccompError:
            name = "number %d" % self.nr
        return "on %s, syscall %s with arguments (%s): the rules give %s, the program %s" % (
            self.arch, name, ", ".join("%#x" % a for a in self.args),
            decode_action(self.expected), decode_action(self.actual))


@memo(4096)
def _native_name(nr: int) -> Optional[str]:
    try:
        return _core.syscall_resolve_num(nr, Arch.native())
    except SeccompError:
        return None


@memo(16384)
def _forms(syscall: Union[int, str], token: int) -> Tuple[Tuple[int, Optional[int]], ...]:
    """Where a rule for *syscall* (as given to add_rule) lands on architecture *token*:
    (syscall number, multiplexer sub-call or None) pairs; empty where it does not exist."""
    arch = Arch(token)
    if isinstance(syscall, str):
        name: Optional[str] = syscall
    else:
        name = _native_name(syscall)
        if name is None:  # a number without a name: taken as it is on the native arch only
            return ((syscall & U32, None),) if arch is Arch.native() else ()
    assert name is not None
    forms: List[Tuple[int, Optional[int]]] = []
    nr = _core.syscall_resolve_name(name, arch)
    if nr >= 0:
        forms.append((nr, None))
    elif nr != -1:  # a pseudo number: the direct syscall, where the arch has one
        try:
            forms.append((_real_number(name, arch), None))
        except SeccompError:
            pass
    if arch in _MUX_ARCHES:
        for table, mux in ((_SOCKETCALL, "socketcall"), (_IPC, "ipc")):
            if name in table:
                forms.append((_core.syscall_resolve_name(mux, arch), table[name]))
    return tuple(forms)


_rule = tuple.__new__  # Rule(action, conditions) without namedtuple's argument parsing


def _conditions(conds: Tuple[_core.Cond, ...]) -> Tuple[Condition, ...]:
    return tuple(Condition(c.arg, c.op, c.value, c.value2, c.low32) for c in conds)


def multiplexed(syscall: str, arch: Arch) -> bool:
    """Whether *syscall* is also reached through ``socketcall`` or ``ipc`` on *arch* (whose
    arguments are in memory a filter cannot read)."""
    return Arch(arch) in _MUX_ARCHES and (syscall in _SOCKETCALL or syscall in _IPC)


class RuleModel:
    """The rules a filter was given, per architecture and syscall (see the module doc)."""

    def __init__(self, default: int, bad_arch: int, arches: Sequence[ArchModel],
                 x32_action: Optional[int] = None) -> None:
        self.default = default
        self.bad_arch = bad_arch
        self.arches = list(arches)
        self.x32_action = x32_action
        for m in self.arches:
            if m.arch is Arch.X86_64 and Arch.X32 not in m.members:
                m.x32_action = x32_action

    @classmethod
    def of(cls, flt: "Filter") -> "RuleModel":
        """The model of a filter's recorded rules, architectures and actions."""
        tokens = flt._arch_tokens
        by_audit: Dict[int, ArchModel] = {}
        token_model: Dict[int, ArchModel] = {}
        for token in tokens:
            arch = Arch(token)
            target = Arch.X86_64 if arch is Arch.X32 else arch
            members = tuple(Arch(t) for t in tokens
                            if (Arch.X86_64 if Arch(t) is Arch.X32 else Arch(t)) is target)
            m = by_audit.get(int(target))
            if m is None:
                m = by_audit[int(target)] = ArchModel(target, members)
            token_model[token] = m
        extras: Optional[RuleExtras] = getattr(flt, "rule_extras", None)
        recorded = [(a, s, _conditions(c) if c else (), t) for a, s, c, _exact, t in flt._rule_log]
        for action, syscall, conditions, rule_tokens in itertools.chain(
                recorded, extras.rules if extras else ()):
            for token in rule_tokens:
                m = token_model.get(token)
                if m is None:
                    continue
                for nr, sub in _forms(syscall, token):
                    these = conditions
                    if sub is not None:
                        if any(_is_computed(c) for c in these):
                            raise _core.InvalidArgumentError(
                                errno.EINVAL, "on %s, %s is also reached through a multiplexer "
                                "(socketcall or ipc) whose arguments a filter cannot read: "
                                "its condition cannot be computed there" % (Arch(token), syscall))
                        these = (Condition(0, EQ, sub, 0, False),) + tuple(
                            c for c in conditions
                            if not _is_computed(c) and c.arg != 0)
                    m.syscalls.setdefault(nr & U32, []).append(_rule(Rule, (action, these)))
        x32 = extras.x32_action if extras else None
        return cls(int(flt.default_action), int(flt.bad_arch_action), list(by_audit.values()),
                   None if x32 is None else int(x32))

    @property
    def beyond_libseccomp(self) -> bool:
        """Whether libseccomp's program is known to differ from the rules, so that only
        `seccomp.bpf.codegen` can make it: a 32-bit comparison other than EQ or MASKED_EQ
        (libseccomp has none), or a 64-bit comparison on x32 (libseccomp compares only the
        low halves there, while the kernel passes x32 syscalls 64-bit arguments), a condition
        only the BPF registers can compute (`ExprCondition`), or an x32 action of its own."""
        if self.x32_action is not None and self.x32_action != self.bad_arch:
            return True
        for m in self.arches:
            x32 = Arch.X32 in m.members
            for nr, rules in m.syscalls.items():
                for r in rules:
                    for c in r.conditions:
                        if _is_computed(c):
                            return True
                        if c.low32 and c.op not in (EQ, MASKED_EQ):
                            return True
                        if x32 and not c.low32 and nr & X32_SYSCALL_BIT and nr != U32:
                            return True
        return False

    def answer(self, arch: Arch, nr: int, args: Sequence[int] = (0,) * 6) -> int:
        """The return value the rules give (*arch*, *nr*, *args*)."""
        target = Arch.X86_64 if arch is Arch.X32 else arch
        for m in self.arches:
            if m.arch is target:
                args = tuple(args) + (0,) * (6 - len(args))
                if not m.wide:
                    args = tuple(a & U32 for a in args)
                return m.answer(nr & U32, args, self.default, self.bad_arch)
        return self.bad_arch

    # -- the check -----------------------------------------------------------------------

    def _vectors(self, m: ArchModel) -> Tuple["array[int]", "array[int]", "array[int]"]:
        """The syscalls to try on *m*: numbers, six arguments each, and the expected answers."""
        nrs = array("I")
        expected = array("I")
        add_nr, add_expected = nrs.append, expected.append
        arg_rows: List[Tuple[int, List[int]]] = []  # (index, arguments) where not all 0
        width = U64 if m.wide else U32
        default, bad = self.default, self.bad_arch
        for nr, rules in m.syscalls.items():
            if len(rules) == 1 and not rules[0][1]:  # the common case: one plain rule
                add_nr(nr)
                add_expected(rules[0][0])
                continue
            if not any(r.conditions for r in rules):
                add_nr(nr)
                add_expected(min((r.action for r in rules), key=precedence))
                continue
            candidates: Dict[int, Set[int]] = {}
            for r in rules:
                for c in r.conditions:
                    if _is_computed(c):  # equal values for its arguments too
                        for arg, tried in c.values:
                            candidates.setdefault(arg, {0, U64 & width}).update(
                                b & width for b in tried)
                        continue
                    candidates.setdefault(c.arg, {0, U64 & width}).update(
                        b & width for b in c.boundaries())
            indexes = sorted(candidates)
            values = [sorted(candidates[i]) for i in indexes]
            total = 1
            for v in values:
                total *= len(v)
            if total <= _MAX_VECTORS_PER_SYSCALL:
                combos: Iterable[Tuple[int, ...]] = itertools.product(*values)
            else:  # each value with the others at their first, then a spread-out sample
                combos = []
                for i, vs in enumerate(values):
                    for x in vs:
                        row = [v[0] for v in values]
                        row[i] = x
                        combos.append(tuple(row))
                step = total // _MAX_VECTORS_PER_SYSCALL | 1
                for pos in range(0, total, step):
                    row = []
                    for vs in values:
                        pos, digit = divmod(pos, len(vs))
                        row.append(vs[digit])
                    combos.append(tuple(row))
            for combo in combos:
                args = [0] * 6
                for i, x in zip(indexes, combo):
                    args[i] = x
                arg_rows.append((len(nrs), args))
                add_nr(nr)
                add_expected(m.answer(nr, args, default, bad))
        # syscalls no rule names, and numbers of the other ABI on x86_64
        spare = next(n for n in itertools.count() if n not in m.syscalls)
        extra = [spare, 0x3FFF if 0x3FFF not in m.syscalls else spare, U32]
        if m.arch is Arch.X86_64:
            extra += [X32_SYSCALL_BIT | next(n for n in itertools.count()
                                              if X32_SYSCALL_BIT | n not in m.syscalls)]
        zero = (0,) * 6
        for nr in extra:
            if nr not in m.syscalls:
                add_nr(nr)
                add_expected(m.answer(nr, zero, default, bad))
        args_flat = array("Q", bytes(48 * len(nrs)))
        for i, row in arg_rows:
            args_flat[6 * i:6 * i + 6] = array("Q", row)
        return nrs, args_flat, expected

    def first_mismatch(self, program: bytes) -> Optional[Mismatch]:
        """The first syscall on which *program* does not do what the rules say, or None."""
        for m in self.arches:
            target = _target(m.arch)
            checked = target.program(program)
            nrs, args, expected = self._vectors(m)
            i = _bpf.first_mismatch(checked, m.audit_arch, m.wide, nrs, args, expected)
            if i >= 0:
                row = tuple(args[6 * i:6 * i + 6])
                actual = _bpf.run(checked, nrs[i], m.audit_arch, row, 0, m.wide)
                return Mismatch(m.arch, nrs[i], row, expected[i], actual)
        # a foreign architecture gets the bad-architecture action (the program read in its
        # own byte order, the AUDIT_ARCH value of one it does not cover)
        if self.arches:
            first = self.arches[0]
            covered = {m.audit_arch for m in self.arches}
            foreign = next((a for a in (Arch.AARCH64, Arch.X86_64, Arch.S390X, Arch.PPC64LE,
                                        Arch.PPC64, Arch.X86) if int(a) not in covered), None)
            token = int(foreign) if foreign is not None else 0  # 0: no architecture's value
            checked = _target(first.arch).program(program)
            actual = _bpf.run(checked, 0, token, (), 0, True)
            if actual != self.bad_arch:
                return Mismatch(foreign or first.arch, 0, (0,) * 6, self.bad_arch, actual)
        return None


def _libseccomp_program(flt: "Filter") -> bytes:
    """libseccomp's own program for *flt*, whatever subclasses make of their exports."""
    if _core.HAVE_LIBSECCOMP_2_6:
        return flt._export_bpf_bytes()
    fd = os.memfd_create("seccomp-bpf", os.MFD_CLOEXEC)
    try:
        flt._export_bpf_fd(fd)
        size = os.lseek(fd, 0, os.SEEK_END)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


def checked_program(flt: "Filter") -> Tuple[bytes, bool]:
    """The BPF program of *flt*, checked against its rules, and whether it is libseccomp's
    own: libseccomp's when it implements the rules, else one from `seccomp.bpf.codegen`
    (checked too). Raises FilterMismatchError when neither does. The answer is kept on the
    filter until its rules, architectures or actions change."""
    key = (tuple(flt._rule_log), flt._arch_tokens, int(flt.default_action),
           int(flt.bad_arch_action), getattr(flt, "rule_extras", None))
    cached = getattr(flt, "_checked", None)
    if cached is not None and cached[0] == key:
        if not cached[2]:
            return cached[1], False
        program = _libseccomp_program(flt)
        if program == cached[1]:
            return program, True
    model = RuleModel.of(flt)
    if not model.beyond_libseccomp and not flt._held_rules:  # (held: libseccomp lacks rules)
        program = _libseccomp_program(flt)
        if len(program) > 8 * MAX_INSTRUCTIONS:
            # the kernel refuses it (load() says so, naming its size): it cannot be weaker
            return program, True
        if model.first_mismatch(program) is None:
            flt._checked = (key, program, True)  # type: ignore[attr-defined]
            return program, True
    from . import codegen
    program = codegen.generate(model)
    again = model.first_mismatch(program)
    if again is not None:
        raise FilterMismatchError(errno.ENOTRECOVERABLE,
                                  "the filter's BPF does not implement its rules: %s" % (again,))
    flt._checked = (key, program, False)  # type: ignore[attr-defined]
    return program, False
