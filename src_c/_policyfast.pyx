# cython: language_level=3
"""The fast path of seccomp.policy's readers: the common forms of minijail, gosecco,
seccompiler and OCI policies read straight into libseccomp rules, in one pass over the text.

Each reader accepts a strict subset of its format (rules whose conditions are comparisons of
whole arguments with numbers, joined by ``&&`` and ``||``; see each function) and returns None
for anything else, including every error: the caller then reads the text with the format's own
reader, which is the reference (the model's rules and every error message come from it).
What a reader accepts gives the same default action, settings and libseccomp rules as that
reader followed by ``Policy.lowered()`` (the tests compare them).

Rules are collected per syscall as ``(action, alternatives)``, *action* the raw libseccomp
value and *alternatives* None (the rule always applies) or a list of conjunctions, each a
tuple of ``(argument, operator, value)`` sorted by argument, no argument twice. `lower` makes
them libseccomp rules as ``Policy.lowered()`` does for such rules.
"""
from cpython.unicode cimport PyUnicode_FromStringAndSize
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcmp

from libseccomp cimport (SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE,
                         SCMP_CMP_GT)

from seccomp._core import Cond

cdef extern from "Python.h":
    const char *PyUnicode_AsUTF8AndSize(object text, Py_ssize_t *size) except NULL

#: Most libseccomp rules per syscall (seccomp.policy.model.MAX_RULES_PER_SYSCALL).
cdef Py_ssize_t MAX_RULES = 512
cdef uint64_t U64 = <uint64_t>-1


# ---------------------------------------------------------------------------------------------
# Characters and tokens
# ---------------------------------------------------------------------------------------------

cdef struct Text:
    const unsigned char *s
    Py_ssize_t i  # the next character
    Py_ssize_t n  # the end


cdef inline bint _alpha(unsigned char c) noexcept nogil:
    return (c >= c'a' and c <= c'z') or (c >= c'A' and c <= c'Z') or c == c'_'


cdef inline bint _digit(unsigned char c) noexcept nogil:
    return c >= c'0' and c <= c'9'


cdef inline bint _hexdigit(unsigned char c) noexcept nogil:
    return _digit(c) or (c >= c'a' and c <= c'f') or (c >= c'A' and c <= c'F')


cdef inline int _hexval(unsigned char c) noexcept nogil:
    if _digit(c):
        return c - c'0'
    if c >= c'a':
        return c - c'a' + 10
    return c - c'A' + 10


cdef inline void _blanks(Text *t) noexcept nogil:
    while t.i < t.n and (t.s[t.i] == c' ' or t.s[t.i] == c'\t'):
        t.i += 1


cdef inline bint _at(Text *t, const char *word, Py_ssize_t size) noexcept nogil:
    """Whether the text continues with *word*."""
    return t.n - t.i >= size and memcmp(t.s + t.i, word, size) == 0


cdef inline Py_ssize_t _name_end(Text *t, bint extra) noexcept nogil:
    """The end of the word at t.i (letters, digits, '_'; with *extra* also '@' and '-', as
    minijail's words), t.i when none starts there."""
    cdef Py_ssize_t j = t.i
    cdef unsigned char c
    if j >= t.n or not _alpha(t.s[j]):
        return t.i
    j += 1
    while j < t.n:
        c = t.s[j]
        if not (_alpha(c) or _digit(c) or (extra and (c == c'@' or c == c'-'))):
            break
        j += 1
    return j


cdef inline str _str(Text *t, Py_ssize_t start, Py_ssize_t end):
    return PyUnicode_FromStringAndSize(<const char *>t.s + start, end - start)


cdef inline int _number(Text *t, int base, uint64_t *out) noexcept nogil:
    """The digits of *base* at t.i as a 64-bit value (t.i moves past them); -1 when there
    are none or the value needs more than 64 bits."""
    cdef uint64_t v = 0
    cdef int d
    cdef Py_ssize_t start = t.i
    while t.i < t.n:
        if base == 16:
            if not _hexdigit(t.s[t.i]):
                break
            d = _hexval(t.s[t.i])
        else:
            if not _digit(t.s[t.i]) or t.s[t.i] - c'0' >= base:
                break
            d = t.s[t.i] - c'0'
        if v > (U64 - <uint64_t>d) // <uint64_t>base:
            return -1
        v = v * base + d
        t.i += 1
    if t.i == start:
        return -1
    out[0] = v
    return 0


