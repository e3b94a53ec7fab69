"""The readers' compiled fast path (seccomp.policy.fast, src_c/_policyfast.pyx) against the
formats' own readers: whatever it takes gives the same policy (default action, settings,
libseccomp rules, and rules read on first use); whatever a reader refuses, it leaves to it."""
import dataclasses
import json
import random

import pytest

import seccomp
import seccomp.policy as sp
from seccomp.policy import fast

FORMATS = ("minijail", "gosecco", "seccompiler", "oci")


def _read(fmt, text, enabled):
    old = fast.ENABLED
    fast.ENABLED = enabled
    try:
        return sp.load_all("{inline}" + text, format=fmt)
    finally:
        fast.ENABLED = old


def _outcome(fmt, text, enabled):
    try:
        return _read(fmt, text, enabled), None
    except sp.PolicyError as exc:
        return None, str(exc)
    except (seccomp.SeccompError, ValueError, TypeError) as exc:
        return None, "%s: %s" % (type(exc).__name__, exc)


def _lowered(policy):
    try:
        return policy.lowered()
    except sp.PolicyError as exc:  # the library's own BPF computes it
        return str(exc)


def _taken(fmt, text):
    """Whether the fast path took *text*."""
    return fast.read(fmt, text, "<inline>", lambda: {}) is not None


def _same(fmt, text):
    """The fast path agrees with the format's reader on *text*; returns whether it took it."""
    taken = _taken(fmt, text)
    slow, slow_error = _outcome(fmt, text, False)
    quick, quick_error = _outcome(fmt, text, True)
    assert quick_error == slow_error, text
    if slow is None:
        assert not taken, "the fast path took text its reader refuses:\n" + text
        return False
    assert list(quick) == list(slow)
    for name, q in quick.items():
        s = slow[name]
        assert ("_ready_lowering" in q.__dict__) == taken
        for f in dataclasses.fields(s):
            if f.name != "rules":
                assert getattr(q, f.name) == getattr(s, f.name), (f.name, text)
        assert _lowered(q) == _lowered(s), text
        if taken:
            assert "rules" not in q.__dict__  # not read until used
        assert q.rules == s.rules
        assert q == s
    return taken


# ---------------------------------------------------------------------------------------------
# Texts: the common forms, and near misses the fast path must leave to the readers
# ---------------------------------------------------------------------------------------------

_NAMES = ["read", "write", "openat", "close", "mmap", "ioctl", "futex", "not_a_syscall"]
_OPS = ["==", "!=", "<", "<=", ">", ">="]
_NUMS = ["0", "1", "7", "0x10", "0X1f", "010", "4294967296", "18446744073709551615"]
_ODD_NUMS = ["18446744073709551616", "-1", "08", "0b101", "0x", "1e3", "O_RDONLY"]


def _expr(rng):
    alts = []
    for _ in range(rng.randint(1, 3)):
        args = rng.sample([0, 1, 2, 5], rng.randint(1, 2))
        if rng.random() < 0.1:
            args.append(rng.choice([0, 6]))
        atoms = ["arg%d %s %s" % (arg, rng.choice(_OPS), rng.choice(
            _ODD_NUMS if rng.random() < 0.05 else _NUMS)) for arg in args]
        alts.append(" && ".join(atoms))
    return " || ".join(alts)


def _mutate(rng, text):
    """*text* with a character replaced, inserted or removed at random."""
    if not text:
        return text
    i = rng.randrange(len(text))
    what = rng.randrange(3)
    c = rng.choice("|&=:;#\\ \t\n0x9a_-@[]{}()\"',~!<>")
    if what == 0:
        return text[:i] + c + text[i + 1:]
    if what == 1:
        return text[:i] + c + text[i:]
    return text[:i] + text[i + 1:]


