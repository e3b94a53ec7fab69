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
    programs = sorted(glob.glob(os.path.join(ROOT, "tests", "typing", "*.py")))
    assert programs
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                           *programs], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_compiled_module_has_a_stub():
    for pyx in glob.glob(os.path.join(ROOT, "src_c", "*.pyx")):
        name = os.path.splitext(os.path.basename(pyx))[0]
        assert os.path.exists(os.path.join(ROOT, "seccomp", name + ".pyi")), name