cdef int _op(Text *t) noexcept nogil:
    """A comparison operator at t.i (t.i moves past it): libseccomp's operator, else 0."""
    if t.i + 1 < t.n and t.s[t.i + 1] == c'=':
        c = t.s[t.i]
        if c == c'=' or c == c'!' or c == c'<' or c == c'>':
            t.i += 2
            return (SCMP_CMP_EQ if c == c'=' else SCMP_CMP_NE if c == c'!' else
                    SCMP_CMP_LE if c == c'<' else SCMP_CMP_GE)
    if t.i < t.n and (t.s[t.i] == c'<' or t.s[t.i] == c'>'):
        if t.i + 1 < t.n and t.s[t.i + 1] == t.s[t.i]:
            return 0  # a shift
        t.i += 1
        return SCMP_CMP_LT if t.s[t.i - 1] == c'<' else SCMP_CMP_GT
    return 0


cdef object _conjunction(list atoms):
    """A conjunction's atoms sorted by argument; None when an argument repeats (the model
    merges such comparisons: not this path's work)."""
    if len(atoms) == 1:
        return (atoms[0],)
    atoms.sort()
    for k in range(1, len(atoms)):
        if atoms[k][0] == atoms[k - 1][0]:
            return None
    return tuple(atoms)


cdef bint _ascii_lines(Text *t) noexcept nogil:
    """Whether the text is printable ASCII, tabs and newlines only: other characters end
    lines or count as blanks in the readers' own rules, which this path does not repeat."""
    cdef Py_ssize_t j
    cdef unsigned char c
    for j in range(t.n):
        c = t.s[j]
        if (c < 0x20 and c != c'\t' and c != c'\n') or c >= 0x7F:
            return False
    return True


# ---------------------------------------------------------------------------------------------
# minijail
# ---------------------------------------------------------------------------------------------

cdef int _mj_number(Text *t, uint64_t mask, uint64_t *out) noexcept nogil:
    """A minijail number token (-?0x.., -?0[0-7]+, -?[0-9]+) wrapped to *mask*; -1 when it is
    none or overflows 64 bits."""
    cdef bint neg = False
    cdef uint64_t v
    if t.i < t.n and t.s[t.i] == c'-':
        neg = True
        t.i += 1
    if t.i >= t.n or not _digit(t.s[t.i]):
        return -1
    if t.s[t.i] == c'0' and t.i + 2 < t.n + 1 and t.i + 1 < t.n and \
            (t.s[t.i + 1] == c'x' or t.s[t.i + 1] == c'X') and t.i + 2 < t.n and \
            _hexdigit(t.s[t.i + 2]):
        t.i += 2
        if _number(t, 16, &v) < 0:
            return -1
    elif t.s[t.i] == c'0' and t.i + 1 < t.n and _digit(t.s[t.i + 1]):
        if t.s[t.i + 1] > c'7':
            return -1  # minijail's reader has its own opinion of "08"
        if _number(t, 8, &v) < 0:
            return -1
    elif _number(t, 10, &v) < 0:
        return -1
    out[0] = ((0 - v) if neg else v) & mask
    return 0


cdef inline bint _mj_end_of_value(Text *t) noexcept nogil:
    """After a value: the end, or '&&', '||', ';' (anything else, '|' included, is not this
    path's)."""
    _blanks(t)
    if t.i >= t.n:
        return True
    if _at(t, b"&&", 2) or _at(t, b"||", 2):
        return True
    return t.s[t.i] == c';'


cdef object _mj_action(Text *t, uint64_t mask, dict actions, dict errnos):
    """The action at t.i (minijail's ``return ERRNO``, ``1`` or an action word) as a raw
    value, or None; the rest of the line must be empty."""
    cdef Py_ssize_t end
    cdef uint64_t v
    _blanks(t)
    end = _name_end(t, True)
    if end > t.i and end - t.i == 6 and _at(t, b"return", 6):
        t.i = end
        _blanks(t)
        end = _name_end(t, True)
        if end > t.i:
            code = errnos.get(_str(t, t.i, end))
            if code is None:
                return None
            t.i = end
        else:
            if _mj_number(t, mask, &v) < 0 or v > 0xFFFF:
                return None
            code = <long>v
        result = 0x00050000 | code  # SCMP_ACT_ERRNO(code)
    elif end > t.i:
        result = actions.get(_str(t, t.i, end))
        if result is None:
            return None
        t.i = end
    elif t.i < t.n and t.s[t.i] == c'1' and (t.i + 1 == t.n or t.s[t.i + 1] == c' ' or
                                             t.s[t.i + 1] == c'\t'):
        t.i += 1
        result = actions["allow"]
    else:
        return None
    _blanks(t)
    return result if t.i == t.n else None


