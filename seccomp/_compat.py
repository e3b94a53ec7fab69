"""The API of libseccomp's own Python module (Debian's python3-seccomp), on this package's core.

Code written for that module runs unchanged: ``from seccomp import *`` gives the same names
(``SyscallFilter``, ``Arg``, ``ALLOW``, ``ERRNO()``, ``EQ``, ``resolve_syscall``, ...), and the
same rules give byte-identical BPF and PFC. Where that module is wrong this one is right; the
README's "Coming from libseccomp's Python module" lists each difference.
"""
from __future__ import annotations

import errno

from . import _core
from ._core import Cond
from ._errors import InvalidArgumentError, OutOfRangeError, SeccompError, invalid, require
from ._enums import Action, Arch, Attr, Op
from ._filter import Filter, Program

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, List, Optional, Tuple, Union

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


_cond_init = Cond.__init__


class Arg(Cond):
    """A condition under libseccomp's module's name: ``Arg(arg, op, datum_a, datum_b=0)``.

    A `Cond` (accepted wherever one is), with that module's argument names. For ``MASKED_EQ``
    *datum_a* is the mask and *datum_b* the value the masked argument must equal."""

    __slots__ = ()

    def __init__(self, arg: int, op: int, datum_a: int, datum_b: int = 0) -> None:
        try:
            _cond_init(self, arg, op, datum_a, datum_b)
        except InvalidArgumentError as exc:
            for value in (datum_a, datum_b):
                if _is_int(value) and not 0 <= value <= _U64_MAX:
                    raise OutOfRangeError(exc.errno, exc.strerror) from None
            raise

# libseccomp 2.5 has no transactions or precompute: SyscallFilter then keeps a journal of its
# changes, replays it to reject a transaction, and keeps a precomputed program for load().
_NATIVE_TRANSACTIONS = bool(_core.HAVE_LIBSECCOMP_2_6)
# What a rejected transaction restores besides rules and arches (ACT_DEFAULT cannot change).
_TRANSACTION_ATTRS = [a for a in Attr if a is not Attr.ACT_DEFAULT and
                      (a is not Attr.CTL_WAITKILL or _NATIVE_TRANSACTIONS)]

_add_rule = _core.Filter.add_rule
_context_init = _core.Filter.__init__


