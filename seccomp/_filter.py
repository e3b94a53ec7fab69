"""`Filter`: a seccomp filter built rule by rule, exported or loaded."""
from __future__ import annotations

import errno
import os  # (always loaded by the interpreter: no import cost)

from . import _core
from ._core import Program
from ._errors import SeccompError, UnsupportedError
from ._enums import Action, Arch, Attr

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import IO, Any, Optional, Tuple, Union, overload

__all__ = ["Filter", "Program"]

if TYPE_CHECKING:
    Output = Union[int, IO[Any], None]


def _flag(attr: Attr, doc: str) -> property:
    def get(self: "Filter") -> bool:
        return bool(self._attr_get(attr))

    def set_(self: "Filter", value: bool) -> None:
        if not hasattr(type(value), "__index__"):  # "false" or 0.0 would turn it on
            raise TypeError("filter attribute %s is True or False, not %r" % (attr.name, value))
        self._attr_set(attr, int(bool(value)))

    return property(get, set_, doc=doc)


def _number(attr: Attr, doc: str) -> property:
    def get(self: "Filter") -> int:
        return int(self._attr_get(attr))

    def set_(self: "Filter", value: int) -> None:
        self._attr_set(attr, value)

    return property(get, set_, doc=doc)


class Filter(_core.Filter):
    """A seccomp filter: a default action and rules that override it for some syscalls.

    ``Filter(default_action, *, tsync=True)``

    >>> f = Filter(Action.ALLOW)
    >>> f.add_rule(Action.ERRNO(errno.EPERM), "ptrace")
    >>> f.add_rule(Action.KILL_PROCESS, "socket", Cond(0, Op.EQ, socket.AF_PACKET))
    >>> bpf = f.export_bpf()

    TSYNC is on by default, so `load()` filters every thread of the process (where the
    kernel or library cannot, the filter is made without it). The C context is freed when
    the object is collected, on `release()`, or when the ``with`` block ends. A filter may be
    used from several threads: each call holds the filter's lock.

    Inherited from the core: ``add_rule(action, syscall, *conditions)``,
    ``add_rule_exact(...)``, ``merge(other)``, ``reset(default_action=None)``, ``load()``,
    ``release()``,
    ``syscall_priority(syscall, priority)``, ``precompute()`` and the transaction calls.
    """

    # no instance dict: method lookups stay fast. _listener: the fd `load()` got from the
    # kernel for a program of the library's own with NOTIFY rules (`notify_fd()`)
    __slots__ = ("_checked", "_listener")

    def __repr__(self) -> str:
        if self.released:
            return "<Filter released>"
        try:
            arches = ",".join(str(a) for a in self.arches)
            return "<Filter default=%s arches=%s tsync=%s>" % (
                self.default_action, arches, self.tsync)
        except SeccompError:  # libseccomp refuses every call on a filter with no arch left
            return "<Filter without architectures>"

    def __enter__(self) -> "Filter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # -- export --------------------------------------------------------------------------

    if TYPE_CHECKING:  # no file: the data is returned; a file: it is written, None returned
        @overload
        def export_bpf(self, file: None = None) -> bytes: ...
        @overload
        def export_bpf(self, file: Union[int, IO[Any]]) -> None: ...

    def export_bpf(self, file: Output = None) -> Optional[bytes]:
        """The BPF program as bytes, or written to *file* (a file object or an fd).

        Checked against the filter's rules first (`seccomp.bpf.model`): where libseccomp's
        program does not implement them, the library's own generator makes one that does;
        failing that, `seccomp.bpf.FilterMismatchError`. Never a weaker filter."""
        data = self._checked_bpf()[0]
        if file is None:
            return data
        _write_to(file, lambda fd: _write_all(fd, data), lambda: data)
        return None

    def _checked_bpf(self) -> Tuple[bytes, bool]:
        """The BPF checked against the rules (and finished by `_finish_bpf`), and whether it
        is exactly libseccomp's program (so that libseccomp's own load installs it)."""
        from .bpf import model
        program, libseccomps = model.checked_program(self)
        final = self._finish_bpf(program)
        return final, libseccomps and final == program

    def _finish_bpf(self, program: bytes) -> bytes:
        """A subclass's last step on the checked program (profiles add the ENOSYS stub)."""
        return program

    if TYPE_CHECKING:
        @overload
        def export_pfc(self, file: None = None) -> str: ...
        @overload
        def export_pfc(self, file: Union[int, IO[Any]]) -> None: ...

    def export_pfc(self, file: Output = None) -> Optional[str]:
        """The filter as pseudo filter code (text), or written to *file* (file object or fd).

        libseccomp's text when the program `export_bpf` and `load` use is libseccomp's. When
        it is not (the library generated it, or a profile added its ENOSYS stub), libseccomp's
        text would describe a program that never leaves the library: the text then says so,
        and why, in its comments, followed by the annotated disassembly of the program that
        is used (`seccomp.bpf.disassemble`)."""
        from .bpf import model
        program, libseccomps = model.checked_program(self)
        final = self._finish_bpf(program)
        if libseccomps and final == program:
            if file is None:
                return self._export_pfc_str()
            _write_to(file, self._export_pfc_fd, lambda: self._export_pfc_str().encode())
            return None
        text = _pfc_of_own_program(self, final, libseccomps)
        if file is None:
            return text
        data = text.encode()
        _write_to(file, lambda fd: _write_all(fd, data), lambda: data)
        return None

    def load(self) -> None:
        """Load the filter into the kernel for this process (with TSYNC, for all its threads).

        Irreversible. A failure names its cause: a program over the kernel's 4096
        instructions, or the thread TSYNC could not synchronise. Where libseccomp or the
        kernel refused TSYNC, loading is refused while other threads run (they would stay
        unfiltered) and warned about otherwise. The program is checked against the rules
        first, as for `export_bpf`."""
        if self.tsync_refused:
            _without_tsync()
        program, libseccomps = self._checked_bpf()
        if not libseccomps:
            compiled = self._as_program(program)
            listener = compiled.load()
            if compiled.flags & _core.FILTER_FLAGS["NEW_LISTENER"]:
                self._listener = listener  # libseccomp has none: it did not load this one
            return
        try:
            _core.Filter.load(self)
        except SeccompError as exc:
            failure = exc
        else:
            return
        if len(program) // 8 > _core.MAX_INSTRUCTIONS:
            self.compile()  # raises InvalidArgumentError naming the size
        hidden = failure.errno == errno.ECANCELED or (
            failure.errno == errno.ESRCH and self.tsync)
        if hidden and not self.has_notify_rules:
            # libseccomp 2.5 reports kernel errors as ECANCELED and a failed TSYNC without the
            # thread: loading the same program directly gives the kernel's own answer (nothing
            # was installed by the failed attempt, so this is the same load once more).
            self.compile().load()
            return
        raise failure

    def notify_fd(self) -> int:
        """The notification listener's fd, after `load()` of a filter with NOTIFY rules (or
        the NOTIFY default action); an error before. The process owns it (as with
        libseccomp's): close it when done supervising."""
        try:
            return self._listener
        except AttributeError:  # loaded by libseccomp (or not yet): libseccomp's fd
            return _core.Filter.notify_fd(self)

    def compile(self) -> Program:
        """The filter as a `Program`: its BPF and the seccomp(2) flags its attributes ask for.

        ``Program.load()`` makes no libseccomp call and allocates nothing, so it can run
        between fork() and exec() and is faster than `load()`, which regenerates the BPF.
        The program is checked against the rules first, as for `export_bpf`."""
        return self._as_program(self._checked_bpf()[0])

    def _as_program(self, bpf: bytes) -> Program:
        flags = 0
        if self.tsync:
            flags |= _core.FILTER_FLAGS["TSYNC"]
        if self.log:
            flags |= _core.FILTER_FLAGS["LOG"]
        if self.ssb:
            flags |= _core.FILTER_FLAGS["SPEC_ALLOW"]
        if self.has_notify_rules or self.default_action == Action.NOTIFY:
            flags |= _core.FILTER_FLAGS["NEW_LISTENER"]
            if self.tsync:
                flags |= _core.FILTER_FLAGS["TSYNC_ESRCH"]
            if _core.HAVE_LIBSECCOMP_2_6 and self.wait_kill:
                flags |= _core.FILTER_FLAGS["WAIT_KILLABLE_RECV"]
        return Program(bpf, flags, self.no_new_privs)

    def simulate(self, syscall: Union[int, str], *args: int,
                 arch: Union[Arch, int, str, None] = None, ip: int = 0) -> Action:
        """The action the kernel would take for *syscall* with *args* on *arch* (default the
        native one), worked out from the filter's BPF without loading it (`seccomp.bpf`)."""
        from . import bpf
        return bpf.evaluate(self._checked_bpf()[0], syscall, args, arch=arch, ip=ip)

    def transaction(self) -> "_Transaction":
        """``with f.transaction():`` commits the changes made in the block, or rejects them
        all if it raises: rules, architectures, attributes, priorities, merges (with any
        libseccomp: the filter replays its journal of changes)."""
        return _Transaction(self)

    # -- architectures -------------------------------------------------------------------

    def add_arch(self, arch: Union[Arch, int, str]) -> None:
        """Cover another architecture (rules added later apply to it). Adding one that is
        already there does nothing."""
        self._arch_add(Arch(arch), True)

    def remove_arch(self, arch: Union[Arch, int, str]) -> None:
        """Stop covering an architecture. Removing one that is not there does nothing."""
        self._arch_remove(Arch(arch), True)

    def has_arch(self, arch: Union[Arch, int, str]) -> bool:
        """Whether the filter covers an architecture."""
        return bool(self._arch_exist(Arch(arch)))

    @property
    def arches(self) -> Tuple[Arch, ...]:
        """The architectures the filter covers."""
        return tuple(a for a in Arch.known() if self._arch_exist(a))


    # -- attributes as properties (libseccomp's attributes by their meaning) ----------------

    no_new_privs = _flag(Attr.CTL_NNP, "Set no_new_privs when loading (default True).")
    tsync = _flag(Attr.CTL_TSYNC, "Synchronise every thread of the process on load.")
    log = _flag(Attr.CTL_LOG, "Log every action but ALLOW (SECCOMP_FILTER_FLAG_LOG).")
    ssb = _flag(Attr.CTL_SSB, "Leave the Speculative Store Bypass mitigation off.")
    api_tskip = _flag(Attr.API_TSKIP, "Accept rules for syscall -1 (for tracers).")
    raw_rc = _flag(Attr.API_SYSRAWRC, "Report the kernel's own errno from load().")
    wait_kill = _flag(Attr.CTL_WAITKILL,
                             "Notification waits are killable only (libseccomp >= 2.6).")
    optimize = _number(Attr.CTL_OPTIMIZE,
                              "Filter optimisation: 1 priority-sorted (default), 2 binary tree.")


    @property
    def default_action(self) -> Action:
        """The action for syscalls no rule matches (fixed; `reset()` changes it)."""
        return Action(self._attr_get(Attr.ACT_DEFAULT))

    @property
    def bad_arch_action(self) -> Action:
        """The action for syscalls of an architecture the filter does not cover."""
        return Action(self._attr_get(Attr.ACT_BADARCH))

    @bad_arch_action.setter
    def bad_arch_action(self, action: int) -> None:
        self._attr_set(Attr.ACT_BADARCH, action)



