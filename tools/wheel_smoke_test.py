"""Smoke test for a built wheel (cibuildwheel's test-command, tools/check_wheel.sh): the package
imports, says which libseccomp it runs with, and a filter loaded in a child process makes the
kernel fail a syscall with the errno asked for."""
import ctypes
import errno
import os
import sys

import seccomp
import seccomp._core
from seccomp import Action, Filter

f = Filter(Action.ALLOW)
f.add_rule(Action.ERRNO(errno.EPERM), "getppid")
pid = os.fork()
if pid == 0:
    f.load()
    libc = ctypes.CDLL(None, use_errno=True)
    rc = libc.syscall(seccomp.syscall_number("getppid"))
    os._exit(0 if rc == -1 and ctypes.get_errno() == errno.EPERM else 1)
_, status = os.waitpid(pid, 0)
print("seccomp %s, libseccomp %s, from %s" % (seccomp.__version__,
      ".".join(map(str, seccomp.library_version())), os.path.dirname(seccomp.__file__)))
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit("smoke test: the filter did not make getppid fail with EPERM")
expected = os.environ.get("SECCOMP_EXPECT_VERSION")  # tools/check_wheel.sh: the bundled one
if expected:
    built = ".".join(map(str, seccomp._core.COMPILED_VERSION))
    running = ".".join(map(str, seccomp.library_version()))
    if built != expected or running != expected:
        sys.exit("smoke test: compiled against libseccomp %s, running %s, expected %s"
                 % (built, running, expected))
print("smoke test: ok")
