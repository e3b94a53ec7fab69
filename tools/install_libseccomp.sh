#!/usr/bin/env bash
# Build the pinned libseccomp release into PREFIX (for wheels that bundle it, and for testing
# against 2.6 where the system has 2.5). The version and checksum live here, and only here.
#   tools/install_libseccomp.sh PREFIX
# Needs a C compiler, make and gperf.
set -euo pipefail
LIBSECCOMP_VERSION=2.6.0
LIBSECCOMP_SHA256=83b6085232d1588c379dc9b9cae47bb37407cf262e6e74993c61ba72d2a784dc
URLS=(
    "https://github.com/seccomp/libseccomp/releases/download/v${LIBSECCOMP_VERSION}/libseccomp-${LIBSECCOMP_VERSION}.tar.gz"
    "https://deb.debian.org/debian/pool/main/libs/libseccomp/libseccomp_${LIBSECCOMP_VERSION}.orig.tar.gz"
)

if [ "${1:-}" = "--version" ]; then echo "$LIBSECCOMP_VERSION"; exit 0; fi
prefix=${1:?usage: $0 PREFIX | --version}
command -v gperf >/dev/null || { echo "install_libseccomp: gperf is needed to build libseccomp" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball="$work/libseccomp.tar.gz"
for url in "${URLS[@]}"; do
    if curl -fsSL --retry 2 --connect-timeout 15 -o "$tarball" "$url"; then
        if echo "$LIBSECCOMP_SHA256  $tarball" | sha256sum -c --status; then
            echo "install_libseccomp: $url (sha256 ok)"
            break
        fi
        echo "install_libseccomp: $url: checksum mismatch, trying the next source" >&2
    fi
    rm -f "$tarball"
done
[ -f "$tarball" ] || { echo "install_libseccomp: no verified download of libseccomp $LIBSECCOMP_VERSION" >&2; exit 1; }
tar -xzf "$tarball" -C "$work"
cd "$work/libseccomp-$LIBSECCOMP_VERSION"
./configure --quiet --prefix="$prefix" --disable-static
make -s -j"$(nproc)"
make -s install
mkdir -p "$prefix/share/licenses/libseccomp"
cp LICENSE "$prefix/share/licenses/libseccomp/LICENSE"
echo "install_libseccomp: libseccomp $LIBSECCOMP_VERSION installed in $prefix"
