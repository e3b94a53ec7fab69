"""``seccomp run``: exec a command under a profile."""
from __future__ import annotations

import errno
import os

from .._core import FILTER_FLAGS
from .._info import library_version
from .common import CommandError, QuickArgs, command_argv, flush_std, subcommand, warn
from .options import _compile, _profile_options, _resolved

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (import cost)
if TYPE_CHECKING:
    import argparse
    from typing import Any, List, Optional, Sequence

    from .._core import Program

    import socket


def add_run(sub: Any) -> None:
    """Register ``seccomp run``."""
    import argparse

    p = sub.add_parser(
        "run", help="run a command under a seccomp profile",
        description="Load a seccomp profile and exec a command under it.\n\n"
                    "The profile is resolved for an unprivileged container's capabilities\n"
                    "unless --cap adds some, so the default profile denies what a container\n"
                    "is denied even when run as root.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="exit status: the command's; 126/127 when it cannot be run, 1 for a profile "
               "error, 2 for a usage error.\n"
               "groups: `seccomp info` lists them, `seccomp resolve @GROUP` shows one.\n"
               "example: seccomp run --deny @network-io --cap CAP_SYS_ADMIN -- sh -c 'CMD'")
    _profile_options(p)
    p.add_argument("-v", "--verbose", action="store_true",
                   help="report the profile's syscall names libseccomp does not know")
    p.add_argument("--skip-no-new-privs", action="store_true",
                   help="load the filter without setting no_new_privs, as Docker does unless "
                        "told otherwise (setuid programs keep working); needs CAP_SYS_ADMIN")
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD ARGS...",
                   help="the command to run")
    p.set_defaults(func=_cmd_run)


@subcommand
def _cmd_run(args: argparse.Namespace) -> int:
    argv = command_argv(args, "seccomp run [OPTIONS] -- CMD ARGS...")
    path = find_command(argv[0])
    prof = _resolved(args)
    if prof is None:  # --profile unconfined: no filter
        _restore_signals()
        return _exec(path, argv)
    if args.skip_no_new_privs:
        from ..profile import require_skip_no_new_privs
        require_skip_no_new_privs()
    flt = _compile(args, prof, no_new_privs=not args.skip_no_new_privs)
    if args.verbose and flt.skipped_syscalls:
        _report_skipped(flt.skipped_syscalls)
    agent = None
    message = b""
    program = flt.compile()
    if program.flags & FILTER_FLAGS["NEW_LISTENER"]:  # NOTIFY rules, or NOTIFY by default
        if not getattr(prof, "listener_path", None):  # a policy of another format has none
            raise CommandError("the profile uses SCMP_ACT_NOTIFY but sets no listenerPath for "
                               "a seccomp agent to answer it (only an OCI profile can)", 2)
        _check_not_notified(program.bpf, prof)
        from ..notify import check_api_level
        check_api_level(flt.tsync)
        agent = _connect_agent(prof.listener_path)  # before the filter may forbid it
        message = _agent_message(prof.listener_metadata)
    flt.release()
    listener = _load(program, argv[0])
    if agent is not None:
        _send_listener(agent, listener, message)
    return _exec(path, argv)


def quick_args(argv: List[str]) -> Optional[QuickArgs]:
    """``seccomp run -- ARGV``, every option at its default (the built-in default profile),
    when the package has a prebuilt program (`seccomp.cli.prebuilt`) made for exactly this
    host: the namespace of `_cmd_run_prebuilt`. None for anything else, having done nothing
    (argparse then parses the line and the filter is built as for any other); argparse gives
    ``--`` and the words after it as they are."""
    if argv[1:2] != ["--"] or len(argv) < 3:
        return None
    from .prebuilt import load

    prebuilt = load()
    if prebuilt is None:
        return None
    return QuickArgs(command=argv[2:], prebuilt=prebuilt, func=_cmd_run_prebuilt)


def _cmd_run_prebuilt(args: QuickArgs) -> int:
    """The same command as `_cmd_run` with its defaults, minus the parsing and the build."""
    path = find_command(args.command[0])
    for message in args.prebuilt.warnings:  # what building it says, every time (`_compile`)
        warn(message)
    _load(args.prebuilt.program(), None)  # `_check_exec_allowed` passed when it was made
    return _exec(path, args.command)


def _report_skipped(names: Sequence[str]) -> None:
    """--verbose: the profile's syscalls this libseccomp does not know."""
    warn("skipped syscalls unknown to libseccomp %s: %s" % (
        ".".join(map(str, library_version())), " ".join(names)))


