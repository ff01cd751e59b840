// The LXC DomainDriver: registry, persistence, live state, lifecycle, events.
//
// Locking. The registry lock (reg_mu_) guards the name/uuid maps and is held
// only for map operations. Each DomainObj has a job mutex, held for the
// whole of one API job (start, destroy, define, tunables ...), and a field
// mutex (mu) held only while reading or swapping fields. Container exit
// notifications arrive on the GLib main context while a job (destroy) may be
// waiting for them, so the exit path takes only `mu`, never `job`. Reads
// (list, getInfo, getState, lookups) take only `mu`: O(1) in memory per
// domain. Definitions are immutable once published (shared_ptr<const>), so
// readers format them outside any lock; writers copy, modify and swap.
#include "driver/fdio.h"
#include "driver/lxc/driver_internal.h"
#include "driver/lxc/state_file.h"

#include "xml/domain_xml.h"
#include "xml/native.h"

#include <glib.h>
#include <libvirt/libvirt.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <optional>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace lxvirt::lxc {

bool parseKernelVersion(const std::string &release, uint64_t &version)
{
    // Up to three dot-separated numbers; parsing stops at the first
    // character that is neither a digit nor the dot between numbers.
    uint64_t parts[3] = {0, 0, 0};
    size_t pos = 0;
    for (int i = 0; i < 3; i++) {
        if (pos >= release.size() || !isdigit(static_cast<unsigned char>(release[pos]))) {
            if (i == 0)
                return false;
            break;
        }
        uint64_t v = 0;
        while (pos < release.size() && isdigit(static_cast<unsigned char>(release[pos]))) {
            v = v * 10 + uint64_t(release[pos] - '0');
            if (v > 999999)
                return false;
            pos++;
        }
        if ((i > 0 && v > 999))
            return false;
        parts[i] = v;
        if (pos < release.size() && release[pos] == '.' && i < 2)
            pos++;
        else
            break;
    }
    version = parts[0] * 1000000 + parts[1] * 1000 + parts[2];
    return true;
}

namespace {

using DefPtr = std::shared_ptr<const DomainDef>;
using Events = std::vector<DomainEvent>;

// VIR_DOMAIN_MEMORY_PARAM_UNLIMITED: what libvirt reports for "no limit".
constexpr uint64_t kMemUnlimited = 9007199254740991ULL;
// virCgroupSetCpuCfsPeriod / Quota bounds.
constexpr uint64_t kCfsPeriodMin = 1000, kCfsPeriodMax = 1000000;
constexpr int64_t kCfsQuotaMin = 1000, kCfsQuotaMax = 17592186044415LL;

constexpr unsigned kListFiltersAll =
    VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE |
    VIR_CONNECT_LIST_DOMAINS_PERSISTENT | VIR_CONNECT_LIST_DOMAINS_TRANSIENT |
    VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED | VIR_CONNECT_LIST_DOMAINS_SHUTOFF |
    VIR_CONNECT_LIST_DOMAINS_OTHER | VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE |
    VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE | VIR_CONNECT_LIST_DOMAINS_AUTOSTART |
    VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART | VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT |
    VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT | VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT |
    VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT;

Error lxcError(int code, const std::string &detail)
{
    return Error::make(code, VIR_FROM_LXC, detail);
}

// virCheckFlags' error.
void checkFlags(unsigned flags, unsigned allowed, const char *function)
{
    if (flags & ~allowed) {
        char buf[32];
        snprintf(buf, sizeof buf, "0x%x", flags & ~allowed);
        throw lxcError(VIR_ERR_INVALID_ARG,
                       std::string("unsupported flags (") + buf + ") in function " + function);
    }
}

// A container whose cgroup holds no process any more has exited: its
// controller empties and removes the cgroup before it reports the exit,
// which reaches the driver a moment later.
bool containerExited(Container &c)
{
    try {
        return c.cgroup().processes().empty();
    } catch (const std::exception &) {
        return true;
    }
}

Error notRunning()
{
    return Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_DOMAIN, "domain is not running");
}

// Reads from (or writes to) a running container's cgroup: a container that
// exited meanwhile is not running, rather than a failed access to a removed
// file.
template <typename Read>
auto liveRead(Container &c, Read &&read) -> decltype(read())
{
    try {
        return read();
    } catch (const Error &) {
        if (containerExited(c))
            throw notRunning();
        throw;
    }
}

// libvirt's LXC_JOB_WAIT_TIME: a job waits this long for the previous one.
constexpr std::chrono::seconds kJobWait{30};

struct DomainObj {
    std::timed_mutex job;
    mutable std::mutex mu;

    // Fixed for the object's life (a redefinition must keep both).
    std::string name;
    Uuid uuid{};

    // Guarded by mu.
    DefPtr def;    // live definition while active, else the persistent one
    DefPtr newDef; // the persistent definition while active (null if none)
    bool persistent = false;
    bool autostart = false;
    bool updated = false;
    bool active = false;
    bool removed = false; // dropped from the registry; jobs on it fail
    int state = VIR_DOMAIN_SHUTOFF;
    int reason = VIR_DOMAIN_SHUTOFF_UNKNOWN;
    int id = -1;
    std::shared_ptr<Container> container;
    RunState run;
    uint64_t generation = 0;              // bumped per start: stale exit callbacks are ignored
    std::optional<ExitReason> early_exit; // exit reported before start() returned
    bool destroying = false;              // a destroy job is running: the exit is "destroyed"
    bool rebooting = false;               // stopped for a reboot; the restart job is pending

    DomainRef ref() const
    {
        DomainRef r;
        r.name = name;
        r.uuid = uuid;
        r.id = id;
        return r;
    }
};
using ObjPtr = std::shared_ptr<DomainObj>;

DomainEvent lifecycle(const DomainRef &ref, int event, int detail)
{
    DomainEvent e;
    e.kind = DomainEvent::Kind::Lifecycle;
    e.lifecycle.dom = ref;
    e.lifecycle.event = event;
    e.lifecycle.detail = detail;
    return e;
}

DomainEvent rebootEvent(const DomainRef &ref)
{
    DomainEvent e;
    e.kind = DomainEvent::Kind::Reboot;
    e.lifecycle.dom = ref;
    return e;
}

const char *typeName(const TypedValue &v)
{
    static const char *const names[] = {"int", "uint", "llong", "ullong", "double", "boolean", "string"};
    return names[v.index()];
}

// virTypedParamsValidate: every field known, of the expected type, once.
void validateParams(const TypedParams &params, const std::vector<std::pair<const char *, size_t>> &allowed)
{
    static const char *const names[] = {"int", "uint", "llong", "ullong", "double", "boolean", "string"};
    for (size_t i = 0; i < params.size(); i++) {
        const auto &p = params[i];
        auto it =
            std::find_if(allowed.begin(), allowed.end(), [&](const auto &a) { return p.field == a.first; });
        if (it == allowed.end())
            throw lxcError(VIR_ERR_ARGUMENT_UNSUPPORTED, "parameter '" + p.field + "' not supported");
        if (p.value.index() != it->second)
            throw lxcError(VIR_ERR_INVALID_ARG, "invalid type '" + std::string(typeName(p.value)) +
                                                    "' for parameter '" + p.field + "', expected '" +
                                                    names[it->second] + "'");
        for (size_t j = 0; j < i; j++)
            if (params[j].field == p.field)
                throw lxcError(VIR_ERR_INVALID_ARG, "parameter '" + p.field + "' occurs multiple times");
    }
}

constexpr size_t kUInt = 1, kLLong = 2, kULLong = 3, kString = 6;


// Calls f(line) for each line of `text` until it returns true.
template <class F> void forEachLine(const std::string &text, F &&f)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos)
            eol = text.size();
        if (f(text.substr(pos, eol - pos)))
            return;
        pos = eol + 1;
    }
}

uint64_t meminfoKib(const char *key)
{
    uint64_t v = 0;
    size_t klen = strlen(key);
    forEachLine(readWholeFile("/proc/meminfo"), [&](const std::string &line) {
        if (line.compare(0, klen, key) != 0 || line.size() <= klen || line[klen] != ':')
            return false;
        v = std::strtoull(line.c_str() + klen + 1, nullptr, 10);
        return true;
    });
    return v;
}

NodeInfo probeNodeInfo()
{
    NodeInfo n;
    struct utsname u {};
    uname(&u);
    n.model = u.machine;
    if (n.model.size() > 31)
        n.model.resize(31);
    n.memory_kib = meminfoKib("MemTotal");
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n.cpus = cpus > 0 ? int(cpus) : 1;
    forEachLine(readWholeFile("/proc/cpuinfo"), [&](const std::string &line) {
        if (line.compare(0, 7, "cpu MHz") != 0)
            return false;
        auto colon = line.find(':');
        if (colon != std::string::npos)
            n.mhz = int(std::strtod(line.c_str() + colon + 1, nullptr));
        return true;
    });
    n.nodes = 1;
    n.sockets = 1;
    n.cores = n.cpus;
    n.threads = 1;
    return n;
}

// "path,value,path,value" as virsh blkiotune sends device lists.
std::vector<std::pair<std::string, uint64_t>> parseBlkioDevices(const std::string &field,
                                                                const std::string &text)
{
    std::vector<std::pair<std::string, uint64_t>> out;
    if (text.empty())
        return out;
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        size_t comma = text.find(',', start);
        parts.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos)
            break;
        start = comma + 1;
    }
    if (parts.size() % 2)
        throw lxcError(VIR_ERR_INVALID_ARG, "unable to parse blkio device '" + text + "' '" + field + "'");
    for (size_t i = 0; i < parts.size(); i += 2) {
        const std::string &v = parts[i + 1];
        char *end = nullptr;
        errno = 0;
        unsigned long long n = std::strtoull(v.c_str(), &end, 10);
        if (parts[i].empty() || v.empty() || *end || errno || v[0] == '-')
            throw lxcError(VIR_ERR_INVALID_ARG,
                           "unable to parse blkio device '" + text + "' '" + field + "'");
        out.emplace_back(parts[i], n);
    }
    return out;
}

std::string blockMajMin(const std::string &path)
{
    struct stat st {};
    if (stat(path.c_str(), &st) < 0)
        throw Error::system(errno, "Couldn't stat device '" + path + "'");
    if (!S_ISBLK(st.st_mode))
        throw lxcError(VIR_ERR_INVALID_ARG, "path '" + path + "' must be a block device");
    return std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
}

bool blkioDeviceEmpty(const BlkioDevice &d)
{
    return !d.weight && !d.read_bytes_sec && !d.write_bytes_sec && !d.read_iops_sec && !d.write_iops_sec;
}

