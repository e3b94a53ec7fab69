"""``seccomp run``: exec a command under a profile."""
from __future__ import annotations

import argparse
import array
import errno
import json
import os
import shutil
import socket
import sys
from typing import Any, List, Optional

from .._info import library_version
from .options import _compile, _profile_options, _resolved


def add_run(sub: Any) -> None:
    """Register ``seccomp run``."""
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


def _cmd_run(args: argparse.Namespace) -> int:
    argv: List[str] = list(args.command)
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("seccomp run: error: no command given (seccomp run [OPTIONS] -- CMD ARGS...)",
              file=sys.stderr)
        return 2
    path = shutil.which(argv[0])
    if path is None:
        print("seccomp run: %s: command not found" % argv[0], file=sys.stderr)
        return 127
    prof = _resolved(args)
    if prof is None:  # --profile unconfined: no filter
        return _exec(path, argv)
    if args.skip_no_new_privs:
        from ..profile import require_skip_no_new_privs
        require_skip_no_new_privs()
    flt = _compile(args, prof, no_new_privs=not args.skip_no_new_privs)
    if args.verbose and flt.skipped_syscalls:
        print("seccomp run: skipped syscalls unknown to libseccomp %s: %s" % (
            ".".join(map(str, library_version())), " ".join(flt.skipped_syscalls)),
            file=sys.stderr)
    agent = None
    message = b""
    if flt.has_notify_rules:
        if not prof.listener_path:
            print("seccomp run: error: the profile uses SCMP_ACT_NOTIFY but sets no "
                  "listenerPath for a seccomp agent to answer it", file=sys.stderr)
            return 2
        agent = _connect_agent(prof.listener_path)  # before the filter may forbid it
        if agent is None:
            return 1
        message = _agent_message(prof.listener_metadata)
    program = flt.compile()
    flt.release()
    sys.stdout.flush()
    sys.stderr.flush()
    listener = program.load()
    if agent is not None and not _send_listener(agent, listener, message):
        return 1
    return _exec(path, argv)


def _exec(path: str, argv: List[str]) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(path, argv)
    except OSError as exc:
        print("seccomp run: %s: %s" % (argv[0], exc.strerror), file=sys.stderr)
        return 127 if exc.errno == errno.ENOENT else 126
    return 0  # not reached


def _connect_agent(path: str) -> Optional[socket.socket]:
    """Connect to the seccomp agent at an OCI listenerPath."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.connect(path)
    except OSError as exc:
        sock.close()
        print("seccomp run: cannot connect to the seccomp agent at %s: %s"
              % (path, exc.strerror), file=sys.stderr)
        return None
    return sock


def _agent_message(metadata: str) -> bytes:
    """The OCI runtime-spec's container process state for the seccomp agent."""
    pid = os.getpid()
    return json.dumps({
        "ociVersion": "1.0.2", "fds": ["seccompFd"], "pid": pid, "metadata": metadata,
        "state": {"ociVersion": "1.0.2", "id": "seccomp-run-%d" % pid, "status": "creating",
                  "pid": pid, "bundle": os.getcwd()}}).encode()


def _send_listener(agent: socket.socket, listener: int, message: bytes) -> bool:
    """Hand the notification fd to the agent as the OCI runtime-spec says: the container
    process state as JSON, the fd attached with SCM_RIGHTS. The profile must allow sendmsg
    and close, which the filter now governs."""
    try:
        agent.sendmsg([message],
                      [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [listener]))])
    except OSError as exc:
        print("seccomp run: cannot send the notification fd to the seccomp agent: %s "
              "(does the profile allow sendmsg?)" % exc.strerror, file=sys.stderr)
        return False
    finally:
        agent.close()
        os.close(listener)
    return True
