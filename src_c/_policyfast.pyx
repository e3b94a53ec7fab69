# cython: language_level=3
"""The fast path of seccomp.policy's readers: the common forms of minijail, gosecco,
seccompiler and OCI policies read straight into libseccomp rules, in one pass over the text.

Each reader accepts a strict subset of its format (rules whose conditions are comparisons of
whole arguments with numbers, joined by ``&&`` and ``||``; see each function) and returns None
for anything else, including every error: the caller then reads the text with the format's own
reader, which is the reference (the model's rules and every error message come from it).
What a reader accepts gives the same default action, settings and libseccomp rules as that
reader followed by ``Policy.lowered()`` (the tests compare them).

Rules are collected per syscall as ``(action, alternatives)``, *action* an `Action` (the
callers' tables give them) and *alternatives* None (the rule always applies) or a list of
conjunctions, each a tuple of `Cond` sorted by argument, no argument twice. `lower` makes
them libseccomp rules as ``Policy.lowered()`` does for such rules.
"""
from cpython.unicode cimport PyUnicode_FromStringAndSize
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memchr, memcmp

from libseccomp cimport (SCMP_CMP_NE, SCMP_CMP_LT, SCMP_CMP_LE, SCMP_CMP_EQ, SCMP_CMP_GE,
                         SCMP_CMP_GT)

from seccomp._core import Cond, syscall_resolve_name
from seccomp._errors import SeccompError

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


cdef struct Atoms:
    # comparisons of one conjunction: argument, libseccomp operator, value
    int n
    int arg[6]
    int op[6]
    uint64_t value[6]


cdef inline int _add(Atoms *a, int arg, int op, uint64_t value) noexcept nogil:
    """Add a comparison, in argument order; -1 when its argument is there already (the
    model merges such comparisons: not this path's work)."""
    cdef int k = a.n
    if k == 6:
        return -1
    while k > 0 and a.arg[k - 1] > arg:
        a.arg[k], a.op[k], a.value[k] = a.arg[k - 1], a.op[k - 1], a.value[k - 1]
        k -= 1
    if k > 0 and a.arg[k - 1] == arg:
        return -1
    a.arg[k], a.op[k], a.value[k] = arg, op, value
    a.n += 1
    return 0


cdef tuple _conds(Atoms *a):
    """The conjunction as conditions; empties *a*."""
    cdef int n = a.n
    a.n = 0
    if n == 1:
        return (Cond(a.arg[0], a.op[0], a.value[0]),)
    return tuple([Cond(a.arg[k], a.op[k], a.value[k]) for k in range(n)])


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


cdef object _mj_action(Text *t, uint64_t mask, dict actions, dict errnos, by_value):
    """The action at t.i (minijail's ``return ERRNO``, ``1`` or an action word), or None;
    the rest of the line must be empty."""
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
            if _mj_number(t, mask, &v) < 0 or v > 4094:  # LARGEST_ERRNO; else the reader says
                return None
            code = <long>v
        result = by_value[0x00050000 | code]  # SCMP_ACT_ERRNO(code)
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


cdef object _expression(Text *t, bint minijail, uint64_t mask):
    """``||`` of ``&&`` of ``argN OP NUMBER`` as alternatives (gosecco's precedence makes that
    the DNF it reads as), or None. *minijail*: its names and numbers (*mask* the
    architecture's), the expression may be followed by more; else gosecco's, ending the text."""
    cdef list alternatives = []
    cdef Atoms atoms
    atoms.n = 0
    cdef int op
    cdef uint64_t v
    cdef Py_ssize_t end
    while True:
        _blanks(t)
        end = _name_end(t, minijail)
        if end - t.i != 4 or not _at(t, b"arg", 3) or not (c'0' <= t.s[t.i + 3] <= c'5'):
            return None
        arg = t.s[t.i + 3] - c'0'
        t.i = end
        _blanks(t)
        op = _op(t)
        if op == 0:
            return None
        _blanks(t)
        if minijail:
            if _mj_number(t, mask, &v) < 0 or not _mj_end_of_value(t):
                return None
        else:
            if _gs_number(t, &v) < 0:
                return None
            _blanks(t)
        if _add(&atoms, arg, op, v) < 0:
            return None
        if _at(t, b"&&", 2):
            t.i += 2
            continue
        alternatives.append(_conds(&atoms))
        if _at(t, b"||", 2):
            t.i += 2
            continue
        return alternatives if minijail or t.i == t.n else None


