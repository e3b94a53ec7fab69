"""gosecco's policy language (``docs/seccomp-policy-language.md`` in gosecco): read and write.

::

    DEFAULT_POSITIVE = allow
    DEFAULT_NEGATIVE = kill
    # comments start with '#'
    limit = 4096
    small(x) = x < limit
    read: arg0 == 0 || small(argL2)
    write[+allow, -EBADF]: in(arg0, 1, 2)
    ioctl: arg1 &? 0x5400; return 25
    kill: return EPERM

One line, one unit: a comment, an assignment (a variable or a macro ``f(x, y) = ...``, inlined
where it is used, also read from extra definition files), a default action
(``DEFAULT_POSITIVE``, ``DEFAULT_NEGATIVE``, ``DEFAULT_POLICY``) or a rule
``name[+ACTION, -ACTION]: expression``, ``name: return ERRNO`` or ``name: expression; return
ERRNO``. A rule's positive action applies when its expression holds, its negative action when
not, the policy action to syscalls without a rule. Actions: ``allow``, ``kill``, ``trap``,
``trace``, an errno number or name. Expressions: ``arg0``-``arg5`` (64 bits), ``argL0``/
``argH0`` (their low and high 32 bits), numbers (decimal, 0x hex, 0 octal, 0b binary), named
constants (`seccomp.policy.constants.gosecco_lookup`: those gosecco takes from Go's ``syscall``
package, x86_64 values), ``+ - * / % & | ^ ~ << >>``, ``== != < <= > >=``, ``&?`` (any bit set),
``in(x, a, b)``/``notIn(x, ...)``, ``&& || !``, ``true``/``false``, with the document's
precedence (operators of one level group left to right, as in C). Constants are folded at
compile time. Where gosecco's own code departs from its document, this follows the document
(see the documentation's list).
"""
from __future__ import annotations

import errno as _errno
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from .._enums import LARGEST_ERRNO, Action
from . import constants
from .model import (FALSE, TRUE, And, Arg, Atom, BinOp, Bool, Cmp, Expr, Inv, Not, Num, Or,
                    Place, Policy, PolicyError, Rule, U32, U64, _atom, _BeyondLibseccomp,
                    _Unlowerable, fold, scan_tokens, unknown_syscall)

__all__ = ["parse", "load", "dump", "INLINE_MARKER", "looks_like"]

#: A source or extra definition starting with this is text, not a path (as in gosecco).
INLINE_MARKER = "{inline}"

# One token after optional blanks; "bad" is a character that starts no token.
_TOKEN = re.compile(r"""
    [ \t]*(?:
    (?P<num>0[bB][01]+|0[xX][0-9a-fA-F]+|0[0-7]+|[1-9][0-9]*|0)
  | (?P<ident>[_a-zA-Z][_a-zA-Z0-9]*)
  | (?P<op>&\?|&&|\|\||<<|>>|==|<=|>=|!=|[-+*/%&|^~<>!(),\[\]])
  | (?P<bad>.))
""", re.VERBOSE | re.DOTALL)
#: The argument names (``arg0``, ``argL0``, ``argH0``, ...) and what they stand for.
_ARGS = {"arg%s%d" % (h, i): Arg(i, half) for i in range(6)
         for h, half in (("", ""), ("L", "lo"), ("H", "hi"))}


@dataclass(frozen=True)
class _Var(Expr):
    name: str
    pos: Place


@dataclass(frozen=True)
class _Call(Expr):
    name: str
    args: Tuple[Expr, ...]
    pos: Place


@dataclass
class _Macro:
    name: str
    params: Tuple[str, ...]
    body: Expr
    ret: Optional[int]
    place: Place


_LEVELS: Tuple[Tuple[str, ...], ...] = (
    ("||",), ("&&",), ("==", "!=", "&?"), ("<", "<=", ">", ">="), ("|",), ("^",), ("&",),
    ("<<", ">>"), ("+", "-"), ("*", "/", "%"))
#: Each binary operator's level in `_LEVELS` (higher binds tighter).
_LEVEL = {op: level for level, ops in enumerate(_LEVELS) for op in ops}