cdef object _mj_expression(Text *t, uint64_t mask):
    """``||`` of ``&&`` of ``argN OP NUMBER`` as alternatives, or None."""
    cdef list alternatives = []
    cdef list atoms = []
    cdef int op
    cdef uint64_t v
    cdef Py_ssize_t end
    while True:
        _blanks(t)
        end = _name_end(t, True)
        if end - t.i != 4 or not _at(t, b"arg", 3) or not (c'0' <= t.s[t.i + 3] <= c'5'):
            return None
        arg = t.s[t.i + 3] - c'0'
        t.i = end
        _blanks(t)
        op = _op(t)
        if op == 0:
            return None
        _blanks(t)
        if _mj_number(t, mask, &v) < 0 or not _mj_end_of_value(t):
            return None
        atoms.append((arg, op, v))
        if _at(t, b"&&", 2):
            t.i += 2
            continue
        conj = _conjunction(atoms)
        if conj is None:
            return None
        alternatives.append(conj)
        atoms = []
        if _at(t, b"||", 2):
            t.i += 2
            continue
        return alternatives


def minijail(str text not None, int bits, dict actions not None, dict errnos not None):
    """The rules of a minijail policy whose lines are comments or ``name: EXPR [; ACTION]``
    and ``name: ACTION`` (EXPR ``||`` of ``&&`` of ``argN OP NUMBER``, OP one of
    ``== != < <= > >=``), for an architecture of *bits* (32 or 64) bits: a dict of syscall
    name to its rules, else None. *actions* maps minijail's action words to raw values,
    *errnos* errno names to numbers."""
    cdef Text t
    cdef Py_ssize_t start, end, line_end, name_end
    cdef uint64_t mask = U64 if bits == 64 else 0xFFFFFFFFULL
    t.s = <const unsigned char *>PyUnicode_AsUTF8AndSize(text, &t.n)
    t.i = 0
    cdef Py_ssize_t n = t.n
    if not _ascii_lines(&t):
        return None
    cdef dict rules = {}
    cdef Py_ssize_t pos = 0
    while pos < n:
        start = pos
        while pos < n and t.s[pos] != c'\n':
            pos += 1
        line_end = pos
        pos += 1
        end = start
        while end < line_end and t.s[end] != c'#':
            end += 1
        while end > start and (t.s[end - 1] == c' ' or t.s[end - 1] == c'\t'):
            end -= 1
        t.i, t.n = start, end
        _blanks(&t)
        if t.i == t.n:
            continue
        if t.s[end - 1] == c'\\' or t.s[t.i] == c'@':
            return None  # continued lines, @include, @default, ...
        name_end = _name_end(&t, True)
        if name_end == t.i:
            return None
        name = _str(&t, t.i, name_end)
        if name in rules:
            return None  # redefined: the reader says where
        t.i = name_end
        _blanks(&t)
        if t.i >= t.n or t.s[t.i] != c':':
            return None
        t.i += 1
        _blanks(&t)
        if _at(&t, b"arg", 3):
            alternatives = _mj_expression(&t, mask)
            if alternatives is None:
                return None
            entries = [(actions["allow"], alternatives)]
            if t.i < t.n:  # ';'
                t.i += 1
                action = _mj_action(&t, mask, actions, errnos)
                if action is None:
                    return None
                entries.append((action, None))
        else:
            action = _mj_action(&t, mask, actions, errnos)
            if action is None:
                return None
            entries = [(action, None)]
        rules[name] = entries
    return rules


# ---------------------------------------------------------------------------------------------
# gosecco
# ---------------------------------------------------------------------------------------------

