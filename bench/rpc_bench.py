#!/usr/bin/python3
# RPC benchmark (issue 3 "Numbers"): a private lxvirtd and, when it can be
# started here, the real libvirt LXC driver (libvirtd 9.0), driven IN THE SAME
# RUN with the same busybox domains, the same virsh and python3-libvirt.
#
#   /usr/bin/python3 bench/rpc_bench.py --lxvirtd BUILD/lxvirtd \
#       --controller BUILD/driver/controller/lxvirt-controller [--many 100] [-n 20]
#       [--idle 500] [--no-peer]
#
# Needs root. Everything it creates lives in a temp dir, a private cgroup
# partition for lxvirtd, and (peer) transient lvb* domains under libvirt's
# default /machine partition; all of it is removed at the end, including the
# system dirs libvirtd creates that did not exist before.
import argparse
import ctypes
import os
import resource
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

try:
    import libvirt
except ImportError:
    sys.exit("rpc_bench: run with /usr/bin/python3 (python3-libvirt)")

VIRSH = shutil.which("virsh") or "/usr/bin/virsh"
LIBVIRTD = "/usr/sbin/libvirtd"
LXC_SO = "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_lxc.so"
ENV = dict(os.environ, LC_ALL="C")

libvirt.registerErrorHandler(lambda ctx, err: None, None)


def log(*a):
    print("#", *a, file=sys.stderr, flush=True)


def now():
    return time.perf_counter()


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def p90(xs):
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(0.9 * (len(s) - 1) + 0.5))]


