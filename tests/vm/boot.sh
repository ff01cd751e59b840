#!/bin/bash
# Boots Debian's stock kernel under QEMU (TCG) with SELinux enforcing on the
# initramfs from build-initramfs.sh and relays what the guest reports.
#
#   tests/vm/boot.sh [-w WORKDIR] [-i INITRAMFS] [-k KERNEL] [-t TIMEOUT] [-v]
#
# Prints the guest's result lines (second serial port) and one line
# "boot: wall=...s ..." with the timings. Exit status: the guest command's,
# 124 on timeout, 125 when the guest ended without reporting.
# LXVIRT_VM_SMP: the guest's CPU count (default 1).
set -uo pipefail
work=/var/tmp/lxvirt-vm
initrd=
kernel=
limit=300
verbose=0
while getopts "w:i:k:t:vh" opt; do
	case $opt in
	w) work=$OPTARG ;;
	i) initrd=$OPTARG ;;
	k) kernel=$OPTARG ;;
	t) limit=$OPTARG ;;
	v) verbose=1 ;;
	*) sed -n '2,10p' "$0"; exit 2 ;;
	esac
done
initrd=${initrd:-$work/initramfs.cpio}
kernel=${kernel:-$work/vmlinuz}
[ -s "$kernel" ] || { echo "boot: no kernel at $kernel (tests/vm/install-deps.sh)" >&2; exit 2; }
[ -s "$initrd" ] || { echo "boot: no initramfs at $initrd (tests/vm/build-initramfs.sh)" >&2; exit 2; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot: qemu-system-x86_64 missing (apt-get install qemu-system-x86)" >&2; exit 2; }

console=$work/console.log
results=$work/results.txt
: >"$console"
: >"$results"
# security=selinux: Debian's kernel has SELinux built in, but AppArmor is the
# default major LSM and selinux=1 is ignored (no SELINUX_BOOTPARAM).
# panic=-1 with -no-reboot ends QEMU at once on a panic.
append="console=ttyS0 security=selinux enforcing=1 panic=-1 quiet mitigations=off"
t0=$(date +%s.%N)
if [ "$verbose" = 1 ]; then
	tail -n +1 -F "$console" 2>/dev/null &
	tailer=$!
fi
timeout -k 5 "$limit" qemu-system-x86_64 -accel tcg -cpu max -smp "${LXVIRT_VM_SMP:-1}" -m 1024 \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$kernel" -initrd "$initrd" -append "$append" \
	-serial "file:$console" -serial "file:$results" </dev/null
qrc=$?
t1=$(date +%s.%N)
[ -n "${tailer:-}" ] && { sleep 0.2; kill "$tailer"; wait "$tailer" 2>/dev/null; }

tr -d '\r' <"$results" | grep -v '^$'
rc=$(tr -d '\r' <"$results" | sed -n 's/^VM: exit=\([0-9]*\).*/\1/p' | tail -n1)
at_init=$(tr -d '\r' <"$results" | sed -n 's/^VM: init uptime=\([0-9.]*\).*/\1/p' | head -n1)
at_end=$(tr -d '\r' <"$results" | sed -n 's/^VM: exit=[0-9]* uptime=\([0-9.]*\).*/\1/p' | tail -n1)
awk -v a="$t0" -v b="$t1" -v i="${at_init:-?}" -v e="${at_end:-?}" -v q="$qrc" \
	'BEGIN { printf "boot: wall=%.1fs guest-uptime-at-init=%ss guest-uptime-at-exit=%ss qemu-exit=%s\n", b - a, i, e, q }'
if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
	echo "boot: timed out after ${limit}s; console tail:" >&2
	tail -n 30 "$console" >&2
	exit 124
fi
if [ -z "$rc" ]; then
	echo "boot: the guest reported no result; console tail:" >&2
	tail -n 40 "$console" >&2
	exit 125
fi
exit "$rc"