class _Expr:
    """A recursive-descent parser for one expression (the document's precedence table)."""

    def __init__(self, text: str, file: str, line: int, offset: int) -> None:
        # blanks at the end of the line end no token (Subgraph's OZ profiles have them)
        kinds, texts, cols = scan_tokens(_TOKEN, text.rstrip(" \t"), file, line, offset)
        self.n = len(texts) - 1  # without the end marker
        self.kinds, self.texts, self.cols = kinds, texts, cols
        self.file, self.line = file, line
        self.i = 0

    def place(self) -> Place:
        return Place(self.file, self.line, self.cols[self.i])

    def peek(self) -> str:
        return self.texts[self.i]

    def error(self, expected: str) -> PolicyError:
        found = repr(self.peek()) if self.i < self.n else "the end of the line"
        return PolicyError(self.place(), "expected %s, found %s" % (expected, found))

    def parse(self) -> Expr:
        if not self.n:
            raise PolicyError(self.place(), "empty expression")
        e = self.binary(0)
        if self.i < self.n:
            raise self.error("an operator or the end of the expression")
        return e

    def binary(self, level: int) -> Expr:
        """Operators of *level* and tighter, left to right (precedence climbing: the same
        tree as one function per level of `_LEVELS`, with fewer calls)."""
        left = self.unary()
        while True:
            op = self.texts[self.i]
            tighter = _LEVEL.get(op, -1)
            if tighter < level or self.kinds[self.i] != "op":
                return left
            pos = self.place()
            self.i += 1
            left = _combine(op, left, self.binary(tighter + 1), pos)

    def unary(self) -> Expr:
        if self.peek() in ("!", "~"):
            op = self.peek()
            pos = self.place()
            self.i += 1
            operand = self.unary()
            return _Not(operand, pos) if op == "!" else _Inv(operand, pos)
        return self.primary()

    def primary(self) -> Expr:
        if self.i >= self.n:
            raise self.error("a value")
        kind, tok = self.kinds[self.i], self.texts[self.i]
        pos = self.place()
        if tok == "(":
            self.i += 1
            e = self.binary(0)
            if self.peek() != ")":
                raise self.error("')'")
            self.i += 1
            return e
        if kind == "num":
            self.i += 1
            value = int(tok, 0) if not (len(tok) > 1 and tok[0] == "0" and tok[1] in
                                        "01234567") else int(tok, 8)
            if value > U64:
                raise PolicyError(pos, "%s does not fit in 64 bits" % tok)
            return Num(value)
        if kind == "ident":
            self.i += 1
            arg = _ARGS.get(tok)
            if arg is not None:
                return _At(arg, pos)
            low = tok.lower()
            if low in ("true", "false"):
                return TRUE if low == "true" else FALSE
            if self.peek() == "(":
                args = self.arguments()
                if low in ("in", "notin"):
                    if len(args) < 2:
                        raise PolicyError(pos, "%s needs a value and at least one candidate"
                                          % tok)
                    return _In(low == "in", args[0], tuple(args[1:]), pos)
                return _Call(tok, tuple(args), pos)
            if low in ("in", "notin"):
                raise self.error("'(' after %s" % tok)
            return _Var(tok, pos)
        raise self.error("a value")

    def arguments(self) -> List[Expr]:
        self.i += 1  # (
        args: List[Expr] = []
        if self.peek() == ")":
            self.i += 1
            return args
        while True:
            args.append(self.binary(0))
            if self.peek() == ",":
                self.i += 1
                continue
            if self.peek() == ")":
                self.i += 1
                return args
            raise self.error("',' or ')'")


# Parse-tree nodes that carry a place until they are checked and become model nodes.
@dataclass(frozen=True)
class _At(Expr):
    arg: Arg
    pos: Place


@dataclass(frozen=True)
class _Not(Expr):
    operand: Expr
    pos: Place


@dataclass(frozen=True)
class _Inv(Expr):
    operand: Expr
    pos: Place


@dataclass(frozen=True)
class _Bin(Expr):
    op: str
    left: Expr
    right: Expr
    pos: Place


@dataclass(frozen=True)
class _In(Expr):
    positive: bool
    left: Expr
    rights: Tuple[Expr, ...]
    pos: Place


def _combine(op: str, left: Expr, right: Expr, pos: Place) -> Expr:
    return _Bin(op, left, right, pos)


