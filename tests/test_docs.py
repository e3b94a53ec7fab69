"""The documentation site builds without a warning (docs/, Sphinx with -W)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_docs_build_without_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="Sphinx is not installed (tools/setup.sh installs it)")
    done = subprocess.run([sys.executable, "-m", "sphinx", "-W", "-q", "-b", "html",
                           os.path.join(ROOT, "docs"), str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    api = (tmp_path / "api.html").read_text()
    for name in ("Filter", "SyscallFilter", "Supervisor", "evaluate", "ProfileFilter"):
        assert name in api, name


def test_pydoc_reads_well():
    done = subprocess.run([sys.executable, "-m", "pydoc", "seccomp.Filter"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for text in ("default action", "add_rule", "export_bpf", "simulate", "tsync"):
        assert text in done.stdout, text