# Filter(default_action) runs in C, as _core.Filter(default_action) does (no Python code).
_core.made_in_c(Filter)

_PFC_START = "#\n# pseudo filter code start\n#\n"


def _pfc_of_own_program(flt: Filter, program: bytes, stub_only: bool) -> str:
    """Pseudo filter code for a program that is not libseccomp's: with only a profile's ENOSYS
    stub in front, libseccomp's text under a note saying so; else why the package generated
    the program, and its annotated disassembly."""
    from .bpf import disassemble, model
    version = ".".join(map(str, _core.version()))
    if stub_only:
        note = ("# The program exported and loaded is libseccomp's below with the ENOSYS stub\n"
                "# (seccomp.bpf.enosys) in front: syscalls the profile does not know fail with\n"
                "# ENOSYS before it runs.\n#\n")
        text = flt._export_pfc_str()
        return _PFC_START + note + text[len(_PFC_START):] if text.startswith(_PFC_START) \
            else note + text
    if flt._held_rules:
        why = ["libseccomp %s would never return from adding these rules, so they were" % version,
               "kept out of it (README, \"Never weaker than asked\"):"]
        why += ["  %s %s %s" % (Action(a), s, ", ".join(map(repr, c)))
                for a, s, c, _exact in flt._held_rules]
    elif getattr(flt, "rule_extras", None) is not None:
        why = ["libseccomp cannot express the rules: conditions only the filter's own BPF",
               "computes (a policy's arithmetic, arguments compared with each other), or an",
               "x32 action of their own."]
    elif model.RuleModel.of(flt).beyond_libseccomp:
        why = ["libseccomp cannot express the rules: a 32-bit comparison other than EQ and",
               "MASKED_EQ, or a 64-bit comparison on x32."]
    else:
        why = ["libseccomp %s's program does not implement the rules (found by the check" % version,
               "against them, seccomp.bpf.model)."]
    head = ["This filter's BPF program was generated by the seccomp package, not by",
            "libseccomp %s:" % version] + why + [
            "libseccomp's pseudo filter code would describe a program that is never",
            "exported or loaded; the program that is, disassembled:"]
    listing = disassemble(program, flt.arches[0] if flt.arches else None)
    return "%s%s\n#\n%s\n#\n# pseudo filter code end\n#\n" % (
        _PFC_START, "\n".join("# " + line for line in head), listing.rstrip("\n"))


