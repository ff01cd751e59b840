#!/bin/sh
# Builds a minimal root file system for runtime tests:
#   mkrootfs.sh DIR INIT [BUSYBOX]
# DIR gets busybox (static, with its applet links) and the static multi-call
# helper INIT as /sbin/init, plus the directories a container expects.
set -eu
dir=$1
init=$2
# (A path: busybox's own sh answers `command -v busybox` with the bare name.)
busybox=${3:-}
for b in $(command -v busybox) /bin/busybox /usr/bin/busybox; do
    [ -n "$busybox" ] && break
    case $b in /*) [ -x "$b" ] && busybox=$b ;; esac
done
[ -x "$init" ] || { echo "mkrootfs: no init helper at $init" >&2; exit 1; }
[ -x "$busybox" ] || { echo "mkrootfs: busybox not found (install busybox-static)" >&2; exit 77; }
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin etc proc sys dev tmp var/tmp run root out
cp "$busybox" bin/busybox
for a in sh ls cat echo sleep mount ps id hostname true false; do
    ln -sf busybox "bin/$a"
done
cp "$init" sbin/init
chmod 0755 sbin/init bin/busybox
chmod 1777 tmp var/tmp
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\ntester:x:1234:1235:tester:/:/bin/sh\n' > etc/passwd
printf 'root:x:0:\ntty:x:5:\ntesters:x:1235:\nnogroup:x:65534:\n' > etc/group
