// The plug point between the RPC layer (driver/rpc, driver/daemon) and a
// hypervisor driver (driver/lxc, or a test double).
//
// Every method may throw lxvirt::Error; the RPC layer turns it unchanged into
// a remote_error reply. Methods are called from RPC worker threads: an
// implementation must be thread-safe, must serialise jobs on one domain and
// must let calls on different domains run in parallel. Numeric flags and enum
// values are libvirt's (libvirt/libvirt.h), passed through unchanged.
#pragma once

#include "xml/error.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace lxvirt {

// What the wire calls remote_nonnull_domain.
struct DomainRef {
    std::string name;
    std::array<unsigned char, 16> uuid{};
    int id = -1;  // -1 when inactive; the controller pid when running
};

struct DomainInfo {
    int state = 0;            // virDomainState
    uint64_t max_mem_kib = 0;
    uint64_t memory_kib = 0;
    unsigned nr_virt_cpu = 0;
    uint64_t cpu_time_ns = 0;
};

struct NodeInfo {
    std::string model;        // e.g. "x86_64" (at most 31 chars)
    uint64_t memory_kib = 0;
    int cpus = 0, mhz = 0, nodes = 1, sockets = 1, cores = 1, threads = 1;
};

struct SecurityModel {
    std::string model;  // "selinux" or "none"
    std::string doi;    // "0" for selinux, "" for none
};

struct SecurityLabel {
    std::string label;  // empty when inactive / unconfined
    int enforcing = 0;
};

// virTypedParameter. The variant index + 1 is the VIR_TYPED_PARAM_* type:
// INT=1, UINT=2, LLONG=3, ULLONG=4, DOUBLE=5, BOOLEAN=6, STRING=7.
using TypedValue = std::variant<int32_t, uint32_t, int64_t, uint64_t, double, bool, std::string>;
struct TypedParam {
    std::string field;
    TypedValue value;
};
using TypedParams = std::vector<TypedParam>;

struct LifecycleEvent {
    DomainRef dom;
    int event = 0;   // virDomainEventType
    int detail = 0;  // per-type detail enum
};

// Event kinds delivered to the RPC layer.
struct DomainEvent {
    enum class Kind { Lifecycle, Reboot } kind = Kind::Lifecycle;
    LifecycleEvent lifecycle;  // dom is filled for both kinds
};

class DomainDriver {
public:
    virtual ~DomainDriver() = default;

    // ---- connection / host --------------------------------------------
    virtual std::string type() const { return "LXC"; }
    virtual uint64_t hypervisorVersion() = 0;  // major*1e6+minor*1e3+micro
    virtual std::string hostname() = 0;
    virtual std::string capabilities() = 0;     // <capabilities> XML
    virtual NodeInfo nodeInfo() = 0;
    virtual uint64_t nodeFreeMemory() = 0;      // bytes
    virtual SecurityModel securityModel() = 0;
    virtual std::string domainXmlFromNative(const std::string& format, const std::string& config,
                                            unsigned flags) = 0;
    virtual int supportsFeature(int feature) { return 0; }

    // ---- listing / lookup ---------------------------------------------
    virtual std::vector<DomainRef> listAllDomains(unsigned flags) = 0;  // VIR_CONNECT_LIST_DOMAINS_*
    virtual std::vector<int> listDomainIds(int max) = 0;
    virtual std::vector<std::string> listDefinedDomains(int max) = 0;
    virtual int numOfDomains() = 0;
    virtual int numOfDefinedDomains() = 0;
    virtual DomainRef lookupByName(const std::string& name) = 0;   // VIR_ERR_NO_DOMAIN when absent
    virtual DomainRef lookupByUuid(const std::array<unsigned char, 16>& uuid) = 0;
    virtual DomainRef lookupById(int id) = 0;