# ---- inotify on the host side of the /ready bind mount -----------------------
class Ready:
    IN_CREATE = 0x100

    def __init__(self, path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self.fd < 0 or self.libc.inotify_add_watch(self.fd, path.encode(), self.IN_CREATE) < 0:
            raise OSError(ctypes.get_errno(), "inotify")
        self.seen = set()
        self.path = path

    def drain(self):
        while True:
            try:
                buf = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            i = 0
            while i < len(buf):
                _, _, _, ln = struct.unpack_from("iIII", buf, i)
                self.seen.add(buf[i + 16:i + 16 + ln].rstrip(b"\0").decode())
                i += 16 + ln

    def wait(self, name, timeout=20.0):
        import select
        end = now() + timeout
        while name not in self.seen:
            left = end - now()
            if left <= 0:
                return False
            select.select([self.fd], [], [], min(left, 0.1))
            self.drain()
        return True

    def forget(self, name):
        self.seen.discard(name)
        try:
            os.unlink(os.path.join(self.path, name))
        except FileNotFoundError:
            pass


def make_rootfs(d):
    for sub in ("bin", "sbin", "proc", "sys", "dev", "tmp", "run", "ready"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(d, "bin/busybox"))
    for a in ("sh", "sleep"):
        os.symlink("busybox", os.path.join(d, "bin", a))
    init = os.path.join(d, "sbin/benchinit")
    with open(init, "w") as f:
        f.write("#!/bin/sh\ntrap 'exit 0' TERM\n: > /ready/$LIBVIRT_LXC_NAME\n"
                "while :; do sleep 100000 & wait $!; done\n")
    os.chmod(init, 0o755)


def domain_xml(name, rootfs, ready):
    return f"""<domain type='lxc'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type>exe</type><init>/sbin/benchinit</init></os>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <filesystem type='mount'><source dir='{rootfs}'/><target dir='/'/><readonly/></filesystem>
    <filesystem type='mount'><source dir='{ready}'/><target dir='/ready'/></filesystem>
    <console type='pty'/>
  </devices>
</domain>
"""


def wait_socket(uri, proc, timeout=10.0):
    end = now() + timeout
    while now() < end:
        if proc is not None and proc.poll() is not None:
            return False
        r = subprocess.run([VIRSH, "-q", "-c", uri, "uri"], env=ENV, capture_output=True)
        if r.returncode == 0:
            return True
        time.sleep(0.05)
    return False


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ms(pid):
    """CPU time all threads of pid have used so far (schedstat, ns precision)."""
    total = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total / 1e6


def smaps_kib(pid):
    """Resident KiB per mapping ("libc.so.6 r-xp", "[anon] rw-p" ...), from /proc/PID/smaps."""
    out, name = {}, None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            w = line.split()
            if not w[0].endswith(":") and "-" in w[0] and len(w) >= 5:
                name = (os.path.basename(w[5]) if len(w) > 5 else "[anon]") + " " + w[1]
            elif w[0] == "Rss:":
                out[name] = out.get(name, 0) + int(w[1])
    return out


# ---- the two daemons ---------------------------------------------------------
class Lxvirtd:
    label = "lxvirt"

    def __init__(self, binary, controller, tmp):
        self.root = os.path.join(tmp, "lxvirtd")
        os.makedirs(self.root)
        self.partition = f"/lxvirt-rpcbench-{os.getpid()}"
        conf = os.path.join(self.root, "lxvirtd.conf")
        with open(conf, "w") as f:
            f.write(f"[lxc]\ncontroller={controller}\ncgroup_partition={self.partition}\nautostart=false\n")
        self.proc = subprocess.Popen([binary, "--root", self.root, "--config", conf],
                                     stdout=open(os.path.join(tmp, "lxvirtd.out"), "w"),
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.uri = f"lxc:///system?socket={self.root}/run/lxvirtd-sock"
        if not wait_socket(self.uri, self.proc):
            self.stop()
            raise RuntimeError("lxvirtd did not answer; see " + os.path.join(tmp, "lxvirtd.out"))
        self.pid = self.proc.pid
        self.prefix = "lvb-lx-"

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # Containers survive a daemon stop by design; the benchmark has
        # destroyed its own before, so only empty partition dirs remain.
        for c in os.listdir("/sys/fs/cgroup"):
            p = f"/sys/fs/cgroup/{c}{self.partition}"
            if os.path.isdir(p):
                try:
                    os.rmdir(p)
                except OSError as e:
                    log(f"cannot remove {p}: {e}")


class Peer:
    """libvirtd 9.0 with only the LXC driver, private sockets/config."""
    label = "libvirt"
    # Checked after the run in case a private-namespace mount failed to hide one.
    SYS_DIRS = ["/run/libvirt", "/etc/libvirt/lxc", "/var/log/libvirt", "/etc/libvirt/nwfilter",
                "/etc/libvirt/secrets", "/etc/libvirt/storage"]

    @staticmethod
    def unavailable():
        if not os.access(LIBVIRTD, os.X_OK):
            return "libvirtd not installed: apt-get install libvirt-daemon libvirt-daemon-driver-lxc"
        if not os.path.exists(LXC_SO):
            return "libvirt-daemon-driver-lxc not installed"
        return None

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "peer")
        for d in ("drivers", "run", "log"):
            os.makedirs(os.path.join(self.dir, d))
        # What libvirtd may create on the host: remember so that stop() removes only ours.
        self.existed = {p: os.path.exists(p) for p in self.SYS_DIRS}
        self.cg_existed = {c: os.path.isdir(f"/sys/fs/cgroup/{c}/machine") for c in os.listdir("/sys/fs/cgroup")}
        # Only the LXC connection driver: the QEMU one aborts start-up without its user.
        os.symlink(LXC_SO, os.path.join(self.dir, "drivers", os.path.basename(LXC_SO)))
        conf = os.path.join(self.dir, "libvirtd.conf")
        with open(conf, "w") as f:
            f.write(f'unix_sock_dir = "{self.dir}/run"\nunix_sock_rw_perms = "0700"\n'
                    'unix_sock_ro_perms = "0777"\nunix_sock_admin_perms = "0700"\n'
                    'auth_unix_rw = "none"\nauth_unix_ro = "none"\nlisten_tls = 0\nlisten_tcp = 0\n'
                    f'max_clients = 5000\nmax_workers = 20\nlog_outputs = "3:file:{self.dir}/log/libvirtd.log"\n')
        self.pidfile = os.path.join(self.dir, "libvirtd.pid")
        for d in ("etc", "varlog"):
            os.makedirs(os.path.join(self.dir, d))
        # libvirtd runs in a private mount namespace so that its hard-coded
        # system dirs (/run/libvirt, /etc/libvirt/lxc, /var/log/libvirt/lxc ...)
        # are private dirs of this run: the host's are never touched. Its
        # libvirt_lxc controllers and containers inherit that namespace.
        # libvirt 9.0 also turns on its cgroup-v2 backend when the hybrid
        # cgroup2 mount lists any controller, then fails to create the
        # container's cgroup there: that mount is hidden in the namespace too.
        try:
            ctrls = open("/sys/fs/cgroup/unified/cgroup.controllers").read().strip()
        except OSError:
            ctrls = ""
        script = "set -e\n"
        if ctrls:
            script += "umount /sys/fs/cgroup/unified\n"
        script += (f"mount -t tmpfs -o mode=0755 lvbench /run\n"
                   f"mount --bind {self.dir}/etc /etc/libvirt\n"
                   f"mount --bind {self.dir}/varlog /var/log\n"
                   "for d in /var/lib/libvirt /var/cache/libvirt; do\n"
                   "  [ -d $d ] && mount -t tmpfs lvbench $d\n"
                   "done\n"
                   'exec "$@"\n')
        cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
               LIBVIRTD, "--config", conf, "--pid-file", self.pidfile]
        env = dict(ENV, LIBVIRT_DRIVER_DIR=os.path.join(self.dir, "drivers"))
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=open(os.path.join(self.dir, "log", "stdout"), "w"),
                                     stderr=subprocess.STDOUT, start_new_session=True)
        self.uri = f"lxc:///system?socket={self.dir}/run/libvirt-sock"
        if not wait_socket(self.uri, self.proc, 20):
            self.stop()
            raise RuntimeError("libvirtd did not answer; see " + self.dir + "/log")
        self.pid = self.proc.pid   # unshare/sh exec in place
        self.prefix = "lvb-lv-"

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            try:
                c = libvirt.open(self.uri)
                for d in c.listAllDomains():
                    if d.name().startswith(self.prefix):
                        try:
                            d.destroy()
                        except libvirt.libvirtError:
                            pass
                c.close()
            except libvirt.libvirtError:
                pass
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # libvirt leaves NAME.{sock,pid,xml,dev...} in /run/libvirt/lxc and logs.
        for d in ("/run/libvirt/lxc", "/var/log/libvirt/lxc"):
            if os.path.isdir(d):
                for n in os.listdir(d):
                    if n.startswith(self.prefix):
                        p = os.path.join(d, n)
                        if os.path.isdir(p) and not os.path.islink(p):
                            try:
                                os.rmdir(p)
                            except OSError as e:
                                log(f"kept {p}: {e}")
                        else:
                            os.unlink(p)
        for c, had in self.cg_existed.items():
            base = f"/sys/fs/cgroup/{c}/machine"
            if not os.path.isdir(base):
                continue
            for n in os.listdir(base):
                if self.prefix in n and os.path.isdir(os.path.join(base, n)):
                    try:
                        os.rmdir(os.path.join(base, n))
                    except OSError as e:
                        log(f"kept cgroup {base}/{n}: {e}")
            if not had:
                try:
                    os.rmdir(base)
                except OSError as e:
                    log(f"kept {base}: {e}")
        # System dirs libvirtd created (deepest first), only if nothing else is in them.
        for p in self.SYS_DIRS:
            if not self.existed[p] and os.path.isdir(p):
                subprocess.run(["find", p, "-depth", "-type", "d", "-empty", "-delete"])
                if os.path.exists(p):
                    left = subprocess.run(["find", p, "-type", "f"], capture_output=True, text=True).stdout
                    if left.strip():
                        log(f"kept {p}: {left.split()[0]} ...")


