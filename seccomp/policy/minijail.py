"""Minijail's ``.policy`` files (Chrome OS, Android, crosvm): read and write.

Follows minijail0(5) ("SECCOMP_FILTER POLICY" and "SECCOMP_FILTER SYNTAX")::

    # comment
    read: 1
    open: arg1 == O_RDONLY || arg1 & O_NONBLOCK
    mmap: arg2 in ~PROT_EXEC || arg2 in ~PROT_WRITE
    ioctl: arg1 == TCGETS; return ENOTTY
    kill: return EPERM
    @include ./common.policy

A line ``name: expr`` allows the syscall when the expression (``||`` of ``&&`` of atoms
``argN OP VALUE``, OP one of ``== != < <= > >= & in``) holds; otherwise the default action
(kill the process) applies, or with ``; return ERRNO`` that errno. ``&`` means "any of these
flags is set", ``in`` "no flag outside these is set". A VALUE is a number, a named constant
(`seccomp.policy.constants`), ``|`` of them, ``~`` and parentheses. Also accepted, from
minijail's policy compiler: ``@default ACTION``, ``@denylist``, ``@frequency FILE`` (a
performance hint, read and otherwise ignored), ``{a, b}: ...`` for several syscalls, a syscall
number instead of a name, actions ``allow trap log trace kill kill-process kill-thread
user-notify`` and ``name: expr; ACTION``. Lines end with ``\\`` to continue.
"""
from __future__ import annotations

import errno as _errno
import os
import re
from typing import Dict, List, Optional, Sequence, Tuple

from .._enums import AUDIT_ARCH_64BIT, LARGEST_ERRNO, Action, Arch
from .._errors import IncludeFallbackWarning
from . import constants
from .model import (TRUE, And, Arg, Atom, BinOp, Cmp, Expr, Num, Or, Place, Policy,
                    PolicyError, Rule, U64, _bits, scan_tokens, unknown_syscall)

__all__ = ["parse", "load", "dump", "looks_like", "IncludeFallbackWarning"]

# One token after optional blanks; "bad" is a character that starts no token.
_TOKEN = re.compile(r"""
    \s*(?:
    (?P<num>-?0[xX][0-9a-fA-F]+|-?0[0-7]+|-?[0-9]+)
  | (?P<op>==|!=|<=|>=|<|>|&&|\|\||&|\||~|\(|\)|\{|\}|\[|\]|,|;|:|=)
  | (?P<word>@?[a-zA-Z_][a-zA-Z_0-9@-]*)
  | (?P<path>\.?/\S+)
  | (?P<bad>.))
""", re.VERBOSE | re.DOTALL)
_ARG = re.compile(r"arg([0-9]+)\Z")
_ARGS = [Arg(i) for i in range(6)]

_MAX_SIZE = 16 << 20
_MAX_INCLUDE_DEPTH = 10  # minijail's policy compiler's limit (its C parser allows one level)

_ACTIONS = {"allow": Action.ALLOW, "kill-process": Action.KILL_PROCESS,
            "kill-thread": Action.KILL_THREAD, "kill": Action.KILL_PROCESS, "trap": Action.TRAP,
            "trace": Action.TRACE(0), "log": Action.LOG, "user-notify": Action.NOTIFY}
_DEFAULT_ACTIONS = ("kill-process", "kill-thread", "kill", "trap", "user-notify")
_CMP_OPS = ("==", "!=", "<", "<=", ">", ">=", "&", "in")


class _Line:
    """A logical line as tokens: kinds, texts and 1-based columns, each list ending with an
    end marker ("", "", the column after the text) so that looking ahead needs no check."""

    def __init__(self, text: str, file: str, number: int) -> None:
        self.text, self.file, self.number = text, file, number
        kinds, texts, cols = scan_tokens(_TOKEN, text, file, number)
        self.n = len(texts) - 1  # without the end marker
        self.kinds, self.texts, self.cols = kinds, texts, cols
        self.i = 0

    def place(self, i: Optional[int] = None) -> Place:
        return Place(self.file, self.number, self.cols[self.i if i is None else i])

    def peek(self) -> str:
        return self.texts[self.i]

    def kind(self) -> str:
        return self.kinds[self.i]

    def take(self, what: str = "") -> str:
        if self.i >= self.n:
            raise PolicyError(self.place(), "unexpected end of line%s"
                              % (" (expected %s)" % what if what else ""))
        tok = self.texts[self.i]
        if what and tok != what and what in ":;,()[]{}=":
            raise PolicyError(self.place(), "expected %r, found %r" % (what, tok))
        self.i += 1
        return tok

    def error(self, reason: str, i: Optional[int] = None) -> PolicyError:
        return PolicyError(self.place(i), reason)


