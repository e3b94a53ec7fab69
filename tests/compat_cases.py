"""Scripts written against libseccomp's own Python module, run unchanged under that module and
under this package by tests/test_compat.py; each records what it sees with ``out(...)``.

Run as a script (``python3 compat_cases.py``) it executes every case with whichever `seccomp`
the interpreter imports and prints one JSON object: case name -> what the case recorded, or
the exception it raised (its class and base classes)."""
import errno
import json
import random
import sys
import tempfile

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def export(f, out):
    """Both exports, through files as that module requires."""
    with tempfile.TemporaryFile() as tmp:
        f.export_pfc(tmp)
        tmp.seek(0)
        out("pfc", tmp.read().decode())
    with tempfile.TemporaryFile() as tmp:
        f.export_bpf(tmp)
        tmp.seek(0)
        out("bpf", tmp.read().hex())


# -- every action, every operator -------------------------------------------------------------

@case
def actions(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.KILL, "ptrace")
    f.add_rule(s.KILL_PROCESS, "reboot")
    f.add_rule(s.TRAP, "kexec_load")
    f.add_rule(s.LOG, "mount")
    f.add_rule(s.ERRNO(errno.EPERM), "umount2")
    f.add_rule(s.TRACE(7), "swapon")
    f.add_rule(s.NOTIFY, "getppid")
    f.add_rule(s.ERRNO(0), "getpgrp")
    export(f, out)


@case
def default_actions(s, out):
    for default in (s.KILL, s.KILL_PROCESS, s.TRAP, s.LOG, s.ERRNO(5), s.TRACE(1)):
        f = s.SyscallFilter(default)
        f.add_rule(s.ALLOW, "read")
        out("default %d" % (default & 0xFFFFFFFF), f.get_attr(s.Attr.ACT_DEFAULT))
        export(f, out)


@case
def operators(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.ERRNO(1), "read", s.Arg(0, s.NE, 1))
    f.add_rule(s.ERRNO(2), "write", s.Arg(1, s.LT, 0x100000000))
    f.add_rule(s.ERRNO(3), "close", s.Arg(0, s.LE, 7))
    f.add_rule(s.ERRNO(4), "openat", s.Arg(2, s.EQ, 0xFFFFFFFFFFFFFFFF))
    f.add_rule(s.ERRNO(5), "lseek", s.Arg(2, s.GE, 3))
    f.add_rule(s.ERRNO(6), "dup", s.Arg(0, s.GT, 1 << 40))
    f.add_rule(s.ERRNO(7), "ioctl", s.Arg(1, s.MASKED_EQ, 0xFF00, 0x5400))
    f.add_rule(s.ERRNO(8), "mmap", s.Arg(2, s.EQ, 7), s.Arg(3, s.MASKED_EQ, 3, 1),
               s.Arg(5, s.LT, 4096))
    f.add_rule(s.ERRNO(9), "fcntl", s.Arg(1, s.EQ, 1))
    f.add_rule(s.ERRNO(9), "fcntl", s.Arg(1, s.EQ, 2))
    export(f, out)


@case
def six_arguments(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.ERRNO(1), "mmap", *[s.Arg(i, s.EQ, i + 1) for i in range(6)])
    export(f, out)


# -- architectures ----------------------------------------------------------------------------

@case
def arches(s, out):
    f = s.SyscallFilter(s.ERRNO(errno.ENOSYS))
    for arch in (s.Arch.X86, s.Arch.X32, s.Arch.AARCH64, s.Arch.ARM):
        f.add_arch(arch)
    out("exist x86", f.exist_arch(s.Arch.X86))
    out("exist ppc", f.exist_arch(s.Arch.PPC64LE))
    f.add_rule(s.ALLOW, "read")
    f.add_rule(s.ALLOW, "openat")
    f.add_rule(s.ERRNO(1), "write", s.Arg(0, s.EQ, 2))
    f.remove_arch(s.Arch.ARM)
    out("exist arm", f.exist_arch(s.Arch.ARM))
    export(f, out)


