"""The profile subcommands of the `seccomp` command: run, export, resolve, info."""
from __future__ import annotations

import argparse
import array
import ctypes
import errno
import json
import os
import shutil
import socket
import sys
from typing import Any, Dict, List, Optional, Tuple

from . import _core
from ._enums import Action, Arch, Op
from ._info import action_available, api_level, library_version, syscall_name, syscall_number


# ---------------------------------------------------------------------------------------------
# Options shared by run and export
# ---------------------------------------------------------------------------------------------

def _profile_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--profile", default="default", metavar="default|PATH",
                   help="the profile: a built-in name or a Docker/Podman/OCI JSON file "
                        "(default: %(default)s)")
    p.add_argument("--allow", action="append", default=[], metavar="NAME",
                   help="allow syscall NAME (or every syscall of an @group), whatever the "
                        "profile says; repeatable")
    p.add_argument("--deny", action="append", default=[], metavar="NAME[:ERRNO]",
                   help="make syscall NAME (or an @group) fail with ERRNO (a name such as "
                        "EACCES or a number; default EPERM); repeatable")
    p.add_argument("--cap", action="append", default=[], metavar="CAP",
                   help="resolve the profile as if the process had capability CAP (e.g. "
                        "CAP_SYS_ADMIN, sys_admin, ALL), on top of an unprivileged container's "
                        "default set; repeatable. Only changes which rules apply: it grants "
                        "no capability")


def _resolved(args: argparse.Namespace, arch: Optional[str] = None,
              kernel: Optional[str] = None) -> Any:
    """The profile named by the options, resolved and with --allow/--deny applied."""
    from . import profile

    prof = profile.load(args.profile)
    caps = profile.CONTAINER_CAPS | profile.parse_caps(args.cap)
    prof = prof.resolve(arch=arch, caps=caps, kernel=kernel)
    for name in args.allow:
        prof = prof.with_rule([_syscall_arg(name)], Action.ALLOW)
    for spec in args.deny:
        name, _, code = spec.partition(":")
        errno_ = profile.parse_errno(code, "--deny %s" % spec) if code else errno.EPERM
        prof = prof.with_rule([_syscall_arg(name)], Action.ERRNO(errno_))
    return prof


def _syscall_arg(name: str) -> str:
    """Check a syscall or @group named on the command line."""
    from . import profile

    if name.startswith("@"):
        profile.expand(name)  # raises for unknown groups
    elif name.isdigit():
        return syscall_name(int(name))
    else:
        syscall_number(name)  # raises for unknown names
    return name


# ---------------------------------------------------------------------------------------------
# seccomp run
# ---------------------------------------------------------------------------------------------

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
    flt = prof.compile()
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


# ---------------------------------------------------------------------------------------------
# seccomp export
# ---------------------------------------------------------------------------------------------