def minijail(str text not None, int bits, dict actions not None, dict errnos not None,
             by_value not None):
    """The rules of a minijail policy whose lines are comments or ``name: EXPR [; ACTION]``
    and ``name: ACTION`` (EXPR ``||`` of ``&&`` of ``argN OP NUMBER``, OP one of
    ``== != < <= > >=``), for an architecture of *bits* (32 or 64) bits: a dict of syscall
    name to its rules, else None. *actions* maps minijail's action words to actions,
    *errnos* errno names to numbers, *by_value* raw values to actions."""
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
            alternatives = _expression(&t, True, mask)
            if alternatives is None:
                return None
            entries = [(actions["allow"], alternatives)]
            if t.i < t.n:  # ';'
                t.i += 1
                action = _mj_action(&t, mask, actions, errnos, by_value)
                if action is None:
                    return None
                entries.append((action, None))
        else:
            action = _mj_action(&t, mask, actions, errnos, by_value)
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


def gosecco(str text not None, dict words not None):
    """The rules of a gosecco policy whose lines are comments, ``DEFAULT_POSITIVE``/
    ``DEFAULT_NEGATIVE``/``DEFAULT_POLICY = WORD`` and ``name: EXPR`` or ``name: 1`` (EXPR
    ``||`` of ``&&`` of ``argN OP NUMBER``, OP one of ``== != < <= > >=``), every action one of
    *words* (action texts to actions, with gosecco's defaults for "allow" and "kill") and
    every syscall one libseccomp knows: (default action, rules by syscall), else None."""
    cdef Text t
    cdef Py_ssize_t start, end, pos, name_end, n
    t.s = <const unsigned char *>PyUnicode_AsUTF8AndSize(text, &t.n)
    t.i = 0
    n = t.n
    if not _ascii_lines(&t):
        return None
    cdef dict rules = {}
    positive, negative, policy = words["allow"], words["kill"], words["kill"]
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
            for k in range(t.i, t.n):
                if t.s[k] == c':':
                    return None
            t.i += 1
            _blanks(&t)
            name_end = _name_end(&t, False)
            if name_end == t.i:
                return None
            value = words.get(_str(&t, t.i, name_end))
            t.i = name_end
            _blanks(&t)
            if t.i != t.n or value is None:
                return None
            if name == "DEFAULT_POSITIVE":
                positive = value
            elif name == "DEFAULT_NEGATIVE":
                negative = value
            elif name == "DEFAULT_POLICY":
                policy = value
            else:
                return None  # a variable or macro
            continue
        if t.i >= t.n or t.s[t.i] != c':':
            return None
        if name in rules:
            return None  # a second rule: the reader compares them
        try:
            syscall_resolve_name(name)
        except Exception:
            return None  # the reader refuses it with its place
        t.i += 1
        _blanks(&t)
        if t.i + 1 == t.n and t.s[t.i] == c'1':
            alternatives = None
        else:
            for k in range(t.i, t.n):
                if t.s[k] == c';':
                    return None  # ; return N
            alternatives = _expression(&t, False, 0)
            if alternatives is None:
                return None
        rules[name] = [(positive, alternatives), (negative, None)]
    return policy, rules


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


# Characters a JSON text the fast path reads may hold outside its structure: printable ASCII
# but the backslash, and JSON's blanks (1 each; see _plain_json).
cdef unsigned char _PLAIN[256]
for _c in range(256):
    _PLAIN[_c] = (0x20 <= _c < 0x7F and _c != 0x5C) or _c in (0x09, 0x0A, 0x0D)


cdef bint _plain_json(Text *t) noexcept nogil:
    """Whether the text is printable ASCII and JSON's blanks, without a backslash: its
    strings then need no decoding (checked once for the whole text)."""
    cdef Py_ssize_t j
    cdef unsigned char ok = 1
    for j in range(t.n):
        ok &= _PLAIN[t.s[j]]
    return ok


cdef int _jstring(Text *t, Py_ssize_t *start, Py_ssize_t *end) noexcept nogil:
    """A string (of a text `_plain_json` accepts): its span inside the quotes; -1 else."""
    _ws(t)
    if t.i >= t.n or t.s[t.i] != c'"':
        return -1
    t.i += 1
    start[0] = t.i
    cdef const void *quote = memchr(t.s + t.i, c'"', t.n - t.i)
    if quote == NULL:
        return -1
    t.i = <const unsigned char *>quote - t.s
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


cdef int _sc_op(Text *t, Py_ssize_t start, Py_ssize_t end) noexcept nogil:
    """seccompiler's operator word (eq ne lt le gt ge) as libseccomp's operator, else 0."""
    if end - start != 2:
        return 0
    return _ops2(t.s[start], t.s[start + 1])