cdef int _gs_number(Text *t, uint64_t *out) noexcept nogil:
    """A gosecco number (0x.., 0b.., 0[0-7]+, decimal); -1 when none or over 64 bits."""
    if t.i >= t.n or not _digit(t.s[t.i]):
        return -1
    if t.s[t.i] == c'0' and t.i + 2 < t.n and (t.s[t.i + 1] == c'x' or t.s[t.i + 1] == c'X') \
            and _hexdigit(t.s[t.i + 2]):
        t.i += 2
        return _number(t, 16, out)
    if t.s[t.i] == c'0' and t.i + 2 < t.n and (t.s[t.i + 1] == c'b' or t.s[t.i + 1] == c'B') \
            and (t.s[t.i + 2] == c'0' or t.s[t.i + 2] == c'1'):
        t.i += 2
        return _number(t, 2, out)
    if t.s[t.i] == c'0' and t.i + 1 < t.n and _digit(t.s[t.i + 1]):
        if t.s[t.i + 1] > c'7':
            return -1
        return _number(t, 8, out)
    return _number(t, 10, out)


cdef object _gs_expression(Text *t):
    """``||`` of ``&&`` of ``argN OP NUMBER`` (gosecco's precedence makes that the DNF it
    reads as), or None."""
    cdef list alternatives = []
    cdef list atoms = []
    cdef int op
    cdef uint64_t v
    cdef Py_ssize_t end
    while True:
        _blanks(t)
        end = _name_end(t, False)
        if end - t.i != 4 or not _at(t, b"arg", 3) or not (c'0' <= t.s[t.i + 3] <= c'5'):
            return None
        arg = t.s[t.i + 3] - c'0'
        t.i = end
        _blanks(t)
        op = _op(t)
        if op == 0:
            return None
        _blanks(t)
        if _gs_number(t, &v) < 0:
            return None
        _blanks(t)
        atoms.append((arg, op, v))
        if _at(t, b"&&", 2):
            t.i += 2
            continue
        conj = _conjunction(atoms)
        if conj is None:
            return None
        alternatives.append(conj)
        atoms = []
        if _at(t, b"||", 2):
            t.i += 2
            continue
        return alternatives if t.i == t.n else None


def gosecco(str text not None):
    """The rules of a gosecco policy whose lines are comments, ``DEFAULT_POSITIVE``/
    ``DEFAULT_NEGATIVE``/``DEFAULT_POLICY = WORD`` and ``name: EXPR`` or ``name: 1`` (EXPR
    ``||`` of ``&&`` of ``argN OP NUMBER``, OP one of ``== != < <= > >=``): (rules, defaults,
    texts), else None. *rules* is a list of (name, alternatives or None for "1", positive
    action text, negative action text; None where not set) in order; *defaults* the three
    settings' last texts (absent when not set), *texts* every setting's text. Names and
    action texts are the caller's to check."""
    cdef Text t
    cdef Py_ssize_t start, end, pos, name_end, n
    t.s = <const unsigned char *>PyUnicode_AsUTF8AndSize(text, &t.n)
    t.i = 0
    n = t.n
    if not _ascii_lines(&t):
        return None
    cdef dict settings = {}
    cdef list rules = []
    cdef set seen = set()
    cdef set values = set()
    positive, negative = None, None
    pos = 0
    while pos < n:
        start = pos
        while pos < n and t.s[pos] != c'\n':
            pos += 1
        end = pos
        pos += 1
        while end > start and (t.s[end - 1] == c' ' or t.s[end - 1] == c'\t'):
            end -= 1
        t.i, t.n = start, end
        _blanks(&t)
        if t.i == t.n or t.s[t.i] == c'#':
            continue
        name_end = _name_end(&t, False)
        if name_end == t.i:
            return None
        name = _str(&t, t.i, name_end)
        t.i = name_end
        _blanks(&t)
        if t.i < t.n and t.s[t.i] == c'=':
            if name not in ("DEFAULT_POSITIVE", "DEFAULT_NEGATIVE", "DEFAULT_POLICY"):
                return None  # a variable or macro
            for k in range(t.i, t.n):
                if t.s[k] == c':':
                    return None
            t.i += 1
            _blanks(&t)
            name_end = _name_end(&t, False)
            if name_end == t.i:
                return None
            value = _str(&t, t.i, name_end)
            t.i = name_end
            _blanks(&t)
            if t.i != t.n:
                return None
            settings[name] = value
            values.add(value)
            if name == "DEFAULT_POSITIVE":
                positive = value
            elif name == "DEFAULT_NEGATIVE":
                negative = value
            continue
        if t.i >= t.n or t.s[t.i] != c':':
            return None
        if name in seen:
            return None  # a second rule: the reader compares them
        seen.add(name)
        t.i += 1
        _blanks(&t)
        if t.i + 1 == t.n and t.s[t.i] == c'1':
            rules.append((name, None, positive, negative))
            continue
        for k in range(t.i, t.n):
            if t.s[k] == c';':
                return None  # ; return N
        alternatives = _gs_expression(&t)
        if alternatives is None:
            return None
        rules.append((name, alternatives, positive, negative))
    return rules, settings, values


