"""Scripts written against libseccomp's own Python module, run unchanged under that module and
under this package by tests/test_compat.py; each records what it sees with ``out(...)``.

Run as a script (``python3 compat_cases.py``) it executes every case with whichever `seccomp`
the interpreter imports and prints one JSON object: case name -> what the case recorded, or
the exception it raised (its class and base classes)."""
import errno
import json
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
                                   "Notification", "NotificationResponse")
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
