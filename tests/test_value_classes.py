"""The value classes of the profile model, the recording and the ENOSYS plan behave as the
dataclasses they replaced: equality by fields, repr, immutability and hashing where frozen,
dataclasses.replace and fields, pickling and copying."""
import copy
import dataclasses
import pickle

import pytest

from seccomp import Action, Arch, Op
from seccomp.bpf.enosys import EnosysPlan
from seccomp.profile import Arg, Match, Profile, Rule
from seccomp.record import Recording


def _profile(**changes):
    fields = dict(default_action=Action.ERRNO(1), rules=(
        Rule(("read",), Action.ALLOW, (Arg(0, 3, Op.EQ),), includes=Match(caps=("CAP_X",)),
             index=4),), architectures=(Arch.X86_64,), comment="c")
    fields.update(changes)
    return Profile(**fields)


def test_equality_by_compared_fields():
    assert _profile() == _profile()
    assert _profile() != _profile(comment="other")
    assert _profile() == _profile(caps=frozenset({"CAP_X"}))  # caps: not compared
    r = Rule(("read",), Action.ALLOW)
    assert r == Rule(("read",), Action.ALLOW, index=9)  # index: not compared
    assert r != Rule(("write",), Action.ALLOW)
    assert Arg(0, 1, Op.EQ) != (0, 1, Op.EQ, 0)  # another class: never equal
    assert Match() == Match((), (), None) and not Match() and Match(min_kernel=(5, 4))


def test_frozen_and_hashable():
    p = _profile()
    with pytest.raises(AttributeError):
        p.comment = "x"
    with pytest.raises(AttributeError):
        del p.rules
    with pytest.raises(AttributeError):
        p.new_field = 1  # slots: no other attributes either
    assert hash(Arg(1, 2, Op.GT)) == hash(Arg(1, 2, Op.GT))
    assert len({Rule(("a",), Action.ALLOW, index=1), Rule(("a",), Action.ALLOW, index=2)}) == 1
    assert hash(_profile()) == hash(_profile(caps=frozenset()))


def test_repr_names_every_field():
    assert repr(Arg(1, 2, Op.GT)) == "Arg(index=1, value=2, op=%r, value_two=0)" % Op.GT
    text = repr(Rule(("read",), Action.ALLOW, index=3))
    assert text.startswith("Rule(names=('read',), action=") and text.endswith("index=3)")
    assert "caps=None" in repr(_profile())


def test_dataclasses_replace_and_fields():
    p = _profile()
    q = dataclasses.replace(p, comment="changed")
    assert type(q) is Profile and q.comment == "changed" and q.rules == p.rules
    assert dataclasses.is_dataclass(p)
    assert [f.name for f in dataclasses.fields(Rule)] == [
        "names", "action", "args", "comment", "includes", "excludes", "index"]
    assert [f.compare for f in dataclasses.fields(Profile)][-1] is False
    assert p._replace(comment="changed") == q


def test_pickle_and_copy():
    p = _profile(caps=frozenset({"CAP_X"}))
    for other in (pickle.loads(pickle.dumps(p)), copy.copy(p), copy.deepcopy(p)):
        assert other == p and other.caps == p.caps and other.rules[0].index == 4


def test_recording_is_a_mutable_value():
    a = Recording(("true",))
    assert a.calls == {} and a.calls is not Recording(("true",)).calls
    a.returncode = 3
    assert a == Recording(("true",), returncode=3) and a != Recording(("true",))
    with pytest.raises(TypeError):
        hash(a)
    assert dataclasses.replace(a, notifications=2).notifications == 2
    assert repr(a) == ("Recording(argv=('true',), calls={}, args=False, returncode=3, "
                       "notifications=0)")


def test_enosys_plan():
    plan = EnosysPlan({Arch.X86_64: frozenset({1})})
    assert plan == EnosysPlan({Arch.X86_64: frozenset({1})}, None)
    assert plan != EnosysPlan({Arch.X86_64: frozenset({1})}, (5, 4))
    with pytest.raises(AttributeError):
        plan.kernel = (5, 4)
