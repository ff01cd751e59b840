#!/usr/bin/python3
"""Misbehaving clients on the raw socket: the daemon answers or drops only
that client, and a well-behaved libvirt client keeps working throughout."""
import os
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import (KEEPALIVE_PROGRAM, LXC_PROGRAM, REMOTE_PROGRAM, Daemon, check, closed_by_peer,  # noqa: E402
                 decode_error, pack_call, raw_connect, raw_open, recv_packet, run, xdr_string)

try:
    import libvirt
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
except ImportError:
    libvirt = None

VIR_ERR_INTERNAL_ERROR = 1
VIR_ERR_NO_SUPPORT = 3
VIR_ERR_RPC = 39

d = Daemon("[daemon]\nkeepalive_interval=1\nkeepalive_count=2\n")
NAME = "rpc-bad-%d" % os.getpid()


def good_client_works():
    """A complete libvirt (or raw) client session still succeeds."""
    check(d.alive(), "daemon died: " + d.log_text()[-2000:])
    if libvirt:
        c = libvirt.open(d.uri)
        check(c.getType() == "LXC" and isinstance(c.listAllDomains(0), list), "libvirt client")
        c.close()
    else:
        s = raw_open(d.sock)
        s.sendall(pack_call(3, serial=3))
        check(recv_packet(s)[5] == 0, "GET_TYPE")
        s.close()


def test_garbage_bytes_drop_only_that_client():
    s = raw_connect(d.sock)
    s.sendall(b"\xff" * 64 + os.urandom(64))  # the length word is invalid for sure
    check(closed_by_peer(s), "garbage did not close the connection")
    good_client_works()


def test_a_truncated_frame_then_hangup_is_harmless():
    s = raw_connect(d.sock)
    pkt = pack_call(66, serial=1)
    s.sendall(pkt[:10])
    s.close()
    s = raw_connect(d.sock)
    s.sendall(struct.pack(">I", 100) + b"\0" * 50)  # promises 100, sends 54
    s.close()
    good_client_works()


def test_a_64_mib_length_word_is_refused():
    s = raw_connect(d.sock)
    s.sendall(struct.pack(">I", 64 << 20))
    check(closed_by_peer(s), "64 MiB frame not refused")
    good_client_works()


def test_a_length_below_the_header_is_refused():
    s = raw_connect(d.sock)
    s.sendall(struct.pack(">I", 8) + b"\0" * 4)
    check(closed_by_peer(s), "short frame not refused")


def test_an_unknown_program_gets_an_error_reply():
    s = raw_connect(d.sock)
    s.sendall(pack_call(1, serial=9, prog=0x12345678))
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    check(typ == 1 and status == 1 and serial == 9, "not an error reply")
    code, domain, msg = decode_error(payload)
    check(code == VIR_ERR_RPC and "Cannot find program" in msg, msg)
    s.sendall(pack_call(66, serial=10))
    check(recv_packet(s)[5] == 0, "connection unusable after the error")


def test_unknown_procedures_answer_no_support_and_keep_the_connection():
    s = raw_open(d.sock)
    for procnum, name in ((426, "virDomainGetMessages"), (187, "virDomainSnapshotNum"), (99999, None)):
        s.sendall(pack_call(procnum, serial=20))
        prog, vers, proc, typ, serial, status, payload = recv_packet(s)
        code, domain, msg = decode_error(payload)
        check(status == 1 and code == VIR_ERR_NO_SUPPORT, "proc %d: %r" % (procnum, (code, msg)))
        check(msg.startswith("this function is not supported by the connection driver: "), msg)
        if name:
            check(msg.endswith(name), msg)
    s.sendall(pack_call(110, serial=21))  # CONNECT_GET_URI
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    check(status == 0 and payload[4:4 + 13] == b"lxc:///system", payload)


def test_calls_before_connect_open_are_refused():
    s = raw_connect(d.sock)
    s.sendall(pack_call(3, serial=1))
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    code, domain, msg = decode_error(payload)
    check(status == 1 and "connection not open" in msg, msg)


def test_undecodable_arguments_get_an_rpc_error():
    s = raw_open(d.sock)
    s.sendall(pack_call(23, struct.pack(">I", 1000), serial=5))  # string longer than the message
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    code, domain, msg = decode_error(payload)
    check(status == 1 and code == VIR_ERR_RPC, msg)
    s.sendall(pack_call(3, serial=6))
    check(recv_packet(s)[5] == 0, "connection unusable")


def test_a_reply_from_a_client_drops_it():
    s = raw_open(d.sock)
    s.sendall(pack_call(3, serial=7, typ=1))
    check(closed_by_peer(s), "server accepted a REPLY from a client")


def test_stray_stream_packets_are_dropped():
    s = raw_open(d.sock)
    s.sendall(pack_call(201, b"hello", serial=77, typ=3, status=2))
    s.sendall(pack_call(3, serial=8))
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    check(serial == 8 and status == 0, "stream packet was answered or broke the connection")


def test_keepalive_pings_are_answered_with_pongs():
    s = raw_open(d.sock)
    s.sendall(pack_call(1, serial=0, prog=KEEPALIVE_PROGRAM, typ=2))
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    check((prog, proc, typ) == (KEEPALIVE_PROGRAM, 2, 2), "no PONG")


def test_a_silent_keepalive_client_is_pinged_then_dropped():
    s = raw_open(d.sock)
    s.sendall(pack_call(60, struct.pack(">i", 10), serial=3))  # SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    check(status == 0 and struct.unpack(">i", payload)[0] == 1, "keepalive feature")
    s.settimeout(5)
    prog, vers, proc, typ, serial, status, payload = recv_packet(s)
    check((prog, proc, typ) == (KEEPALIVE_PROGRAM, 1, 2), "no PING from the daemon")
    check(closed_by_peer(s, timeout=8), "a client that never answers pings was kept")