def _logical_lines(text: str, file: str) -> List[_Line]:
    out = []
    pending = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line.strip():
            out.append(_Line(line, file, start))
    if pending.strip():
        out.append(_Line(pending, file, start))
    return out


class _Parser:
    def __init__(self, arch: Arch) -> None:
        self.arch = arch
        self.bits = 64 if int(arch) & AUDIT_ARCH_64BIT else 32
        self.mask = (1 << self.bits) - 1
        self.default: Action = Action.KILL_PROCESS
        self.denylist = False
        self.rules: List[Rule] = []
        # where each syscall got its unconditional action, and which
        self.final: Dict[str, Tuple[Place, Action]] = {}

    # -- values ---------------------------------------------------------------------------

    def _number(self, tok: str) -> int:
        if tok[0] != "0" and tok.isdigit():  # decimal, the common case
            return int(tok) & self.mask
        neg = tok.startswith("-")
        body = tok[1:] if neg else tok
        if body[:2].lower() == "0x":
            v = int(body, 16)
        elif len(body) > 1 and body.startswith("0"):
            v = int(body, 8)
        else:
            v = int(body)
        return self._wrap(-v if neg else v)

    def _wrap(self, v: int) -> int:
        return v & self.mask

    def _single(self, ln: _Line) -> int:
        i = ln.i
        kind, tok = ln.kinds[i], ln.take("a value")
        if kind == "num":
            return self._number(tok)
        if kind == "word":
            v = constants.lookup(tok, str(self.arch))
            if v is None:
                raise ln.error("unknown constant %r" % tok, i)
            return self._wrap(v)
        raise ln.error("expected a number or a constant, found %r" % tok, i)

    def _constant(self, ln: _Line) -> int:
        invert = False
        if ln.peek() == "~":
            ln.take()
            invert = True
        if ln.peek() == "(":
            ln.take()
            v = self._value(ln)
            ln.take(")")
        else:
            v = self._single(ln)
        return self._wrap(~v) if invert else v

    def _value(self, ln: _Line) -> int:
        i = ln.i
        if ln.kinds[i] == "num" and ln.texts[i + 1] != "|":  # a number alone, the common case
            ln.i = i + 1
            return self._number(ln.texts[i])
        v = self._constant(ln)
        while ln.peek() == "|":
            ln.take()
            v |= self._constant(ln)
        return v

    # -- expressions ------------------------------------------------------------------------

    def _atom(self, ln: _Line) -> Expr:
        i = ln.i
        tok = ln.take("an argument")
        m = _ARG.match(tok)
        if not m or int(m.group(1)) > 5:
            raise ln.error("invalid argument %r (arg0 to arg5)" % tok, i)
        arg = _ARGS[int(m.group(1))]
        op_i = ln.i
        op = ln.take("an operator")
        if op not in _CMP_OPS:
            raise ln.error("invalid operator %r (expected one of %s)"
                           % (op, " ".join(_CMP_OPS)), op_i)
        value = self._value(ln)
        pos = ln.place(i)
        if op == "&":
            return Cmp("!=", BinOp("&", arg, Num(value)), Num(0), pos)
        if op == "in":
            return Cmp("==", BinOp("&", arg, Num(~value & U64)), Num(0), pos)
        return Cmp(op, arg, Num(value), pos)

    def _expression(self, ln: _Line) -> Expr:
        clauses: List[Expr] = []
        while True:
            atoms = [self._atom(ln)]
            while ln.peek() == "&&":
                ln.take()
                atoms.append(self._atom(ln))
            clauses.append(atoms[0] if len(atoms) == 1 else And(tuple(atoms)))
            if ln.peek() != "||":
                break
            ln.take()
        return clauses[0] if len(clauses) == 1 else Or(tuple(clauses))

    def _action(self, ln: _Line) -> Action:
        i = ln.i
        tok = ln.take("an action")
        if tok == "return":
            j = ln.i
            kind, val = ln.kind(), ln.take("an errno")
            if kind == "word":
                code = constants.errno_number(val)
                if code is None:
                    raise ln.error("unknown errno %r" % val, j)
            elif kind == "num":
                code = self._number(val)
            else:
                raise ln.error("expected an errno after return, found %r" % val, j)
            if not 0 <= code <= LARGEST_ERRNO:
                raise ln.error("errno %s is out of range 0-%d" % (val, LARGEST_ERRNO), j)
            return Action.ERRNO(code)
        if self.denylist:
            raise ln.error("a @denylist policy must give 'return ERRNO' on every line", i)
        if tok == "1":
            return Action.ALLOW
        if tok in _ACTIONS:
            return _ACTIONS[tok]
        raise ln.error("invalid action %r" % tok, i)

    # -- statements -------------------------------------------------------------------------

    def _syscall_names(self, ln: _Line) -> List[Tuple[str, Place]]:
        names = []
        group = ln.peek() == "{"
        if group:
            ln.take()
        while True:
            i = ln.i
            kind, tok = ln.kind(), ln.take("a syscall name")
            if kind == "num":
                from .._core import syscall_resolve_num
                try:
                    tok = syscall_resolve_num(self._number(tok), self.arch)
                except Exception:
                    raise ln.error("no syscall number %s on %s" % (tok, self.arch), i) from None
            elif kind != "word" or tok.startswith("@"):
                raise ln.error("invalid syscall name %r" % tok, i)
            elif tok.startswith("ARM_"):
                tok = _arm_private(tok, self.arch)
            else:
                reason = unknown_syscall(tok)
                if reason:
                    raise ln.error(reason, i)
            keep = True
            if ln.peek() == "[":
                keep = self._metadata(ln)
            if keep:
                names.append((tok, ln.place(i)))
            if not group or ln.peek() != ",":
                break
            ln.take()
        if group:
            ln.take("}")
        return names

    def _metadata(self, ln: _Line) -> bool:
        ln.take("[")
        keep = True
        while True:
            i = ln.i
            key = ln.take("a key")
            ln.take("=")
            values = [ln.take("a value")]
            while ln.peek() == ",":
                ln.take()
                values.append(ln.take("a value"))
            if key != "arch":
                raise ln.error("unknown metadata key %r (minijail knows 'arch')" % key, i)
            keep = str(self.arch) in values or any(_same_arch(v, self.arch) for v in values)
            if ln.peek() != ";":
                break
            ln.take()
        ln.take("]")
        return keep

    def _statement(self, ln: _Line) -> None:
        names = self._syscall_names(ln)
        ln.take(":")
        filters: List[Tuple[Expr, Action, Place]] = []
        braced = ln.peek() == "{"
        if braced:
            ln.take()
        while True:
            start = ln.place()
            if ln.peek().startswith("arg"):
                expr = self._expression(ln)
                filters.append((expr, Action.ALLOW, start))
                if ln.peek() == ";":
                    ln.take()
                    filters.append((TRUE, self._action(ln), ln.place()))
            else:
                filters.append((TRUE, self._action(ln), start))
            if not braced or ln.peek() != ",":
                break
            ln.take()
        if braced:
            ln.take("}")
        if ln.i < ln.n:
            raise ln.error("unexpected %r after the rule" % ln.peek())
        for name, place in names:
            # minijail's policy compiler (the one crosvm and Chrome OS build with) joins the
            # statements of a syscall in order. Nothing after an unconditional action can
            # decide: that compiler refuses it; the C parser, as Android builds it
            # (ALLOW_DUPLICATE_SYSCALLS), warns and keeps the first definition, as here
            # (Android's mediaextractor policies repeat lines of the files they @include)
            final = self.final.get(name)
            if final is not None:
                if [(e, a) for e, a, _ in filters] != [(TRUE, final[1])]:  # not a plain repeat
                    import warnings
                    warnings.warn("%s: syscall %s already had an unconditional action applied "
                                  "(at %s): this statement never decides, ignored"
                                  % (place, name, final[0]), stacklevel=2)
                continue
            for expr, action, pos in filters:
                self.rules.append(Rule(name, expr, action, pos))
                if expr is TRUE:
                    self.final[name] = (pos, action)

    def parse_text(self, text: str, file: str, depth: int = 0) -> None:
        for ln in _logical_lines(text, file):
            head = ln.peek()
            if head == "@include":
                ln.take()
                i = ln.i
                path = ln.take("a path")
                if not path.startswith(("/", "./")):
                    raise ln.error("@include needs an absolute path or one starting with ./", i)
                if depth >= _MAX_INCLUDE_DEPTH:
                    raise ln.error("@include statement nested too deep (more than %d levels)"
                                   % _MAX_INCLUDE_DEPTH, i - 1)
                full = _resolve(path, file, ln.place(i))
                try:
                    with open(full, "rb") as fh:
                        included = fh.read(_MAX_SIZE + 1).decode("utf-8", errors="replace")
                    if len(included) > _MAX_SIZE:
                        raise ln.error("cannot @include %s: larger than 16 MiB" % path, i)
                except OSError as exc:
                    raise ln.error("cannot @include %s: %s" % (path, exc.strerror), i) from None
                self.parse_text(included, full, depth + 1)
            elif head == "@frequency":
                ln.take()
                i = ln.i
                path = ln.take("a path")
                if not os.path.isfile(_resolve(path, file, ln.place(i))):
                    raise ln.error("cannot open frequency file %s" % path, i)
            elif head == "@default":
                ln.take()
                i = ln.i
                tok = ln.take("an action")
                if tok not in _DEFAULT_ACTIONS:
                    raise ln.error("invalid default action %r (expected one of %s)"
                                   % (tok, ", ".join(_DEFAULT_ACTIONS)), i)
                self.default = _ACTIONS[tok]
            elif head == "@denylist":
                ln.take()
                self.denylist = True
                self.default = Action.ALLOW
            else:
                self._statement(ln)
                continue
            if ln.i < ln.n:
                raise ln.error("unexpected %r" % ln.peek())


