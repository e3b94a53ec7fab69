#!/usr/bin/env bash
# Build the pinned libseccomp release into PREFIX (for wheels that bundle it, and for testing
# against 2.6 where the system has 2.5). The version and checksum live here, and only here.
#   tools/install_libseccomp.sh PREFIX
# Needs a C compiler, make and gperf.
set -euo pipefail
# The pin. 2.6.1 (GHSA-4q85-33p6-j5g6: a 64-bit comparison merge that can weaken filters) is
# the target: bump both lines together, with the SHA-256 published with its tarball. Until
# then every filter is checked against its rules before it leaves the package (seccomp.bpf.
# model), which catches that bug with any libseccomp. A packager can build another release
# without editing this file: LIBSECCOMP_VERSION=x.y.z LIBSECCOMP_SHA256=<its sha256> (both).
PIN_VERSION=2.6.0
PIN_SHA256=83b6085232d1588c379dc9b9cae47bb37407cf262e6e74993c61ba72d2a784dc
if [ -n "${LIBSECCOMP_VERSION:-}" ] && [ -z "${LIBSECCOMP_SHA256:-}" ]; then
    echo "install_libseccomp: LIBSECCOMP_VERSION=$LIBSECCOMP_VERSION needs LIBSECCOMP_SHA256" >&2
    exit 1
fi
LIBSECCOMP_VERSION=${LIBSECCOMP_VERSION:-$PIN_VERSION}
LIBSECCOMP_SHA256=${LIBSECCOMP_SHA256:-$PIN_SHA256}
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
