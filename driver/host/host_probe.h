// Facts about the host the daemon runs on, read from /sys, /proc and
// uname(): what <capabilities> and nodeGetInfo report.
#pragma once

#include "xml/capabilities.h"

#include <string>

namespace lxvirt::host {

struct ProbeOptions {
    // Prefix for /sys, /proc and /etc, so tests can point at a fake tree.
    std::string root = "/";
    // Path of lxvirt-controller, printed as the guest <emulator>.
    std::string emulator;
    // "none" or "selinux"; the caller's security manager decides.
    std::string secmodel = "none";
    std::string baselabel; // selinux base label for type lxc
    // Configured host uuid (lxvirtd.conf host_uuid); probed when empty.
    std::string host_uuid;
};

// Machine architecture as libvirt names it ("x86_64", "aarch64", "i686").
std::string probeArch();

// Host uuid: the SMBIOS product uuid when the firmware gives a real one,
// else /etc/machine-id in uuid form; "" when neither exists.
std::string probeHostUuid(const std::string &root = "/");

// Fills arch, uuid, CPU topology, NUMA cells and memory from the live
// host. Throws lxvirt::Error (VIR_ERR_SYSTEM_ERROR / INTERNAL_ERROR) when
// the CPU list or memory size cannot be read.
HostCapabilities probeHostCapabilities(const ProbeOptions &opts = {});

} // namespace lxvirt::host