# ---- measurements ------------------------------------------------------------
def virsh_ms(uri, *args, n=20):
    out = []
    for _ in range(n):
        t = now()
        r = subprocess.run([VIRSH, "-q", "-c", uri, *args], env=ENV, capture_output=True)
        out.append((now() - t) * 1000)
        if r.returncode != 0:
            raise RuntimeError(f"virsh {' '.join(args)}: {r.stderr.decode().strip()}")
    return out


def bench_daemon(d, a, tmp, rootfs, ready_dir, ready):
    R = {}
    conn = libvirt.open(d.uri)
    R["uri_ms"] = med(virsh_ms(d.uri, "uri", n=a.n))

    # start/destroy with nothing else running: virsh, then the API.
    xmlpath = os.path.join(tmp, f"{d.prefix}one.xml")
    vs, vd, api_s, api_r, api_d = [], [], [], [], []
    for i in range(a.n):
        name = f"{d.prefix}v{i}"
        with open(xmlpath, "w") as f:
            f.write(domain_xml(name, rootfs, ready_dir))
        t = now()
        subprocess.run([VIRSH, "-q", "-c", d.uri, "create", xmlpath], env=ENV, check=True, capture_output=True)
        vs.append((now() - t) * 1000)
        ready.wait(name)
        t = now()
        subprocess.run([VIRSH, "-q", "-c", d.uri, "destroy", name], env=ENV, check=True, capture_output=True)
        vd.append((now() - t) * 1000)
        ready.forget(name)
    for i in range(a.n):
        name = f"{d.prefix}a{i}"
        t = now()
        dom = conn.createXML(domain_xml(name, rootfs, ready_dir), 0)
        api_s.append((now() - t) * 1000)
        ready.wait(name)
        api_r.append((now() - t) * 1000)
        t = now()
        dom.destroy()
        api_d.append((now() - t) * 1000)
        ready.forget(name)
    R.update(virsh_start_ms=med(vs), virsh_destroy_ms=med(vd), api_start_ms=med(api_s),
             api_start_p90_ms=p90(api_s), api_ready_ms=med(api_r), api_destroy_ms=med(api_d))

    # MANY running.
    doms = []
    t = now()
    for i in range(a.many):
        doms.append(conn.createXML(domain_xml(f"{d.prefix}m{i}", rootfs, ready_dir), 0))
    R["many_start_s"] = now() - t
    for i in range(a.many):
        if not ready.wait(f"{d.prefix}m{i}"):
            log(f"{d.label}: {d.prefix}m{i} not ready")
    R["many_ready_s"] = now() - t
    time.sleep(0.5)
    R["running"] = conn.numOfDomains()
    # With both daemons at MANY running, main() measures `virsh list` and
    # dom.info() for the two in alternation (measure_shared), so that both
    # see the same machine; then this resumes.
    yield conn, doms, R
    R["rss_kib"] = rss_kib(d.pid)
    if a.smaps:
        R["smaps"] = smaps_kib(d.pid)

    # Idle connections: open them, hold them, then check the daemon answers.
    held = []
    t = now()
    try:
        for _ in range(a.idle):
            held.append(libvirt.open(d.uri))
    except libvirt.libvirtError as e:
        log(f"{d.label}: connection {len(held) + 1} refused: {e.get_error_message()}")
    R["idle_open_s"] = now() - t
    R["idle_held"] = len(held)
    answers = 0
    try:
        if held and held[0].getURI() and held[-1].getURI():
            answers += 1
    except libvirt.libvirtError as e:
        log(f"{d.label}: held connection dead: {e.get_error_message()}")
    try:
        fresh = libvirt.open(d.uri)
        fresh.lookupByName(f"{d.prefix}m0").info()
        fresh.close()
        answers += 1
    except libvirt.libvirtError as e:
        log(f"{d.label}: fresh connection failed with {len(held)} held: {e.get_error_message()}")
    R["idle_answers"] = answers == 2
    R["rss_idle_kib"] = rss_kib(d.pid)
    for c in held:
        try:
            c.close()
        except libvirt.libvirtError:
            pass

    md = []
    for i, dom in enumerate(doms):
        t = now()
        dom.destroy()
        md.append((now() - t) * 1000)
        ready.forget(f"{d.prefix}m{i}")
    R["many_destroy_ms"] = med(md)
    conn.close()
    return R