class LxcDriver : public DomainDriver, public std::enable_shared_from_this<LxcDriver> {
public:
    LxcDriver(const DriverConfig &config, Runtime runtime)
        : config_(config), runtime_(std::move(runtime)), main_context_(g_main_context_ref_thread_default())
    {
        security_ = runtime_.security;
        if (!security_) {
            security::SecurityConfig none;
            none.driver = "none";
            security_ = security::createSecurityManager(none);
        }
    }

    // Waits for pending restart jobs; called when the owner lets go, so the
    // last reference is not dropped by a worker thread.
    void stopWorkers()
    {
        std::vector<std::thread> workers;
        {
            std::lock_guard<std::mutex> lk(workers_mu_);
            shutting_down_ = true;
            workers.swap(workers_);
        }
        for (auto &t : workers) {
            if (t.get_id() == std::this_thread::get_id())
                t.detach();
            else if (t.joinable())
                t.join();
        }
    }

    ~LxcDriver() override
    {
        stopWorkers();
        drainReleased();
        // Running containers stay up (KillMode=process): dropping the handles
        // only detaches from their controllers.
        std::lock_guard<std::mutex> lk(reg_mu_);
        by_name_.clear();
        by_uuid_.clear();
        g_main_context_unref(main_context_);
    }

    void load();

    // ---- connection / host ------------------------------------------
    uint64_t hypervisorVersion() override
    {
        struct utsname u {};
        uname(&u);
        uint64_t v = 0;
        if (!parseKernelVersion(u.release, v))
            throw lxcError(VIR_ERR_INTERNAL_ERROR, std::string("Unknown release: ") + u.release);
        return v;
    }
    std::string hostname() override
    {
        char buf[256] = {};
        if (gethostname(buf, sizeof buf - 1) < 0)
            throw Error::system(errno, "failed to determine host name");
        return buf;
    }
    std::string capabilities() override
    {
        if (runtime_.capabilities)
            return runtime_.capabilities();
        throw lxcError(VIR_ERR_NO_SUPPORT, "capabilities");
    }
    NodeInfo nodeInfo() override
    {
        if (!runtime_.nodeInfo)
            return probeNodeInfo();
        NodeInfo n = runtime_.nodeInfo();
        if (!n.mhz)
            n.mhz = probeNodeInfo().mhz;
        return n;
    }
    uint64_t nodeFreeMemory() override
    {
        return runtime_.nodeFreeMemory ? runtime_.nodeFreeMemory() : meminfoKib("MemFree") * 1024;
    }
    SecurityModel securityModel() override
    {
        if (runtime_.securityModel)
            return runtime_.securityModel();
        if (security_->model() != "none")
            return SecurityModel{security_->model(), security_->doi()};
        return {"none", ""};
    }
    std::string domainXmlFromNative(const std::string &format, const std::string &config,
                                    unsigned flags) override
    {
        checkFlags(flags, 0, "lxcConnectDomainXMLFromNative");
        if (format != kLxcToolsFormat)
            throw lxcError(VIR_ERR_INVALID_ARG, "unsupported config type " + format);
        return formatDomainXml(domainDefFromLxcConfig(config));
    }

    // ---- listing / lookup --------------------------------------------
    std::vector<DomainRef> listAllDomains(unsigned flags) override;
    std::vector<int> listDomainIds(int max) override;
    std::vector<std::string> listDefinedDomains(int max) override;
    int numOfDomains() override;
    int numOfDefinedDomains() override;
    DomainRef lookupByName(const std::string &name) override;
    DomainRef lookupByUuid(const std::array<unsigned char, 16> &uuid) override;
    DomainRef lookupById(int id) override;

    // ---- lifecycle ------------------------------------------------------
    DomainRef defineXml(const std::string &xml, unsigned flags) override;
    void undefine(const DomainRef &dom, unsigned flags) override;
    DomainRef create(const DomainRef &dom, unsigned flags) override;
    DomainRef createXml(const std::string &xml, unsigned flags) override;
    void destroy(const DomainRef &dom, unsigned flags) override;
    void shutdown(const DomainRef &dom, unsigned flags) override;
    void reboot(const DomainRef &dom, unsigned flags) override;
    void suspend(const DomainRef &dom) override;
    void resume(const DomainRef &dom) override;

    // ---- queries ----------------------------------------------------------
    DomainInfo getInfo(const DomainRef &dom) override;
    std::pair<int, int> getState(const DomainRef &dom, unsigned flags) override;
    std::string getXmlDesc(const DomainRef &dom, unsigned flags) override;
    bool getAutostart(const DomainRef &dom) override;
    void setAutostart(const DomainRef &dom, bool autostart) override;
    bool isActive(const DomainRef &dom) override;
    bool isPersistent(const DomainRef &dom) override;
    bool isUpdated(const DomainRef &dom) override;
    std::string getOsType(const DomainRef &dom) override;
    uint64_t getMaxMemory(const DomainRef &dom) override;
    void setMaxMemory(const DomainRef &dom, uint64_t kib) override;
    void setMemoryFlags(const DomainRef &dom, uint64_t kib, unsigned flags) override;
    std::string getHostname(const DomainRef &dom, unsigned flags) override;
    SecurityLabel getSecurityLabel(const DomainRef &dom) override;

    TypedParams getMemoryParameters(const DomainRef &dom, unsigned flags) override;
    void setMemoryParameters(const DomainRef &dom, const TypedParams &params, unsigned flags) override;
    std::pair<std::string, int> getSchedulerType(const DomainRef &dom) override;
    TypedParams getSchedulerParameters(const DomainRef &dom, unsigned flags) override;
    void setSchedulerParameters(const DomainRef &dom, const TypedParams &params, unsigned flags) override;
    TypedParams getBlkioParameters(const DomainRef &dom, unsigned flags) override;
    void setBlkioParameters(const DomainRef &dom, const TypedParams &params, unsigned flags) override;

    std::vector<std::pair<int, uint64_t>> memoryStats(const DomainRef &dom, unsigned nr) override;
    TypedParams cpuStatsTotal(const DomainRef &dom) override;

    int openConsole(const DomainRef &dom, const std::string &dev_name, unsigned flags) override;
    std::vector<int> openNamespaces(const DomainRef &dom, unsigned flags) override;

    void setEventSink(EventSink sink) override
    {
        std::vector<DomainEvent> queued;
        {
            std::lock_guard<std::mutex> lk(sink_mu_);
            sink_ = std::move(sink);
            if (sink_)
                queued.swap(queued_events_);
        }
        emit(queued);
    }

private:
    // ---- paths ----
    std::string configPath(const std::string &name) const { return config_.config_dir + "/" + name + ".xml"; }
    std::string autostartDir() const { return config_.config_dir + "/autostart"; }
    std::string autostartPath(const std::string &name) const { return autostartDir() + "/" + name + ".xml"; }
    std::string livePath(const std::string &name) const
    {
        return config_.paths.run_dir + "/" + name + ".xml";
    }

    // ---- registry ----
    ObjPtr findByUuid(const Uuid &uuid)
    {
        std::lock_guard<std::mutex> lk(reg_mu_);
        auto it = by_uuid_.find(uuid);
        return it == by_uuid_.end() ? nullptr : it->second;
    }
    ObjPtr findByName(const std::string &name)
    {
        std::lock_guard<std::mutex> lk(reg_mu_);
        auto it = by_name_.find(name);
        return it == by_name_.end() ? nullptr : it->second;
    }
    std::vector<ObjPtr> allObjs()
    {
        std::lock_guard<std::mutex> lk(reg_mu_);
        std::vector<ObjPtr> v;
        v.reserve(by_name_.size());
        for (auto &[n, o] : by_name_)
            v.push_back(o);
        return v;
    }
    void addObj(const ObjPtr &obj)
    {
        std::lock_guard<std::mutex> lk(reg_mu_);
        by_name_[obj->name] = obj;
        by_uuid_[obj->uuid] = obj;
    }
    // Called with obj->mu held.
    struct Claim {
        ObjPtr obj;
        bool created = false;
        std::unique_lock<std::timed_mutex> job;
    };

    // The object a new definition belongs to, with its job held: the one
    // with the same uuid, or a new one published under the registry lock
    // (job taken before publishing, so nobody races its first save). A name
    // or uuid already used by another domain is refused as libvirt words it.
    void setPaused(const DomainRef &dom, bool pause);

