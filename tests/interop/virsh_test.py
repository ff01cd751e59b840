#!/usr/bin/python3
"""The real /usr/bin/virsh against a private lxvirtd (fake driver): every
command of the peer table, checked as a user reads its output."""
import os
import pty
import select
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Daemon, Skip, check, run, virsh  # noqa: E402

NAME = "rpc-virsh-%d" % os.getpid()
XML = """<domain type='lxc'>
  <name>%s</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type><init>/bin/sh</init></os>
  <devices><console type='pty'/></devices>
</domain>
""" % NAME

if not os.access("/usr/bin/virsh", os.X_OK):
    print("1..0 # SKIP /usr/bin/virsh is not installed")
    sys.exit(0)

d = Daemon()
xml_path = os.path.join(d.root, "dom.xml")
with open(xml_path, "w") as f:
    f.write(XML)


def ok_virsh(*args, uri=None):
    rc, out, err = virsh(uri or d.uri, *args)
    check(rc == 0, "virsh %s failed (%d): %s" % (" ".join(args), rc, err.strip()))
    return out


def field(out, key):
    for line in out.splitlines():
        if ":" in line and line.split(":", 1)[0].strip() == key:
            return line.split(":", 1)[1].strip()
    raise AssertionError("no %r in %r" % (key, out))


def test_connect_accepts_both_lxc_uri_forms():
    check(ok_virsh("uri").strip() == d.uri, "uri")
    check(ok_virsh("uri", uri="lxc:///?socket=" + d.sock).strip() == "lxc:///?socket=" + d.sock, "lxc:///")


def test_define_creates_a_shut_off_domain():
    out = ok_virsh("define", xml_path)
    check("Domain '%s' defined" % NAME in out, out)


def test_list_all_shows_the_domain_shut_off():
    out = ok_virsh("list", "--all")
    line = [l for l in out.splitlines() if NAME in l]
    check(line and "shut off" in line[0] and line[0].split()[0] == "-", out)


def test_start_runs_it():
    out = ok_virsh("start", NAME)
    check("Domain '%s' started" % NAME in out, out)
    check(ok_virsh("domstate", NAME).strip() == "running", "domstate after start")


def test_list_shows_it_running_with_an_id():
    out = ok_virsh("list")
    line = [l for l in out.splitlines() if NAME in l]
    check(line and "running" in line[0] and line[0].split()[0].isdigit(), out)


def test_dominfo_reads_like_libvirts():
    out = ok_virsh("dominfo", NAME)
    check(field(out, "Name") == NAME, out)
    check(field(out, "OS Type") == "exe", out)
    check(field(out, "State") == "running", out)
    check(field(out, "Max memory") == "65536 KiB", out)
    check(field(out, "Persistent") == "yes", out)
    check(field(out, "Managed save") == "no", out)
    check(field(out, "Security model") == "none", out)


def test_dumpxml_shows_the_live_definition():
    out = ok_virsh("dumpxml", NAME)
    check("<name>%s</name>" % NAME in out and "id='" in out and "<alias name='console0'/>" in out, out)
    inactive = ok_virsh("dumpxml", "--inactive", NAME)
    check("id='" not in inactive, inactive)


def test_schedinfo_lists_posix_parameters():
    out = ok_virsh("schedinfo", NAME)
    check(field(out, "Scheduler") == "posix" and field(out, "cpu_shares") == "1024", out)
    ok_virsh("schedinfo", NAME, "--set", "cpu_shares=512")
    check(field(ok_virsh("schedinfo", NAME), "cpu_shares") == "512", "cpu_shares not changed")


def test_memtune_shows_and_sets_limits():
    out = ok_virsh("memtune", NAME)
    check(field(out, "hard_limit") == "unlimited", out)
    ok_virsh("memtune", NAME, "--hard-limit", "131072")
    check(field(ok_virsh("memtune", NAME), "hard_limit") == "131072", "hard_limit not set")


def test_setmem_changes_used_memory():
    ok_virsh("setmem", NAME, "32M")
    check(field(ok_virsh("dominfo", NAME), "Used memory") == "32768 KiB", "setmem")


