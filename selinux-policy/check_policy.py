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
fc_path = sys.argv[2] if len(sys.argv) > 2 else ""
file_contexts = open(fc_path).read() if fc_path else ""
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


def type_transition(source, target, tclass):
    q = setools.TERuleQuery(policy, ruletype=["type_transition"], source=source, target=target,
                            tclass=[tclass], source_indirect=False, target_indirect=False)
    return [str(r.default) for r in q.results()]


# The domain chain lxvirtd -> lxvirt-controller -> container init.
found = type_transition("virtd_t", "virtd_lxc_exec_t", "process")
report(found == ["virtd_lxc_t"], "virtd_t exec of virtd_lxc_exec_t transitions to virtd_lxc_t (type_transition)",
       [] if found == ["virtd_lxc_t"] else found)
allowed("virtd_t may execute virtd_lxc_exec_t", "virtd_t", "virtd_lxc_exec_t", "file", "execute")
allowed("virtd_t may transition to virtd_lxc_t", "virtd_t", "virtd_lxc_t", "process", "transition")
allowed("virtd_lxc_exec_t is an entry point of virtd_lxc_t", "virtd_lxc_t", "virtd_lxc_exec_t", "file", "entrypoint")
allowed("virtd_lxc_t may set its exec label (setexeccon for the init)", "virtd_lxc_t", "virtd_lxc_t", "process", "setexec")
allowed("virtd_lxc_t may execute the container's init (svirt_sandbox_file_t)", "virtd_lxc_t", "svirt_sandbox_file_t", "file", "execute")
allowed("svirt_lxc_net_t may inherit the controller's fds", "svirt_lxc_net_t", "virtd_lxc_t", "fd", "use")
allowed("lxvirtd may receive the pidfds the zygote controller sends", "virtd_t", "virtd_lxc_t", "fd", "use")
denied("virtd_lxc_t starts no container domain by file type (only by setexeccon)", "virtd_lxc_t", "svirt_sandbox_file_t", "file", "execute_no_trans")
mcs_cats = [str(t) for t in policy.lookup_typeattr("mcssetcats").expand()] if any(
    str(a) == "mcssetcats" for a in policy.typeattributes()) else None
if mcs_cats is not None:
    report("virtd_lxc_t" in mcs_cats, "virtd_lxc_t may start processes at any category pair (mcssetcats)")

# The controller's monitor socket carries the container's label.
allowed("virtd_lxc_t may set its socket creation label", "virtd_lxc_t", "virtd_lxc_t", "process", "setsockcreate")
allowed("virtd_lxc_t may create a unix socket labelled svirt_lxc_net_t", "virtd_lxc_t", "svirt_lxc_net_t", "unix_stream_socket", "create")
allowed("virtd_lxc_t may listen on it", "virtd_lxc_t", "svirt_lxc_net_t", "unix_stream_socket", "listen")
allowed("virtd_lxc_t may accept on it", "virtd_lxc_t", "svirt_lxc_net_t", "unix_stream_socket", "accept")
allowed("virtd_t may connect to a svirt_lxc_net_t monitor socket", "virtd_t", "svirt_lxc_net_t", "unix_stream_socket", "connectto")
denied("svirt_lxc_net_t may not connect to lxvirtd's sockets", "svirt_lxc_net_t", "virtd_t", "unix_stream_socket", "connectto")

# What file_contexts gives the installed paths, looked up the way
# restorecon does (the sorted specification list, last match wins): a regex
# line that only matches is not enough, its stem must outrank refpolicy's.
try:
    import selinux as libselinux
except ImportError:
    libselinux = None


def fc_type(path, mode):
    if libselinux is None:
        return None
    rc, con = libselinux.matchpathcon(path, mode)
    return con.split(":")[2] if rc == 0 else "<none>"


import stat
if libselinux is not None and fc_path:
    libselinux.matchpathcon_init(fc_path)
for path, mode, ctype in [("/usr/sbin/lxvirtd", stat.S_IFREG, "virtd_exec_t"),
                          ("/usr/local/sbin/lxvirtd", stat.S_IFREG, "virtd_exec_t"),
                          ("/usr/libexec/lxvirt/lxvirt-controller", stat.S_IFREG, "virtd_lxc_exec_t"),
                          ("/usr/local/libexec/lxvirt/lxvirt-controller", stat.S_IFREG, "virtd_lxc_exec_t"),
                          ("/etc/lxvirt/lxvirtd.conf", stat.S_IFREG, "virt_etc_t"),
                          ("/etc/lxvirt/lxc", stat.S_IFDIR, "virt_etc_rw_t"),
                          ("/etc/lxvirt/lxc/web.xml", stat.S_IFREG, "virt_etc_rw_t"),
                          ("/run/lxvirt/lxvirtd-sock", stat.S_IFSOCK, "virt_runtime_t"),
                          ("/run/lxvirt/lxc", stat.S_IFDIR, "virtd_lxc_runtime_t"),
                          ("/run/lxvirt/lxc/web.sock", stat.S_IFSOCK, "virtd_lxc_runtime_t"),
                          ("/var/log/lxvirt/lxc/web.log", stat.S_IFREG, "virt_log_t")]:
    got = fc_type(path, mode)
    if got is None:
        # No libselinux bindings: at least one lxvirt line must match.
        hits = []
        for line in file_contexts.splitlines():
            parts = line.split()
            if len(parts) >= 2 and "lxvirt" in parts[0] and parts[-1].split(":")[2:3] == [ctype]:
                if re.fullmatch(parts[0], path):
                    hits.append(line)
        report(bool(hits), "file context of %s is %s (regex match only: no python3-selinux)" % (path, ctype))
    else:
        report(got == ctype, "file context of %s is %s" % (path, ctype), [] if got == ctype else ["got " + got])
