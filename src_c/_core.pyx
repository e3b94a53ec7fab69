# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled core of `seccomp`: libseccomp's C API with its handles, return codes and locks.

Everything here holds a C handle, makes the C call and turns the return code into an
exception (through `seccomp._errors`, the one place that does). The friendly API lives in the
pure-Python layer (`seccomp.Filter`, the enums); this module never imports it.
"""
import os

from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING
from cpython.bool cimport PyBool_Check
from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF
from cpython.dict cimport PyDict_GetItem
from cpython.long cimport (PyLong_Check, PyLong_AsLongLongAndOverflow, PyLong_AsLongAndOverflow,
                           PyLong_AsUnsignedLongLong)

cdef extern from "scmpy_lock.h" nogil:
    ctypedef struct scmpy_lock:
        pass
    int scmpy_lock_install_fork_handler()
    void scmpy_lock_init(scmpy_lock *lock)
    bint scmpy_lock_try(scmpy_lock *lock)
    void scmpy_lock_wait(scmpy_lock *lock)
    void scmpy_unlock(scmpy_lock *lock)
    void scmpy_lock_destroy(scmpy_lock *lock)

scmpy_lock_install_fork_handler()

from libc.errno cimport EINVAL, EEXIST, EACCES, ENOSYS, EOPNOTSUPP, ESRCH, EBUSY, EFAULT, ENOMEM
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdlib cimport free
from libc.string cimport memset, memmove
from cpython.mem cimport PyMem_Realloc, PyMem_Free

cimport cython
from libseccomp cimport *
from kernel cimport BPF_MAXINSNS, sock_filter, sock_fprog

from seccomp._errors import (UnsupportedError, LIBRARY_VERSION, OutOfRangeError, fail,
                             invalid, require, supported)
# Also importable from here, where the Python layer has long taken them from:
from seccomp._errors import SeccompError, InvalidArgumentError, COMPILED_VERSION  # no-cython-lint


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------

def version():
    """The (major, minor, micro) version of the libseccomp library in use."""
    return LIBRARY_VERSION


#: True where the libseccomp 2.6 calls (export_bpf_mem, precompute) exist.
HAVE_LIBSECCOMP_2_6 = supported("precompute")
cdef bint _HAVE_2_6 = HAVE_LIBSECCOMP_2_6


def api_get():
    """The libseccomp API level (what the library and kernel support, 1 to 7)."""
    return seccomp_api_get()


def api_set(level):
    """Force the libseccomp API level (mostly for testing)."""
    if not isinstance(level, int) or isinstance(level, bool) or not 0 <= level <= 0xFFFFFFFF:
        invalid("API level must be a non-negative integer, not %r" % (level,))
    cdef int rc = seccomp_api_set(<unsigned int>level)
    if rc < 0:
        fail(rc, "cannot set API level %d" % (level,))


# ---------------------------------------------------------------------------------------------
# Architectures, actions, syscalls
# ---------------------------------------------------------------------------------------------

#: libseccomp's architecture names and tokens (the kernel's AUDIT_ARCH values).
ARCH_TOKENS = {
    "x86": SCMP_ARCH_X86, "x86_64": SCMP_ARCH_X86_64, "x32": SCMP_ARCH_X32,
    "arm": SCMP_ARCH_ARM, "aarch64": SCMP_ARCH_AARCH64, "loongarch64": SCMP_ARCH_LOONGARCH64,
    "m68k": SCMP_ARCH_M68K, "mips": SCMP_ARCH_MIPS, "mips64": SCMP_ARCH_MIPS64,
    "mips64n32": SCMP_ARCH_MIPS64N32, "mipsel": SCMP_ARCH_MIPSEL,
    "mipsel64": SCMP_ARCH_MIPSEL64, "mipsel64n32": SCMP_ARCH_MIPSEL64N32,
    "ppc": SCMP_ARCH_PPC, "ppc64": SCMP_ARCH_PPC64, "ppc64le": SCMP_ARCH_PPC64LE,
    "s390": SCMP_ARCH_S390, "s390x": SCMP_ARCH_S390X, "parisc": SCMP_ARCH_PARISC,
    "parisc64": SCMP_ARCH_PARISC64, "riscv64": SCMP_ARCH_RISCV64,
    "sh": SCMP_ARCH_SH, "sheb": SCMP_ARCH_SHEB,
}
cdef dict _ARCH_NAMES = {tok: name for name, tok in ARCH_TOKENS.items()}
# Tokens of the architectures this libseccomp (or the one compiled against) does not know.
cdef frozenset _UNSUPPORTED_ARCHES = frozenset(
    tok for name, tok in ARCH_TOKENS.items() if not supported("architecture " + name))


def arch_native():
    """The token of the architecture this process runs on."""
    return seccomp_arch_native()


def arch_name(uint32_t token):
    """libseccomp's name for an architecture token ('native' for 0)."""
    if token == 0:
        return "native"
    return _ARCH_NAMES.get(token) or "unknown architecture 0x%08x" % token


#: Other names people use for libseccomp's architectures (Debian, uname -m, GOARCH, ...).
#: GOARCH names are what Docker writes in a profile's includes/excludes.
ARCH_ALIASES = {
    "amd64": "x86_64", "x86-64": "x86_64", "i386": "x86", "i486": "x86", "i586": "x86",
    "i686": "x86", "ia32": "x86", "arm64": "aarch64", "armv7l": "arm", "armhf": "arm",
    "armel": "arm", "ppc64el": "ppc64le", "powerpc": "ppc", "powerpc64": "ppc64",
    "powerpc64le": "ppc64le", "loong64": "loongarch64", "mips64el": "mipsel64",
    "mipsn32": "mips64n32", "mipseln32": "mipsel64n32", "mips64eln32": "mipsel64n32",
    "riscv": "riscv64", "hppa": "parisc", "hppa64": "parisc64",
    # GOARCH names libseccomp's differ from
    "386": "x86", "mipsle": "mipsel", "mips64le": "mipsel64", "mips64p32": "mips64n32",
    "mips64p32le": "mipsel64n32",
}


# The Python layer's `Action` and `Arch`, registered by seccomp._enums (the core never imports
# it): what the core's results are made of (`action_errno`, `Notification.arch`).
cdef object _action_type = int
cdef object _arch_type = int


def set_python_types(action, arch):
    """Make the core return *action* (`Action`) and *arch* (`Arch`) objects."""
    global _action_type, _arch_type
    _action_type = action
    _arch_type = arch
    _errno_actions.clear()
    _trace_actions.clear()


def arch_object(uint32_t token):
    """An architecture token as the Python layer's `Arch` (a plain int before it loads)."""
    return _arch_type(token)


def arch_token(arch):
    """The token of an architecture given as a token, libseccomp's name ('x86_64'), an alias
    ('amd64', 'arm64') or an OCI spelling ('SCMP_ARCH_AARCH64'); 0 and 'native' give 0."""
    if isinstance(arch, bytes):
        arch = (<bytes>arch).decode(errors="replace")
    if isinstance(arch, str):
        name = (<str>arch).strip().lower()
        if name.startswith("scmp_arch_"):
            name = name[len("scmp_arch_"):]
        name = ARCH_ALIASES.get(name, name)
        if name == "native":
            return 0
        try:
            return ARCH_TOKENS[name]
        except KeyError:
            invalid("unknown architecture %r" % (arch,))
    if not isinstance(arch, int) or isinstance(arch, bool):
        raise TypeError("architecture must be an Arch, a name or an int token, not %s"
                        % type(arch).__name__)
    if arch != 0 and arch not in _ARCH_NAMES:
        invalid("unknown architecture token %r" % (arch,))
    return arch


cdef uint32_t _arch_token(object arch) except? 0xFFFFFFFF:
    """An architecture (token, name or alias) as a usable token: native for 0, and a clear
    error for one this libseccomp does not know."""
    if arch == 0:
        return seccomp_arch_native()
    arch = arch_token(arch)
    if arch == 0:
        return seccomp_arch_native()
    if arch in _UNSUPPORTED_ARCHES:
        require("architecture " + _ARCH_NAMES[arch])
    return <uint32_t>arch


cdef bytes _c_name(str name):
    """*name* as the C string libseccomp looks up. Names are ASCII: one with a NUL (which
    would end the C string early: 'read\\0x' found read) or any other character becomes b"",
    which names nothing, so the caller's "not known" error follows (not UnicodeEncodeError)."""
    if "\0" in name or not name.isascii():
        return b""
    return name.encode("ascii")