def _arm_private(name: str, arch: Arch) -> str:
    """libseccomp's name for minijail's ``ARM_set_tls`` (ARM's private syscalls,
    ``__ARM_NR_set_tls``, as ChromeOS's arm policies allow them): ``set_tls``."""
    if arch != Arch.ARM:
        return name
    from .._core import syscall_resolve_name
    try:
        syscall_resolve_name(name[4:], arch)
    except Exception:
        return name
    return name[4:]


def _same_arch(name: str, arch: Arch) -> bool:
    try:
        return Arch(name) == arch
    except Exception:
        return False


def _resolve(path: str, including: str, place: Place) -> str:
    """An @include path: relative to the including file's directory when the file is there,
    else to the working directory (minijail0(5): "relative to CWD"). An absolute path that
    does not exist, where the including file's directory has a file of the same name, is read
    from there with a warning: policies name their installed place (crosvm's
    ``/usr/share/policy/crosvm/common_device.policy``), which their build rewrites to ``./``."""
    beside = ""
    if including and not including.startswith("<"):
        beside = os.path.join(os.path.dirname(including), os.path.basename(path))
    if os.path.isabs(path):
        if not os.path.exists(path) and beside and os.path.isfile(beside):
            import warnings
            warnings.warn("%s: @include %s: no such file; reading %s beside the including "
                          "file instead" % (place, path, os.path.normpath(beside)),
                          IncludeFallbackWarning, stacklevel=2)
            return os.path.normpath(beside)
        return path
    if including and not including.startswith("<"):
        beside = os.path.join(os.path.dirname(including), path)
        if os.path.exists(beside):
            return os.path.normpath(beside)
    return os.path.normpath(path)


