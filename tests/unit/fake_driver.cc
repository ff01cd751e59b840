#include "tests/unit/fake_driver.h"

#include <libvirt/libvirt.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <random>
#include <regex>
#include <csignal>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <thread>
#include <unistd.h>

namespace lxvirt::test {

namespace {

using Uuid = std::array<unsigned char, 16>;

std::string uuidString(const Uuid& u)
{
    char buf[37];
    std::snprintf(buf, sizeof buf, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                  u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return buf;
}

bool parseUuid(const std::string& s, Uuid& out)
{
    std::string hex;
    for (char c : s)
        if (c != '-')
            hex.push_back(c);
    if (hex.size() != 32)
        return false;
    for (size_t i = 0; i < 16; ++i) {
        unsigned v;
        if (std::sscanf(hex.c_str() + 2 * i, "%2x", &v) != 1)
            return false;
        out[i] = static_cast<unsigned char>(v);
    }
    return true;
}

Error xmlError(const std::string& what)
{
    return Error::make(VIR_ERR_XML_ERROR, VIR_FROM_DOMAIN, what);
}

// A console: the daemon gets one end of a socketpair; a thread on the other
// end prints a banner and echoes every byte back.
class FakeConsole {
public:
    explicit FakeConsole(const std::string& name)
    {
        int sv[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
            throw Error::system(errno, "socketpair");
        client_fd_ = sv[0];
        far_ = sv[1];
        std::string banner = "fake console of " + name + "\r\n";
        thread_ = std::thread([this, fd = far_, banner] {
            ssize_t ignored = ::write(fd, banner.data(), banner.size());
            (void)ignored;
            char buf[4096];
            for (;;) {
                ssize_t n = ::read(fd, buf, sizeof buf);
                if (n <= 0)
                    break;
                if (::write(fd, buf, static_cast<size_t>(n)) < 0)
                    break;
            }
            alive_ = false;  // the session's client went away
        });
    }
    ~FakeConsole()
    {
        ::shutdown(far_, SHUT_RDWR);  // wakes the echo thread and gives the daemon EOF
        thread_.join();
        ::close(far_);
    }
    bool alive() const { return alive_; }
    int takeClientFd()
    {
        int fd = client_fd_;
        client_fd_ = -1;
        return fd;
    }

private:
    int client_fd_ = -1;
    int far_ = -1;
    std::atomic<bool> alive_{true};
    std::thread thread_;
};

struct Dom {
    std::string name;
    Uuid uuid{};
    bool persistent = false;
    bool autostart = false;
    int state = VIR_DOMAIN_SHUTOFF;
    int reason = VIR_DOMAIN_SHUTOFF_UNKNOWN;
    int id = -1;
    uint64_t max_mem = 0, memory = 0;
    unsigned vcpus = 1;
    std::string init = "/sbin/init";
    std::map<std::string, TypedValue> sched, memtune, blkio;
    std::unique_ptr<FakeConsole> console;
    std::chrono::steady_clock::time_point started;
};

class FakeDriver : public DomainDriver {
public:
    explicit FakeDriver(const FakeDriverOptions& o) : opts_(o) {}

    ~FakeDriver() override
    {
        std::lock_guard lock(mu_);
        for (auto& [n, d] : doms_)
            if (d->id > 0)
                reap(d->id);
        doms_.clear();
    }

    uint64_t hypervisorVersion() override
    {
        struct utsname u;
        ::uname(&u);
        unsigned a = 0, b = 0, c = 0;
        std::sscanf(u.release, "%u.%u.%u", &a, &b, &c);
        return a * 1000000ull + b * 1000ull + c;
    }
    std::string hostname() override
    {
        char buf[256] = {};
        ::gethostname(buf, sizeof buf - 1);
        return buf;
    }
    std::string capabilities() override
    {
        return "<capabilities>\n  <host>\n    <cpu>\n      <arch>x86_64</arch>\n    </cpu>\n"
               "    <secmodel>\n      <model>none</model>\n      <doi>0</doi>\n    </secmodel>\n  </host>\n"
               "  <guest>\n    <os_type>exe</os_type>\n    <arch name='x86_64'>\n      <wordsize>64</wordsize>\n"
               "      <emulator>/usr/libexec/lxvirt/lxvirt-controller</emulator>\n      <domain type='lxc'/>\n"
               "    </arch>\n  </guest>\n</capabilities>\n";
    }
    NodeInfo nodeInfo() override
    {
        NodeInfo n;
        n.model = "x86_64";
        n.memory_kib = 8ull * 1024 * 1024;
        n.cpus = 2;
        n.mhz = 2000;
        n.cores = 2;
        return n;
    }
    uint64_t nodeFreeMemory() override { return 4ull << 30; }
    SecurityModel securityModel() override { return {"none", "0"}; }
    std::string domainXmlFromNative(const std::string& format, const std::string& config, unsigned) override
    {
        if (format != "lxc-tools")
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC, "unsupported config type " + format);
        std::smatch m;
        std::string name = "native";
        static const std::regex re(R"(lxc\.uts\.name\s*=\s*(\S+))");
        if (std::regex_search(config, m, re))
            name = m[1];
        return "<domain type='lxc'>\n  <name>" + name + "</name>\n</domain>\n";
    }

    std::vector<DomainRef> listAllDomains(unsigned flags) override
    {
        std::lock_guard lock(mu_);
        std::vector<DomainRef> out;
        for (auto& [name, d] : doms_) {
            bool active = d->id >= 0;
            if ((flags & (VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE)) &&
                !((flags & VIR_CONNECT_LIST_DOMAINS_ACTIVE && active) ||
                  (flags & VIR_CONNECT_LIST_DOMAINS_INACTIVE && !active)))
                continue;
            if ((flags & (VIR_CONNECT_LIST_DOMAINS_PERSISTENT | VIR_CONNECT_LIST_DOMAINS_TRANSIENT)) &&
                !((flags & VIR_CONNECT_LIST_DOMAINS_PERSISTENT && d->persistent) ||
                  (flags & VIR_CONNECT_LIST_DOMAINS_TRANSIENT && !d->persistent)))
                continue;
            unsigned stateMask = VIR_CONNECT_LIST_DOMAINS_RUNNING | VIR_CONNECT_LIST_DOMAINS_PAUSED |
                                 VIR_CONNECT_LIST_DOMAINS_SHUTOFF | VIR_CONNECT_LIST_DOMAINS_OTHER;
            if (flags & stateMask) {
                bool ok = (flags & VIR_CONNECT_LIST_DOMAINS_RUNNING && d->state == VIR_DOMAIN_RUNNING) ||
                          (flags & VIR_CONNECT_LIST_DOMAINS_PAUSED && d->state == VIR_DOMAIN_PAUSED) ||
                          (flags & VIR_CONNECT_LIST_DOMAINS_SHUTOFF && d->state == VIR_DOMAIN_SHUTOFF) ||
                          (flags & VIR_CONNECT_LIST_DOMAINS_OTHER && d->state != VIR_DOMAIN_RUNNING &&
                           d->state != VIR_DOMAIN_PAUSED && d->state != VIR_DOMAIN_SHUTOFF);
                if (!ok)
                    continue;
            }
            if ((flags & (VIR_CONNECT_LIST_DOMAINS_AUTOSTART | VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART)) &&
                !((flags & VIR_CONNECT_LIST_DOMAINS_AUTOSTART && d->autostart) ||
                  (flags & VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART && !d->autostart)))
                continue;
            if (flags & (VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE | VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT))
                continue;  // never
            out.push_back(refOf(*d));
        }
        return out;
    }
    std::vector<int> listDomainIds(int max) override
    {
        std::lock_guard lock(mu_);
        std::vector<int> out;
        for (auto& [n, d] : doms_)
            if (d->id >= 0 && static_cast<int>(out.size()) < max)
                out.push_back(d->id);
        return out;
    }
    std::vector<std::string> listDefinedDomains(int max) override
    {
        std::lock_guard lock(mu_);
        std::vector<std::string> out;
        for (auto& [n, d] : doms_)
            if (d->id < 0 && static_cast<int>(out.size()) < max)
                out.push_back(n);
        return out;
    }
    int numOfDomains() override { return static_cast<int>(listDomainIds(1 << 20).size()); }
    int numOfDefinedDomains() override { return static_cast<int>(listDefinedDomains(1 << 20).size()); }

    DomainRef lookupByName(const std::string& name) override
    {
        std::lock_guard lock(mu_);
        auto it = doms_.find(name);
        if (it == doms_.end())
            throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC, "no domain with matching name '" + name + "'");
        return refOf(*it->second);
    }
    DomainRef lookupByUuid(const Uuid& uuid) override
    {
        std::lock_guard lock(mu_);
        return refOf(byUuid(uuid));
    }
    DomainRef lookupById(int id) override
    {
        std::lock_guard lock(mu_);
        for (auto& [n, d] : doms_)
            if (d->id == id && id >= 0)
                return refOf(*d);
        throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC, "no domain with matching id " + std::to_string(id));
    }