def arch_resolve_name(str name):
    """The token of a libseccomp architecture name, or InvalidArgumentError."""
    cdef uint32_t tok = seccomp_arch_resolve_name(_c_name(name))
    if tok == 0:
        invalid("unknown architecture %r" % (name,))
    return tok


# SCMP_ACT_ERRNO(0) and SCMP_ACT_TRACE(0): the low 16 bits carry the action's data.
cdef uint32_t _ERRNO_BASE = SCMP_ACT_ERRNO(0)
cdef uint32_t _TRACE_BASE = SCMP_ACT_TRACE(0)
ERRNO_BASE = _ERRNO_BASE
TRACE_BASE = _TRACE_BASE
cdef dict _ACTION_NAMES = {
    SCMP_ACT_KILL_PROCESS: "KILL_PROCESS", SCMP_ACT_KILL_THREAD: "KILL_THREAD",
    SCMP_ACT_TRAP: "TRAP", SCMP_ACT_NOTIFY: "NOTIFY", SCMP_ACT_LOG: "LOG",
    SCMP_ACT_ALLOW: "ALLOW",
}
#: The plain actions by name (ERRNO and TRACE carry data and are made by their functions).
ACTIONS = {name: value for value, name in _ACTION_NAMES.items()}


cdef inline bint _action_ok(uint32_t a) noexcept nogil:
    return (a == SCMP_ACT_ALLOW or a == SCMP_ACT_KILL_PROCESS or a == SCMP_ACT_KILL_THREAD
            or a == SCMP_ACT_TRAP or a == SCMP_ACT_NOTIFY or a == SCMP_ACT_LOG
            or (a & 0xFFFF0000U) == _ERRNO_BASE or (a & 0xFFFF0000U) == _TRACE_BASE)


def describe_action(uint32_t action):
    """A readable name for an action value: 'ALLOW', 'ERRNO(1)', 'TRACE(7)'."""
    if action in _ACTION_NAMES:
        return _ACTION_NAMES[action]
    if (action & 0xFFFF0000U) == _ERRNO_BASE:
        return "ERRNO(%d)" % (action & 0xFFFF)
    if (action & 0xFFFF0000U) == _TRACE_BASE:
        return "TRACE(%d)" % (action & 0xFFFF)
    invalid("invalid action 0x%x" % action)


def check_action(action):
    """*action* if it is a valid action value (an int), else TypeError or
    InvalidArgumentError naming it."""
    _action(action)
    return action


# ERRNO(code) and TRACE(code) actions by code, made once: they are made for every rule.
cdef dict _errno_actions = {}
cdef dict _trace_actions = {}


cdef object _data_action(dict made, uint32_t base, object code, str what):
    cdef object act
    if type(code) is int:
        act = made.get(code)
        if act is not None:
            return act
    cdef long v = _small_int(code, 0, 0xFFFF, what)
    if v < 0:
        invalid("%s %r is out of range 0-65535" % (what, code))
    act = int.__new__(_action_type, base | <uint32_t>v)
    made[v] = act
    return act


def action_errno(code):
    """The action that fails the syscall with errno *code* (0-65535): ``Action.ERRNO``."""
    return _data_action(_errno_actions, _ERRNO_BASE, code, "errno")


def action_trace(code):
    """The action that notifies a ptrace tracer with *code* (0-65535): ``Action.TRACE``."""
    return _data_action(_trace_actions, _TRACE_BASE, code, "trace message")


# The last two action objects _action() accepted and their values: rules mostly repeat one
# object, and a filter's default action is the other one (int subclasses such as Action
# cannot change value, so an object's identity is enough while it is held here).
cdef object _last_action = None
cdef uint32_t _last_action_value = 0
cdef object _prev_action = None
cdef uint32_t _prev_action_value = 0


cdef uint32_t _action(object action) except? 0xFFFFFFFF:
    """Validate an action value; the checks libseccomp does, with a message naming the value.
    Converted in C: this runs for every rule added."""
    global _last_action, _last_action_value, _prev_action, _prev_action_value
    cdef int overflow = 0
    cdef long long value
    if action is _last_action:
        return _last_action_value
    if action is _prev_action:
        return _prev_action_value
    if not PyLong_Check(action) or PyBool_Check(action):
        raise TypeError("action must be an Action or an int, not %s" % type(action).__name__)
    value = PyLong_AsLongLongAndOverflow(action, &overflow)
    if overflow or value < 0 or value > <long long>0xFFFFFFFFU or not _action_ok(<uint32_t>value):
        invalid("invalid action %r (0x%x)" % (action, action & 0xFFFFFFFFFFFFFFFF))
    # The object that leaves the cache is released last: releasing it may run code (that may
    # come here), which then finds each cached object paired with its own value.
    dropped = _prev_action
    _prev_action, _prev_action_value = _last_action, _last_action_value
    _last_action, _last_action_value = action, <uint32_t>value
    del dropped
    return <uint32_t>value


# Name -> number for the native architecture, filled on first use; numbers never change.
cdef dict _native_syscalls = {}


cdef int _syscall_nr(object syscall) except? -1:
    """A rule's syscall: a name (native architecture, as seccomp_rule_add expects) or number."""
    cdef int nr
    cdef PyObject *known
    if isinstance(syscall, str):
        known = PyDict_GetItem(_native_syscalls, syscall)
        if known != NULL:
            return <int><object>known
        nr = seccomp_syscall_resolve_name(_c_name(<str>syscall))
        if nr == __NR_SCMP_ERROR:
            invalid("syscall %r is not known on %s" % (syscall, arch_name(seccomp_arch_native())))
        _native_syscalls[syscall] = nr
        return nr
    if isinstance(syscall, int) and not isinstance(syscall, bool):
        if not -0x80000000 <= syscall <= 0x7FFFFFFF:
            invalid("syscall number %r is out of range" % (syscall,))
        return syscall
    if isinstance(syscall, bytes):
        return _syscall_nr(_syscall_text(<bytes>syscall))
    raise TypeError("syscall must be a name or a number, not %s" % type(syscall).__name__)


cdef str _syscall_text(bytes name):
    """A syscall name given as bytes, as text (names are ASCII)."""
    try:
        return name.decode("ascii")
    except UnicodeDecodeError:
        invalid("syscall %r is not known on %s" % (name, arch_name(seccomp_arch_native())))


def syscall_resolve_name(name, arch=0):
    """The number of syscall *name* on *arch* (an `Arch`, a name or token; default native).

    Negative numbers are libseccomp's pseudo-syscalls: names an architecture multiplexes
    (``socket`` on x86 goes through ``socketcall``) or does not have."""
    if arch == 0 and type(name) is str:
        try:
            return _native_syscalls[name]
        except KeyError:
            pass
    if isinstance(name, bytes):
        name = (<bytes>name).decode()
    if not isinstance(name, str):
        raise TypeError("syscall name must be a str, not %s" % type(name).__name__)
    if arch == 0:
        return _syscall_nr(name)
    cdef uint32_t tok = _arch_token(arch)
    cdef int nr = seccomp_syscall_resolve_name_arch(tok, _c_name(<str>name))
    if nr == __NR_SCMP_ERROR:
        invalid("syscall %r is not known on %s" % (name, arch_name(tok)))
    return nr


def syscall_resolve_name_rewrite(str name, arch=0):
    """Like syscall_resolve_name, with the rewriting libseccomp applies in filters (e.g. a
    socketcall-multiplexed syscall on x86 becomes socketcall)."""
    cdef uint32_t tok = _arch_token(arch)
    cdef int nr = seccomp_syscall_resolve_name_rewrite(tok, _c_name(name))
    if nr == __NR_SCMP_ERROR:
        invalid("syscall %r is not known on %s" % (name, arch_name(tok)))
    return nr


def syscall_resolve_num(num, arch=0):
    """The name of syscall number *num* on *arch* (an `Arch`, a name or token; default native)."""
    cdef uint32_t tok = _arch_token(arch)
    if not isinstance(num, int) or isinstance(num, bool):
        raise TypeError("syscall number must be an int, not %s" % type(num).__name__)
    if not -0x80000000 <= num <= 0x7FFFFFFF:
        invalid("syscall number %r is out of range" % (num,))
    cdef char *name = seccomp_syscall_resolve_num_arch(tok, <int>num)
    if name == NULL:
        invalid("syscall number %d is not known on %s" % (num, arch_name(tok)))
    try:
        return (<bytes>name).decode()
    finally:
        free(name)


