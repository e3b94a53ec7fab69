"""Record the syscalls a command makes and write the smallest profile that lets it run::

    rec = seccomp.record.record(["tar", "czf", "-", "/usr/share/doc/bash"], args=True)
    prof = rec.profile()                 # a seccomp.profile.Profile, checked against rec
    open("tar.json", "w").write(prof.to_json())

The command runs under a filter that notifies every syscall of every architecture; a thread
of the recorder that runs no Python code answers each with CONTINUE and notes it, so the
command runs as it would without the filter, and the recorder's interpreter is free meanwhile
(`start` returns at once; `Recorder.wait` gives the `Recording`). Threads and children
inherit the filter and are recorded too. No privilege is needed: no root, no ptrace, no
eBPF; the command runs with no_new_privs set, as it will under the profile.

The recorder's own syscalls are not recorded: the child shares the recorder's memory and fd
table until its execve() (as posix_spawn's child does), so the listener its seccomp() returns
is the recorder's at once; it calls execve() next, from C, so the first syscall the recorder
sees is the command's execve().

Starting the command needs none of the package's core (only the compiled launcher): the
``seccomp record`` command starts it before anything else is imported, and the rest of this
module imports what it uses when it is first used.

Limits: the recording ends when every process under the filter has ended (a daemon the
command leaves behind keeps it going); a command that loads a filter with a notification
listener of its own gets EBUSY (the kernel allows one listener per chain of filters).
"""
from __future__ import annotations

import errno as _errno
import os

from . import _record
from ._fields import Fields

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple, Union

    from ._enums import Action, Arch
    from ._errors import RecordError
    from .profile import Profile

__all__ = ["record", "start", "Recorder", "Recording", "ARG_INDEXES", "ALWAYS_ALLOWED",
           "recording_filter", "RecordError"]


#: The syscalls whose rules usually name argument values, and the index of that argument
#: (clone's flags come second on s390 and s390x). Recorded with ``args=True``.
ARG_INDEXES: Mapping[str, int] = {
    "personality": 0, "clone": 0, "unshare": 0, "socket": 0, "socketpair": 0, "ioctl": 1,
    "prctl": 0,
}
_ARG_INDEX_BY_ARCH: Mapping[Tuple[str, str], int] = {
    ("clone", "s390"): 1, ("clone", "s390x"): 1,
}

#: Allowed by every recorded profile: returning from a signal handler, restarting an
#: interrupted syscall, ending a thread or the process. Whether a run makes them depends on
#: timing (a signal arriving, a thread ending first), and denying them turns that into a crash.
ALWAYS_ALLOWED: Tuple[str, ...] = ("rt_sigreturn", "sigreturn", "restart_syscall", "exit",
                                   "exit_group")


# ---------------------------------------------------------------------------------------------
# The recording
# ---------------------------------------------------------------------------------------------

