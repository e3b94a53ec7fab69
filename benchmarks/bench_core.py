"""Core benchmark: the C API from C, this package, libseccomp's own module and pyseccomp.

    python3 benchmarks/bench_core.py [--repeats N]

Workloads (nanoseconds per operation, the minimum over N rounds, printed with the ratio to C):
  build    create a filter, add ~370 rules (every syscall of the native arch; one in eight with
           an argument condition), release it
  small    create a filter, add one rule, release it
  resolve  one syscall name to number on the native arch
  load     seccomp_load() of the ~370-rule filter (libseccomp generates the BPF again each time)
  program_load  this package's precomputed Program.load(): the BPF straight to seccomp(2)
Loads run in child processes. libseccomp's module runs under /usr/bin/python3 (Debian's
python3-seccomp) when that interpreter can import it; pyseccomp when it is installed.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKER = os.path.join(HERE, "_core_worker.py")
SYSTEM_PYTHON = "/usr/bin/python3"
# Syscalls the benchmark's children need after loading; they never get a condition.
ESSENTIAL = {"read", "write", "close", "exit", "exit_group", "mmap", "munmap", "brk", "mprotect",
             "rt_sigreturn", "rt_sigaction", "rt_sigprocmask", "futex", "seccomp", "prctl",
             "getpid", "gettid", "clock_gettime", "fstat", "newfstatat", "madvise", "wait4"}


def make_spec(path: str) -> int:
    import seccomp
    names = []
    for nr in range(1024):
        try:
            names.append(seccomp.syscall_name(nr))
        except seccomp.SeccompError:
            continue
    names = names[:370]
    with open(path, "w") as f:
        for i, name in enumerate(names):
            if i % 8 == 7 and name not in ESSENTIAL:
                f.write("%s 0 %d\n" % (name, 0xdead0000 + i))
            else:
                f.write(name + "\n")
    return len(names)


def build_c(tmp: str) -> str:
    exe = os.path.join(tmp, "bench_core")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libseccomp"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "c", "bench_core.c"), *flags],
                   check=True)
    return exe


def run_json(cmd, cwd=None, env=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    if proc.returncode != 0:
        return None, proc.stderr.strip().splitlines()[-1:] or ["exit %d" % proc.returncode]
    return json.loads(proc.stdout), None


def same_abi(python: str) -> bool:
    """Whether *python* is another interpreter that can import this build of the package."""
    if not os.path.exists(python) or os.path.realpath(python) == os.path.realpath(sys.executable):
        return False
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    out = subprocess.run([python, "-c", probe], capture_output=True, text=True).stdout.strip()
    return out == "%d.%d" % sys.version_info[:2]


def have_system_module() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = "import seccomp, sys; sys.exit(hasattr(seccomp, 'Filter'))"
    return subprocess.run([SYSTEM_PYTHON, "-c", probe], cwd="/",
                          capture_output=True).returncode == 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    reps = str(args.repeats)
    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "rules.txt")
        nrules = make_spec(spec)
        results = {}
        results["C (libseccomp)"], err = run_json([build_c(tmp), spec, reps])
        if err:
            sys.exit("C benchmark failed: %s" % err)
        # Interpreters differ in speed (Debian's is built with PGO, pyenv's is not), so this
        # package also runs under the system interpreter, beside libseccomp's own module.
        pythons = [(sys.executable, "")]
        if same_abi(SYSTEM_PYTHON):
            pythons.append((SYSTEM_PYTHON, " [%s]" % SYSTEM_PYTHON))
        env = dict(os.environ, PYTHONPATH=ROOT)
        for python, tag in pythons:
            for impl, label in (("ours", "seccomp.Filter"), ("ours-compat", "SyscallFilter")):
                res, err = run_json([python, WORKER, impl, spec, reps], cwd=ROOT, env=env)
                if res:
                    results["%s (ours)%s" % (label, tag)] = res
                else:
                    print("%s%s: skipped (%s)" % (label, tag, err and err[0]))
        if have_system_module():
            results["libseccomp's module [%s]" % SYSTEM_PYTHON], err = run_json(
                [SYSTEM_PYTHON, WORKER, "libseccomp", spec, reps], cwd="/")
        else:
            print("libseccomp's module: skipped (%s cannot import it)" % SYSTEM_PYTHON)
        pys, err = run_json([sys.executable, WORKER, "pyseccomp", spec, reps], cwd=ROOT)
        if pys:
            results["pyseccomp"] = pys
        else:
            print("pyseccomp: skipped (%s)" % (err and err[0]))

    c = results["C (libseccomp)"]
    cols = ["build", "small", "resolve", "load", "program_load"]
    print("%d rules, %s repeats, ns per operation (ratio to C)" % (nrules, reps))
    print("| implementation | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for impl, res in results.items():
        cells = []
        for col in cols:
            if not res or col not in res:
                cells.append("-")
                continue
            base = c.get(col) or c["load"]  # program_load is compared with seccomp_load from C
            cells.append("%.0f (%.2fx)" % (res[col], res[col] / base))
        print("| %s | %s |" % (impl, " | ".join(cells)))


if __name__ == "__main__":
    main()
