"""The API of libseccomp's own Python module (Debian's python3-seccomp), on this package's core.

Code written for that module runs unchanged: ``from seccomp import *`` gives the same names
(``SyscallFilter``, ``Arg``, ``ALLOW``, ``ERRNO()``, ``EQ``, ``resolve_syscall``, ...), and the
same rules give byte-identical BPF and PFC. Where that module is wrong this one is right; the
README's "Coming from libseccomp's Python module" lists each difference.
"""
from __future__ import annotations

import errno

from . import _core
from ._core import Cond, resolve_syscall
from ._errors import OutOfRangeError, SeccompError
from ._enums import Action, Arch, Op
from ._filter import Filter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Optional, Union

__all__ = [
    "KILL_PROCESS", "KILL", "TRAP", "LOG", "ALLOW", "NOTIFY", "ERRNO", "TRACE",
    "NE", "LT", "LE", "EQ", "GE", "GT", "MASKED_EQ",
    "Arg", "SyscallFilter", "resolve_syscall", "system_arch", "get_api", "set_api", "c_str",
    "OutOfRangeError",
]

KILL_PROCESS = Action.KILL_PROCESS
KILL = Action.KILL
TRAP = Action.TRAP
LOG = Action.LOG
ALLOW = Action.ALLOW
NOTIFY = Action.NOTIFY
ERRNO = Action.ERRNO
TRACE = Action.TRACE

NE = Op.NE
LT = Op.LT
LE = Op.LE
EQ = Op.EQ
GE = Op.GE
GT = Op.GT
MASKED_EQ = Op.MASKED_EQ

_U32_MAX = 0xFFFFFFFF
_U64_MAX = 0xFFFFFFFFFFFFFFFF


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class Arg(Cond):
    """A condition under libseccomp's module's name: ``Arg(arg, op, datum_a, datum_b=0)``.

    A `Cond` (accepted wherever one is), with that module's argument names. For ``MASKED_EQ``
    *datum_a* is the mask and *datum_b* the value the masked argument must equal. An operand
    out of range 0..2**64-1 raises `OutOfRangeError` (also an OverflowError), as there."""

    __slots__ = ()

    if TYPE_CHECKING:
        def __init__(self, arg: int, op: int, datum_a: int, datum_b: int = 0) -> None: ...
    else:
        __init__ = Cond._compat_init  # the core's: making an Arg runs no Python code


_compat_init = _core.Filter._compat_init