class Recording(Fields):
    """What a command did: for each architecture, each syscall seen (by number) with the
    arguments of its first call and, for the syscalls of `ARG_INDEXES` when recorded with
    ``args=True``, one call per distinct value of the named argument.

    ``returncode`` is the command's exit status (negative: killed by that signal)."""

    __slots__ = ("argv", "calls", "args", "returncode", "notifications")
    argv: Tuple[str, ...]
    calls: Dict[Arch, Dict[int, List[Tuple[int, ...]]]]
    args: bool
    returncode: int
    notifications: int

    def __init__(self, argv: Tuple[str, ...],
                 calls: Optional[Dict[Arch, Dict[int, List[Tuple[int, ...]]]]] = None,
                 args: bool = False, returncode: int = 0, notifications: int = 0) -> None:
        self.argv = argv
        self.calls = {} if calls is None else calls
        self.args = args
        self.returncode = returncode
        self.notifications = notifications

    @property
    def arches(self) -> Tuple[Arch, ...]:
        """The architectures the command's syscalls came from, native first."""
        from ._enums import Arch

        native = Arch.native()
        return tuple(sorted(self.calls, key=lambda a: (a != native, int(a))))

    def syscalls(self, arch: Union[Arch, str, int, None] = None) -> Dict[str, int]:
        """The syscalls seen on *arch* (default the native one), name -> number; a number
        libseccomp has no name for is named by its number."""
        from ._enums import Arch

        a = Arch.native() if arch is None else Arch(arch).resolved
        return {_name(nr, a): nr for nr in sorted(self.calls.get(a, {}))}

    def arg_values(self, arch: Arch, syscall: str) -> Tuple[int, ...]:
        """The distinct values of *syscall*'s argument of `ARG_INDEXES` seen on *arch*."""
        from . import _core

        index = _arg_index(syscall, arch)
        nr = _core.syscall_resolve_name(syscall, arch)
        if index is None:
            return ()
        return tuple(sorted({args[index] for args in self.calls.get(arch, {}).get(nr, ())}))

    def profile(self, *, default_action: Optional[Action] = None, merge: Any = None,
                check: bool = True) -> "Profile":
        """The smallest profile that lets this run pass, as a `seccomp.profile.Profile`.

        Its default action is *default_action* (None: ``Action.ERRNO(errno.EPERM)``), its
        architectures are those seen, and it allows `ALWAYS_ALLOWED` and every syscall
        seen (by name: a
        profile's names apply to all its architectures, and Docker's ``includes.arches``
        names the machine's architecture, not the one of a syscall); with ``args=True``
        recordings, the syscalls of `ARG_INDEXES` only for the argument values seen. *merge*
        (a Profile or anything `seccomp.profile.load` reads) is extended instead: only what
        it does not already allow for this run is added. With *check* (the default), the
        profile is compiled as `seccomp run` compiles it and each recorded call evaluated by
        the emulator: a call it would not allow raises SeccompError."""
        prof = self._unchecked_profile(default_action, merge)[0]
        if check:
            _raise_failures(_failures(_program(prof), self))
        return prof

    def _unchecked_profile(self, default_action: Optional[Action], merge: Any,
                           base_program: Optional[bytes] = None
                           ) -> "Tuple[Profile, Optional[bytes]]":
        """`profile` without its check; and *merge*'s program (*base_program*: known
        already), to build the next one with."""
        from . import profile as _profile
        from ._enums import Action

        if default_action is None:
            default_action = Action.ERRNO(_errno.EPERM)
        base = None
        if merge is not None:
            base = merge if isinstance(merge, _profile.Profile) else _profile.load(merge)
            if base_program is None:
                base_program = _program(base)
        return _build(self._with_always_allowed(), default_action, base, base_program), \
            base_program

    def _with_always_allowed(self) -> "Recording":
        """A copy with a call of each `ALWAYS_ALLOWED` syscall the architectures seen have."""
        from . import _core
        from ._errors import SeccompError

        calls = {arch: dict(by_nr) for arch, by_nr in self.calls.items()}
        for arch, by_nr in calls.items():
            for name in ALWAYS_ALLOWED:
                try:
                    nr = _core.syscall_resolve_name(name, arch)
                except SeccompError:
                    continue
                if nr >= 0:
                    by_nr.setdefault(nr, [(0,) * 6])
        return self._replace(calls=calls)

    def check(self, prof: "Profile") -> List[str]:
        """Evaluate every recorded call against *prof* compiled as `seccomp run` compiles it
        (for this machine and an unprivileged container); returns one line per call it does
        not allow (empty: the profile lets this run pass)."""
        return _failures(_program(prof), self)

    def _since(self, earlier: "Recording") -> "Recording":
        """The calls of this recording that *earlier* (a part of it) does not have."""
        calls: Dict[Arch, Dict[int, List[Tuple[int, ...]]]] = {}
        for arch, by_nr in self.calls.items():
            before = earlier.calls.get(arch, {})
            for nr, seen in by_nr.items():
                new = [args for args in seen if args not in before.get(nr, ())]
                if new:
                    calls.setdefault(arch, {})[nr] = new
        return self._replace(calls=calls)


def _program(prof: "Profile") -> bytes:
    """*prof*'s filter for this machine, compiled as `seccomp run` compiles it."""
    from . import profile as _profile

    flt = prof.compile(caps=_profile.CONTAINER_CAPS)
    try:
        return flt.export_bpf()
    finally:
        flt.release()


def _verdicts(program: bytes, rec: Recording
              ) -> Dict[Arch, List[Tuple[int, Tuple[int, ...], Action]]]:
    """What *program* answers to each recorded call, per arch."""
    from . import bpf

    out: Dict[Arch, List[Tuple[int, Tuple[int, ...], Action]]] = {}
    for arch in rec.arches:
        calls = [(nr, args) for nr, seen in sorted(rec.calls[arch].items()) for args in seen]
        out[arch] = [(nr, args, action) for (nr, args), action in
                     zip(calls, bpf.evaluate_many(program, calls, arch=arch))]
    return out