    Claim claimForDef(const DefPtr &def, bool publish_def)
    {
        Claim c;
        {
            std::lock_guard<std::mutex> lk(reg_mu_);
            auto byUuid = by_uuid_.find(def->uuid);
            auto byName = by_name_.find(def->name);
            if (byUuid != by_uuid_.end()) {
                if (byUuid->second->name != def->name)
                    throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_DOMAIN,
                                      "domain '" + byUuid->second->name + "' is already defined with uuid " +
                                          uuidToString(def->uuid));
                c.obj = byUuid->second;
            } else if (byName != by_name_.end()) {
                throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_DOMAIN,
                                  "domain '" + def->name + "' already exists with uuid " +
                                      uuidToString(byName->second->uuid));
            } else {
                c.obj = std::make_shared<DomainObj>();
                c.obj->name = def->name;
                c.obj->uuid = def->uuid;
                if (publish_def)
                    c.obj->def = def;
                c.created = true;
                c.obj->job.lock();
                by_name_[c.obj->name] = c.obj;
                by_uuid_[c.obj->uuid] = c.obj;
            }
        }
        if (c.created)
            c.job = std::unique_lock<std::timed_mutex>(c.obj->job, std::adopt_lock);
        else
            c.job = std::unique_lock<std::timed_mutex>(c.obj->job);
        return c;
    }

    void removeObjLocked(DomainObj &obj)
    {
        obj.removed = true;
        std::lock_guard<std::mutex> lk(reg_mu_);
        auto it = by_name_.find(obj.name);
        if (it != by_name_.end() && it->second.get() == &obj)
            by_name_.erase(it);
        auto ut = by_uuid_.find(obj.uuid);
        if (ut != by_uuid_.end() && ut->second.get() == &obj)
            by_uuid_.erase(ut);
    }

    // The object behind a DomainRef, libvirt's lxcDomObjFromDomain.
    ObjPtr objFor(const DomainRef &dom)
    {
        ObjPtr obj = findByUuid(dom.uuid);
        if (!obj)
            throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC,
                              "no domain with matching uuid '" + uuidToString(dom.uuid) + "' (" + dom.name +
                                  ")");
        return obj;
    }
    // Takes the job lock and re-checks that the domain still exists.
    std::unique_lock<std::timed_mutex> beginJob(const ObjPtr &obj, const DomainRef &dom)
    {
        std::unique_lock<std::timed_mutex> job(obj->job, kJobWait);
        if (!job.owns_lock())
            throw Error::make(VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_LXC, "cannot acquire state change lock");
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->removed)
            throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC,
                              "no domain with matching uuid '" + uuidToString(dom.uuid) + "' (" + dom.name +
                                  ")");
        return job;
    }

    // ---- events ----
    void emit(const Events &events)
    {
        if (events.empty())
            return;
        EventSink sink;
        {
            std::lock_guard<std::mutex> lk(sink_mu_);
            if (!sink_) {
                queued_events_.insert(queued_events_.end(), events.begin(), events.end());
                return;
            }
            sink = sink_;
        }
        for (const auto &e : events)
            sink(e);
    }

    // ---- persistence ----
    void saveConfig(const DomainDef &def)
    {
        makeDirs(config_.config_dir);
        writeFileAtomic(configPath(def.name), formatDomainXml(def));
    }
    // Called with obj.mu held while active.
    void saveLiveLocked(const DomainObj &obj)
    {
        if (!obj.active || !obj.def)
            return;
        FormatOptions opts;
        opts.inactive = false;
        opts.id = obj.id;
        std::string text = formatLiveState(obj.state, obj.reason, obj.run, formatDomainXml(*obj.def, opts));
        makeDirs(config_.paths.run_dir);
        writeFileAtomic(livePath(obj.name), text, 0600, /*durable=*/false);
    }

    // ---- lifecycle internals ----
    Container::ExitCallback exitCallback(const ObjPtr &obj, uint64_t generation)
    {
        std::weak_ptr<LxcDriver> self = weak_from_this();
        std::weak_ptr<DomainObj> wobj = obj;
        return [self, wobj, generation](ExitReason why) {
            auto drv = self.lock();
            auto o = wobj.lock();
            if (drv && o)
                drv->onContainerExit(o, generation, why);
        };
    }
    // Undoes what start did with the security manager: file labels back
    // (relabel='yes'), the dynamic pair freed. Never throws: a stop must
    // complete even when a label cannot be restored.
    void releaseSecurity(DomainDef &def)
    {
        try {
            security_->restoreAllLabel(def);
        } catch (const std::exception &e) {
            g_warning("lxvirt: domain '%s': %s", def.name.c_str(), e.what());
        }
        try {
            security_->release(def);
        } catch (const std::exception &e) {
            g_warning("lxvirt: domain '%s': %s", def.name.c_str(), e.what());
        }
    }
    void startLocked(const ObjPtr &obj, int running_reason, bool paused, Events &events);
    void stopLocked(DomainObj &obj, int shutoff_reason, bool keep_live_def);
    void onContainerExit(const ObjPtr &obj, uint64_t generation, ExitReason why);
    void finishExitLocked(const ObjPtr &obj, ExitReason why, Events &events);
    void rebootJob(const ObjPtr &obj);
    void releaseContainer(std::shared_ptr<Container> c);
    void drainReleased()
    {
        std::vector<std::shared_ptr<Container>> v;
        {
            std::lock_guard<std::mutex> lk(release_mu_);
            v.swap(released_);
        }
    }
    void spawnWorker(std::function<void()> fn)
    {
        std::lock_guard<std::mutex> lk(workers_mu_);
        if (shutting_down_)
            return;
        // Reap finished workers lazily: they only ever wait for a job lock.
        workers_.emplace_back(std::move(fn));
    }

    // virDomainObjGetDefs: which definitions an AFFECT_* flag set touches.
    struct Targets {
        bool live = false, config = false;
        DefPtr liveDef, persistentDef;
        std::shared_ptr<Container> container;
    };
    Targets targetsLocked(const DomainObj &obj, unsigned flags)
    {
        Targets t;
        unsigned affect = flags & (VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG);
        if (affect == VIR_DOMAIN_AFFECT_CURRENT)
            affect = obj.active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
        if ((affect & VIR_DOMAIN_AFFECT_LIVE) && !obj.active)
            throw notRunning();
        if ((affect & VIR_DOMAIN_AFFECT_CONFIG) && !obj.persistent)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_DOMAIN,
                              "transient domains do not have any persistent config");
        t.live = affect & VIR_DOMAIN_AFFECT_LIVE;
        t.config = affect & VIR_DOMAIN_AFFECT_CONFIG;
        if (t.live) {
            t.liveDef = obj.def;
            t.container = obj.container;
        }
        if (t.config)
            t.persistentDef = obj.active ? obj.newDef : obj.def;
        return t;
    }
    // Publishes modified definitions (copy-on-write) and persists them.
    void commitLocked(DomainObj &obj, const std::shared_ptr<DomainDef> &live,
                      const std::shared_ptr<DomainDef> &persistent)
    {
        if (persistent) {
            saveConfig(*persistent);
            if (obj.active)
                obj.newDef = persistent;
            else
                obj.def = persistent;
        }
        if (live && obj.active) {
            obj.def = live;
            saveLiveLocked(obj);
        }
    }
    // The shape of every change of tunables (memtune, schedinfo, blkiotune):
    // one job on the domain, the definitions the flags select, `check` of
    // them under the lock, then a copy of each to change (the live one
    // together with its cgroup) and one commit of both.
    template <typename Check, typename Live, typename Config>
    void changeTunables(const DomainRef &dom, unsigned flags, Check &&check, Live &&applyLive,
                        Config &&applyConfig)
    {
        ObjPtr obj = objFor(dom);
        auto job = beginJob(obj, dom);
        std::unique_lock<std::mutex> lk(obj->mu);
        Targets t = targetsLocked(*obj, flags);
        check(*obj);
        std::shared_ptr<DomainDef> live, persistent;
        if (t.live) {
            live = std::make_shared<DomainDef>(*t.liveDef);
            liveRead(*t.container, [&] { applyLive(*live, t.container->cgroup()); });
        }
        if (t.config) {
            persistent = std::make_shared<DomainDef>(*t.persistentDef);
            applyConfig(*persistent);
        }
        commitLocked(*obj, live, persistent);
    }
    std::shared_ptr<Container> activeContainer(const ObjPtr &obj)
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->active || !obj->container)
            throw notRunning();
        return obj->container;
    }

    DomainDef parseForDefine(const std::string &xml);

    DriverConfig config_;
    Runtime runtime_;
    std::shared_ptr<security::SecurityManager> security_;
    GMainContext *main_context_;

    std::mutex reg_mu_;
    std::map<std::string, ObjPtr> by_name_;
    std::map<Uuid, ObjPtr> by_uuid_;

    std::mutex sink_mu_;
    EventSink sink_;
    std::vector<DomainEvent> queued_events_;

    std::mutex release_mu_;
    std::vector<std::shared_ptr<Container>> released_;
    bool release_scheduled_ = false;

    std::mutex workers_mu_;
    std::vector<std::thread> workers_;
    bool shutting_down_ = false;
};

// ---------------------------------------------------------------------------
// listing / lookup

std::vector<DomainRef> LxcDriver::listAllDomains(unsigned flags)
{
    checkFlags(flags, kListFiltersAll, "lxcConnectListAllDomains");
    std::vector<DomainRef> out;
    for (const auto &obj : allObjs()) {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->removed)
            continue;
        auto group = [&](unsigned a, unsigned b, bool is_a) {
            if ((flags & (a | b)) == 0 || (flags & (a | b)) == (a | b))
                return true;
            return (flags & a) ? is_a : !is_a;
        };
        if (!group(VIR_CONNECT_LIST_DOMAINS_ACTIVE, VIR_CONNECT_LIST_DOMAINS_INACTIVE, obj->active))
            continue;
        if (!group(VIR_CONNECT_LIST_DOMAINS_PERSISTENT, VIR_CONNECT_LIST_DOMAINS_TRANSIENT, obj->persistent))
            continue;
        unsigned states = flags & (VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
                                   VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER);
        if (states) {
            bool ok = ((states & VIR_CONNECT_LIST_DOMAINS_RUNNING) && obj->state == VIR_DOMAIN_RUNNING) ||
                      ((states & VIR_CONNECT_LIST_DOMAINS_PAUSED) && obj->state == VIR_DOMAIN_PAUSED) ||
                      ((states & VIR_CONNECT_LIST_DOMAINS_SHUTOFF) && obj->state == VIR_DOMAIN_SHUTOFF) ||
                      ((states & VIR_CONNECT_LIST_DOMAINS_OTHER) && obj->state != VIR_DOMAIN_RUNNING &&
                       obj->state != VIR_DOMAIN_PAUSED && obj->state != VIR_DOMAIN_SHUTOFF);
            if (!ok)
                continue;
        }
        // No managed save, snapshots or checkpoints exist for LXC.
        if (!group(VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE, VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE, false))
            continue;
        if (!group(VIR_CONNECT_LIST_DOMAINS_AUTOSTART, VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART, obj->autostart))
            continue;
        if (!group(VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT, VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT, false))
            continue;
        if (!group(VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT, VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT, false))
            continue;
        out.push_back(obj->ref());
    }
    return out;
}

std::vector<int> LxcDriver::listDomainIds(int max)
{
    std::vector<int> ids;
    for (const auto &obj : allObjs()) {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->active && !obj->removed)
            ids.push_back(obj->id);
    }
    std::sort(ids.begin(), ids.end());
    if (max >= 0 && ids.size() > size_t(max))
        ids.resize(size_t(max));
    return ids;
}

std::vector<std::string> LxcDriver::listDefinedDomains(int max)
{
    std::vector<std::string> names;
    for (const auto &obj : allObjs()) {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->active && !obj->removed)
            names.push_back(obj->name);
    }
    if (max >= 0 && names.size() > size_t(max))
        names.resize(size_t(max));
    return names;
}

int LxcDriver::numOfDomains()
{
    return int(listDomainIds(-1).size());
}

int LxcDriver::numOfDefinedDomains()
{
    return int(listDefinedDomains(-1).size());
}

DomainRef LxcDriver::lookupByName(const std::string &name)
{
    ObjPtr obj = findByName(name);
    if (obj) {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->removed)
            return obj->ref();
    }
    throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC, "no domain with matching name '" + name + "'");
}

DomainRef LxcDriver::lookupByUuid(const std::array<unsigned char, 16> &uuid)
{
    ObjPtr obj = findByUuid(uuid);
    if (obj) {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->removed)
            return obj->ref();
    }
    throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC,
                      "no domain with matching uuid '" + uuidToString(uuid) + "'");
}

DomainRef LxcDriver::lookupById(int id)
{
    if (id >= 0) {
        for (const auto &obj : allObjs()) {
            std::lock_guard<std::mutex> lk(obj->mu);
            if (obj->active && !obj->removed && obj->id == id)
                return obj->ref();
        }
    }
    throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC, "no domain with matching id " + std::to_string(id));
}