def _without_tsync() -> None:
    """Refuse to load a filter meant for every thread when it can only cover this one and
    other threads exist; warn when this is the only thread."""
    import threading
    me = threading.get_native_id()
    others = sorted(int(t) for t in os.listdir("/proc/self/task") if int(t) != me)
    if others:
        raise UnsupportedError(errno.EOPNOTSUPP, "libseccomp or the kernel cannot synchronise "
                               "the filter to every thread (TSYNC), and threads %s would run "
                               "unfiltered: load before starting threads, or make the filter "
                               "with tsync=False" % ", ".join(map(str, others)))
    import warnings
    warnings.warn("TSYNC is unavailable: the filter covers only the calling thread (the only "
                  "thread now)", RuntimeWarning, stacklevel=3)


class _Transaction:
    """The context manager `Filter.transaction()` returns (contextlib costs import time)."""

    __slots__ = ("_filter",)

    def __init__(self, flt: Filter) -> None:
        self._filter = flt

    def __enter__(self) -> Filter:
        self._filter._transaction_start()
        return self._filter

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self._filter._transaction_commit()
        else:
            self._filter._transaction_reject()


def _check_writable(fd: int) -> None:
    """An OSError naming *fd* when an export cannot be written to it."""
    import errno
    import fcntl

    try:
        mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
    except (OSError, ValueError, OverflowError):
        raise OSError(errno.EBADF, "cannot export to fd %r: it is not open" % (fd,)) from None
    if mode == os.O_RDONLY:
        raise OSError(errno.EBADF, "cannot export to fd %d: it is open read-only" % fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _write_to(file: Output, write_fd: Any, make_bytes: Any) -> None:
    """Write an export to an fd directly, or through a file object's fileno() or write()."""
    if isinstance(file, int) and not isinstance(file, bool):
        _check_writable(file)  # libseccomp's own write reports a bad fd as ECANCELED
        write_fd(file)
        return
    if not callable(getattr(file, "write", None)) and not callable(getattr(file, "fileno",
                                                                            None)):
        raise TypeError("an export goes to a file object or an fd, not %s%s" % (
            type(file).__name__, " (a path? open it first: open(path, 'wb'))"
            if isinstance(file, (str, bytes, os.PathLike)) else ""))
    try:
        fd = file.fileno()  # type: ignore[union-attr]
    except (AttributeError, OSError, ValueError):
        fd = None
    if fd is not None:
        file.flush()  # type: ignore[union-attr]
        _check_writable(fd)
        write_fd(fd)
        return
    data = make_bytes()
    try:
        file.write(data)  # type: ignore[union-attr]
    except TypeError:
        file.write(data.decode())  # type: ignore[union-attr]


# Whatever can load a filter makes the package's every name usable afterwards, under the filter
# (importing a module then may be denied): the whole core loads with this module.
from . import _load_core  # noqa: E402

_load_core()