# ---------------------------------------------------------------------------------------------
# JSON (seccompiler, OCI): objects, arrays, plain strings and non-negative integers
# ---------------------------------------------------------------------------------------------

cdef inline void _ws(Text *t) noexcept nogil:
    while t.i < t.n and (t.s[t.i] == c' ' or t.s[t.i] == c'\t' or t.s[t.i] == c'\n' or
                         t.s[t.i] == c'\r'):
        t.i += 1


cdef inline bint _char(Text *t, unsigned char c) noexcept nogil:
    """Skip blanks; whether *c* is next (then t.i moves past it)."""
    _ws(t)
    if t.i < t.n and t.s[t.i] == c:
        t.i += 1
        return True
    return False


cdef int _jstring(Text *t, Py_ssize_t *start, Py_ssize_t *end) noexcept nogil:
    """A string of printable ASCII without escapes: its span inside the quotes; -1 else."""
    _ws(t)
    if t.i >= t.n or t.s[t.i] != c'"':
        return -1
    t.i += 1
    start[0] = t.i
    while t.i < t.n and t.s[t.i] != c'"':
        if t.s[t.i] == c'\\' or t.s[t.i] < 0x20 or t.s[t.i] >= 0x7F:
            return -1
        t.i += 1
    if t.i >= t.n:
        return -1
    end[0] = t.i
    t.i += 1
    return 0


cdef int _juint(Text *t, uint64_t *out) noexcept nogil:
    """A non-negative JSON integer of at most 64 bits; -1 for anything else."""
    _ws(t)
    if t.i >= t.n or not _digit(t.s[t.i]):
        return -1
    if t.s[t.i] == c'0' and t.i + 1 < t.n and _digit(t.s[t.i + 1]):
        return -1
    if _number(t, 10, out) < 0:
        return -1
    if t.i < t.n and (t.s[t.i] == c'.' or t.s[t.i] == c'e' or t.s[t.i] == c'E'):
        return -1
    return 0


cdef inline bint _is(Text *t, Py_ssize_t start, Py_ssize_t end, const char *word,
                     Py_ssize_t size) noexcept nogil:
    return end - start == size and memcmp(t.s + start, word, size) == 0


cdef inline int _member(Text *t, bint first) noexcept nogil:
    """Before an object's member: 1 for a member (after ',' unless *first*), 0 at '}', -1
    else."""
    if _char(t, c'}'):
        return 0
    if not first and not _char(t, c','):
        return -1
    return 1


cdef inline int _element(Text *t, bint first) noexcept nogil:
    """Before an array's element: 1 for an element, 0 at ']', -1 else."""
    if _char(t, c']'):
        return 0
    if not first and not _char(t, c','):
        return -1
    return 1


cdef int _key(Text *t, Py_ssize_t *start, Py_ssize_t *end) noexcept nogil:
    if _jstring(t, start, end) < 0 or not _char(t, c':'):
        return -1
    return 0


cdef inline bint _name_ok(Text *t, Py_ssize_t start, Py_ssize_t end,
                          bint digit_first) noexcept nogil:
    cdef Py_ssize_t j
    if end == start or (not digit_first and _digit(t.s[start])):
        return False
    for j in range(start, end):
        if not (_alpha(t.s[j]) or _digit(t.s[j])):
            return False
    return True


cdef int _jend(Text *t) noexcept nogil:
    _ws(t)
    return 0 if t.i == t.n else -1


