"""A bounded coverage-guided fuzz run (atheris) over the profile reader, as part of the suite.

Longer runs: ``python3 tests/fuzz/fuzz_profile.py -max_total_time=600 -dict=tests/fuzz/profile.dict
CORPUS_DIR tests/profiles``."""
import os
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SECONDS = int(os.environ.get("SECCOMP_FUZZ_SECONDS", "20"))


@pytest.mark.parametrize("target,seeds", [
    ("fuzz_profile.py", ["tests/profiles", "seccomp/profile"]),
])
def test_fuzz_target_finds_no_crash(tmp_path, target, seeds):
    pytest.importorskip("atheris", reason="atheris (libFuzzer for Python) is not installed")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for seed_dir in seeds:
        for name in os.listdir(os.path.join(ROOT, seed_dir)):
            if name.endswith(".json"):
                shutil.copy(os.path.join(ROOT, seed_dir, name), corpus / name)
    done = subprocess.run(
        [sys.executable, os.path.join(HERE, "fuzz", target), "-max_total_time=%d" % SECONDS,
         "-dict=" + os.path.join(HERE, "fuzz", "profile.dict"), "-artifact_prefix=%s/" % tmp_path,
         "-print_final_stats=1", str(corpus)],
        capture_output=True, text=True, timeout=SECONDS + 120, cwd=ROOT)
    log = done.stderr[-4000:]
    assert done.returncode == 0, log
    runs = [line for line in done.stderr.splitlines() if line.startswith("stat::number_of_executed_units")]
    assert runs and int(runs[0].split(":")[-1]) > 1000, log   # the fuzzer really ran