def _load(program: Program, name: Optional[str]) -> int:
    """Load *program*, once it is known to let the command *name* start (None: known
    already); its listener fd."""
    if name is not None:
        _check_exec_allowed(program.bpf, name)
    flush_std()
    _restore_signals()  # before the filter, which may deny rt_sigaction
    return program.load()


def _restore_signals() -> None:
    """Give the command the dispositions Python changed at start-up (as subprocess's
    restore_signals does): SIGPIPE and SIGXFSZ ignored would be inherited through exec, and
    `seccomp run -- yes | head -1` would end with "Broken pipe" and status 1 instead of
    SIGPIPE. Only exec and messages to stderr follow."""
    import _signal  # the signal module's own import costs more

    for name in ("SIGPIPE", "SIGXFSZ"):
        number = getattr(_signal, name, None)
        if number is not None:
            _signal.signal(number, _signal.SIG_DFL)


def _exec(path: str, argv: List[str]) -> int:
    flush_std()
    try:
        os.execv(path, argv)
    except OSError as exc:
        raise CommandError("%s: %s" % (argv[0], exc.strerror),
                           127 if exc.errno == errno.ENOENT else 126) from None
    return 0  # not reached


def find_command(name: str) -> str:
    """The file ``execvp`` would run for *name* (`seccomp._command.find_command`), or a
    `CommandError` with env's exit status: 127 when there is none, 126 when it is there but
    cannot be executed."""
    from .._command import find_command as find

    try:
        return find(name)
    except OSError as exc:
        raise CommandError("%s: %s" % (name or "''", exc.strerror),
                           127 if exc.errno == errno.ENOENT else 126) from None


# Actions under which execve does run: anything else means the command never starts.
_EXEC_RUNS = ("ALLOW", "LOG", "NOTIFY", "TRACE")


def _check_exec_allowed(program: bytes, name: str) -> None:
    """Refuse, before loading, a filter under which execve itself fails or kills (the
    command would never start: a silent exit 159 for SIGSYS)."""
    from .. import bpf

    action = bpf.evaluate(program, "execve")
    if action.kind not in _EXEC_RUNS:
        raise CommandError("the profile does not allow execve (it answers %s), so %s cannot "
                           "be started under it: allow it with --allow execve" % (action, name),
                           126)


# What this command calls itself between loading the filter and exec'ing the command. A NOTIFY
# on one of them waits for an agent that does not hold the listener yet (sendmsg) or may be
# waiting for this process (close, write: runc refuses NOTIFY on write for that reason).
_NEEDED_AFTER_LOAD = ("sendmsg", "close", "write")


def _check_not_notified(program: bytes, prof: Any) -> None:
    """Refuse a profile that sends a syscall this command needs after loading to the agent."""
    from .. import bpf
    from .._enums import Action

    named = {name for rule in prof.rules if rule.action == Action.NOTIFY for name in rule.names}
    for name in _NEEDED_AFTER_LOAD:
        if name in named or bpf.evaluate(program, name) == Action.NOTIFY:
            raise CommandError("the profile sends %s to the seccomp agent (SCMP_ACT_NOTIFY), "
                               "but seccomp run calls it itself after loading the filter, "
                               "before the agent can answer: it would wait for ever; allow "
                               "%s in the profile" % (name, name))


def _connect_agent(path: str) -> socket.socket:
    """Connect to the seccomp agent at an OCI listenerPath."""
    import socket

    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        raise CommandError("cannot connect to the seccomp agent at %s: %s"
                           % (path, exc.strerror)) from None
    return sock


def _agent_message(metadata: str) -> bytes:
    """The OCI runtime-spec's container process state for the seccomp agent."""
    import json

    pid = os.getpid()
    return json.dumps({
        "ociVersion": "1.0.2", "fds": ["seccompFd"], "pid": pid, "metadata": metadata,
        "state": {"ociVersion": "1.0.2", "id": "seccomp-run-%d" % pid, "status": "creating",
                  "pid": pid, "bundle": os.getcwd()}}).encode()


def _send_listener(agent: socket.socket, listener: int, message: bytes) -> None:
    """Hand the notification fd to the agent as the OCI runtime-spec says: the container
    process state as JSON, the fd attached with SCM_RIGHTS. The profile must allow sendmsg
    and close, which the filter now governs."""
    from ..notify import send_fd  # loaded before the filter (check_api_level): no file access

    try:
        send_fd(agent, listener, message)
    except OSError as exc:
        raise CommandError("cannot send the notification fd to the seccomp agent: %s (does "
                           "the profile allow sendmsg?)" % exc.strerror) from None
    finally:
        agent.close()
        os.close(listener)
