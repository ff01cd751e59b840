#!/bin/bash
# virt-manager 4.1 (unmodified, headless under Xvfb) against a private
# lxvirtd running real busybox containers. The GUI is driven with xdotool;
# every action is checked on the daemon side with virsh, and what the GUI
# learned is checked in virt-manager's --debug log. TAP output.
#
#   tests/virt-manager/virt_manager_test.sh          (root; from make check or by hand)
#
# Env: LXVIRTD (default $builddir/lxvirtd), VMM_KEEP=DIR copies the logs and
# screenshots there, VMM_TIMEOUT seconds per step (default 20),
# VMM_CONTROLLER / VMM_SECURITY_DRIVER set the daemon's [lxc] controller /
# security_driver keys.
# Needs: virt-manager xvfb xdotool x11-utils imagemagick busybox-static
# (apt-get install --no-install-recommends ...; the recommends pull in a
# system libvirtd).
#
# Window geometry (no window manager, so every toplevel maps at 0,0): GTK 3.24
# Adwaita, DejaVu, 96 dpi. Manager window 550x550: domain row i (sorted by
# name) at y=138+41*i, toolbar Open x=105, Run x=178, Pause x=222, y=45.
set -u
export LC_ALL=C LANG=C
builddir=${builddir:-$(pwd)}
LXVIRTD=${LXVIRTD:-$builddir/lxvirtd}
TMO=${VMM_TIMEOUT:-20}

