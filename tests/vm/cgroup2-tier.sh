#!/bin/sh
# The cgroup v2 run of the VM tier: the same stock kernel, booted with a pure
# cgroup2 hierarchy on /sys/fs/cgroup (no v1 anywhere), runs the real-kernel
# v2 tests of cgroup_test and the container tests that exercise cgroups with
# real containers (limits, freezer, device program, cleanup). The host CI
# runs on cgroup v1 controllers, where these v2 paths skip or never run.
#
# Runs in the guest as /usr/libexec/lxvirt-vm/cgroup2-tier.sh with the test
# programs under /build and the test rootfs script under /src (see run.sh
# -2). SELinux is set permissive: this run is about cgroups, the sVirt run
# checks labels. Nothing may skip here: a skip is reported as a failure.
set -u
if [ "${1:-}" != --inner ]; then
	# The guest runs from the initramfs (rootfs), which pivot_root cannot
	# leave: go on from a recursive bind of it in a mount namespace of our
	# own, as a booted system runs from its real root mount.
	mkdir -p /ctroot
	exec unshare -m sh -c 'mount --make-rprivate / && mount --rbind / /ctroot && cd /ctroot &&
		mount --move /ctroot / && exec chroot . "$0" --inner' "$0"
fi
setenforce 0 2>/dev/null
mkdir -p /sys/fs/cgroup
mount -t cgroup2 cgroup2 /sys/fs/cgroup || { echo "not ok 1 - mount cgroup2"; exit 1; }
ctrls=$(cat /sys/fs/cgroup/cgroup.controllers)
for c in $ctrls; do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control 2>/dev/null
done
echo "# cgroup2 controllers: $ctrls; enabled below the root: $(cat /sys/fs/cgroup/cgroup.subtree_control)"

export srcdir=/src builddir=/build
rc=0
run() { # PROGRAM FILTER: its TAP lines, a skip turned into a failure
	out=$("$builddir/tests/unit/$1" "$2" 2>&1)
	status=$?
	printf '%s\n' "$out" | sed -E "s/^ok ([0-9]+ - .*) # SKIP (.*)/not ok \1 # skipped in the cgroup v2 run: \2/" |
		grep -E '^(not )?ok |^# '
	n=$(printf '%s\n' "$out" | grep -cE '^(not )?ok ')
	if [ "$n" = 0 ]; then
		echo "not ok - $1 $2 ran no test (exit $status)"
		printf '%s\n' "$out" | tail -n 5 | sed 's/^/# /'
		rc=1
	fi
	if [ "$status" != 0 ] || printf '%s\n' "$out" | grep -q ' # SKIP '; then
		rc=1
	fi
}
run cgroup_test CgroupV2RealTest
for t in initRunsInTheContainersCgroup hostDevicesAreDeniedByTheDeviceCgroup memhogAboveTheHardLimit \
	cpusetPinsTheContainer cpuQuotaHoldsUsageAtTheQuota suspendFreezesAndResumeThaws \
	startFailureUnderATooLowMemoryLimit deadControllerIsCleanedUpAndReportedCrashed; do
	run container_test "$t"
done
# The LXC driver on real containers: tunables and statistics from v2 files,
# suspend/resume, restart recovery.
run lxc_driver_test LxcDriverRealTest
exit $rc
