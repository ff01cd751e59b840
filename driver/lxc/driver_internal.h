// Seams of the LXC driver that only its own code and its unit tests use:
// the container runtime and host facts are injected, so the registry,
// persistence, state machine and events can be tested without real
// containers (tests/unit/lxc_driver_test.cc).
#pragma once

#include "driver/domain_driver.h"
#include "driver/lxc/container.h"
#include "driver/lxc/driver.h"
#include "driver/security/security_manager.h"

#include <functional>
#include <memory>
#include <string>

namespace lxvirt::lxc {

struct Runtime {
    std::function<std::unique_ptr<Container>(const DomainDef &, const Paths &, Container::ExitCallback)>
        start;
    std::function<std::unique_ptr<Container>(const DomainDef &, const RunState &, const Paths &,
                                             Container::ExitCallback)>
        reconnect;
    std::function<void(const DomainDef &, const RunState &, const Paths &)> cleanupStale;

    // Host facts. Any left empty falls back to the driver's own probe of
    // uname(2) / sysconf / /proc (capabilities: VIR_ERR_NO_SUPPORT).
    std::function<std::string()> capabilities;
    std::function<NodeInfo()> nodeInfo;
    std::function<uint64_t()> nodeFreeMemory; // bytes
    std::function<SecurityModel()> securityModel;

    // The sVirt manager (one per daemon: it keeps dynamic pairs unique).
    // Left empty, the driver runs every container unconfined (model none).
    // The real runtime's start() asks it for the exec label and mount
    // context of the labels the driver generated into the live definition.
    std::shared_ptr<security::SecurityManager> security;
};

// The runtime backed by Container::start/reconnect/cleanupStale and the host
// probe (driver/lxc/runtime_real.cc). Kept out of driver.cc so that unit tests
// link without the container runtime.
Runtime realRuntime(const DriverConfig &config);

std::unique_ptr<DomainDriver> createDriverWith(const DriverConfig &config, Runtime runtime);

// Parses uname's release ("6.18.0-1-amd64") the way libvirt's
// virStringParseVersion(allowMissing=true) does: major*1e6+minor*1e3+micro.
bool parseKernelVersion(const std::string &release, uint64_t &version);

} // namespace lxvirt::lxc
