// The production wiring of the LXC driver: real containers (driver/lxc/
// container.cc) and host facts (driver/host). A separate object file so that
// unit tests, which inject a fake Runtime, link without either.
#include "driver/host/host_probe.h"
#include "driver/lxc/driver_internal.h"
#include "xml/capabilities.h"

#include <numeric>

namespace lxvirt::lxc {

namespace {

host::ProbeOptions probeOptions(const DriverConfig &config, const security::SecurityManager &sec)
{
    host::ProbeOptions opts;
    opts.emulator = config.paths.controller_binary;
    opts.secmodel = sec.model();
    opts.baselabel = sec.baseLabel();
    return opts;
}

} // namespace

Runtime realRuntime(const DriverConfig &config)
{
    Runtime rt;
    // Throws for security_driver='selinux' on a host without SELinux: the
    // daemon must not run containers unconfined that were meant confined.
    security::SecurityConfig sc;
    sc.driver = config.security_driver;
    std::shared_ptr<security::SecurityManager> sec = security::createSecurityManager(sc);
    rt.security = sec;
    rt.start = [sec](const DomainDef &def, const Paths &paths, Container::ExitCallback on_exit) {
        // def is the live definition: generate() has filled its labels.
        StartSecurity ss;
        security::ExecLabel exec = sec->execLabel(def);
        ss.exec_label = exec.label();
        ss.exec_label_fatal = exec.failureIsFatal();
        ss.mount_options = sec->mountOptions(def);
        return Container::start(def, paths, std::move(on_exit), nullptr, ss);
    };
    rt.reconnect = [](const DomainDef &def, const RunState &state, const Paths &paths,
                      Container::ExitCallback on_exit) {
        return Container::reconnect(def, state, paths, std::move(on_exit));
    };
    rt.cleanupStale = [](const DomainDef &def, const RunState &state, const Paths &paths) {
        Container::cleanupStale(def, state, paths);
    };
    host::ProbeOptions opts = probeOptions(config, *sec);
    rt.capabilities = [opts] { return formatCapabilities(host::probeHostCapabilities(opts)); };
    rt.nodeInfo = [opts] {
        HostCapabilities caps = host::probeHostCapabilities(opts);
        NodeInfo n;
        n.model = caps.arch.substr(0, 31);
        n.nodes = int(caps.cells ? caps.cells : 1);
        n.memory_kib = caps.memory_kib;
        unsigned cpus = std::accumulate(caps.cpus_per_cell.begin(), caps.cpus_per_cell.end(), 0u);
        n.sockets = int(caps.sockets);
        n.cores = int(caps.cores);
        n.threads = int(caps.threads);
        n.cpus = int(cpus ? cpus : caps.sockets * caps.cores * caps.threads * caps.cells);
        n.mhz = 0; // filled in by the driver from /proc/cpuinfo
        return n;
    };
    rt.securityModel = [sec] {
        return sec->model() == "none" ? SecurityModel{"none", ""} : SecurityModel{sec->model(), sec->doi()};
    };
    return rt;
}

std::unique_ptr<DomainDriver> createDriver(const DriverConfig &config)
{
    return createDriverWith(config, realRuntime(config));
}

} // namespace lxvirt::lxc
