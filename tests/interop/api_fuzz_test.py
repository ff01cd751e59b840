#!/usr/bin/python3
"""Random libvirt API calls with random arguments and randomly broken domain
XML against the real lxvirtd, with real containers (seeded, time-bounded).
What is checked: the daemon answers throughout and afterwards; every refusal
is a libvirt error of the expected kind (no protocol errors, no raw system
errors, no internal errors but a failed start); and once the domains are
gone nothing is left: no cgroup, controller, mount or run-dir file. Needs
root. SECONDS (default 6 per seed) and SEEDS (default 1,2,3) tune it."""
import os
import random
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, run, start_real_daemon, virsh, build_dir  # noqa: E402

try:
    import libvirt
except ImportError:
    print("1..0 # SKIP python3-libvirt is not installed (run with /usr/bin/python3)")
    sys.exit(0)

BIN = os.path.join(build_dir(), "lxvirtd")
INIT = os.path.join(build_dir(), "tests/init")
SECONDS = float(os.environ.get("SECONDS_PER_SEED", "6"))
SEEDS = [int(x) for x in os.environ.get("SEEDS", "1,2,3").split(",")]
PARTITION = "/lxvirt-test-fuzz-%d" % os.getpid()
PREFIX = "fuzz%d-" % os.getpid()


def skip_reason():
    if os.geteuid() != 0:
        return "needs root"
    for f in (BIN, INIT):
        if not os.access(f, os.X_OK):
            return f + " not built"
    return None


d = start_real_daemon(skip_reason(), PARTITION)
rootfs = os.path.join(d.root, "rootfs")
for sub in ("sbin", "proc", "sys", "dev", "tmp", "mnt", "x"):
    os.makedirs(os.path.join(rootfs, sub), exist_ok=True)
shutil.copy(INIT, os.path.join(rootfs, "sbin/init"))
libvirt.registerErrorHandler(lambda *a: None, None)

EXTRAS = ["", "<memtune><hard_limit unit='KiB'>{n}</hard_limit></memtune>",
          "<memtune><soft_limit>{n}</soft_limit><swap_hard_limit>{n}</swap_hard_limit></memtune>",
          "<cputune><shares>{n}</shares><period>{n}</period><quota>{q}</quota></cputune>",
          "<blkiotune><weight>{n}</weight><device><path>/dev/null</path><weight>{n}</weight></device></blkiotune>",
          "<features><capabilities policy='{pol}'><sys_admin state='on'/><{cap} state='off'/></capabilities></features>",
          "<idmap><uid start='0' target='{n}' count='{n}'/><gid start='0' target='{n}' count='{n}'/></idmap>",
          "<resource><partition>{part}</partition></resource>", "<on_reboot>{act}</on_reboot>",
          "<seclabel type='{sec}'/>", "<clock offset='{clk}'/>", "<title>{s}</title>", "<description>{s}</description>"]
DEVS = ["", "<filesystem type='ram'><source usage='{n}' units='KiB'/><target dir='/tmp'/></filesystem>",
        "<filesystem type='bind'><source dir='/nonexistent{n}'/><target dir='/mnt'/></filesystem>",
        "<filesystem type='file'><source file='/nonexistent'/><target dir='/x'/></filesystem>",
        "<hostdev mode='capabilities' type='misc'><source><char>/dev/null</char></source></hostdev>",
        "<interface type='network'><source network='default'/></interface>",
        "<console type='pty'/><console type='pty'/>"]
MEMKEYS = ["hard_limit", "soft_limit", "swap_hard_limit", "min_guarantee"]
SCHEDKEYS = ["cpu_shares", "vcpu_period", "vcpu_quota", "emulator_period"]
BLKKEYS = ["weight", "device_weight", "device_read_bytes_sec", "device_write_iops_sec"]