def parse(text: str, *, file: str = "<policy>", arch: Optional[Arch] = None) -> Policy:
    """A minijail policy from its text (*file* names it in errors and anchors @include)."""
    p = _Parser(Arch.native() if arch is None else Arch(arch).resolved)
    p.parse_text(text, file)
    return Policy(p.default, tuple(p.rules), source=file)


def load(path: str, *, arch: Optional[Arch] = None) -> Policy:
    """A minijail policy from a file."""
    with open(path, "rb") as fh:
        text = fh.read(_MAX_SIZE + 1).decode("utf-8", errors="replace")
    if len(text) > _MAX_SIZE:
        raise PolicyError(Place(path), "the policy is larger than 16 MiB")
    return parse(text, file=path, arch=arch)


_SYSCALL_LINE = re.compile(r"^\s*(\{[^}]*\}|[a-zA-Z_0-9]+)\s*(\[[^\]]*\])?\s*:", re.M)


def looks_like(text: str) -> bool:
    """Whether *text* reads as a minijail policy rather than a gosecco one."""
    for line in text.splitlines():
        s = line.split("#", 1)[0].strip()
        if not s:
            continue
        if s.startswith("@"):
            return True
        if re.search(r"\bargH?L?[0-5]\b.*\b(argH|argL)", s) or re.search(r"\b(argH|argL)[0-5]", s):
            return False
        if re.search(r"\bin\s*\(|\bnotIn\s*\(|^\s*[A-Za-z_]\w*\s*(\([^)]*\))?\s*=[^=]", s):
            return False
        if re.search(r"^\s*\w+\s*\[[+-]", s):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

