"""A tiny TAP harness and a private daemon for the interop tests.

Each test is a function; `run(tests)` prints the plan, one ok/not ok line
per test (a failed assertion prints its message as a TAP diagnostic) and
exits non-zero when any failed. Raise Skip("why") to skip with a reason.
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import traceback

VIRSH = "/usr/bin/virsh"


class Skip(Exception):
    pass


def run(tests):
    print("1..%d" % len(tests), flush=True)
    failed = 0
    for i, fn in enumerate(tests, 1):
        name = fn.__name__.replace("_", " ")
        try:
            fn()
            print("ok %d - %s" % (i, name), flush=True)
        except Skip as e:
            print("ok %d - %s # SKIP %s" % (i, name, e), flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported
            failed += 1
            print("not ok %d - %s" % (i, name), flush=True)
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
    sys.exit(1 if failed else 0)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def build_dir():
    return os.environ.get("builddir") or os.getcwd()


class Daemon:
    """fake-lxvirtd (or $LXVIRTD) with --root in a fresh temp dir."""

    def __init__(self, conf=""):
        self.binary = os.environ.get("LXVIRTD") or os.path.join(build_dir(), "tests/interop/fake-lxvirtd")
        if not os.access(self.binary, os.X_OK):
            raise Skip("daemon binary %s not built" % self.binary)
        self.root = tempfile.mkdtemp(prefix="lxvirt-rpc-")
        os.makedirs(os.path.join(self.root, "etc"))
        with open(os.path.join(self.root, "etc/lxvirtd.conf"), "w") as f:
            f.write(conf)
        self.sock = os.path.join(self.root, "run/lxvirtd-sock")
        self.sock_ro = self.sock + "-ro"
        self.uri = "lxc:///system?socket=" + self.sock
        self.ro_uri = "lxc:///system?socket=" + self.sock_ro
        self.log = open(os.path.join(self.root, "daemon.log"), "w")
        self.proc = None
        self.start()

    def start(self):
        self.proc = subprocess.Popen([self.binary, "--root", self.root, "--verbose"],
                                     stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited with %s: %s" % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.sock_ro):
                try:  # a socket file left by a killed daemon does not count
                    raw_connect(self.sock_ro, 1).close()
                    return
                except OSError:
                    pass
            time.sleep(0.02)
        raise AssertionError("daemon did not create its sockets")

    def log_text(self):
        with open(os.path.join(self.root, "daemon.log")) as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.root, ignore_errors=True)


def start_real_daemon(skip_reason, partition):
    """Skips the whole script when `skip_reason` says why; otherwise starts the
    real lxvirtd of the build dir with its containers under `partition`."""
    if skip_reason:
        print("1..0 # SKIP " + skip_reason)
        sys.exit(0)
    os.environ["LXVIRTD"] = os.path.join(build_dir(), "lxvirtd")
    return Daemon("[lxc]\ncgroup_partition=%s\n" % partition)


def virsh(uri, *args, timeout=20, input=None):
    env = dict(os.environ, LC_ALL="C", LANG="C")
    p = subprocess.run([VIRSH, "-c", uri] + list(args), capture_output=True, text=True,
                       timeout=timeout, env=env, input=input)
    return p.returncode, p.stdout, p.stderr


# ---- raw protocol helpers (for misbehaving clients) -----------------------

REMOTE_PROGRAM = 0x20008086
LXC_PROGRAM = 0x00068000
KEEPALIVE_PROGRAM = 0x6B656570


def pack_call(proc, payload=b"", serial=1, prog=REMOTE_PROGRAM, typ=0, status=0, vers=1):
    body = struct.pack(">IIiIII", prog, vers, proc, typ, serial, status) + payload
    return struct.pack(">I", len(body) + 4) + body


def xdr_string(s):
    b = s.encode()
    return struct.pack(">I", len(b)) + b + b"\0" * ((4 - len(b) % 4) % 4)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("connection closed after %d of %d bytes" % (len(buf), n))
        buf += chunk
    return buf


def recv_packet(sock):
    """Returns (prog, vers, proc, type, serial, status, payload)."""
    (length,) = struct.unpack(">I", recv_exact(sock, 4))
    data = recv_exact(sock, length - 4)
    return struct.unpack(">IIiIII", data[:24]) + (data[24:],)


def decode_error(payload):
    code, domain, has_msg = struct.unpack(">iiI", payload[:12])
    msg = None
    if has_msg:
        (n,) = struct.unpack(">I", payload[12:16])
        msg = payload[16:16 + n].decode()
    return code, domain, msg


def raw_connect(path, timeout=5):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    return s


def raw_open(path, timeout=5):
    """A raw client past AUTH_LIST and CONNECT_OPEN."""
    s = raw_connect(path, timeout)
    s.sendall(pack_call(66, serial=1))
    check(recv_packet(s)[5] == 0, "AUTH_LIST failed")
    s.sendall(pack_call(1, struct.pack(">I", 1) + xdr_string("lxc:///system") + struct.pack(">I", 0), serial=2))
    check(recv_packet(s)[5] == 0, "CONNECT_OPEN failed")
    return s


def closed_by_peer(sock, timeout=5):
    """True when the peer closes the connection within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except socket.timeout:
        return False
    except (ConnectionResetError, BrokenPipeError):
        return True
