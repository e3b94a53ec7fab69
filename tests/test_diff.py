"""seccomp.bpf.diff: what changes between two filters or profiles, per architecture."""
import copy
import errno
import json
import os

import pytest

from seccomp import Action, Arch, Cond, Filter, Op, profile
from seccomp.bpf import diff as bpfdiff

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = json.load(open(os.path.join(os.path.dirname(HERE), "seccomp", "profile",
                                      "default.json")))
NATIVE = Arch.native()
EPERM = Action.ERRNO(errno.EPERM)


def changed(rule_names, edit):
    data = copy.deepcopy(DEFAULT)
    for rule in data["syscalls"]:
        if rule["names"] == rule_names and rule.get("args"):
            edit(rule)
            return profile.load(data)
        if rule_names[0] in rule["names"] and not rule_names[1:] and not rule.get("args") \
                and len(rule["names"]) > 1:
            edit(rule)
            return profile.load(data)
    raise AssertionError("no rule for %s" % rule_names)


def covered(prof, arch=None):
    flt = prof.compile(arch=arch, caps=profile.CONTAINER_CAPS)
    try:
        return set(flt.arches)
    finally:
        flt.release()


@pytest.mark.parametrize("arch", [None, "aarch64"])
def test_a_profile_against_itself_is_empty(arch):
    d = bpfdiff.diff("default", profile.load(DEFAULT), arch=arch)
    assert not d and d.changes == []
    assert set(d.arches) == covered(profile.load(DEFAULT), arch)
    assert "no difference" in d.text()


@pytest.mark.parametrize("arch", [None, "aarch64"])
def test_one_conditional_rule_changed_names_exactly_that_on_every_arch(arch):
    def edit(rule):  # personality(PER_LINUX32) no longer allowed: only 0 and the rest
        rule["args"] = [a for a in rule["args"] if a["value"] != 8]
    b = changed(["personality"], edit)
    d = bpfdiff.diff("default", b, arch=arch)
    assert {(c.arch, c.syscall) for c in d.changes} == {(a, "personality") for a in d.arches}
    assert set(d.arches) == covered(b, arch) and len(d.arches) >= 2
    for c in d.changes:
        assert c.args == ((0, 8),) and c.a == Action.ALLOW and c.b == EPERM


def test_one_syscall_removed_is_named_with_any_arguments():
    b = changed(["getpid"], lambda rule: rule["names"].remove("getpid"))
    d = bpfdiff.diff(profile.load(DEFAULT), b)
    assert {(c.arch, c.syscall, c.args, c.a, c.b) for c in d.changes} == {
        (a, "getpid", (), Action.ALLOW, EPERM) for a in d.arches}
    data = d.to_dict()
    assert json.loads(json.dumps(data))["changes"][0]["args"] is None
    assert {c["syscall"] for c in data["changes"]} == {"getpid"}


def test_profile_against_its_bpf(tmp_path):
    prof = profile.load("default")
    flt = prof.compile(caps=profile.CONTAINER_CAPS)
    path = tmp_path / "default.bpf"
    path.write_bytes(flt.export_bpf())
    flt.release()
    assert not bpfdiff.diff(prof, str(path))
    b = changed(["getpid"], lambda rule: rule["names"].remove("getpid"))
    d = bpfdiff.diff(str(path), b)
    assert {c.syscall for c in d.changes} == {"getpid"}
    assert set(d.arches) == covered(prof)


def test_masked_argument_values_are_told_apart():
    clone_newuser, clone_newns = 0x10000000, 0x00020000
    a, b = Filter(Action.ALLOW), Filter(Action.ALLOW)
    a.add_rule(EPERM, "unshare", Cond(0, Op.MASKED_EQ, clone_newuser, clone_newuser))
    b.add_rule(EPERM, "unshare", Cond(0, Op.MASKED_EQ, clone_newuser, clone_newuser))
    b.add_rule(EPERM, "unshare", Cond(0, Op.MASKED_EQ, clone_newns, clone_newns))
    d = bpfdiff.diff(a, b)
    assert d and {c.syscall for c in d.changes} == {"unshare"}
    for c in d.changes:
        (index, value), = c.args
        assert index == 0 and value & clone_newns and not value & clone_newuser
        assert (c.a, c.b) == (Action.ALLOW, EPERM)
    # a value with both bits is denied by both: not a change
    assert all(not c.args[0][1] & clone_newuser for c in d.changes)


def test_unnamed_numbers_are_ranges():
    a = Filter(EPERM)
    b = Filter(Action.ERRNO(errno.ENOSYS))
    d = bpfdiff.diff(a, b)
    assert any(c.syscall.startswith("#") and "-" in c.syscall for c in d.changes)
    assert any(c.syscall == "read" for c in d.changes)


def test_bad_sources_are_refused(tmp_path):
    text = tmp_path / "x.txt"
    text.write_text("not a profile")
    with pytest.raises(ValueError):
        bpfdiff.diff("default", str(text))
    with pytest.raises(ValueError):
        bpfdiff.diff("default", b"\x00" * 7)
    with pytest.raises(ValueError):
        bpfdiff.diff("default", "no-such-profile")
    with pytest.raises(TypeError):
        bpfdiff.diff("default", 42)
