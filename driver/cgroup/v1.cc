// cgroup v1 backend: one directory per hierarchy (controllers mounted
// together share one), the domain cgroup created in each of them.
#include "driver/cgroup/cgroup_internal.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cerrno>
#include <chrono>
#include <set>
#include <thread>

namespace lxvirt::cgroup::detail {

namespace {

// Values at or above this many KiB mean "no limit" (libvirt's
// VIR_DOMAIN_MEMORY_PARAM_UNLIMITED, 2^53 - 1).
constexpr uint64_t kUnlimitedKiB = 9007199254740991ULL;
// The kernel reports "no limit" as PAGE_COUNTER_MAX pages, just under 2^63.
constexpr uint64_t kUnlimitedBytesFloor = 1ULL << 62;

std::string bytesOrUnlimited(uint64_t kib)
{
    if (kib == 0 || kib >= kUnlimitedKiB)
        return "-1";
    return std::to_string(kib * 1024);
}

void checkMajMin(const std::string& majmin)
{
    auto colon = majmin.find(':');
    auto digits = [](const std::string& s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    if (colon == std::string::npos || !digits(majmin.substr(0, colon)) || !digits(majmin.substr(colon + 1)))
        throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                          "block device '" + majmin + "' must be given as 'major:minor'");
}

std::string deviceRuleText(const DeviceRule& r)
{
    if (r.access.empty() || r.access.find_first_not_of("rwm") != std::string::npos)
        throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                          "device access '" + r.access + "' must be a non-empty subset of 'rwm'");
    if (r.type == 'a')
        return "a";
    if (r.type != 'b' && r.type != 'c')
        throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                          std::string("device type '") + r.type + "' must be 'a', 'b' or 'c'");
    auto num = [](long v) { return v < 0 ? std::string("*") : std::to_string(v); };
    return std::string(1, r.type) + " " + num(r.major) + ":" + num(r.minor) + " " + r.access;
}

std::string trimmed(const std::string& s)
{
    auto b = s.find_first_not_of(" \t\n");
    if (b == std::string::npos)
        return "";
    return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
}

class V1Cgroup : public Cgroup {
public:
    V1Cgroup(LayoutPtr layout, std::string rel, std::unique_ptr<Cgroup> v2)
        : layout_(std::move(layout)), path_(std::move(rel)), v2_(std::move(v2))
    {
    }

    const std::string& path() const override { return path_; }
    bool isV2() const override { return false; }

    void addProcess(pid_t pid) override
    {
        for (const auto& hier : layout_->v1Dirs)
            put(*layout_, hier + path_ + "/cgroup.procs", std::to_string(pid));
        if (v2_)
            v2_->addProcess(pid);
    }

    std::vector<pid_t> processes() const override
    {
        std::vector<pid_t> out;
        for (const auto& hier : layout_->v1Dirs)
            collectProcs(hier + path_, out);
        if (v2_)
            for (pid_t p : v2_->processes())
                if (std::find(out.begin(), out.end(), p) == out.end())
                    out.push_back(p);
        return out;
    }