def _failures(program: bytes, rec: Recording) -> List[str]:
    """One line per recorded call *program* does not allow."""
    from ._enums import Action

    failures: List[str] = []
    for arch, calls in _verdicts(program, rec).items():
        for nr, args, action in calls:
            if action not in (Action.ALLOW, Action.LOG):
                failures.append("%s: %s(%s) gets %s" % (
                    arch, _name(nr, arch), ", ".join("0x%x" % a for a in args), action))
    return failures


def _raise_failures(failures: List[str]) -> None:
    if failures:
        from ._errors import SeccompError

        raise SeccompError(_errno.EINVAL, "the recorded profile does not allow the recorded "
                           "run: " + "; ".join(failures[:5]))


def _name(nr: int, arch: Arch) -> str:
    from . import _core
    from ._errors import SeccompError

    try:
        return _core.syscall_resolve_num(nr, arch)
    except SeccompError:
        return str(nr)


def _arg_index(name: str, arch: Arch) -> Optional[int]:
    index = _ARG_INDEX_BY_ARCH.get((name, str(arch)))
    return ARG_INDEXES.get(name) if index is None else index


def _build(rec: Recording, default: Action, base: Optional["Profile"],
           base_program: Optional[bytes]) -> "Profile":
    from . import profile as _profile
    from ._enums import Action, Op

    allowed: Set[Tuple[Arch, int, Tuple[int, ...]]] = set()
    if base is not None:  # the calls the base profile already allows need no rule
        assert base_program is not None
        allowed = {(arch, nr, args) for arch, calls in _verdicts(base_program, rec).items()
                   for nr, args, action in calls if action in (Action.ALLOW, Action.LOG)}
    names: Set[str] = set()
    values: Set[Tuple[str, int, int]] = set()
    for arch in rec.arches:
        for nr, seen in rec.calls[arch].items():
            name = _name(nr, arch)
            if not name[0].isalpha():
                continue  # unknown to libseccomp: a profile cannot name it (check reports it)
            index = _arg_index(name, arch) if rec.args else None
            for args in seen:
                if (arch, nr, args) in allowed:
                    continue
                if index is None:
                    names.add(name)
                else:
                    values.add((name, index, args[index]))
    values = {v for v in values if v[0] not in names}  # allowed whatever the value elsewhere
    rules = []
    if names:
        rules.append(_profile.Rule(tuple(sorted(names)), Action.ALLOW,
                                   comment="recorded: %s" % " ".join(rec.argv)[:200]))
    for name, index, value in sorted(values):
        rules.append(_profile.Rule((name,), Action.ALLOW, (_profile.Arg(index, value, Op.EQ),)))
    if base is None:
        return _profile.Profile(default, tuple(rules), rec.arches,
                                comment="Recorded by seccomp record from: %s"
                                        % " ".join(rec.argv)[:200])
    arches = base.architectures
    if not base.arch_map:
        arches = tuple(arches) + tuple(a for a in rec.arches if a not in arches)
    return base._replace(rules=tuple(base.rules) + tuple(rules), architectures=arches)


# ---------------------------------------------------------------------------------------------
# The recording filter
# ---------------------------------------------------------------------------------------------

def recording_filter() -> bytes:
    """The recording filter's BPF (native byte order): notify every syscall of every
    architecture."""
    return _record.recording_filter()


# ---------------------------------------------------------------------------------------------
# Running the command
# ---------------------------------------------------------------------------------------------

def record(argv: Sequence[str], *, args: bool = False, env: Optional[Mapping[str, str]] = None
           ) -> Recording:
    """Run *argv* (a command and its arguments; the command is looked up in PATH) under the
    recording filter until it and every process it started have exited, and return what it
    did. *args* also records the argument values of the syscalls in `ARG_INDEXES`. The
    command's exit status is in ``returncode``; a command that cannot be started raises
    RecordError. The same as ``start(...).wait()``."""
    return start(argv, args=args, env=env).wait()