def test_a_client_vanishing_mid_stream_leaves_the_console_usable():
    if not libvirt:
        raise AssertionError("python3-libvirt missing")
    c = libvirt.open(d.uri)
    dom = c.defineXML("<domain type='lxc'><name>%s</name><memory unit='MiB'>16</memory></domain>" % NAME)
    dom.create()
    child = subprocess.Popen([sys.executable, "-c", """
import libvirt, os, sys, time
c = libvirt.open(sys.argv[1])
st = c.newStream(0)
c.lookupByName(sys.argv[2]).openConsole(None, st, 0)
st.send(b"x" * 1000)
print("open", flush=True)
time.sleep(0.2)
os._exit(0)   # no finish, no close
""", d.uri, NAME], stdout=subprocess.PIPE, text=True)
    out, _ = child.communicate(timeout=20)
    check(out.strip() == "open", "console client: %r" % out)
    time.sleep(0.3)
    st = c.newStream(0)
    dom.openConsole(None, st, 0)  # not forced: the old session is gone
    st.send(b"again")
    got = b""
    deadline = time.time() + 5
    while b"again" not in got and time.time() < deadline:
        got += st.recv(4096)
    st.finish()
    check(b"again" in got, got)
    dom.destroy()
    dom.undefine()
    c.close()
    good_client_works()


def test_two_hundred_concurrent_connections_are_served():
    socks = [raw_open(d.sock, timeout=20) for _ in range(200)]
    for i, s in enumerate(socks):
        s.sendall(pack_call(3, serial=100 + i))
    for i, s in enumerate(socks):
        prog, vers, proc, typ, serial, status, payload = recv_packet(s)
        check(status == 0 and serial == 100 + i and b"LXC" in payload, "connection %d" % i)
    good_client_works()
    for s in socks:
        s.close()


def test_many_pipelined_calls_on_one_connection_all_get_replies():
    s = raw_open(d.sock)
    n = 500
    s.sendall(b"".join(pack_call(3, serial=1000 + i) for i in range(n)))
    serials = sorted(recv_packet(s)[4] for _ in range(n))
    check(serials == list(range(1000, 1000 + n)), "missing replies")


def test_twenty_thousand_random_packets_get_replies_or_drop_only_their_connection():
    # Seeded: any program, version, type, status and procedure number, with
    # payloads built from XDR-shaped pieces (ints, strings with sane or
    # absurd lengths, domain references, typed-parameter lists) or raw bytes.
    import random
    rnd = random.Random(20261129)

    def piece():
        k = rnd.randrange(6)
        if k == 0:
            return struct.pack(">i", rnd.choice([0, 1, -1, 2, 0x7fffffff, rnd.getrandbits(31)]))
        if k == 1:
            return (xdr_string(rnd.choice(["", "x", "a" * 300, NAME, "lxc:///system"])) if rnd.random() < 0.8
                    else struct.pack(">I", rnd.choice([0xffffffff, 1 << 24, 100000])))
        if k == 2:  # a domain reference: name, uuid, id
            return xdr_string(NAME) + bytes(rnd.getrandbits(8) for _ in range(16)) + struct.pack(">i", -1)
        if k == 3:  # typed parameters
            n = rnd.choice([0, 1, 3, 1000, 0xffffffff])
            out = struct.pack(">I", n)
            for _ in range(min(n, 3)):
                out += xdr_string(rnd.choice(["hard_limit", "cpu_shares", "weight", "x"]))
                out += struct.pack(">i", rnd.randint(-1, 8)) + struct.pack(">q", rnd.getrandbits(62))
            return out
        if k == 4:
            return struct.pack(">q", rnd.getrandbits(63))
        return bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 40)))

    s = raw_open(d.sock)
    replies = drops = 0
    for _ in range(20000):
        prog = rnd.choice([REMOTE_PROGRAM] * 6 + [LXC_PROGRAM, KEEPALIVE_PROGRAM, 0x12345678])
        typ = rnd.choice([0] * 8 + [1, 2, 3, 7])
        status = rnd.choice([0] * 8 + [1, 2])
        wants_reply = prog in (REMOTE_PROGRAM, LXC_PROGRAM) and typ == 0 and status == 0
        proc = rnd.randint(0, 460)
        if prog == REMOTE_PROGRAM and proc == 2:  # CONNECT_CLOSE ends the session: not random
            proc = 3
        pkt = pack_call(proc, b"".join(piece() for _ in range(rnd.randint(0, 4))), serial=rnd.getrandbits(32),
                        prog=prog, typ=typ, status=status, vers=rnd.choice([1] * 9 + [0, 2]))
        try:
            s.sendall(pkt)
            if wants_reply:
                s.settimeout(5)
                r = recv_packet(s)
                check(r[3] == 1 and r[5] in (0, 1), "not a reply: type %d status %d" % (r[3], r[5]))
                if r[5] == 1:
                    decode_error(r[6])
                replies += 1
        except (OSError, EOFError):
            drops += 1
            s.close()
            s = raw_open(d.sock)
    s.close()
    check(replies > 5000, "%d replies, %d dropped connections" % (replies, drops))
    good_client_works()


def test_the_daemon_is_still_healthy():
    good_client_works()
    out = subprocess.run(["ls", "/proc/%d/fd" % d.proc.pid], capture_output=True, text=True).stdout.split()
    check(len(out) < 40, "fd leak: %d fds open" % len(out))


tests = [v for k, v in list(globals().items()) if k.startswith("test_")]
try:
    run(tests)
finally:
    d.stop()