    void setMemoryHardLimit(uint64_t kib) override
    {
        if (auto* v = via("memory"))
            return v->setMemoryHardLimit(kib);
        std::string value = bytesOrUnlimited(kib);
        // The kernel refuses a limit above memory+swap; raise memsw with it
        // so a larger (or no) hard limit never fails on an older, smaller
        // memsw. Callers wanting more swap set it afterwards.
        std::string memsw = file("memory", "memory.memsw.limit_in_bytes");
        if (exists(memsw)) {
            uint64_t cur = readU64(memsw);
            if (cur < kUnlimitedBytesFloor && (value == "-1" || cur < kib * 1024))
                write("memory", "memory.memsw.limit_in_bytes", value);
        }
        write("memory", "memory.limit_in_bytes", value);
    }
    void setMemorySoftLimit(uint64_t kib) override
    {
        if (auto* v = via("memory"))
            return v->setMemorySoftLimit(kib);
        write("memory", "memory.soft_limit_in_bytes", bytesOrUnlimited(kib));
    }
    void setMemorySwapHardLimit(uint64_t kib) override
    {
        if (auto* v = via("memory"))
            return v->setMemorySwapHardLimit(kib);
        std::string memsw = file("memory", "memory.memsw.limit_in_bytes");
        std::string value = bytesOrUnlimited(kib);
        if (!exists(memsw)) {
            if (value == "-1")
                return;  // nothing asked for, nothing to refuse
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_CGROUP,
                              "cannot set swap_hard_limit: '" + memsw +
                                  "' is missing (swap accounting is disabled on this host)");
        }
        put(*layout_, memsw, value);
    }
    uint64_t memoryHardLimit() const override
    {
        if (auto* v = via("memory"))
            return v->memoryHardLimit();
        uint64_t bytes = readU64(file("memory", "memory.limit_in_bytes"));
        return bytes >= kUnlimitedBytesFloor ? 0 : bytes / 1024;
    }
    uint64_t memoryUsage() const override
    {
        if (auto* v = via("memory"))
            return v->memoryUsage();
        auto path = [this] { return file("memory", "memory.usage_in_bytes"); };
        std::string text = memUsage_.read(path, layout_->fake);
        return parseU64Text(path(), text) / 1024;
    }
    uint64_t oomKillCount() const override
    {
        if (auto* v = via("memory"))
            return v->oomKillCount();
        return readKeyed(file("memory", "memory.oom_control"), "oom_kill");
    }

    void setCpuShares(uint64_t shares) override
    {
        if (auto* v = via("cpu"))
            return v->setCpuShares(shares);
        write("cpu", "cpu.shares", std::to_string(shares));
    }
    uint64_t cpuShares() const override
    {
        if (auto* v = via("cpu"))
            return v->cpuShares();
        return readU64(file("cpu", "cpu.shares"));
    }
    void setCpuPeriodQuota(uint64_t period_us, int64_t quota_us) override
    {
        if (auto* v = via("cpu"))
            return v->setCpuPeriodQuota(period_us, quota_us);
        std::string quota = quota_us < 0 ? "-1" : std::to_string(quota_us);
        // Lifting the quota first keeps a shorter period from briefly
        // exceeding the parent's bandwidth with the old quota.
        if (quota_us < 0)
            write("cpu", "cpu.cfs_quota_us", quota);
        if (period_us != 0)
            write("cpu", "cpu.cfs_period_us", std::to_string(period_us));
        if (quota_us >= 0)
            write("cpu", "cpu.cfs_quota_us", quota);
    }
    uint64_t cpuUsageNs() const override
    {
        if (auto* v = via("cpuacct"))
            return v->cpuUsageNs();
        auto path = [this] { return file("cpuacct", "cpuacct.usage"); };
        std::string text = cpuUsage_.read(path, layout_->fake);
        return parseU64Text(path(), text);
    }
    std::pair<uint64_t, uint64_t> cpuUserSystemNs() const override
    {
        if (auto* v = via("cpuacct"))
            return v->cpuUserSystemNs();
        // cpuacct.stat counts USER_HZ ticks.
        std::string stat = file("cpuacct", "cpuacct.stat");
        long hz = ::sysconf(_SC_CLK_TCK);
        uint64_t nsPerTick = 1000000000ULL / static_cast<uint64_t>(hz > 0 ? hz : 100);
        return {readKeyed(stat, "user") * nsPerTick, readKeyed(stat, "system") * nsPerTick};
    }
    void setCpusetCpus(const std::string& cpus) override
    {
        if (auto* v = via("cpuset"))
            return v->setCpusetCpus(cpus);
        write("cpuset", "cpuset.cpus", cpus);
    }
    void setCpusetMems(const std::string& mems) override
    {
        if (auto* v = via("cpuset"))
            return v->setCpusetMems(mems);
        write("cpuset", "cpuset.mems", mems);
    }

    void setBlkioWeight(unsigned weight) override
    {
        if (auto* v = via("blkio"))
            return v->setBlkioWeight(weight);
        write("blkio", weightFile(false), std::to_string(weight));
    }
    void setBlkioDeviceWeight(const std::string& majmin, unsigned weight) override
    {
        if (auto* v = via("blkio"))
            return v->setBlkioDeviceWeight(majmin, weight);
        checkMajMin(majmin);
        write("blkio", weightFile(true), majmin + " " + std::to_string(weight));
    }
    void setBlkioThrottle(const std::string& majmin, std::optional<uint64_t> rbps,
                          std::optional<uint64_t> wbps, std::optional<uint64_t> riops,
                          std::optional<uint64_t> wiops) override
    {
        if (auto* v = via("blkio"))
            return v->setBlkioThrottle(majmin, rbps, wbps, riops, wiops);
        checkMajMin(majmin);
        // 0 removes the device's rule, as libvirt's "0 = unlimited".
        auto set = [&](const char* name, const std::optional<uint64_t>& v) {
            if (v)
                write("blkio", name, majmin + " " + std::to_string(*v));
        };
        set("blkio.throttle.read_bps_device", rbps);
        set("blkio.throttle.write_bps_device", wbps);
        set("blkio.throttle.read_iops_device", riops);
        set("blkio.throttle.write_iops_device", wiops);
    }

    void setDeviceAllowList(const std::vector<DeviceRule>& allow) override
    {
        if (auto* v = via("devices"))
            return v->setDeviceAllowList(allow);
        std::vector<std::string> lines;
        for (const auto& r : allow)
            lines.push_back(deviceRuleText(r));  // validate all before touching the kernel
        write("devices", "devices.deny", "a");
        for (const auto& l : lines)
            write("devices", "devices.allow", l);
    }

    void freeze() override
    {
        if (auto* v = via("freezer"))
            return v->freeze();
        std::string state = file("freezer", "freezer.state");
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        std::string now;
        for (int i = 0;; ++i) {
            // Rewriting FROZEN restarts a freeze the kernel gave up on
            // (a task that could not be frozen in time).
            put(*layout_, state, "FROZEN");
            now = trimmed(readFile(state));
            if (now == "FROZEN")
                return;
            if (std::chrono::steady_clock::now() >= deadline)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(i < 10 ? 1 : 10));
        }
        try {
            put(*layout_, state, "THAWED");
        } catch (const Error&) {
        }
        throw Error::make(VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_CGROUP,
                          "cgroup '" + path_ + "' did not freeze within 1 s ('" + state + "' reads '" +
                              now + "')");
    }
    void thaw() override
    {
        if (auto* v = via("freezer"))
            return v->thaw();
        write("freezer", "freezer.state", "THAWED");
    }
    bool isFrozen() const override
    {
        if (auto* v = via("freezer"))
            return v->isFrozen();
        std::string text;
        std::string state = file("freezer", "freezer.state");
        if (int err = tryReadFile(state, text)) {
            if (isGone(err))
                return false;
            throw Error::system(err, "Unable to read from '" + state + "'", VIR_FROM_CGROUP);
        }
        return trimmed(text) == "FROZEN";
    }

    int killAll(int sig) override { return signalAll(processes(), sig); }

    std::vector<uint64_t> perCpuUsageNs() const override
    {
        if (auto* v = via("cpuacct"))
            return v->perCpuUsageNs();
        std::string f = file("cpuacct", "cpuacct.usage_percpu");
        std::vector<uint64_t> out;
        for (const auto& w : splitWords(readFile(f))) {
            uint64_t n;
            if (!parseDecimal(w, n))
                throwParse(f, w);
            out.push_back(n);
        }
        return out;
    }
    uint64_t memorySwapUsage() const override
    {
        if (auto* v = via("memory"))
            return v->memorySwapUsage();
        std::string memsw = file("memory", "memory.memsw.usage_in_bytes");
        if (!exists(memsw))
            return 0;  // no swap accounting: nothing is charged to swap
        uint64_t both = readU64(memsw), mem = readU64(file("memory", "memory.usage_in_bytes"));
        return both > mem ? (both - mem) / 1024 : 0;
    }
    BlkioStats blkioStats(const std::string& majmin) const override
    {
        if (auto* v = via("blkio"))
            return v->blkioStats(majmin);
        if (!majmin.empty())
            checkMajMin(majmin);
        // Lines are "MAJ:MIN Read|Write|Sync|Async|Discard|Total N" plus a
        // final "Total N"; the _recursive files include nested cgroups.
        auto sum = [&](const std::string& base, uint64_t& rd, uint64_t& wr) {
            std::string f = file("blkio", base + "_recursive");
            if (!exists(f))
                f = file("blkio", base);
            for (const auto& line : splitOn(readFile(f), '\n')) {
                auto w = splitWords(line);
                uint64_t n;
                if (w.size() < 3 || !parseDecimal(w[2], n) || (!majmin.empty() && w[0] != majmin))
                    continue;
                if (w[1] == "Read")
                    rd += n;
                else if (w[1] == "Write")
                    wr += n;
            }
        };
        BlkioStats st;
        sum("blkio.throttle.io_service_bytes", st.readBytes, st.writeBytes);
        sum("blkio.throttle.io_serviced", st.readOps, st.writeOps);
        return st;
    }

    void remove() override
    {
        std::optional<Error> first;
        for (const auto& hier : layout_->v1Dirs) {
            try {
                removeTree(hier + path_, layout_->fake);
            } catch (const Error& e) {
                if (!first)
                    first = e;
            }
        }
        if (v2_) {
            try {
                v2_->remove();
            } catch (const Error& e) {
                if (!first)
                    first = e;
            }
        }
        if (first)
            throw *first;
    }