def measure_shared(running, a):
    """running: [(daemon, conn, doms, R)], each at MANY running. virsh list
    alternated with virsh uri (the difference is what serving the listing
    costs beyond virsh's own start-up, connect and teardown: the daemon's
    part), and dom.info() in 0.5 s slices taking turns, 3 s per daemon."""
    lst = {id(x[0]): [] for x in running}
    uri = {id(x[0]): [] for x in running}
    cpu = {id(x[0]): [] for x in running}
    for _ in range(a.n):
        for d, _c, _doms, _R in running:
            c0 = cpu_ms(d.pid)
            lst[id(d)] += virsh_ms(d.uri, "list", "--all", n=1)
            cpu[id(d)].append(cpu_ms(d.pid) - c0)
            uri[id(d)] += virsh_ms(d.uri, "uri", n=1)
    ops = {id(x[0]): 0 for x in running}
    spent = {id(x[0]): 0.0 for x in running}
    for _ in range(6):
        for d, _c, doms, _R in running:
            i, t = 0, now()
            while now() - t < 0.5:
                doms[i % len(doms)].info()
                i += 1
            spent[id(d)] += now() - t
            ops[id(d)] += i
    for d, _c, _doms, R in running:
        R["list_ms"] = med(lst[id(d)])
        R["list_net_ms"] = med([x - y for x, y in zip(lst[id(d)], uri[id(d)])])
        R["list_cpu_ms"] = med(cpu[id(d)])
        R["info_ops"] = ops[id(d)] / spent[id(d)]