    DomainRef defineXml(const std::string& xml, unsigned flags) override
    {
        auto parsed = parse(xml);
        DomainRef ref;
        int detail;
        {
            std::lock_guard lock(mu_);
            auto it = doms_.find(parsed->name);
            for (auto& [n, d] : doms_)
                if (d->uuid == parsed->uuid && n != parsed->name)
                    throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_LXC,
                                      "domain '" + n + "' already exists with uuid " + uuidString(d->uuid));
            if (it != doms_.end()) {
                Dom& d = *it->second;
                if (d.uuid != parsed->uuid)
                    throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_LXC,
                                      "domain '" + d.name + "' is already defined with uuid " + uuidString(d.uuid));
                d.max_mem = parsed->max_mem;
                d.memory = parsed->memory;
                d.vcpus = parsed->vcpus;
                d.init = parsed->init;
                d.persistent = true;
                detail = VIR_DOMAIN_EVENT_DEFINED_UPDATED;
                ref = refOf(d);
            } else {
                parsed->persistent = true;
                ref = refOf(*parsed);
                doms_[parsed->name] = std::move(parsed);
                detail = VIR_DOMAIN_EVENT_DEFINED_ADDED;
            }
        }
        emit(ref, VIR_DOMAIN_EVENT_DEFINED, detail);
        return ref;
    }
    void undefine(const DomainRef& dom, unsigned flags) override
    {
        DomainRef ref;
        {
            std::lock_guard lock(mu_);
            Dom& d = find(dom);
            if (!d.persistent)
                throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "cannot undefine transient domain");
            ref = refOf(d);
            if (d.id >= 0)
                d.persistent = false;  // goes away when it stops
            else
                doms_.erase(d.name);
        }
        emit(ref, VIR_DOMAIN_EVENT_UNDEFINED, VIR_DOMAIN_EVENT_UNDEFINED_REMOVED);
    }
    DomainRef create(const DomainRef& dom, unsigned flags) override
    {
        if (opts_.create_delay_ms)
            std::this_thread::sleep_for(std::chrono::milliseconds(opts_.create_delay_ms));
        DomainRef ref;
        {
            std::lock_guard lock(mu_);
            Dom& d = find(dom);
            if (d.id >= 0)
                throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "domain is already running");
            startLocked(d, flags);
            ref = refOf(d);
        }
        emit(ref, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
        if (flags & VIR_DOMAIN_START_PAUSED)
            emit(ref, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
        return ref;
    }
    DomainRef createXml(const std::string& xml, unsigned flags) override
    {
        auto parsed = parse(xml);
        DomainRef ref;
        {
            std::lock_guard lock(mu_);
            auto it = doms_.find(parsed->name);
            if (it != doms_.end()) {
                if (it->second->id >= 0)
                    throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                                      "domain '" + parsed->name + "' is already active");
                throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_LXC,
                                  "domain '" + parsed->name + "' already exists");
            }
            Dom& d = *parsed;
            startLocked(d, flags);
            ref = refOf(d);
            doms_[d.name] = std::move(parsed);
        }
        emit(ref, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED);
        return ref;
    }
    void destroy(const DomainRef& dom, unsigned flags) override
    {
        stop(dom, VIR_DOMAIN_SHUTOFF_DESTROYED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED);
    }
    void shutdown(const DomainRef& dom, unsigned flags) override
    {
        stop(dom, VIR_DOMAIN_SHUTOFF_SHUTDOWN, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN);
    }
    void reboot(const DomainRef& dom, unsigned flags) override
    {
        DomainRef ref;
        {
            std::lock_guard lock(mu_);
            Dom& d = activeOnly(find(dom));
            ref = refOf(d);
        }
        DomainEvent ev;
        ev.kind = DomainEvent::Kind::Reboot;
        ev.lifecycle.dom = ref;
        send(ev);
    }
    void suspend(const DomainRef& dom) override
    {
        DomainRef ref;
        {
            std::lock_guard lock(mu_);
            Dom& d = activeOnly(find(dom));
            if (d.state == VIR_DOMAIN_PAUSED)
                return;
            d.state = VIR_DOMAIN_PAUSED;
            d.reason = VIR_DOMAIN_PAUSED_USER;
            ref = refOf(d);
        }
        emit(ref, VIR_DOMAIN_EVENT_SUSPENDED, VIR_DOMAIN_EVENT_SUSPENDED_PAUSED);
    }
    void resume(const DomainRef& dom) override
    {
        DomainRef ref;
        {
            std::lock_guard lock(mu_);
            Dom& d = activeOnly(find(dom));
            if (d.state != VIR_DOMAIN_PAUSED)
                throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "domain is not paused");
            d.state = VIR_DOMAIN_RUNNING;
            d.reason = VIR_DOMAIN_RUNNING_UNPAUSED;
            ref = refOf(d);
        }
        emit(ref, VIR_DOMAIN_EVENT_RESUMED, VIR_DOMAIN_EVENT_RESUMED_UNPAUSED);
    }

    DomainInfo getInfo(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        Dom& d = find(dom);
        DomainInfo i;
        i.state = d.state;
        i.max_mem_kib = d.max_mem;
        i.memory_kib = d.memory;
        i.nr_virt_cpu = d.vcpus;
        if (d.id >= 0)
            i.cpu_time_ns = static_cast<uint64_t>(
                std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - d.started)
                    .count() / 100);
        return i;
    }
    std::pair<int, int> getState(const DomainRef& dom, unsigned) override
    {
        std::lock_guard lock(mu_);
        Dom& d = find(dom);
        return {d.state, d.reason};
    }
    std::string getXmlDesc(const DomainRef& dom, unsigned flags) override
    {
        std::lock_guard lock(mu_);
        Dom& d = find(dom);
        bool live = d.id >= 0 && !(flags & VIR_DOMAIN_XML_INACTIVE);
        std::string x = "<domain type='lxc'";
        if (live)
            x += " id='" + std::to_string(d.id) + "'";
        x += ">\n  <name>" + d.name + "</name>\n  <uuid>" + uuidString(d.uuid) + "</uuid>\n";
        x += "  <memory unit='KiB'>" + std::to_string(d.max_mem) + "</memory>\n";
        x += "  <currentMemory unit='KiB'>" + std::to_string(d.memory) + "</currentMemory>\n";
        x += "  <vcpu placement='static'>" + std::to_string(d.vcpus) + "</vcpu>\n";
        x += "  <os>\n    <type arch='x86_64'>exe</type>\n    <init>" + d.init + "</init>\n  </os>\n";
        x += "  <devices>\n    <console type='pty'>\n      <target type='lxc' port='0'/>\n";
        if (live)
            x += "      <alias name='console0'/>\n";
        x += "    </console>\n  </devices>\n</domain>\n";
        return x;
    }
    bool getAutostart(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        return find(dom).autostart;
    }
    void setAutostart(const DomainRef& dom, bool autostart) override
    {
        std::lock_guard lock(mu_);
        Dom& d = find(dom);
        if (!d.persistent)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "cannot set autostart for transient domain");
        d.autostart = autostart;
    }
    bool isActive(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        return find(dom).id >= 0;
    }
    bool isPersistent(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        return find(dom).persistent;
    }
    bool isUpdated(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        find(dom);
        return false;
    }
    std::string getOsType(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        find(dom);
        return "exe";
    }
    uint64_t getMaxMemory(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        return find(dom).max_mem;
    }
    void setMaxMemory(const DomainRef& dom, uint64_t kib) override
    {
        std::lock_guard lock(mu_);
        Dom& d = find(dom);
        if (d.id >= 0)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                              "Cannot resize the max memory on an active domain");
        d.max_mem = kib;
        d.memory = std::min(d.memory, kib);
    }
    void setMemoryFlags(const DomainRef& dom, uint64_t kib, unsigned flags) override
    {
        std::lock_guard lock(mu_);
        Dom& d = find(dom);
        if (flags & VIR_DOMAIN_MEM_MAXIMUM) {
            if (d.id >= 0 && (flags & VIR_DOMAIN_AFFECT_LIVE))
                throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                                  "Cannot resize the max memory on an active domain");
            d.max_mem = kib;
            return;
        }
        if (kib > d.max_mem)
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC, "Cannot set memory higher than max memory");
        if ((flags & VIR_DOMAIN_AFFECT_LIVE) && d.id < 0)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "domain is not running");
        d.memory = kib;
    }
    std::string getHostname(const DomainRef& dom, unsigned) override
    {
        std::lock_guard lock(mu_);
        return activeOnly(find(dom)).name;
    }
    SecurityLabel getSecurityLabel(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        find(dom);
        return {};
    }

    TypedParams getMemoryParameters(const DomainRef& dom, unsigned) override
    {
        std::lock_guard lock(mu_);
        return toParams(find(dom).memtune, {"hard_limit", "soft_limit", "swap_hard_limit"});
    }
    void setMemoryParameters(const DomainRef& dom, const TypedParams& params, unsigned) override
    {
        setParams(dom, params, &Dom::memtune, {"hard_limit", "soft_limit", "swap_hard_limit"});
    }
    std::pair<std::string, int> getSchedulerType(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        find(dom);
        return {"posix", 3};
    }
    TypedParams getSchedulerParameters(const DomainRef& dom, unsigned) override
    {
        std::lock_guard lock(mu_);
        return toParams(find(dom).sched, {"cpu_shares", "vcpu_period", "vcpu_quota"});
    }
    void setSchedulerParameters(const DomainRef& dom, const TypedParams& params, unsigned) override
    {
        setParams(dom, params, &Dom::sched, {"cpu_shares", "vcpu_period", "vcpu_quota"});
    }
    TypedParams getBlkioParameters(const DomainRef& dom, unsigned) override
    {
        std::lock_guard lock(mu_);
        return toParams(find(dom).blkio, {"weight"});
    }
    void setBlkioParameters(const DomainRef& dom, const TypedParams& params, unsigned) override
    {
        setParams(dom, params, &Dom::blkio, {"weight"});
    }

    std::vector<std::pair<int, uint64_t>> memoryStats(const DomainRef& dom, unsigned nr) override
    {
        std::lock_guard lock(mu_);
        Dom& d = activeOnly(find(dom));
        std::vector<std::pair<int, uint64_t>> s = {{VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, d.memory},
                                                   {VIR_DOMAIN_MEMORY_STAT_RSS, d.memory / 4}};
        if (s.size() > nr)
            s.resize(nr);
        return s;
    }
    TypedParams cpuStatsTotal(const DomainRef& dom) override
    {
        std::lock_guard lock(mu_);
        activeOnly(find(dom));
        return {{"cpu_time", uint64_t(1000000)}, {"user_time", uint64_t(600000)}, {"system_time", uint64_t(400000)}};
    }

    int openConsole(const DomainRef& dom, const std::string& dev, unsigned flags) override
    {
        std::lock_guard lock(mu_);
        Dom& d = activeOnly(find(dom));
        if (!dev.empty() && dev != "console0")
            throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, "cannot find console device '" + dev + "'");
        if (d.console && d.console->alive() && !(flags & VIR_DOMAIN_CONSOLE_FORCE))
            throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_LXC, "Active console session exists for this domain");
        d.console.reset();  // a forced open ends the old session first
        d.console = std::make_unique<FakeConsole>(d.name);
        return d.console->takeClientFd();
    }
    std::vector<int> openNamespaces(const DomainRef& dom, unsigned) override
    {
        {
            std::lock_guard lock(mu_);
            activeOnly(find(dom));
        }
        std::vector<int> fds;
        for (const char* ns : {"ipc", "mnt", "net", "pid", "uts"}) {
            int fd = ::open((std::string("/proc/self/ns/") + ns).c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                int err = errno;
                for (int f : fds)
                    ::close(f);
                throw Error::system(err, std::string("cannot open namespace ") + ns);
            }
            fds.push_back(fd);
        }
        return fds;
    }

    void setEventSink(EventSink sink) override
    {
        std::lock_guard lock(sink_mu_);
        sink_ = std::move(sink);
    }