cdef object _sc_condition(Text *t, dict ops):
    """A seccompiler condition ``{"index", "type": "qword", "op", "val", "comment"}`` as
    (argument, operator, value), or None."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef uint64_t index = 0, val = 0
    cdef int seen = 0, bit, m
    op = None
    if not _char(t, c'{'):
        return None
    while True:
        m = _member(t, seen == 0)
        if m <= 0:
            break
        if _key(t, &ks, &ke) < 0:
            return None
        if _is(t, ks, ke, b"index", 5):
            bit = 1
            if _juint(t, &index) < 0 or index > 5:
                return None
        elif _is(t, ks, ke, b"type", 4):
            bit = 2
            if _jstring(t, &vs, &ve) < 0 or not _is(t, vs, ve, b"qword", 5):
                return None
        elif _is(t, ks, ke, b"op", 2):
            bit = 4
            if _jstring(t, &vs, &ve) < 0:
                return None
            op = ops.get(_str(t, vs, ve))
            if op is None:
                return None
        elif _is(t, ks, ke, b"val", 3):
            bit = 8
            if _juint(t, &val) < 0:
                return None
        elif _is(t, ks, ke, b"comment", 7):
            bit = 16
            if _jstring(t, &vs, &ve) < 0:
                return None
        else:
            return None
        if seen & bit:
            return None
        seen |= bit
    if m < 0 or seen & 15 != 15:
        return None
    return (<int>index, op, val)


cdef object _sc_rule(Text *t, dict ops, list out):
    """A seccompiler rule ``{"syscall", "args", "comment"}`` appended to *out* as (name,
    alternatives); 0, or None when it is not this path's."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef int seen = 0, bit, m, e
    cdef list atoms = []
    name = None
    if not _char(t, c'{'):
        return None
    while True:
        m = _member(t, seen == 0)
        if m <= 0:
            break
        if _key(t, &ks, &ke) < 0:
            return None
        if _is(t, ks, ke, b"syscall", 7):
            bit = 1
            if _jstring(t, &vs, &ve) < 0 or not _name_ok(t, vs, ve, False):
                return None
            if ve - vs >= 4 and memcmp(t.s + vs, b"SYS_", 4) == 0:
                vs += 4
            name = _str(t, vs, ve)
        elif _is(t, ks, ke, b"args", 4):
            bit = 2
            if not _char(t, c'['):
                return None
            while True:
                e = _element(t, len(atoms) == 0)
                if e <= 0:
                    break
                c = _sc_condition(t, ops)
                if c is None:
                    return None
                atoms.append(c)
            if e < 0:
                return None
        elif _is(t, ks, ke, b"comment", 7):
            bit = 4
            if _jstring(t, &vs, &ve) < 0:
                return None
        else:
            return None
        if seen & bit:
            return None
        seen |= bit
    if m < 0 or name is None:
        return None
    if not atoms:
        out.append((name, None))
        return 0
    conj = _conjunction(atoms)
    if conj is None:
        return None
    out.append((name, [conj]))
    return 0


