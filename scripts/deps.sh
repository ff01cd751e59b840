#!/bin/bash
# Installs every Debian package lxvirt needs to build, run and test.
# Safe to run again; quiet unless something is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PKGS=(
    build-essential autoconf automake libtool autoconf-archive pkg-config
    libxml2-dev libglib2.0-dev libselinux1-dev libdevmapper-dev libcppunit-dev
    libvirt-dev libcap-ng-dev libnl-route-3-dev libtirpc-dev
    libvirt-clients python3-libvirt libxml2-utils busybox-static
    iproute2 util-linux procps kmod
    # the VM tier (tests/vm): QEMU, an initramfs, the reference policy
    qemu-system-x86 cpio file selinux-policy-default selinux-policy-dev
    policycoreutils selinux-utils setools
    # the virt-manager test (tests/virt-manager): the real GUI under Xvfb
    virt-manager xvfb xdotool x11-utils imagemagick
)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
