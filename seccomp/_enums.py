"""Actions, architectures, comparison operators and filter attributes.

Their values are libseccomp's own numbers, so they mix freely with plain ints and with the
constants of libseccomp's Python module. `Arch`, `Op` and `Attr` behave as ``enum.IntEnum``
classes do (members by name and value, iteration, ``len``, ``in``, ``.name``, ``.value``)
without importing `enum`, which would be most of the cost of ``import seccomp``.
"""
from __future__ import annotations


from . import _core
from ._errors import MIN_VERSION, invalid

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, Iterator, Optional, Tuple, Union

# The oldest libseccomp this package supports: what MIN_VERSION does not list works there.
_OLDEST = (2, 5, 0)

__all__ = ["Action", "Arch", "Op", "Attr"]

_NO_VALUE: Any = object()

#: Bits of an architecture token (the kernel's AUDIT_ARCH value): a 64-bit, a little-endian ABI.
AUDIT_ARCH_64BIT = 0x80000000
AUDIT_ARCH_LE = 0x40000000
#: On x86_64, the syscall numbers of the x32 ABI have this bit set (__X32_SYSCALL_BIT).
X32_SYSCALL_BIT = 0x40000000

#: The bits of an action value that say which action it is (the kernel's
#: SECCOMP_RET_ACTION_FULL); the low 16 bits are ERRNO's errno or TRACE's message.
ACTION_KIND_MASK = 0xFFFF0000
#: The largest errno libseccomp accepts in an ERRNO action: it wants less than the kernel's
#: MAX_ERRNO (4095); a larger value would not even read as an error (-5000 is a valid result).
LARGEST_ERRNO = 4094


def precedence(action: int) -> int:
    """Sort key of a filter's 32-bit return value, lower first: the kernel's order of actions
    (the value read as a signed int: KILL_PROCESS, KILL_THREAD, TRAP, ERRNO, NOTIFY, TRACE,
    LOG, ALLOW), then the smaller data. ``precedence(a & ACTION_KIND_MASK)`` is the order
    alone, which the kernel applies across stacked filters."""
    return action - (1 << 32) if action & 0x80000000 else action


class Action(int):
    """A filter action: an int holding libseccomp's action value.

    The plain actions are class attributes (``Action.ALLOW``, ``Action.KILL_PROCESS``, ...);
    ``Action.ERRNO(code)`` and ``Action.TRACE(code)`` carry 16 bits of data. ``Action(raw)``
    decodes any valid raw value and rejects invalid ones.
    """

    __slots__ = ()

    KILL_PROCESS: Action
    KILL_THREAD: Action
    KILL: Action
    TRAP: Action
    NOTIFY: Action
    LOG: Action
    ALLOW: Action

    def __new__(cls, value: int) -> Action:
        if type(value) is cls:
            return value
        return super().__new__(cls, _core.check_action(value))

    if TYPE_CHECKING:
        @staticmethod
        def ERRNO(code: int) -> Action:
            """Fail the syscall with errno *code* (0-65535) instead of running it."""

        @staticmethod
        def TRACE(code: int) -> Action:
            """Notify a ptrace tracer, passing *code* (0-65535); ENOSYS without a tracer."""
    else:
        # The core's functions themselves (no Python frame: rules are made by the thousand).
        ERRNO = _core.action_errno
        TRACE = _core.action_trace

    @property
    def kind(self) -> str:
        """The action without its data: 'ALLOW', 'ERRNO', 'TRACE', ..."""
        return str(self).split("(", 1)[0]

    @property
    def data(self) -> Optional[int]:
        """The errno of an ERRNO action, the message of a TRACE action, else None."""
        if int(self) & ACTION_KIND_MASK in (_core.ERRNO_BASE, _core.TRACE_BASE):
            return int(self) & 0xFFFF
        return None

    def __str__(self) -> str:
        return _core.describe_action(int(self))

    def __repr__(self) -> str:
        return "Action." + str(self)

    def __reduce__(self) -> Tuple[type, Tuple[int]]:
        return (Action, (int(self),))

    @classmethod
    def members(cls) -> Dict[str, Action]:
        """The plain actions by name (ERRNO and TRACE are made by their functions)."""
        return {name: cls(value) for name, value in _core.ACTIONS.items()}


for _name, _value in _core.ACTIONS.items():
    setattr(Action, _name, int.__new__(Action, _value))
Action.KILL = Action.KILL_THREAD


class _IntEnumType(type):
    """The class of `Arch`, `Op` and `Attr`: what ``enum.EnumMeta`` gives an ``IntEnum``
    (iteration in definition order, ``len``, ``in``, ``Op["EQ"]``, ``Op(4)``)."""

    _members_: Dict[str, Any]
    _by_value_: Dict[int, Any]
    _names_: Dict[int, str]
    _no_value_: Any  # the class's hooks, as enum's: Arch() is the native one
    _missing_: Any

    def __call__(cls, value: Any = _NO_VALUE) -> Any:
        if value is _NO_VALUE:
            return cls._no_value_()
        if type(value) is cls:
            return value
        try:
            return cls._by_value_[value]
        except (KeyError, TypeError):  # not a value, or unhashable: _missing_ says which
            return cls._missing_(value)

    def __iter__(cls) -> Iterator[Any]:
        return iter(cls._by_value_.values())

    def __reversed__(cls) -> Iterator[Any]:
        return iter(list(cls._by_value_.values())[::-1])

    def __len__(cls) -> int:
        return len(cls._by_value_)

    def __contains__(cls, value: object) -> bool:
        try:
            return value in cls._by_value_
        except TypeError:
            return False

    def __getitem__(cls, name: str) -> Any:
        return cls._members_[name]

    @property
    def __members__(cls) -> Dict[str, Any]:
        """Every member by name (aliases included)."""
        return dict(cls._members_)