ROWS = [
    ("virsh uri (client floor)", "uri_ms", "ms", "{:.1f}"),
    ("virsh create (start)", "virsh_start_ms", "ms", "{:.1f}"),
    ("virsh destroy", "virsh_destroy_ms", "ms", "{:.1f}"),
    ("API createXML return p50", "api_start_ms", "ms", "{:.2f}"),
    ("API createXML return p90", "api_start_p90_ms", "ms", "{:.2f}"),
    ("API createXML -> ready file", "api_ready_ms", "ms", "{:.2f}"),
    ("API destroy (1 running)", "api_destroy_ms", "ms", "{:.2f}"),
    ("{many} sequential API starts", "many_start_s", "s", "{:.2f}"),
    ("... until all ready", "many_ready_s", "s", "{:.2f}"),
    ("running domains", "running", "", "{}"),
    ("virsh list --all, {many} running", "list_ms", "ms", "{:.1f}"),
    ("... minus virsh uri (the daemon's part)", "list_net_ms", "ms", "{:.1f}"),
    ("... CPU the daemon used for it", "list_cpu_ms", "ms", "{:.2f}"),
    ("dom.info() over {many} domains", "info_ops", "ops/s", "{:.0f}"),
    ("daemon RSS, {many} running", "rss_kib", "KiB", "{}"),
    ("idle connections held ({idle} opened)", "idle_held", "", "{}"),
    ("... opening them took", "idle_open_s", "s", "{:.2f}"),
    ("... daemon answers afterwards", "idle_answers", "", "{}"),
    ("daemon RSS with them held", "rss_idle_kib", "KiB", "{}"),
    ("API destroy (of {many} running)", "many_destroy_ms", "ms", "{:.2f}"),
]