_ACTION_WORDS = {int(Action.ALLOW): "allow", int(Action.KILL_PROCESS): "kill-process",
                 int(Action.KILL_THREAD): "kill-thread", int(Action.TRAP): "trap",
                 int(Action.LOG): "log", int(Action.NOTIFY): "user-notify",
                 int(Action.TRACE(0)): "trace"}


def _action_text(a: Action) -> str:
    if a.kind == "ERRNO":
        return "return %s" % _errno.errorcode.get(a.data or 0, str(a.data))
    word = _ACTION_WORDS.get(int(a))
    if word is None:
        raise PolicyError(None, "minijail's format has no action %s" % a)
    return word


def _num(v: int) -> str:
    return str(v) if v < 4096 else "0x%x" % v


def _atom_texts(a: Atom) -> List[str]:
    """Alternatives (joined by ||) of conjunctions (&&) of minijail atoms for one atom."""
    arg = "arg%d" % a.index
    if not a.half and a.mask is None:
        return ["%s %s %s" % (arg, a.op, _num(a.value))]
    if not a.half and a.mask is not None and a.value == 0:
        if a.op == "==":
            return ["%s in %s" % (arg, _num(~a.mask & U64))]
        if a.op == "!=":
            return ["%s & %s" % (arg, _num(a.mask))]
    out = []
    for m, v in a.patterns():
        parts = []
        if m & ~v & U64:
            parts.append("%s in %s" % (arg, _num(~(m & ~v) & U64)))
        parts += ["%s & %s" % (arg, _num(b)) for b in _bits(v)]
        out.append(" && ".join(parts) if parts else "")
    return out


def _conj_texts(conj: Sequence[Atom]) -> List[str]:
    out = [""]
    for a in conj:
        alts = _atom_texts(a)
        out = [" && ".join(x for x in (left, right) if x) for left in out for right in alts]
    return out


def dump(policy: Policy) -> str:
    """*policy* as a minijail policy. Raises PolicyError for what the format cannot state
    (more than two outcomes for one syscall besides the default, a default action other than
    the kill/trap/notify ones or ALLOW)."""
    out = ["# minijail seccomp policy written by python-seccomp"]
    default = policy.default_action
    if default == Action.ALLOW:
        out.append("@denylist")
    elif int(default) in (int(Action.KILL_THREAD), int(Action.TRAP), int(Action.NOTIFY)):
        out.append("@default %s" % _ACTION_WORDS[int(default)])
    elif default != Action.KILL_PROCESS:
        raise PolicyError(policy.source, "minijail's format cannot make %s the default action"
                          % default)
    for name in policy.syscalls():
        outcomes = policy.outcomes(name)
        if list(outcomes) == [default]:
            continue
        if len(outcomes) > 2 or len(outcomes) == 2 and Action.ALLOW not in outcomes:
            raise PolicyError(policy.source, "minijail's format cannot state the rules for %s "
                                             "(actions %s: at most ALLOW and one other)"
                              % (name, ", ".join(str(a) for a in outcomes)))
        others = [a for a in outcomes if a != Action.ALLOW]
        otherwise = others[0] if others else Action.ALLOW
        if default == Action.ALLOW and otherwise.kind != "ERRNO":
            raise PolicyError(policy.source, "a minijail @denylist policy can only make "
                                             "syscalls fail with an errno (%s)" % name)
        conjs = outcomes.get(Action.ALLOW, []) if len(outcomes) == 2 else []
        if not conjs:
            out.append("%s: %s" % (name, "1" if otherwise == Action.ALLOW
                                   else _action_text(otherwise)))
            continue
        texts = [t for c in conjs for t in _conj_texts(c)]
        line = "%s: %s" % (name, " || ".join(texts))
        if otherwise != default:
            line += "; %s" % _action_text(otherwise)
        out.append(line)
    return "\n".join(out) + "\n"
