"""seccomp.policy's short ways give what the long ways give: lowering conditions already in
libseccomp's form directly gives exactly what the general path (DNF, disjoint regions,
per-argument merging) gives; gosecco's precedence climbing builds the tree one function per
precedence level builds. And the rule-count limit counts libseccomp rules."""
import random

import pytest

from seccomp import Action
from seccomp.policy import gosecco, model
from seccomp.policy.model import (TRUE, And, Arg, BinOp, Bool, Cmp, Num, Or, Place, Policy,
                                  PolicyError, Rule)

OPS = ("==", "!=", "<", "<=", ">", ">=")
ACTIONS = (Action.ALLOW, Action.ERRNO(1), Action.LOG, Action.KILL_PROCESS)


def _cmp(rnd: random.Random) -> Cmp:
    index = rnd.randrange(3)
    value = rnd.choice((0, 1, 2, 5, 0xFFFFFFFF, (1 << 64) - 1))
    kind = rnd.randrange(8)
    if kind == 0:  # not plain: a half
        return Cmp(rnd.choice(OPS), Arg(index, "lo"), Num(value & 0xFFFFFFFF))
    if kind == 1:  # not plain: a mask
        return Cmp("==", BinOp("&", Arg(index), Num(6)), Num(value & 6))
    return Cmp(rnd.choice(OPS), Arg(index), Num(value))


def _condition(rnd: random.Random):
    shape = rnd.randrange(6)
    if shape == 0:
        return rnd.choice((TRUE, Bool(False)))
    if shape == 1:
        return _cmp(rnd)
    if shape == 2:
        return And(tuple(_cmp(rnd) for _ in range(rnd.randrange(2, 4))))
    return Or(tuple(_cmp(rnd) if rnd.randrange(2) else
                    And(tuple(_cmp(rnd) for _ in range(2))) for _ in range(rnd.randrange(2, 5))))


def _random_policy(rnd: random.Random) -> Policy:
    default = rnd.choice(ACTIONS)
    rules = []
    for name in ("read", "write", "openat", "close", "mmap"):
        actions = ACTIONS if rnd.randrange(3) == 0 else (rnd.choice(ACTIONS),)
        for i in range(rnd.randrange(1, 4)):
            rules.append(Rule(name, _condition(rnd), rnd.choice(actions), Place("p", i + 1)))
        if rnd.randrange(3) == 0:
            rules.append(Rule(name, TRUE, default, Place("p", 9)))  # gosecco's negative rule
    return Policy(default, tuple(rules))