def report(lx, pv, peer_reason, a):
    def cell(R, key, fmt):
        if R is None:
            return f"n/a ({peer_reason})"
        v = R.get(key)
        return "n/a" if v is None else fmt.format(v)
    print(f"\n| measure | lxvirt | libvirt 9.0 peer | lxvirt/peer |")
    print("|---|---|---|---|")
    for label, key, unit, fmt in ROWS:
        ratio = ""
        if pv is not None and isinstance(lx.get(key), (int, float)) and not isinstance(lx.get(key), bool) \
                and pv.get(key):
            ratio = f"{lx[key] / pv[key]:.2f}"
        u = f" {unit}" if unit else ""
        label = label.format(many=a.many, idle=a.idle)
        print(f"| {label} | {cell(lx, key, fmt)}{u} | {cell(pv, key, fmt)}{u if pv else ''} | {ratio} |")

    def mark(ok):
        return "met" if ok else "NOT met"
    print("\nIssue 3 targets:")
    print(f"  virsh list --all with {a.many} running <= 15 ms: {lx['list_ms']:.1f} ms -> {mark(lx['list_ms'] <= 15)}")
    net = f"  ... minus virsh uri (the daemon's part): {lx['list_net_ms']:.1f} ms"
    if pv is not None:
        net += f" vs libvirt {pv['list_net_ms']:.1f} ms"
        if pv["list_net_ms"] > 0:
            net += f" = {lx['list_net_ms'] / pv['list_net_ms']:.2f}x"
    print(net)
    cpu = f"  ... of which the daemon's CPU: {lx['list_cpu_ms']:.2f} ms"
    if pv is not None:
        cpu += f" vs libvirt {pv['list_cpu_ms']:.2f} ms"
    print(cpu + " (the rest is virsh's own client side and the wake-ups between)")
    if pv is not None:
        r = lx["info_ops"] / pv["info_ops"]
        print(f"  dom.info() >= 3x libvirt: {lx['info_ops']:.0f} vs {pv['info_ops']:.0f} ops/s = {r:.2f}x -> "
              f"{mark(r >= 3)}")
    else:
        print(f"  dom.info() >= 3x libvirt: {lx['info_ops']:.0f} ops/s; peer n/a ({peer_reason}); "
              f"vs the issue's 7,500 ops/s: {lx['info_ops'] / 7500:.2f}x")
    print(f"  daemon RSS <= 8 MB with {a.many} running: {lx['rss_kib']} KiB -> {mark(lx['rss_kib'] <= 8192)}")
    print(f"  {a.idle} idle connections held: {lx['idle_held']} held, answers afterwards {lx['idle_answers']} -> "
          f"{mark(lx['idle_held'] >= a.idle and lx['idle_answers'])}")
    if a.smaps:
        for label, R in (("lxvirt", lx), ("libvirt 9.0 peer", pv)):
            if R is None or "smaps" not in R:
                continue
            m = R["smaps"]
            print(f"\nResident KiB per mapping, {label}, {a.many} running (total {sum(m.values())}):")
            for k in sorted(m, key=lambda k: -m[k]):
                if m[k] >= 16:
                    print(f"  {m[k]:6d} {k}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lxvirtd", required=True)
    ap.add_argument("--controller", required=True)
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--many", type=int, default=100)
    ap.add_argument("--idle", type=int, default=500)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--peer-first", action="store_true")
    ap.add_argument("--smaps", action="store_true", help="print each daemon's resident KiB per mapping")
    a = ap.parse_args()
    if os.geteuid() != 0:
        print("rpc_bench: SKIPPED (needs root)")
        return 77
    # 500 clients + 100 consoles: lift the fd limit for us and the daemons we start.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))

    with open("/proc/loadavg") as f:
        print(f"rpc_bench {time.strftime('%Y-%m-%d %H:%M:%S %Z')}, load average {f.read().strip()}")
    tmp = tempfile.mkdtemp(prefix="lxvirt-rpcbench-")
    os.chmod(tmp, 0o755)
    rootfs, ready_dir = os.path.join(tmp, "rootfs"), os.path.join(tmp, "ready")
    make_rootfs(rootfs)
    os.makedirs(ready_dir)
    ready = Ready(ready_dir)

    peer_reason = "--no-peer" if a.no_peer else Peer.unavailable()
    results = {}
    order = ["peer", "lxvirt"] if a.peer_first else ["lxvirt", "peer"]
    daemons = []
    running = []
    interrupted = []
    signal.signal(signal.SIGTERM, lambda *x: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        for which in order:
            if which == "peer" and peer_reason:
                continue
            try:
                d = Lxvirtd(a.lxvirtd, a.controller, tmp) if which == "lxvirt" else Peer(tmp)
            except RuntimeError as e:
                if which == "peer":
                    peer_reason = str(e)
                    continue
                raise
            daemons.append(d)
            log(f"{d.label}: {d.uri} pid {d.pid}")
            g = bench_daemon(d, a, tmp, rootfs, ready_dir, ready)
            conn, doms, R = next(g)
            running.append((which, d, g, conn, doms, R))
        measure_shared([(d, conn, doms, R) for _w, d, _g, conn, doms, R in running], a)
        for which, d, g, _conn, _doms, _R in running:
            try:
                g.send(None)
            except StopIteration as done:
                results[which] = done.value
            d.stop()
            daemons.remove(d)
    except KeyboardInterrupt:
        interrupted.append(1)
    finally:
        for d in daemons:
            # destroy what is left of ours before stopping the daemon
            try:
                c = libvirt.open(d.uri)
                for dom in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                    if dom.name().startswith(d.prefix):
                        dom.destroy()
                c.close()
            except libvirt.libvirtError:
                pass
            d.stop()
        subprocess.run(["umount", "-R", rootfs], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)
    if interrupted or "lxvirt" not in results:
        return 1
    report(results["lxvirt"], results.get("peer"), peer_reason, a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
