#!/bin/bash
# The VM tier: boots Debian's stock kernel with SELinux enforcing (refpolicy +
# lxvirt.pp) under QEMU/TCG and runs lxvirt's checks inside. Prints the
# checks' TAP lines and a last line "N passed, N failed".
#
#   tests/vm/run.sh [-b BUILDDIR] [-w WORKDIR] [-n] [-D DESTDIR] [-a HOST[:GUEST]]... [-c COMMAND] [-t TIMEOUT] [-v]
#
#   -b  configured build tree (default: $builddir, else ./build under the source tree)
#   -n  do not run install-deps.sh (packages and kernel already there)
#   -D, -a, -c  see build-initramfs.sh: a DESTDIR install to copy in, extra
#       files, and the command to run instead of the sVirt checks (it must
#       print TAP "ok"/"not ok" lines; they are counted)
#   -t, -v  see boot.sh
# Exit status 0 only when every check passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${builddir:-$top/build}
work=/var/tmp/lxvirt-vm
deps=1
limit=300
verbose=()
ibargs=()
while getopts "b:w:nD:a:c:t:vh" opt; do
	case $opt in
	b) build=$OPTARG ;;
	w) work=$OPTARG ;;
	n) deps=0 ;;
	D | a | c) ibargs+=("-$opt" "$OPTARG") ;;
	t) limit=$OPTARG ;;
	v) verbose=(-v) ;;
	*) sed -n '2,15p' "$0"; exit 2 ;;
	esac
done

fail_all() { echo "not ok 1 - $1"; echo "0 passed, 1 failed"; exit 1; }
if [ "$deps" = 1 ]; then
	"$here/install-deps.sh" -w "$work" >"$work.deps.log" 2>&1 || { cat "$work.deps.log" >&2; fail_all "install-deps.sh"; }
fi
t0=$(date +%s.%N)
"$here/build-initramfs.sh" -b "$build" -w "$work" "${ibargs[@]+"${ibargs[@]}"}" >&2 || fail_all "build-initramfs.sh"
t1=$(date +%s.%N)
out=$("$here/boot.sh" -w "$work" -t "$limit" "${verbose[@]+"${verbose[@]}"}")
rc=$?
t2=$(date +%s.%N)
printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed$'
pass=$(printf '%s\n' "$out" | grep -cE '^ok [0-9]+')
fail=$(printf '%s\n' "$out" | grep -cE '^not ok [0-9]+')
if [ "$rc" != 0 ] && [ "$fail" = 0 ]; then
	fail=1
	echo "not ok $((pass + 1)) - the guest command succeeded (boot.sh exit $rc)"
fi
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "# vm tier: initramfs %.1fs, boot+checks %.1fs\n", b - a, c - b }'
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