def test_autostart_toggles():
    ok_virsh("autostart", NAME)
    check(field(ok_virsh("dominfo", NAME), "Autostart") == "enable", "autostart")
    ok_virsh("autostart", "--disable", NAME)
    check(field(ok_virsh("dominfo", NAME), "Autostart") == "disable", "autostart --disable")


def test_suspend_and_resume():
    ok_virsh("suspend", NAME)
    check(ok_virsh("domstate", NAME).strip() == "paused", "paused")
    ok_virsh("resume", NAME)
    check(ok_virsh("domstate", "--reason", NAME).strip() == "running (unpaused)", "resumed")


def _console_session(extra_args=()):
    pid, fd = pty.fork()
    if pid == 0:
        os.execv("/usr/bin/virsh", ["virsh", "-c", d.uri, "console"] + list(extra_args) + [NAME])
    out = b""

    def read_for(secs, until=None):
        nonlocal out
        end = time.time() + secs
        while time.time() < end:
            if until and until in out:
                return
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    out += os.read(fd, 4096)
                except OSError:
                    return
    return pid, fd, read_for, lambda: out


def test_console_echoes_and_ctrl_close_bracket_exits():
    pid, fd, read_for, output = _console_session()
    read_for(5, b"fake console of")
    check(b"Connected to domain" in output() and b"fake console of " + NAME.encode() in output(), output())
    os.write(fd, b"ping-through-console\r")
    read_for(5, b"ping-through-console")
    check(b"ping-through-console" in output(), output())
    os.write(fd, b"\x1d")
    deadline = time.time() + 5
    status = None
    while time.time() < deadline:
        read_for(0.1)
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            status = st
            break
    os.close(fd)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        raise AssertionError("virsh console did not exit on Ctrl-]: %r" % output())
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "exit status %r" % status)


def test_console_can_be_reopened_after_a_session():
    pid, fd, read_for, output = _console_session()
    read_for(5, b"fake console of")
    check(b"fake console of" in output(), output())
    os.write(fd, b"\x1d")
    read_for(1)
    os.waitpid(pid, 0)
    os.close(fd)


def test_lxc_enter_namespace_runs_a_command_inside():
    rc, out, err = virsh(d.uri, "lxc-enter-namespace", NAME, "--noseclabel", "/bin/sh", "-c",
                         "echo inside-$(readlink /proc/self/ns/uts)")
    check(rc == 0, err)
    check("inside-uts:[" in out, out)


def test_unknown_domains_are_reported_not_found():
    rc, out, err = virsh(d.uri, "dominfo", "no-such-domain")
    check(rc != 0 and "failed to get domain 'no-such-domain'" in err, err)


def test_read_only_socket_refuses_changes():
    out = ok_virsh("list", "--all", uri=d.ro_uri)
    check(NAME in out, out)
    rc, out, err = virsh(d.ro_uri, "destroy", NAME)
    check(rc != 0 and "read only access prevents virDomainDestroy" in err, err)
    check(ok_virsh("domstate", NAME).strip() == "running", "domain changed through the ro socket")


def test_a_wrong_uri_path_is_refused_like_libvirt():
    rc, out, err = virsh("lxc:///session?socket=" + d.sock, "list")
    check(rc != 0 and "Unexpected LXC URI path '/session', try lxc:///system" in err, err)


def test_destroy_stops_it():
    out = ok_virsh("destroy", NAME)
    check("Domain '%s' destroyed" % NAME in out, out)
    check(ok_virsh("domstate", "--reason", NAME).strip() == "shut off (destroyed)", "state after destroy")


def test_console_of_a_stopped_domain_fails():
    rc, out, err = virsh(d.uri, "console", NAME, timeout=10)
    check(rc != 0, "console on a stopped domain succeeded")


def test_undefine_removes_it():
    out = ok_virsh("undefine", NAME)
    check("Domain '%s' has been undefined" % NAME in out, out)
    check(NAME not in ok_virsh("list", "--all"), "still listed")


def test_daemon_survived_everything():
    check(d.alive(), "daemon died: " + d.log_text()[-2000:])


tests = [v for k, v in list(globals().items()) if k.startswith("test_")]
try:
    run(tests)
finally:
    d.stop()
