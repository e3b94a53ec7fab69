"""Actions, architectures, comparison operators and filter attributes.

Their values are libseccomp's own numbers, so they mix freely with plain ints and with the
constants of libseccomp's Python module.
"""
from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any, Dict, Iterator, Optional, Tuple, Union

from . import _core
from ._errors import MIN_VERSION, invalid

# The oldest libseccomp this package supports: what MIN_VERSION does not list works there.
_OLDEST = (2, 5, 0)

__all__ = ["Action", "Arch", "Op", "Attr"]

_NO_VALUE: Any = object()


class Action(int):
    """A filter action: an int holding libseccomp's action value.

    The plain actions are class attributes (``Action.ALLOW``, ``Action.KILL_PROCESS``, ...);
    ``Action.ERRNO(code)`` and ``Action.TRACE(code)`` carry 16 bits of data. ``Action(raw)``
    decodes any valid raw value and rejects invalid ones.
    """

    __slots__ = ()

    KILL_PROCESS: "Action"
    KILL_THREAD: "Action"
    KILL: "Action"
    TRAP: "Action"
    NOTIFY: "Action"
    LOG: "Action"
    ALLOW: "Action"

    _ERRNO_BASE = 0x00050000
    _TRACE_BASE = 0x7FF00000

    def __new__(cls, value: int) -> "Action":
        if isinstance(value, Action):
            return value
        _core.describe_action(_checked_u32(value))  # raises for invalid values
        return super().__new__(cls, value)

    @classmethod
    def ERRNO(cls, code: int) -> "Action":
        """Fail the syscall with errno *code* (0-65535) instead of running it."""
        return cls(cls._ERRNO_BASE | _checked_data(code, "errno"))

    @classmethod
    def TRACE(cls, code: int) -> "Action":
        """Notify a ptrace tracer, passing *code* (0-65535); ENOSYS without a tracer."""
        return cls(cls._TRACE_BASE | _checked_data(code, "trace message"))

    @property
    def kind(self) -> str:
        """The action without its data: 'ALLOW', 'ERRNO', 'TRACE', ..."""
        return str(self).split("(", 1)[0]

    @property
    def data(self) -> Optional[int]:
        """The errno of an ERRNO action, the message of a TRACE action, else None."""
        base = int(self) & 0xFFFF0000
        if base in (self._ERRNO_BASE, self._TRACE_BASE):
            return int(self) & 0xFFFF
        return None

    def __str__(self) -> str:
        return _core.describe_action(int(self))

    def __repr__(self) -> str:
        return "Action." + str(self)

    def __reduce__(self) -> Tuple[type, Tuple[int]]:
        return (Action, (int(self),))

    @classmethod
    def members(cls) -> Dict[str, "Action"]:
        """The plain actions by name (ERRNO and TRACE are made by their functions)."""
        return {name: cls(value) for name, value in _core.ACTIONS.items()}


