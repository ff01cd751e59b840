#!/usr/bin/python3
"""python3-libvirt against a private lxvirtd (fake driver): host calls,
the domain API, lifecycle events, refusals, and calls running in parallel."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import Daemon, check, run  # noqa: E402

try:
    import libvirt
except ImportError:
    print("1..0 # SKIP python3-libvirt is not installed (run with /usr/bin/python3)")
    sys.exit(0)

PREFIX = "rpc-py-%d-" % os.getpid()
DELAY_MS = 400


def xml(name, uuid=None):
    u = "<uuid>%s</uuid>" % uuid if uuid else ""
    return ("<domain type='lxc'><name>%s</name>%s<memory unit='MiB'>32</memory>"
            "<os><type>exe</type><init>/bin/sh</init></os></domain>" % (name, u))


libvirt.registerErrorHandler(lambda ctx, err: None, None)
libvirt.virEventRegisterDefaultImpl()
stop_loop = False


def event_loop():
    while not stop_loop:
        libvirt.virEventRunDefaultImpl()


threading.Thread(target=event_loop, daemon=True).start()

d = Daemon("[fake]\ncreate_delay_ms=%d\n" % DELAY_MS)
conn = libvirt.open(d.uri)


def expect_error(code, fn, *args):
    try:
        fn(*args)
    except libvirt.libvirtError as e:
        check(e.get_error_code() == code, "expected error %d, got %d: %s" % (code, e.get_error_code(), e))
        return e
    raise AssertionError("%s succeeded, expected error %d" % (fn.__name__, code))


def test_host_calls_answer():
    check(conn.getType() == "LXC", conn.getType())
    check(conn.getVersion() > 0, "version")
    check(conn.getLibVersion() >= 9000000, "lib version")
    check(conn.getHostname() == os.uname().nodename, conn.getHostname())
    check("<os_type>exe</os_type>" in conn.getCapabilities(), "capabilities")
    info = conn.getInfo()
    check(info[0] == "x86_64" and info[2] == 2, str(info))
    check(conn.getSecurityModel() == ["none", "0"], str(conn.getSecurityModel()))
    check(conn.getFreeMemory() > 0, "free memory")
    check(conn.isSecure() == 1 and conn.isAlive() == 1, "secure/alive")


def test_domain_api_round_trip():
    dom = conn.defineXML(xml(PREFIX + "api"))
    check(dom.name() == PREFIX + "api" and len(dom.UUIDString()) == 36, dom.name())
    check(conn.lookupByUUIDString(dom.UUIDString()).name() == dom.name(), "lookup by uuid")
    check(not dom.isActive() and dom.isPersistent() and dom.ID() == -1, "inactive")
    dom.create()
    dom = conn.lookupByName(PREFIX + "api")
    check(dom.isActive() and dom.ID() > 0, "id after start")
    check(conn.lookupByID(dom.ID()).name() == dom.name(), "lookup by id")
    state, maxmem, mem, ncpu, cputime = dom.info()
    check(state == libvirt.VIR_DOMAIN_RUNNING and maxmem == 32768 and ncpu == 1, str(dom.info()))
    check(dom.state() == [libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_RUNNING_BOOTED], str(dom.state()))
    check(dom.OSType() == "exe" and dom.maxMemory() == 32768, "os type / max memory")
    check(dom.hostname() == dom.name(), dom.hostname())
    check(dom.schedulerType() == ("posix", 3), str(dom.schedulerType()))
    dom.setSchedulerParameters({"cpu_shares": 2048})
    check(dom.schedulerParameters()["cpu_shares"] == 2048, str(dom.schedulerParameters()))
    dom.setMemoryParameters({"soft_limit": 10240}, 0)
    check(dom.memoryParameters(0)["soft_limit"] == 10240, str(dom.memoryParameters(0)))
    dom.setBlkioParameters({"weight": 300}, 0)
    check(dom.blkioParameters(0)["weight"] == 300, str(dom.blkioParameters(0)))
    check(dom.memoryStats()["actual"] == 32768, str(dom.memoryStats()))
    check(dom.getCPUStats(True)[0]["cpu_time"] == 1000000, str(dom.getCPUStats(True)))
    check(dom.securityLabel() == ["", 0], str(dom.securityLabel()))
    check(dom.hasManagedSaveImage() == 0, "managed save")
    check(dom.isUpdated() == 0, "updated")
    dom.setAutostart(1)
    check(dom.autostart() == 1, "autostart")
    names = [x.name() for x in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_AUTOSTART)]
    check(names == [dom.name()], str(names))
    dom.setAutostart(0)
    check(conn.numOfDomains() >= 1 and dom.ID() in conn.listDomainsID(), "ids")
    dom.destroy()
    check(dom.name() in conn.listDefinedDomains() and conn.numOfDefinedDomains() >= 1, "defined list")
    dom.undefine()
    expect_error(libvirt.VIR_ERR_NO_DOMAIN, conn.lookupByName, PREFIX + "api")


def test_transient_domains_vanish_when_stopped():
    dom = conn.createXML(xml(PREFIX + "transient"), 0)
    check(dom.isActive() and not dom.isPersistent(), "transient running")
    dom.destroy()
    expect_error(libvirt.VIR_ERR_NO_DOMAIN, conn.lookupByName, PREFIX + "transient")


def test_lifecycle_events_reach_every_registered_client():
    other = libvirt.open(d.uri)
    seen, seen_other = [], []
    got = threading.Event()

    def cb(c, dom, event, detail, sink):
        sink.append((dom.name(), event, detail))
        got.set()

    cb1 = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, seen)
    cb2 = other.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, seen_other)
    reboots = []
    cb3 = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT,
                                      lambda c, dom, o: reboots.append(dom.name()), None)
    name = PREFIX + "events"
    dom = conn.defineXML(xml(name))
    dom.create()
    dom.suspend()
    dom.resume()
    dom.reboot(0)
    dom.destroy()
    dom.undefine()
    want = [(name, libvirt.VIR_DOMAIN_EVENT_DEFINED, libvirt.VIR_DOMAIN_EVENT_DEFINED_ADDED),
            (name, libvirt.VIR_DOMAIN_EVENT_STARTED, libvirt.VIR_DOMAIN_EVENT_STARTED_BOOTED),
            (name, libvirt.VIR_DOMAIN_EVENT_SUSPENDED, libvirt.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
            (name, libvirt.VIR_DOMAIN_EVENT_RESUMED, libvirt.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED),
            (name, libvirt.VIR_DOMAIN_EVENT_STOPPED, libvirt.VIR_DOMAIN_EVENT_STOPPED_DESTROYED),
            (name, libvirt.VIR_DOMAIN_EVENT_UNDEFINED, libvirt.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)]
    deadline = time.time() + 5
    while time.time() < deadline and (len(seen) < len(want) or len(seen_other) < len(want)):
        time.sleep(0.05)
    check(seen == want, "events on the calling connection: %r" % seen)
    check(seen_other == want, "events on the other connection: %r" % seen_other)
    check(reboots == [name], "reboot events: %r" % reboots)
    conn.domainEventDeregisterAny(cb1)
    conn.domainEventDeregisterAny(cb3)
    other.domainEventDeregisterAny(cb2)
    seen.clear()
    conn.defineXML(xml(PREFIX + "quiet")).undefine()
    time.sleep(0.3)
    check(seen == [], "events after deregistering: %r" % seen)
    other.close()


def test_event_ids_virt_manager_asks_for_are_accepted():
    ids = [13, 10, 15, 19, 18, 23]
    cbs = [conn.domainEventRegisterAny(None, i, lambda *a: None, None) for i in ids]
    for c in cbs:
        conn.domainEventDeregisterAny(c)


def test_unsupported_apis_answer_no_support():
    dom = conn.defineXML(xml(PREFIX + "nosup"))
    try:
        e = expect_error(libvirt.VIR_ERR_NO_SUPPORT, dom.snapshotNum, 0)
        check("not supported by the connection driver: virDomainSnapshotNum" in str(e), str(e))
        expect_error(libvirt.VIR_ERR_NO_SUPPORT, conn.listAllStoragePools, 0)
        expect_error(libvirt.VIR_ERR_NO_SUPPORT, conn.listAllNetworks, 0)
        expect_error(libvirt.VIR_ERR_NO_SUPPORT, conn.numOfNetworks)
        expect_error(libvirt.VIR_ERR_NO_SUPPORT, conn.listDevices, None, 0)
        expect_error(libvirt.VIR_ERR_NO_SUPPORT, conn.getAllDomainStats, 11, 0)
        expect_error(libvirt.VIR_ERR_NO_SUPPORT, conn.getDomainCapabilities)
        expect_error(libvirt.VIR_ERR_NO_SUPPORT, dom.listAllSnapshots, 0)
        check(conn.isAlive() == 1, "connection dropped after refusals")
    finally:
        dom.undefine()


def test_read_only_socket_denies_changes_but_answers_queries():
    ro = libvirt.open(d.ro_uri)  # not openReadOnly: the daemon must refuse, not the client
    e = expect_error(libvirt.VIR_ERR_OPERATION_DENIED, ro.defineXML, xml(PREFIX + "ro"))
    check("read only access prevents virDomainDefineXML" in str(e), str(e))
    check(ro.getType() == "LXC", "queries on ro")
    ro.listAllDomains(0)
    expect_error(libvirt.VIR_ERR_NO_DOMAIN, conn.lookupByName, PREFIX + "ro")
    ro.close()
    rro = libvirt.openReadOnly(d.uri)
    expect_error(libvirt.VIR_ERR_OPERATION_DENIED, rro.defineXML, xml(PREFIX + "ro"))
    rro.close()


def test_read_only_socket_refuses_secure_xml_but_gives_plain_xml():
    dom = conn.defineXML(xml(PREFIX + "rosec"))
    try:
        ro = libvirt.open(d.ro_uri)  # the client library does not know it is read-only
        try:
            rdom = ro.lookupByName(PREFIX + "rosec")
            check("<name>%srosec</name>" % PREFIX in rdom.XMLDesc(0), "plain XML on ro")
            e = expect_error(libvirt.VIR_ERR_OPERATION_DENIED, rdom.XMLDesc, libvirt.VIR_DOMAIN_XML_SECURE)
            check("virDomainGetXMLDesc with secure flag" in str(e), str(e))
            check(e.get_error_domain() == libvirt.VIR_FROM_DOMAIN, "domain %d" % e.get_error_domain())
        finally:
            ro.close()
        check("<name>" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE), "secure XML on rw")
    finally:
        dom.undefine()


def _timed_parallel(fns):
    results = [None] * len(fns)

    def wrap(i, fn):
        try:
            results[i] = fn()
        except Exception as e:  # noqa: BLE001
            results[i] = e
    threads = [threading.Thread(target=wrap, args=(i, f)) for i, f in enumerate(fns)]
    t0 = time.time()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.time() - t0, results


def test_calls_on_different_domains_run_in_parallel():
    c1, c2 = libvirt.open(d.uri), libvirt.open(d.uri)
    a = conn.defineXML(xml(PREFIX + "par-a"))
    b = conn.defineXML(xml(PREFIX + "par-b"))
    try:
        elapsed, res = _timed_parallel([lambda: c1.lookupByName(a.name()).create(),
                                        lambda: c2.lookupByName(b.name()).create()])
        check(all(r == 0 for r in res), str(res))
        check(elapsed < 1.7 * DELAY_MS / 1000, "two starts took %.3fs (delay %dms each)" % (elapsed, DELAY_MS))
    finally:
        for dom in (a, b):
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        c1.close()
        c2.close()


def test_calls_on_one_domain_are_serialised():
    c1, c2 = libvirt.open(d.uri), libvirt.open(d.uri)
    a = conn.defineXML(xml(PREFIX + "ser"))
    try:
        def start():
            c1.lookupByName(a.name()).create()
            return "started"

        def info_later():
            dom = c2.lookupByName(a.name())
            time.sleep(DELAY_MS / 4000)  # after the start is queued
            return dom.info()[0]
        elapsed, res = _timed_parallel([start, info_later])
        # info() waited for the start job of the same domain, so it sees the result.
        check(res == ["started", libvirt.VIR_DOMAIN_RUNNING], str(res))
    finally:
        if a.isActive():
            a.destroy()
        a.undefine()
        c1.close()
        c2.close()


def test_info_throughput():
    dom = conn.defineXML(xml(PREFIX + "perf"))
    try:
        n, t0 = 0, time.time()
        while time.time() - t0 < 1.0:
            dom.info()
            n += 1
        rate = n / (time.time() - t0)
        print("# dom.info(): %.0f calls/s on one connection" % rate)
        check(rate > 1000, "dom.info() only %.0f/s" % rate)
    finally:
        dom.undefine()


def test_close_drops_event_callbacks_and_the_daemon_lives_on():
    c = libvirt.open(d.uri)
    c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lambda *a: None, None)
    c.close()
    conn.defineXML(xml(PREFIX + "after")).undefine()
    check(d.alive() and conn.getType() == "LXC", "daemon died: " + d.log_text()[-2000:])


tests = [v for k, v in list(globals().items()) if k.startswith("test_")]
try:
    run(tests)
finally:
    stop_loop = True
    try:
        conn.close()
    except libvirt.libvirtError:
        pass
    d.stop()
