#!/usr/bin/python3
"""lxvirtd's process shell (run over the fake driver): options, the instance
lock, --daemon and the pid file, SIGHUP reload, SIGTERM shutdown."""
import os
import signal
import subprocess
import sys
import tempfile
import time
import shutil

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Daemon, check, raw_open, pack_call, recv_packet, run, virsh  # noqa: E402

BIN = os.environ.get("LXVIRTD") or os.path.join(os.environ.get("builddir") or os.getcwd(),
                                                "tests/interop/fake-lxvirtd")


def wait_for(pred, secs=10):
    deadline = time.time() + secs
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(0.02)
    return False


def test_version_and_help():
    p = subprocess.run([BIN, "--version"], capture_output=True, text=True)
    check(p.returncode == 0 and p.stdout.startswith("lxvirtd (lxvirt) "), p.stdout)
    p = subprocess.run([BIN, "--help"], capture_output=True, text=True)
    for opt in ("--config", "--root", "--listen", "--daemon", "--pid-file", "--verbose", "--virtlxcd-compat"):
        check(opt in p.stdout, "%s missing from --help" % opt)
    p = subprocess.run([BIN, "--no-such-option"], capture_output=True, text=True)
    check(p.returncode == 2, "bad option exit %d" % p.returncode)


def test_root_puts_everything_under_the_directory_with_modes():
    d = Daemon()
    try:
        run_dir = os.path.join(d.root, "run")
        check(oct(os.stat(d.sock).st_mode & 0o777) == "0o600", "rw socket mode")
        check(oct(os.stat(d.sock_ro).st_mode & 0o777) == "0o666", "ro socket mode")
        for sub in ("run/lxvirtd.lock", "run/lxvirtd.pid", "run/lxc", "etc/lxc", "log/lxc"):
            check(os.path.exists(os.path.join(d.root, sub)), sub + " missing")
        with open(os.path.join(run_dir, "lxvirtd.pid")) as f:
            check(int(f.read()) == d.proc.pid, "pid file")
    finally:
        d.stop()


def test_one_instance_per_root():
    d = Daemon()
    try:
        p = subprocess.run([BIN, "--root", d.root], capture_output=True, text=True, timeout=10)
        check(p.returncode == 1 and "already running" in p.stderr, p.stderr)
        check(os.path.exists(d.sock) and d.alive(), "the first instance was disturbed")
        rc, out, err = virsh(d.uri, "list")
        check(rc == 0, err)
    finally:
        d.stop()


def test_sigterm_exits_cleanly_and_removes_the_sockets():
    d = Daemon()
    try:
        d.proc.send_signal(signal.SIGTERM)
        check(d.proc.wait(10) == 0, "exit status %s" % d.proc.returncode)
        check(not os.path.exists(d.sock) and not os.path.exists(d.sock_ro), "sockets left behind")
        check(not os.path.exists(os.path.join(d.root, "run/lxvirtd.pid")), "pid file left behind")
    finally:
        d.stop()


def test_sighup_reloads_the_configuration():
    d = Daemon("[daemon]\nlog_level=info\n")
    try:
        with open(os.path.join(d.root, "etc/lxvirtd.conf"), "w") as f:
            f.write("[daemon]\nlog_level=error\n")
        d.proc.send_signal(signal.SIGHUP)
        check(wait_for(lambda: "configuration reloaded" in d.log_text()), "no reload: " + d.log_text())
        with open(os.path.join(d.root, "etc/lxvirtd.conf"), "w") as f:
            f.write("[daemon]\nlog_level=nonsense\n")
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        check(d.alive(), "a bad reload killed the daemon")
        rc, out, err = virsh(d.uri, "list")
        check(rc == 0, err)
    finally:
        d.stop()


def test_daemon_mode_detaches_after_listening():
    root = tempfile.mkdtemp(prefix="lxvirt-rpc-")
    pidfile = os.path.join(root, "custom.pid")
    try:
        p = subprocess.run([BIN, "--root", root, "--daemon", "--pid-file", pidfile], timeout=10)
        check(p.returncode == 0, "parent exit %d" % p.returncode)
        sock = os.path.join(root, "run/lxvirtd-sock")
        check(os.path.exists(sock), "socket not ready when the parent returned")
        with open(pidfile) as f:
            pid = int(f.read())
        s = raw_open(sock)
        s.sendall(pack_call(3, serial=3))
        check(b"LXC" in recv_packet(s)[6], "GET_TYPE")
        s.close()
        check(os.path.exists(os.path.join(root, "log/lxvirtd.log")), "no log file in daemon mode")
        os.kill(pid, signal.SIGTERM)
        check(wait_for(lambda: not os.path.exists("/proc/%d" % pid) or
                       open("/proc/%d/stat" % pid).read().split()[2] == "Z"), "daemon did not exit")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_listen_and_a_bad_config_file():
    root = tempfile.mkdtemp(prefix="lxvirt-rpc-")
    try:
        conf = os.path.join(root, "bad.conf")
        with open(conf, "w") as f:
            f.write("this is not a key file\n")
        p = subprocess.run([BIN, "--root", root, "--config", conf], capture_output=True, text=True, timeout=10)
        check(p.returncode == 1 and "cannot load" in p.stderr, p.stderr)
        p = subprocess.run([BIN, "--root", root, "--config", os.path.join(root, "missing.conf")],
                           capture_output=True, text=True, timeout=10)
        check(p.returncode == 1, "missing --config file accepted")
        sock = os.path.join(root, "my.sock")
        proc = subprocess.Popen([BIN, "--root", root, "--listen", sock], stderr=subprocess.DEVNULL)
        try:
            check(wait_for(lambda: os.path.exists(sock + "-ro")), "--listen sockets not created")
            rc, out, err = virsh("lxc:///system?socket=" + sock, "list")
            check(rc == 0, err)
        finally:
            proc.terminate()
            proc.wait(10)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_busy_polling_stops_when_the_calls_stop():
    # busy_poll_us (default 50): the main loop polls without sleeping only
    # while calls come back to back; afterwards an idle daemon sleeps.
    for conf in ("", "[daemon]\nbusy_poll_us=0\n", "[daemon]\nbusy_poll_us=10000\n"):
        d = Daemon(conf)
        try:
            s = raw_open(d.sock)
            for serial in range(1, 3001):
                s.sendall(pack_call(3, serial=serial))  # CONNECT_GET_TYPE
                check(b"LXC" in recv_packet(s)[6], "GET_TYPE %d" % serial)
            time.sleep(0.2)
            before = cpu_ticks(d.proc.pid)
            time.sleep(1.0)
            used = cpu_ticks(d.proc.pid) - before
            hz = os.sysconf("SC_CLK_TCK")
            check(used * 1000 // hz <= 50, "%r: the idle daemon used %d ms of CPU in 1 s" % (conf, used * 1000 // hz))
            s.close()
        finally:
            d.stop()


run([v for k, v in list(globals().items()) if k.startswith("test_")])
