"""Compare two versions of the policy lowering (`Policy.compile`) on random policies of
multi-condition rules, the kind that meets libseccomp's seccomp_rule_add() loops.

Each version compiles the same policies (seeded), each in a forked child with a 20 s alarm (a
libseccomp loop would hang it), and stores what it got; ``compare`` then evaluates both
programs and the policy's own `Policy.decide` at the policy's boundary vectors and random ones,
per architecture, and counts what compiles, what hangs and any disagreement::

    PYTHONPATH=/path/to/old python3 tools/compare_lowering.py dump 400 7 old.pkl
    PYTHONPATH=/path/to/new python3 tools/compare_lowering.py dump 400 7 new.pkl
    python3 tools/compare_lowering.py compare old.pkl new.pkl 400 7

(a checkout without a build can borrow the compiled modules of another: copy seccomp/*.so).
"""
import os
import pickle
import random
import signal
import sys

from seccomp import Action, Arch, bpf
from seccomp.policy.model import And, Arg, BinOp, Cmp, Num, Policy, Rule

U64 = (1 << 64) - 1
OPS = ["==", "!=", "<", "<=", ">", ">="]
ACTIONS = [Action.ALLOW, Action.ERRNO(1), Action.ERRNO(2), Action.KILL_PROCESS, Action.TRAP]
VALUES = [0, 1, 2, 5, 7, 0xFF, 0xFFFFFFFF, 1 << 32, (1 << 32) + 5, U64 - 1, U64]
ARCHES = [(), (), (Arch.X86_64, Arch.AARCH64), (Arch.X86_64, Arch.X86, Arch.AARCH64)]


def random_condition(rng, used):
    i = rng.choice([a for a in range(3) if a not in used])
    used.add(i)
    if rng.random() < 0.15:
        mask = rng.choice([0xF0, 0xFFFF0000FFFF, 3])
        return Cmp("==", BinOp("&", Arg(i), Num(mask)), Num(rng.choice([0, 0x30, 3])))
    return Cmp(rng.choice(OPS), Arg(i), Num(rng.choice(VALUES)))


def random_policy(rng):
    """One or two syscalls, 2-5 rules each; most rules start with the syscall's first
    condition (the shape that makes libseccomp loop)."""
    arches = rng.choice(ARCHES)
    rules = []
    for name in rng.sample(["getppid", "getpgid", "read"], rng.randint(1, 2)):
        shared = None
        for _ in range(rng.randint(2, 5)):
            used, conds = set(), []
            if shared is not None and rng.random() < 0.7:
                conds.append(shared)
                left = shared.left
                used.add(left.index if isinstance(left, Arg) else left.left.index)
            for _ in range(rng.randint(1, 2)):
                if len(used) < 3:
                    conds.append(random_condition(rng, used))
            if shared is None:
                shared = conds[0]
            condition = And(tuple(conds)) if len(conds) > 1 else conds[0]
            rules.append(Rule(name, condition, rng.choice(ACTIONS)))
    return Policy(rng.choice([Action.ALLOW, Action.ERRNO(3)]), tuple(rules), arches)


def policies(n, seed):
    rng = random.Random(seed)
    return [random_policy(rng) for _ in range(n)]


def compile_in_child(pol):
    """("ok", program, whether rules were held) / ("err", message, False) / ("hang", ...)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        signal.alarm(20)
        try:
            f = pol.compile()
            out = ("ok", f.export_bpf(), bool(getattr(f, "_held_rules", None)))
        except BaseException as e:  # noqa: BLE001 - reported, whatever it is
            out = ("err", str(e)[:150], False)
        os.write(w, pickle.dumps(out))
        os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        data = fh.read()
    _, status = os.waitpid(pid, 0)
    return ("hang", None, False) if os.WIFSIGNALED(status) else pickle.loads(data)


def compare(a, b, n, seed):
    rng = random.Random(seed + 1)
    st = dict(policies=n, both_ok=0, same_bytes=0, agree=0, vectors=0, held_in_b=0,
              only_a_ok=0, only_b_ok=0, both_fail=0, mismatch=0)
    fails = {}
    for pol, x, y in zip(policies(n, seed), a, b):
        if x[0] != "ok" or y[0] != "ok":
            key = ("only_a_ok" if x[0] == "ok" else "only_b_ok" if y[0] == "ok"
                   else "both_fail")
            st[key] += 1
            for tag, r in (("a", x), ("b", y)):
                if r[0] != "ok":
                    k = "%s %s %s" % (tag, r[0], (r[1] or "")[:48])
                    fails[k] = fails.get(k, 0) + 1
            continue
        st["both_ok"] += 1
        st["same_bytes"] += x[1] == y[1]
        st["held_in_b"] += y[2]
        ok = True
        for arch in pol.arches or (Arch.native(),):
            wide = arch != Arch.X86
            for name in pol.syscalls():
                vectors = list(pol._vectors(name)) + [
                    tuple(rng.choice(VALUES + [rng.getrandbits(64)]) for _ in range(6))
                    for _ in range(40)]
                for v in vectors:
                    want = pol.decide(name, v if wide else tuple(q & 0xFFFFFFFF for q in v))
                    st["vectors"] += 1
                    got_a = bpf.evaluate(x[1], name, v, arch=arch)
                    got_b = bpf.evaluate(y[1], name, v, arch=arch)
                    ok = ok and int(got_a) == int(got_b) == int(want)
        st["agree"] += ok
        st["mismatch"] += not ok
    print(st)
    for k, count in sorted(fails.items()):
        print(count, k)


def main():
    if sys.argv[1] == "dump":
        n, seed, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        with open(out, "wb") as fh:
            pickle.dump([compile_in_child(p) for p in policies(n, seed)], fh)
    else:
        with open(sys.argv[2], "rb") as fa, open(sys.argv[3], "rb") as fb:
            compare(pickle.load(fa), pickle.load(fb), int(sys.argv[4]), int(sys.argv[5]))


if __name__ == "__main__":
    main()
