"""The linters as tests: ruff on the Python code, cython-lint on the compiled core, stubtest on
the compiled modules' stubs (configuration in pyproject.toml)."""
import os
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _tool(name):
    path = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.path.exists(path):
        pytest.skip("%s is not installed (tools/setup.sh installs it)" % name)
    return path


def _run(cmd):
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff():
    _run([_tool("ruff"), "check", "--no-cache", "seccomp", "tests", "benchmarks", "tools",
          "examples"])


def test_cython_lint():
    sources = sorted(os.path.join("src_c", f) for f in os.listdir(os.path.join(ROOT, "src_c"))
                     if f.endswith((".pyx", ".pxd", ".pxi")))
    _run([_tool("cython-lint"), *sources])


def test_stubtest_on_the_compiled_modules():
    pytest.importorskip("mypy")
    modules = sorted("seccomp." + f.split(".")[0] for f in os.listdir(os.path.join(ROOT, "seccomp"))
                     if f.endswith(".pyi"))
    # __test__: the doctest table Cython puts in every module
    _run([sys.executable, "-m", "mypy.stubtest", "--allowlist", "tests/stubtest_allowlist.txt",
          *modules])


def test_stubs_have_no_catch_all():
    # A module-level __getattr__ in a stub types every missing name as Any: stubtest and mypy
    # would then never notice a name the stub lacks.
    for name in os.listdir(os.path.join(ROOT, "seccomp")):
        if name.endswith(".pyi"):
            with open(os.path.join(ROOT, "seccomp", name), encoding="utf-8") as f:
                assert "\ndef __getattr__" not in f.read(), name