// ---------------------------------------------------------------------------
// define / undefine

DomainDef LxcDriver::parseForDefine(const std::string &xml)
{
    DomainDef def = parseDomainXml(xml, PARSE_INACTIVE);
    // virXMLCheckIllegalChars("name", def->name, "\n")
    if (def.name.find('\n') != std::string::npos)
        throw Error::make(VIR_ERR_XML_DETAIL, VIR_FROM_LXC, "invalid char in name: 0x0a");
    // The name becomes a file name in the config and run dirs.
    if (def.name.empty())
        throw Error::make(VIR_ERR_NO_NAME, VIR_FROM_DOMAIN, "missing domain name information");
    if (def.name.find('/') != std::string::npos)
        throw Error::make(VIR_ERR_XML_ERROR, VIR_FROM_DOMAIN, "name " + def.name + " cannot contain '/'");
    security_->verify(def);
    return def;
}

DomainRef LxcDriver::defineXml(const std::string &xml, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_DEFINE_VALIDATE, "lxcDomainDefineXMLFlags");
    auto def = std::make_shared<DomainDef>(parseForDefine(xml));
    Events events;
    DomainRef ref;

    for (;;) {
        auto [obj, created, job] = claimForDef(def, /*publish_def=*/false);
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->removed)
            continue; // undefined meanwhile: look again
        if (created) {
            try {
                saveConfig(*def);
            } catch (...) {
                removeObjLocked(*obj);
                throw;
            }
            obj->def = def;
            obj->persistent = true;
            obj->state = VIR_DOMAIN_SHUTOFF;
            obj->reason = VIR_DOMAIN_SHUTOFF_UNKNOWN;
            events.push_back(lifecycle(obj->ref(), VIR_DOMAIN_EVENT_DEFINED, VIR_DOMAIN_EVENT_DEFINED_ADDED));
        } else {
            bool was_persistent = obj->persistent;
            saveConfig(*def);
            obj->persistent = true;
            if (obj->active || obj->rebooting) {
                // The running container keeps its definition; the new one
                // applies from the next start.
                obj->newDef = def;
                obj->updated = true;
            } else {
                obj->def = def;
            }
            events.push_back(lifecycle(obj->ref(), VIR_DOMAIN_EVENT_DEFINED,
                                       was_persistent ? VIR_DOMAIN_EVENT_DEFINED_UPDATED
                                                      : VIR_DOMAIN_EVENT_DEFINED_ADDED));
        }
        ref = obj->ref();
        break;
    }
    emit(events);
    return ref;
}

void LxcDriver::undefine(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, 0, "lxcDomainUndefineFlags");
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    Events events;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->persistent)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "Cannot undefine transient domain");
        removeFile(autostartPath(obj->name));
        removeFile(configPath(obj->name));
        obj->autostart = false;
        events.push_back(
            lifecycle(obj->ref(), VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED));
        if (obj->active || obj->rebooting) {
            obj->persistent = false;
            obj->newDef.reset();
            obj->updated = false;
        } else {
            removeObjLocked(*obj);
        }
    }
    emit(events);
}

// ---------------------------------------------------------------------------
// start / stop

void LxcDriver::startLocked(const ObjPtr &obj, int running_reason, bool paused, Events &events)
{
    DefPtr base;
    uint64_t generation;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->active)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "Domain is already running");
        base = obj->def;
        obj->rebooting = false;
        generation = ++obj->generation;
        obj->early_exit.reset();
    }
    auto live = std::make_shared<DomainDef>(*base);
    if (live->resource_partition.empty())
        live->resource_partition = config_.cgroup_partition;
    if (live->consoles.empty())
        throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC, "At least one PTY console is required");
    for (const auto &c : live->consoles)
        if (c.type != "pty")
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                              "Only PTY console types are supported");

    std::shared_ptr<Container> container;
    bool labelled = false;
    try {
        // sVirt: the generated label/imagelabel go into the live definition
        // (dumpxml shows them, the live state file keeps them for reserve()
        // after a daemon restart) before the runtime builds the container
        // from it.
        security_->generate(*live);
        labelled = true;
        security_->setAllLabel(*live);
        container = runtime_.start(*live, config_.paths, exitCallback(obj, generation));
        if (!container)
            throw lxcError(VIR_ERR_INTERNAL_ERROR, "container runtime returned no container");
    } catch (...) {
        if (labelled)
            releaseSecurity(*live);
        std::lock_guard<std::mutex> lk(obj->mu);
        obj->state = VIR_DOMAIN_SHUTOFF;
        obj->reason = VIR_DOMAIN_SHUTOFF_FAILED;
        throw;
    }

    RunState run = container->runState();
    for (size_t i = 0; i < live->consoles.size(); i++) {
        live->consoles[i].alias = "console" + std::to_string(i);
        live->consoles[i].tty = i < run.console_ttys.size() ? run.console_ttys[i] : std::string();
    }

    std::optional<ExitReason> early;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->persistent && !obj->newDef)
            obj->newDef = obj->def;
        obj->def = live;
        obj->container = container;
        obj->run = run;
        obj->id = int(run.controller_pid);
        obj->active = true;
        obj->state = VIR_DOMAIN_RUNNING;
        obj->reason = running_reason;
        early = obj->early_exit;
        events.push_back(lifecycle(obj->ref(), VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED));
        if (!early) {
            try {
                saveLiveLocked(*obj);
            } catch (...) {
                // Without a state file a daemon restart would lose the
                // container: refuse to run it at all.
                obj->destroying = true;
            }
        }
    }
    bool failed_save;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        failed_save = obj->destroying;
    }
    if (failed_save) {
        try {
            container->destroy(false);
        } catch (...) {
        }
        std::lock_guard<std::mutex> lk(obj->mu);
        obj->destroying = false;
        if (obj->active && obj->container == container)
            stopLocked(*obj, VIR_DOMAIN_SHUTOFF_FAILED, false);
        events.clear();
        throw lxcError(VIR_ERR_OPERATION_FAILED,
                       "cannot write live state file '" + livePath(obj->name) + "'");
    }
    if (early) {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->active && obj->container == container)
            finishExitLocked(obj, *early, events);
        return;
    }
    if (paused) {
        try {
            container->suspend();
        } catch (const Error &e) {
            // A start asked to be paused must not leave the domain running
            // unpaused; one whose init exited at once is being reported
            // shut off by its controller.
            bool gone = containerExited(*container);
            if (!gone) {
                try {
                    container->destroy(false);
                } catch (...) {
                }
            }
            throw lxcError(VIR_ERR_OPERATION_FAILED,
                           gone ? std::string("the domain exited before it could be paused")
                                : std::string("Suspend operation failed: ") + e.what());
        }
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->active && obj->container == container) {
            obj->state = VIR_DOMAIN_PAUSED;
            obj->reason = VIR_DOMAIN_PAUSED_USER;
            saveLiveLocked(*obj);
            events.push_back(
                lifecycle(obj->ref(), VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED));
        }
    }
}

// obj.mu held. Marks the domain shut off and forgets its container;
// `keep_live_def` keeps the live definition for a reboot.
void LxcDriver::stopLocked(DomainObj &obj, int shutoff_reason, bool keep_live_def)
{
    if (obj.active && obj.def && security_->model() != "none") {
        // The generated labels go with the container: a reboot (which
        // starts from this definition) or the next start draws a new pair.
        auto def = std::make_shared<DomainDef>(*obj.def);
        releaseSecurity(*def);
        obj.def = def;
    }
    obj.generation++;
    obj.active = false;
    obj.state = VIR_DOMAIN_SHUTOFF;
    obj.reason = shutoff_reason;
    obj.id = -1;
    obj.run = RunState{};
    obj.updated = false;
    obj.early_exit.reset();
    if (obj.container)
        releaseContainer(std::move(obj.container));
    obj.container.reset();
    try {
        removeFile(livePath(obj.name));
    } catch (const Error &e) {
        g_warning("lxvirt: %s", e.what());
    }
    if (!keep_live_def && obj.newDef) {
        obj.def = obj.newDef;
        obj.newDef.reset();
    }
}

// obj->mu held.
void LxcDriver::finishExitLocked(const ObjPtr &obj, ExitReason why, Events &events)
{
    if (obj->destroying)
        why = ExitReason::Destroyed;
    if (why == ExitReason::Reboot && obj->def && obj->def->on_reboot == LifecycleAction::Destroy)
        why = ExitReason::Shutdown;

    if (why == ExitReason::Reboot) {
        stopLocked(*obj, VIR_DOMAIN_SHUTOFF_SHUTDOWN, true);
        obj->rebooting = true;
        std::weak_ptr<LxcDriver> self = weak_from_this();
        spawnWorker([self, obj] {
            if (auto drv = self.lock())
                drv->rebootJob(obj);
        });
        return;
    }

    int reason = VIR_DOMAIN_SHUTOFF_SHUTDOWN, detail = VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN;
    switch (why) {
    case ExitReason::Shutdown:
        break;
    case ExitReason::Destroyed:
        reason = VIR_DOMAIN_SHUTOFF_DESTROYED;
        detail = VIR_DOMAIN_EVENT_STOPPED_DESTROYED;
        break;
    case ExitReason::Crashed:
        reason = VIR_DOMAIN_SHUTOFF_CRASHED;
        detail = VIR_DOMAIN_EVENT_STOPPED_CRASHED;
        break;
    case ExitReason::Reboot:
        break;
    }
    DomainRef ref = obj->ref();
    stopLocked(*obj, reason, false);
    events.push_back(lifecycle(ref, VIR_DOMAIN_EVENT_STOPPED, detail));
    if (!obj->persistent)
        removeObjLocked(*obj);
}

void LxcDriver::onContainerExit(const ObjPtr &obj, uint64_t generation, ExitReason why)
{
    Events events;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->generation != generation)
            return; // a stop already accounted for this container
        if (!obj->active || !obj->container) {
            // start() has not returned yet: let the start job finish it.
            obj->early_exit = why;
            return;
        }
        finishExitLocked(obj, why, events);
    }
    emit(events);
}

