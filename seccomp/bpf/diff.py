"""What changes between two filters or profiles: per architecture and syscall, which argument
values get which action in A and in B::

    d = seccomp.bpf.diff.diff("default", "my-profile.json")
    if d:
        print(d.text())

Either side is a profile (a `seccomp.profile.Profile`, a path, a built-in name), a
`seccomp.Filter`, or BPF (bytes, or a file such as ``seccomp export --format bpf`` or
``seccomp dump --format bpf`` writes). Profiles are compiled for the target (*arch*, *caps*,
*kernel*, as `Profile.compile`); both programs are then compared on every architecture either
one covers. The symbolic explainer (`seccomp.bpf.explain`) says which syscalls depend on which
arguments; for those, the values each program compares those arguments with, and their
neighbours, are evaluated in both with the emulator, so every argument class either program
tells apart is compared.
"""
from __future__ import annotations

import errno as _errno
import itertools
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Set, Tuple, Union

from .._errors import InvalidArgumentError
from .._enums import AUDIT_ARCH_LE, Action, Arch
from .analysis import arches_checked, explain
from .emulator import TABLE_SPAN, _program, _target, evaluate_many, table_base

__all__ = ["diff", "Diff", "Change", "load_program"]

_WORD = 0xFFFFFFFF
#: Argument points evaluated per syscall before the comparison varies one argument at a time.
MAX_POINTS = 20000

ArchLike = Union[Arch, str, int, None]


@dataclass(frozen=True)
class Change:
    """One difference: on *arch*, *syscall* (a name, or ``#N`` / ``#N-#M`` for numbers
    libseccomp has no name for) gets action *a* in A and *b* in B, for the argument values
    *args* (``(index, value)`` pairs of the arguments either program tests; empty: whatever
    the arguments are)."""

    arch: Arch
    syscall: str
    number: int
    args: Tuple[Tuple[int, int], ...]
    a: Action
    b: Action

    def to_dict(self) -> Dict[str, Any]:
        """The change as JSON data."""
        return {"arch": str(self.arch), "syscall": self.syscall, "number": self.number,
                "args": {str(i): v for i, v in self.args} if self.args else None,
                "a": str(self.a), "b": str(self.b)}