private:
    // The v2 twin serves a controller that has no v1 mount (see create()).
    Cgroup* via(const std::string& ctrl) const
    {
        return v2_ && layout_->v2Serves.count(ctrl) ? v2_.get() : nullptr;
    }
    std::string file(const std::string& ctrl, const std::string& name) const
    {
        auto it = layout_->v1.find(ctrl);
        if (it == layout_->v1.end())
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_CGROUP,
                              "Unable to find '" + ctrl + "' cgroups controller mount");
        return it->second + path_ + "/" + name;
    }
    void write(const std::string& ctrl, const std::string& name, const std::string& value)
    {
        put(*layout_, file(ctrl, name), value);
    }
    // BFQ names its weights blkio.bfq.*; CFQ (gone since 5.0) used blkio.*.
    std::string weightFile(bool perDevice) const
    {
        std::string suffix = perDevice ? "weight_device" : "weight";
        if (exists(file("blkio", "blkio.bfq." + suffix)))
            return "blkio.bfq." + suffix;
        std::string plain = file("blkio", "blkio." + suffix);
        if (!exists(plain))
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_CGROUP,
                              "cannot set blkio " + std::string(perDevice ? "device weight" : "weight") +
                                  ": '" + plain + "' is missing (the host's I/O scheduler has no weights)");
        return "blkio." + suffix;
    }

    // A running domain's cgroup lives as long as the domain: it keeps only
    // its path, the shared layout and the two counter fds getInfo reads.
    LayoutPtr layout_;
    std::string path_;
    std::unique_ptr<Cgroup> v2_;  // twin on a hybrid host, see Layout::v2Serves
    CounterFile cpuUsage_, memUsage_;
};