class SyscallFilter(Filter):
    """A filter with the interface of libseccomp's module: ``SyscallFilter(defaction)``.

    Unlike `Filter`, TSYNC is off by default (that module's default) and adding a present
    architecture or removing an absent one raises, as there. `reset()` without an argument
    keeps the default action, and a filter merged into another raises a clear error instead
    of crashing. Transactions and `precompute()` work with libseccomp 2.5 too (the core
    journals the changes and replays them to reject a transaction)."""

    # (the core's change count, Program) after precompute() on libseccomp 2.5; unset before
    __slots__ = ("_program",)

    if TYPE_CHECKING:
        def __init__(self, defaction: int) -> None: ...
    else:
        # The core's constructor (no Python code runs): TSYNC off, as that module's filters.
        __init__ = _compat_init

    # add_rule, add_rule_exact and syscall_priority are the core's, as on Filter.

    def add_rule_exactly(self, action: int, syscall: Union[int, str], *args: Cond) -> None:
        """Add a rule exactly as given (no rewriting for multiplexed syscalls): that module's
        name for `add_rule_exact`."""
        self.add_rule_exact(action, syscall, *args)

    def merge(self, filter: _core.Filter) -> None:  # noqa: A002 - that module's name
        """Merge *filter* (same attributes, no shared architecture) into this one; *filter*
        is consumed and raises on any later use."""
        _core.Filter.merge(self, filter)

    def reset(self, defaction: Optional[int] = None) -> None:
        """Start over with no rules; the default action stays unless *defaction* is given."""
        _core.Filter.reset(self, defaction)

    # -- that module's names --------------------------------------------------------------------

    def exist_arch(self, arch: int) -> bool:
        """Whether the filter covers *arch*."""
        return bool(self._arch_exist(Arch(arch)))

    def add_arch(self, arch: Union[Arch, int, str]) -> None:
        """Cover another architecture (later rules apply to it); raises if it is present."""
        self._arch_add(Arch(arch), False)

    def remove_arch(self, arch: Union[Arch, int, str]) -> None:
        """Stop covering an architecture; raises if it is absent."""
        self._arch_remove(Arch(arch), False)

    def get_attr(self, attr: int) -> int:
        """The value of a filter attribute (`Attr`)."""
        return self._attr_get(attr)

    def set_attr(self, attr: int, value: int) -> None:
        """Set a filter attribute (`Attr`) to a 32-bit value; a negative one (that module's
        parameter was a C int) stands for its unsigned 32-bit value."""
        if _is_int(value):
            if -0x80000000 <= value < 0:
                value += 0x100000000
            elif not 0 <= value <= _U32_MAX:
                raise OutOfRangeError(errno.EINVAL, "attribute value %r is out of range "
                                                    "-2**31..2**32-1" % value)
        self._attr_set(attr, value)

    def export_bpf_mem(self) -> bytes:
        """The BPF program as bytes."""
        return self.export_bpf()

    # export_pfc(file=None) and export_bpf(file=None) are Filter's: write to *file* (a file
    # object or fd), or without one return the text or bytes, as libseccomp's module does.

    # -- transactions and precompute --------------------------------------------------------------

    def start_transaction(self) -> None:
        """Start a transaction: later changes (rules, architectures, attributes) can be
        committed or rejected together; transactions nest."""
        self._transaction_start()

    def commit_transaction(self) -> None:
        """Keep the changes of the innermost transaction."""
        self._transaction_commit()

    def reject_transaction(self) -> None:
        """Undo the changes of the innermost transaction."""
        self._transaction_reject()

    def precompute(self) -> None:
        """Generate the BPF now, so that `load()` only hands it to the kernel."""
        if _core.HAVE_LIBSECCOMP_2_6:
            return Filter.precompute(self)
        if not self.has_notify_rules:  # libseccomp keeps the notify fd only if it loads
            self._program = (self._changes, self.compile())

    def load(self) -> None:
        """Load the filter into the kernel (irreversible)."""
        precomputed = getattr(self, "_program", None)
        if precomputed is not None and precomputed[0] == self._changes:
            precomputed[1].load()
        else:
            Filter.load(self)

    # -- notifications ----------------------------------------------------------------------------

    def get_notify_fd(self) -> int:
        """libseccomp's notification fd, valid after `load()` of a filter with NOTIFY rules."""
        try:
            return self.notify_fd()
        except SeccompError as exc:
            raise SeccompError(exc.errno, "notifications are not enabled: load a filter with "
                                          "NOTIFY rules first") from None

    def receive_notify(self, fd: Optional[int] = None) -> Any:
        """Wait for a notification on *fd* (default: this process's libseccomp fd)."""
        from . import _notify
        return _notify.receive(self.get_notify_fd() if fd is None else fd)

    def respond_notify(self, response: Any, fd: Optional[int] = None) -> None:
        """Answer a notification with a `NotificationResponse`."""
        from . import _notify
        _notify.respond(self.get_notify_fd() if fd is None else fd, response)

    def notify_id_valid(self, id: int, fd: Optional[int] = None) -> bool:  # noqa: A002
        """Whether notification *id* is still pending (its target has not gone away)."""
        from . import _notify
        return _notify.id_valid(self.get_notify_fd() if fd is None else fd, id)

    def notify_addfd(self, addfd: Any, fd: Optional[int] = None) -> int:
        """Install an fd in the target of a notification (`NotificationAddfd`); returns the
        fd number it got in the target."""
        from . import _notify
        return _notify.add_fd(self.get_notify_fd() if fd is None else fd, addfd)


# SyscallFilter(defaction) runs in C, as libseccomp's module's constructor does.
_core.made_in_c(SyscallFilter)


def system_arch() -> int:
    """The native architecture's token."""
    return int(Arch.native())


def get_api() -> int:
    """libseccomp's API level."""
    return _core.api_get()


def set_api(level: int) -> None:
    """Force libseccomp's API level (for testing; normally detected)."""
    if not _is_int(level):
        raise TypeError("API level must be an int, not %s" % type(level).__name__)
    if not 0 <= level <= _U32_MAX:
        raise OutOfRangeError(errno.EINVAL, "API level %r is out of range 0..2**32-1" % level)
    _core.api_set(level)


def c_str(string: str) -> bytes:
    """*string* as ASCII bytes (that module's helper, kept for code that calls it)."""
    return bytes(string, "ascii")