# ---------------------------------------------------------------------------------------------
# Resolving names and checking types
# ---------------------------------------------------------------------------------------------

_BOOL_OPS = ("||", "&&")
_CMP_OPS = ("==", "!=", "<", "<=", ">", ">=", "&?")


# The error for a number where a condition is expected (re-raised where a macro is used).
_NOT_A_CONDITION = "expected a condition, found a number"


class _Resolver:
    def __init__(self, macros: Dict[str, _Macro]) -> None:
        self.macros = macros

    def numeric(self, e: Expr, env: Dict[str, Expr], in_arith: bool = False) -> Expr:
        if isinstance(e, (_Closure, _Scoped)):  # a macro's body or argument, in its own scope
            return self.numeric(e.expr, e.env, in_arith)
        if isinstance(e, Num):
            return e
        if isinstance(e, _At):
            if in_arith and not e.arg.half:
                raise PolicyError(e.pos, "arg%d is 64 bits: arithmetic is only allowed on its "
                                         "32-bit halves argL%d and argH%d"
                                  % (e.arg.index, e.arg.index, e.arg.index))
            return e.arg
        if isinstance(e, _Inv):
            return Inv(self.numeric(e.operand, env, True))
        if isinstance(e, _Bin) and e.op not in _BOOL_OPS + _CMP_OPS:
            return BinOp(e.op, self.numeric(e.left, env, True), self.numeric(e.right, env, True),
                         e.pos)
        if isinstance(e, (_Var, _Call)):
            return self.numeric(self.expand(e, env), env, in_arith)
        raise PolicyError(_pos(e), "expected a number, found a condition")

    def boolean(self, e: Expr, env: Dict[str, Expr]) -> Expr:
        if isinstance(e, (_Closure, _Scoped)):
            return self.boolean(e.expr, e.env)
        if isinstance(e, Bool):
            return e
        if isinstance(e, _Not):
            return Not(self.boolean(e.operand, env))
        if isinstance(e, _Bin) and e.op in _BOOL_OPS:
            items = (self.boolean(e.left, env), self.boolean(e.right, env))
            return And(items) if e.op == "&&" else Or(items)
        if isinstance(e, _Bin) and e.op in _CMP_OPS:
            left, right = self.numeric(e.left, env), self.numeric(e.right, env)
            if e.op == "&?":
                if _full_arg(left) or _full_arg(right):
                    # the document extends a comparison of an argument with a number to its
                    # 64 bits: "any of these bits set" in either half (Subgraph OZ's
                    # ``arg1 &? FUTEX_WAKE``); with anything else the halves are the user's
                    arg, other = (left, right) if _full_arg(left) else (right, left)
                    other = fold(other)
                    if not isinstance(other, Num) or _full_arg(other):
                        raise PolicyError(e.pos, "&? between a 64-bit argument and a computed "
                                                 "value: use its halves argL/argH")
                    return Cmp("!=", BinOp("&", arg, other, e.pos), Num(0), e.pos)
                return Cmp("!=", BinOp("&", left, right, e.pos), Num(0), e.pos)
            return Cmp(e.op, left, right, e.pos)
        if isinstance(e, _In):
            left = self.numeric(e.left, env)
            rights = [self.numeric(r, env) for r in e.rights]
            if e.positive:
                return Or(tuple(Cmp("==", left, r, e.pos) for r in rights))
            return And(tuple(Cmp("!=", left, r, e.pos) for r in rights))
        if isinstance(e, (_Var, _Call)):
            try:
                return self.boolean(self.expand(e, env), env)
            except PolicyError as exc:  # said where the macro is used, not in its body
                if not exc.reason.startswith(_NOT_A_CONDITION):
                    raise
                m = self.macros.get(e.name)
                raise PolicyError(e.pos, "%s: %s is one%s" % (
                    _NOT_A_CONDITION, e.name, " (defined at %s)" % m.place if m else "")
                                  ) from None
        raise PolicyError(_pos(e), _NOT_A_CONDITION)

    def expand(self, e: Expr, env: Dict[str, Expr]) -> Expr:
        assert isinstance(e, (_Var, _Call))
        name = e.name
        if isinstance(e, _Var) and name in env:
            return env[name]
        m = self.macros.get(name)
        if m is None:
            if isinstance(e, _Var):
                value = constants.gosecco_lookup(name)
                if value is not None:
                    return Num(value)
                raise PolicyError(e.pos, "variable %r is not defined" % name)
            raise PolicyError(e.pos, "macro %r is not defined" % name)
        args: Tuple[Expr, ...] = e.args if isinstance(e, _Call) else ()
        if len(args) != len(m.params):
            raise PolicyError(e.pos, "%s takes %d argument%s, %d given" % (
                name, len(m.params), "" if len(m.params) == 1 else "s", len(args)))
        if m.ret is not None:
            raise PolicyError(e.pos, "%s ends in 'return', so it can only be a rule's whole "
                                     "expression" % name)
        # alpha renaming: the arguments are expressions of the caller's scope
        bound: Dict[str, Expr] = {p: _Closure(a, env) for p, a in zip(m.params, args)}
        return _Scoped(m.body, bound)


