import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


def _seccomp_mode() -> str:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("Seccomp:"):
                return line.split()[1]
    return "unknown"


@pytest.fixture(autouse=True)
def _no_filter_in_the_test_process(request):
    """Loading a filter is irreversible: a test loads filters only in children. A test that
    loads one here fails by name instead of weakening or breaking every test after it."""
    yield
    mode = _seccomp_mode()
    assert mode in ("0", "unknown"), "%s loaded a seccomp filter into the pytest process " \
        "(Seccomp: %s)" % (request.node.nodeid, mode)
