// The LXC implementation of DomainDriver: the registry of domains, their
// persistent definitions, live state, lifecycle, autostart and events.
#pragma once

#include "driver/domain_driver.h"
#include "driver/lxc/container.h"

#include <memory>
#include <string>

namespace lxvirt::lxc {

struct DriverConfig {
    std::string config_dir;               // NAME.xml and autostart/NAME.xml links
    Paths paths;                          // run dir, log dir, controller binary, cgroup root
    std::string cgroup_partition = "/machine";
    std::string security_driver = "auto"; // "selinux" | "none" | "auto"
    bool run_autostart = true;            // start autostart domains in createDriver()
};

// Loads persistent definitions, re-attaches to running containers found in
// the run dir (reporting dead ones shut off/crashed and cleaning up after
// them), then starts autostart domains. Must be called with a GLib main
// context that someone iterates (the daemon's main loop): container exit
// notifications are delivered there.
std::unique_ptr<DomainDriver> createDriver(const DriverConfig& config);

}  // namespace lxvirt::lxc