@dataclass
class Diff:
    """`diff`'s answer: the architectures compared and every change (empty: the two do the
    same). True when they differ."""

    arches: Tuple[Arch, ...]
    changes: List[Change] = field(default_factory=list)
    #: Syscalls compared one argument at a time (too many argument classes to combine).
    sampled: List[Tuple[Arch, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes)

    def text(self) -> str:
        """One line per change: architecture, syscall, argument values, A's and B's action;
        syscalls whose actions change the same way whatever the arguments share a line."""
        if not self.changes:
            return "no difference on %s\n" % ", ".join(map(str, self.arches))
        groups: Dict[Tuple[Arch, Action, Action], List[str]] = {}
        for c in self.changes:
            if not c.args:
                groups.setdefault((c.arch, c.a, c.b), []).append(c.syscall)
        rows = []
        done: Set[Tuple[Arch, Action, Action]] = set()
        for c in self.changes:
            key = (c.arch, c.a, c.b)
            if not c.args and len(groups[key]) > 3:
                if key not in done:
                    done.add(key)
                    names = groups[key]
                    rows.append("%-8s %d syscalls: A: %s, B: %s: %s" % (
                        c.arch, len(names), c.a, c.b, " ".join(names)))
                continue
            args = " ".join("args[%d]=0x%x" % (i, v) for i, v in c.args) or "any arguments"
            rows.append("%-8s %-22s %-36s A: %-14s B: %s" % (c.arch, c.syscall, args, c.a, c.b))
        notes = ["note: %s %s compared one argument at a time" % (a, s)
                 for a, s in self.sampled]
        return "\n".join(rows + notes) + "\n"

    def to_dict(self) -> Dict[str, Any]:
        """The diff as JSON data."""
        return {"arches": [str(a) for a in self.arches],
                "changes": [c.to_dict() for c in self.changes],
                "sampled": [{"arch": str(a), "syscall": s} for a, s in self.sampled]}


# ---------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------

def load_program(source: object, *, arch: ArchLike = None,
                 caps: Optional[Iterable[str]] = None,
                 kernel: Union[str, Tuple[int, ...], None] = None, enosys: bool = True,
                 thread: Optional[str] = None) -> Tuple[bytes, Tuple[Arch, ...]]:
    """The BPF program *source* stands for, for target *arch*, and the architectures it
    covers. *source*: a Profile, a `seccomp.policy` Policy, a Filter, BPF bytes, a built-in
    profile name, or a path (containing '/') of a profile, of a policy in another format
    `seccomp.policy` reads (a minijail policy is read for *arch*, whose constants it uses;
    *thread* picks the category of a seccompiler file, or the SeccompProfile resource, of a
    file that has several; a file of one filter ignores it) or of BPF. Profiles
    are built as `Profile.compile` builds them, for *caps* (default: an unprivileged
    container's, or a config.json's bounding set), *kernel* and *enosys*."""
    from .. import profile as _profile
    from .._filter import Filter

    target = Arch.native() if arch is None else Arch(arch).resolved
    if isinstance(source, (bytes, bytearray, memoryview)):
        program = bytes(source)
        _program(program, _target(target))  # the kernel's checks, with its reason
        same_order = [a for a in arches_checked(program)
                      if bool(int(a) & AUDIT_ARCH_LE) == bool(int(target) & AUDIT_ARCH_LE)]
        return program, tuple(same_order) or (target,)
    if source == _profile.UNCONFINED:  # a bare name: never a file in the working directory
        # no filter: every syscall runs, as under a program that allows them all
        return _allow_all(target), (target,)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        source = _read(path, target, thread)
        if isinstance(source, bytes):
            try:
                return load_program(source, arch=target)
            except InvalidArgumentError as exc:  # which of the two files it is
                raise InvalidArgumentError(exc.errno or _errno.EINVAL, "%s: %s"
                                           % (path, exc.strerror or exc)) from None
    if isinstance(source, Filter):
        program = source.export_bpf()
        return program, tuple(source.arches)
    if isinstance(source, _profile.Profile):
        flt = source.compile(arch=target, kernel=kernel, enosys=enosys,
                             caps=None if caps is None else _profile.parse_caps(caps))
    elif callable(getattr(source, "compile", None)):  # a seccomp.policy.Policy
        flt = getattr(source, "compile")(arch=target)
    else:
        flt = None
    if isinstance(flt, Filter):
        try:
            return flt.export_bpf(), tuple(flt.arches)
        finally:
            flt.release()
    raise TypeError("a filter to compare is a Profile, a Policy, a Filter, BPF bytes or a "
                    "path, not %s" % type(source).__name__)


def _allow_all(arch: Arch) -> bytes:
    """``ret ALLOW`` in *arch*'s byte order: what 'unconfined', no filter at all, does."""
    import struct

    little = bool(int(arch) & AUDIT_ARCH_LE)
    return struct.pack("<HBBI" if little else ">HBBI", 0x06, 0, 0, int(Action.ALLOW))


def _read(path: str, arch: Arch, thread: Optional[str]) -> object:
    """A profile, a policy of another format (read for *arch*), or BPF bytes, from *path*;
    a bare name (no '/') is a built-in profile, as everywhere else."""
    from .. import policy as _policy
    from .. import profile as _profile

    if path == "-":
        path = "/dev/stdin"  # as explain reads a BPF file
    if os.sep not in path:
        return _profile.load(path)  # a built-in name, or an error saying how to name a file
    from ..profile.parse import MAX_PROFILE_BYTES

    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_PROFILE_BYTES + 1)  # bounded: /dev/zero is a path too
    except OSError as exc:
        raise InvalidArgumentError(exc.errno or _errno.EIO, "cannot read %s: %s"
                                   % (path, exc.strerror)) from None
    if len(data) > MAX_PROFILE_BYTES:
        raise InvalidArgumentError(_errno.EFBIG, "%s is larger than %d MiB"
                                   % (path, MAX_PROFILE_BYTES >> 20))
    if b"\0" in data:  # BPF: every instruction of a real program has zero bytes
        return data
    # parsed from the bytes read once: a pipe (``<(...)``) has nothing left to read again
    text = data.decode("utf-8", errors="replace")
    fmt = _policy.detect(text, path)
    # *thread* picks one filter of a file that holds several (the other side may hold one)
    if fmt == "oci":  # JSON or a SeccompProfile resource in YAML: the reader says what is wrong
        from ..profile.parse import _decode, _from_data
        data = _decode(text, path)
        several = isinstance(data, dict) and isinstance(data.get("items"), list)
        return _from_data(data, path, thread if several else None)
    # an empty file: a PolicyError
    policies = _policy._load_all(text, path, text, fmt,
                                 {"arch": arch} if fmt == "minijail" else {})
    return _policy._choose(policies, thread if len(policies) > 1 else None)