@dataclass(frozen=True)
class _Closure(Expr):
    expr: Expr
    env: Dict[str, Expr]

    def __hash__(self) -> int:
        return id(self)


@dataclass(frozen=True)
class _Scoped(Expr):
    expr: Expr
    env: Dict[str, Expr]

    def __hash__(self) -> int:
        return id(self)


def _full_arg(e: Expr) -> bool:
    return isinstance(e, Arg) and not e.half


def _pos(e: Expr) -> Optional[Place]:
    return getattr(e, "pos", None)


# ---------------------------------------------------------------------------------------------
# Lines
# ---------------------------------------------------------------------------------------------

_RULE_HEAD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\[([^\]]*)\])?\s*\Z")
_BINDING_HEAD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(([^)]*)\))?\s*\Z")
_RETURN = re.compile(r"\s*return\s+([A-Za-z0-9_]+)\s*\Z")
_TAIL_RETURN = re.compile(r";\s*return\s+([A-Za-z0-9_]+)\s*\Z")
_DEFAULTS = ("DEFAULT_POSITIVE", "DEFAULT_NEGATIVE", "DEFAULT_POLICY")


def action(text: str, place: Optional[Place] = None) -> Action:
    """A gosecco action: allow, kill, trap, trace, an errno number or name."""
    word = text.strip()
    low = word.lower()
    if low == "allow":
        return Action.ALLOW
    if low == "kill":
        return Action.KILL_THREAD
    if low == "trap":
        return Action.TRAP
    if low == "trace":
        return Action.TRACE(0)
    try:
        code = int(word, 0)
    except ValueError:
        code = constants.errno_number(word.upper())  # type: ignore[assignment]
        if code is None:
            raise PolicyError(place, "invalid action %r (expected allow, kill, trap, trace, an "
                                     "errno number or name)" % word) from None
    if not 0 <= code <= LARGEST_ERRNO:
        raise PolicyError(place, "errno %s is out of range 0-%d" % (word, LARGEST_ERRNO))
    return Action.ERRNO(code)


def _errno_value(text: str, place: Place) -> int:
    try:
        code = int(text, 0)
    except ValueError:
        c = constants.errno_number(text)
        if c is None:
            raise PolicyError(place, "unknown errno %r" % text) from None
        code = c
    if not 0 <= code <= LARGEST_ERRNO:
        raise PolicyError(place, "errno %s is out of range 0-%d" % (text, LARGEST_ERRNO))
    return code


@dataclass
class _RawRule:
    name: str
    positive: str
    negative: str
    body: Optional[Expr]
    ret: Optional[int]
    place: Place
    text: str