cdef int _sc_condition(Text *t, Atoms *atoms) noexcept nogil:
    """A seccompiler condition ``{"index", "type": "qword", "op", "val", "comment"}`` added
    to *atoms*; -1 when it is not this path's."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef uint64_t index = 0, val = 0
    cdef int seen = 0, bit, m, op = 0
    if not _char(t, c'{'):
        return -1
    while True:
        m = _member(t, seen == 0)
        if m <= 0:
            break
        if _key(t, &ks, &ke) < 0:
            return -1
        if _is(t, ks, ke, b"index", 5):
            bit = 1
            if _juint(t, &index) < 0 or index > 5:
                return -1
        elif _is(t, ks, ke, b"type", 4):
            bit = 2
            if _jstring(t, &vs, &ve) < 0 or not _is(t, vs, ve, b"qword", 5):
                return -1
        elif _is(t, ks, ke, b"op", 2):
            bit = 4
            if _jstring(t, &vs, &ve) < 0:
                return -1
            op = _sc_op(t, vs, ve)
            if op == 0:
                return -1
        elif _is(t, ks, ke, b"val", 3):
            bit = 8
            if _juint(t, &val) < 0:
                return -1
        elif _is(t, ks, ke, b"comment", 7):
            bit = 16
            if _jstring(t, &vs, &ve) < 0:
                return -1
        else:
            return -1
        if seen & bit:
            return -1
        seen |= bit
    if m < 0 or seen & 15 != 15:
        return -1
    return _add(atoms, <int>index, op, val)


cdef object _sc_rule(Text *t, dict rules, match):
    """A seccompiler rule ``{"syscall", "args", "comment"}`` added to *rules* with action
    *match*; 0, or None when it is not this path's."""
    cdef Py_ssize_t ks, ke, vs, ve, name_start = 0, name_end = 0
    cdef int seen = 0, bit, m, e
    cdef Atoms atoms
    atoms.n = 0
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
            name_start, name_end = vs, ve
        elif _is(t, ks, ke, b"args", 4):
            bit = 2
            if not _char(t, c'['):
                return None
            first = True
            while True:
                e = _element(t, first)
                first = False
                if e <= 0:
                    break
                if _sc_condition(t, &atoms) < 0:
                    return None
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
    if m < 0 or not seen & 1:
        return None
    entry = (match, [_conds(&atoms)] if atoms.n else None)
    name = _str(t, name_start, name_end)
    entries = rules.get(name)
    if entries is None:
        rules[name] = [entry]
    else:
        (<list>entries).append(entry)
    return 0


cdef object _sc_filter(Text *t, dict actions):
    """A seccompiler filter object as (mismatch action, rules by syscall), or None."""
    cdef Py_ssize_t ks, ke, vs, ve, filter_at = -1, after
    cdef int seen = 0, bit, m
    cdef dict rules = {}
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
            if seen & 4:
                if _sc_rules(t, rules, match) < 0:
                    return None
            else:
                filter_at = t.i  # read once the match action is known
                if _skip(t) < 0:
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
    if filter_at >= 0:
        after = t.i
        t.i = filter_at
        if _sc_rules(t, rules, match) < 0:
            return None
        t.i = after
    return mismatch, rules


cdef int _sc_rules(Text *t, dict rules, match) except -2:
    """A seccompiler filter's array of rules added to *rules*; -1 when it is not this
    path's."""
    cdef int e
    cdef bint first = True
    if not _char(t, c'['):
        return -1
    while True:
        e = _element(t, first)
        first = False
        if e <= 0:
            return e
        if _sc_rule(t, rules, match) is None:
            return -1


cdef int _skip(Text *t) noexcept nogil:
    """Skip an array of objects, arrays, plain strings and integers (checked when read)."""
    cdef int depth = 0
    cdef Py_ssize_t a, b
    cdef uint64_t v
    cdef unsigned char c
    while True:
        _ws(t)
        if t.i >= t.n:
            return -1
        c = t.s[t.i]
        if c == c'[' or c == c'{':
            depth += 1
            t.i += 1
        elif c == c']' or c == c'}':
            depth -= 1
            t.i += 1
            if depth == 0:
                return 0
            if depth < 0:
                return -1
        elif c == c'"':
            if _jstring(t, &a, &b) < 0:
                return -1
        elif c == c',' or c == c':':
            t.i += 1
        elif _juint(t, &v) < 0:
            return -1
        if depth == 0:
            return 0


