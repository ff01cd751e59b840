#!/bin/bash
# Installs what the VM tier needs on Debian 12 (idempotent; root) and puts
# the guest kernel at WORKDIR/vmlinuz.
#
#   tests/vm/install-deps.sh [-w WORKDIR]      (default /var/tmp/lxvirt-vm)
#
# The kernel is Debian's linux-image-amd64 (stock, SELinux built in). It is
# taken from /boot when that version is installed; otherwise its .deb is only
# downloaded and vmlinuz extracted: installing it would run update-initramfs
# for the host (about a minute) for an initrd the VM never uses.
set -euo pipefail
work=/var/tmp/lxvirt-vm
while getopts "w:" opt; do
	case $opt in
	w) work=$OPTARG ;;
	*) sed -n '2,12p' "$0"; exit 2 ;;
	esac
done

packages="qemu-system-x86 busybox-static cpio file make g++ libselinux1-dev
	selinux-policy-default selinux-policy-dev policycoreutils selinux-utils setools"
need=()
for p in $packages; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -q >/dev/null || true
	apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}"
fi

mkdir -p "$work"
if [ ! -s "$work/vmlinuz" ]; then
	pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*\)$/\1/p' | head -n1)
	[ -n "$pkg" ] || { echo "install-deps: cannot resolve linux-image-amd64 (run apt-get update)" >&2; exit 1; }
	version=${pkg#linux-image-}
	if [ -s "/boot/vmlinuz-$version" ]; then
		cp "/boot/vmlinuz-$version" "$work/vmlinuz.part"
	else
		dl=$(mktemp -d /tmp/lxvirt-vm-kernel-XXXXXX)
		chmod 0777 "$dl"  # apt-get download drops to the _apt user
		(cd "$dl" && apt-get download -q "$pkg" >/dev/null)
		dpkg-deb --fsys-tarfile "$dl"/"$pkg"_*.deb | tar -x -C "$dl" --wildcards './boot/vmlinuz-*'
		mv "$dl"/boot/vmlinuz-* "$work/vmlinuz.part"
		rm -rf "$dl"
	fi
	mv "$work/vmlinuz.part" "$work/vmlinuz"
	echo "$pkg" >"$work/vmlinuz.package"
	echo "install-deps: kernel $pkg -> $work/vmlinuz"
fi