class V1Manager : public Manager {
public:
    explicit V1Manager(LayoutPtr layout) : layout_(std::move(layout)) {}

    bool isV2() const override { return false; }

    std::unique_ptr<Cgroup> create(const std::string& partition, const std::string& name) override
    {
        std::string part = normalisePath(partition);
        std::string leaf = singleComponent(name);
        std::string rel = part + leaf;

        // Undo every directory this call created if any step fails.
        DirRollback undo(layout_->fake);

        for (const auto& hier : layout_->v1Dirs) {
            bool cpuset = isCpusetHierarchy(hier);
            for (const auto& dir : mkdirs(hier, part))
                undo.dirs.push_back(dir);
            if (cpuset) {
                // Also a partition someone else made (or is making right
                // now) must have cpus/mems before tasks can join below it.
                std::string dir = hier;
                for (const auto& comp : splitOn(part, '/'))
                    if (!comp.empty())
                        copyCpuset(dir += "/" + comp);
            }
            std::string dir = hier + rel;
            if (::mkdir(dir.c_str(), 0755) != 0) {
                if (errno == EEXIST)
                    throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_CGROUP,
                                      "cgroup '" + dir + "' already exists");
                throw Error::system(errno, "Unable to create cgroup '" + dir + "'", VIR_FROM_CGROUP);
            }
            undo.dirs.push_back(dir);
            if (cpuset)
                copyCpuset(dir);
        }
        std::unique_ptr<Cgroup> twin;
        if (layout_->twin)
            twin = makeV2Manager(layout_->twin)->create(partition, name);
        undo.done = true;
        return std::make_unique<V1Cgroup>(layout_, rel, std::move(twin));
    }

    std::unique_ptr<Cgroup> open(const std::string& path) override
    {
        std::string rel = normalisePath(path);
        for (const auto& hier : layout_->v1Dirs) {
            if (!isDir(hier + rel))
                throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_CGROUP,
                                  "cgroup '" + hier + rel + "' does not exist");
        }
        std::unique_ptr<Cgroup> twin;
        if (layout_->twin)
            twin = makeV2Manager(layout_->twin)->open(path);
        return std::make_unique<V1Cgroup>(layout_, rel, std::move(twin));
    }

private:
    bool isCpusetHierarchy(const std::string& hier) const
    {
        auto it = layout_->v1.find("cpuset");
        return it != layout_->v1.end() && it->second == hier;
    }
    // A new v1 cpuset cgroup starts with empty cpus/mems and refuses tasks
    // until they are set; an empty one starts from the parent's.
    void copyCpuset(const std::string& dir)
    {
        std::string parent = dir.substr(0, dir.rfind('/'));
        for (const char* f : {"cpuset.cpus", "cpuset.mems"}) {
            std::string from = parent + "/" + f;
            std::string to = dir + "/" + f;
            if (!exists(from) || (exists(to) && !trimmed(readFile(to)).empty()))
                continue;
            std::string v = trimmed(readFile(from));
            if (!v.empty())
                put(*layout_, dir + "/" + f, v);
        }
    }

    LayoutPtr layout_;
};

}  // namespace

std::unique_ptr<Manager> makeV1Manager(LayoutPtr layout)
{
    return std::make_unique<V1Manager>(std::move(layout));
}

}  // namespace lxvirt::cgroup::detail