def seccompiler(str text not None, dict actions not None):
    """The filters of a seccompiler JSON file whose actions are plain words (as *actions*
    spells them, mapped to actions) and whose rules name one syscall each with conditions
    ``{"index", "type": "qword", "op", "val"}`` on distinct arguments: {category: (mismatch
    action, rules by syscall)}, else None."""
    cdef Text t
    cdef Py_ssize_t ks, ke
    cdef int m
    t.s = <const unsigned char *>PyUnicode_AsUTF8AndSize(text, &t.n)
    t.i = 0
    cdef dict out = {}
    if not _plain_json(&t) or not _char(&t, c'{'):
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
        f = _sc_filter(&t, actions)
        if f is None:
            return None
        out[name] = f
    if m < 0 or _jend(&t) < 0 or not out:
        return None
    return out


cdef int _oci_arg(Text *t, int *arg, int *op, uint64_t *value) noexcept nogil:
    """An OCI condition ``{"index", "value", "valueTwo", "op"}``; -1 when it is not this
    path's (MASKED_EQ is not)."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef uint64_t index = 0, two = 0
    cdef int seen = 0, bit, m
    cdef unsigned char lower[2]
    value[0] = 0
    if not _char(t, c'{'):
        return -1
    while True:
        m = _member(t, seen == 0)
        if m <= 0:
            break
        if _key(t, &ks, &ke) < 0:
            return -1
        if _is(t, ks, ke, b"index", 5):
            bit = 1
            if _juint(t, &index) < 0 or index > 5:
                return -1
        elif _is(t, ks, ke, b"op", 2):
            bit = 2
            if _jstring(t, &vs, &ve) < 0 or ve - vs != 11 or \
                    memcmp(t.s + vs, b"SCMP_CMP_", 9) != 0:
                return -1
            lower[0] = t.s[vs + 9] | 0x20
            lower[1] = t.s[vs + 10] | 0x20
            if t.s[vs + 9] < c'A' or t.s[vs + 9] > c'Z' or t.s[vs + 10] < c'A' or \
                    t.s[vs + 10] > c'Z':
                return -1
            op[0] = _ops2(lower[0], lower[1])
            if op[0] == 0:
                return -1
        elif _is(t, ks, ke, b"value", 5):
            bit = 4
            if _juint(t, value) < 0:
                return -1
        elif _is(t, ks, ke, b"valueTwo", 8):
            bit = 8
            if _juint(t, &two) < 0:
                return -1
        else:
            return -1
        if seen & bit:
            return -1
        seen |= bit
    if m < 0 or seen & 3 != 3:
        return -1
    arg[0] = <int>index
    return 0


cdef inline int _ops2(unsigned char a, unsigned char b) noexcept nogil:
    if a == c'e' and b == c'q':
        return SCMP_CMP_EQ
    if a == c'n' and b == c'e':
        return SCMP_CMP_NE
    if a == c'l':
        return SCMP_CMP_LT if b == c't' else SCMP_CMP_LE if b == c'e' else 0
    if a == c'g':
        return SCMP_CMP_GT if b == c't' else SCMP_CMP_GE if b == c'e' else 0
    return 0


cdef inline long long _rank(uint32_t action) noexcept nogil:
    """seccomp.policy.model.action_rank: the kernel's order of action kinds."""
    cdef long long kind = action & 0xFFFF0000LL
    return kind - 0x100000000LL if kind & 0x80000000LL else kind


cdef object _oci_rule(Text *t, dict actions, dict rules, set mixed):
    """An OCI rule ``{"names", "action", "args", "comment"}`` added to each name's rules in
    *rules* (*mixed* collects the names whose rules have several actions); 0, or None when it
    is not this path's."""
    cdef Py_ssize_t ks, ke, vs, ve
    cdef int seen = 0, bit, m, e, k, n = 0
    cdef int args[6]
    cdef int ops[6]
    cdef uint64_t values[6]
    cdef bint repeated = False
    cdef Atoms atoms
    cdef list names = []
    atoms.n = 0
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
                e = _element(t, n == 0)
                if e <= 0:
                    break
                if n == 6 or _oci_arg(t, &args[n], &ops[n], &values[n]) < 0:
                    return None
                n += 1
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
    for k in range(n):
        if _add(&atoms, args[k], ops[k], values[k]) < 0:
            repeated = True
            break
    if n == 0:
        alternatives = None
    elif repeated:  # runc: conditions on one argument are alternatives
        alternatives = [(Cond(args[k], ops[k], values[k]),) for k in range(n)]
    else:
        alternatives = [_conds(&atoms)]
    entry = (action, alternatives)
    for name in names:
        entries = rules.get(name)
        if entries is None:
            rules[name] = [entry]
        else:
            if (<tuple>(<list>entries)[0])[0] != action:
                mixed.add(name)
            (<list>entries).append(entry)
    return 0