void LxcDriver::rebootJob(const ObjPtr &obj)
{
    std::unique_lock<std::timed_mutex> job(obj->job);
    Events events;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->rebooting || obj->removed || obj->active)
            return;
    }
    DomainRef ref;
    try {
        startLocked(obj, VIR_DOMAIN_RUNNING_BOOTED, false, events);
        std::lock_guard<std::mutex> lk(obj->mu);
        obj->rebooting = false;
        ref = obj->ref();
        // A reboot reports REBOOT, not STARTED.
        events.erase(std::remove_if(events.begin(), events.end(),
                                    [](const DomainEvent &e) {
                                        return e.kind == DomainEvent::Kind::Lifecycle &&
                                               e.lifecycle.event == VIR_DOMAIN_EVENT_STARTED;
                                    }),
                     events.end());
        events.insert(events.begin(), rebootEvent(ref));
    } catch (const std::exception &e) {
        g_warning("lxvirt: restart of domain '%s' after reboot failed: %s", obj->name.c_str(), e.what());
        std::lock_guard<std::mutex> lk(obj->mu);
        obj->rebooting = false;
        if (obj->newDef) {
            obj->def = obj->newDef;
            obj->newDef.reset();
        }
        obj->state = VIR_DOMAIN_SHUTOFF;
        obj->reason = VIR_DOMAIN_SHUTOFF_SHUTDOWN;
        events.push_back(lifecycle(obj->ref(), VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN));
        if (!obj->persistent)
            removeObjLocked(*obj);
    }
    job.unlock();
    emit(events);
}

// The Container may be inside its own callback (or a destroy() that called
// it) when it is dropped here: the last reference goes from an idle callback
// on the main context instead.
void LxcDriver::releaseContainer(std::shared_ptr<Container> c)
{
    if (!c)
        return;
    std::lock_guard<std::mutex> lk(release_mu_);
    released_.push_back(std::move(c));
    if (release_scheduled_)
        return;
    release_scheduled_ = true;
    std::weak_ptr<LxcDriver> *self = new std::weak_ptr<LxcDriver>(weak_from_this());
    GSource *src = g_idle_source_new();
    g_source_set_callback(
        src,
        [](gpointer data) -> gboolean {
            auto *w = static_cast<std::weak_ptr<LxcDriver> *>(data);
            if (auto drv = w->lock()) {
                {
                    std::lock_guard<std::mutex> lk(drv->release_mu_);
                    drv->release_scheduled_ = false;
                }
                drv->drainReleased();
            }
            return G_SOURCE_REMOVE;
        },
        self, [](gpointer data) { delete static_cast<std::weak_ptr<LxcDriver> *>(data); });
    g_source_attach(src, main_context_);
    g_source_unref(src);
}

DomainRef LxcDriver::create(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY, "lxcDomainCreateWithFiles");
    if (flags & VIR_DOMAIN_START_AUTODESTROY)
        throw lxcError(VIR_ERR_ARGUMENT_UNSUPPORTED, "autodestroy is not supported by lxvirt yet");
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    Events events;
    startLocked(obj, VIR_DOMAIN_RUNNING_BOOTED, flags & VIR_DOMAIN_START_PAUSED, events);
    DomainRef ref;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        ref = obj->ref();
    }
    job.unlock();
    emit(events);
    return ref;
}

DomainRef LxcDriver::createXml(const std::string &xml, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_START_PAUSED | VIR_DOMAIN_START_AUTODESTROY | VIR_DOMAIN_START_VALIDATE,
               "lxcDomainCreateXMLWithFiles");
    if (flags & VIR_DOMAIN_START_AUTODESTROY)
        throw lxcError(VIR_ERR_ARGUMENT_UNSUPPORTED, "autodestroy is not supported by lxvirt yet");
    auto def = std::make_shared<DomainDef>(parseForDefine(xml));
    Events events;

    for (;;) {
        auto [obj, created, job] = claimForDef(def, /*publish_def=*/true);
        DefPtr saved_persistent;
        {
            std::lock_guard<std::mutex> lk(obj->mu);
            if (obj->removed)
                continue;
            if (!created) {
                if (obj->active)
                    throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_DOMAIN,
                                      "domain '" + obj->name + "' is already active");
                // Run the given definition once; the persistent one stays.
                saved_persistent = obj->def;
                obj->newDef = obj->def;
                obj->def = def;
            }
        }
        try {
            startLocked(obj, VIR_DOMAIN_RUNNING_BOOTED, flags & VIR_DOMAIN_START_PAUSED, events);
        } catch (...) {
            std::lock_guard<std::mutex> lk(obj->mu);
            if (created) {
                removeObjLocked(*obj);
            } else if (!obj->active) {
                obj->def = saved_persistent;
                obj->newDef.reset();
            }
            throw;
        }
        DomainRef ref;
        {
            std::lock_guard<std::mutex> lk(obj->mu);
            ref = obj->ref();
        }
        job.unlock();
        emit(events);
        return ref;
    }
}

void LxcDriver::destroy(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_DESTROY_GRACEFUL, "lxcDomainDestroyFlags");
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    std::shared_ptr<Container> container;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->active || !obj->container)
            throw notRunning();
        container = obj->container;
        obj->destroying = true;
    }
    Events events;
    try {
        container->destroy(flags & VIR_DOMAIN_DESTROY_GRACEFUL);
    } catch (...) {
        std::lock_guard<std::mutex> lk(obj->mu);
        obj->destroying = false;
        throw;
    }
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        // Normally the exit callback has already run; if it has not been
        // delivered yet, account for the stop here (it is then ignored).
        if (obj->active && obj->container == container)
            finishExitLocked(obj, ExitReason::Destroyed, events);
        obj->destroying = false;
    }
    job.unlock();
    emit(events);
}

void LxcDriver::shutdown(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_SHUTDOWN_INITCTL | VIR_DOMAIN_SHUTDOWN_SIGNAL, "lxcDomainShutdownFlags");
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    activeContainer(obj)->shutdown(flags);
}

void LxcDriver::reboot(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_REBOOT_INITCTL | VIR_DOMAIN_REBOOT_SIGNAL, "lxcDomainReboot");
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    activeContainer(obj)->reboot(flags);
}

void LxcDriver::suspend(const DomainRef &dom)
{
    setPaused(dom, true);
}

void LxcDriver::resume(const DomainRef &dom)
{
    setPaused(dom, false);
}

// Freezes or thaws the container; a domain already in the wanted state is
// left alone (as libvirt does), otherwise state, live file and event follow.
void LxcDriver::setPaused(const DomainRef &dom, bool pause)
{
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    auto container = activeContainer(obj);
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if ((obj->state == VIR_DOMAIN_PAUSED) == pause)
            return;
    }
    try {
        if (pause)
            container->suspend();
        else
            container->resume();
    } catch (const Error &e) {
        if (containerExited(*container))
            throw notRunning();
        throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_LXC,
                          std::string(pause ? "Suspend" : "Resume") + " operation failed: " + e.what());
    }
    Events events;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->active || obj->container != container)
            return;
        obj->state = pause ? VIR_DOMAIN_PAUSED : VIR_DOMAIN_RUNNING;
        obj->reason = pause ? int(VIR_DOMAIN_PAUSED_USER) : int(VIR_DOMAIN_RUNNING_UNPAUSED);
        saveLiveLocked(*obj);
        events.push_back(pause ? lifecycle(obj->ref(), VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)
                               : lifecycle(obj->ref(), VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED));
    }
    job.unlock();
    emit(events);
}

// ---------------------------------------------------------------------------
// queries

DomainInfo LxcDriver::getInfo(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    DomainInfo info;
    std::shared_ptr<Container> container;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        info.state = obj->state;
        info.max_mem_kib = obj->def->memory_kib;
        info.nr_virt_cpu = obj->def->vcpus_current.value_or(obj->def->vcpus);
        if (obj->active)
            container = obj->container;
        else
            info.memory_kib =
                obj->def->current_memory_kib ? obj->def->current_memory_kib : obj->def->memory_kib;
    }
    if (container) {
        try {
            info.cpu_time_ns = container->cgroup().cpuUsageNs();
        } catch (const Error &) {
            throw lxcError(VIR_ERR_OPERATION_FAILED, "Cannot read cputime for domain");
        }
        try {
            info.memory_kib = container->cgroup().memoryUsage();
        } catch (const Error &) {
            info.memory_kib = 0;
        }
    }
    return info;
}

std::pair<int, int> LxcDriver::getState(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, 0, "lxcDomainGetState");
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    return {obj->state, obj->reason};
}

std::string LxcDriver::getXmlDesc(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_MIGRATABLE,
               "lxcDomainGetXMLDesc");
    ObjPtr obj = objFor(dom);
    DefPtr def;
    FormatOptions opts;
    opts.secure = flags & VIR_DOMAIN_XML_SECURE;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        bool inactive = flags & (VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_MIGRATABLE);
        def = inactive && obj->newDef ? obj->newDef : obj->def;
        opts.inactive = inactive || !obj->active;
        opts.id = obj->active && !opts.inactive ? obj->id : -1;
    }
    return formatDomainXml(*def, opts);
}

bool LxcDriver::getAutostart(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    return obj->autostart;
}

void LxcDriver::setAutostart(const DomainRef &dom, bool autostart)
{
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    if (!obj->persistent)
        throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                          "Cannot set autostart for transient domain");
    if (obj->autostart == autostart)
        return;
    std::string link = autostartPath(obj->name);
    if (autostart) {
        makeDirs(autostartDir());
        std::string target = "../" + obj->name + ".xml";
        if (symlink(target.c_str(), link.c_str()) < 0 && errno != EEXIST)
            throw Error::system(errno, "Failed to create symlink '" + link + "' to '" + target + "'");
    } else {
        if (unlink(link.c_str()) < 0 && errno != ENOENT && errno != ENOTDIR)
            throw Error::system(errno, "Failed to delete symlink '" + link + "'");
    }
    obj->autostart = autostart;
}

bool LxcDriver::isActive(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    return obj->active;
}

bool LxcDriver::isPersistent(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    return obj->persistent;
}

bool LxcDriver::isUpdated(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    return obj->updated;
}

std::string LxcDriver::getOsType(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    return obj->def->os_type.empty() ? "exe" : obj->def->os_type;
}

uint64_t LxcDriver::getMaxMemory(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    return obj->def->memory_kib;
}

void LxcDriver::setMaxMemory(const DomainRef &dom, uint64_t kib)
{
    setMemoryFlags(dom, kib, VIR_DOMAIN_MEM_MAXIMUM);
}