# ---------------------------------------------------------------------------------------------
# Argument classes
# ---------------------------------------------------------------------------------------------

def _tests(program: bytes, arch: Arch, nr: int) -> Dict[int, Set[int]]:
    """The 32-bit values worth trying for each seccomp_data word (by offset, 8 and up) that
    *program* compares, on the path of syscall *nr*: each constant and a neighbour on the
    other side of the comparison, 0 and all ones."""
    t = _target(arch)
    c = _program(program, t)
    n = len(c)
    out: Dict[int, Set[int]] = {}
    seen: Set[Tuple[int, Any]] = set()
    # A is a concrete value, or ("w", offset, mask): word at offset AND mask, or None: unknown
    stack: List[Tuple[int, Any]] = [(0, 0)]
    while stack:
        state = stack.pop()
        if state in seen or len(seen) > 20000:
            continue
        seen.add(state)
        pc, a = state
        if pc >= n:
            continue
        code, jt, jf, k = c.instruction(pc)
        cls = code & 0x07
        if code == 0x20:
            a = nr if k == 0 else t.audit_arch if k == 4 else ("w", k, _WORD)
            if k >= 8:
                out.setdefault(k, set()).update((0, _WORD))
            stack.append((pc + 1, a))
        elif cls == 0x06:
            continue
        elif cls == 0x05:
            if code == 0x05:
                stack.append((pc + 1 + k, a))
                continue
            if isinstance(a, tuple) and not code & 0x08:
                _, offset, mask = a
                out.setdefault(offset, set()).update(_neighbours(code & 0xF0, k, mask))
                stack.append((pc + 1 + jt, a))
                stack.append((pc + 1 + jf, a))
            elif isinstance(a, int) and not code & 0x08:
                op = code & 0xF0
                taken = (a == k if op == 0x10 else a > k if op == 0x20 else
                         a >= k if op == 0x30 else bool(a & k))
                stack.append((pc + 1 + (jt if taken else jf), a))
            else:
                stack.append((pc + 1 + jt, None))
                stack.append((pc + 1 + jf, None))
        elif cls == 0x04 and isinstance(a, tuple) and code == 0x54:  # and #k
            stack.append((pc + 1, ("w", a[1], a[2] & k)))
        elif cls == 0x04 and isinstance(a, int) and not code & 0x08 and code != 0x84:
            stack.append((pc + 1, _alu(code, a, k)))
        elif cls in (0x00, 0x04) or code == 0x87:
            stack.append((pc + 1, None))  # a value this analysis does not follow
        else:
            stack.append((pc + 1, a))
    return out


def _alu(code: int, a: int, k: int) -> Optional[int]:
    op = code & 0xF0
    if op == 0x30 and k == 0:
        return None
    return {0x00: a + k, 0x10: a - k, 0x20: a * k, 0x30: a // max(k, 1), 0x40: a | k,
            0x50: a & k, 0xA0: a ^ k, 0x60: a << (k & 31), 0x70: a >> (k & 31)}.get(op, 0) & _WORD


def _neighbours(op: int, k: int, mask: int) -> Set[int]:
    low_bit = mask & -mask if mask else 1
    if op == 0x10:  # jeq: the value, and one that differs in a bit the comparison sees
        return {k & mask, (k & mask) ^ low_bit}
    if op == 0x20:  # jgt
        return {k, min(k + 1, _WORD)}
    if op == 0x30:  # jge
        return {k, max(k - 1, 0)}
    return {k & mask, 0, mask}  # jset


def _arg_values(words: Dict[int, Set[int]], big_endian: bool) -> Dict[int, List[int]]:
    """Candidate 64-bit values per argument index (index 6: the instruction pointer)."""
    out: Dict[int, List[int]] = {}
    for index in range(7):
        base = 8 if index == 6 else 16 + 8 * index
        lo_off, hi_off = (base + 4, base) if big_endian else (base, base + 4)
        if lo_off not in words and hi_off not in words:
            continue
        lows = sorted(words.get(lo_off, {0}))
        highs = sorted(words.get(hi_off, {0}))
        out[index] = sorted({(h << 32) | lo for h in highs for lo in lows})
    return out