def oci(str text not None, dict actions not None):
    """A resolved OCI profile ``{"defaultAction", "syscalls"}`` whose actions carry no errno
    of their own (*actions* maps SCMP_ACT_ names to actions) and whose conditions are not
    MASKED_EQ, as (default action, rules by syscall: each syscall's rules most restrictive
    first, as seccomp.policy.oci orders them), else None."""
    cdef Text t
    cdef Py_ssize_t ks, ke, vs, ve
    cdef int seen = 0, bit, m, e
    cdef dict rules = {}
    cdef set mixed = set()
    cdef Py_ssize_t order = 0
    default = None
    t.s = <const unsigned char *>PyUnicode_AsUTF8AndSize(text, &t.n)
    t.i = 0
    if not _plain_json(&t) or not _char(&t, c'{'):
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
                if _oci_rule(&t, actions, rules, mixed) is None:
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
    for name in mixed:
        (<list>rules[name]).sort(key=_entry_rank)  # stable: in order within a rank
    return default, rules


def _entry_rank(entry):
    return _rank(<uint32_t>entry[0])


# ---------------------------------------------------------------------------------------------
# Lowering
# ---------------------------------------------------------------------------------------------

cdef list _dedupe(list rules):
    """`seccomp.policy.model._dedupe`: the first of equal rules (all of them when one has no
    condition)."""
    cdef Py_ssize_t n = len(rules)
    if n < 2:
        return rules
    if n == 2:
        if rules[0] != rules[1]:
            return rules
        return [()] if rules[0] == () else [rules[0]]
    cdef set seen = set()
    cdef list out = []
    for r in rules:
        if r not in seen:
            seen.add(r)
            out.append(r)
    if () in seen:
        return [()]
    return out


def lower(dict rules not None, default):
    """libseccomp rules for *rules* (by syscall, as the readers give them) under *default*:
    {name: [(action, [conditions, ...]), ...]}, as ``Policy.lowered()`` makes them, and the
    names whose rules libseccomp 2.5 needs spelled differently (several rules, some with
    several conditions: ``model._without_ranges``). None when a syscall's rules are not this
    path's (several actions, more than 512 rules). Takes the lists of *rules*."""
    cdef list ranged = []
    cdef list entries, lowered, alternatives, kept
    cdef Py_ssize_t total, count, k, n
    cdef bint wide, same
    for name, value in rules.items():
        entries = <list>value
        n = len(entries)
        first = (<tuple>entries[0])[0]
        same = True  # the lowering is *entries* itself
        kept = entries
        for k in range(n):
            action, alternatives = <tuple>entries[k]
            if alternatives is None and action == default:
                kept = entries[:k]
                same = False
                break
            if action != first:
                return None
            if alternatives is None:
                kept = entries[:k + 1]
                same = False
                break
        lowered = entries if same else []
        total = 0
        count = 0
        wide = False
        for k in range(len(kept)):
            action, alternatives = <tuple>kept[k]
            if alternatives is None:
                alternatives = [()]
            if action == default:
                if same:
                    lowered = list(entries[:k])
                    same = False
                continue
            total += len(alternatives)
            if total > MAX_RULES:
                return None
            deduped = _dedupe(alternatives)
            if deduped is not alternatives or not same:
                if same:
                    lowered = list(entries[:k])
                    same = False
                lowered.append((action, deduped))
            for conj in deduped:
                if len(<tuple>conj) > 1:
                    wide = True
            count += len(deduped)
        if count > 1 and wide:
            ranged.append(name)
        if not same:
            rules[name] = lowered
    return rules, ranged


# ---------------------------------------------------------------------------------------------
# Adding
# ---------------------------------------------------------------------------------------------

def rule_count(dict lowered not None):
    """How many rules of (action, conditions list) *lowered* has, over all syscalls."""
    cdef Py_ssize_t n = 0
    for entries in lowered.values():
        n += len(<list>entries)
    return n


def add_rules(add, dict lowered not None, bint backwards):
    """``add(action, name, *conditions)`` for each libseccomp rule of *lowered* ({name:
    [(action, [conditions, ...]), ...]}), each syscall's entries last first when
    *backwards*. A syscall whose rule raises SeccompError gets no more of its rules: returns
    those as (name, exception), in order."""
    cdef list failed = []
    cdef list entries
    cdef Py_ssize_t i, n
    for name, value in lowered.items():
        entries = <list>value
        n = len(entries)
        try:
            for i in range(n):
                action, rules = <tuple>entries[n - 1 - i if backwards else i]
                for conds in rules:
                    add(action, name, *conds)
        except SeccompError as exc:
            failed.append((name, exc))
    return failed