def _lines(text: str, file: str) -> Iterable[Tuple[object, Place]]:
    """Parse each line: rules, bindings (macros/variables/defaults)."""
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip("\r")
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        place = Place(file, number, len(line) - len(line.lstrip()) + 1)
        if ":" in line:
            head, body = line.split(":", 1)
            m = _RULE_HEAD.match(head)
            if not m:
                raise PolicyError(place, "invalid syscall name or actions in %r" % head.strip())
            pos_act, neg_act = _rule_actions(m.group(2) or "", place)
            offset = len(head) + 1
            if not body.strip():
                raise PolicyError(Place(file, number, offset + 1),
                                  "no expression for rule %s" % m.group(1))
            ret = None
            r = _RETURN.match(body)
            if r:
                yield _RawRule(m.group(1), pos_act, neg_act, None,
                               _errno_value(r.group(1), place), place, stripped), place
                continue
            r = _TAIL_RETURN.search(body)
            if r:
                ret = _errno_value(r.group(1), Place(file, number, offset + r.start() + 1))
                body = body[:r.start()]
            expr = _Expr(body, file, number, offset).parse()
            yield _RawRule(m.group(1), pos_act, neg_act, expr, ret, place, stripped), place
        elif "=" in line:
            head, body = line.split("=", 1)
            m = _BINDING_HEAD.match(head)
            if not m:
                raise PolicyError(place, "invalid name in assignment %r" % head.strip())
            name = m.group(1)
            offset = len(head) + 1
            if name in _DEFAULTS:
                yield (name, body.strip(), Place(file, number, offset + 1)), place
                continue
            params: Tuple[str, ...] = ()
            if m.group(2) is not None and m.group(2).strip():
                params = tuple(p.strip() for p in m.group(2).split(","))
                for p in params:
                    if not re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", p):
                        raise PolicyError(place, "invalid parameter name %r" % p)
            ret = None
            r = _TAIL_RETURN.search(body)
            if r:
                ret = _errno_value(r.group(1), Place(file, number, offset + r.start() + 1))
                body = body[:r.start()]
            expr = _Expr(body, file, number, offset).parse()
            yield _Macro(name, params, expr, ret, place), place
        else:
            raise PolicyError(place, "cannot parse line %r: it is not a rule, an assignment or "
                                     "a comment" % stripped)


def _rule_actions(text: str, place: Place) -> Tuple[str, str]:
    pos = neg = ""
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if part[0] == "+" and not pos:
            pos = part[1:].strip()
        elif part[0] == "-" and not neg:
            neg = part[1:].strip()
        else:
            raise PolicyError(place, "invalid rule actions [%s] (expected +ACTION and/or "
                                     "-ACTION, each once)" % text)
    return pos, neg


def _read_source(source: str) -> Tuple[str, str]:
    if source.startswith(INLINE_MARKER):
        return source[len(INLINE_MARKER):], "<inline>"
    with open(source, "rb") as fh:
        data = fh.read((16 << 20) + 1)
    if len(data) > 16 << 20:
        raise PolicyError(Place(source), "the file is larger than 16 MiB")
    return data.decode("utf-8", errors="replace"), source


