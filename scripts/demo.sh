#!/bin/bash
# The main job in one command: install what is needed, build, start lxvirtd
# in the background, then define and start a bundled demo container with the
# real virsh and show it. Returns when the demo has been shown; the daemon and
# the container keep running (stop: `virsh -c "$URI" destroy lxvirt-demo`,
# `kill $(cat /run/lxvirt/lxvirtd.pid)`).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
bash scripts/deps.sh
bash scripts/build.sh

DEMO_DIR=${DEMO_DIR:-/var/lib/lxvirt/demo}
SOCK=/run/lxvirt/lxvirtd-sock
URI="lxc:///system?socket=$SOCK"
VIRSH=(virsh -q -c "$URI")

# A tiny root file system: busybox-static plus an init that says hello.
bash scripts/make-demo-rootfs.sh "$DEMO_DIR/rootfs"

if ! "${VIRSH[@]}" uri >/dev/null 2>&1; then
    echo "== starting lxvirtd (log: /var/log/lxvirt/lxvirtd.log)"
    mkdir -p /var/log/lxvirt
    build/lxvirtd --daemon --pid-file /run/lxvirt/lxvirtd.pid --log-file /var/log/lxvirt/lxvirtd.log
    for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
fi

sed "s|@ROOTFS@|$DEMO_DIR/rootfs|" scripts/demo-domain.xml >"$DEMO_DIR/lxvirt-demo.xml"
run() { echo "\$ virsh $*"; "${VIRSH[@]}" "$@"; }
if "${VIRSH[@]}" domstate lxvirt-demo 2>/dev/null | grep -q running; then
    run destroy lxvirt-demo
fi
run define "$DEMO_DIR/lxvirt-demo.xml"
run start lxvirt-demo
run list --all
run dominfo lxvirt-demo
echo "\$ virsh lxc-enter-namespace lxvirt-demo --noseclabel /bin/sh -c 'hostname; ps; cat /etc/motd'"
"${VIRSH[@]}" lxc-enter-namespace lxvirt-demo --noseclabel /bin/sh -c 'hostname; ps; cat /etc/motd'
echo
echo "The demo container keeps running. Try:"
echo "  virsh -c '$URI' console lxvirt-demo      (leave with Ctrl-])"
echo "  virsh -c '$URI' destroy lxvirt-demo"