class Fuzzer:
    def __init__(self, seed):
        self.rnd = random.Random(seed)
        self.conn = libvirt.open(d.uri)
        self.names = ["%s%d-%d" % (PREFIX, seed, i) for i in range(4)]
        self.bad = []  # (code, message) of errors that should not happen
        self.calls = 0

    def rint(self):
        return self.rnd.choice([0, 1, -1, 2, 100, 1000, 65536, 1 << 31, (1 << 63) - 1, self.rnd.getrandbits(20)])

    def rstr(self):
        return self.rnd.choice(["", "x", "a b", "&amp;", "../..", "/", "\u00e9", "a" * 300, "-1", "0x10"])

    def xml(self, name):
        r = self.rnd
        fill = dict(n=self.rint(), q=r.choice([-1, 0, 1000, self.rint()]),
                    pol=r.choice(["default", "allow", "deny", "x"]),
                    cap=r.choice(["mknod", "sys_time", "nonsense", "chown"]),
                    part=r.choice([PARTITION, PARTITION + "/sub", "machine", "/../x", PARTITION + "/.."]),
                    act=r.choice(["restart", "destroy", "preserve", "bogus"]),
                    sec=r.choice(["none", "dynamic", "static", "x"]), clk=r.choice(["utc", "localtime", "x"]),
                    s=self.rstr())
        extra = "".join(r.choice(EXTRAS).format(**fill) for _ in range(r.randint(0, 3)))
        dev = "".join(r.choice(DEVS).format(**fill) for _ in range(r.randint(0, 2)))
        x = ("<domain type='lxc'><name>%s</name><memory unit='KiB'>%d</memory>%s<vcpu%s>%d</vcpu>"
             "<os><type>exe</type><init>/sbin/init</init><initarg>%s</initarg></os>%s<devices>"
             "<filesystem type='mount'><source dir='%s'/><target dir='/'/>%s</filesystem>%s"
             "<console type='pty'/></devices></domain>") % (
            name, r.choice([65536, 1, 0, self.rint()]),
            r.choice(["", "<currentMemory>%d</currentMemory>" % self.rint()]),
            r.choice(["", " cpuset='0'", " cpuset='9'", " cpuset='x'"]), r.choice([1, 2, 0, 99]),
            r.choice(["sleep", "sleep", "exit"]), extra, rootfs, r.choice(["", "<readonly/>"]), dev)
        if r.random() < 0.15:  # break it somewhere
            i = r.randrange(len(x))
            x = x[:i] + r.choice(["<", ">", "'", "", "&", "<x/>"]) + x[i + 1:]
        return x

    def params(self, keys, kinds):
        return {self.rnd.choice(keys): self.rnd.choice(kinds)() for _ in range(self.rnd.randint(0, 3))}

    def op(self):
        r = self.rnd
        k = r.randrange(28)
        flags = r.choice([0, 0, 1, 2, 3, 4, 8, 0xffffffff, r.getrandbits(16)])
        if k < 3:
            return self.conn.defineXML(self.xml(r.choice(self.names)))
        if k == 3:
            return self.conn.createXML(self.xml(r.choice(self.names)), r.choice([0, 0, 1, 4]))
        try:
            dom = self.conn.lookupByName(r.choice(self.names))
        except libvirt.libvirtError:
            return None
        ops = [lambda: dom.create(), lambda: dom.createWithFlags(flags), lambda: dom.destroy(),
               lambda: dom.destroyFlags(flags), lambda: dom.undefine(), lambda: dom.undefineFlags(flags),
               lambda: dom.shutdown(), lambda: dom.reboot(flags), lambda: dom.suspend(), lambda: dom.resume(),
               lambda: dom.info(), lambda: dom.state(flags), lambda: dom.XMLDesc(flags),
               lambda: dom.setAutostart(r.choice([0, 1, 2, -1])), lambda: dom.setMemoryFlags(self.rint(), flags),
               lambda: dom.setMaxMemory(self.rint()),
               lambda: dom.setMemoryParameters(self.params(MEMKEYS, [self.rint]), flags),
               lambda: dom.setSchedulerParametersFlags(self.params(SCHEDKEYS, [self.rint]), flags),
               lambda: dom.setBlkioParameters(self.params(BLKKEYS, [self.rint, lambda: "/dev/null,%d" % self.rint()]),
                                              flags),
               lambda: dom.getCPUStats(True), lambda: dom.memoryStats(), lambda: dom.securityLabel(),
               lambda: dom.memoryParameters(flags), lambda: dom.schedulerParametersFlags(flags)]
        return ops[(k - 4) % len(ops)]()

    def expected(self, e):
        code, msg = e.get_error_code(), str(e)
        if code == libvirt.VIR_ERR_RPC:
            return False
        if code == libvirt.VIR_ERR_SYSTEM_ERROR:
            # A limit the kernel refuses now (memory below the usage), as libvirt reports it.
            return "Device or resource busy" in msg
        if code == libvirt.VIR_ERR_INTERNAL_ERROR:
            return "guest failed to start" in msg or "missing domain type attribute" in msg
        return True

    def go(self, seconds):
        until = time.time() + seconds
        while time.time() < until:
            try:
                self.op()
            except libvirt.libvirtError as e:
                if not self.expected(e):
                    self.bad.append((e.get_error_code(), str(e)[:300]))
            except (TypeError, OverflowError, ValueError, LookupError):
                pass  # refused by the python binding itself
            self.calls += 1

    def clean(self):
        for name in self.names:
            try:
                dom = self.conn.lookupByName(name)
                if dom.isActive():
                    dom.destroy()
                if dom.isPersistent():
                    dom.undefine()
            except libvirt.libvirtError:
                pass
        self.conn.close()


def leftovers():
    out = []
    for ctl in os.listdir("/sys/fs/cgroup"):
        base = "/sys/fs/cgroup/%s%s" % (ctl, PARTITION)
        for dirpath, dirnames, _ in os.walk(base):
            out += [os.path.join(dirpath, x) for x in dirnames if x.endswith(".lxc")]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if b"lxvirt-controller" in cmd and PREFIX.encode() in cmd:
            out.append("controller " + pid)
    with open("/proc/self/mountinfo") as f:
        out += [line.split()[4] for line in f if d.root in line.split()[4]]
    run_lxc = os.path.join(d.root, "run/lxc")
    out += [x for x in os.listdir(run_lxc) if x.startswith(PREFIX)] if os.path.isdir(run_lxc) else []
    return out


def make_test(seed):
    def test():
        f = Fuzzer(seed)
        try:
            f.go(SECONDS)
        finally:
            f.clean()
        check(d.alive(), "the daemon died: " + d.log_text()[-2000:])
        rc, out, err = virsh(d.uri, "list", "--all")
        check(rc == 0, "virsh list after the calls: " + err)
        check(not f.bad, "%d calls; unexpected errors: %r" % (f.calls, f.bad[:5]))
        left = []
        for _ in range(100):  # destroyed containers are gone when destroy returns; transient ones a moment later
            left = leftovers()
            if not left:
                break
            time.sleep(0.05)
        check(not left, "left behind: %r" % left[:10])
    test.__name__ = "test_seed_%d_random_calls_get_libvirt_errors_and_leave_nothing" % seed
    return test


try:
    run([make_test(s) for s in SEEDS])
finally:
    d.stop()
    for ctl in os.listdir("/sys/fs/cgroup"):
        for sub in (PARTITION + "/sub", PARTITION):
            try:
                os.rmdir("/sys/fs/cgroup/%s%s" % (ctl, sub))
            except OSError:
                pass