def _minijail(rng):
    lines = []
    for name in rng.sample(_NAMES, rng.randint(1, 6)):
        form = rng.randrange(6)
        if form == 0:
            lines.append("%s: 1" % name)
        elif form == 1:
            lines.append("%s: return %s" % (name, rng.choice(["EPERM", "1", "ENOTAFILE", "70000"])))
        elif form == 2:
            lines.append("%s: %s; return EINVAL" % (name, _expr(rng)))
        elif form == 3:
            lines.append("%s : %s  # comment" % (name, _expr(rng)))
        else:
            lines.append("%s: %s" % (name, _expr(rng)))
    if rng.random() < 0.2:
        lines.insert(0, rng.choice(["@default kill-thread", "# only a comment", "",
                                    "read: arg0 == O_RDONLY", "write: kill"]))
    return "\n".join(lines) + "\n"


def _gosecco(rng):
    lines = []
    if rng.random() < 0.5:
        lines.append("DEFAULT_POSITIVE = %s" % rng.choice(["allow", "trace", "EPERM", "bogus"]))
    for name in rng.sample(_NAMES, rng.randint(1, 6)):
        form = rng.randrange(5)
        if form == 0:
            lines.append("%s: 1" % name)
        elif form == 1:
            lines.append("%s: return 1" % name)
        else:
            lines.append("%s: %s" % (name, _expr(rng)))
        if rng.random() < 0.2:
            lines.append("DEFAULT_NEGATIVE = %s" % rng.choice(["kill", "allow", "5"]))
    if rng.random() < 0.5:
        lines.append("DEFAULT_POLICY = %s" % rng.choice(["kill", "allow", "trap"]))
    return "\n".join(lines) + "\n"


def _value(rng):
    return rng.choice([0, 1, 5, 2 ** 32, 2 ** 64 - 1, 2 ** 64, -1, 1.5, "1", True, None])


def _seccompiler(rng):
    rules = []
    for name in rng.choices(_NAMES[:-1] + ["SYS_read", "1bad"], k=rng.randint(1, 6)):
        rule = {"syscall": name}
        if rng.random() < 0.8:
            rule["args"] = [{"index": rng.choice([0, 1, 2, 6]), "type": rng.choice(
                ["qword", "qword", "dword"]), "op": rng.choice(["eq", "ne", "lt", "ge", "EQ"]),
                "val": _value(rng)} for _ in range(rng.randint(0, 2))]
        if rng.random() < 0.2:
            rule["comment"] = "why"
        rules.append(rule)
    f = {"mismatch_action": rng.choice(["kill_process", "trap", "allow"]),
         "match_action": rng.choice(["allow", "log", "errno"]), "filter": rules}
    cats = {"main": f}
    if rng.random() < 0.3:
        cats["vcpu"] = dict(f, match_action="allow")
    return json.dumps(cats, indent=rng.choice([None, 2]))


def _oci(rng):
    rules = []
    for _ in range(rng.randint(1, 6)):
        rule = {"names": rng.sample(_NAMES[:-1], rng.randint(1, 2)),
                "action": rng.choice(["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_TRAP",
                                      "SCMP_ACT_KILL"])}
        if rng.random() < 0.8:
            rule["args"] = [{"index": rng.choice([0, 1, 1, 2]), "value": _value(rng),
                             "op": rng.choice(["SCMP_CMP_EQ", "SCMP_CMP_GT", "SCMP_CMP_NE",
                                               "SCMP_CMP_MASKED_EQ"])}
                            for _ in range(rng.randint(0, 2))]
        rules.append(rule)
    return json.dumps({"defaultAction": rng.choice(["SCMP_ACT_ERRNO", "SCMP_ACT_ALLOW",
                                                    "SCMP_ACT_KILL_PROCESS"]),
                       "syscalls": rules})


_MAKERS = {"minijail": _minijail, "gosecco": _gosecco, "seccompiler": _seccompiler,
           "oci": _oci}


