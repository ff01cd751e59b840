#!/bin/bash
# Builds the initramfs of the VM tier: busybox rootfs, the reference policy
# linked with lxvirt.pp (+ the test-only lxvirt_vmtest.pp), SELinux tools,
# lxvirt's VM check program, optionally a DESTDIR install of lxvirt and more
# files, and the command the guest runs.
#
#   tests/vm/build-initramfs.sh -b BUILDDIR [-w WORKDIR] [-D DESTDIR]
#                               [-a HOST[:GUEST]]... [-c COMMAND] [-o OUT]
#
#   -b  configured lxvirt build tree (lxvirt.pp and tests/vm/svirt_vm_check
#       are made there when missing)
#   -w  work directory (default /var/tmp/lxvirt-vm)
#   -D  a `make install DESTDIR=...` tree, copied to / in the guest
#   -a  extra file or directory; GUEST defaults to /usr/bin/NAME for a file,
#       the same absolute path for a directory. Dynamic ELF files bring their
#       shared libraries along.
#   -c  command the guest runs under sh -c (default: the sVirt checks)
#   -o  output (default WORKDIR/initramfs.cpio, uncompressed newc: under TCG
#       decompressing costs more than reading)
# The host's policy store is only read; its SELinux state does not matter.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=/var/tmp/lxvirt-vm
build=
destdir=
out=
# Both check programs; the status is non-zero when either failed.
cmd='/usr/libexec/lxvirt-vm/svirt_vm_check; a=$?; /usr/libexec/lxvirt-vm/svirt_container_check; b=$?; [ $a = 0 ] && [ $b = 0 ]'
extra=()
while getopts "b:w:D:a:c:o:h" opt; do
	case $opt in
	b) build=$OPTARG ;;
	w) work=$OPTARG ;;
	D) destdir=$OPTARG ;;
	a) extra+=("$OPTARG") ;;
	c) cmd=$OPTARG ;;
	o) out=$OPTARG ;;
	*) sed -n '2,22p' "$0"; exit 2 ;;
	esac
done
[ -n "$build" ] || { echo "build-initramfs: -b BUILDDIR is required" >&2; exit 2; }
build=$(cd "$build" && pwd)
out=${out:-$work/initramfs.cpio}
mkdir -p "$work"
t0=$(date +%s.%N)

for f in /bin/busybox /usr/sbin/load_policy /usr/bin/cpio /usr/share/selinux/devel/Makefile /usr/sbin/semodule; do
	[ -e "$f" ] || { echo "build-initramfs: $f missing: run tests/vm/install-deps.sh" >&2; exit 1; }
done
file -L /bin/busybox | grep -q 'statically linked' || { echo "build-initramfs: /bin/busybox is not static (busybox-static)" >&2; exit 1; }

# --- policy ----------------------------------------------------------------
make -s -C "$build" selinux-policy/lxvirt.pp tests/vm/svirt_vm_check tests/vm/svirt_container_check \
	driver/controller/lxvirt-controller
mods=$work/modules
rm -rf "$mods" && mkdir -p "$mods"
cp "$here"/policy/lxvirt_vmtest.te "$here"/policy/lxvirt_vmtest.if "$here"/policy/lxvirt_vmtest.fc "$mods/"
make -s -C "$mods" -f /usr/share/selinux/devel/Makefile lxvirt_vmtest.pp >"$mods/build.log" 2>&1 ||
	{ cat "$mods/build.log" >&2; exit 1; }
cp "$build/selinux-policy/lxvirt.pp" "$mods/"
# Linking into a copy of the store takes 10-30 s: reuse it while the modules
# and the host store are unchanged.
sum=$( (sha256sum "$mods/lxvirt.pp" "$mods/lxvirt_vmtest.pp" | cut -d' ' -f1; ls -l --time-style=+%s /etc/selinux/default/policy) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$work/policy.sum" 2>/dev/null)" != "$sum" ] || [ ! -d "$work/policy-root" ]; then
	rm -f "$work/policy.sum"
	"$top/selinux-policy/link-policy.sh" "$work/policy-root" "$mods/lxvirt.pp" "$mods/lxvirt_vmtest.pp" >/dev/null
	echo "$sum" >"$work/policy.sum"
