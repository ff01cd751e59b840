#!/bin/bash
# Builds lxvirt out of tree in ./build (bootstrapping autotools first).
# Extra arguments go to configure (e.g. --enable-asan).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ -x configure ] && [ -f build-aux/tap-driver.sh ] || ./autogen.sh >/dev/null 2>&1 || ./autogen.sh
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q --prefix=/usr --sysconfdir=/etc --localstatedir=/var "$@"
# Quiet on success; on failure show the end of the log.
if ! make -j"$(nproc)" >build.log 2>&1; then
    tail -60 build.log
    echo "build failed (full log: $PWD/build.log)" >&2
    exit 1
fi
