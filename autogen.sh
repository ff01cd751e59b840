#!/bin/sh
# Regenerate the build system (needs autoconf, automake, libtool, autoconf-archive).
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# automake's TAP driver is not copied by --add-missing; take it from automake.
cp -f "$(automake --print-libdir)/tap-driver.sh" build-aux/tap-driver.sh