void LxcDriver::setMemoryFlags(const DomainRef &dom, uint64_t kib, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_DOMAIN_MEM_MAXIMUM,
               "lxcDomainSetMemoryFlags");
    ObjPtr obj = objFor(dom);
    auto job = beginJob(obj, dom);
    std::unique_lock<std::mutex> lk(obj->mu);
    Targets t = targetsLocked(*obj, flags);
    std::shared_ptr<DomainDef> live, persistent;
    if (flags & VIR_DOMAIN_MEM_MAXIMUM) {
        if (t.live)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                              "Cannot resize the max memory on an active domain");
        persistent = std::make_shared<DomainDef>(*t.persistentDef);
        persistent->memory_kib = kib;
        if (persistent->current_memory_kib > kib)
            persistent->current_memory_kib = kib;
        commitLocked(*obj, nullptr, persistent);
        return;
    }
    uint64_t oldmax = 0;
    if (t.live)
        oldmax = t.liveDef->memory_kib;
    if (t.config && (!oldmax || oldmax > t.persistentDef->memory_kib))
        oldmax = t.persistentDef->memory_kib;
    if (kib > oldmax)
        throw lxcError(VIR_ERR_INVALID_ARG, "Cannot set memory higher than max memory");
    if (t.live) {
        // libvirt's virCgroupSetMemory writes the hard limit.
        try {
            liveRead(*t.container, [&] { t.container->cgroup().setMemoryHardLimit(kib); });
        } catch (const Error &e) {
            if (e.code() == VIR_ERR_OPERATION_INVALID)
                throw;
            throw lxcError(VIR_ERR_OPERATION_FAILED,
                           std::string("Failed to set memory for domain: ") + e.what());
        }
        live = std::make_shared<DomainDef>(*t.liveDef);
        live->current_memory_kib = kib;
    }
    if (t.config) {
        persistent = std::make_shared<DomainDef>(*t.persistentDef);
        persistent->current_memory_kib = kib;
    }
    commitLocked(*obj, live, persistent);
}

std::string LxcDriver::getHostname(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, 0, "lxcDomainGetHostname");
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    if (!obj->active)
        throw notRunning();
    // Hostnames come from DHCP leases of libvirt networks, which lxvirt has none of.
    throw Error(VIR_ERR_NO_HOSTNAME, VIR_FROM_LXC,
                "no hostname found: no hostname found for domain " + obj->name);
}

SecurityLabel LxcDriver::getSecurityLabel(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    SecurityLabel label;
    if (obj->active && obj->run.init_pid <= 0)
        throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "Init pid is not yet available");
    if (!obj->active)
        return label;
    security::ProcessLabel pl = security_->processLabel(obj->run.init_pid);
    label.label = pl.label;
    label.enforcing = pl.enforcing ? 1 : 0;
    return label;
}

// ---------------------------------------------------------------------------
// tunables

TypedParams LxcDriver::getMemoryParameters(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_TYPED_PARAM_STRING_OKAY,
               "lxcDomainGetMemoryParameters");
    ObjPtr obj = objFor(dom);
    std::lock_guard<std::mutex> lk(obj->mu);
    Targets t = targetsLocked(*obj, flags & ~VIR_TYPED_PARAM_STRING_OKAY);
    const DomainDef &d = t.persistentDef ? *t.persistentDef : *t.liveDef;
    return {
        {VIR_DOMAIN_MEMORY_HARD_LIMIT, d.mem_hard_limit_kib.value_or(kMemUnlimited)},
        {VIR_DOMAIN_MEMORY_SOFT_LIMIT, d.mem_soft_limit_kib.value_or(kMemUnlimited)},
        {VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT, d.mem_swap_hard_limit_kib.value_or(kMemUnlimited)},
    };
}

void LxcDriver::setMemoryParameters(const DomainRef &dom, const TypedParams &params, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, "lxcDomainSetMemoryParameters");
    validateParams(params, {{VIR_DOMAIN_MEMORY_HARD_LIMIT, kULLong},
                            {VIR_DOMAIN_MEMORY_SOFT_LIMIT, kULLong},
                            {VIR_DOMAIN_MEMORY_SWAP_HARD_LIMIT, kULLong}});
    std::optional<uint64_t> hard, soft, swap;
    for (const auto &p : params) {
        uint64_t v = std::get<uint64_t>(p.value);
        if (p.field == VIR_DOMAIN_MEMORY_HARD_LIMIT)
            hard = v;
        else if (p.field == VIR_DOMAIN_MEMORY_SOFT_LIMIT)
            soft = v;
        else
            swap = v;
    }
    auto asOpt = [](uint64_t v) -> std::optional<uint64_t> {
        if (v >= kMemUnlimited)
            return std::nullopt;
        return v;
    };
    auto cg = [](uint64_t v) -> uint64_t { return v >= kMemUnlimited ? 0 : v; };
    changeTunables(
        dom, flags,
        [&](const DomainObj &obj) {
            // Swap hard limit must be greater than hard limit (compared
            // against the current definition, as libvirt does).
            if (!hard && !swap)
                return;
            uint64_t mem_limit = hard ? *hard : obj.def->mem_hard_limit_kib.value_or(kMemUnlimited);
            uint64_t swap_limit = swap ? *swap : obj.def->mem_swap_hard_limit_kib.value_or(kMemUnlimited);
            if (mem_limit > swap_limit)
                throw lxcError(VIR_ERR_INVALID_ARG,
                               "memory hard_limit tunable value must be lower than or equal to swap_hard_limit");
        },
        [&](DomainDef &live, cgroup::Cgroup &c) {
            if (soft) {
                c.setMemorySoftLimit(cg(*soft));
                live.mem_soft_limit_kib = asOpt(*soft);
            }
            // Lower the hard limit before the swap limit, raise it after, so
            // the kernel never sees memory > memory+swap.
            uint64_t cur_hard = live.mem_hard_limit_kib.value_or(kMemUnlimited);
            bool hard_done = false;
            if (hard && cur_hard > *hard) {
                c.setMemoryHardLimit(cg(*hard));
                live.mem_hard_limit_kib = asOpt(*hard);
                hard_done = true;
            }
            if (swap) {
                c.setMemorySwapHardLimit(cg(*swap));
                live.mem_swap_hard_limit_kib = asOpt(*swap);
            }
            if (hard && !hard_done) {
                c.setMemoryHardLimit(cg(*hard));
                live.mem_hard_limit_kib = asOpt(*hard);
            }
        },
        [&](DomainDef &persistent) {
            if (soft)
                persistent.mem_soft_limit_kib = asOpt(*soft);
            if (hard)
                persistent.mem_hard_limit_kib = asOpt(*hard);
            if (swap)
                persistent.mem_swap_hard_limit_kib = asOpt(*swap);
        });
}

std::pair<std::string, int> LxcDriver::getSchedulerType(const DomainRef &dom)
{
    objFor(dom);
    return {"posix", 3};
}

TypedParams LxcDriver::getSchedulerParameters(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_TYPED_PARAM_STRING_OKAY,
               "lxcDomainGetSchedulerParametersFlags");
    ObjPtr obj = objFor(dom);
    Targets t;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        t = targetsLocked(*obj, flags & ~VIR_TYPED_PARAM_STRING_OKAY);
    }
    if (t.persistentDef) {
        const DomainDef &d = *t.persistentDef;
        return {{VIR_DOMAIN_SCHEDULER_CPU_SHARES, d.cpu_shares.value_or(0)},
                {VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, d.cpu_period.value_or(0)},
                {VIR_DOMAIN_SCHEDULER_VCPU_QUOTA, d.cpu_quota.value_or(0)}};
    }
    const DomainDef &d = *t.liveDef;
    uint64_t shares = d.cpu_shares.value_or(0);
    try {
        shares = t.container->cgroup().cpuShares();
    } catch (const Error &) {
        throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "cgroup CPU controller is not mounted");
    }
    // The kernel's defaults when the definition sets none.
    return {{VIR_DOMAIN_SCHEDULER_CPU_SHARES, shares},
            {VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, d.cpu_period.value_or(100000)},
            {VIR_DOMAIN_SCHEDULER_VCPU_QUOTA, d.cpu_quota.value_or(-1)}};
}

void LxcDriver::setSchedulerParameters(const DomainRef &dom, const TypedParams &params, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
               "lxcDomainSetSchedulerParametersFlags");
    validateParams(params, {{VIR_DOMAIN_SCHEDULER_CPU_SHARES, kULLong},
                            {VIR_DOMAIN_SCHEDULER_VCPU_PERIOD, kULLong},
                            {VIR_DOMAIN_SCHEDULER_VCPU_QUOTA, kLLong}});
    std::optional<uint64_t> shares, period;
    std::optional<int64_t> quota;
    for (const auto &p : params) {
        if (p.field == VIR_DOMAIN_SCHEDULER_CPU_SHARES)
            shares = std::get<uint64_t>(p.value);
        else if (p.field == VIR_DOMAIN_SCHEDULER_VCPU_PERIOD)
            period = std::get<uint64_t>(p.value);
        else
            quota = std::get<int64_t>(p.value);
    }
    // virCgroupSetupCpuPeriodQuota's bounds; 0 means "leave unchanged".
    if (period && *period && (*period < kCfsPeriodMin || *period > kCfsPeriodMax))
        throw lxcError(VIR_ERR_INVALID_ARG, "cfs_period '" + std::to_string(*period) +
                                                "' must be in range (" + std::to_string(kCfsPeriodMin) +
                                                ", " + std::to_string(kCfsPeriodMax) + ")");
    if (quota && *quota > 0 && (*quota < kCfsQuotaMin || *quota > kCfsQuotaMax))
        throw lxcError(VIR_ERR_INVALID_ARG, "cfs_quota '" + std::to_string(*quota) + "' must be in range (" +
                                                std::to_string(kCfsQuotaMin) + ", " +
                                                std::to_string(kCfsQuotaMax) + ")");
    changeTunables(
        dom, flags, [](const DomainObj &) {},
        [&](DomainDef &live, cgroup::Cgroup &c) {
            if (shares) {
                c.setCpuShares(*shares);
                live.cpu_shares = *shares;
            }
            if ((period && *period) || (quota && *quota)) {
                if (period && *period)
                    live.cpu_period = *period;
                if (quota && *quota)
                    live.cpu_quota = *quota < 0 ? -1 : *quota;
                c.setCpuPeriodQuota(live.cpu_period.value_or(100000), live.cpu_quota.value_or(-1));
            }
        },
        [&](DomainDef &persistent) {
            if (shares)
                persistent.cpu_shares = *shares;
            if (period) {
                if (*period)
                    persistent.cpu_period = *period;
                else
                    persistent.cpu_period.reset();
            }
            if (quota) {
                if (*quota)
                    persistent.cpu_quota = *quota;
                else
                    persistent.cpu_quota.reset();
            }
        });
}