@case
def big_endian_arches(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.remove_arch(s.Arch.NATIVE)
    f.add_arch(s.Arch.S390X)
    f.add_arch(s.Arch.PPC64)
    f.add_rule(s.ERRNO(1), "read", s.Arg(0, s.GT, 1 << 33))
    export(f, out)


@case
def socketcall_on_x86(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.remove_arch(s.Arch.NATIVE)
    f.add_arch(s.Arch.X86)
    f.add_rule(s.ERRNO(1), "socket", s.Arg(0, s.EQ, 16))
    f.add_rule(s.ERRNO(2), "connect")
    f.add_rule(s.KILL, "socketcall", s.Arg(0, s.EQ, 99))
    export(f, out)


@case
def exact_rules(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule_exactly(s.ERRNO(1), "read", s.Arg(0, s.EQ, 3))
    f.add_rule_exactly(s.ERRNO(2), 39)
    export(f, out)
    g = s.SyscallFilter(s.ALLOW)
    g.remove_arch(s.Arch.NATIVE)
    g.add_arch(s.Arch.X86)
    g.add_rule_exactly(s.ERRNO(1), "socket", s.Arg(0, s.EQ, 16))


@case
def syscall_numbers(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.ERRNO(1), 0)
    f.add_rule(s.ERRNO(2), 1000)
    export(f, out)


# -- attributes, priority ---------------------------------------------------------------------

@case
def attributes(s, out):
    f = s.SyscallFilter(s.ALLOW)
    for name in ("ACT_DEFAULT", "ACT_BADARCH", "CTL_NNP", "CTL_TSYNC", "API_TSKIP", "CTL_LOG",
                 "CTL_SSB", "CTL_OPTIMIZE", "API_SYSRAWRC"):
        out(name, f.get_attr(getattr(s.Attr, name)))
    f.set_attr(s.Attr.ACT_BADARCH, s.ERRNO(9))
    f.set_attr(s.Attr.CTL_NNP, 0)
    f.set_attr(s.Attr.CTL_LOG, 1)
    f.set_attr(s.Attr.CTL_TSYNC, 1)
    f.set_attr(s.Attr.CTL_OPTIMIZE, 2)
    for name in ("ACT_BADARCH", "CTL_NNP", "CTL_LOG", "CTL_TSYNC", "CTL_OPTIMIZE"):
        out("after " + name, f.get_attr(getattr(s.Attr, name)))
    for nr in range(40):
        f.add_rule(s.ERRNO(nr + 1), nr)
    export(f, out)


@case
def priorities(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.ERRNO(1), "read")
    f.add_rule(s.ERRNO(2), "write")
    f.syscall_priority("write", 255)
    f.syscall_priority(0, 10)
    export(f, out)


# -- merge, reset -------------------------------------------------------------------------------

@case
def merge(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.ERRNO(1), "read")
    g = s.SyscallFilter(s.ALLOW)
    g.remove_arch(s.Arch.NATIVE)
    g.add_arch(s.Arch.X86)
    g.add_rule(s.ERRNO(2), "socketcall")
    f.merge(g)
    out("x86 after merge", f.exist_arch(s.Arch.X86))
    export(f, out)


@case
def reset_with_action(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.ERRNO(1), "read")
    f.add_arch(s.Arch.X86)
    f.reset(s.ERRNO(3))
    out("default", f.get_attr(s.Attr.ACT_DEFAULT))
    out("x86", f.exist_arch(s.Arch.X86))
    f.add_rule(s.ALLOW, "write")
    export(f, out)


# -- module functions ---------------------------------------------------------------------------

@case
def resolve(s, out):
    out("read", s.resolve_syscall(s.Arch.X86_64, "read"))
    out("socketcall x86", s.resolve_syscall(s.Arch.X86, "socketcall"))
    out("openat aarch64", s.resolve_syscall(s.Arch.AARCH64, "openat"))
    out("unknown", s.resolve_syscall(s.Arch.X86_64, "no_such_syscall"))
    out("0", s.resolve_syscall(s.Arch.X86_64, 0).decode())
    out("type of name", type(s.resolve_syscall(s.Arch.X86_64, 0)).__name__)
    out("102 x86", s.resolve_syscall(s.Arch.X86, 102).decode())
    out("native", s.resolve_syscall(s.Arch.NATIVE, "close"))
    out("c_str", s.c_str("read").decode())


@case
def resolve_multiplexed(s, out):
    # names resolve as libseccomp writes them into filters: socket on x86 is socketcall (102)
    for arch in ("X86", "X86_64", "X32", "ARM", "AARCH64", "S390", "S390X", "PPC", "PPC64LE",
                 "MIPS", "MIPSEL64", "PARISC", "RISCV64"):
        for name in ("socket", "connect", "recv", "shmget", "semop", "ipc", "socketcall",
                     "open", "newfstatat"):
            out("%s %s" % (arch, name), s.resolve_syscall(getattr(s.Arch, arch), name))


@case
def arg_keywords(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.add_rule(s.ERRNO(1), "read", s.Arg(arg=0, op=s.EQ, datum_a=5))
    f.add_rule(s.ERRNO(2), "ioctl", s.Arg(1, s.MASKED_EQ, datum_a=0xFF00, datum_b=0x5400))
    export(f, out)


@case
def signed_attribute_values(s, out):
    f = s.SyscallFilter(s.ALLOW)
    f.set_attr(s.Attr.CTL_NNP, -1)        # that module's parameter was a C int
    out("nnp", f.get_attr(s.Attr.CTL_NNP))
    f.set_attr(s.Attr.CTL_NNP, 0)
    out("nnp 0", f.get_attr(s.Attr.CTL_NNP))


@case
def notification_objects(s, out):
    n = s.Notification(11, 22, 1, 39, int(s.Arch.X86_64) & 0xFFFFFFFF, 0x401000,
                       [1, 2, 3, 4, 5, 1 << 63])
    for name in ("id", "pid", "flags", "syscall", "syscall_arch", "syscall_ip", "syscall_args"):
        out("n." + name, getattr(n, name))
    for r in (s.NotificationResponse(n), s.NotificationResponse(n, 5, -1, 1),
              s.NotificationResponse(notify=n, val=7, error=-13, flags=0)):
        out("response", [r.id, r.val, r.error, r.flags])
    r = s.NotificationResponse(n)
    r.val, r.error, r.flags, r.id = 3, -1, 1, 99
    out("response set", [r.id, r.val, r.error, r.flags])


# Random rule sets: the same seed gives the same sequence under both interpreters.
_RANDOM_ARCHES = ("X86", "X32", "ARM", "AARCH64", "S390X", "PPC64LE", "MIPSEL", "RISCV64")
_RANDOM_SYSCALLS = ("read", "write", "close", "openat", "socket", "connect", "accept4",
                    "shmget", "ipc", "mmap", "ioctl", "fcntl", "getpid", "ptrace", "kill", 0,
                    1, 39, 1000)
_RANDOM_DATA = (0, 1, 2, 7, 0xFF, 0xFFFFFFFF, 1 << 32, 0xFFFFFFFFFFFFFFFF)


@case
def random_rule_sets(s, out):
    rng = random.Random(20261123)
    def actions():
        return rng.choice((s.ALLOW, s.KILL, s.KILL_PROCESS, s.TRAP, s.LOG, s.NOTIFY,
                           s.ERRNO(rng.randrange(4096)), s.TRACE(rng.randrange(100))))
    ops = (s.NE, s.LT, s.LE, s.EQ, s.GE, s.GT, s.MASKED_EQ)
    for n in range(40):
        default = actions()
        while default == s.NOTIFY:
            default = actions()
        f = s.SyscallFilter(default)
        for arch in rng.sample(_RANDOM_ARCHES, rng.randrange(3)):
            f.add_arch(getattr(s.Arch, arch))
        if rng.random() < 0.2 and f.exist_arch(s.Arch.X86):
            f.remove_arch(s.Arch.NATIVE)
        if rng.random() < 0.3:
            f.set_attr(s.Attr.CTL_OPTIMIZE, 2)
        if rng.random() < 0.2:
            f.set_attr(s.Attr.ACT_BADARCH, s.ERRNO(rng.randrange(1, 100)))
        accepted = []
        for i in range(rng.randrange(1, 25)):
            action, syscall = actions(), rng.choice(_RANDOM_SYSCALLS)
            args = [s.Arg(a, rng.choice(ops), rng.choice(_RANDOM_DATA), rng.choice(_RANDOM_DATA))
                    for a in rng.sample(range(6), rng.choice((0, 0, 1, 1, 2, 3)))]
            add = f.add_rule_exactly if rng.random() < 0.15 else f.add_rule
            try:
                add(action, syscall, *args)
                accepted.append(1)
            except (RuntimeError, ValueError):
                accepted.append(0)
            if rng.random() < 0.1:
                f.syscall_priority(syscall, rng.randrange(256))
        out("%d accepted" % n, accepted)
        export(f, out)


@case
def constants(s, out):
    for name in ("ALLOW", "KILL", "TRAP", "LOG", "NOTIFY", "NE", "LT", "LE", "EQ", "GE",
                 "GT", "MASKED_EQ"):
        out(name, int(getattr(s, name)))
    out("ERRNO(1)", int(s.ERRNO(1)))
    out("TRACE(9)", int(s.TRACE(9)))
    out("KILL_PROCESS", int(s.KILL_PROCESS) & 0xFFFFFFFF)
    for name in ("X86", "ARM", "NATIVE", "MIPS", "MIPSEL64N32", "PARISC", "RISCV64"):
        out("Arch." + name, int(getattr(s.Arch, name)) & 0xFFFFFFFF)
    out("system_arch", s.system_arch() & 0xFFFFFFFF)
    out("Arch()", int(s.Arch()) & 0xFFFFFFFF)
    out("Arch('x86')", int(s.Arch("x86")) & 0xFFFFFFFF)
    out("api", s.get_api())
    out("star", sorted(n for n in ("SyscallFilter", "Arch", "Attr", "Arg", "ALLOW", "ERRNO",
                                   "resolve_syscall", "system_arch", "get_api", "set_api",
                                   "Notification", "NotificationResponse", "c_str", "errno")
                       if n in _star_names(s)))


def _star_names(s):
    names = {}
    exec("from %s import *" % s.__name__, names)
    return names


# -- errors: ours must be catchable as theirs -----------------------------------------------------

def _error_case(name, body):
    def run(s, out):
        body(s)
    run.__name__ = name
    CASES[name] = run


_error_case("err_unknown_syscall", lambda s: s.SyscallFilter(s.ALLOW).add_rule(s.ERRNO(1),
                                                                              "no_such"))
_error_case("err_bad_action", lambda s: s.SyscallFilter(s.ALLOW).add_rule(0x12345678, "read"))
_error_case("err_default_action_rule", lambda s: s.SyscallFilter(s.ALLOW).add_rule(s.ALLOW,
                                                                                  "read"))
_error_case("err_bad_default", lambda s: s.SyscallFilter(12345))
_error_case("err_str_default", lambda s: s.SyscallFilter("x"))
_error_case("err_syscall_type", lambda s: s.SyscallFilter(s.ALLOW).add_rule(s.ERRNO(1), 1.5))
_error_case("err_not_an_arg", lambda s: s.SyscallFilter(s.ALLOW).add_rule(s.ERRNO(1), "read",
                                                                         5))
_error_case("err_repeated_arg", lambda s: s.SyscallFilter(s.ALLOW).add_rule(
    s.ERRNO(1), "read", s.Arg(0, s.EQ, 1), s.Arg(0, s.EQ, 2)))
_error_case("err_priority", lambda s: s.SyscallFilter(s.ALLOW).syscall_priority("read", 300))
_error_case("err_get_attr", lambda s: s.SyscallFilter(s.ALLOW).get_attr(999))
_error_case("err_set_attr", lambda s: s.SyscallFilter(s.ALLOW).set_attr(999, 1))
_error_case("err_optimize", lambda s: s.SyscallFilter(s.ALLOW).set_attr(s.Attr.CTL_OPTIMIZE, 5))
_error_case("err_add_present_arch", lambda s: s.SyscallFilter(s.ALLOW).add_arch(s.Arch.NATIVE))
_error_case("err_remove_absent_arch", lambda s: s.SyscallFilter(s.ALLOW).remove_arch(
    s.Arch.ARM))
_error_case("err_merge_same_arch", lambda s: s.SyscallFilter(s.ALLOW).merge(
    s.SyscallFilter(s.ALLOW)))
_error_case("err_resolve_number", lambda s: s.resolve_syscall(s.Arch.X86_64, 99999))
_error_case("err_resolve_type", lambda s: s.resolve_syscall(s.Arch.X86_64, b"read"))
_error_case("err_set_api", lambda s: s.set_api(99))
_error_case("err_notify_fd", lambda s: s.SyscallFilter(s.ALLOW).get_notify_fd())
_error_case("err_bad_arch_name", lambda s: s.Arch("no_such_arch"))
_error_case("err_arch_type", lambda s: s.Arch(1.5))
_error_case("err_notification_args", lambda s: s.Notification(1, 2, 3))
_error_case("err_notification_readonly", lambda s: setattr(
    s.Notification(1, 2, 3, 4, 5, 6, [0] * 6), "id", 5))
_error_case("err_arg_negative", lambda s: s.Arg(0, s.EQ, -1))
_error_case("err_arg_too_big", lambda s: s.Arg(0, s.EQ, 0, 1 << 64))
_error_case("err_arg_type", lambda s: s.Arg(0, s.EQ, "x"))
_error_case("err_set_attr_too_big", lambda s: s.SyscallFilter(s.ALLOW).set_attr(
    s.Attr.CTL_NNP, 1 << 32))
_error_case("err_set_attr_type", lambda s: s.SyscallFilter(s.ALLOW).set_attr(
    s.Attr.CTL_NNP, "x"))
_error_case("err_set_api_negative", lambda s: s.set_api(-1))
_error_case("err_set_api_type", lambda s: s.set_api("x"))
_error_case("err_errno_type", lambda s: s.ERRNO("x"))
_error_case("err_too_many_args", lambda s: s.SyscallFilter(s.ALLOW).add_rule(
    s.ERRNO(1), "mmap", *[s.Arg(0, s.EQ, 1)] * 7))
_error_case("err_exact_socket_x86", lambda s: _x86_only(s).add_rule_exactly(s.ERRNO(1),
                                                                           "socket"))


def _x86_only(s):
    f = s.SyscallFilter(s.ALLOW)
    f.remove_arch(s.Arch.NATIVE)
    f.add_arch(s.Arch.X86)
    return f


def main():
    import seccomp
    results = {}
    for name, fn in CASES.items():
        seen = []
        try:
            fn(seccomp, lambda key, value: seen.append([key, value]))
            results[name] = {"out": seen}
        except Exception as exc:
            results[name] = {"out": seen, "error": type(exc).__name__,
                             "bases": [c.__name__ for c in type(exc).__mro__]}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
