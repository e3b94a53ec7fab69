#!/usr/bin/env bash
# Set up a fresh Debian/Ubuntu machine for this project: libseccomp and its headers,
# pkg-config, libseccomp's own Python module (the compatibility reference), valgrind, then build
# and install this package in place with its test dependencies. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in libseccomp-dev pkg-config python3-seccomp valgrind runc crun busybox-static bubblewrap; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
    $SUDO apt-get update -qq
    # python3-seccomp is only the reference for the compatibility tests: not fatal if absent.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libseccomp-dev pkg-config >/dev/null
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-seccomp >/dev/null 2>&1 \
        || echo "setup: python3-seccomp not installable; compatibility comparisons will skip" >&2
    # valgrind runs the memory check of the core (tools/memcheck.sh); the test skips without it.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null 2>&1 \
        || echo "setup: valgrind not installable; the memcheck test will skip" >&2
    # Real OCI runtimes and a static busybox for the bundle tests (tests/test_container.py),
    # which skip, saying why, without them.
    for pkg in runc crun busybox-static; do
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 \
            || echo "setup: $pkg not installable; the runtime tests will skip" >&2
    done
    # bubblewrap runs the bwrap --seccomp recipe (tests/test_recipes.py), which skips without it.
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
        || echo "setup: bubblewrap not installable; its recipe test will skip" >&2
fi

PY=${PYTHON:-python3}
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore "Cython>=3.0" "setuptools>=64" wheel \
    pytest pytest-xdist pytest-timeout hypothesis mypy sphinx ruff cython-lint pyyaml types-PyYAML
# basedpyright (pyright with node from PyPI) checks the typed examples; its test skips without it.
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore basedpyright \
    >/dev/null 2>&1 || echo "setup: basedpyright not installable; the pyright test will skip" >&2
# atheris (libFuzzer for Python) has wheels for some interpreters only: the fuzz test skips without it.
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore --only-binary :all: atheris \
    >/dev/null 2>&1 || echo "setup: no atheris wheel for this Python; the fuzz test will skip" >&2
# compat mode: the checkout goes on sys.path through a .pth, so mypy sees the package too
# (setuptools' default editable mode is an import hook that type checkers cannot follow).
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-build-isolation \
    --config-settings editable_mode=compat -e .
