"""What tools/memcheck.sh runs under valgrind: every core call, its error paths, and a profile
compilation, a few times each (valgrind is ~50x slower than native)."""
import errno
import os

import seccomp
import seccomp.profile
from seccomp import Action, Arch, Cond, Filter, Op, Program


def try_(fn, *args):
    try:
        return fn(*args)
    except (ValueError, TypeError, RuntimeError, OSError):
        return None


for i in range(20):
    f = Filter(Action.ALLOW)
    f.add_arch(Arch.X86)
    f.add_rule(Action.ERRNO(errno.EPERM), "ptrace")
    try_(f.add_rule, Action.KILL_PROCESS, "socket", Cond(0, Op.EQ, 17))
    f.add_rule(Action.ERRNO(1), "ioctl", Cond(1, Op.MASKED_EQ, 0xFF, 0x12))
    try_(f.add_rule_exact, Action.TRAP, "getppid")
    f.syscall_priority("read", 200)
    g = Filter(Action.ALLOW)
    try_(g.add_rule, Action.LOG, "getpid")  # valgrind hides seccomp(2): LOG looks unsupported
    g.remove_arch(Arch.native())
    g.add_arch(Arch.X86)
    try_(f.merge, g)
    try_(f.merge, f)
    try_(f.merge, None)
    f.export_bpf()
    f.export_pfc()
    with open(os.devnull, "wb") as out:
        f.export_bpf(out)
        f.export_pfc(out.fileno())
    Program(f.export_bpf())
    f.compile()
    try_(f.precompute)
    f.no_new_privs = False
    f.optimize = 2
    _ = (f.default_action, f.bad_arch_action, f.tsync, f.log, f.arches, repr(f))
    f.reset()
    f.reset(Action.KILL)
    try_(f.add_rule, Action.ERRNO(1), "no_such_syscall")
    try_(f.add_rule, 0x12345678, "read")
    try_(Cond, 6, Op.EQ, 1)
    try_(Cond, 0, Op.EQ, -1)
    try_(Cond, 0, Op.EQ, 1 << 64)
    try_(Program, b"\0" * 7)
    seccomp.syscall_number("openat", Arch.AARCH64)
    seccomp.syscall_name(56, Arch.AARCH64)
    try_(seccomp.syscall_number, "nope")
    f.release()
    try_(f.add_rule, Action.ALLOW, "read")
    try_(f.export_bpf)
    del g
seccomp.profile.load("default").compile().export_bpf()
print("memcheck workload done")