class SyscallFilter(Filter):
    """A filter with the interface of libseccomp's module: ``SyscallFilter(defaction)``.

    Unlike `Filter`, TSYNC is off by default (that module's default) and adding a present
    architecture or removing an absent one raises, as there. `reset()` without an argument
    keeps the default action, and a filter merged into another raises a clear error instead
    of crashing."""

    # _marks: per open transaction, the journal's length (libseccomp 2.5) or the attributes
    # to restore (2.6)
    __slots__ = ("_initial_default", "_journal", "_marks", "_program")

    def __init__(self, defaction: int) -> None:
        _context_init(self, defaction, tsync=False)
        self._initial_default = defaction  # valid: the core checked it
        self._journal: Optional[List[Tuple[Any, ...]]] = [] if not _NATIVE_TRANSACTIONS else None
        self._marks: List[Any] = []
        self._program: Optional[Program] = None

    # -- the journal (libseccomp 2.5) ------------------------------------------------------

    def _record(self, *entry: Any) -> None:
        self._program = None
        if self._journal is not None:
            self._journal.append(entry)

    def _replay(self, entries: List[Tuple[Any, ...]]) -> None:
        for name, *args in entries:
            if name == "merge":
                other = SyscallFilter(args[0])
                other._replay(args[1])
                _core.Filter.merge(self, other)
            else:
                getattr(_core.Filter, name)(self, *args)

    # -- changes: every one goes through the journal ------------------------------------------

    def add_rule(self, action: int, syscall: Union[int, str], *args: Cond) -> None:
        """Add a rule: *action* when *syscall* is called and every `Arg` matches."""
        _add_rule(self, action, syscall, *args)
        self._program = None  # inline _record(): this is the hot path
        journal = self._journal
        if journal is not None:
            journal.append(("add_rule", action, syscall) + args)

    def add_rule_exact(self, action: int, syscall: Union[int, str], *args: Cond) -> None:
        """Add a rule exactly as given (no rewriting for multiplexed syscalls)."""
        _core.Filter.add_rule_exact(self, action, syscall, *args)
        self._record("add_rule_exact", action, syscall, *args)

    add_rule_exactly = add_rule_exact

    def _arch_add(self, arch: Union[int, str], exist_ok: bool = False) -> bool:
        added = _core.Filter._arch_add(self, arch, exist_ok)
        self._record("_arch_add", arch, exist_ok)
        return added

    def _arch_remove(self, arch: Union[int, str], missing_ok: bool = False) -> bool:
        removed = _core.Filter._arch_remove(self, arch, missing_ok)
        self._record("_arch_remove", arch, missing_ok)
        return removed

    def _attr_set(self, attr: int, value: int) -> None:
        _core.Filter._attr_set(self, attr, value)
        self._record("_attr_set", attr, value)

    def syscall_priority(self, syscall: Union[int, str], priority: int) -> None:
        """Give *syscall* a priority (0-255): higher ones are checked sooner."""
        _core.Filter.syscall_priority(self, syscall, priority)
        self._record("syscall_priority", syscall, priority)

    def merge(self, filter: _core.Filter) -> None:  # noqa: A002 - that module's name
        """Merge *filter* (same attributes, no shared architecture) into this one; *filter*
        is consumed and raises on any later use."""
        entry = None
        if self._journal is not None:
            if isinstance(filter, SyscallFilter) and filter._journal is not None:
                entry = ("merge", filter._initial_default, list(filter._journal))
        _core.Filter.merge(self, filter)
        if entry is not None:
            self._record(*entry)
        else:  # a plain Filter keeps no journal: this one cannot be replayed any more
            self._program = None
            self._journal = None

    def reset(self, defaction: Optional[int] = None) -> None:
        """Start over with no rules; the default action stays unless *defaction* is given."""
        _core.Filter.reset(self, defaction)
        if defaction is not None:
            self._initial_default = int(defaction)
        self._journal = [] if not _NATIVE_TRANSACTIONS else None
        self._marks = []
        self._program = None

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
        """Start a transaction: later changes can be committed or rejected together (nested
        transactions are allowed)."""
        if self._journal is not None:
            self._marks.append(len(self._journal))
        elif _NATIVE_TRANSACTIONS:
            # libseccomp's transactions cover rules and arches: attributes are kept here
            snapshot = {a: self._attr_get(a) for a in _TRANSACTION_ATTRS}
            self._transaction_start()
            self._marks.append(snapshot)
        else:
            require("transactions")  # raises: a merged plain Filter leaves no journal

    def commit_transaction(self) -> None:
        """Keep the changes of the innermost transaction."""
        self._innermost_mark()
        if self._journal is None:
            self._transaction_commit()
        self._marks.pop()

    def reject_transaction(self) -> None:
        """Undo the changes of the innermost transaction."""
        mark = self._innermost_mark()
        if self._journal is None:
            self._transaction_reject()
            for attr, value in mark.items():
                _core.Filter._attr_set(self, attr, value)
            self._marks.pop()
            return
        kept = self._journal[:mark]
        marks = self._marks[:-1]
        _core.Filter.reset(self, self._initial_default)
        self._replay(kept)
        self._journal, self._marks, self._program = kept, marks, None

    def _innermost_mark(self) -> Any:
        if not self._marks:
            invalid("no transaction is open")
        return self._marks[-1]

    def precompute(self) -> None:
        """Generate the BPF now, so that `load()` only hands it to the kernel."""
        if _NATIVE_TRANSACTIONS:
            return Filter.precompute(self)
        if not self.has_notify_rules:  # libseccomp keeps the notify fd only if it loads
            self._program = self.compile()

    def load(self) -> None:
        """Load the filter into the kernel (irreversible)."""
        if self._program is not None:
            self._program.load()
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


# (arch, name) -> number and (arch, number) -> name, for those that resolved: they never
# change, and Arch(arch) is slow.
_resolved: Dict[Tuple[Any, Union[int, str]], Union[int, bytes]] = {}


def resolve_syscall(arch: int, syscall: Union[int, str]) -> Union[int, bytes]:
    """A syscall's number from its name (-1 if *arch* has no such syscall), or its name as
    bytes from its number, on architecture *arch*.

    Names resolve the way libseccomp writes them into a filter, as that module did: a
    multiplexed syscall gives its multiplexer (``socket`` on x86 is ``socketcall``, 102)."""
    if type(syscall) is str or type(syscall) is int:
        try:
            return _resolved[arch, syscall]
        except (KeyError, TypeError):  # not yet, or an unhashable arch (Arch() says why)
            pass
    if isinstance(syscall, bool) or not isinstance(syscall, (int, str)):
        raise TypeError("syscall must be an int or a str, not %s" % type(syscall).__name__)
    token = Arch(arch)
    if isinstance(syscall, str):
        try:
            nr = _core.syscall_resolve_name_rewrite(syscall, token)
        except InvalidArgumentError:
            return -1
        _resolved[arch, syscall] = nr
        return nr
    name = _resolved[arch, syscall] = _core.syscall_resolve_num(syscall, token).encode()
    return name


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