def parse(text: str, *, file: str = "<policy>", extra_definitions: Sequence[str] = (),
          default_positive: Optional[str] = None, default_negative: Optional[str] = None,
          default_policy: Optional[str] = None, action_on_x32: Optional[str] = None,
          action_on_audit_failure: Optional[str] = None, denylist: bool = False) -> Policy:
    """A gosecco policy from its text, with gosecco's settings.

    *extra_definitions* are paths of files (or ``{inline}`` texts) whose variables and macros
    the policy may use (their rules are ignored; later ones override earlier ones, the
    policy's own override them all). The default actions (``allow``, ``kill``, ``trap``,
    ``trace``, an errno number or name) default to gosecco's ``Compile``: positive allow,
    negative and policy kill; with *denylist*, to ``CompileBlacklist``: positive kill,
    negative and policy allow, x32 kill. A ``DEFAULT_*`` line in the file overrides them.
    *action_on_audit_failure* (default kill) is the action for other architectures."""
    if denylist:
        settings = {"DEFAULT_POSITIVE": "kill", "DEFAULT_NEGATIVE": "allow",
                    "DEFAULT_POLICY": "allow"}
        x32: Optional[str] = action_on_x32 if action_on_x32 is not None else "kill"
    else:
        settings = {"DEFAULT_POSITIVE": "allow", "DEFAULT_NEGATIVE": "kill",
                    "DEFAULT_POLICY": "kill"}
        x32 = action_on_x32
    for key, value in (("DEFAULT_POSITIVE", default_positive),
                       ("DEFAULT_NEGATIVE", default_negative),
                       ("DEFAULT_POLICY", default_policy)):
        if value is not None:
            settings[key] = value
    macros: Dict[str, _Macro] = {}
    for extra in extra_definitions:
        try:
            extra_text, extra_file = _read_source(extra)
        except OSError as exc:
            raise PolicyError(Place(extra), "cannot read extra definitions: %s"
                              % exc.strerror) from None
        for item, _ in _lines(extra_text, extra_file):
            if isinstance(item, _Macro):
                macros[item.name] = item
    raw_rules: List[Tuple[_RawRule, Dict[str, _Macro], Dict[str, Tuple[str, Place]]]] = []
    defaults = {k: (v, Place(file)) for k, v in settings.items()}
    for item, place in _lines(text, file):
        if isinstance(item, _Macro):
            macros = dict(macros)
            macros[item.name] = item
        elif isinstance(item, tuple):
            name, value, vplace = item
            action(value, vplace)  # check it now
            defaults = dict(defaults)
            defaults[name] = (value, vplace)
        else:
            raw_rules.append((item, macros, defaults))  # type: ignore[arg-type]
    rules: List[Rule] = []
    seen: Dict[str, _RawRule] = {}
    actions: Dict[str, Action] = {}  # each action text read once

    def rule_action(text: str, place: Place) -> Action:
        a = actions.get(text)
        if a is None:
            a = actions[text] = action(text, place)
        return a

    for raw, scope, defs in raw_rules:
        first = seen.get(raw.name)
        if first is not None:
            if (first.text.replace(" ", "") != raw.text.replace(" ", "")):
                raise PolicyError(raw.place, "second rule for %s (the first is at %s); a "
                                             "policy has one rule per syscall" % (raw.name,
                                                                                  first.place))
            continue
        seen[raw.name] = raw
        reason = unknown_syscall(raw.name)
        if reason:
            raise PolicyError(raw.place, reason)
        pos_text = raw.positive or defs["DEFAULT_POSITIVE"][0]
        neg_text = raw.negative or defs["DEFAULT_NEGATIVE"][0]
        positive = rule_action(pos_text, raw.place)
        negative = rule_action(neg_text, raw.place)
        if raw.body is None:  # name: return N
            rules.append(Rule(raw.name, TRUE, Action.ERRNO(raw.ret or 0), raw.place))
            continue
        resolver = _Resolver(scope)
        body: Expr = raw.body
        ret = raw.ret
        if isinstance(body, (_Var, _Call)) and body.name in scope and \
                scope[body.name].ret is not None:
            m = scope[body.name]
            call_args: Tuple[Expr, ...] = body.args if isinstance(body, _Call) else ()
            if len(call_args) == len(m.params):
                env: Dict[str, Expr] = {p: _Closure(a, {}) for p, a in zip(m.params, call_args)}
                body = _Scoped(m.body, env)
                ret = ret if ret is not None else m.ret
        if ret is not None:
            negative = Action.ERRNO(ret)
        if raw.text.split(":", 1)[1].strip() == "1":
            body = TRUE  # the document's short form of the allow case
        try:
            cond = resolver.boolean(body, {})
        except PolicyError as exc:
            if exc.place:
                raise
            raise PolicyError(raw.place, exc.reason) from None
        rules.append(Rule(raw.name, cond, positive, raw.place))
        rules.append(Rule(raw.name, TRUE, negative, raw.place))
    policy_action = action(defaults["DEFAULT_POLICY"][0], defaults["DEFAULT_POLICY"][1])
    return Policy(policy_action, tuple(rules),
                  bad_arch_action=action(action_on_audit_failure or "kill", Place(file)),
                  x32_action=action(x32, Place(file)) if x32 else None, source=file)


def load(source: str, **settings: object) -> Policy:
    """A gosecco policy from a path, or from text after ``{inline}`` (see `parse`)."""
    text, file = _read_source(source)
    return parse(text, file=file, **settings)  # type: ignore[arg-type]