private:
    static DomainRef refOf(const Dom& d) { return DomainRef{d.name, d.uuid, d.id}; }

    Dom& byUuid(const Uuid& uuid)
    {
        for (auto& [n, d] : doms_)
            if (d->uuid == uuid)
                return *d;
        throw Error::make(VIR_ERR_NO_DOMAIN, VIR_FROM_LXC, "no domain with matching uuid '" + uuidString(uuid) + "'");
    }
    Dom& find(const DomainRef& ref)
    {
        Dom& d = byUuid(ref.uuid);
        return d;
    }
    static void reap(pid_t pid)
    {
        ::kill(pid, SIGKILL);
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
    }
    static Dom& activeOnly(Dom& d)
    {
        if (d.id < 0)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "domain is not running");
        return d;
    }

    // The domain id is the pid of a child that only sleeps, so that what
    // clients do with ids (virsh lxc-enter-namespace joins /proc/ID/cgroup)
    // works as with real containers.
    void startLocked(Dom& d, unsigned flags)
    {
        pid_t pid = ::fork();
        if (pid < 0)
            throw Error::system(errno, "fork");
        if (pid == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            for (;;)
                ::pause();
        }
        d.id = pid;
        d.state = (flags & VIR_DOMAIN_START_PAUSED) ? VIR_DOMAIN_PAUSED : VIR_DOMAIN_RUNNING;
        d.reason = (flags & VIR_DOMAIN_START_PAUSED) ? int(VIR_DOMAIN_PAUSED_USER) : int(VIR_DOMAIN_RUNNING_BOOTED);
        d.started = std::chrono::steady_clock::now();
    }

    void stop(const DomainRef& dom, int reason, int detail)
    {
        DomainRef ref;
        std::unique_ptr<FakeConsole> console;
        {
            std::lock_guard lock(mu_);
            Dom& d = activeOnly(find(dom));
            reap(d.id);
            d.id = -1;
            d.state = VIR_DOMAIN_SHUTOFF;
            d.reason = reason;
            ref = refOf(d);
            console = std::move(d.console);
            if (!d.persistent)
                doms_.erase(d.name);
        }
        console.reset();  // EOF on the console stream
        emit(ref, VIR_DOMAIN_EVENT_STOPPED, detail);
    }

    std::unique_ptr<Dom> parse(const std::string& xml)
    {
        if (!std::regex_search(xml, std::regex(R"(<domain\s+type\s*=\s*['"]lxc['"])")))
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_DOMAIN,
                              "domain type must be 'lxc' (the fake driver only reads <domain type='lxc'>)");
        auto d = std::make_unique<Dom>();
        std::smatch m;
        if (!std::regex_search(xml, m, std::regex(R"(<name>\s*([^<\s]+)\s*</name>)")))
            throw xmlError("missing domain name");
        d->name = m[1];
        if (std::regex_search(xml, m, std::regex(R"(<uuid>\s*([^<\s]+)\s*</uuid>)"))) {
            if (!parseUuid(m[1], d->uuid))
                throw xmlError("malformed uuid element");
        } else {
            std::random_device rd;
            for (auto& b : d->uuid)
                b = static_cast<unsigned char>(rd());
            d->uuid[6] = (d->uuid[6] & 0x0f) | 0x40;
            d->uuid[8] = (d->uuid[8] & 0x3f) | 0x80;
            // A redefinition without <uuid> keeps the existing one.
            std::lock_guard lock(mu_);
            if (auto it = doms_.find(d->name); it != doms_.end())
                d->uuid = it->second->uuid;
        }
        if (!std::regex_search(xml, m, std::regex(R"(<memory(\s+unit\s*=\s*['"](\w+)['"])?\s*>\s*(\d+)\s*</memory>)")))
            throw xmlError("missing memory element");
        uint64_t v = std::stoull(m[3]);
        std::string unit = m[2];
        if (unit == "MiB" || unit == "M")
            v *= 1024;
        else if (unit == "GiB" || unit == "G")
            v *= 1024 * 1024;
        else if (unit == "b" || unit == "bytes")
            v /= 1024;
        d->max_mem = d->memory = v;
        if (std::regex_search(xml, m, std::regex(R"(<vcpu[^>]*>\s*(\d+)\s*</vcpu>)")))
            d->vcpus = static_cast<unsigned>(std::stoul(m[1]));
        if (std::regex_search(xml, m, std::regex(R"(<init>\s*([^<]+?)\s*</init>)")))
            d->init = m[1];
        d->sched = {{"cpu_shares", uint64_t(1024)}, {"vcpu_period", uint64_t(100000)}, {"vcpu_quota", int64_t(-1)}};
        d->memtune = {{"hard_limit", uint64_t(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)},
                      {"soft_limit", uint64_t(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)},
                      {"swap_hard_limit", uint64_t(VIR_DOMAIN_MEMORY_PARAM_UNLIMITED)}};
        d->blkio = {{"weight", uint32_t(500)}};
        return d;
    }

    static TypedParams toParams(const std::map<std::string, TypedValue>& m, std::initializer_list<const char*> order)
    {
        TypedParams out;
        for (const char* k : order)
            if (auto it = m.find(k); it != m.end())
                out.push_back({k, it->second});
        return out;
    }

    void setParams(const DomainRef& dom, const TypedParams& params, std::map<std::string, TypedValue> Dom::*field,
                   std::initializer_list<const char*> allowed)
    {
        std::lock_guard lock(mu_);
        Dom& d = find(dom);
        for (const auto& p : params) {
            if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return p.field == a; }) ==
                allowed.end())
                throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC, "parameter '" + p.field + "' not supported");
            auto& slot = (d.*field)[p.field];
            if (slot.index() != p.value.index())
                throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC,
                                  "invalid type for parameter '" + p.field + "'");
        }
        for (const auto& p : params)
            (d.*field)[p.field] = p.value;
    }

    void emit(const DomainRef& ref, int event, int detail)
    {
        DomainEvent ev;
        ev.kind = DomainEvent::Kind::Lifecycle;
        ev.lifecycle = {ref, event, detail};
        send(ev);
    }
    void send(const DomainEvent& ev)
    {
        std::lock_guard lock(sink_mu_);
        if (sink_)
            sink_(ev);
    }

    FakeDriverOptions opts_;
    std::mutex mu_;
    std::map<std::string, std::unique_ptr<Dom>> doms_;
    std::mutex sink_mu_;
    EventSink sink_;
};

}  // namespace

std::unique_ptr<DomainDriver> makeFakeDriver(const FakeDriverOptions& opts)
{
    return std::make_unique<FakeDriver>(opts);
}

}  // namespace lxvirt::test