def add_export(sub: Any) -> None:
    """Register ``seccomp export``."""
    p = sub.add_parser(
        "export", help="write a profile as BPF, PFC or resolved OCI JSON",
        description="Resolve a profile for a target and write it: as the BPF program the "
                    "kernel loads (bpf), libseccomp's pseudo filter code (pfc), or the "
                    "resolved profile as OCI runtime-spec JSON (oci). Resolved for an "
                    "unprivileged container's capabilities unless --cap adds some.")
    _profile_options(p)
    p.add_argument("--format", choices=("bpf", "pfc", "oci"), default="pfc",
                   help="output format (default: %(default)s)")
    p.add_argument("--arch", help="target architecture (default: this machine's)")
    p.add_argument("--kernel", metavar="MAJOR.MINOR",
                   help="target kernel version (default: the running kernel)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args: argparse.Namespace) -> int:
    prof = _resolved(args, arch=args.arch, kernel=args.kernel)
    if args.format == "oci":
        data: bytes = prof.to_json(oci=True).encode()
    else:
        flt = prof.compile(arch=args.arch)
        data = flt.export_bpf() if args.format == "bpf" else flt.export_pfc().encode()
        flt.release()
    if args.output:
        try:
            with open(args.output, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            print("seccomp export: cannot write %s: %s" % (args.output, exc.strerror),
                  file=sys.stderr)
            return 1
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return 0


# ---------------------------------------------------------------------------------------------
# seccomp resolve
# ---------------------------------------------------------------------------------------------

def add_resolve(sub: Any) -> None:
    """Register ``seccomp resolve``."""
    p = sub.add_parser(
        "resolve", help="syscall name <-> number, or the members of an @group",
        description="Print the number of a syscall name, the name of a number, or the "
                    "syscalls of an @group, one per line.")
    p.add_argument("syscalls", nargs="+", metavar="NAME|NUMBER|@GROUP")
    p.add_argument("--arch", default="native", help="architecture (default: this machine's)")
    p.set_defaults(func=_cmd_resolve)


def _cmd_resolve(args: argparse.Namespace) -> int:
    from . import profile

    arch = Arch(args.arch)
    status = 0
    for item in args.syscalls:
        try:
            if item.startswith("@"):
                for name in profile.expand(item):
                    print(name)
            elif item.lstrip("-").isdigit():
                print(syscall_name(int(item), arch))
            else:
                print(syscall_number(item, arch))
        except _core.InvalidArgumentError as exc:
            print("seccomp resolve: %s" % exc.strerror, file=sys.stderr)
            status = 1
    return status


# ---------------------------------------------------------------------------------------------
# seccomp info
# ---------------------------------------------------------------------------------------------

def add_info(sub: Any) -> None:
    """Register ``seccomp info``."""
    p = sub.add_parser(
        "info", help="library version, API level, the kernel's actions and flags (JSON)",
        description="Print what this host supports as JSON: libseccomp's version and API "
                    "level, and a 'seccomp' object in the shape of the OCI runtime-spec "
                    "features.json (actions, operators, archs, knownFlags, supportedFlags).")
    p.set_defaults(func=_cmd_info)


def info() -> Dict[str, Any]:
    """What this host supports, as data (the output of ``seccomp info``)."""
    from . import profile

    actions = [name for name, act in sorted(_oci_actions().items()) if _safe_available(act)]
    seccomp_obj = {
        "enabled": _seccomp_enabled(),
        "actions": actions,
        "operators": ["SCMP_CMP_" + op.name for op in Op],
        "archs": ["SCMP_ARCH_" + str(a).upper() for a in Arch.known()],
        "knownFlags": list(profile.FLAGS),
        "supportedFlags": [f for f in profile.FLAGS if _flag_supported(f)],
    }
    return {
        "libseccomp": {"version": ".".join(map(str, library_version())),
                       "compiledVersion": ".".join(map(str, _core.COMPILED_VERSION)),
                       "apiLevel": api_level()},
        "nativeArch": str(Arch.native()),
        "kernel": os.uname().release,
        "seccomp": seccomp_obj,
        "profiles": list(profile.builtin_profiles()),
        "groups": sorted(profile.GROUPS),
    }


def _cmd_info(args: argparse.Namespace) -> int:
    print(json.dumps(info(), indent=2))
    return 0


def _oci_actions() -> Dict[str, Action]:
    return {"SCMP_ACT_KILL": Action.KILL_THREAD, "SCMP_ACT_KILL_PROCESS": Action.KILL_PROCESS,
            "SCMP_ACT_KILL_THREAD": Action.KILL_THREAD, "SCMP_ACT_TRAP": Action.TRAP,
            "SCMP_ACT_ERRNO": Action.ERRNO(1), "SCMP_ACT_TRACE": Action.TRACE(1),
            "SCMP_ACT_ALLOW": Action.ALLOW, "SCMP_ACT_LOG": Action.LOG,
            "SCMP_ACT_NOTIFY": Action.NOTIFY}


def _safe_available(action: Action) -> bool:
    try:
        return action_available(action)
    except _core.SeccompError:
        return False


def _seccomp_enabled() -> bool:
    try:
        with open("/proc/self/status") as fh:
            return any(line.startswith("Seccomp:") for line in fh)
    except OSError:
        return False


def _flag_supported(flag: str) -> bool:
    """Ask the kernel: seccomp(SET_MODE_FILTER, flag, NULL) fails with EFAULT (the NULL
    program) only once the flag has been accepted; EINVAL means it is unknown."""
    value = _core.FILTER_FLAGS[flag[len("SECCOMP_FILTER_FLAG_"):]]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(syscall_number("seccomp")), ctypes.c_long(1),
                      ctypes.c_long(value), ctypes.c_void_p(None))
    return rc == -1 and ctypes.get_errno() == errno.EFAULT


__all__: Tuple[str, ...] = ("add_run", "add_export", "add_resolve", "add_info", "info")