def looks_like(text: str) -> bool:
    """Whether *text* uses gosecco's own syntax (argH/argL, in()/notIn(), assignments,
    [+action] heads, DEFAULT_* lines)."""
    return bool(re.search(r"\barg[HL][0-5]\b|\b(in|notIn)\s*\(|^\s*DEFAULT_(POSITIVE|NEGATIVE"
                          r"|POLICY)\s*=|^\s*[A-Za-z_]\w*\s*(\([^)]*\))?\s*=[^=]|"
                          r"^\s*\w+\s*\[\s*[+-]|&\?", text, re.M))


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _action_text(a: Action) -> str:
    if a.kind == "ERRNO":
        return _errno.errorcode.get(a.data or 0, str(a.data))
    names = {int(Action.ALLOW): "allow", int(Action.KILL_THREAD): "kill",
             int(Action.TRAP): "trap", int(Action.TRACE(0)): "trace"}
    if int(a) not in names:
        raise PolicyError(None, "gosecco's language has no action %s" % a)
    return names[int(a)]


def _hex(v: int) -> str:
    return str(v) if v < 10 else "0x%x" % v


def _pattern_text(index: int, m: int, v: int) -> str:
    parts = []
    for half, hm, hv in (("L", m & U32, v & U32), ("H", m >> 32, v >> 32)):
        if hm == U32:
            parts.append("arg%s%d == %s" % (half, index, _hex(hv)))
        elif hm:
            parts.append("(arg%s%d & %s) == %s" % (half, index, _hex(hm), _hex(hv)))
    return " && ".join(parts) or "true"


def _atom_text(a: Atom) -> str:
    if a.half or a.mask is None:
        name = "arg%s%d" % ({"lo": "L", "hi": "H", "": ""}[a.half], a.index)
        if a.mask is not None:
            name = "(%s & %s)" % (name, _hex(a.mask))
        return "%s %s %s" % (name, a.op, _hex(a.value))
    # gosecco allows no arithmetic on a whole 64-bit argument: spell the mask on its halves
    alts = ["(%s)" % _pattern_text(a.index, m, v) for m, v in a.patterns()]
    if not alts:
        return "false"
    return alts[0] if len(alts) == 1 else "(%s)" % " || ".join(alts)


def _expr_text(conjs: List[Tuple[Atom, ...]]) -> str:
    if any(not c for c in conjs):
        return "1"
    if not conjs:
        return "false"
    parts = []
    for c in conjs:
        text = " && ".join(_atom_text(a) for a in c)
        parts.append("(%s)" % text if len(conjs) > 1 and len(c) > 1 else text)
    return " || ".join(parts)


_HALF_NAMES = {"lo": "argL", "hi": "argH"}


def _computed_text(e: Expr) -> str:
    """An expression in gosecco's language, every operation in parentheses (so that no
    precedence rule, where gosecco's code and document differ, decides the grouping)."""
    if isinstance(e, Cmp):
        try:
            atom = _atom(e)
        except _Unlowerable:
            atom = None
        if isinstance(atom, Atom):
            return "(%s)" % _atom_text(atom)
        return "(%s %s %s)" % (_computed_text(e.left), e.op, _computed_text(e.right))
    if isinstance(e, BinOp):
        for side in (e.left, e.right):
            if isinstance(side, Arg) and not side.half:
                raise PolicyError(e.pos, "gosecco's language allows no arithmetic on a whole "
                                         "64-bit argument (arg%d)" % side.index)
        return "(%s %s %s)" % (_computed_text(e.left), e.op, _computed_text(e.right))
    if isinstance(e, Arg):
        return "%s%d" % (_HALF_NAMES.get(e.half, "arg"), e.index)
    if isinstance(e, Num):
        return _hex(e.value)
    if isinstance(e, Inv):
        if isinstance(e.operand, Arg) and not e.operand.half:
            raise PolicyError(None, "gosecco's language allows no arithmetic on a whole "
                                    "64-bit argument (arg%d)" % e.operand.index)
        return "(~%s)" % _computed_text(e.operand)
    if isinstance(e, Not):
        return "(!%s)" % _computed_text(e.operand)
    if isinstance(e, (And, Or)):
        joiner = " && " if isinstance(e, And) else " || "
        return "(%s)" % joiner.join(_computed_text(i) for i in e.items)
    if isinstance(e, Bool):
        return "true" if e.value else "false"
    raise TypeError("not an expression: %r" % (e,))


