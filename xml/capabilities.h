// The host <capabilities> document for the LXC driver.
#pragma once

#include <string>
#include <vector>

namespace lxvirt {

struct HostCapabilities {
    std::string uuid;          // host uuid (from /etc/machine-id or generated)
    std::string arch;          // "x86_64"
    unsigned sockets = 1, cores = 1, threads = 1;
    unsigned cells = 1;        // NUMA cells
    std::vector<unsigned> cpus_per_cell;  // cpu ids are numbered in order
    unsigned long long memory_kib = 0;    // per cell for the single-cell case
    std::string secmodel;      // "selinux" or "none"
    std::string secmodel_doi;  // "0"
    std::string baselabel;     // selinux process base label for type lxc
    std::string emulator;      // path of lxvirt-controller
};

std::string formatCapabilities(const HostCapabilities& caps);

}  // namespace lxvirt
