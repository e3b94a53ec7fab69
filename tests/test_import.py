"""`import seccomp` is cheap and silent: nothing heavy is imported until it is used, and a
program that loads an allow-list filter and then uses the package exits normally."""
import os
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What `import seccomp` may add to what the interpreter has already loaded at startup.
ALLOWED = {"seccomp", "errno"}
# What the first public name loads, all at once.
CORE = {"seccomp._errors", "seccomp._core", "seccomp._enums", "seccomp._filter",
        "seccomp._compat", "seccomp._info", "__future__",
        "cython_runtime"}  # and Cython's shared types module (_cython_X_Y_Z)
HEAVY = {"asyncio", "ssl", "_ssl", "socket", "subprocess", "json", "logging", "typing",
         "threading", "concurrent.futures", "enum", "contextlib", "seccomp.notify",
         "seccomp.profile", "seccomp.bpf", "seccomp.cli", "seccomp._notify"}


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_import_loads_only_the_core():
    code = ("import sys; before = set(sys.modules); import seccomp; "
            "print('\\n'.join(sorted(set(sys.modules) - before)))")
    done = _run(code)
    assert done.returncode == 0, done.stderr
    added = {m for m in done.stdout.split() if not m.startswith("_cython_")}
    assert added <= ALLOWED, "import seccomp also imported %s" % sorted(added - ALLOWED)
    assert not added & HEAVY


def test_the_first_name_loads_the_core():
    code = ("import sys, seccomp; before = set(sys.modules); seccomp.%s; "
            "print('\\n'.join(sorted(set(sys.modules) - before)))")
    for name in ("Filter", "ERRNO", "SeccompError", "native_arch"):
        done = _run(code % name)
        assert done.returncode == 0, done.stderr
        added = {m for m in done.stdout.split() if not m.startswith("_cython_")}
        assert added <= CORE and added >= CORE - {"__future__", "cython_runtime"}, (name, added)
    done = _run("import seccomp; print(len(dir(seccomp)) > 40, 'Filter' in dir(seccomp)); "
                "from seccomp import *; print(Filter.__name__, SyscallFilter.__name__, "
                "Notification.__name__, errno.EPERM)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "Filter", "SyscallFilter", "Notification",
                                   "1"]


def test_the_record_command_starts_before_the_core():
    # seccomp record starts its command with these alone: the core loads while it runs
    done = _run("import sys, seccomp.cli.record, seccomp.record; "
                "print(' '.join(sorted(m for m in sys.modules if m.startswith('seccomp'))))")
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == {"seccomp", "seccomp._fields", "seccomp._record",
                                        "seccomp.cli", "seccomp.cli.common",
                                        "seccomp.cli.record", "seccomp.record"}


def test_heavy_modules_load_on_first_use():
    done = _run("import sys, seccomp; seccomp.Notification; seccomp.notify; "
                "print('seccomp.notify' in sys.modules, 'seccomp._notify' in sys.modules)")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]
    done = _run("import seccomp; seccomp.no_such_name")
    assert "has no attribute 'no_such_name'" in done.stderr


# The syscalls a Python program needs to run and exit once its imports are done.
ALLOW_LIST = ["read", "write", "close", "exit", "exit_group", "brk", "mmap", "munmap",
              "mprotect", "madvise", "rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "futex"]

USE_AFTER_LOAD = """
import seccomp
f = seccomp.Filter(seccomp.Action.KILL_PROCESS)
for name in %r:
    f.add_rule(seccomp.Action.ALLOW, name)
f.load()
# everything below runs under the filter: anything else the package did would be SIGSYS
a, b = seccomp.Action.ERRNO(1), seccomp.ERRNO(2)
g = seccomp.Filter(seccomp.Action.ALLOW)
g.add_rule(seccomp.Action.ERRNO(1), "ptrace", seccomp.Cond(0, seccomp.Op.EQ, 1))
g.add_arch(seccomp.Arch.X86)
g.release()
h = seccomp.SyscallFilter(seccomp.ALLOW)
h.add_rule(seccomp.KILL, "ptrace", seccomp.Arg(0, seccomp.EQ, 1))
del h
print(seccomp.syscall_number("openat"), seccomp.resolve_syscall(seccomp.Arch(), "read"), a, b)
""" % (ALLOW_LIST,)


# A filter built through a subpackage (no name of the package asked for before): the core
# loads with the module that builds filters, so the names still work under it.
USE_AFTER_PROFILE_LOAD = """
import seccomp.profile.model
prof = seccomp.profile.Profile(seccomp.profile.model.ACTIONS["SCMP_ACT_KILL_PROCESS"],
                               (seccomp.profile.Rule(tuple(%r), seccomp.profile.model.ACTIONS[
                                   "SCMP_ACT_ALLOW"]),))
flt = prof.compile(enosys=False)
flt.load()
print(seccomp.ERRNO(3), seccomp.SyscallFilter.__name__, seccomp.syscall_number("openat"))
""" % (ALLOW_LIST,)


def test_allow_list_filter_then_use_and_exit_normally():
    done = _run(USE_AFTER_PROFILE_LOAD)
    assert done.returncode == 0, "child ended with %s: %s" % (
        signal.Signals(-done.returncode).name if done.returncode < 0 else done.returncode,
        done.stderr)
    assert "ERRNO(3) SyscallFilter" in done.stdout
    done = _run(USE_AFTER_LOAD)
    assert done.returncode == 0, "child ended with %s: %s" % (
        signal.Signals(-done.returncode).name if done.returncode < 0 else done.returncode,
        done.stderr)
    assert "ERRNO(1) ERRNO(2)" in done.stdout
