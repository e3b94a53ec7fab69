"""Coverage-guided fuzzing (atheris/libFuzzer) of the profile reader and compiler.

    python3 tests/fuzz/fuzz_profile.py -max_total_time=60 tests/profiles seccomp/profile

Any exception other than ProfileError (a ValueError naming the place) is a finding, and so is
a profile that loads but cannot be written back and read again to the same rules.
"""
import sys

import atheris

with atheris.instrument_imports():
    import seccomp.profile as profile


def one_input(data: bytes) -> None:
    text = data.decode("utf-8", errors="replace")
    if not text.lstrip().startswith(("{", "[")):
        return  # anything else names a file: not the parser's input
    try:
        prof = profile.load(text)
    except profile.ProfileError:
        return
    try:
        resolved = prof.resolve(arch="x86_64", caps=(), kernel="6.1")
        again = profile.load(resolved.to_json(oci=True))
    except profile.ProfileError:
        return
    assert again.default_action == resolved.default_action
    try:
        again.compile(arch="x86_64")
    except profile.ProfileError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