def _points(values: Dict[int, List[int]]) -> Tuple[List[Tuple[int, ...]], bool]:
    """Argument tuples (6 args + ip) covering every combination, or one argument at a time
    when there would be more than MAX_POINTS (then the flag is True)."""
    indexes = sorted(values)
    total = 1
    for i in indexes:
        total *= len(values[i])
    out: List[Tuple[int, ...]] = []
    if total <= MAX_POINTS:
        for combo in itertools.product(*(values[i] for i in indexes)):
            point = [0] * 7
            for i, v in zip(indexes, combo):
                point[i] = v
            out.append(tuple(point))
        return out, False
    for i in indexes:
        for v in values[i]:
            point = [0] * 7
            point[i] = v
            out.append(tuple(point))
    return out, True


# ---------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------

def diff(a: object, b: object, *, arch: ArchLike = None, caps: Optional[Iterable[str]] = None,
         kernel: Union[str, Tuple[int, ...], None] = None, enosys: bool = True,
         arches: Optional[Sequence[ArchLike]] = None, thread: Optional[str] = None) -> Diff:
    """Compare *a* and *b* (see `load_program` for what they may be, and how *caps*,
    *kernel*, *enosys* and *thread* read and build them) built for target *arch* (default:
    this machine's), on every architecture either covers (or only *arches*)."""
    target = Arch.native() if arch is None else Arch(arch).resolved
    prog_a, cov_a = load_program(a, arch=target, caps=caps, kernel=kernel, enosys=enosys,
                                 thread=thread)
    prog_b, cov_b = load_program(b, arch=target, caps=caps, kernel=kernel, enosys=enosys,
                                 thread=thread)
    little = bool(int(target) & AUDIT_ARCH_LE)
    if arches:
        compared = [Arch.native() if x is None else Arch(x).resolved for x in arches]
    else:
        compared = list(dict.fromkeys(list(cov_a) + list(cov_b)))
    for x in compared:
        if bool(int(x) & AUDIT_ARCH_LE) != little:
            raise InvalidArgumentError(_errno.EINVAL, "cannot compare on %s: the programs are "
                                                      "built for %s's byte order" % (x, target))
    result = Diff(tuple(compared))
    ex_a = explain(prog_a, compared)
    ex_b = explain(prog_b, compared)
    verdicts_b = {(v.arch, v.number): v for v in ex_b.syscalls}
    for x in compared:
        named: Set[int] = set()
        for va in (v for v in ex_a.syscalls if v.arch is x):
            vb = verdicts_b[(x, va.number)]
            named.add(va.number)
            if not va.args and not vb.args:
                if va.actions != vb.actions:
                    result.changes.append(Change(x, va.syscall, va.number, (),
                                                 va.actions[0], vb.actions[0]))
                continue
            _compare_args(result, x, va.syscall, va.number, prog_a, prog_b)
        _compare_unnamed(result, x, named, prog_a, prog_b)
    return result


def _compare_args(result: Diff, arch: Arch, name: str, nr: int, prog_a: bytes,
                  prog_b: bytes) -> None:
    words = _tests(prog_a, arch, nr)
    for offset, vals in _tests(prog_b, arch, nr).items():
        words.setdefault(offset, set()).update(vals)
    values = _arg_values(words, _target(arch).big_endian)
    points, sampled = _points(values)
    if sampled:
        result.sampled.append((arch, name))
    calls = [(nr, p[:6], p[6]) for p in points]
    acts_a = evaluate_many(prog_a, calls, arch=arch)
    acts_b = evaluate_many(prog_b, calls, arch=arch)
    for p, x, y in zip(points, acts_a, acts_b):
        if x != y:
            result.changes.append(Change(arch, name, nr, tuple((i, p[i]) for i in sorted(values)),
                                         x, y))


def _compare_unnamed(result: Diff, arch: Arch, named: Set[int], prog_a: bytes,
                     prog_b: bytes) -> None:
    """Numbers without a name in the architecture's table (and one beyond every table), as
    ranges of equal answers."""
    base = table_base(arch)
    numbers = [n for n in list(range(base, base + TABLE_SPAN)) + [base | 0x3FFF]
               if n not in named]
    acts_a = evaluate_many(prog_a, numbers, arch=arch)
    acts_b = evaluate_many(prog_b, numbers, arch=arch)
    run: List[Tuple[int, Action, Action]] = []

    def flush() -> None:
        if run:
            first, last = run[0][0], run[-1][0]
            label = "#%d" % first if first == last else "#%d-#%d" % (first, last)
            result.changes.append(Change(arch, label, first, (), run[0][1], run[0][2]))
            run.clear()

    for nr, x, y in zip(numbers, acts_a, acts_b):
        if x == y:
            flush()
            continue
        if run and (run[-1][0] + 1 != nr or (run[-1][1], run[-1][2]) != (x, y)):
            flush()
        run.append((nr, x, y))
    flush()
