#!/bin/sh
# Builds and runs the benchmarks (issues 3 and 5): bench/run.sh [BUILDDIR [SRCDIR]]
#   `make bench` calls it with the build and source dirs. Knobs (environment):
#   N (samples, default 20), MANY (running domains, 100), IDLE (idle clients, 500),
#   NO_PEER=1 (skip the libvirt peer), XML_SECONDS (xml_bench, 2).
# Needs root for the container and daemon benchmarks; they print SKIPPED otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/..}" && pwd)
src=$(cd "${2:-$here/..}" && pwd)
make -C "$build" bench/lifecycle_bench bench/xml_bench lxvirtd driver/controller/lxvirt-controller tests/init >/dev/null || exit 1
rc=0
echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'), $(nproc) cpus, load: $(cat /proc/loadavg)"
echo "== bench/xml_bench"
"$build/bench/xml_bench" "${XML_SECONDS:-2}" || rc=1
echo "== bench/lifecycle_bench"
"$build/bench/lifecycle_bench" -n "${N:-20}" -m "${MANY:-100}"
r=$?; [ $r = 0 ] || [ $r = 77 ] || rc=1
echo "== bench/rpc_bench.py"
peer=""; [ "${NO_PEER:-0}" = 1 ] && peer=--no-peer
/usr/bin/python3 "$src/bench/rpc_bench.py" --lxvirtd "$build/lxvirtd" \
    --controller "$build/driver/controller/lxvirt-controller" \
    -n "${N:-20}" --many "${MANY:-100}" --idle "${IDLE:-500}" $peer
r=$?; [ $r = 0 ] || [ $r = 77 ] || rc=1
exit $rc
