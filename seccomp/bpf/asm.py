"""Assemble classic BPF text into a seccomp program: the reverse of `disassemble`.

`assemble` reads what `seccomp.bpf.disassemble` writes (``assemble(disassemble(p)) == p``) and
hand-written programs in the same mnemonics::

    ; allow read and write, kill everything else
            ld [arch]
            jeq #x86_64, check, kill
    check:  ld [nr]
            jeq #read, allow, next
    next:   jeq #write, allow, kill
    allow:  ret ALLOW
    kill:   ret KILL_PROCESS

One instruction per line, optionally after a label (``name:``) or a listing's ``N:`` index
and raw columns. ``;`` starts a comment. Mnemonics: ``ld [K]`` (also ``[nr]``, ``[arch]``,
``[ip]``, ``[ip+4]``, ``[argN]``/``[argN+4]`` for the word at that offset), ``ld #K``,
``ld #len``, ``ld M[K]``, ``ldx #K``, ``ldx #len``, ``ldx M[K]``, ``st M[K]``, ``stx M[K]``,
``tax``, ``txa``, ``add sub mul div or and lsh rsh xor #K|x``, ``neg``, ``ja T``, ``jeq jgt
jge jset #K|x, T, F`` (T/F an instruction index or a label), ``ret #K``, ``ret a``, ``ret
ACTION``. An immediate is a number, an action (``ALLOW``, ``ERRNO(1)``, ...), an
architecture name (its AUDIT_ARCH token) or a syscall name (its number on *arch*).
"""
from __future__ import annotations

import re
import struct
from typing import Dict, List, Optional, Tuple, Union

from .._core import InvalidArgumentError, SeccompError
from .._enums import AUDIT_ARCH_LE, Action, Arch

__all__ = ["assemble"]

_ALU = {"add": 0x00, "sub": 0x10, "mul": 0x20, "div": 0x30, "or": 0x40, "and": 0x50,
        "lsh": 0x60, "rsh": 0x70, "xor": 0xa0}
_JMP = {"jeq": 0x10, "jgt": 0x20, "jge": 0x30, "jset": 0x40}
_LISTING = re.compile(r"^\s*(\d+):\s*(?:([0-9a-fA-F]{4}) ([0-9a-fA-F]{2}) ([0-9a-fA-F]{2}) "
                      r"([0-9a-fA-F]{8})\s+)?")
_LABEL = re.compile(r"^\s*([A-Za-z_.][A-Za-z0-9_.]*)\s*:(?!\S)")
_ACTION = re.compile(r"^([A-Z_]+)(?:\((\d+)\))?$")


class _Line:
    def __init__(self, number: int, text: str, raw: Optional[Tuple[int, int, int, int]]):
        self.number, self.text, self.raw = number, text, raw


def _error(line: int, reason: str) -> InvalidArgumentError:
    return InvalidArgumentError(22, "line %d: %s" % (line, reason))


def assemble(text: str, arch: Union[Arch, str, int, None] = None) -> bytes:
    """The BPF program *text* describes, as bytes in *arch*'s byte order (default native),
    checked as the kernel checks it. Errors name the line."""
    target = Arch.native() if arch is None else Arch(arch).resolved
    lines: List[_Line] = []
    labels: Dict[str, int] = {}
    for number, raw_line in enumerate(text.splitlines(), 1):
        body = raw_line.split(";", 1)[0]
        raw = None
        m = _LISTING.match(body)
        if m:
            if int(m.group(1)) != len(lines):
                raise _error(number, "instruction %s is at index %d" % (m.group(1), len(lines)))
            if m.group(2):
                raw = (int(m.group(2), 16), int(m.group(3), 16), int(m.group(4), 16),
                       int(m.group(5), 16))
            body = body[m.end():]
        while True:
            lm = _LABEL.match(body)
            if not lm or lm.group(1).lower() in _ALU or lm.group(1) in ("ld", "ldx", "ret"):
                break
            if lm.group(1) in labels:
                raise _error(number, "label %r defined twice" % lm.group(1))
            labels[lm.group(1)] = len(lines)
            body = body[lm.end():]
        if body.strip():
            lines.append(_Line(number, body.strip(), raw))
    if not lines:
        raise InvalidArgumentError(22, "no instructions")
    out = []
    for pc, ln in enumerate(lines):
        ins = _encode(ln, pc, labels, target)
        if ln.raw is not None and ln.raw != ins:
            raise _error(ln.number, "%r is %04x %02x %02x %08x, not the listed %04x %02x %02x "
                                    "%08x" % ((ln.text,) + ins + ln.raw))
        out.append(ins)
    big = not int(target) & AUDIT_ARCH_LE
    program = b"".join(struct.pack(">HBBI" if big else "<HBBI", *i) for i in out)
    from .emulator import check
    check(program, target)
    return program