def syscall_numbers(arch, int first, int count):
    """Name -> lowest number, of the syscalls libseccomp names among the numbers *first* ..
    *first* + *count* - 1 on *arch* (an `Arch`, a name or token): the reverse of its table in
    one call, where most numbers have no name (no exception per unknown number)."""
    cdef uint32_t tok = _arch_token(arch)
    if count < 0 or first > 0x7FFFFFFF - count:
        invalid("syscall numbers %d + %d are out of range" % (first, count))
    cdef dict table = {}
    cdef char *name
    cdef int nr
    for nr in range(first, first + count):
        name = seccomp_syscall_resolve_num_arch(tok, nr)
        if name != NULL:
            try:
                table.setdefault((<bytes>name).decode(), nr)
            finally:
                free(name)
    return table


# What resolve_syscall answered: {arch as given: {syscall: result}}; the answers never change.
cdef dict _resolutions = {}
# The last architecture asked about and its answers (callers mostly ask about one).
cdef object _last_arch = None
cdef dict _last_known = {}


def resolve_syscall(arch, syscall):
    """A syscall's number from its name (-1 if *arch* has no such syscall), or its name as
    bytes from its number, on architecture *arch* (libseccomp's module's function).

    Names resolve the way libseccomp writes them into a filter, as that module did: a
    multiplexed syscall gives its multiplexer (``socket`` on x86 is ``socketcall``, 102)."""
    global _last_arch, _last_known
    cdef type kind = type(syscall)
    cdef PyObject *found
    if kind is str or kind is int:  # (an int subclass such as bool is not a syscall)
        if arch is not _last_arch:
            found = PyDict_GetItem(_resolutions, arch)  # NULL also for an unhashable arch
            if found != NULL:
                _last_arch, _last_known = arch, <dict>found
        if arch is _last_arch:
            found = PyDict_GetItem(_last_known, syscall)
            if found != NULL:
                return <object>found
    if isinstance(syscall, bool) or not isinstance(syscall, (int, str)):
        raise TypeError("syscall must be an int or a str, not %s" % type(syscall).__name__)
    if isinstance(arch, int) and not isinstance(arch, bool) and -(1 << 31) <= arch < 0:
        arch = arch & 0xFFFFFFFF  # a token read as a signed 32-bit int
    cdef uint32_t tok = _arch_token(arch)
    cdef int nr
    if isinstance(syscall, str):
        nr = seccomp_syscall_resolve_name_rewrite(tok, _c_name(<str>syscall))
        result = -1 if nr == __NR_SCMP_ERROR else nr
    else:
        result = syscall_resolve_num(syscall, tok).encode()
    known = _resolutions.get(arch)
    if known is None:
        known = _resolutions[arch] = {}
    known[syscall] = result
    return result


# ---------------------------------------------------------------------------------------------
# Conditions
# ---------------------------------------------------------------------------------------------

cdef tuple _OP_NAMES = (None, "NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ")
#: The comparison operators by name.
OPERATORS = {name: i for i, name in enumerate(_OP_NAMES) if name}


cdef uint64_t _datum(object value, str which) except? 0:
    if not PyLong_Check(value) or PyBool_Check(value):
        raise TypeError("condition %s must be an int, not %s" % (which, type(value).__name__))
    try:
        return PyLong_AsUnsignedLongLong(value)
    except OverflowError:
        invalid("condition %s %r is out of range 0..2**64-1 (use Cond.cmp32 for a signed "
                "32-bit argument)" % (which, value))


cdef long _small_int(object value, long low, long high, str what) except? -1:
    """An int in low..high, converted in C (conditions are made for every rule)."""
    cdef int overflow = 0
    cdef long v
    if not PyLong_Check(value) or PyBool_Check(value):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    v = PyLong_AsLongAndOverflow(value, &overflow)
    if overflow or v < low or v > high:
        return -1
    return v


cdef class Cond:
    """A comparison of one syscall argument, checked when it is made.

    ``Cond(arg, op, value, value2=0)``: argument index 0-5, an `Op`, and 64-bit operands in
    libseccomp's order: for ``Op.MASKED_EQ`` *value* is the mask and *value2* the value the
    masked argument must equal.
    """
    cdef readonly unsigned int arg
    cdef readonly int op
    cdef readonly uint64_t value
    cdef readonly uint64_t value2
    #: True for `cmp32` conditions: only the argument's low 32 bits are compared.
    cdef readonly bint low32

    def __init__(self, arg, op, value, value2=0):
        self._setup(arg, op, value, value2)

    cdef int _setup(self, object arg, object op, object value, object value2) except -1:
        cdef long a = _small_int(arg, 0, 5, "argument index")
        if a < 0:
            invalid("argument index %r is out of range 0-5" % (arg,))
        cdef long o = _small_int(op, 1, 7, "operator")
        if o < 0:
            invalid("unknown comparison operator %r" % (op,))
        self.arg = a
        self.op = o
        self.value = _datum(value, "value")
        self.value2 = _datum(value2, "value2")
        return 0

    def _compat_init(self, arg, op, datum_a, datum_b=0):
        """libseccomp's module's ``Arg(arg, op, datum_a, datum_b=0)``: where an operand is
        an int out of range 0..2**64-1, OutOfRangeError (also an OverflowError), as there.
        (A method of the core, so that making an Arg runs no Python code.)"""
        try:
            self._setup(arg, op, datum_a, datum_b)
        except InvalidArgumentError as exc:
            for value in (datum_a, datum_b):
                if (isinstance(value, int) and not isinstance(value, bool)
                        and not 0 <= value <= 0xFFFFFFFFFFFFFFFF):
                    raise OutOfRangeError(exc.errno, exc.strerror) from None
            raise

    @classmethod
    def cmp32(cls, arg, op, value, value2=0):
        """A condition on a 32-bit argument: the argument's low 32 bits are compared, whatever
        its high half holds (a sign-extended ``-1`` matches ``-1``), for every operator.
        Operands from -2**31 to 2**32-1 are taken modulo 2**32, so ``-1`` means
        ``0xffffffff``."""
        for which, v in (("value", value), ("value2", value2)):
            if (isinstance(v, int) and not isinstance(v, bool)
                    and not -0x80000000 <= v <= 0xFFFFFFFF):
                invalid("32-bit condition %s %r is out of range -2**31..2**32-1" % (which, v))
        if isinstance(value, int) and not isinstance(value, bool):
            value &= 0xFFFFFFFF
        if isinstance(value2, int) and not isinstance(value2, bool):
            value2 &= 0xFFFFFFFF
        cdef Cond c = cls(arg, op, value, value2)
        c.low32 = True
        return c

    @property
    def datum_a(self):
        """libseccomp's name for `value`."""
        return self.value

    @property
    def datum_b(self):
        """libseccomp's name for `value2`."""
        return self.value2

    def __repr__(self):
        tail = ", %#x" % self.value2 if self.value2 or self.op == SCMP_CMP_MASKED_EQ else ""
        return "Cond%s(%d, Op.%s, %#x%s)" % (".cmp32" if self.low32 else "", self.arg,
                                             _OP_NAMES[self.op], self.value, tail)

    def __eq__(self, other):
        if not isinstance(other, Cond):
            return NotImplemented
        cdef Cond o = <Cond>other
        return (self.arg == o.arg and self.op == o.op and self.value == o.value
                and self.value2 == o.value2 and self.low32 == o.low32)

    def __hash__(self):
        return hash((self.arg, self.op, self.value, self.value2, self.low32))

    def __reduce__(self):
        if self.low32:
            return (type(self).cmp32, (self.arg, self.op, self.value, self.value2))
        return (type(self), (self.arg, self.op, self.value, self.value2))


# ---------------------------------------------------------------------------------------------
# Filter context
# ---------------------------------------------------------------------------------------------

cdef dict _ATTR_NAMES = {
    SCMP_FLTATR_ACT_DEFAULT: "ACT_DEFAULT", SCMP_FLTATR_ACT_BADARCH: "ACT_BADARCH",
    SCMP_FLTATR_CTL_NNP: "CTL_NNP", SCMP_FLTATR_CTL_TSYNC: "CTL_TSYNC",
    SCMP_FLTATR_API_TSKIP: "API_TSKIP", SCMP_FLTATR_CTL_LOG: "CTL_LOG",
    SCMP_FLTATR_CTL_SSB: "CTL_SSB", SCMP_FLTATR_CTL_OPTIMIZE: "CTL_OPTIMIZE",
    SCMP_FLTATR_API_SYSRAWRC: "API_SYSRAWRC", SCMP_FLTATR_CTL_WAITKILL: "CTL_WAITKILL",
}
#: The filter attributes by name.
ATTRIBUTES = {name: value for value, name in _ATTR_NAMES.items()}


