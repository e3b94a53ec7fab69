"""`seccomp run -- CMD`'s prebuilt program (`seccomp.cli.prebuilt`): it equals a fresh build
of the same command, any input that differs makes the command build the filter as always, and
the command loads it without building only when everything matches."""
import json
import os
import subprocess
import sys

import pytest

from seccomp import Action, Filter
from seccomp.cli import build_parser, prebuilt
from seccomp.cli.options import _compile, _resolved


def _fresh():
    """The program `seccomp run -- true` builds (argparse, the profile, the check)."""
    argv = ["run", "--", "true"]
    args = build_parser(argv).parse_args(argv)
    flt = _compile(args, _resolved(args))
    try:
        return flt.compile()
    finally:
        flt.release()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("prebuilt") / "default.prebuilt")
    assert prebuilt.make(path) is not None
    return path


def _altered(tmp_path, made, name, value):
    """A copy of the made file whose input *name* is *value*, its program unchanged."""
    key, pre = prebuilt.read(made)
    key = dict(key, **{name: value})
    path = str(tmp_path / ("altered-%s" % name))
    prebuilt.write(path, key, pre)
    return path


def test_the_profile_is_the_built_in_one():
    from seccomp.profile import parse
    assert prebuilt.PROFILE_PATH == parse._builtin_path("default")


def test_the_prebuilt_program_equals_a_fresh_build(made):
    loaded = prebuilt.load(made)
    assert loaded is not None
    fresh = _fresh()
    program = loaded.program()
    assert (program.bpf, program.flags, program.no_new_privs) == \
        (fresh.bpf, fresh.flags, fresh.no_new_privs)
    assert loaded.warnings == ()  # the default profile's build warns of nothing


def test_the_file_round_trips(made, tmp_path):
    key, pre = prebuilt.read(made)
    path = str(tmp_path / "copy")
    prebuilt.write(path, key, pre)
    with open(made, "rb") as a, open(path, "rb") as b:
        assert a.read() == b.read()
    assert prebuilt.load(path) is not None


@pytest.mark.parametrize("name,value", [
    ("package", "0.0.0"), ("libseccomp", "2.5.3"), ("compiled", "9.9.9"), ("api", "1"),
    ("arch", "aarch64"), ("caps", "CAP_SYS_ADMIN"), ("kernel", "4.8:no"),
    ("kernel", ""), ("profile", None),
])
def test_any_input_that_differs_is_not_loaded(made, tmp_path, name, value):
    if name == "profile":  # one byte of the profile changed
        text = prebuilt.read(made)[0]["profile"]
        value = text[:-2] + bytes([text[-2] ^ 1]) + text[-1:]
    assert prebuilt.load(_altered(tmp_path, made, name, value)) is None


def test_an_edited_profile_is_not_loaded(made, tmp_path, monkeypatch):
    with open(prebuilt.PROFILE_PATH, "rb") as fh:
        text = fh.read()
    edited = tmp_path / "default.json"
    edited.write_bytes(text.replace(b'"SCMP_ACT_ERRNO"', b'"SCMP_ACT_ALLOW"', 1))
    monkeypatch.setattr(prebuilt, "PROFILE_PATH", str(edited))
    assert prebuilt.load(made) is None


def test_the_kernel_answers_decide_not_the_release(made):
    # the default profile tests kernel >= 4.8 (ptrace for CAP_SYS_PTRACE): any kernel on the
    # same side of it gives the same program, the other side or an unreadable release does not
    assert prebuilt.read(made)[0]["kernel"] == "4.8:yes"
    assert prebuilt.load(made, release="4.8.0-1-amd64") is not None
    assert prebuilt.load(made, release="99.1") is not None
    assert prebuilt.load(made, release="4.7.10") is None
    assert prebuilt.load(made, release="nonsense") is None


def test_the_kernel_bounds_come_from_the_profile_text():
    with open(prebuilt.PROFILE_PATH, "rb") as fh:
        assert prebuilt.kernel_bounds(fh.read()) == [(4, 8)]
    assert prebuilt.kernel_bounds(b'{"a": {"minKernel" : "5.10"}, "b": {"minKernel":"4.8"}, '
                                  b'"c": {"minKernel": "4.8"}}') == [(4, 8), (5, 10)]
    assert prebuilt.kernel_bounds(b'{"minKernel": "5.x"}') is None
    assert prebuilt.kernel_bounds(b'{"minKernel": 5}') is None
    assert prebuilt.kernel_bounds(b'{"minKernel": "5.1.2"}') is None
    assert prebuilt.kernel_bounds(b'{"comment": "minKernel", "minKernel"\n:\t"3.2"}') == [(3, 2)]
    assert prebuilt.kernel_bounds(b'{"names": []}') == []


@pytest.mark.parametrize("damage", ["missing", "empty", "truncated", "extra", "magic",
                                    "duplicate"])
def test_a_damaged_file_is_not_loaded(made, tmp_path, damage):
    with open(made, "rb") as fh:
        data = fh.read()
    path = tmp_path / "damaged"
    if damage != "missing":
        path.write_bytes({
            "empty": b"",
            "truncated": data[:-8],
            "extra": data + b"\0" * 8,
            "magic": data.replace(b"program 1", b"program 2", 1),
            "duplicate": data.replace(b"\napi ", b"\napi 6\napi ", 1),
        }[damage])
    assert prebuilt.read(str(path)) is None
    assert prebuilt.load(str(path)) is None


