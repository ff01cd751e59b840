// One interface over cgroup v1 and v2 (driver/cgroup/v1.cc, v2.cc), chosen at
// run time by probing the host. All sizes in KiB, times in microseconds as
// the kernel files use them, cpu usage in nanoseconds.
//
// A host may have v1 controllers plus a near-empty v2 mount (hybrid, as
// /sys/fs/cgroup/unified here): a controller is used through the hierarchy
// that actually has it; the hybrid v2 mount is ignored unless it holds
// controllers that have no v1 mount.
#pragma once

#include "xml/error.h"

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace lxvirt::cgroup {

struct DeviceRule {
    char type = 'c';      // 'c', 'b' or 'a'
    long major = -1;      // -1 = '*'
    long minor = -1;      // -1 = '*'
    std::string access;   // subset of "rwm"
};

// I/O done by the cgroup's tasks (virDomainBlockStats).
struct BlkioStats {
    uint64_t readBytes = 0;
    uint64_t writeBytes = 0;
    uint64_t readOps = 0;
    uint64_t writeOps = 0;
};

class Cgroup {
public:
    virtual ~Cgroup() = default;

    // Path relative to each hierarchy root, e.g. "/machine/web.lxc".
    virtual const std::string& path() const = 0;
    virtual bool isV2() const = 0;

    virtual void addProcess(pid_t pid) = 0;
    virtual std::vector<pid_t> processes() const = 0;  // every task, recursively

    // memory
    virtual void setMemoryHardLimit(uint64_t kib) = 0;   // 0 = unlimited
    virtual void setMemorySoftLimit(uint64_t kib) = 0;
    virtual void setMemorySwapHardLimit(uint64_t kib) = 0;  // memory+swap (v1 memsw semantics)
    virtual uint64_t memoryHardLimit() const = 0;         // KiB, 0 = unlimited
    virtual uint64_t memoryUsage() const = 0;             // KiB
    virtual uint64_t oomKillCount() const = 0;           // kills seen in this cgroup

    // cpu
    virtual void setCpuShares(uint64_t shares) = 0;       // v2: converted to cpu.weight
    virtual uint64_t cpuShares() const = 0;
    virtual void setCpuPeriodQuota(uint64_t period_us, int64_t quota_us) = 0;  // quota -1 = unlimited
    virtual uint64_t cpuUsageNs() const = 0;
    virtual std::pair<uint64_t, uint64_t> cpuUserSystemNs() const = 0;
    virtual void setCpusetCpus(const std::string& cpus) = 0;
    virtual void setCpusetMems(const std::string& mems) = 0;

    // block I/O; devices given as "major:minor"
    virtual void setBlkioWeight(unsigned weight) = 0;
    virtual void setBlkioDeviceWeight(const std::string& majmin, unsigned weight) = 0;
    virtual void setBlkioThrottle(const std::string& majmin, std::optional<uint64_t> rbps,
                                  std::optional<uint64_t> wbps, std::optional<uint64_t> riops,
                                  std::optional<uint64_t> wiops) = 0;

    // devices: replaces the whole allow-list (deny everything else).
    virtual void setDeviceAllowList(const std::vector<DeviceRule>& allow) = 0;

    // freezer
    virtual void freeze() = 0;   // returns once the cgroup reports frozen (throws on timeout)
    virtual void thaw() = 0;
    virtual bool isFrozen() const = 0;  // false once the cgroup is gone (not an error)

    // Signal every process; returns how many were signalled.
    virtual int killAll(int sig) = 0;

    // rmdir in every hierarchy; the cgroup must have no processes.
    virtual void remove() = 0;

    // Statistics added after the first version of this interface; the
    // defaults report "unsupported" so test doubles need not implement them.
    // Nanoseconds per host CPU (v1 cpuacct.usage_percpu; v2 has no such file).
    virtual std::vector<uint64_t> perCpuUsageNs() const
    {
        throw Error::make(VIR_ERR_OPERATION_UNSUPPORTED, VIR_FROM_CGROUP, "per-CPU usage is not available");
    }
    // KiB of swap in use (v1 memsw.usage - usage; v2 memory.swap.current).
    virtual uint64_t memorySwapUsage() const
    {
        throw Error::make(VIR_ERR_OPERATION_UNSUPPORTED, VIR_FROM_CGROUP, "swap usage is not available");
    }
    // Totals over every device, or only "major:minor" when given.
    virtual BlkioStats blkioStats(const std::string& majmin = "") const
    {
        throw Error::make(VIR_ERR_OPERATION_UNSUPPORTED, VIR_FROM_CGROUP,
                          "block I/O statistics are not available" + (majmin.empty() ? "" : " for " + majmin));
    }
};

class Manager {
public:
    virtual ~Manager() = default;

    // Probe `root` ("/sys/fs/cgroup" normally; a fake tree in tests).
    static std::unique_ptr<Manager> detect(const std::string& root = "/sys/fs/cgroup");

    virtual bool isV2() const = 0;
    // Creates partition (if missing) and partition/name; error if it exists.
    virtual std::unique_ptr<Cgroup> create(const std::string& partition, const std::string& name) = 0;
    // Opens an existing cgroup by relative path (after a daemon restart).
    virtual std::unique_ptr<Cgroup> open(const std::string& path) = 0;
};

// The cgroup directory name lxvirt uses for a domain: "NAME.lxc" (escaped
// so that any valid domain name is a safe single path component).
std::string cgroupNameFor(const std::string& domain_name);

}  // namespace lxvirt::cgroup