def _general(policy: Policy, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as m:
        m.setattr(model, "_plain_entries", lambda rules, default: None)
        try:
            return policy.lowered()
        except PolicyError as exc:
            return str(exc)


def _direct(policy: Policy):
    try:
        return policy.lowered()
    except PolicyError as exc:
        return str(exc)


def _key(lowered):
    if isinstance(lowered, str):
        return lowered
    return {name: [(int(a), [tuple((c.arg, int(c.op), c.value, c.value2) for c in r)
                              for r in rules]) for a, rules in entries]
            for name, entries in lowered.items()}


def test_direct_lowering_is_the_general_lowering(monkeypatch):
    rnd = random.Random(17)
    direct_taken = 0
    for _ in range(300):
        p = _random_policy(rnd)
        for name in p.syscalls():
            direct_taken += model._plain_entries(p.rules_for(name), p.default_action) is not None
        assert _key(_direct(p)) == _key(_general(p, monkeypatch)), p
    assert direct_taken > 300  # the direct path was exercised, not only the fallback


def test_many_alternatives_lower_up_to_the_rule_limit():
    many = " || ".join("arg0 == %d" % i for i in range(model.MAX_RULES_PER_SYSCALL))
    from seccomp.policy import minijail
    lowered = minijail.parse("read: %s\n" % many).lowered()["read"]
    assert len(lowered[0][1]) == model.MAX_RULES_PER_SYSCALL
    with pytest.raises(PolicyError, match=r"^<policy>:1:7: read: the conditions grow too "
                                          r"large .*\(more than 512\)"):
        minijail.parse("read: %s || arg0 == 99999\n" % many).lowered()


class _PerLevel(gosecco._Expr):
    """The reference parser: one function per precedence level, each left to right."""

    def binary(self, level):
        if level == len(gosecco._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in gosecco._LEVELS[level] and self.kinds[self.i] == "op":
            pos = self.place()
            op = self.texts[self.i]
            self.i += 1
            left = gosecco._combine(op, left, self.binary(level + 1), pos)
        return left


def _parse_tree(parser_class, text):
    try:
        return parser_class(text, "f", 1, 0).parse()
    except PolicyError as exc:
        return str(exc)


def _tree(e):
    """A parse tree with its places (the dataclasses leave them out of ==)."""
    if isinstance(e, str) or not hasattr(e, "__dataclass_fields__"):
        return e
    out = [type(e).__name__]
    for name in e.__dataclass_fields__:
        v = getattr(e, name)
        out.append(tuple(_tree(x) for x in v) if isinstance(v, tuple) else _tree(v))
    return tuple(out)


def test_gosecco_precedence_climbing_builds_the_per_level_tree():
    rnd = random.Random(17)
    ops = [op for level in gosecco._LEVELS for op in level]
    operands = ("argL0", "argH1", "arg2", "7", "0x10", "name", "f(1, argL3 + 2)", "(1 || 2)",
                "in(argL0, 1, 2)")
    for _ in range(2000):
        parts = []
        for i in range(rnd.randrange(1, 7)):
            if i:
                parts.append(rnd.choice(ops))
            parts.append(rnd.choice(("", "", "!", "~")) + rnd.choice(operands))
        if rnd.randrange(8) == 0:  # an error somewhere
            parts.insert(rnd.randrange(len(parts) + 1), rnd.choice(ops + [")", ","]))
        text = " ".join(parts)
        assert _tree(_parse_tree(gosecco._Expr, text)) == \
            _tree(_parse_tree(_PerLevel, text)), text


def _prefixes_by_halving(lo, hi, width):
    """The reference: the largest aligned block at lo, halved until it fits."""
    out = []
    top = (1 << width) - 1
    while lo <= hi:
        size = lo & -lo if lo else 1 << width
        while size > hi - lo + 1:
            size >>= 1
        out.append((top & ~(size - 1), lo))
        lo += size
    return out


def test_interval_prefixes_are_the_halving_ones():
    rnd = random.Random(17)
    for width in (32, 64):
        top = (1 << width) - 1
        edges = [0, 1, 2, 3, 7, 8, 255, 256, 1 << 31, top - 1, top]
        for _ in range(3000):
            lo = rnd.choice(edges + [rnd.randrange(top + 1)])
            hi = rnd.choice(edges + [rnd.randrange(top + 1), lo, lo + rnd.randrange(64)])
            hi = min(hi, top)
            assert model._prefixes(lo, hi, width) == _prefixes_by_halving(lo, hi, width)


def _boundaries_reference(a):
    out = set()
    shift = 32 if a.half == "hi" else 0
    top = (1 << a.width) - 1
    base = [a.value, a.value - 1, a.value + 1, 0, top]
    if a.mask is not None:
        m = a.mask & top
        base += [m, a.value | (~m & top), a.value ^ (m & -m), (a.value | m) & top]
    for v in base:
        v &= top
        out.add(v << shift)
        if a.width == 32:
            other = 0 if shift else 32
            out.add((v << shift) | (0xFFFFFFFF << other))
    return {v & ((1 << 64) - 1) for v in out}


def test_boundary_values_of_atoms():
    rnd = random.Random(17)
    for _ in range(3000):
        half = rnd.choice(("", "lo", "hi"))
        top = (1 << (64 if not half else 32)) - 1
        value = rnd.choice((0, 1, top, top - 1, rnd.randrange(top + 1)))
        mask = rnd.choice((None, None, 0, 6, top, rnd.randrange(top + 1)))
        a = model.Atom(rnd.randrange(6), rnd.choice(OPS), value, half, mask)
        assert model._boundaries(a) == _boundaries_reference(a), a