def test_no_prebuilt_program_for_a_profile_under_which_the_command_cannot_start(tmp_path,
                                                                               monkeypatch):
    # `seccomp run` refuses such a profile before loading it; the prebuilt path skips that
    # check, so such a program is never made
    from seccomp.profile import parse
    with open(prebuilt.PROFILE_PATH, "rb") as fh:
        data = json.loads(fh.read())
    data["syscalls"].append({"names": ["execve", "execveat"], "action": "SCMP_ACT_KILL"})
    edited = tmp_path / "default.json"
    edited.write_text(json.dumps(data))
    monkeypatch.setattr(prebuilt, "PROFILE_PATH", str(edited))
    monkeypatch.setattr(parse, "_builtin_path", lambda name: str(edited))
    assert prebuilt.make(str(tmp_path / "made")) is None
    assert not (tmp_path / "made").exists()
    data["syscalls"].pop()  # the same profile otherwise: made
    edited.write_text(json.dumps(data))
    assert prebuilt.make(str(tmp_path / "made")) is not None


def test_a_source_checkout_gets_no_prebuilt_program():
    out = subprocess.run([sys.executable, "-m", "seccomp.cli.prebuilt"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 1 and "source checkout" in out.stderr


def test_the_package_build_makes_it_in_the_built_package(tmp_path):
    # what setup.py runs on the built package (here a copy of this one, not a checkout)
    import shutil

    import seccomp
    shutil.copytree(os.path.dirname(seccomp.__file__), tmp_path / "seccomp",
                    ignore=shutil.ignore_patterns("__pycache__", "*.prebuilt"))
    out = subprocess.run([sys.executable, "-m", "seccomp.cli.prebuilt"], cwd=tmp_path,
                         env=dict(os.environ, PYTHONPATH=str(tmp_path)), capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    made = str(tmp_path / "seccomp" / "profile" / "default.prebuilt")
    assert out.stderr == ""
    loaded = prebuilt.load(made)
    assert loaded is not None and loaded.bpf == _fresh().bpf


def _run_with(path, argv):
    """`seccomp run` (main(argv)) in a child whose prebuilt file is *path*: the program it
    loaded (it does load it, in that child), whether it built a filter (imported
    seccomp.profile), and the child's own seccomp state when it would exec."""
    code = (
        "import json, os, sys\n"
        "from seccomp.cli import main, prebuilt, run\n"
        "prebuilt.PATH = %r\n"
        "loaded = []\n"
        "real_load = run._load\n"
        "def _load(program, name):\n"
        "    loaded.append(program.bpf.hex())\n"
        "    return real_load(program, name)\n"
        "run._load = _load\n"
        "def execv(path, argv):\n"
        "    status = dict(l.split(':\\t') for l in open('/proc/self/status').read().split('\\n')"
        " if l.startswith('Seccomp'))\n"
        "    print(json.dumps({'loaded': loaded, 'built': 'seccomp.profile' in sys.modules,\n"
        "                      'seccomp': status['Seccomp'], 'argv': argv}))\n"
        "    sys.stdout.flush()\n"
        "    os._exit(0)\n"
        "os.execv = execv\n"
        "sys.exit(main(%r))\n" % (path, argv))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_run_loads_a_matching_prebuilt_program_without_building(made, tmp_path):
    # the file's program, not another build: one that differs from the profile's (the file
    # is trusted as the package's own code is, for the inputs it names)
    key, pre = prebuilt.read(made)
    with Filter(Action.ALLOW) as other:
        other.add_rule(Action.ERRNO(99), "acct")
        pre.bpf = other.export_bpf()
    path = str(tmp_path / "other")
    prebuilt.write(path, key, pre)
    seen = _run_with(path, ["run", "--", "true", "-x"])
    assert seen == {"loaded": [pre.bpf.hex()], "built": False, "seccomp": "2",
                    "argv": ["true", "-x"]}
    assert _run_with(made, ["run", "--", "true"])["loaded"] == [_fresh().bpf.hex()]


@pytest.mark.parametrize("name,value", [("package", "0.0.0"), ("api", "1"),
                                        ("kernel", "4.8:no")])
def test_run_builds_when_an_input_differs(made, tmp_path, name, value):
    # a program far weaker than the profile, under inputs that differ in one: never loaded
    key, pre = prebuilt.read(made)
    with Filter(Action.ALLOW) as weak:
        pre.bpf = weak.export_bpf()
    path = str(tmp_path / "weak")
    prebuilt.write(path, dict(key, **{name: value}), pre)
    seen = _run_with(path, ["run", "--", "true"])
    assert seen["loaded"] == [_fresh().bpf.hex()] and seen["built"]
    assert seen["seccomp"] == "2"


@pytest.mark.parametrize("argv", [["run", "-v", "--", "true"], ["run", "--profile", "default",
                                                                "--", "true"]])
def test_options_take_the_building_path(made, argv):
    seen = _run_with(made, argv)
    assert seen["built"] and seen["loaded"] == [_fresh().bpf.hex()]