def _computed_outcomes(policy: Policy, name: str) -> Dict[Action, Expr]:
    """The syscall's actions and, for each, the condition under which it applies, for rules
    libseccomp cannot state: first match wins, so each rule's condition excludes the earlier
    rules' (the default action gets what no rule decides, unless a last rule decides all)."""
    out: Dict[Action, List[Expr]] = {}
    earlier: List[Expr] = []
    for r in policy.rules_for(name):
        folded = fold(r.condition)
        condition = fold(And((folded,) + tuple(Not(c) for c in earlier))) if earlier else folded
        if condition != FALSE:
            out.setdefault(r.action, []).append(condition)
        earlier.append(folded)
        if folded == TRUE:
            break
    else:
        rest = fold(Not(Or(tuple(earlier)))) if earlier else TRUE
        if rest != FALSE:
            out.setdefault(policy.default_action, []).append(rest)
    return {a: fold(Or(tuple(cs))) for a, cs in out.items()}


def dump(policy: Policy) -> str:
    """*policy* in gosecco's language. Raises PolicyError for what it cannot state (more than
    two outcomes for a syscall, actions gosecco lacks)."""
    default = policy.default_action
    out = ["# gosecco policy written by python-seccomp",
           "DEFAULT_POSITIVE = allow",
           "DEFAULT_NEGATIVE = %s" % _action_text(default),
           "DEFAULT_POLICY = %s" % _action_text(default)]
    if policy.x32_action is not None:
        out.append("# ActionOnX32 = %s (a compile setting)" % _action_text(policy.x32_action))
    if policy.bad_arch_action is not None:
        out.append("# ActionOnAuditFailure = %s (a compile setting)"
                   % _action_text(policy.bad_arch_action))
    for name in policy.syscalls():
        try:
            outcomes = policy.outcomes(name)
        except _BeyondLibseccomp:  # arithmetic, arguments compared: gosecco states them
            out.append(_computed_rule(policy, name))
            continue
        if list(outcomes) == [default]:
            continue
        if len(outcomes) > 2:
            raise PolicyError(policy.source, "gosecco's language cannot state the rules for %s "
                                             "(more than two outcomes: %s)"
                              % (name, ", ".join(str(a) for a in outcomes)))
        if len(outcomes) == 1:
            (only,) = outcomes
            out.append("%s: return %s" % (name, _action_text(only)) if only.kind == "ERRNO"
                       else "%s[+%s]: 1" % (name, _action_text(only)))
            continue
        # the positive action gets the shorter condition; the other is what else happens
        positive, otherwise = sorted(outcomes, key=lambda a: (a != Action.ALLOW,
                                                                len(outcomes[a])))
        out.append("%s: %s" % (_rule_head(name, positive, otherwise, default),
                               _expr_text(outcomes[positive])))
    return "\n".join(out) + "\n"



def _rule_head(name: str, positive: Action, otherwise: Action, default: Action) -> str:
    """``name[+ACTION, -ACTION]``: the actions that are not gosecco's defaults for the line."""
    acts = []
    if positive != Action.ALLOW:
        acts.append("+" + _action_text(positive))
    if otherwise != default:
        acts.append("-" + _action_text(otherwise))
    return name + ("[%s]" % ", ".join(acts) if acts else "")


def _computed_rule(policy: Policy, name: str) -> str:
    """The line for a syscall whose conditions libseccomp cannot state (two outcomes at most,
    as for the others)."""
    outcomes = _computed_outcomes(policy, name)
    default = policy.default_action
    if len(outcomes) > 2:
        raise PolicyError(policy.rules_for(name)[0].place,
                          "gosecco's language cannot state the rules for %s (more than two "
                          "outcomes: %s)" % (name, ", ".join(str(a) for a in outcomes)))
    if len(outcomes) == 1:
        (only,) = outcomes
        return "%s[+%s]: 1" % (name, _action_text(only))
    positive, otherwise = sorted(outcomes, key=lambda a: (a != Action.ALLOW, a == default))
    head = _rule_head(name, positive, otherwise, default)
    try:
        return "%s: %s" % (head, _computed_text(outcomes[positive]))
    except PolicyError as exc:
        if exc.place:
            raise
        raise PolicyError(policy.rules_for(name)[0].place, "%s: %s" % (name, exc.reason)) \
            from None
