"""The public API with input a user may give by mistake: each is refused where it is given,
or works; none is accepted there to fail later somewhere else (no filter is loaded here)."""
import pytest

from seccomp import Action, Filter, bpf


def test_a_syscall_named_in_bytes_is_a_name_to_the_end():
    """add_rule took b"read", and every later export failed with 'syscall number must be an
    int, not bytes' (the rule's record kept the bytes, the check read them as a number)."""
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), b"read")
    f.add_rule_exact(Action.ERRNO(2), b"write")
    program = f.export_bpf()
    assert bpf.evaluate(program, "read") == Action.ERRNO(1)
    assert bpf.evaluate(program, "write") == Action.ERRNO(2)
    assert "read" in f.export_pfc()
    with pytest.raises(ValueError, match="not known"):
        f.add_rule(Action.ERRNO(1), b"\xffread")
    assert bpf.evaluate(f.export_bpf(), "read") == Action.ERRNO(1)   # still usable


@pytest.mark.parametrize("attr", ["no_new_privs", "tsync", "log", "ssb", "raw_rc"])
@pytest.mark.parametrize("value", ["false", "no", 0.0, None, b""])
def test_a_flag_attribute_takes_a_truth_value_not_any_object(attr, value):
    """f.ssb = "false" turned the mitigation off (any non-empty string is true)."""
    f = Filter(Action.ALLOW)
    before = getattr(f, attr)
    with pytest.raises(TypeError, match="True or False"):
        setattr(f, attr, value)
    assert getattr(f, attr) == before
    setattr(f, attr, 1)
    assert getattr(f, attr) is True
    setattr(f, attr, False)
    assert getattr(f, attr) is False
