#!/bin/bash
# The whole test suite: installs what it needs, builds, runs `make check`
# (unit, integration, interop; each test case counted via TAP) and the VM
# tier when it is enabled, then prints one line "N passed, N failed, N skipped".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
cd build
make -k check >make-check.out 2>&1
rc=$?
grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' make-check.out | grep -v '^PASS' || true
grep -E '^# (TOTAL|PASS|SKIP|XFAIL|FAIL|XPASS|ERROR):' make-check.out || true
count() { grep -E "^# $1: " make-check.out | awk '{s+=$3} END {print s+0}'; }
pass=$(( $(count PASS) + $(count XFAIL) ))
fail=$(( $(count FAIL) + $(count XPASS) + $(count ERROR) ))
skip=$(count SKIP)
if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then
    # make itself failed (a test program did not build): show why and count it.
    tail -30 make-check.out
    fail=1
fi
if [ "$fail" -gt 0 ]; then
    # Show the failing cases with the diagnostics their TAP logs carry.
    find . -name '*.log' ! -name test-suite.log ! -name config.log -print0 |
        xargs -0 grep -H -A3 -E '^not ok' 2>/dev/null | head -80
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