cdef int _fill_cmps(tuple conds, scmp_arg_cmp *cmps) except -1:
    """libseccomp's form of a rule's conditions (at most 6, checked by the caller)."""
    cdef Py_ssize_t i
    cdef Cond c
    for i in range(len(conds)):
        if not isinstance(conds[i], Cond):
            raise TypeError("rule conditions must be Cond objects, not %s"
                            % type(conds[i]).__name__)
        c = <Cond>conds[i]
        cmps[i].arg = c.arg
        cmps[i].op = <scmp_compare>c.op
        cmps[i].datum_a = c.value
        cmps[i].datum_b = c.value2
        if c.low32 and c.op == SCMP_CMP_EQ:  # the low half only: libseccomp can say that
            cmps[i].op = SCMP_CMP_MASKED_EQ
            cmps[i].datum_a = 0xFFFFFFFF
            cmps[i].datum_b = c.value
        # other 32-bit comparisons reach libseccomp as 64-bit ones; its program then
        # differs from the rules and seccomp.bpf.codegen makes the program instead
    return 0


cdef tuple _NATIVE_TOKENS = (seccomp_arch_native(),)

# Logs that grow by one entry per rule are kept in chunks of _CHUNK entries (the one being
# filled, and a list of the full ones): a list's array then stays small enough for Python's
# own allocator, where one growing list's array would be moved by malloc again and again,
# among libseccomp's allocations (that cost more than the rest of this module's work on a
# rule, measured with callgrind).
cdef Py_ssize_t _CHUNK = 48


@cython.final
@cython.freelist(8)
cdef class _Log:
    """A list that only grows at its end, stored in chunks of _CHUNK entries (see above)."""
    cdef list current  # the chunk being filled
    cdef list full  # the full chunks, oldest first (None until the first is full)
    cdef Py_ssize_t length

    cdef int append(self, object entry) except -1:
        if len(self.current) == _CHUNK:
            if self.full is None:
                self.full = []
            self.full.append(self.current)
            self.current = []
        self.current.append(entry)
        self.length += 1
        return 0

    cdef list items(self):
        """The entries, as a new list."""
        if self.full is None:
            return list(self.current)
        cdef list out = []
        for chunk in self.full:
            out.extend(<list>chunk)
        out.extend(self.current)
        return out


cdef _Log _log_of(list entries):
    cdef _Log log = _Log.__new__(_Log)
    log.current = []
    for entry in entries:
        log.append(entry)
    return log


cdef _Log _log_starting(object entry):
    cdef _Log log = _Log.__new__(_Log)
    log.current = [entry]
    log.length = 1
    return log


cdef str _syscall_label(object syscall, int nr):
    return repr(syscall) if isinstance(syscall, str) else str(nr)


# Deferred rules. libseccomp's seccomp_rule_add() copies the filter (a transaction) and
# allocates for every rule: most of a rule's cost, and more inside an interpreter than in a
# small C program. A rule whose outcome in libseccomp is known exactly is therefore kept in
# the filter (and its rule log) and given to libseccomp, in one C loop and in the order the
# rules came, by the first operation that uses the filter's libseccomp context (`_lock()`):
# libseccomp receives the same calls in the same order as when every rule is given at once,
# so it ends in the same state, and what is exported or loaded is the same.
#
# The known outcome, read from libseccomp 2.5.4 and 2.6.0 (identical in these functions):
# seccomp_rule_add_array() / _exact_array() return 0 except for (1) a context without
# architectures or freed (db_col_valid), (2) syscalls -99..-1 (_syscall_valid), (3) an action
# db_col_action_valid() refuses (KILL_PROCESS, LOG and NOTIFY depend on the kernel, the API
# level or TSYNC; ALLOW, KILL_THREAD, TRAP, TRACE(n) and ERRNO(n < 4095) never fail there),
# (4) the filter's default action (EACCES), (5) an exact rule on two architectures or more,
# (6) a repeated argument or unknown operator, (7) what arch_filter_rule_add() and
# db_rule_add() return: on an architecture without syscall rewriting (rule_add NULL: x86_64,
# aarch64, riscv64, loongarch64, mips64, mipsel64, parisc64) that is db_rule_add(), which
# for a syscall with no rule (and no priority) yet only inserts a new entry, failing with
# ENOMEM alone. So a rule is deferred when: the filter has only the native architecture, one
# of those, and had no other since it was made or reset; the syscall is 0..1023 with no
# earlier rule or priority in this filter; at most one condition (the rule guard's rules of
# two or more stay eager); an action of (3) that is not the default. Anything else gives the
# deferred rules to libseccomp first, then goes the eager way, as before.
cdef struct _Deferred:
    uint32_t action
    int nr
    unsigned int n  # 0 or 1 condition
    bint exact
    scmp_arg_cmp cmp

cdef enum:
    _RULED_WORDS = 16  # syscalls 0..16*64-1 are tracked for deferral (_ruled)
    _RULED_MAX = _RULED_WORDS * 64
    _MAX_ERRNO = 4095  # libseccomp's limit for ERRNO(n) (src/system.h)

cdef bint _DEFER_NATIVE = seccomp_arch_native() in (
    SCMP_ARCH_X86_64, SCMP_ARCH_AARCH64, SCMP_ARCH_RISCV64, SCMP_ARCH_LOONGARCH64,
    SCMP_ARCH_MIPS64, SCMP_ARCH_MIPSEL64, SCMP_ARCH_PARISC64)


cdef inline bint _deferrable_action(uint32_t a) noexcept nogil:
    return (a == SCMP_ACT_ALLOW or a == SCMP_ACT_KILL_THREAD or a == SCMP_ACT_TRAP
            or (a & 0xFFFF0000U) == _TRACE_BASE
            or ((a & 0xFFFF0000U) == _ERRNO_BASE and (a & 0xFFFFU) < _MAX_ERRNO))


cdef class _Trees  # (_rule_guard.pxi)


