"""Memory-safety runs in the suite: bounded coverage-guided fuzz runs (atheris) over the profile
reader and the BPF checker/interpreter, and the core under valgrind memcheck (tools/memcheck.sh).

Longer runs: ``python3 tests/fuzz/fuzz_profile.py -max_total_time=600 -dict=tests/fuzz/profile.dict
CORPUS_DIR tests/profiles``."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECONDS = int(os.environ.get("SECCOMP_FUZZ_SECONDS", "15"))


@pytest.mark.parametrize("target,seeds,dictionary", [
    ("fuzz_profile.py", ["tests/profiles", "seccomp/profile"], "profile.dict"),
    ("fuzz_bpf.py", [], None),
])
def test_fuzz_target_finds_no_crash(tmp_path, target, seeds, dictionary):
    pytest.importorskip("atheris", reason="atheris (libFuzzer for Python) is not installed")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed_dir in seeds:
        for name in os.listdir(os.path.join(ROOT, seed_dir)):
            if name.endswith(".json"):
                shutil.copy(os.path.join(ROOT, seed_dir, name), corpus / name)
    done = subprocess.run(
        [sys.executable, os.path.join(HERE, "fuzz", target), "-max_total_time=%d" % SECONDS,
         "-artifact_prefix=%s/" % tmp_path, "-print_final_stats=1", str(corpus)]
        + (["-dict=" + os.path.join(HERE, "fuzz", dictionary)] if dictionary else []),
        capture_output=True, text=True, timeout=SECONDS + 120, cwd=ROOT)
    log = done.stderr[-4000:]
    assert done.returncode == 0, log
    runs = [line for line in done.stderr.splitlines()
            if line.startswith("stat::number_of_executed_units")]
    assert runs and int(runs[0].split(":")[-1]) > 1000, log   # the fuzzer really ran


def test_core_under_valgrind_has_no_invalid_access_or_leak():
    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed (tools/setup.sh installs it)")
    done = subprocess.run(["bash", os.path.join(ROOT, "tools", "memcheck.sh"), sys.executable],
                          capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert "memcheck workload done" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