cdef object _sc_filter(Text *t, dict actions, dict ops):
    """A seccompiler filter object as (mismatch action, rules by syscall), or None."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef int seen = 0, bit, m, e
    cdef list found = []
    mismatch = match = None
    if not _char(t, c'{'):
        return None
    while True:
        m = _member(t, seen == 0)
        if m <= 0:
            break
        if _key(t, &ks, &ke) < 0:
            return None
        if _is(t, ks, ke, b"filter", 6):
            bit = 1
            if not _char(t, c'['):
                return None
            first = True
            while True:
                e = _element(t, first)
                first = False
                if e <= 0:
                    break
                if _sc_rule(t, ops, found) is None:
                    return None
            if e < 0:
                return None
        else:
            if _is(t, ks, ke, b"mismatch_action", 15) or _is(t, ks, ke, b"default_action", 14):
                bit = 2
            elif _is(t, ks, ke, b"match_action", 12) or _is(t, ks, ke, b"filter_action", 13):
                bit = 4
            else:
                return None
            if _jstring(t, &vs, &ve) < 0:
                return None
            action = actions.get(_str(t, vs, ve))
            if action is None:
                return None
            if bit == 2:
                mismatch = action
            else:
                match = action
        if seen & bit:
            return None  # twice, or both spellings: the reader says which
        seen |= bit
    if m < 0 or seen != 7:
        return None
    cdef dict rules = {}
    for name, alternatives in found:
        entries = rules.get(name)
        if entries is None:
            rules[name] = [(match, alternatives)]
        else:
            entries.append((match, alternatives))
    return mismatch, rules


def seccompiler(str text not None, dict actions not None, dict ops not None):
    """The filters of a seccompiler JSON file whose actions are plain words (as *actions*
    spells them) and whose rules name one syscall each with conditions ``{"index", "type":
    "qword", "op", "val"}`` (*ops* maps op names to libseccomp's) on distinct arguments:
    {category: (mismatch action, rules by syscall)}, else None."""
    cdef Text t
    cdef Py_ssize_t ks, ke
    cdef int m
    t.s = <const unsigned char *>PyUnicode_AsUTF8AndSize(text, &t.n)
    t.i = 0
    cdef dict out = {}
    if not _char(&t, c'{'):
        return None
    while True:
        m = _member(&t, not out)
        if m <= 0:
            break
        if _key(&t, &ks, &ke) < 0:
            return None
        name = _str(&t, ks, ke)
        if name in out:
            return None
        f = _sc_filter(&t, actions, ops)
        if f is None:
            return None
        out[name] = f
    if m < 0 or _jend(&t) < 0 or not out:
        return None
    return out


cdef object _oci_arg(Text *t, dict ops):
    """An OCI condition ``{"index", "value", "valueTwo", "op"}`` as (argument, operator,
    value), or None (MASKED_EQ is not this path's)."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef uint64_t index = 0, value = 0, two = 0
    cdef int seen = 0, bit, m
    op = None
    if not _char(t, c'{'):
        return None
    while True:
        m = _member(t, seen == 0)
        if m <= 0:
            break
        if _key(t, &ks, &ke) < 0:
            return None
        if _is(t, ks, ke, b"index", 5):
            bit = 1
            if _juint(t, &index) < 0 or index > 5:
                return None
        elif _is(t, ks, ke, b"op", 2):
            bit = 2
            if _jstring(t, &vs, &ve) < 0:
                return None
            op = ops.get(_str(t, vs, ve))
            if op is None:
                return None
        elif _is(t, ks, ke, b"value", 5):
            bit = 4
            if _juint(t, &value) < 0:
                return None
        elif _is(t, ks, ke, b"valueTwo", 8):
            bit = 8
            if _juint(t, &two) < 0:
                return None
        else:
            return None
        if seen & bit:
            return None
        seen |= bit
    if m < 0 or seen & 3 != 3:
        return None
    return (<int>index, op, value)


cdef inline long long _rank(uint32_t action) noexcept nogil:
    """seccomp.policy.model.action_rank: the kernel's order of action kinds."""
    cdef long long kind = action & 0xFFFF0000LL
    return kind - 0x100000000LL if kind & 0x80000000LL else kind


cdef object _oci_rule(Text *t, dict actions, dict ops, list out, Py_ssize_t order):
    """An OCI rule ``{"names", "action", "args", "comment"}`` appended to *out* as (rank,
    order, name, action, alternatives) per name; 0, or None when it is not this path's."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef int seen = 0, bit, m, e
    cdef list names = []
    cdef list atoms = []
    action = None
    if not _char(t, c'{'):
        return None
    while True:
        m = _member(t, seen == 0)
        if m <= 0:
            break
        if _key(t, &ks, &ke) < 0:
            return None
        if _is(t, ks, ke, b"names", 5):
            bit = 1
            if not _char(t, c'['):
                return None
            while True:
                e = _element(t, not names)
                if e <= 0:
                    break
                if _jstring(t, &vs, &ve) < 0 or not _name_ok(t, vs, ve, True):
                    return None
                names.append(_str(t, vs, ve))
            if e < 0 or not names:
                return None
        elif _is(t, ks, ke, b"action", 6):
            bit = 2
            if _jstring(t, &vs, &ve) < 0:
                return None
            action = actions.get(_str(t, vs, ve))
            if action is None:
                return None
        elif _is(t, ks, ke, b"args", 4):
            bit = 4
            if not _char(t, c'['):
                return None
            while True:
                e = _element(t, not atoms)
                if e <= 0:
                    break
                c = _oci_arg(t, ops)
                if c is None:
                    return None
                atoms.append(c)
            if e < 0:
                return None
        elif _is(t, ks, ke, b"comment", 7):
            bit = 8
            if _jstring(t, &vs, &ve) < 0:
                return None
        else:
            return None
        if seen & bit:
            return None
        seen |= bit
    if m < 0 or seen & 3 != 3:
        return None
    if not atoms:
        alternatives = None
    elif len({a[0] for a in atoms}) != len(atoms):
        alternatives = [(a,) for a in atoms]  # runc: conditions on one argument are alternatives
    else:
        conj = _conjunction(atoms)
        alternatives = [conj]
    rank = _rank(<uint32_t>action)
    for name in names:
        out.append((rank, order, name, action, alternatives))
    return 0


def oci(str text not None, dict actions not None, dict ops not None):
    """A resolved OCI profile ``{"defaultAction", "syscalls"}`` whose actions carry no errno
    of their own and whose conditions are not MASKED_EQ, as (default action, rules by
    syscall: each syscall's rules most restrictive first, as seccomp.policy.oci orders them),
    else None. *actions* maps SCMP_ACT_ names to raw values, *ops* SCMP_CMP_ names to
    libseccomp's operators."""
    cdef Text t
    cdef Py_ssize_t ks, ke, vs, ve
    cdef int seen = 0, bit, m, e
    cdef list found = []
    cdef Py_ssize_t order = 0
    default = None
    t.s = <const unsigned char *>PyUnicode_AsUTF8AndSize(text, &t.n)
    t.i = 0
    if not _char(&t, c'{'):
        return None
    while True:
        m = _member(&t, seen == 0)
        if m <= 0:
            break
        if _key(&t, &ks, &ke) < 0:
            return None
        if _is(&t, ks, ke, b"defaultAction", 13):
            bit = 1
            if _jstring(&t, &vs, &ve) < 0:
                return None
            default = actions.get(_str(&t, vs, ve))
            if default is None:
                return None
        elif _is(&t, ks, ke, b"syscalls", 8):
            bit = 2
            if not _char(&t, c'['):
                return None
            while True:
                e = _element(&t, order == 0)
                if e <= 0:
                    break
                if _oci_rule(&t, actions, ops, found, order) is None:
                    return None
                order += 1
            if e < 0:
                return None
        else:
            return None
        if seen & bit:
            return None
        seen |= bit
    if m < 0 or not seen & 1 or _jend(&t) < 0:
        return None
    cdef dict grouped = {}
    for item in found:
        entries = grouped.get(item[2])
        if entries is None:
            grouped[item[2]] = [item]
        else:
            entries.append(item)
    cdef dict rules = {}
    for name, entries in grouped.items():
        if len(entries) > 1:
            entries.sort(key=_rank_order)
        rules[name] = [(item[3], item[4]) for item in entries]
    return default, rules


def _rank_order(item):
    return item[0], item[1]


# ---------------------------------------------------------------------------------------------
# Lowering
# ---------------------------------------------------------------------------------------------

cdef list _dedupe(list rules):
    if len(rules) < 2:
        return rules
    cdef set seen = set()
    cdef list out = []
    for r in rules:
        if r not in seen:
            seen.add(r)
            out.append(r)
    if () in seen:
        return [()]
    return out


def lower(dict rules not None, default, actions):
    """libseccomp rules for *rules* (by syscall, as the readers give them) under *default*:
    {name: [(action, [conditions, ...]), ...]} with *actions* mapping raw values to the
    actions to use and each conditions a tuple of `Cond`, as ``Policy.lowered()`` makes
    them, and the names whose rules libseccomp 2.5 needs spelled differently (several rules,
    some with several conditions: ``model._without_ranges``). None when a syscall's rules are
    not this path's (several actions, more than 512 rules)."""
    cdef dict out = {}
    cdef list ranged = []
    cdef list lowered, kept, conds
    cdef Py_ssize_t total, count
    cdef bint wide
    for name, entries in rules.items():
        first = entries[0][0]
        kept = []
        for action, alternatives in entries:
            if alternatives is None and action == default:
                break
            if action != first:
                return None
            if alternatives is None:
                kept.append((action, [()]))
                break
            kept.append((action, alternatives))
        lowered = []
        total = 0
        count = 0
        wide = False
        for action, alternatives in kept:
            if action == default:
                continue
            total += len(alternatives)
            if total > MAX_RULES:
                return None
            if alternatives:
                alternatives = _dedupe(list(alternatives))
                conds = []
                for conj in alternatives:
                    if len(conj) > 1:
                        wide = True
                    conds.append(tuple([Cond(a[0], a[1], a[2]) for a in conj]))
                count += len(conds)
                lowered.append((actions[action], conds))
        if count > 1 and wide:
            ranged.append(name)
        out[name] = lowered
    return out, ranged