@cython.freelist(16)  # filters are often short-lived: reuse their memory
cdef class Filter:
    """A libseccomp filter context (`scmp_filter_ctx`) guarded by a lock: the compiled base of
    `seccomp.Filter`, whose public methods (add_rule, merge, reset, release, ...) are defined
    here; the raw calls the Python layer builds on have private names (``_arch_add``, ...).

    The C handle is freed when the object goes away, on `release()`, or when `merge()`
    consumes it; after that every method raises InvalidArgumentError instead of crashing.
    """
    cdef scmp_filter_ctx ctx
    cdef scmpy_lock lock
    cdef bint merged
    cdef bint want_tsync
    cdef bint notify_rules
    cdef bint no_tsync  # TSYNC was asked for and refused (see tsync_refused)
    cdef bint has_rules
    # The architecture removed from this filter after it had rules, while libseccomp would
    # corrupt its memory on the next rule (2.5.4: add x86 and arm, a rule, remove arm, a rule
    # crashes the process); None when rules can be added.
    cdef object removed_after_rules
    # What the filter was asked to do, for the check of its BPF: every rule added (see the
    # _rule_log property); None until the first.
    cdef _Log _rules
    cdef readonly tuple _arch_tokens
    # The rules of _rule_log kept out of libseccomp, which would never return from adding
    # them (see _rule_guard.pxi), as (action, syscall, conditions, exact): while there are
    # any, libseccomp's program lacks them and seccomp.Filter generates the program itself.
    # None until the first.
    cdef readonly list _held_rules
    cdef _Trees _trees  # libseccomp's argument trees, for the guard (_rule_guard.pxi)
    # Per open transaction, the journal's length at its start: rejecting it replays the
    # journal up to there on a reset context (_rewind). libseccomp 2.6's own transactions are
    # not used: their snapshots hold rules only (a syscall priority is lost) and may be stale
    # (libseccomp keeps a copy made at its last rule, which an architecture change, merge or
    # priority since leaves behind: 2.6.0 then drops them on reject).
    cdef list _saved
    # Every change, so that a context can be made again: a rule's entry is its rule_log
    # tuple; other changes are (what, arguments...). While every change has been a rule, the
    # journal is the rule log itself and this is None (_journal_items()); the first other
    # change starts it (_journal_started()).
    cdef _Log _journal
    cdef uint32_t initial_default  # the default action given at creation or to reset()
    # How many changes the filter has had: a program made from it is current while this
    # stays the same (seccomp.SyscallFilter's precomputed program on libseccomp 2.5).
    cdef readonly unsigned long long _changes
    # Rules kept for libseccomp (see _Deferred above): given to it by _lock().
    cdef _Deferred *_deferred
    cdef Py_ssize_t _n_deferred, _deferred_room
    cdef bint _deferring  # whether rules may be deferred now
    cdef bint _eager  # never defer (a switch for tests: the reference filter)
    cdef uint64_t _ruled[_RULED_WORDS]  # syscalls with a rule or priority (bits)

    def __cinit__(self):
        # Takes no arguments, so Cython ignores the constructor's: __init__ parses them.
        scmpy_lock_init(&self.lock)
        self._deferred = NULL
        self._n_deferred = self._deferred_room = 0

    def __init__(self, default_action, *, bint tsync=True):
        """A filter whose *default_action* applies to every syscall no rule matches.

        With *tsync* (the default) `load()` puts the filter on every thread of the process;
        where the kernel or library cannot, `tsync_refused` is set and `seccomp.Filter`
        refuses to load while other threads run."""
        self._setup(default_action, tsync)

    def _compat_init(self, defaction):
        """libseccomp's module's constructor, ``SyscallFilter(defaction)``: TSYNC off.
        (A method of the core, so that making such a filter runs no Python code.)"""
        self._setup(defaction, False)

    cdef int _setup(self, object default_action, bint tsync) except -1:
        cdef uint32_t act = _action(default_action)
        if self.ctx != NULL:
            invalid("filter is already initialised; use reset() to start over")
        self.ctx = seccomp_init(act)
        if self.ctx == NULL:
            invalid("cannot create a filter with default action %s" % describe_action(act))
        self.want_tsync = tsync
        if tsync:
            self._enable_tsync()
        self.initial_default = act
        self._start_deferral()
        self._forget_rules()
        return 0

    cdef void _start_deferral(self) noexcept:
        """A new or reset context: no rule, priority or architecture change yet."""
        self._deferring = _DEFER_NATIVE and not self._eager
        memset(self._ruled, 0, sizeof(self._ruled))
        self._n_deferred = 0

    cdef void _forget_rules(self):
        self._rules = None
        self._arch_tokens = _NATIVE_TOKENS
        self._saved = None  # made by the first transaction
        self._journal = None
        self._changes += 1
        self._held_rules = None  # (both made on first use: most filters never need them)
        self._trees = None

    cdef void _enable_tsync(self):
        # Caller holds the context. A library or kernel without TSYNC leaves a single-thread
        # filter: recorded, so that loading can refuse or warn instead of dropping it silently.
        self.no_tsync = seccomp_attr_set(self.ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0

    def __dealloc__(self):
        if self.ctx != NULL:
            seccomp_release(self.ctx)
            self.ctx = NULL
        PyMem_Free(self._deferred)  # (rules not given: they go with the context)
        self._deferred = NULL
        scmpy_lock_destroy(&self.lock)

    # Locking: try without blocking first; if another thread holds the lock, wait for it
    # without the GIL (it may need the GIL to finish).
    # _lock() also makes the context current: it gives libseccomp the deferred rules first.
    cdef inline int _lock(self) except -1:
        self._lock_held()
        if self._n_deferred:
            try:
                self._give_deferred()
            except BaseException:
                scmpy_unlock(&self.lock)
                raise
        return 0

    cdef inline int _lock_held(self) except -1:
        """The lock, on a filter that still has its context (deferred rules not given)."""
        if not scmpy_lock_try(&self.lock):
            with nogil:
                scmpy_lock_wait(&self.lock)
        if self.ctx == NULL:
            scmpy_unlock(&self.lock)
            if self.merged:
                invalid("filter was merged into another filter and can no longer be used")
            invalid("filter was released and can no longer be used")
        return 0

    cdef int _give_deferred(self) except -1:
        """Give libseccomp the deferred rules, in order, in one loop (holding the lock). A
        failure (libseccomp's source says only ENOMEM can happen) raises naming the rule,
        which stays deferred with the rules after it: the filter is never exported or
        loaded without them."""
        cdef Py_ssize_t i = 0, n = self._n_deferred
        cdef _Deferred *d
        cdef int rc = 0
        while i < n:
            d = &self._deferred[i]
            if d.exact:
                rc = seccomp_rule_add_exact_array(self.ctx, d.action, d.nr, d.n, &d.cmp)
            else:
                rc = seccomp_rule_add_array(self.ctx, d.action, d.nr, d.n, &d.cmp)
            if rc < 0:
                break
            i += 1
        self._n_deferred = n - i
        if i and i < n:
            memmove(self._deferred, &self._deferred[i], (n - i) * sizeof(_Deferred))
        if rc < 0:
            d = &self._deferred[0]
            fail(rc, "libseccomp refused %srule %s for syscall %d%s, kept to be given to it "
                     "later; the filter cannot be used without it (nor the %d rules after it)"
                 % ("exact " if d.exact else "", describe_action(d.action), d.nr,
                    " with Cond(%d, %d, %#x, %#x)" % (d.cmp.arg, <int>d.cmp.op, d.cmp.datum_a,
                                                      d.cmp.datum_b) if d.n else "",
                    n - i - 1))
        return 0

    cdef inline bint _may_defer(self, uint32_t act, int nr, unsigned int n) noexcept:
        """Whether a rule's outcome in libseccomp is known (see _Deferred); holding the lock."""
        return (self._deferring and n <= 1 and 0 <= nr < _RULED_MAX
                and not (self._ruled[nr >> 6] >> (nr & 63)) & 1
                and act != self.initial_default and _deferrable_action(act))

    cdef inline void _mark_ruled(self, int nr) noexcept:
        if 0 <= nr < _RULED_MAX:
            self._ruled[nr >> 6] |= (<uint64_t>1) << (nr & 63)

    cdef int _defer(self, uint32_t act, int nr, unsigned int n, scmp_arg_cmp *cmps,
                    bint exact) except -1:
        cdef Py_ssize_t room
        cdef _Deferred *grown
        if self._n_deferred == self._deferred_room:
            room = self._deferred_room * 2 if self._deferred_room else 16
            grown = <_Deferred *>PyMem_Realloc(self._deferred, room * sizeof(_Deferred))
            if grown == NULL:
                raise MemoryError()
            self._deferred, self._deferred_room = grown, room
        cdef _Deferred *d = &self._deferred[self._n_deferred]
        d.action, d.nr, d.n, d.exact = act, nr, n, exact
        if n:
            d.cmp = cmps[0]
        else:
            memset(&d.cmp, 0, sizeof(d.cmp))
        self._n_deferred += 1
        return 0

    @property
    def _deferred_count(self):
        """How many rules are kept for libseccomp, not yet given to it (for tests)."""
        return self._n_deferred

    def _never_defer(self):
        """Give every rule to libseccomp when it is added, from now on (the eager
        reference the tests compare deferral with)."""
        self._lock()
        self._eager = True
        self._deferring = False
        self._unlock()

    cdef inline void _unlock(self):
        scmpy_unlock(&self.lock)

    @property
    def released(self):
        """True once release() or merge() has freed the C context."""
        return self.ctx == NULL

    @property
    def _rule_log(self):
        """Every rule added, as (action, syscall as given (name or native number),
        conditions, exact, architecture tokens present when it was added: libseccomp applies
        a rule to those only): what the check of the filter's BPF (seccomp.bpf.model) models."""
        return [] if self._rules is None else self._rules.items()

    @_rule_log.setter
    def _rule_log(self, list entries):
        self._journal_started()  # it no longer is the rule log
        self._rules = _log_of(entries) if entries else None

    cdef inline Py_ssize_t _rule_count(self):
        return 0 if self._rules is None else self._rules.length

    cdef inline int _log_rule(self, tuple entry) except -1:
        if self._rules is None:
            self._rules = _log_starting(entry)
            return 0
        return self._rules.append(entry)

    cdef _Log _journal_started(self):
        """The journal as a log of its own, started from the rule log."""
        if self._journal is None:
            self._journal = _log_of(self._rule_log)
        return self._journal

    cdef list _journal_items(self):
        return self._rule_log if self._journal is None else self._journal.items()

    cdef Py_ssize_t _journal_length(self):
        return self._rule_count() if self._journal is None else self._journal.length

    @property
    def has_notify_rules(self):
        """True when a rule has the NOTIFY action (loading then makes a listener)."""
        return self.notify_rules

    @property
    def tsync_refused(self):
        """True when TSYNC was asked for and libseccomp or the kernel refused it: `load()`
        then filters only the calling thread (and refuses while other threads run)."""
        return self.no_tsync

    def release(self):
        """Free the C context now. Harmless when already released."""
        if not scmpy_lock_try(&self.lock):
            with nogil:
                scmpy_lock_wait(&self.lock)
        if self.ctx != NULL:
            seccomp_release(self.ctx)
            self.ctx = NULL
        self._n_deferred = 0  # (they went with the context)
        scmpy_unlock(&self.lock)

    def reset(self, default_action=None):
        """Remove every rule, architecture and attribute setting. The default action stays
        unless a new one is given; TSYNC is set again if the filter was made with it."""
        cdef uint32_t act = 0
        cdef int rc = 0
        if default_action is not None:
            # Converted before taking the lock: its error message calls repr(), Python code
            # that may use this filter (and would wait for the lock for ever).
            act = _action(default_action)
        self._lock()
        try:
            if default_action is None:
                rc = seccomp_attr_get(self.ctx, SCMP_FLTATR_ACT_DEFAULT, &act)
            if rc == 0:
                rc = seccomp_reset(self.ctx, act)
            if rc == 0 and self.want_tsync:
                self._enable_tsync()
            if rc == 0:
                self.initial_default = act
                self._start_deferral()
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "cannot reset filter to %s" % (describe_action(act),))
        self.notify_rules = False
        self.has_rules = False
        self.removed_after_rules = None
        self.initial_default = act
        self._forget_rules()

    def merge(self, other):
        """Merge *other* into this filter. *other* is consumed: unusable afterwards.

        Both filters must have the same attributes and no architecture in common."""
        if not isinstance(other, Filter):
            raise TypeError("merge() takes a Filter, not %s" % type(other).__name__)
        if other is self:
            invalid("cannot merge a filter into itself")
        # Rules only the library's own BPF computes (seccomp.bpf.model.RuleExtras) live in a
        # subclass's rule_extras; a filter without that field would drop them: a weaker filter.
        if getattr(other, "rule_extras", None) is not None and not hasattr(self, "rule_extras"):
            invalid("cannot merge a %s into a %s: its rules computed by the library's own BPF "
                    "(beyond libseccomp) would be lost; merge into the %s instead"
                    % (type(other).__name__, type(self).__name__, type(other).__name__))
        cdef Filter that = <Filter>other
        cdef int rc
        # Lock in a fixed order so two threads merging in opposite directions cannot deadlock.
        cdef Filter first = self if <size_t><void *>self < <size_t><void *>that else that
        cdef Filter second = that if first is self else self
        first._lock()
        try:
            second._lock()
            try:
                rc = seccomp_merge(self.ctx, that.ctx)
                if rc == 0:
                    that.ctx = NULL
                    that.merged = True
                    self._deferring = False  # (its rules and architectures are not tracked)
            finally:
                second._unlock()
        finally:
            first._unlock()
        if rc < 0:
            if rc == -EINVAL or rc == -EEXIST:
                fail(rc, "cannot merge filters", "they must have the same attributes and no "
                                                 "architecture in common")
            fail(rc, "cannot merge filters")
        # (journaled first: while the journal is the rule log, that's rules are not its own)
        self._changed(("merge", that.initial_default, that.want_tsync, that._journal_items()))
        self.notify_rules |= that.notify_rules
        self.has_rules |= that.has_rules
        if self.removed_after_rules is None:
            self.removed_after_rules = that.removed_after_rules
        self._trees = _merged_trees(self, that)
        for entry in that._rule_log:
            self._log_rule(entry)
        self._arch_tokens += that._arch_tokens
        if that._held_rules:
            self._held_rules = (self._held_rules or []) + that._held_rules

    # -- architectures -----------------------------------------------------------------------

    def _arch_exist(self, arch):
        """Whether the filter covers an architecture token (0: native)."""
        cdef uint32_t tok = _arch_token(arch)
        cdef int rc
        self._lock()
        try:
            rc = seccomp_arch_exist(self.ctx, tok)
        finally:
            self._unlock()
        if rc == -EEXIST:
            return False
        if rc < 0:
            fail(rc, "cannot check architecture %s" % (arch_name(tok),))
        return True

    def _arch_add(self, arch, bint exist_ok=False):
        """Add an architecture token; returns False if present (an error unless exist_ok)."""
        cdef uint32_t tok = _arch_token(arch)
        cdef int rc
        self._lock()
        try:
            rc = seccomp_arch_add(self.ctx, tok)
            if rc == 0:
                self._deferring = False  # (only a lone native architecture is modelled)
        finally:
            self._unlock()
        if rc == -EEXIST and exist_ok:
            return False
        if rc < 0:
            fail(rc, "cannot add architecture %s" % (arch_name(tok),))
        self._arch_tokens += (tok or seccomp_arch_native(),)
        self._changed(("arch_add", tok, exist_ok))
        return True

    def _arch_remove(self, arch, bint missing_ok=False):
        """Remove an architecture token; returns False if absent (an error unless missing_ok)."""
        cdef uint32_t tok = _arch_token(arch)
        cdef int rc
        self._lock()
        try:
            rc = seccomp_arch_remove(self.ctx, tok)
            if rc == 0:
                self._deferring = False  # (only a lone native architecture is modelled)
        finally:
            self._unlock()
        if rc == -EEXIST and missing_ok:
            return False
        if rc < 0:
            fail(rc, "cannot remove architecture %s" % (arch_name(tok),))
        if self.has_rules and not supported("a rule after removing an architecture"):
            self.removed_after_rules = arch_name(tok)
        tok = tok or seccomp_arch_native()
        self._arch_tokens = tuple(t for t in self._arch_tokens if t != tok)
        if self._trees is not None:
            self._trees.forget_arch(tok)
        self._rule_log = [r[:4] + (tuple(t for t in r[4] if t != tok),) for r in self._rule_log]
        self._changed(("arch_remove", tok, missing_ok))
        return True

    # -- attributes --------------------------------------------------------------------------

    def _attr_get(self, int attr):
        """The value of a filter attribute (an Attr)."""
        if attr not in _ATTR_NAMES:
            invalid("unknown filter attribute %r" % (attr,))
        if attr == SCMP_FLTATR_CTL_WAITKILL and not _HAVE_2_6:
            require("attribute CTL_WAITKILL")
        cdef uint32_t value = 0
        cdef int rc
        self._lock()
        try:
            rc = seccomp_attr_get(self.ctx, <scmp_filter_attr>attr, &value)
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "cannot read attribute %s" % (_ATTR_NAMES[attr],))
        return value

    def _attr_set(self, int attr, value):
        """Set a filter attribute (an Attr) to a 32-bit value."""
        if attr not in _ATTR_NAMES:
            invalid("unknown filter attribute %r" % (attr,))
        if attr == SCMP_FLTATR_CTL_WAITKILL and not _HAVE_2_6:
            require("attribute CTL_WAITKILL")
        if not isinstance(value, int):
            raise TypeError("attribute value must be an int, not %s" % type(value).__name__)
        if not 0 <= value <= 0xFFFFFFFF:
            invalid("value %r for attribute %s is out of range" % (value, _ATTR_NAMES[attr]))
        if attr == SCMP_FLTATR_ACT_BADARCH:
            _action(value)
        cdef int rc
        self._lock()
        try:
            rc = seccomp_attr_set(self.ctx, <scmp_filter_attr>attr, <uint32_t>value)
        finally:
            self._unlock()
        if rc < 0:
            if rc == -EACCES and attr == SCMP_FLTATR_ACT_DEFAULT:
                invalid("the default action is fixed when the filter is made; use reset()")
            fail(rc, "cannot set attribute %s to %r" % (_ATTR_NAMES[attr], value))
        self._changed(("attr", attr, value))

    # -- rules -------------------------------------------------------------------------------

    def syscall_priority(self, syscall, priority):
        """Give a syscall a priority (0-255): higher comes earlier in the generated filter."""
        cdef int nr = _syscall_nr(syscall)
        if not isinstance(priority, int) or not 0 <= priority <= 255:
            invalid("syscall priority %r is out of range 0-255" % (priority,))
        cdef int rc
        self._lock()
        try:
            rc = seccomp_syscall_priority(self.ctx, nr, <uint8_t>priority)
            self._mark_ruled(nr)  # (libseccomp keeps an entry for the syscall)
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "cannot set priority of syscall %s" % _syscall_label(syscall, nr))
        self._changed(("priority", syscall, priority))

    cdef int _changed(self, tuple entry) except -1:
        """Count and journal a change other than a rule."""
        self._changes += 1
        self._journal_started().append(entry)
        return 0

    cdef int _apply(self, tuple entry) except -1:
        """Make a journaled change again."""
        cdef Filter other
        what = entry[0]
        if what == "arch_add":
            self._arch_add(entry[1], entry[2])
        elif what == "arch_remove":
            self._arch_remove(entry[1], entry[2])
        elif what == "attr":
            self._attr_set(entry[1], entry[2])
        elif what == "priority":
            self.syscall_priority(entry[1], entry[2])
        elif what == "merge":
            other = Filter.__new__(Filter)
            other._setup(entry[1], entry[2])
            for change in entry[3]:
                other._apply(change)
            self.merge(other)
        else:  # a rule: its rule_log entry
            self._add(entry[0], entry[1], entry[2], entry[3])
        return 0

    cdef int _add(self, object action, object syscall, tuple conds, bint exact) except -1:
        if isinstance(syscall, bytes):  # a name as bytes: the rule's record (the checks
            syscall = _syscall_text(<bytes>syscall)  # run on it, replays) keeps one form
        cdef uint32_t act = _action(action)
        cdef int nr = _syscall_nr(syscall)
        cdef scmp_arg_cmp cmps[6]
        cdef unsigned int n = len(conds)
        cdef int rc
        if n > 6:
            invalid("a rule takes at most 6 conditions, not %d" % n)
        if self.removed_after_rules is not None:
            raise UnsupportedError(ENOSYS, "cannot add a rule after architecture %s was removed "
                                   "from a filter with rules: libseccomp %s corrupts its memory "
                                   "then; remove architectures before adding rules, or reset()"
                                   % (self.removed_after_rules,
                                      ".".join(map(str, LIBRARY_VERSION))))
        if n:
            _fill_cmps(conds, cmps)
        self._lock_held()
        try:
            if self._may_defer(act, nr, n):
                self._defer(act, nr, n, cmps, exact)
                rc = 0
            else:
                if self._n_deferred:
                    self._give_deferred()
                if (n >= 2 or self._trees is not None) and _guard_holds(self, act, syscall, nr,
                                                                        cmps, n):
                    rc = 1  # held back (the guard decides under the lock, with the add)
                else:
                    if exact:
                        rc = seccomp_rule_add_exact_array(self.ctx, act, nr, n, cmps)
                    else:
                        rc = seccomp_rule_add_array(self.ctx, act, nr, n, cmps)
                    if self._trees is not None:
                        _guard_settle(self, rc)
            self._mark_ruled(nr)
        finally:
            self._unlock()
        if rc == 1:
            rc = _hold_rule(self, act, syscall, nr, cmps, n, conds, exact)
        elif rc < 0 and self._journal is not None:
            # libseccomp (2.5 and 2.6) undoes a refused rule by going back to its copy of
            # the rules (see _saved): without priorities, and without the architectures and
            # merges since its last rule. Made again from the journal, which lacks the rule.
            self._rewind(self._journal_length())
        if rc < 0:
            self._rule_error(rc, act, syscall, nr, conds, exact)
        self.has_rules = True
        entry = (action, syscall, conds, exact, self._arch_tokens)
        self._log_rule(entry)
        self._changes += 1
        if self._journal is not None:
            self._journal.append(entry)
        if act == SCMP_ACT_NOTIFY:
            self.notify_rules = True
        return 0

    cdef int _rule_error(self, int rc, uint32_t act, object syscall, int nr, tuple conds,
                         bint exact) except -1:
        what = "cannot add %srule %s for syscall %s%s" % (
            "exact " if exact else "", describe_action(act), _syscall_label(syscall, nr),
            " with %s" % ", ".join(map(repr, conds)) if conds else "")
        if rc == -EACCES:
            fail(EINVAL, what, "the action is the filter's default action")
        if rc == -EEXIST:
            fail(rc, what, "it conflicts with an existing rule")
        if exact and (rc == -EINVAL or rc == -EOPNOTSUPP):
            fail(EINVAL, what, "it cannot be expressed exactly on every architecture of the "
                               "filter")
        if rc == -EINVAL:
            fail(rc, what, "invalid rule (a condition repeats an argument, or the syscall "
                           "does not exist on an architecture of the filter)")
        fail(rc, what)

    def add_rule(self, action, syscall, *conditions):
        """Add a rule: *action* for *syscall* (a name or number) when every condition holds.
        libseccomp adapts the rule to each architecture as needed.

        A rule libseccomp is certain to accept may reach it later, with the filter's next
        use of libseccomp (export, load, ...); any error is raised here all the same."""
        self._add(action, syscall, conditions, False)

    def add_rule_exact(self, action, syscall, *conditions):
        """Add a rule exactly as given, or fail where an architecture would need it changed."""
        self._add(action, syscall, conditions, True)

    # -- load and export ---------------------------------------------------------------------

    def load(self):
        """Load the filter into the kernel for this process (and, with TSYNC, all its threads).

        Irreversible."""
        cdef int rc
        self._lock()
        try:
            with nogil:
                rc = seccomp_load(self.ctx)
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "cannot load filter")

    def _export_bpf_fd(self, int fd):
        """Write the filter's BPF program to a file descriptor."""
        cdef int rc
        self._lock()
        try:
            with nogil:
                rc = seccomp_export_bpf(self.ctx, fd)
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "cannot export BPF to fd %d" % (fd,))

    def _export_pfc_fd(self, int fd):
        """Write the filter as libseccomp's pseudo filter code to a file descriptor."""
        cdef int rc
        self._lock()
        try:
            with nogil:
                rc = seccomp_export_pfc(self.ctx, fd)
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "cannot export PFC to fd %d" % (fd,))

    def _export_bpf_bytes(self):
        """The filter's BPF program as bytes (native byte order, 8 bytes an instruction)."""
        cdef size_t size = 0
        cdef int rc
        cdef bytes out
        if _HAVE_2_6:
            self._lock()
            try:
                rc = seccomp_export_bpf_mem(self.ctx, NULL, &size)
                if rc == 0:
                    out = PyBytes_FromStringAndSize(NULL, size)
                    rc = seccomp_export_bpf_mem(self.ctx, PyBytes_AS_STRING(out), &size)
            finally:
                self._unlock()
            if rc < 0:
                fail(rc, "cannot export BPF")
            return out
        return _via_memfd(self._export_bpf_fd)

    def _export_pfc_str(self):
        """The filter as libseccomp's pseudo filter code (text)."""
        return _via_memfd(self._export_pfc_fd).decode()

    # -- notification, transactions, precompute ----------------------------------------------

    def notify_fd(self):
        """libseccomp's notification fd for this process (after a filter with NOTIFY rules
        was loaded through libseccomp), or an error."""
        cdef int rc
        self._lock()
        try:
            rc = seccomp_notify_fd(self.ctx)
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "no notification fd")
        return rc

    def _transaction_start(self):
        """Start a transaction: the changes made until the matching `_transaction_reject()`
        are undone by it (rules, architectures, attributes, priorities, merges); transactions
        nest. Rejecting replays the journal up to the start (see _saved), with any libseccomp."""
        self._lock()  # a clear error if the filter is gone
        self._unlock()
        if self._saved is None:
            self._saved = []
        self._saved.append(self._journal_length())

    def _transaction_commit(self):
        """Keep the changes of the innermost transaction."""
        if not self._saved:
            invalid("no transaction is open")
        self._lock()
        self._unlock()
        self._saved.pop()

    def _transaction_reject(self):
        """Undo the changes of the innermost transaction."""
        if not self._saved:
            invalid("no transaction is open")
        self._lock()
        self._unlock()
        self._rewind(self._saved.pop())

    cdef int _rewind(self, Py_ssize_t length) except -1:
        """Back to the state after the journal's first *length* changes: a reset context
        that is given them again."""
        kept = self._journal_items()[:length]
        outer = self._saved
        Filter.reset(self, self.initial_default)  # (not a subclass's)
        for change in kept:
            self._apply(change)
        self._saved = outer
        return 0

    def precompute(self):
        """Generate the BPF now (libseccomp >= 2.6), so a later load() does no allocation."""
        if not _HAVE_2_6:
            require("precompute")
        cdef int rc
        self._lock()
        try:
            rc = seccomp_precompute(self.ctx)
        finally:
            self._unlock()
        if rc < 0:
            fail(rc, "cannot precompute filter")


