"""seccomp._jsontext writes what json.dumps writes, byte for byte, without importing json."""
import glob
import json
import os
import subprocess
import sys

import pytest

from seccomp import profile
from seccomp._jsontext import dumps

HERE = os.path.dirname(os.path.abspath(__file__))

VALUES = [
    {}, [], (), {"a": []}, {"a": {}}, [1, [2, []], {}], {"x": [1, {"y": "z"}], "w": None},
    "", "plain", "é ü \u2028 \u2029 \x00 \x1f \x7f \" \\ / \n \r \t \b \f", "😀 \U0010ffff \ud800",
    0, -1, 10 ** 40, True, False, None, 1.5, -0.0, 1e300, float("inf"), float("-inf"),
    (1, (2, "3")), [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"}],
]


@pytest.mark.parametrize("indent", [None, 0, 2, 4])
def test_values_as_json_writes_them(indent):
    for value in VALUES:
        assert dumps(value, indent) == json.dumps(value, indent=indent), value
    assert dumps(float("nan"), indent) == json.dumps(float("nan"), indent=indent)


def test_int_subclasses_are_written_as_ints():
    from seccomp import Action

    value = {"errnoRet": Action.ERRNO(1), "n": Action.ALLOW}
    assert dumps(value, 2) == json.dumps(value, indent=2)


@pytest.mark.parametrize("bad", [{"a": {1, 2}}, [object()], b"bytes"])
def test_what_json_refuses_is_refused(bad):
    with pytest.raises(TypeError):
        json.dumps(bad)
    with pytest.raises(TypeError):
        dumps(bad)


def test_profiles_are_written_as_json_wrote_them():
    sources = ["default"] + sorted(glob.glob(os.path.join(HERE, "profiles", "*.json")))
    for source in sources:
        prof = profile.load(source)
        for oci in (False, True):
            if oci and not prof.resolved:
                prof = prof.resolve()
            data = prof.to_dict(oci=oci)
            assert prof.to_json(oci=oci) == json.dumps(data, indent=2) + "\n", source
            assert profile.load(prof.to_json(oci=oci)) == profile.load(data), source


def test_writing_a_profile_imports_no_json():
    code = ("import sys; before = set(sys.modules); "
            "import seccomp.profile as p; from seccomp import Action; "
            "p.Profile(Action.ALLOW, (p.Rule(('read',), Action.ERRNO(1), comment='é'),))"
            ".to_json(); "
            "print(sorted(m for m in set(sys.modules) - before "
            "if m.split('.')[0] in ('json', 're', 'enum')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=os.path.dirname(HERE), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]"]
