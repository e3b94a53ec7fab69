"""The stubs and annotations cannot drift: mypy --strict checks programs that use the API
(tests/typing/) against the package, compiled modules through their .pyi stubs."""
import glob
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_mypy_strict_on_programs_using_the_api():
    pytest.importorskip("mypy", reason="mypy is not installed (tools/setup.sh installs it)")
    programs = sorted(glob.glob(os.path.join(ROOT, "tests", "typing", "*.py")) +
                      glob.glob(os.path.join(ROOT, "examples", "*.py")))
    assert programs
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           *programs], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_pyright_strict_on_programs_using_the_api(tmp_path):
    """pyright (basedpyright, its PyPI build with a bundled node) in strict mode on the same
    programs: a wrong type is reported, the API's programs have none."""
    import shutil

    pyright = shutil.which("basedpyright") or os.path.join(os.path.dirname(sys.executable),
                                                           "basedpyright")
    if not os.path.exists(pyright):
        pytest.skip("basedpyright is not installed (tools/setup.sh installs it where it can)")
    config = tmp_path / "pyrightconfig.json"
    config.write_text('{"typeCheckingMode": "strict"}')
    wrong = tmp_path / "wrong.py"
    wrong.write_text("import seccomp\n"
                     "x: int = seccomp.Filter(seccomp.Action.ALLOW).export_bpf()\n")
    programs = sorted(glob.glob(os.path.join(ROOT, "tests", "typing", "*.py")) +
                      glob.glob(os.path.join(ROOT, "examples", "*.py")))

    def run(*files: str) -> "subprocess.CompletedProcess[str]":
        return subprocess.run([pyright, "--pythonpath", sys.executable, "-p", str(config),
                               *files], capture_output=True, text=True, cwd=ROOT, timeout=600)

    bad = run(str(wrong))
    assert bad.returncode != 0 and "reportAssignmentType" in bad.stdout, bad.stdout + bad.stderr
    done = run(*programs)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_installed_package_is_visible_to_mypy(tmp_path):
    """From outside the checkout, mypy finds the package as installed (tools/setup.sh installs
    it editable in compat mode: setuptools' default import hook is invisible to mypy)."""
    pytest.importorskip("mypy", reason="mypy is not installed (tools/setup.sh installs it)")
    import seccomp

    if not os.path.samefile(os.path.dirname(os.path.dirname(seccomp.__file__)), ROOT):
        pytest.skip("the seccomp imported is not this checkout's")
    program = tmp_path / "prog.py"
    program.write_text("import seccomp\n"
                       "data: bytes = seccomp.Filter(seccomp.Action.ALLOW).export_bpf()\n")
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           str(program)], capture_output=True, text=True, cwd=str(tmp_path),
                          env={k: v for k, v in os.environ.items() if k != "MYPYPATH"},
                          timeout=600)
    if "import-not-found" in done.stdout and not _compat_editable_install():
        pytest.skip("installed with setuptools' import-hook editable mode, which mypy cannot "
                    "see: reinstall with tools/setup.sh")
    assert done.returncode == 0, done.stdout + done.stderr


def _compat_editable_install() -> bool:
    """Whether the package is installed editable through a path entry (compat mode)."""
    import importlib.metadata

    files = importlib.metadata.distribution("seccomp").files or []
    return not any("__editable___seccomp" in str(f) and str(f).endswith("_finder.py")
                   for f in files)


def test_every_compiled_module_has_a_stub():
    for pyx in glob.glob(os.path.join(ROOT, "src_c", "*.pyx")):
        name = os.path.splitext(os.path.basename(pyx))[0]
        assert os.path.exists(os.path.join(ROOT, "seccomp", name + ".pyi")), name