# Messages name the public class ("descriptor 'add_rule' for 'seccomp.Filter' objects"), not
# this private module: seccomp.Filter is this class with the Python layer's methods added.
(<PyTypeObject *>Filter).tp_name = b"seccomp.Filter"


# Making a filter through a Python subclass (seccomp.Filter, seccomp.SyscallFilter) goes
# through type.__call__: an argument tuple, __new__, a lookup of __init__ and its call: about
# as many instructions as libseccomp's seccomp_init (callgrind). made_in_c(cls) gives a class a
# vectorcall (CPython's field for calling a type; never inherited by subclasses) that does
# what type.__call__ would for the usual call, ``cls(default_action)``: Filter.__new__, then
# the work of the class's __init__, the core's own. Any other call, and every call once the
# class or a base was changed after made_in_c() (CPython then gives it a new version tag),
# goes through type.__call__.
cdef extern from "Python.h":
    ctypedef struct _TypeCall "PyTypeObject":
        unsigned int tp_version_tag
        void *tp_vectorcall
    Py_ssize_t PyVectorcall_NARGS(size_t nargsf)

# The classes made in C, their version tags then, and whether their filters have TSYNC.
cdef enum:
    _MADE_MAX = 4
cdef PyObject *_made_types[_MADE_MAX]
cdef unsigned int _made_tags[_MADE_MAX]
cdef bint _made_tsync[_MADE_MAX]
cdef tuple _NO_ARGS = ()