skip() { echo "1..0 # SKIP $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (real containers)"
for tool in virt-manager Xvfb xdotool xdpyinfo import virsh; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed (apt-get install --no-install-recommends virt-manager xvfb xdotool x11-utils imagemagick libvirt-clients)"
done
[ -x "$LXVIRTD" ] || skip "lxvirtd not built at $LXVIRTD"
BUSYBOX=$(command -v busybox || echo /bin/busybox)
[ -x "$BUSYBOX" ] || skip "busybox-static is not installed"

T=$(mktemp -d /tmp/lxvirt-vmm-XXXXXX)
PARTITION=/lxvirt-test-vmm-$$
URI="lxc:///system?socket=$T/run/lxvirtd-sock"
RUN=vmm-$$-a-run        # started before virt-manager connects: row 0
OFF=vmm-$$-b-off        # shut off: row 1, started and forced off from the GUI
DPID=; XPID=; VPID=
n=0; failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
wait_for() { # wait_for SECONDS CMD...: poll every 0.1 s
    local end=$(( $(date +%s) + $1 )); shift
    while [ "$(date +%s)" -le "$end" ]; do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
    return 1
}
vsh() { virsh -q -c "$URI" "$@"; }
state() { vsh domstate "$1" 2>/dev/null | head -1; }
is_state() { [ "$(state "$1")" = "$2" ]; }
inlog() { grep -q -- "$1" "$T/vmm-debug.log"; }
park() { xdotool mousemove 1270 1010; sleep 0.3; }   # no tooltip in the screenshot

cleanup() {
    # only the processes this script started, by pid
    if [ -n "$VPID" ] && kill -0 "$VPID" 2>/dev/null; then
        kill -TERM "$VPID" 2>/dev/null
        wait_for 5 sh -c "! kill -0 $VPID" || kill -KILL "$VPID" 2>/dev/null
    fi
    [ -n "$XPID" ] && kill -TERM "$XPID" 2>/dev/null
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
        for d in "$RUN" "$OFF"; do vsh destroy "$d" >/dev/null 2>&1; vsh undefine "$d" >/dev/null 2>&1; done
        kill -TERM "$DPID"
        wait_for 10 sh -c "! kill -0 $DPID" || kill -KILL "$DPID"
    fi
    wait 2>/dev/null
    # the partition is ours; controllers may need a moment to leave it
    for _ in $(seq 50); do
        left=0
        for c in /sys/fs/cgroup/*"$PARTITION"; do
            [ -d "$c" ] || continue
            find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
            [ -d "$c" ] && left=1
        done
        [ $left = 0 ] && break
        sleep 0.2
    done
    if [ -n "${VMM_KEEP:-}" ]; then
        mkdir -p "$VMM_KEEP" && cp "$T"/*.log "$T"/*.png "$VMM_KEEP"/ 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- the daemon, a busybox root file system, two domains ----
mkdir -p "$T/etc"
{
    printf '[lxc]\ncgroup_partition=%s\n' "$PARTITION"
    [ -n "${VMM_CONTROLLER:-}" ] && printf 'controller=%s\n' "$VMM_CONTROLLER"
    [ -n "${VMM_SECURITY_DRIVER:-}" ] && printf 'security_driver=%s\n' "$VMM_SECURITY_DRIVER"
} > "$T/etc/lxvirtd.conf"
"$LXVIRTD" --root "$T" --verbose > "$T/lxvirtd.log" 2>&1 &
DPID=$!
wait_for 10 vsh uri || { echo "1..0 # SKIP lxvirtd did not come up: $(tail -3 "$T/lxvirtd.log" | tr '\n' ' ')"; exit 0; }

R=$T/rootfs
mkdir -p "$R"/{bin,sbin,etc,proc,sys,dev,tmp,run,root}
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh sleep echo cat ls ps hostname; do ln -s busybox "$R/bin/$a"; done
cat > "$R/sbin/init" <<'EOF'
#!/bin/sh
trap 'exit 0' TERM INT
echo "vmm-init: $LIBVIRT_LXC_NAME started"
n=0
while :; do n=$((n+1)); echo "vmm-init: $LIBVIRT_LXC_NAME tick $n"; sleep 2 & wait $!; done
EOF
chmod 755 "$R/sbin/init"
echo 'root:x:0:0:root:/root:/bin/sh' > "$R/etc/passwd"
for d in "$RUN" "$OFF"; do
    cat > "$T/$d.xml" <<EOF
<domain type='lxc'>
  <name>$d</name>
  <memory unit='MiB'>32</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices>
    <filesystem type='mount'><source dir='$R'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
EOF
    vsh define "$T/$d.xml" >/dev/null || { echo "Bail out! virsh define $d failed"; exit 1; }
done
# The LXC driver's own tests cover container start-up; here it is a precondition.
if ! out=$(vsh start "$RUN" 2>&1); then
    echo "1..0 # SKIP the LXC driver cannot start a container on this host: $(echo "$out" | head -2 | tr '\n' ' ')"
    exit 0
fi

echo "1..11"

# ---- Xvfb on a free display (it picks the number itself) ----
Xvfb -displayfd 3 -screen 0 1280x1024x24 -nolisten tcp 3> "$T/display" > "$T/xvfb.log" 2>&1 < /dev/null &
XPID=$!
wait_for 10 test -s "$T/display" || { echo "Bail out! Xvfb did not start: $(cat "$T/xvfb.log")"; exit 1; }
export DISPLAY=:$(head -1 "$T/display")
wait_for 10 xdpyinfo || { echo "Bail out! Xvfb display $DISPLAY not answering"; exit 1; }

# ---- virt-manager: no session bus, in-memory settings, private XDG dirs ----
mkdir -p "$T"/xdg/{config,cache,data,runtime}; chmod 700 "$T/xdg/runtime"
(
    export XDG_CONFIG_HOME=$T/xdg/config XDG_CACHE_HOME=$T/xdg/cache XDG_DATA_HOME=$T/xdg/data \
           XDG_RUNTIME_DIR=$T/xdg/runtime NO_AT_BRIDGE=1
    exec setsid env -u DBUS_SESSION_BUS_ADDRESS virt-manager --debug --no-fork --trace-libvirt all \
        --test-options=first-run --connect "$URI"
) > "$T/vmm-debug.log" 2>&1 < /dev/null &
VPID=$!

W=$(timeout "$TMO" xdotool search --sync --name '^Virtual Machine Manager$' 2>/dev/null | head -1)
if [ -n "$W" ]; then ok "virt-manager maps its manager window"
else notok "virt-manager maps its manager window" "$(tail -5 "$T/vmm-debug.log")"; echo "Bail out!"; exit 1; fi

listed() { inlog "changed to state=Active" && inlog "domain=$RUN status=Running added" &&
           inlog "domain=$OFF status=Shutoff added"; }
if wait_for "$TMO" listed; then ok "the connection is active and lists $RUN Running and $OFF Shutoff"
else notok "the connection is active and lists $RUN Running and $OFF Shutoff" \
    "$(grep -E 'added|state=|Error|error' "$T/vmm-debug.log" | tail -8)"; fi
# virtinst counts a probe as unsupported only for VIR_ERR_NO_SUPPORT or
# VIR_ERR_RPC; any other refusal would make it poll storage, networks, ...
probes_refused() { inlog "support storage APIs" && inlog "support network APIs" &&
                   inlog "support nodedev APIs" && inlog "does not support getAllDomainStats"; }
if wait_for "$TMO" probes_refused; then ok "virt-manager takes storage, network, nodedev and all-domain stats as unsupported"
else notok "virt-manager takes storage, network, nodedev and all-domain stats as unsupported" \
    "$(grep -E 'support' "$T/vmm-debug.log" | tail -5)"; fi
sleep 3.5; park   # one stats tick (3 s) draws the CPU graph of the running domain
import -window "$W" "$T/1-listed.png"

select_off() { xdotool mousemove --window "$W" 97 179 click 1; sleep 0.4; }

# ---- toolbar Run on the shut-off domain ----
select_off
xdotool mousemove --window "$W" 178 45 click 1
if wait_for "$TMO" is_state "$OFF" running; then ok "the toolbar Run button starts $OFF (virsh domstate: running)"
else notok "the toolbar Run button starts $OFF (virsh domstate: running)" "state: $(state "$OFF")" \
    "$(grep -iE 'error|traceback' "$T/vmm-debug.log" | tail -5)"; fi
if wait_for "$TMO" inlog "domain=$OFF state=VIR_DOMAIN_EVENT_STARTED"; then
    ok "the STARTED lifecycle event for $OFF reaches virt-manager"
else notok "the STARTED lifecycle event for $OFF reaches virt-manager"; fi

# ---- toolbar Pause is a toggle: suspend, then resume ----
select_off
xdotool mousemove --window "$W" 222 45 click 1
if wait_for "$TMO" is_state "$OFF" paused; then
    sleep 0.5; xdotool mousemove --window "$W" 222 45 click 1
    if wait_for "$TMO" is_state "$OFF" running; then ok "the toolbar Pause button suspends and resumes $OFF"
    else notok "the toolbar Pause button suspends and resumes $OFF" "after resume: $(state "$OFF")"; fi
else notok "the toolbar Pause button suspends and resumes $OFF" "after pause: $(state "$OFF")"; fi

# ---- the VM window: serial console over the OPEN_CONSOLE stream ----
sleep 0.5; select_off
xdotool mousemove --window "$W" 105 45 click 1
V=$(timeout "$TMO" xdotool search --sync --name "^$OFF on " 2>/dev/null | head -1)
if [ -n "$V" ] && wait_for "$TMO" inlog "Opening console stream"; then
    sleep 3; park; import -window "$V" "$T/2-console.png"
    ok "the VM window opens the serial console stream of $OFF"
else notok "the VM window opens the serial console stream of $OFF" \
    "$(grep -iE 'console|error' "$T/vmm-debug.log" | tail -5)"; fi
if [ -n "$V" ]; then   # it covers the manager window: Shift+Ctrl+W closes it
    xdotool mousemove --window "$V" 500 400; xdotool windowfocus --sync "$V"; xdotool key ctrl+shift+w; sleep 1
fi

# ---- Force Off: context menu Shut Down > Force Off, then Yes in the confirm dialog ----
xdotool mousemove --window "$W" 97 179 click 3; sleep 0.6
xdotool key s; sleep 0.4; xdotool key f; sleep 1
D=
for w in $(xdotool search --onlyvisible --class virt-manager 2>/dev/null); do
    [ "$w" = "$W" ] && continue
    eval "$(xdotool getwindowgeometry --shell "$w")"
    [ "$WIDTH" -gt 200 ] && [ "$HEIGHT" -gt 100 ] && [ "$WIDTH" -lt 600 ] && D=$w
done
if [ -n "$D" ]; then
    eval "$(xdotool getwindowgeometry --shell "$D")"
    xdotool mousemove $((X + WIDTH * 3 / 4)) $((Y + HEIGHT - 17)) click 1
fi
if [ -n "$D" ] && wait_for "$TMO" is_state "$OFF" "shut off"; then
    ok "context menu Force Off stops $OFF (virsh domstate: shut off)"
else notok "context menu Force Off stops $OFF (virsh domstate: shut off)" "dialog: ${D:-none}, state: $(state "$OFF")"; fi
if wait_for "$TMO" inlog "domain=$OFF state=VIR_DOMAIN_EVENT_STOPPED"; then
    ok "the STOPPED lifecycle event for $OFF reaches virt-manager"
else notok "the STOPPED lifecycle event for $OFF reaches virt-manager"; fi

# ---- a change made by another client shows up through events ----
vsh destroy "$RUN" >/dev/null
if wait_for "$TMO" inlog "domain=$RUN state=VIR_DOMAIN_EVENT_STOPPED"; then
    ok "virsh destroy $RUN by another client reaches virt-manager"
else notok "virsh destroy $RUN by another client reaches virt-manager"; fi

# ---- Ctrl+Q quits cleanly; the daemon survives ----
xdotool mousemove --window "$W" 300 400; xdotool windowfocus --sync "$W"; xdotool key ctrl+q
if wait_for 15 sh -c "! kill -0 $VPID" && kill -0 "$DPID" 2>/dev/null && vsh uri >/dev/null; then
    VPID=; ok "virt-manager quits on Ctrl+Q and lxvirtd keeps serving"
else notok "virt-manager quits on Ctrl+Q and lxvirtd keeps serving"; fi

# Anything virt-manager logged as an error besides the expected refusals
# (storage: the default pool cannot be created on a domain-only driver).
grep -E '^\[.*\] (ERROR|CRITICAL) ' "$T/vmm-debug.log" | grep -v -i 'storage\|pool' | sed 's/^/# note: /' | head -5

[ $failed = 0 ]