@pytest.mark.parametrize("fmt", FORMATS)
def test_random_policies_agree(fmt):
    rng = random.Random(17)
    taken = 0
    for i in range(200):
        text = _MAKERS[fmt](rng)
        if i % 4 == 3:
            text = _mutate(rng, text)
        taken += _same(fmt, text)
    assert taken >= 10  # the fast path is exercised, not only its refusals


def test_the_benchmark_policies_take_the_fast_path():
    import os
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "benchmarks"))
    try:
        import bench_policy
    finally:
        sys.path.pop(0)
    for fmt, text in bench_policy.texts().items():
        assert _same(fmt, text), fmt


@pytest.mark.parametrize("fmt, text", [
    ("minijail", "read: arg0 == 1\nread: arg0 == 2\n"),          # redefined
    ("minijail", "read: arg0 == 1 ||\n"),                        # incomplete
    ("minijail", "read: arg0 == 1 | 2\n"),                       # a value of flags
    ("minijail", "read: arg6 == 1\n"),
    ("minijail", "read: arg0 == 08\n"),
    ("minijail", "re\u00e9d: 1\n"),
    ("minijail", "read: \\\n  arg0 == 1\n"),                     # a continued line
    ("gosecco", "read: arg0 == 1\nread: arg0 == 2\n"),           # a second rule
    ("gosecco", "nosuchcall: 1\n"),
    ("gosecco", "read: arg0 == 18446744073709551616\n"),
    ("gosecco", "DEFAULT_POSITIVE = nothing\nread: 1\n"),
    ("gosecco", "DEFAULT_POSITIVE = nothing\nDEFAULT_POSITIVE = allow\nread: 1\n"),
    ("seccompiler", '{"a": {"mismatch_action": "allow", "match_action": "allow", '
                    '"default_action": "trap", "filter": []}}'),
    ("seccompiler", '{"a": {"mismatch_action": "allow", "match_action": "trap", '
                    '"filter": [{"syscall": "read", "syscall": "write"}]}}'),
    ("seccompiler", '{"a": {"mismatch_action": "allow", "match_action": "trap", '
                    '"filter": [{"syscall": "re\\u0061d"}]}}'),
    ("seccompiler", '{"a": {"mismatch_action": "allow", "match_action": "trap", '
                    '"filter": []}} x'),
    ("oci", '{"defaultAction": "SCMP_ACT_ALLOW", "defaultAction": "SCMP_ACT_TRAP"}'),
    ("oci", '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], '
            '"action": "SCMP_ACT_TRAP"}]}'),
    ("oci", '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], '
            '"action": "SCMP_ACT_TRAP", "args": [{"index": 0, "value": 01, '
            '"op": "SCMP_CMP_EQ"}]}]}'),
])
def test_near_misses_go_to_the_readers(fmt, text):
    assert not _taken(fmt, text)
    _same(fmt, text)


def test_compiled_filters_are_the_same():
    text = "".join("%s: arg0 == %d || arg1 < %d\n" % (n, i, i + 5)
                   for i, n in enumerate(["read", "write", "openat", "close"]))
    quick, slow = _read("minijail", text, True)[""], _read("minijail", text, False)[""]
    assert "_ready_lowering" in quick.__dict__
    a, b = quick.compile(), slow.compile()  # checked against the rules, read on first use
    try:
        assert a.export_bpf() == b.export_bpf()
        assert a._rule_log == b._rule_log
    finally:
        a.release()
        b.release()


def test_a_fast_policy_pickles_and_copies_with_its_rules():
    import copy
    import pickle
    text = "read: arg0 == 1 || arg0 == 2\nwrite: 1\n"
    quick, slow = _read("minijail", text, True)[""], _read("minijail", text, False)[""]
    assert "rules" not in quick.__dict__
    clone = pickle.loads(pickle.dumps(quick))
    assert clone == slow and clone.lowered() == slow.lowered()
    assert copy.deepcopy(quick) == slow