    // ---- lifecycle ----------------------------------------------------
    virtual DomainRef defineXml(const std::string& xml, unsigned flags) = 0;
    virtual void undefine(const DomainRef& dom, unsigned flags) = 0;
    virtual DomainRef create(const DomainRef& dom, unsigned flags) = 0;  // returns the running ref
    virtual DomainRef createXml(const std::string& xml, unsigned flags) = 0;
    virtual void destroy(const DomainRef& dom, unsigned flags) = 0;
    virtual void shutdown(const DomainRef& dom, unsigned flags) = 0;
    virtual void reboot(const DomainRef& dom, unsigned flags) = 0;
    virtual void suspend(const DomainRef& dom) = 0;
    virtual void resume(const DomainRef& dom) = 0;

    // ---- queries --------------------------------------------------------
    virtual DomainInfo getInfo(const DomainRef& dom) = 0;
    virtual std::pair<int, int> getState(const DomainRef& dom, unsigned flags) = 0;  // state, reason
    virtual std::string getXmlDesc(const DomainRef& dom, unsigned flags) = 0;
    virtual bool getAutostart(const DomainRef& dom) = 0;
    virtual void setAutostart(const DomainRef& dom, bool autostart) = 0;
    virtual bool isActive(const DomainRef& dom) = 0;
    virtual bool isPersistent(const DomainRef& dom) = 0;
    virtual bool isUpdated(const DomainRef& dom) = 0;
    virtual std::string getOsType(const DomainRef& dom) = 0;
    virtual uint64_t getMaxMemory(const DomainRef& dom) = 0;  // KiB
    virtual void setMaxMemory(const DomainRef& dom, uint64_t kib) = 0;
    virtual void setMemoryFlags(const DomainRef& dom, uint64_t kib, unsigned flags) = 0;
    virtual std::string getHostname(const DomainRef& dom, unsigned flags) = 0;
    virtual SecurityLabel getSecurityLabel(const DomainRef& dom) = 0;

    // ---- tunables (typed parameters, VIR_DOMAIN_AFFECT_* flags) ----------
    virtual TypedParams getMemoryParameters(const DomainRef& dom, unsigned flags) = 0;
    virtual void setMemoryParameters(const DomainRef& dom, const TypedParams& params, unsigned flags) = 0;
    virtual std::pair<std::string, int> getSchedulerType(const DomainRef& dom) = 0;  // ("posix", n)
    virtual TypedParams getSchedulerParameters(const DomainRef& dom, unsigned flags) = 0;
    virtual void setSchedulerParameters(const DomainRef& dom, const TypedParams& params, unsigned flags) = 0;
    virtual TypedParams getBlkioParameters(const DomainRef& dom, unsigned flags) = 0;
    virtual void setBlkioParameters(const DomainRef& dom, const TypedParams& params, unsigned flags) = 0;

    // ---- stats ------------------------------------------------------------
    // (tag, value) pairs, virDomainMemoryStatTags.
    virtual std::vector<std::pair<int, uint64_t>> memoryStats(const DomainRef& dom, unsigned nr) = 0;
    // virDomainGetCPUStats with start_cpu == -1 (totals): cpu_time, user_time, system_time.
    virtual TypedParams cpuStatsTotal(const DomainRef& dom) = 0;

    // ---- console and namespaces ----------------------------------------
    // Returns a new fd (owned by the caller): a bidirectional byte stream to
    // the console named dev_name (empty: the first console). Reads give the
    // container's output; writes reach its console input. EOF/EIO when the
    // container stops. flags: VIR_DOMAIN_CONSOLE_FORCE steals an open session.
    virtual int openConsole(const DomainRef& dom, const std::string& dev_name, unsigned flags) = 0;
    // The container init's namespace fds (/proc/PID/ns/*), owned by the caller.
    virtual std::vector<int> openNamespaces(const DomainRef& dom, unsigned flags) = 0;

    // ---- events -------------------------------------------------------------
    // The RPC layer installs one sink; the driver calls it from any thread
    // after the state change it reports has taken effect.
    using EventSink = std::function<void(const DomainEvent&)>;
    virtual void setEventSink(EventSink sink) = 0;
};

}  // namespace lxvirt
