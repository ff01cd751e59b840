#!/bin/bash
# Links policy modules into a PRIVATE copy of the host's reference policy
# store and prints the path of the resulting kernel policy (policy.NN).
# The host's /etc/selinux and /var/lib/selinux are only read, so this works
# (and is safe) on a host where SELinux is disabled.
#
#   link-policy.sh OUTDIR MODULE.pp...
#
# Needs: selinux-policy-default, policycoreutils (semodule).
# Exit 77 (automake's "skip") when those are missing.
set -euo pipefail
out=${1:?usage: link-policy.sh OUTDIR MODULE.pp...}
shift
store=${SELINUXTYPE:-default}
for f in /etc/selinux/$store/policy /var/lib/selinux/$store; do
	[ -e "$f" ] || { echo "link-policy: $f missing (apt-get install selinux-policy-$store)" >&2; exit 77; }
done
command -v semodule >/dev/null || { echo "link-policy: semodule missing (apt-get install policycoreutils)" >&2; exit 77; }
rm -rf "$out"
mkdir -p "$out/etc" "$out/var/lib"
cp -a /etc/selinux "$out/etc/"
cp -a /var/lib/selinux "$out/var/lib/"
args=()
for m in "$@"; do args+=(-i "$m"); done
# Not "semodule -v": on Debian 12 it turns a harmless filecon conflict in the
# spamassassin module into a failure. -N: do not try to load the result.
semodule -N -p "$out" -s "$store" "${args[@]}" 2>&1 | grep -v 'not in password file' >&2 || true
policy=$(ls "$out/etc/selinux/$store/policy/"policy.* 2>/dev/null | sort -V | tail -n1)
[ -n "$policy" ] || { echo "link-policy: semodule produced no policy" >&2; exit 1; }
echo "$policy"