fi
store=$work/policy-root/etc/selinux/default
policy=$(ls "$store"/policy/policy.* | sort -V | tail -n1)

# --- root file system ------------------------------------------------------
root=$work/root
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc/lxvirt-vm,proc,sys,dev,run,tmp,root} \
	"$root"/etc/selinux/default/policy "$root"/etc/selinux/default/contexts/files
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

with_libs() { # ELF on the host: copy its loader and libraries
	file -L "$1" | grep -q 'dynamically linked' || return 0
	local lib
	for lib in $(ldd "$1" | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] || { mkdir -p "$root$(dirname "$lib")"; cp -L "$lib" "$root$lib"; }
	done
}
put() { # HOST GUEST
	if [ -d "$1" ]; then
		mkdir -p "$root$2"
		cp -a "$1/." "$root$2/"
		local f
		while IFS= read -r -d '' f; do with_libs "$f"; done < <(find "$1" -type f -perm -u+x -print0)
	else
		mkdir -p "$root$(dirname "$2")"
		cp -L "$1" "$root$2"
		with_libs "$1"
	fi
}

put "$build/tests/vm/svirt_vm_check" /usr/libexec/lxvirt-vm/svirt_vm_check
put "$build/tests/vm/svirt_container_check" /usr/libexec/lxvirt-vm/svirt_container_check
put "$build/driver/controller/lxvirt-controller" /usr/libexec/lxvirt-vm/lxvirt-controller
# Debug info is most of their size; the guest unpacks every byte at boot.
strip "$root"/usr/libexec/lxvirt-vm/* 2>/dev/null || true
# Real SELinux tools (busybox's applets lack -Z): policy load and debugging.
for t in /usr/sbin/load_policy /usr/sbin/getenforce /usr/sbin/setenforce /usr/bin/chcon /usr/bin/runcon \
	/usr/bin/id /usr/bin/ls /usr/bin/stat; do
	[ -x "$t" ] && put "$t" "$t"
done
[ -n "$destdir" ] && put "$destdir" /
for spec in "${extra[@]+"${extra[@]}"}"; do
	src=${spec%%:*}
	dst=${spec#*:}
	if [ "$dst" = "$spec" ]; then
		if [ -d "$src" ]; then dst=$(cd "$src" && pwd); else dst=/usr/bin/$(basename "$src"); fi
	fi
	put "$src" "$dst"
done

cp "$policy" "$root/etc/selinux/default/policy/"
printf 'SELINUX=enforcing\nSELINUXTYPE=default\n' >"$root/etc/selinux/config"
# Debian's own lxc_contexts (it names container_t, which the policy lacks:
# the daemon must fall back to its svirt_lxc_net_t defaults).
for f in lxc_contexts default_type failsafe_context virtual_domain_context virtual_image_context; do
	[ -e "$store/contexts/$f" ] && cp "$store/contexts/$f" "$root/etc/selinux/default/contexts/"
done
# Text file_contexts only: the compiled .bin is 7 MB of initramfs, and the
# guest needs it only for restores without a remembered label.
for f in file_contexts file_contexts.subs_dist; do
	[ -e "$store/contexts/files/$f" ] && cp "$store/contexts/files/$f" "$root/etc/selinux/default/contexts/files/"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
: >"$root/etc/shadow"  # bind-mount target for a shadow_t file
printf '%s\n' "$cmd" >"$root/etc/lxvirt-vm/command"
install -m 0755 "$here/guest-init.sh" "$root/init"

(cd "$root" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet) >"$out"
awk -v o="$out" -v s="$(du -h "$out" | cut -f1)" -v a="$t0" -v b="$(date +%s.%N)" \
	'BEGIN { printf "build-initramfs: %s (%s) in %.1fs\n", o, s, b - a }'