def start(argv: Sequence[str], *, args: bool = False, env: Optional[Mapping[str, str]] = None
          ) -> "Recorder":
    """Start recording *argv* (as `record` does) and return at once, the command running: its
    syscalls are answered and noted by a thread that runs no Python code, so the caller is
    free meanwhile. `Recorder.wait` returns the `Recording`; call it (a Recorder dropped
    before kills the command, whose syscalls nobody would answer, and what it started gets
    ENOSYS)."""
    argv = [os.fspath(a) for a in argv]
    if not argv:
        from ._errors import InvalidArgumentError

        raise InvalidArgumentError(_errno.EINVAL, "no command to record")
    from ._command import find_command

    try:
        path = find_command(argv[0])
    except OSError as exc:
        from ._errors import RecordError

        raise RecordError(exc.errno, "%s: %s" % (argv[0] or "''", exc.strerror),
                          argv[0]) from None
    c_argv = [os.fsencode(a) for a in argv]
    if env is None:
        c_env = [k + b"=" + v for k, v in os.environb.items()]
    else:
        c_env = [os.fsencode(k) + b"=" + os.fsencode(v) for k, v in env.items()]
    watch = _watched() if args else []
    rec = _record.Recorder()
    rec.launch(os.fsencode(path), c_argv, c_env, watch)  # returns once it has exec'd
    started = Recorder(tuple(argv), args, rec)
    stage, err = rec.failure
    if stage:  # its execve answered, if it came that far: reaped, nothing more comes
        started._abort(reaped=False)
        raise _launch_error(stage, err, argv)
    return started


#: How long `Recorder.wait` and `wait_profile` keep a thread of the recorder running (it
#: yields the CPU to anything else that can run) while the command runs, before it sleeps. A
#: command makes most of its syscalls as it starts, and each is a switch between its address
#: space and the recorder's: in a virtual machine these cost much less while a thread of the
#: recorder runs on another CPU (measured: `python3 -c pass` ran ~5 ms longer recorded when
#: the recorder slept, on a 2-CPU VM). Short, so a long recording costs no CPU for it.
_BUSY_SECONDS = 0.1


class Recorder:
    """A command being recorded (see `start`): its ``pid``; `wait` returns its `Recording`."""

    __slots__ = ("argv", "args", "pid", "_rec")

    def __init__(self, argv: Tuple[str, ...], args: bool, rec: "_record.Recorder") -> None:
        self.argv = argv
        self.args = args
        self.pid: int = rec.pid
        self._rec = rec

    def __repr__(self) -> str:
        return "<seccomp.record.Recorder pid=%d %s>" % (self.pid, " ".join(self.argv)[:80])

    def wait_profile(self, *, default_action: Optional[Action] = None, merge: Any = None
                     ) -> "Tuple[Recording, Profile]":
        """`wait`, then the recording's `Recording.profile` (same arguments): the recording and
        its profile. While the command runs, the profile of what it has done so far is built
        and checked again whenever something new was noted (the interpreter is free
        meanwhile), so once the command ends there is usually nothing left to build. For the
        command's first `_BUSY_SECONDS` this thread does not sleep (see there)."""
        from . import profile as _profile

        rec = self._rec
        kept = -1
        built: "Optional[Tuple[Recording, Profile, bytes]]" = None
        base_program: Optional[bytes] = None

        def update(recording: Recording) -> "Tuple[Recording, Profile, bytes]":
            # checked against the calls the last profile was not checked against, when it is
            # the same profile (usually: a syscall the command made before), else all of them
            nonlocal base_program
            prof, base_program = recording._unchecked_profile(default_action, merge,
                                                              base_program)
            if built is not None and prof == built[1]:
                program, unchecked = built[2], recording._since(built[0])
            else:
                program, unchecked = _program(prof), recording
            _raise_failures(_failures(program, unchecked))
            return recording, prof, program

        import time

        busy_until = time.monotonic() + _BUSY_SECONDS
        pause = 0.0
        try:
            if merge is not None and not isinstance(merge, _profile.Profile):
                merge = _profile.load(merge)
            while True:
                if rec.kept != kept:
                    kept = rec.kept  # before the snapshot: it holds at least these calls
                    built = update(Recording(self.argv, _calls(rec.calls()), self.args))
                if time.monotonic() < busy_until:
                    if rec.ended(0):
                        break
                    os.sched_yield()
                elif rec.ended(pause):
                    break
                else:
                    pause = min(max(pause * 2, 0.002), 0.5)
        except Exception:  # a partial recording's trouble is the whole one's: raised below
            built = None
        except BaseException:
            self._abort(reaped=False)
            raise
        recording = self.wait()
        if built is None:
            return recording, recording.profile(default_action=default_action, merge=merge)
        if rec.kept != kept:
            built = update(recording)
        return recording, built[1]

    def wait(self) -> Recording:
        """Wait until the command and every process it started have exited (a daemon it
        leaves behind keeps the recording going) and return what they did. Interrupted (by
        KeyboardInterrupt, say), it stops recording, kills the command and re-raises. For the
        command's first `_BUSY_SECONDS` this thread does not sleep (see there)."""
        import time

        rec = self._rec
        reaped = False
        busy_until = time.monotonic() + _BUSY_SECONDS
        try:
            while time.monotonic() < busy_until and not rec.ended(0):
                os.sched_yield()
            status = _reap(self.pid)
            reaped = True
            rec.join()  # until no process uses the filter
        except BaseException:
            self._abort(reaped)
            raise
        finally:
            rec.close()
        from ._errors import RecordError

        if rec.error:
            raise RecordError(rec.error, "recording %s failed, so it was killed: cannot "
                              "answer its syscalls: %s" % (self.argv[0], os.strerror(rec.error)))
        return Recording(self.argv, _calls(rec.calls()), self.args, status, rec.notifications)


    def _abort(self, reaped: bool) -> None:
        """Stop recording and kill the command (unless *reaped* already): nobody would
        answer its syscalls."""
        self._rec.stop()
        self._rec.join()
        if not reaped:
            _reap(self.pid, kill=True)
        self._rec.close()