def made_in_c(cls):
    """Make calls of *cls*, a subclass of Filter whose __init__ and __new__ are the core's
    (`Filter.__init__`, or `Filter._compat_init` for TSYNC off), run in C. Returns whether
    they do (False where the interpreter gives the class no version tag)."""
    if not (isinstance(cls, type) and type(cls) is type and issubclass(cls, Filter)
            and cls.__new__ is Filter.__new__):
        raise TypeError("made_in_c() takes a subclass of Filter with its __new__")
    if cls.__init__ is Filter.__init__:
        tsync = True
    elif cls.__init__ is Filter._compat_init:
        tsync = False
    else:
        raise TypeError("made_in_c() takes a subclass of Filter with the core's __init__")
    cdef _TypeCall *t = <_TypeCall *><PyObject *>cls
    cdef int i
    for i in range(_MADE_MAX):
        if _made_types[i] == NULL or _made_types[i] == <PyObject *>cls:
            break
    else:
        raise ValueError("made_in_c() serves at most %d classes" % _MADE_MAX)
    getattr(cls, "__init__")  # a lookup gives the class a version tag
    if t.tp_version_tag == 0:
        return False
    if _made_types[i] == NULL:
        Py_INCREF(cls)  # (kept for ever: the class's vectorcall is this module's)
    _made_types[i], _made_tags[i], _made_tsync[i] = <PyObject *>cls, t.tp_version_tag, tsync
    t.tp_vectorcall = <void *>_call_made_type
    return True