def _checked_u32(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("an action is an int, not %s" % type(value).__name__)
    if not 0 <= value <= 0xFFFFFFFF:
        invalid("invalid action %r" % (value,))
    return value


def _checked_data(code: object, what: str) -> int:
    if not isinstance(code, int) or isinstance(code, bool):
        raise TypeError("%s must be an int, not %s" % (what, type(code).__name__))
    if not 0 <= code <= 0xFFFF:
        invalid("%s %r is out of range 0-65535" % (what, code))
    return code


for _name, _value in _core.ACTIONS.items():
    setattr(Action, _name, int.__new__(Action, _value))
Action.KILL = Action.KILL_THREAD


# Common names for architectures (Debian, Go, uname -m, the OCI runtime-spec) -> libseccomp's.


class _ArchType(enum.EnumMeta):
    """`Arch()` with no value is the native architecture, as in libseccomp's module."""

    def __call__(cls, value: Any = _NO_VALUE, *args: Any, **kwargs: Any) -> Any:
        if value is _NO_VALUE:
            return Arch.native()
        return super().__call__(value, *args, **kwargs)


class Arch(enum.IntEnum, metaclass=_ArchType):
    """An architecture, valued by its libseccomp token (the kernel's AUDIT_ARCH value).

    ``Arch("amd64")`` and ``Arch("arm64")`` accept libseccomp's names, common aliases and the
    OCI runtime-spec's ``SCMP_ARCH_*`` spellings. ``Arch.NATIVE`` (0) stands for the native one.
    """

    if TYPE_CHECKING:  # Arch() is the native arch; Arch("amd64") takes names and aliases
        def __new__(cls, value: Union[int, str, bytes] = ...) -> "Arch": ...

    NATIVE = 0
    X86 = _core.ARCH_TOKENS["x86"]
    X86_64 = _core.ARCH_TOKENS["x86_64"]
    X32 = _core.ARCH_TOKENS["x32"]
    ARM = _core.ARCH_TOKENS["arm"]
    AARCH64 = _core.ARCH_TOKENS["aarch64"]
    LOONGARCH64 = _core.ARCH_TOKENS["loongarch64"]
    M68K = _core.ARCH_TOKENS["m68k"]
    MIPS = _core.ARCH_TOKENS["mips"]
    MIPS64 = _core.ARCH_TOKENS["mips64"]
    MIPS64N32 = _core.ARCH_TOKENS["mips64n32"]
    MIPSEL = _core.ARCH_TOKENS["mipsel"]
    MIPSEL64 = _core.ARCH_TOKENS["mipsel64"]
    MIPSEL64N32 = _core.ARCH_TOKENS["mipsel64n32"]
    PPC = _core.ARCH_TOKENS["ppc"]
    PPC64 = _core.ARCH_TOKENS["ppc64"]
    PPC64LE = _core.ARCH_TOKENS["ppc64le"]
    S390 = _core.ARCH_TOKENS["s390"]
    S390X = _core.ARCH_TOKENS["s390x"]
    PARISC = _core.ARCH_TOKENS["parisc"]
    PARISC64 = _core.ARCH_TOKENS["parisc64"]
    RISCV64 = _core.ARCH_TOKENS["riscv64"]
    SH = _core.ARCH_TOKENS["sh"]
    SHEB = _core.ARCH_TOKENS["sheb"]

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


class Op(enum.IntEnum):
    """Comparison operators for `Cond`: the argument compared with the value."""

    NE = _core.OPERATORS["NE"]
    LT = _core.OPERATORS["LT"]
    LE = _core.OPERATORS["LE"]
    EQ = _core.OPERATORS["EQ"]
    GE = _core.OPERATORS["GE"]
    GT = _core.OPERATORS["GT"]
    #: (argument & value) == value2: the mask comes first.
    MASKED_EQ = _core.OPERATORS["MASKED_EQ"]


class Attr(enum.IntEnum):
    """Filter attributes (seccomp_attr_get/set). `Filter` exposes each as a property."""

    ACT_DEFAULT = _core.ATTRIBUTES["ACT_DEFAULT"]
    ACT_BADARCH = _core.ATTRIBUTES["ACT_BADARCH"]
    CTL_NNP = _core.ATTRIBUTES["CTL_NNP"]
    CTL_TSYNC = _core.ATTRIBUTES["CTL_TSYNC"]
    API_TSKIP = _core.ATTRIBUTES["API_TSKIP"]
    CTL_LOG = _core.ATTRIBUTES["CTL_LOG"]
    CTL_SSB = _core.ATTRIBUTES["CTL_SSB"]
    CTL_OPTIMIZE = _core.ATTRIBUTES["CTL_OPTIMIZE"]
    API_SYSRAWRC = _core.ATTRIBUTES["API_SYSRAWRC"]
    CTL_WAITKILL = _core.ATTRIBUTES["CTL_WAITKILL"]

    @property
    def min_libseccomp(self) -> Tuple[int, int, int]:
        """The oldest libseccomp version that has this attribute."""
        return MIN_VERSION.get("attribute " + self.name, _OLDEST)