def _watched() -> List[Tuple[int, int, int]]:
    """``(arch token, nr, index)`` of the syscalls of `ARG_INDEXES` on every architecture
    (x32's numbers carry their bit under x86_64's token, as the kernel reports them)."""
    from . import _core
    from ._enums import Arch
    from ._errors import SeccompError

    out = []
    for arch in Arch:
        if arch == Arch.NATIVE:
            continue
        token = int(Arch.X86_64) if arch == Arch.X32 else int(arch)
        for name in ARG_INDEXES:
            try:
                nr = _core.syscall_resolve_name(name, arch)
            except SeccompError:
                continue
            index = _arg_index(name, arch)
            if nr >= 0 and index is not None:
                out.append((token, nr, index))
    return out


def _calls(noted: Dict[int, Dict[int, List[Tuple[int, ...]]]]
           ) -> Dict[Arch, Dict[int, List[Tuple[int, ...]]]]:
    """The recorder's notes by architecture token, by `Arch` (x32 apart from x86_64)."""
    from ._enums import X32_SYSCALL_BIT, Arch

    calls: Dict[Arch, Dict[int, List[Tuple[int, ...]]]] = {}
    x86_64 = int(Arch.X86_64)
    for token, by_nr in noted.items():
        for nr in sorted(by_nr):
            arch = Arch.X32 if token == x86_64 and nr & X32_SYSCALL_BIT else Arch(token)
            calls.setdefault(arch, {})[nr] = by_nr[nr]
    return calls


def _launch_error(stage: int, err: int, argv: Sequence[str]) -> RecordError:
    """The error for a child that did not become the command: at *stage* 1 it could not load
    the recording filter (errno *err*; 0: it was killed before it could), at 2 its execve
    failed (the error names the command, as `find_command`'s do)."""
    from ._errors import RecordError

    if stage == 2:
        return RecordError(err, "%s: %s" % (argv[0], os.strerror(err)), argv[0])
    if err == _errno.EINVAL:
        reason = "the kernel refused the recording filter (seccomp user notification needs " \
                 "Linux 5.0, CONTINUE 5.5)"
    elif err == _errno.EBUSY:
        reason = "this process runs under a filter with a notification listener already (a " \
                 "recording or a supervisor): the kernel allows one listener per chain of filters"
    elif err == 0:
        reason = "it was killed before it could load the recording filter"
        err = _errno.EINTR
    else:
        reason = "cannot load the recording filter: %s" % os.strerror(err)
    return RecordError(err, "cannot record %s: %s" % (argv[0], reason))


def _reap(pid: int, kill: bool = False) -> int:
    if kill:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
    while True:
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return -9
        except InterruptedError:
            continue
        return os.waitstatus_to_exitcode(status)


def __getattr__(name: str) -> object:
    # RecordError lives in the core's exceptions, imported only when first needed
    if name == "RecordError":
        from ._errors import RecordError

        return RecordError
    raise AttributeError("module %r has no attribute %r" % (__name__, name))
