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


def _program():
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "read")
    return f.export_bpf()


def test_evaluate_checks_the_instruction_pointer_as_it_checks_arguments():
    """ip=2**64 or ip=-1 raised OverflowError (neither the library's error nor a ValueError),
    and a bytearray program 'unhashable type'."""
    program = _program()
    for bad in (2 ** 64, -2 ** 63 - 1):
        with pytest.raises(ValueError, match="instruction pointer .* does not fit in 64 bits"):
            bpf.evaluate(program, "read", ip=bad)
        with pytest.raises(ValueError, match="instruction pointer"):
            bpf.evaluate_many(program, [("read", (), bad)])
    with pytest.raises(TypeError, match="instruction pointer is an int"):
        bpf.evaluate(program, "read", ip="0")
    assert bpf.evaluate(program, "read", ip=-1) == Action.ERRNO(1)   # a register's bits
    assert bpf.evaluate(bytearray(program), "read") == Action.ERRNO(1)
    assert bpf.evaluate_many(bytearray(program), ["read", "write"]) == [Action.ERRNO(1),
                                                                         Action.ALLOW]


@pytest.mark.parametrize("export", ["export_bpf", "export_pfc"])
def test_export_to_something_that_is_not_a_writable_file_says_which(export, tmp_path):
    """A bad fd was a bare 'Bad file descriptor' (export_pfc: 'Operation canceled', what
    libseccomp 2.5 reports), and a path 'str object has no attribute write'."""
    f = Filter(Action.ALLOW)
    f.add_rule(Action.ERRNO(1), "read")
    with pytest.raises(TypeError, match="a path\\? open it first"):
        getattr(f, export)(str(tmp_path / "out"))
    with pytest.raises(TypeError, match="file object or an fd, not float"):
        getattr(f, export)(1.5)
    with pytest.raises(OSError, match="fd 987: it is not open"):
        getattr(f, export)(987)
    with pytest.raises(OSError, match="fd -1: it is not open"):
        getattr(f, export)(-1)
    (tmp_path / "ro").write_text("")
    with open(tmp_path / "ro", "rb") as ro:
        with pytest.raises(OSError, match="it is open read-only"):
            getattr(f, export)(ro)
    with open(tmp_path / "ok", "wb") as out:
        getattr(f, export)(out)
    assert (tmp_path / "ok").stat().st_size > 0


def test_every_bpf_submodule_is_an_attribute_of_seccomp_bpf():
    """``seccomp.bpf.diff.diff(...)``, as its docstring writes it, was an AttributeError
    unless seccomp.bpf.diff had been imported."""
    import os
    import subprocess
    import sys
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    code = ("import os, seccomp.bpf as b; names = sorted(n[:-3] for n in os.listdir("
            "os.path.dirname(b.__file__)) if n.endswith('.py') and n != '__init__.py'); "
            "[getattr(b, n) for n in names]; print(names)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert "diff" in r.stdout


def _notify_calls():
    from seccomp import notify
    huge = 2 ** 64
    return [
        ("fd", lambda: notify.receive(huge)), ("wake_fd", lambda: notify.receive(0, 0, huge)),
        ("fd", lambda: notify.send(huge, 1)), ("notification id", lambda: notify.send(0, huge)),
        ("val", lambda: notify.send(0, 1, 2 ** 63)), ("error", lambda: notify.send(0, 1, 0, huge)),
        ("flags", lambda: notify.send(0, 1, 0, 0, -1)), ("fd", lambda: notify.id_valid(huge, 1)),
        ("notification id", lambda: notify.id_valid(0, -1)),
        ("fd", lambda: notify.set_sync_wake_up(huge)),
        ("pid", lambda: notify.read_memory(huge, 0, 1)),
        ("address", lambda: notify.read_memory(1, -1, 1)),
        ("size", lambda: notify.read_memory(1, 0, huge)),
        ("pid", lambda: notify.write_memory(huge, 0, b"x")),
        ("dirfd", lambda: notify.openat2(huge, "x", 0)),
        ("mode", lambda: notify.openat2(-100, "x", 0, -1)),
        ("fd", lambda: notify.InjectFd(huge)), ("fd", lambda: notify.Listener(huge)),
        ("notification id", lambda: notify.NotificationResponse(huge)),
        ("val", lambda: notify.NotificationResponse(1, -2 ** 63 - 1)),
        ("fd", lambda: notify.NotificationAddfd(1, 0, -1)),
        ("fd", lambda: notify.respond(huge, notify.NotificationResponse(1))),
    ]


@pytest.mark.parametrize("name,call", _notify_calls(), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_notify_calls_name_an_integer_out_of_its_range(name, call):
    """Was OverflowError 'Python int too large to convert to C long' (not a ValueError, and
    naming neither the parameter nor its range)."""
    with pytest.raises(ValueError, match="^.*%s -?[0-9]+ is out of range" % name):
        call()


@pytest.mark.parametrize("name", ["read\0junk", "read\0", "re\udcffad", "r\u00e9ad", "\ud800"])
def test_a_syscall_name_libseccomp_cannot_hold_is_not_known(name):
    """'read\\0junk' resolved as read (the C string ended at the NUL), and a name with a lone
    surrogate (a non-UTF-8 byte from the command line) raised UnicodeEncodeError."""
    import seccomp
    from seccomp import Arch
    for call in (lambda: seccomp.syscall_number(name),
                 lambda: seccomp.syscall_number(name, Arch.AARCH64),
                 lambda: Filter(Action.ALLOW).add_rule(Action.ERRNO(1), name),
                 lambda: bpf.evaluate(Filter(Action.ALLOW).export_bpf(), name),
                 lambda: seccomp._core.syscall_resolve_name_rewrite(name)):
        with pytest.raises(seccomp.InvalidArgumentError, match="is not known"):
            call()
    assert seccomp.resolve_syscall(Arch.native(), name) == -1   # its answer for unknown names
    with pytest.raises(seccomp.InvalidArgumentError, match="unknown architecture"):
        Arch("x86_64" + name)


def test_openat2_refuses_a_path_with_a_nul_as_os_open_does(tmp_path):
    """notify.openat2(fd, "name\\0junk") opened "name" (the C string ended at the NUL)."""
    import os

    from seccomp import notify
    (tmp_path / "name").write_text("x")
    with pytest.raises(ValueError, match="embedded null byte"):
        os.open(str(tmp_path / "name\0junk"), os.O_RDONLY)
    with pytest.raises(ValueError, match="embedded null byte"):
        notify.openat2(-100, str(tmp_path / "name\0junk"), os.O_RDONLY)
    os.close(notify.openat2(-100, str(tmp_path / "name"), os.O_RDONLY))
