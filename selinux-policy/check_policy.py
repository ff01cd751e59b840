#!/usr/bin/python3
"""Policy questions about the lxvirt module, asked of one compiled policy.

Usage: check_policy.py POLICY FILE_CONTEXTS  -> TAP lines (no plan)

The same queries as `sesearch -A -s SRC -t TGT -c CLASS -p PERM`, through
setools' Python API (what sesearch runs on) so the 2 MB policy is loaded once
instead of once per question. Attributes are expanded on both sides, so a rule
granting an attribute that contains svirt_lxc_net_t counts.
"""
import re
import sys

import setools

policy = setools.SELinuxPolicy(sys.argv[1])
file_contexts = open(sys.argv[2]).read() if len(sys.argv) > 2 else ""
n = 0


def report(ok, what, detail=()):
    global n
    n += 1
    print(("ok" if ok else "not ok") + " %d - %s" % (n, what))
    for line in detail:
        print("# " + str(line))


def rules(source, target=None, tclass=None, perm=None):
    q = setools.TERuleQuery(policy, ruletype=["allow"], source=source)
    if target:
        q.target = target
    if tclass:
        q.tclass = [tclass]
    if perm:
        q.perms = {perm}
    return list(q.results())


def allowed(what, *args):
    found = rules(*args)
    report(bool(found), what, [] if found else ["no allow rule for %s" % (args,)])


def denied(what, *args):
    found = rules(*args)
    report(not found, what, found)


def has_type(name):
    try:
        policy.lookup_type(name)
        return True
    except Exception:
        return False


report(has_type("svirt_lxc_net_t") and has_type("svirt_sandbox_file_t"),
       "the policy has svirt_lxc_net_t and svirt_sandbox_file_t")
mcs = [str(t) for t in policy.lookup_typeattr("mcs_constrained_type").expand()]
report("svirt_lxc_net_t" in mcs,
       "svirt_lxc_net_t is an mcs_constrained_type, so categories separate containers", [] if "svirt_lxc_net_t" in mcs else mcs)

denied("svirt_lxc_net_t may not read shadow_t files", "svirt_lxc_net_t", "shadow_t", "file", "read")
denied("svirt_lxc_net_t may not open shadow_t files", "svirt_lxc_net_t", "shadow_t", "file", "open")
denied("svirt_lxc_net_t may not write etc_t files", "svirt_lxc_net_t", "etc_t", "file", "write")
denied("svirt_lxc_net_t may not add entries to etc_t directories", "svirt_lxc_net_t", "etc_t", "dir", "add_name")
denied("svirt_lxc_net_t may not read user_home_t files", "svirt_lxc_net_t", "user_home_t", "file", "read")
denied("svirt_lxc_net_t may not write virt_etc_t (lxvirtd's config)", "svirt_lxc_net_t", "virt_etc_t", "file", "write")
denied("svirt_lxc_net_t may not load kernel modules", "svirt_lxc_net_t", None, "system", "module_load")
denied("svirt_lxc_net_t may not use CAP_SYS_ADMIN", "svirt_lxc_net_t", "svirt_lxc_net_t", "capability", "sys_admin")
denied("svirt_lxc_net_t may not transition to any other domain", "svirt_lxc_net_t", None, "process", "transition")
denied("svirt_lxc_net_t may not ptrace", "svirt_lxc_net_t", None, "process", "ptrace")
allowed("svirt_lxc_net_t may read svirt_sandbox_file_t files", "svirt_lxc_net_t", "svirt_sandbox_file_t", "file", "read")
allowed("svirt_lxc_net_t may write svirt_sandbox_file_t files", "svirt_lxc_net_t", "svirt_sandbox_file_t", "file", "write")
allowed("svirt_lxc_net_t may create svirt_sandbox_file_t directories", "svirt_lxc_net_t", "svirt_sandbox_file_t", "dir", "create")
allowed("svirt_sandbox_file_t is an entry point of svirt_lxc_net_t", "svirt_lxc_net_t", "svirt_sandbox_file_t", "file", "entrypoint")
allowed("virtd_lxc_t may transition to svirt_lxc_net_t", "virtd_lxc_t", "svirt_lxc_net_t", "process", "transition")
allowed("virtd_lxc_t may relabel files to svirt_sandbox_file_t", "virtd_lxc_t", "svirt_sandbox_file_t", "file", "relabelto")
allowed("virtd_lxc_t may mount with context=svirt_sandbox_file_t", "virtd_lxc_t", "svirt_sandbox_file_t", "filesystem", "relabelto")
allowed("virtd_t may relabel root file systems to svirt_sandbox_file_t", "virtd_t", "svirt_sandbox_file_t", "dir", "relabelto")
allowed("virtd_t may read the container init's /proc label", "virtd_t", "svirt_lxc_net_t", "file", "read")

for path, ctype in [("/usr/sbin/lxvirtd", "virtd_exec_t"),
                    ("/usr/libexec/lxvirt/lxvirt-controller", "virtd_lxc_exec_t"),
                    ("/etc/lxvirt/lxc/web.xml", "virt_etc_t"),
                    ("/run/lxvirt/lxvirtd-sock", "virt_runtime_t"),
                    ("/run/lxvirt/lxc/web.xml", "virtd_lxc_runtime_t"),
                    ("/var/log/lxvirt/lxc/web.log", "virt_log_t")]:
    # The last matching line wins in file_contexts ordering only after
    # sorting; a plain match of our regex line is what we check here.
    hits = []
    for line in file_contexts.splitlines():
        parts = line.split()
        if len(parts) >= 2 and "lxvirt" in parts[0] and parts[-1].split(":")[2:3] == [ctype]:
            if re.fullmatch(parts[0], path):
                hits.append(line)
    report(bool(hits), "file context of %s is %s" % (path, ctype))