namespace blkio {
const char *const kDeviceFields[] = {VIR_DOMAIN_BLKIO_DEVICE_WEIGHT, VIR_DOMAIN_BLKIO_DEVICE_READ_IOPS,
                                     VIR_DOMAIN_BLKIO_DEVICE_WRITE_IOPS, VIR_DOMAIN_BLKIO_DEVICE_READ_BPS,
                                     VIR_DOMAIN_BLKIO_DEVICE_WRITE_BPS};

std::optional<uint64_t> get(const BlkioDevice &d, int which)
{
    switch (which) {
    case 0:
        return d.weight ? std::optional<uint64_t>(*d.weight) : std::nullopt;
    case 1:
        return d.read_iops_sec;
    case 2:
        return d.write_iops_sec;
    case 3:
        return d.read_bytes_sec;
    default:
        return d.write_bytes_sec;
    }
}

void set(BlkioDevice &d, int which, uint64_t v)
{
    // A zero removes the setting (libvirt drops zero entries on output).
    switch (which) {
    case 0:
        d.weight = v ? std::optional<unsigned>(unsigned(v)) : std::nullopt;
        break;
    case 1:
        d.read_iops_sec = v ? std::optional<uint64_t>(v) : std::nullopt;
        break;
    case 2:
        d.write_iops_sec = v ? std::optional<uint64_t>(v) : std::nullopt;
        break;
    case 3:
        d.read_bytes_sec = v ? std::optional<uint64_t>(v) : std::nullopt;
        break;
    default:
        d.write_bytes_sec = v ? std::optional<uint64_t>(v) : std::nullopt;
        break;
    }
}

int fieldIndex(const std::string &field)
{
    for (int i = 0; i < 5; i++)
        if (field == kDeviceFields[i])
            return i;
    return -1;
}

void merge(DomainDef &def, int which, const std::vector<std::pair<std::string, uint64_t>> &devices)
{
    for (const auto &[path, value] : devices) {
        auto it = std::find_if(def.blkio_devices.begin(), def.blkio_devices.end(),
                               [&](const BlkioDevice &d) { return d.path == path; });
        if (it == def.blkio_devices.end()) {
            if (!value)
                continue;
            def.blkio_devices.push_back(BlkioDevice{});
            it = def.blkio_devices.end() - 1;
            it->path = path;
        }
        set(*it, which, value);
    }
    def.blkio_devices.erase(
        std::remove_if(def.blkio_devices.begin(), def.blkio_devices.end(), blkioDeviceEmpty),
        def.blkio_devices.end());
}
} // namespace blkio

TypedParams LxcDriver::getBlkioParameters(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG | VIR_TYPED_PARAM_STRING_OKAY,
               "lxcDomainGetBlkioParameters");
    ObjPtr obj = objFor(dom);
    DefPtr def;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        Targets t = targetsLocked(*obj, flags & ~VIR_TYPED_PARAM_STRING_OKAY);
        def = t.liveDef ? t.liveDef : t.persistentDef;
    }
    TypedParams out;
    out.push_back({VIR_DOMAIN_BLKIO_WEIGHT, uint32_t(def->blkio_weight.value_or(0))});
    for (int i = 0; i < 5; i++) {
        std::string list;
        for (const auto &d : def->blkio_devices) {
            auto v = blkio::get(d, i);
            if (!v || !*v)
                continue;
            if (!list.empty())
                list += ',';
            list += d.path + "," + std::to_string(*v);
        }
        out.push_back({blkio::kDeviceFields[i], list});
    }
    return out;
}

void LxcDriver::setBlkioParameters(const DomainRef &dom, const TypedParams &params, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG, "lxcDomainSetBlkioParameters");
    std::vector<std::pair<const char *, size_t>> allowed = {{VIR_DOMAIN_BLKIO_WEIGHT, kUInt}};
    for (const char *f : blkio::kDeviceFields)
        allowed.emplace_back(f, kString);
    validateParams(params, allowed);

    std::optional<unsigned> weight;
    std::vector<std::pair<int, std::vector<std::pair<std::string, uint64_t>>>> devices;
    for (const auto &p : params) {
        if (p.field == VIR_DOMAIN_BLKIO_WEIGHT) {
            unsigned w = std::get<uint32_t>(p.value);
            if (w > 1000 || w < 100)
                throw lxcError(VIR_ERR_INVALID_ARG, "out of blkio weight range.");
            weight = w;
        } else {
            int which = blkio::fieldIndex(p.field);
            auto list = parseBlkioDevices(p.field, std::get<std::string>(p.value));
            if (which == 0)
                for (const auto &[path, v] : list)
                    if (v && (v > 1000 || v < 100))
                        throw lxcError(VIR_ERR_INVALID_ARG, "out of blkio weight range.");
            devices.emplace_back(which, std::move(list));
        }
    }

    changeTunables(
        dom, flags, [](const DomainObj &) {},
        [&](DomainDef &live, cgroup::Cgroup &c) {
            if (weight) {
                c.setBlkioWeight(*weight);
                live.blkio_weight = *weight;
            }
            for (const auto &[which, list] : devices) {
                for (const auto &[path, v] : list) {
                    std::string mm = blockMajMin(path);
                    if (which == 0) {
                        c.setBlkioDeviceWeight(mm, unsigned(v));
                    } else {
                        std::optional<uint64_t> rb, wb, ri, wi;
                        // 0 in the kernel's throttle files removes the limit.
                        if (which == 1)
                            ri = v;
                        if (which == 2)
                            wi = v;
                        if (which == 3)
                            rb = v;
                        if (which == 4)
                            wb = v;
                        c.setBlkioThrottle(mm, rb, wb, ri, wi);
                    }
                }
                blkio::merge(live, which, list);
            }
        },
        [&](DomainDef &persistent) {
            if (weight)
                persistent.blkio_weight = *weight;
            for (const auto &[which, list] : devices)
                blkio::merge(persistent, which, list);
        });
}

// ---------------------------------------------------------------------------
// stats, console, namespaces

std::vector<std::pair<int, uint64_t>> LxcDriver::memoryStats(const DomainRef &dom, unsigned nr)
{
    ObjPtr obj = objFor(dom);
    std::shared_ptr<Container> container;
    uint64_t balloon;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->active || !obj->container)
            throw notRunning();
        container = obj->container;
        balloon = obj->def->current_memory_kib ? obj->def->current_memory_kib : obj->def->memory_kib;
    }
    uint64_t rss = liveRead(*container, [&] { return container->cgroup().memoryUsage(); });
    // libvirt reports the memory+swap usage as SWAP_IN; the cgroup interface
    // has no memsw usage reader yet, so swap-in is reported as 0.
    std::vector<std::pair<int, uint64_t>> out = {
        {VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, balloon},
        {VIR_DOMAIN_MEMORY_STAT_SWAP_IN, 0},
        {VIR_DOMAIN_MEMORY_STAT_RSS, rss},
    };
    if (out.size() > nr)
        out.resize(nr);
    return out;
}

TypedParams LxcDriver::cpuStatsTotal(const DomainRef &dom)
{
    ObjPtr obj = objFor(dom);
    auto container = activeContainer(obj);
    cgroup::Cgroup &c = container->cgroup();
    uint64_t total = liveRead(*container, [&] { return c.cpuUsageNs(); });
    auto [user, sys] = liveRead(*container, [&] { return c.cpuUserSystemNs(); });
    return {{VIR_DOMAIN_CPU_STATS_CPUTIME, total},
            {VIR_DOMAIN_CPU_STATS_USERTIME, user},
            {VIR_DOMAIN_CPU_STATS_SYSTEMTIME, sys}};
}

int LxcDriver::openConsole(const DomainRef &dom, const std::string &dev_name, unsigned flags)
{
    checkFlags(flags, VIR_DOMAIN_CONSOLE_FORCE | VIR_DOMAIN_CONSOLE_SAFE, "lxcDomainOpenConsole");
    ObjPtr obj = objFor(dom);
    std::shared_ptr<Container> container;
    int index = -1;
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->active || !obj->container)
            throw notRunning();
        container = obj->container;
        const auto &consoles = obj->def->consoles;
        if (dev_name.empty()) {
            if (!consoles.empty())
                index = 0;
        } else {
            for (size_t i = 0; i < consoles.size(); i++)
                if (consoles[i].alias == dev_name)
                    index = int(i);
        }
        if (index < 0)
            throw lxcError(VIR_ERR_INTERNAL_ERROR,
                           "cannot find console device '" +
                               (dev_name.empty() ? std::string("default") : dev_name) + "'");
        if (consoles[size_t(index)].type != "pty")
            throw lxcError(VIR_ERR_INTERNAL_ERROR, "character device " + dev_name + " is not using a PTY");
    }
    return container->openConsole(index, flags & VIR_DOMAIN_CONSOLE_FORCE);
}

std::vector<int> LxcDriver::openNamespaces(const DomainRef &dom, unsigned flags)
{
    checkFlags(flags, 0, "lxcDomainLxcOpenNamespace");
    ObjPtr obj = objFor(dom);
    {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->active && obj->run.init_pid <= 0)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "Init pid is not yet available");
    }
    return activeContainer(obj)->openNamespaces();
}

// ---------------------------------------------------------------------------
// loading at driver start

