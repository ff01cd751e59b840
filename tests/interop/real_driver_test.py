#!/usr/bin/python3
"""The real lxvirtd (LXC driver, real containers from a busybox rootfs)
driven by virsh: start 10, SIGKILL the daemon, start it again, and the 10
are still listed running; console and destroy still work. Needs root."""
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Skip, check, run, start_real_daemon, virsh, build_dir  # noqa: E402

N = 10
PREFIX = "rpc-real-%d-" % os.getpid()
PARTITION = "/lxvirt-test-rpc-%d" % os.getpid()
BIN = os.path.join(build_dir(), "lxvirtd")


def skip_reason():
    if os.geteuid() != 0:
        return "needs root"
    if not os.access(BIN, os.X_OK):
        return "lxvirtd not built"
    if not shutil.which("busybox") and not os.path.exists("/bin/busybox"):
        return "busybox-static not installed"
    return None


d = start_real_daemon(skip_reason(), PARTITION)
rootfs = os.path.join(d.root, "rootfs")


def make_rootfs(path):
    """busybox-static plus an init that runs the lines typed on its console."""
    bb = shutil.which("busybox") or "/bin/busybox"
    for sub in ("bin", "sbin", "etc", "proc", "sys", "dev", "tmp", "run", "root"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    shutil.copy(bb, os.path.join(path, "bin/busybox"))
    applets = subprocess.run([bb, "--list"], capture_output=True, text=True).stdout.split()
    for a in applets:
        link = os.path.join(path, "bin", a)
        if not os.path.exists(link):
            os.symlink("busybox", link)
    with open(os.path.join(path, "sbin/init"), "w") as f:
        f.write("#!/bin/sh\ntrap 'exit 0' TERM\necho rpc test init ready\n"
                "while :; do if read -r line; then eval \"$line\"; else sleep 1000 & wait $!; fi; done\n")
    os.chmod(os.path.join(path, "sbin/init"), 0o755)


make_rootfs(rootfs)


def domain_xml(name):
    return """<domain type='lxc'>
  <name>%s</name>
  <memory unit='MiB'>32</memory>
  <os><type>exe</type><init>/sbin/init</init></os>
  <devices>
    <filesystem type='mount'><source dir='%s'/><target dir='/'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
""" % (name, rootfs)


def ok_virsh(*args):
    rc, out, err = virsh(d.uri, *args, timeout=60)
    check(rc == 0, "virsh %s: %s" % (" ".join(args), err.strip()))
    return out


def running_names():
    out = ok_virsh("list", "--name")
    return sorted(l.strip() for l in out.splitlines() if l.strip().startswith(PREFIX))


def test_ten_domains_start():
    probe = os.path.join(d.root, "probe.xml")
    with open(probe, "w") as f:
        f.write(domain_xml(PREFIX + "0"))
    ok_virsh("define", probe)
    rc, out, err = virsh(d.uri, "start", PREFIX + "0", timeout=60)
    if rc != 0:
        raise Skip("this host cannot start containers with the LXC driver: " + err.strip())
    for i in range(1, N):
        path = os.path.join(d.root, "d%d.xml" % i)
        with open(path, "w") as f:
            f.write(domain_xml(PREFIX + str(i)))
        ok_virsh("define", path)
        ok_virsh("start", PREFIX + str(i))
    check(len(running_names()) == N, str(running_names()))


def test_they_survive_a_sigkilled_daemon():
    if len(running_names()) != N:
        raise Skip("no containers running")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    d.start()
    names = running_names()
    check(len(names) == N, "after restart: %r" % names)
    info = ok_virsh("dominfo", PREFIX + "3")
    check("running" in info, info)


def test_console_still_works_after_the_restart():
    if len(running_names()) != N:
        raise Skip("no containers running")
    pid, fd = pty.fork()
    if pid == 0:
        os.execv("/usr/bin/virsh", ["virsh", "-c", d.uri, "console", PREFIX + "5"])
    out = b""
    end = time.time() + 10
    sent = False
    while time.time() < end and b"console-check-42" not in out:
        r, _, _ = select.select([fd], [], [], 0.1)
        if r:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
        if b"Escape character" in out and not sent:
            time.sleep(0.2)
            os.write(fd, b"echo console-check-$((40+2))\r")
            sent = True
    os.write(fd, b"\x1d")
    for _ in range(50):
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            break
        time.sleep(0.1)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(fd)
    check(b"console-check-42" in out, out[-500:])


def test_destroy_and_undefine_after_the_restart():
    for i in range(N):
        name = PREFIX + str(i)
        rc, out, err = virsh(d.uri, "domstate", name)
        if rc == 0 and "running" in out:
            ok_virsh("destroy", name)
        if rc == 0:
            ok_virsh("undefine", name)
    check(running_names() == [], str(running_names()))


def cleanup():
    for i in range(N):
        virsh(d.uri, "destroy", PREFIX + str(i))
        virsh(d.uri, "undefine", PREFIX + str(i))
    d.stop()
    # The partition is ours; controllers may still be releasing the last
    # container cgroups for a moment after destroy returns.
    deadline = time.time() + 10
    while True:
        left = []
        for ctrl in os.listdir("/sys/fs/cgroup"):
            path = os.path.join("/sys/fs/cgroup", ctrl, PARTITION.lstrip("/"))
            if not os.path.isdir(path):
                continue
            subs = sorted((os.path.join(p, x) for p, ds, _ in os.walk(path) for x in ds), reverse=True)
            for sub in subs + [path]:
                try:
                    os.rmdir(sub)
                except OSError:
                    left.append(sub)
        if not left or time.time() > deadline:
            break
        time.sleep(0.2)
    if left:
        print("# could not remove cgroups: %s" % " ".join(left))


try:
    run([test_ten_domains_start, test_they_survive_a_sigkilled_daemon, test_console_still_works_after_the_restart,
         test_destroy_and_undefine_after_the_restart])
finally:
    cleanup()
