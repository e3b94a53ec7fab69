"""Programs using the public API, checked with mypy --strict by tests/test_typing.py."""
import errno
import socket

import seccomp
import seccomp.profile
from seccomp import Action, Arch, Cond, Filter, Op, SyscallFilter, bpf, notify


def build() -> bytes:
    with Filter(Action.ALLOW) as f:
        f.add_rule(Action.ERRNO(errno.EPERM), "ptrace")
        f.add_rule(Action.KILL_PROCESS, "socket", Cond(0, Op.EQ, socket.AF_PACKET))
        f.add_rule(Action.ERRNO(1), "write", Cond.cmp32(2, Op.GT, -1))
        f.add_arch(Arch.X86)
        f.no_new_privs = True
        pfc: str = f.export_pfc()  # no file: the text itself, not Optional
        program = f.compile()
        assert len(program) > 0 and pfc
        action: Action = f.simulate("ptrace")
        assert action == Action.ERRNO(errno.EPERM)
        kind: str = action.kind
        assert kind == "ERRNO" and action.data == errno.EPERM
        return f.export_bpf()


def compat() -> int:
    f = SyscallFilter(seccomp.ALLOW)
    f.add_rule(seccomp.ERRNO(1), "read", seccomp.Arg(0, seccomp.EQ, 3))
    f.start_transaction()
    f.reject_transaction()
    return f.get_attr(seccomp.Attr.CTL_TSYNC) + int(seccomp.system_arch())


def emulate(program: bytes) -> str:
    answers = bpf.evaluate_many(program, ["read", ("socket", [17])])
    assert bpf.evaluate(program, "read", [0], arch="aarch64") in answers or True
    e = bpf.explain(program)
    return bpf.disassemble(program) + e.table() + "".join(e.warnings)


def supervise(fd: int) -> int:
    sup = notify.Supervisor(notify.Listener(fd))

    @sup.handler("mkdirat")
    def deny(n: notify.Notification) -> object:
        if n.syscall_name == "mkdirat" and n.arch is Arch.native():
            return notify.CONTINUE
        return notify.InjectFd(0, cloexec=True)

    sup.stop()
    return sup.handled


def profile() -> int:
    prof = seccomp.profile.load("default")
    f = prof.compile(arch="x86_64", caps=["CAP_SYS_ADMIN"])
    return len(f.skipped_syscalls) + len(prof.to_json(oci=True))
