"""Run a command with namespace creation, mounts, ptrace and kernel-module calls denied.

    python3 examples/sandbox.py -- CMD ARGS...
"""
import errno
import os
import sys

from seccomp import Action, Cond, Filter, Op

CLONE_NEWUSER = 0x10000000
DENIED = ["unshare", "setns", "mount", "umount2", "pivot_root", "ptrace", "init_module",
          "finit_module", "delete_module", "kexec_load", "reboot", "bpf", "keyctl"]


def main(argv: list[str]) -> None:
    if "--" in argv:
        argv = argv[argv.index("--") + 1:]
    if not argv:
        sys.exit("usage: sandbox.py -- CMD ARGS...")
    f = Filter(Action.ALLOW)
    for name in DENIED:
        f.add_rule(Action.ERRNO(errno.EPERM), name)
    f.add_rule(Action.ERRNO(errno.EPERM), "clone",
               Cond(0, Op.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    # clone3's flags are behind a pointer: ENOSYS makes libc fall back to clone
    f.add_rule(Action.ERRNO(errno.ENOSYS), "clone3")
    f.compile().load()
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
