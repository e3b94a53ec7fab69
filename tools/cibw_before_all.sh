#!/usr/bin/env bash
# cibuildwheel's before-all (inside the manylinux/musllinux container): the tools libseccomp's
# build needs, then the pinned libseccomp into /usr/local/libseccomp, which the build links
# (SECCOMP_PREFIX) and auditwheel then copies into the wheel.
set -euo pipefail
if command -v apk >/dev/null; then
    apk add --no-cache gperf curl make
elif command -v dnf >/dev/null; then
    dnf install -y gperf curl make
else
    yum install -y gperf curl make
fi
bash "$(dirname "$0")/install_libseccomp.sh" /usr/local/libseccomp
