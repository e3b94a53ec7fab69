"""Emulator speed: evaluations of the built-in default profile's filter (~1350 instructions,
~370 syscalls) per syscall, against libpcap's C interpreter, a plain Python interpreter and
what the kernel itself spends.

    python3 benchmarks/bench_bpf.py [--repeats N]

Columns, nanoseconds per evaluation (minimum of N rounds), ratio to libpcap's bpf_filter():
  C: libpcap bpf_filter     benchmarks/c/bpf_pcap.c (needs libpcap-dev; skipped without it)
  ours: evaluate()          seccomp.bpf.evaluate(program, nr, args, arch=...) per call
  ours: evaluate_many()     one call for 10,000 syscalls
  pure Python               the same interpreter written in Python (below), for scale
  kernel                    benchmarks/c/filter_cost.c: a syscall loop with the filter loaded
                            minus the same loop without it (in a child process)
for an allowed syscall (getppid), a conditional one (personality(0xffffffff), a query the
profile allows by its argument), a denied one (kexec_load) and one the profile does not list.
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from seccomp import Arch, bpf, syscall_number  # noqa: E402
import seccomp.profile  # noqa: E402


def python_run(insns, data):
    """A straightforward classic BPF interpreter in Python (what a pure-Python emulator does)."""
    a = 0
    mem = [0] * 16
    pc = 0
    while True:
        code, jt, jf, k = insns[pc]
        pc += 1
        if code == 0x20:
            a = struct.unpack_from("<I", data, k)[0]
        elif code == 0x15:
            pc += jt if a == k else jf
        elif code == 0x25:
            pc += jt if a > k else jf
        elif code == 0x35:
            pc += jt if a >= k else jf
        elif code == 0x45:
            pc += jt if a & k else jf
        elif code == 0x05:
            pc += k
        elif code == 0x06:
            return k
        elif code == 0x54:
            a &= k
        elif code == 0x00:
            a = k
        elif code == 0x02:
            mem[k] = a
        elif code == 0x60:
            a = mem[k]
        else:
            raise NotImplementedError(hex(code))


def best(fn, repeats):
    times = []
    for _ in range(repeats):
        times.append(fn())
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    native = Arch.native()
    flt = seccomp.profile.load("default").compile()
    program = flt.export_bpf()
    insns = [struct.unpack_from("<HBBI", program, i) for i in range(0, len(program), 8)]
    cases = [("allowed: getppid", syscall_number("getppid"), ()),
             ("conditional: personality", syscall_number("personality"), (0xFFFFFFFF,)),
             ("denied: kexec_load", syscall_number("kexec_load"), ()),
             ("not listed: 1000", 1000, ())]
    pcap = None
    with tempfile.TemporaryDirectory() as tmp:
        if shutil.which("gcc") and os.path.exists("/usr/include/pcap/bpf.h"):
            pcap = os.path.join(tmp, "bpf_pcap")
            subprocess.run(["gcc", "-O2", "-o", pcap, os.path.join(HERE, "c", "bpf_pcap.c"),
                            "-lpcap"], check=True)
        path = os.path.join(tmp, "default.bpf")
        with open(path, "wb") as f:
            f.write(program)
        kernel = kernel_cost(tmp, path, args.repeats)
        print("default profile: %d instructions; ns per evaluation (ratio to libpcap)"
              % len(insns))
        print("| syscall | C: libpcap bpf_filter | ours: evaluate() | ours: evaluate_many() "
              "| pure Python | kernel (with - without filter) |")
        print("|---|---|---|---|---|---|")
        for label, nr, sargs in cases:
            want = int(bpf.evaluate(program, nr, sargs))
            c_ns = None
            if pcap:
                def c_round():
                    out = subprocess.run([pcap, path, str(int(native)), str(nr), "2000000",
                                          *map(str, sargs)],
                                         capture_output=True, text=True, check=True).stdout
                    ns, ret = out.split()
                    assert int(ret) == want, (ret, want)
                    return float(ns)
                c_ns = best(c_round, args.repeats)

            def single(n=20000):
                ev = bpf.evaluate
                start = time.perf_counter()
                for _ in range(n):
                    ev(program, nr, sargs, arch=native)
                return (time.perf_counter() - start) / n * 1e9

            calls = [(nr, sargs)] * 10000

            def batch():
                start = time.perf_counter()
                bpf.evaluate_many(program, calls, arch=native)
                return (time.perf_counter() - start) / len(calls) * 1e9

            data = struct.pack("<iIQ6Q", nr, int(native), 0, *(list(sargs) + [0] * 6)[:6])
            assert python_run(insns, data) == want

            def pure(n=2000):
                start = time.perf_counter()
                for _ in range(n):
                    python_run(insns, data)
                return (time.perf_counter() - start) / n * 1e9

            row = [best(single, args.repeats), best(batch, args.repeats), best(pure, args.repeats)]

            def cell(ns):
                return "%.0f" % ns + (" (%.1fx)" % (ns / c_ns) if c_ns else "")
            name = label.split(": ")[1]
            print("| %s | %s | %s | %s |" % (
                label, "%.0f (1.0x)" % c_ns if c_ns else "-", " | ".join(cell(ns) for ns in row),
                cell(kernel[name]) if name in kernel else "-"))


def kernel_cost(tmp, path, repeats):
    """ns the kernel adds per syscall with the filter loaded, by syscall name (in a child)."""
    exe = os.path.join(tmp, "filter_cost")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "c", "filter_cost.c")],
                   check=True)
    best = {}
    for _ in range(repeats):
        out = subprocess.run([exe, path, "300000"], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            name, without, with_ = line.split()
            best[name] = min(best.get(name, float("inf")), float(with_) - float(without))
    return best


if __name__ == "__main__":
    main()