class _IntEnum(int, metaclass=_IntEnumType):
    """An int that is one of its class's named values."""

    __slots__ = ()

    @classmethod
    def _no_value_(cls) -> Any:
        raise TypeError("%s() needs a value" % cls.__name__)

    @classmethod
    def _missing_(cls, value: object) -> Any:
        invalid("%r is not a valid %s" % (value, cls.__name__))

    @property
    def name(self) -> str:
        """The member's name: 'X86_64', 'EQ', ..."""
        names: Dict[int, str] = type(self)._names_
        return names[int(self)]

    @property
    def value(self) -> int:
        """The member's value, a plain int."""
        return int(self)

    def __repr__(self) -> str:
        return "<%s.%s: %d>" % (type(self).__name__, self.name, self)

    __str__ = int.__repr__
    __format__ = int.__format__

    def __reduce__(self) -> Tuple[type, Tuple[int]]:
        return (type(self), (int(self),))


def _set_members(cls: Any, values: Dict[str, int]) -> None:
    """Make the members of an `_IntEnum` class from their names and values."""
    cls._members_, cls._by_value_, cls._names_ = {}, {}, {}
    for name, value in values.items():
        member = cls._by_value_.get(value) or int.__new__(cls, value)  # a second name: an alias
        cls._by_value_.setdefault(value, member)
        cls._names_.setdefault(value, name)
        cls._members_[name] = member
        setattr(cls, name, member)


class Arch(_IntEnum):
    """An architecture, valued by its libseccomp token (the kernel's AUDIT_ARCH value).

    ``Arch("amd64")`` and ``Arch("arm64")`` accept libseccomp's names, common aliases and the
    OCI runtime-spec's ``SCMP_ARCH_*`` spellings. ``Arch.NATIVE`` (0) stands for the native one,
    and ``Arch()`` is the native architecture, as in libseccomp's module.
    """

    __slots__ = ()

    if TYPE_CHECKING:  # Arch() is the native arch; Arch("amd64") takes names and aliases
        def __new__(cls, value: Union[int, str, bytes] = ...) -> Arch: ...

    NATIVE: Arch
    X86: Arch
    X86_64: Arch
    X32: Arch
    ARM: Arch
    AARCH64: Arch
    LOONGARCH64: Arch
    M68K: Arch
    MIPS: Arch
    MIPS64: Arch
    MIPS64N32: Arch
    MIPSEL: Arch
    MIPSEL64: Arch
    MIPSEL64N32: Arch
    PPC: Arch
    PPC64: Arch
    PPC64LE: Arch
    S390: Arch
    S390X: Arch
    PARISC: Arch
    PARISC64: Arch
    RISCV64: Arch
    SH: Arch
    SHEB: Arch

    @classmethod
    def _no_value_(cls) -> Arch:
        return cls.native()

    @classmethod
    def _missing_(cls, value: object) -> Optional["Arch"]:
        if isinstance(value, (str, bytes)):
            return cls(_core.arch_token(value))
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("architecture must be an Arch, a name or an int token, not %s"
                            % type(value).__name__)
        if -(1 << 31) <= value < 0:
            return cls(value & 0xFFFFFFFF)  # a token read as a signed 32-bit int
        invalid("unknown architecture %r" % (value,))

    @classmethod
    def native(cls) -> "Arch":
        """The architecture this process runs on."""
        return cls(_core.arch_native())

    @property
    def libseccomp_name(self) -> str:
        """libseccomp's name: 'x86_64', 'aarch64', ... ('native' for NATIVE)."""
        return _core.arch_name(int(self))

    @property
    def resolved(self) -> "Arch":
        """This architecture, with NATIVE replaced by the real one."""
        return Arch.native() if self is Arch.NATIVE else self

    @property
    def min_libseccomp(self) -> Tuple[int, int, int]:
        """The oldest libseccomp version that knows this architecture."""
        return MIN_VERSION.get("architecture " + self.libseccomp_name, _OLDEST)

    @classmethod
    def known(cls) -> Iterator["Arch"]:
        """Every real architecture (not NATIVE) the libseccomp in use supports."""
        version = _core.version()
        return (a for a in cls if a is not cls.NATIVE and a.min_libseccomp <= version)

    def __str__(self) -> str:
        return self.libseccomp_name


_set_members(Arch, {"NATIVE": 0, **{name.upper(): token
                                    for name, token in _core.ARCH_TOKENS.items()}})


class Op(_IntEnum):
    """Comparison operators for `Cond`: the argument compared with the value."""

    __slots__ = ()

    NE: Op
    LT: Op
    LE: Op
    EQ: Op
    GE: Op
    GT: Op
    #: (argument & value) == value2: the mask comes first.
    MASKED_EQ: Op


_set_members(Op, _core.OPERATORS)


class Attr(_IntEnum):
    """Filter attributes (seccomp_attr_get/set). `Filter` exposes each as a property."""

    __slots__ = ()

    ACT_DEFAULT: Attr
    ACT_BADARCH: Attr
    CTL_NNP: Attr
    CTL_TSYNC: Attr
    API_TSKIP: Attr
    CTL_LOG: Attr
    CTL_SSB: Attr
    CTL_OPTIMIZE: Attr
    API_SYSRAWRC: Attr
    CTL_WAITKILL: Attr

    @property
    def min_libseccomp(self) -> Tuple[int, int, int]:
        """The oldest libseccomp version that has this attribute."""
        return MIN_VERSION.get("attribute " + self.name, _OLDEST)


_set_members(Attr, _core.ATTRIBUTES)

_core.set_python_types(Action, Arch)  # the core's results (ERRNO(), Notification.arch)