cdef PyObject *_call_made_type(PyObject *cls, PyObject **args, size_t nargsf,
                               PyObject *kwnames) except NULL:
    cdef Py_ssize_t n = PyVectorcall_NARGS(nargsf), i
    cdef object made
    for i in range(_MADE_MAX):
        if (_made_types[i] == cls and kwnames == NULL and n == 1
                and (<_TypeCall *>cls).tp_version_tag == _made_tags[i]):
            made = (<PyTypeObject *>cls).tp_new(<type>cls, <PyObject *>_NO_ARGS, NULL)
            (<Filter>made)._setup(<object>args[0], _made_tsync[i])
            break
    else:  # as type.__call__
        kw = {name: <object>args[n + k] for k, name in enumerate(<tuple>kwnames)} \
            if kwnames != NULL else {}
        made = type.__call__(<object>cls, *[<object>args[k] for k in range(n)], **kw)
    Py_INCREF(made)
    return <PyObject *>made


def _via_memfd(write):
    """Run write(fd) on an anonymous memory file and return what it wrote."""
    fd = os.memfd_create("seccomp-export", os.MFD_CLOEXEC)
    try:
        write(fd)
        size = os.lseek(fd, 0, os.SEEK_END)
        return os.pread(fd, size, 0)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Precomputed programs and the kernel interface
# ---------------------------------------------------------------------------------------------

#: The kernel's seccomp(2) filter flags.
FILTER_FLAGS = {
    "TSYNC": SECCOMP_FILTER_FLAG_TSYNC, "LOG": SECCOMP_FILTER_FLAG_LOG,
    "SPEC_ALLOW": SECCOMP_FILTER_FLAG_SPEC_ALLOW,
    "NEW_LISTENER": SECCOMP_FILTER_FLAG_NEW_LISTENER,
    "TSYNC_ESRCH": SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
    "WAIT_KILLABLE_RECV": SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}
#: The most instructions the kernel accepts in one filter (BPF_MAXINSNS).
MAX_INSTRUCTIONS = BPF_MAXINSNS


cdef class Program:
    """A ready BPF program and the seccomp(2) flags to load it with.

    ``load()`` makes only the prctl(2) and seccomp(2) calls, with the GIL released and no
    allocation, so it may run between fork() and exec(); libseccomp is not involved.
    """
    cdef readonly bytes bpf
    cdef readonly unsigned int flags
    cdef readonly bint no_new_privs
    cdef sock_fprog fprog

    def __init__(self, bytes bpf not None, unsigned int flags=0, bint no_new_privs=True):
        cdef Py_ssize_t n = len(bpf)
        if n == 0 or n % 8:
            invalid("a BPF program is a non-empty sequence of 8-byte instructions, not %d "
                    "bytes" % n)
        if n // 8 > MAX_INSTRUCTIONS:
            invalid("the filter has %d instructions; the kernel accepts at most %d"
                    % (n // 8, MAX_INSTRUCTIONS))
        self.bpf = bpf
        self.flags = flags
        self.no_new_privs = no_new_privs
        self.fprog.len = <unsigned short>(n // 8)
        self.fprog.filter = <sock_filter *>PyBytes_AS_STRING(self.bpf)

    def __len__(self):
        return self.fprog.len

    def __repr__(self):
        names = [k for k, v in FILTER_FLAGS.items() if self.flags & v]
        return "<Program %d instructions, flags=%s, no_new_privs=%s>" % (
            self.fprog.len, "|".join(names) or "0", self.no_new_privs)

    def load(self):
        """Install the program for this process. Returns the listener fd when loaded with
        NEW_LISTENER, else 0. Irreversible."""
        cdef long rc
        with nogil:
            rc = scmpy_load_program(&self.fprog, self.flags, self.no_new_privs)
        if rc < 0:
            if rc == -EINVAL:
                fail(rc, "the kernel rejected the filter (%d instructions, flags 0x%x)"
                     % (self.fprog.len, self.flags), "invalid program or unsupported flag")
            if rc == -EACCES:
                fail(rc, "the kernel refused the filter",
                     "set no_new_privs or run with CAP_SYS_ADMIN")
            if rc == -EBUSY and self.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER:
                fail(rc, "a filter with a notification listener is already loaded in this "
                         "process", "the kernel allows one listener per filter chain")
            fail(rc, "cannot load filter")
        if (self.flags & SECCOMP_FILTER_FLAG_TSYNC and rc > 0
                and not self.flags & SECCOMP_FILTER_FLAG_NEW_LISTENER):
            fail(ESRCH, "thread %d could not be synchronised to the filter" % rc,
                 "it has a filter that is not an ancestor of this one")
        return rc


def action_available(action):
    """Whether the running kernel knows an action (SECCOMP_GET_ACTION_AVAIL)."""
    cdef uint32_t act = _action(action) & 0xFFFF0000U
    if act == 0x80000000U or act == 0:
        act = action
    cdef long rc = scmpy_seccomp_op(SECCOMP_GET_ACTION_AVAIL, 0, &act)
    if rc == -EOPNOTSUPP:
        return False
    if rc < 0:
        fail(rc, "cannot query action %s" % (describe_action(action),))
    return True


def filter_flags_available(unsigned int flags):
    """Whether the running kernel accepts seccomp(2) filter *flags* (`FILTER_FLAGS` values,
    or-ed): SECCOMP_SET_MODE_FILTER without a program fails with EFAULT only once the flags
    were accepted (EINVAL: one is unknown). Loads nothing."""
    return scmpy_seccomp_op(SECCOMP_SET_MODE_FILTER, flags, NULL) == -EFAULT


def notif_sizes():
    """The kernel's (seccomp_notif, seccomp_notif_resp, seccomp_data) sizes."""
    cdef uint16_t sizes[3]
    cdef long rc = scmpy_seccomp_op(SECCOMP_GET_NOTIF_SIZES, 0, sizes)
    if rc < 0:
        fail(rc, "cannot read notification sizes")
    return (sizes[0], sizes[1], sizes[2])


include "_rule_guard.pxi"