def _encode(ln: _Line, pc: int, labels: Dict[str, int],
            arch: Arch) -> Tuple[int, int, int, int]:
    parts = ln.text.split(None, 1)
    op = parts[0].lower()
    rest = parts[1].strip() if len(parts) > 1 else ""
    n = ln.number
    if op in ("tax", "txa", "neg"):
        if rest:
            raise _error(n, "%s takes no operand" % op)
        return ({"tax": 0x07, "txa": 0x87, "neg": 0x84}[op], 0, 0, 0)
    if op in ("ld", "ldx"):
        x = op == "ldx"
        if rest == "#len":
            return (0x81 if x else 0x80, 0, 0, 0)
        if rest.startswith("M[") and rest.endswith("]"):
            return (0x61 if x else 0x60, 0, 0, _scratch(rest[2:-1], n))
        if rest.startswith("#"):
            return (0x01 if x else 0x00, 0, 0, _imm(rest[1:], n, arch))
        if rest.startswith("[") and rest.endswith("]") and not x:
            return (0x20, 0, 0, _offset(rest[1:-1], n))
        raise _error(n, "invalid operand %r for %s" % (rest, op))
    if op in ("st", "stx"):
        if rest.startswith("M[") and rest.endswith("]"):
            return (0x03 if op == "stx" else 0x02, 0, 0, _scratch(rest[2:-1], n))
        raise _error(n, "%s takes M[0-15]" % op)
    if op in _ALU:
        if rest == "x":
            return (0x04 | _ALU[op] | 0x08, 0, 0, 0)
        if rest.startswith("#"):
            return (0x04 | _ALU[op], 0, 0, _imm(rest[1:], n, arch))
        raise _error(n, "%s takes #K or x" % op)
    if op == "ret":
        if rest.lower() == "a":
            return (0x16, 0, 0, 0)
        return (0x06, 0, 0, _imm(rest[1:] if rest.startswith("#") else rest, n, arch))
    if op == "ja":
        return (0x05, 0, 0, _target(rest, pc, labels, n, 1 << 32))
    if op in _JMP:
        fields = [f.strip() for f in rest.split(",")]
        if len(fields) != 3:
            raise _error(n, "%s takes an operand and two targets: %s #K, TRUE, FALSE" % (op, op))
        src, t, f = fields
        if src == "x":
            code, k = 0x05 | _JMP[op] | 0x08, 0
        elif src.startswith("#"):
            code, k = 0x05 | _JMP[op], _imm(src[1:], n, arch)
        else:
            raise _error(n, "invalid operand %r (expected #K or x)" % src)
        return (code, _target(t, pc, labels, n, 256), _target(f, pc, labels, n, 256), k)
    raise _error(n, "unknown instruction %r" % parts[0])


def _number(text: str) -> Optional[int]:
    try:
        v = int(text, 0)
    except ValueError:
        return None
    return v & 0xFFFFFFFF if -(1 << 31) <= v < (1 << 32) else None


def _imm(text: str, line: int, arch: Arch) -> int:
    text = text.strip()
    v = _number(text)
    if v is not None:
        return v
    m = _ACTION.match(text)
    if m:
        name, data = m.group(1), m.group(2)
        if data is not None and name in ("ERRNO", "TRACE"):
            try:
                return int(getattr(Action, name)(int(data)))
            except SeccompError as exc:  # out of the 16 bits of an action's data
                raise _error(line, str(exc.strerror or exc)) from None
        members = Action.members()
        if data is None and name in members:
            return int(members[name])
        if name == "KILL":
            return int(Action.KILL)
    try:
        return int(Arch(text)) if text.lower() != "native" else int(Arch.native())
    except (SeccompError, ValueError, TypeError):
        pass
    from .._core import syscall_resolve_name
    try:
        nr = syscall_resolve_name(text, arch)
    except SeccompError:
        nr = -1
    if nr >= 0:
        return nr
    raise _error(line, "%r is not a number, an action, an architecture or a syscall of %s"
                 % (text, arch))


_FIELDS = {"nr": 0, "arch": 4, "ip": 8, "ip+4": 12}


def _offset(text: str, line: int) -> int:
    t = text.replace(" ", "")
    if t in _FIELDS:
        return _FIELDS[t]
    m = re.match(r"arg([0-5])(\+4)?\Z", t)
    if m:
        return 16 + 8 * int(m.group(1)) + (4 if m.group(2) else 0)
    v = _number(t)
    if v is None:
        raise _error(line, "invalid load offset %r" % text)
    return v


def _scratch(text: str, line: int) -> int:
    v = _number(text.strip())
    if v is None or v > 15:
        raise _error(line, "scratch memory is M[0] to M[15], not M[%s]" % text)
    return v


def _target(text: str, pc: int, labels: Dict[str, int], line: int, limit: int) -> int:
    text = text.strip()
    if text in labels:
        dest = labels[text]
    else:
        v = _number(text)
        if v is None:
            raise _error(line, "unknown label %r" % text)
        dest = v
    offset = dest - pc - 1
    if not 0 <= offset < limit:
        raise _error(line, "jump target %s is %s" % (
            text, "behind the jump (BPF jumps forward only)" if offset < 0 else "too far"))
    return offset
