#!/bin/sh
# /init of the lxvirt VM tier (busybox sh as PID 1, out of the initramfs).
#
# Loads the reference policy (+ lxvirt.pp) into the enforcing kernel, gives
# /dev nodes their policy types, mounts labelled tmpfs on /run and /tmp, runs
# the command in /etc/lxvirt-vm/command and powers off. Lines for the host
# ("VM: ..." status lines and the command's output) also go to the second
# serial port, which the host keeps as a file.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TERM=dumb

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null

OUT=/dev/ttyS1
[ -c $OUT ] || OUT=/dev/null
say() { echo "VM: $*"; echo "VM: $*" >$OUT; }
uptime_s() { cut -d' ' -f1 /proc/uptime; }
halt_vm() {
	say "exit=$1 uptime=$(uptime_s)"
	sync
	poweroff -f
	sleep 10
}

say "init uptime=$(uptime_s) kernel=$(uname -r) lsm=$(cat /sys/kernel/security/lsm 2>/dev/null)"
# Without auditd, AVC lines reach the kernel log rate-limited (10 per 5 s).
echo 100000 >/proc/sys/kernel/printk_ratelimit_burst

mkdir -p /sys/fs/selinux
if ! mount -t selinuxfs selinuxfs /sys/fs/selinux || [ ! -e /sys/fs/selinux/load ]; then
	say "ERROR no selinuxfs: SELinux is not the active LSM (kernel command line needs security=selinux)"
	halt_vm 100
fi
t0=$(uptime_s)
load_policy -i 2>&1 | while read -r line; do say "load_policy: $line"; done
if [ "$(cat /sys/fs/selinux/policyvers 2>/dev/null)" = "" ] || [ ! -e /sys/fs/selinux/class/file ]; then
	say "ERROR the policy did not load"
	halt_vm 101
fi
echo 1 >/sys/fs/selinux/enforce
say "policy loaded in $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }')s enforce=$(cat /sys/fs/selinux/enforce) mls=$(cat /sys/fs/selinux/mls) context=$(cat /proc/self/attr/current)"

# No udev, no restorecon: label the few nodes a confined process touches,
# and take the console from devtmpfs (the inherited one is the initramfs
# node, root_t, unusable from a confined domain).
label() { t=$1; shift; for f in "$@"; do [ -e "$f" ] && chcon -h -t "$t" "$f"; done; }
label device_t /dev
label null_device_t /dev/null
label zero_device_t /dev/zero
label random_device_t /dev/random
label urandom_device_t /dev/urandom
label console_device_t /dev/console
label devtty_t /dev/tty
label ptmx_t /dev/ptmx
label tty_device_t /dev/ttyS0 /dev/ttyS1
exec </dev/console >/dev/console 2>&1

# Mounted after the policy load, so they are tmpfs_t and take any label.
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp

cmd=$(cat /etc/lxvirt-vm/command)
say "run uptime=$(uptime_s) command=$cmd"
rcfile=/run/.vm-rc
( sh -c "$cmd" 2>&1; echo $? >$rcfile ) | while IFS= read -r line; do
	echo "$line"
	echo "$line" >$OUT
done
rc=$(cat $rcfile 2>/dev/null || echo 99)
say "done uptime=$(uptime_s)"
# Every distinct denial (pid, inode and names differ between repeats).
dmesg | grep 'avc: *denied' | sed 's/^.*avc: *//; s/ pid=[0-9]*//; s/ ino=[0-9]*//' | sort -u | head -n 150 |
	while IFS= read -r line; do say "AVC $line"; done
halt_vm "$rc"
