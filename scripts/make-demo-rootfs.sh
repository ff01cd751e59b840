#!/bin/bash
# make-demo-rootfs.sh DIR: a minimal root file system from busybox-static with
# an /sbin/init that greets on the console and then waits (exits on SIGTERM).
set -euo pipefail
dir=$1
bb=$(command -v busybox || echo /bin/busybox)
mkdir -p "$dir"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,var/tmp}
cp -f "$bb" "$dir/bin/busybox"
for applet in $("$dir/bin/busybox" --list); do
    [ -e "$dir/bin/$applet" ] || ln -s busybox "$dir/bin/$applet"
done
cat >"$dir/sbin/init" <<'INIT'
#!/bin/sh
trap 'echo "lxvirt demo: shutting down"; exit 0' TERM
echo "lxvirt demo: hello from $(hostname), PID $$, uuid $LIBVIRT_LXC_UUID"
while :; do sleep 1000 & wait $!; done
INIT
chmod 755 "$dir/sbin/init"
echo "root:x:0:0:root:/root:/bin/sh" >"$dir/etc/passwd"
echo "root:x:0:" >"$dir/etc/group"
echo "Welcome to an lxvirt container: own PID, mount, UTS, IPC and network namespaces." >"$dir/etc/motd"