std::vector<std::string> xmlFilesIn(const std::string &dir)
{
    std::vector<std::string> names;
    DIR *d = opendir(dir.c_str());
    if (!d)
        return names;
    while (struct dirent *e = readdir(d)) {
        std::string n = e->d_name;
        if (n.size() > 4 && n.compare(n.size() - 4, 4, ".xml") == 0 && n[0] != '.')
            names.push_back(n.substr(0, n.size() - 4));
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

void LxcDriver::load()
{
    makeDirs(config_.config_dir);
    makeDirs(config_.paths.run_dir);
    if (!config_.paths.log_dir.empty())
        makeDirs(config_.paths.log_dir);

    Events events;
    // 1. Live state first, so running containers are found again.
    for (const auto &name : xmlFilesIn(config_.paths.run_dir)) {
        std::string path = livePath(name);
        LiveState st;
        try {
            st = parseLiveState(readFile(path));
        } catch (const std::exception &e) {
            g_warning("lxvirt: ignoring unreadable live state '%s': %s", path.c_str(), e.what());
            continue;
        }
        if (st.def.name != name) {
            g_warning("lxvirt: live state '%s' holds domain '%s'; ignored", path.c_str(),
                      st.def.name.c_str());
            continue;
        }
        auto obj = std::make_shared<DomainObj>();
        obj->name = st.def.name;
        obj->uuid = st.def.uuid;
        auto live = std::make_shared<DomainDef>(st.def);
        obj->def = live;
        uint64_t generation = ++obj->generation;
        std::unique_ptr<Container> c;
        try {
            c = runtime_.reconnect(*live, st.run, config_.paths, exitCallback(obj, generation));
        } catch (const std::exception &e) {
            g_message("lxvirt: domain '%s' is gone (%s): cleaning up", name.c_str(), e.what());
        }
        if (!c) {
            // The container is gone: only its file labels are left to undo
            // (its pair was never held by this daemon).
            try {
                security_->restoreAllLabel(*live);
            } catch (const std::exception &e) {
                g_warning("lxvirt: domain '%s': %s", name.c_str(), e.what());
            }
            try {
                runtime_.cleanupStale(*live, st.run, config_.paths);
            } catch (const std::exception &e) {
                g_warning("lxvirt: cleanup after domain '%s' failed: %s", name.c_str(), e.what());
            }
            removeFile(path);
            obj->state = VIR_DOMAIN_SHUTOFF;
            obj->reason = VIR_DOMAIN_SHUTOFF_CRASHED;
            events.push_back(
                lifecycle(obj->ref(), VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED));
            // Kept (inactive, transient) only until the persistent configs
            // are read: a persistent domain remembers why it stopped.
            addObj(obj);
            continue;
        }
        std::shared_ptr<Container> container(std::move(c));
        obj->run = container->runState();
        if (obj->run.controller_pid <= 0)
            obj->run = st.run;
        obj->container = container;
        obj->active = true;
        obj->id = int(obj->run.controller_pid);
        try {
            // Hold the running container's pair again so no new start
            // draws it; the label comes from the init process itself.
            auto held = std::make_shared<DomainDef>(*live);
            security_->reserve(*held, obj->run.init_pid);
            obj->def = held;
        } catch (const std::exception &e) {
            g_warning("lxvirt: domain '%s': %s", name.c_str(), e.what());
        }
        bool paused = false;
        try {
            paused = container->isPaused();
        } catch (...) {
        }
        obj->state = paused ? VIR_DOMAIN_PAUSED : VIR_DOMAIN_RUNNING;
        obj->reason = paused ? (st.state == VIR_DOMAIN_PAUSED ? st.reason : int(VIR_DOMAIN_PAUSED_UNKNOWN))
                             : (st.state == VIR_DOMAIN_RUNNING ? st.reason : int(VIR_DOMAIN_RUNNING_UNKNOWN));
        addObj(obj);
        std::lock_guard<std::mutex> lk(obj->mu);
        if (obj->early_exit) {
            finishExitLocked(obj, *obj->early_exit, events);
        } else {
            try {
                saveLiveLocked(*obj);
            } catch (const std::exception &e) {
                g_warning("lxvirt: %s", e.what());
            }
        }
    }

    // 2. Persistent definitions.
    for (const auto &name : xmlFilesIn(config_.config_dir)) {
        std::string path = configPath(name);
        std::shared_ptr<DomainDef> def;
        try {
            def = std::make_shared<DomainDef>(parseDomainXml(readFile(path), PARSE_INACTIVE));
        } catch (const std::exception &e) {
            g_warning("lxvirt: ignoring definition '%s': %s", path.c_str(), e.what());
            continue;
        }
        if (def->name != name) {
            g_warning("lxvirt: definition '%s' names domain '%s'; ignored", path.c_str(), def->name.c_str());
            continue;
        }
        struct stat st {};
        bool autostart = lstat(autostartPath(name).c_str(), &st) == 0;
        ObjPtr obj = findByName(name);
        if (obj && obj->uuid != def->uuid) {
            g_warning("lxvirt: definition '%s' has a different uuid than the running domain; ignored",
                      path.c_str());
            continue;
        }
        if (!obj) {
            obj = std::make_shared<DomainObj>();
            obj->name = name;
            obj->uuid = def->uuid;
            obj->def = def;
            {
                std::lock_guard<std::mutex> lk(reg_mu_);
                if (by_uuid_.count(def->uuid)) {
                    g_warning("lxvirt: definition '%s' reuses the uuid of another domain; ignored",
                              path.c_str());
                    continue;
                }
            }
            addObj(obj);
        }
        std::lock_guard<std::mutex> lk(obj->mu);
        obj->persistent = true;
        obj->autostart = autostart;
        if (obj->active)
            obj->newDef = def;
        else
            obj->def = def;
    }

    // Crashed transient domains are gone now that their event is queued.
    for (const auto &obj : allObjs()) {
        std::lock_guard<std::mutex> lk(obj->mu);
        if (!obj->active && !obj->persistent)
            removeObjLocked(*obj);
    }
    emit(events);

    // 3. Autostart.
    if (!config_.run_autostart)
        return;
    for (const auto &obj : allObjs()) {
        {
            std::lock_guard<std::mutex> lk(obj->mu);
            if (!obj->autostart || obj->active || !obj->persistent)
                continue;
        }
        std::unique_lock<std::timed_mutex> job(obj->job);
        Events started;
        try {
            startLocked(obj, VIR_DOMAIN_RUNNING_BOOTED, false, started);
        } catch (const std::exception &e) {
            g_warning("lxvirt: failed to autostart domain '%s': %s", obj->name.c_str(), e.what());
        }
        job.unlock();
        emit(started);
    }
}

} // namespace

std::unique_ptr<DomainDriver> createDriverWith(const DriverConfig &config, Runtime runtime)
{
    // The driver hands weak references of itself to container callbacks, so
    // it lives in a shared_ptr; the caller's unique_ptr owns a thin handle.
    auto impl = std::make_shared<LxcDriver>(config, std::move(runtime));
    impl->load();

    class Handle : public DomainDriver {
    public:
        explicit Handle(std::shared_ptr<LxcDriver> d) : d_(std::move(d)) {}
        ~Handle() override { d_->stopWorkers(); }
        std::string type() const override { return d_->type(); }
        uint64_t hypervisorVersion() override { return d_->hypervisorVersion(); }
        std::string hostname() override { return d_->hostname(); }
        std::string capabilities() override { return d_->capabilities(); }
        NodeInfo nodeInfo() override { return d_->nodeInfo(); }
        uint64_t nodeFreeMemory() override { return d_->nodeFreeMemory(); }
        SecurityModel securityModel() override { return d_->securityModel(); }
        std::string domainXmlFromNative(const std::string &f, const std::string &c, unsigned fl) override
        {
            return d_->domainXmlFromNative(f, c, fl);
        }
        int supportsFeature(int feature) override { return d_->supportsFeature(feature); }
        std::vector<DomainRef> listAllDomains(unsigned flags) override { return d_->listAllDomains(flags); }
        std::vector<int> listDomainIds(int max) override { return d_->listDomainIds(max); }
        std::vector<std::string> listDefinedDomains(int max) override { return d_->listDefinedDomains(max); }
        int numOfDomains() override { return d_->numOfDomains(); }
        int numOfDefinedDomains() override { return d_->numOfDefinedDomains(); }
        DomainRef lookupByName(const std::string &n) override { return d_->lookupByName(n); }
        DomainRef lookupByUuid(const std::array<unsigned char, 16> &u) override
        {
            return d_->lookupByUuid(u);
        }
        DomainRef lookupById(int id) override { return d_->lookupById(id); }
        DomainRef defineXml(const std::string &x, unsigned f) override { return d_->defineXml(x, f); }
        void undefine(const DomainRef &d, unsigned f) override { d_->undefine(d, f); }
        DomainRef create(const DomainRef &d, unsigned f) override { return d_->create(d, f); }
        DomainRef createXml(const std::string &x, unsigned f) override { return d_->createXml(x, f); }
        void destroy(const DomainRef &d, unsigned f) override { d_->destroy(d, f); }
        void shutdown(const DomainRef &d, unsigned f) override { d_->shutdown(d, f); }
        void reboot(const DomainRef &d, unsigned f) override { d_->reboot(d, f); }
        void suspend(const DomainRef &d) override { d_->suspend(d); }
        void resume(const DomainRef &d) override { d_->resume(d); }
        DomainInfo getInfo(const DomainRef &d) override { return d_->getInfo(d); }
        std::pair<int, int> getState(const DomainRef &d, unsigned f) override { return d_->getState(d, f); }
        std::string getXmlDesc(const DomainRef &d, unsigned f) override { return d_->getXmlDesc(d, f); }
        bool getAutostart(const DomainRef &d) override { return d_->getAutostart(d); }
        void setAutostart(const DomainRef &d, bool a) override { d_->setAutostart(d, a); }
        bool isActive(const DomainRef &d) override { return d_->isActive(d); }
        bool isPersistent(const DomainRef &d) override { return d_->isPersistent(d); }
        bool isUpdated(const DomainRef &d) override { return d_->isUpdated(d); }
        std::string getOsType(const DomainRef &d) override { return d_->getOsType(d); }
        uint64_t getMaxMemory(const DomainRef &d) override { return d_->getMaxMemory(d); }
        void setMaxMemory(const DomainRef &d, uint64_t k) override { d_->setMaxMemory(d, k); }
        void setMemoryFlags(const DomainRef &d, uint64_t k, unsigned f) override
        {
            d_->setMemoryFlags(d, k, f);
        }
        std::string getHostname(const DomainRef &d, unsigned f) override { return d_->getHostname(d, f); }
        SecurityLabel getSecurityLabel(const DomainRef &d) override { return d_->getSecurityLabel(d); }
        TypedParams getMemoryParameters(const DomainRef &d, unsigned f) override
        {
            return d_->getMemoryParameters(d, f);
        }
        void setMemoryParameters(const DomainRef &d, const TypedParams &p, unsigned f) override
        {
            d_->setMemoryParameters(d, p, f);
        }
        std::pair<std::string, int> getSchedulerType(const DomainRef &d) override
        {
            return d_->getSchedulerType(d);
        }
        TypedParams getSchedulerParameters(const DomainRef &d, unsigned f) override
        {
            return d_->getSchedulerParameters(d, f);
        }
        void setSchedulerParameters(const DomainRef &d, const TypedParams &p, unsigned f) override
        {
            d_->setSchedulerParameters(d, p, f);
        }
        TypedParams getBlkioParameters(const DomainRef &d, unsigned f) override
        {
            return d_->getBlkioParameters(d, f);
        }
        void setBlkioParameters(const DomainRef &d, const TypedParams &p, unsigned f) override
        {
            d_->setBlkioParameters(d, p, f);
        }
        std::vector<std::pair<int, uint64_t>> memoryStats(const DomainRef &d, unsigned nr) override
        {
            return d_->memoryStats(d, nr);
        }
        TypedParams cpuStatsTotal(const DomainRef &d) override { return d_->cpuStatsTotal(d); }
        int openConsole(const DomainRef &d, const std::string &n, unsigned f) override
        {
            return d_->openConsole(d, n, f);
        }
        std::vector<int> openNamespaces(const DomainRef &d, unsigned f) override
        {
            return d_->openNamespaces(d, f);
        }
        void setEventSink(EventSink sink) override { d_->setEventSink(std::move(sink)); }

    private:
        std::shared_ptr<LxcDriver> d_;
    };
    return std::make_unique<Handle>(std::move(impl));
}

} // namespace lxvirt::lxc
