#!/bin/bash
# Static checks of the lxvirt policy module (TAP): links lxvirt.pp into a
# private copy of the host's reference policy and asks setools' sesearch what
# svirt_lxc_net_t may do. Skips (with the reason) when the tools are missing.
set -uo pipefail
builddir=${builddir:-.}
pp=$builddir/selinux-policy/lxvirt.pp
here=$(cd "$(dirname "$0")" && pwd)

skip_all() { echo "1..0 # SKIP $*"; exit 0; }
[ -f "$pp" ] || skip_all "$pp not built (apt-get install selinux-policy-dev)"
command -v sesearch >/dev/null || skip_all "sesearch missing (apt-get install setools)"
/usr/bin/python3 -c "import setools" 2>/dev/null || skip_all "python3 setools module missing (apt-get install setools)"

work=$(mktemp -d /tmp/lxvirt-policy-check-XXXXXX)
trap 'rm -rf "$work"' EXIT
policy=$("$here/link-policy.sh" "$work/root" "$pp" 2>"$work/link.err")
rc=$?
[ $rc = 77 ] && skip_all "$(cat "$work/link.err")"
if [ $rc != 0 ] || [ ! -f "$policy" ]; then
	echo "1..1"
	echo "not ok 1 - lxvirt.pp links into the reference policy"
	sed 's/^/# /' "$work/link.err"
	exit 0
fi

# One policy load for every question (see check_policy.py).
out=$(/usr/bin/python3 "$here/check_policy.py" "$policy" "$(dirname "$policy")/../contexts/files/file_contexts" 2>&1)
rc=$?
n=$(printf '%s\n' "$out" | grep -cE '^(not )?ok ')
printf '%s\n' "$out"
if [ $rc != 0 ]; then
	n=$((n + 1))
	echo "not ok $n - check_policy.py ran to the end (exit $rc)"
fi
echo "1..$n"
