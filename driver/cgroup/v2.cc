// cgroup v2 backend: one unified hierarchy; controllers are enabled down the
// partition through cgroup.subtree_control, devices go through BPF.
#include "driver/cgroup/cgroup_internal.h"
#include "driver/cgroup/v2_devices.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

namespace lxvirt::cgroup::detail {

namespace {

constexpr uint64_t kUnlimitedKiB = 9007199254740991ULL;  // libvirt's "unlimited"

// The controllers lxvirt enables for its partition, in enabling order.
const std::vector<std::string>& wantedControllers()
{
    static const std::vector<std::string> list = {"cpu", "cpuset", "memory", "io", "pids"};
    return list;
}

std::string bytesOrMax(uint64_t kib)
{
    if (kib == 0 || kib >= kUnlimitedKiB)
        return "max";
    return std::to_string(kib * 1024);
}

bool unlimited(uint64_t kib) { return kib == 0 || kib >= kUnlimitedKiB; }

std::vector<std::string> words(const std::string& s)
{
    std::vector<std::string> out = splitWords(s);
    for (auto& w : out)
        if (w[0] == '+')
            w.erase(0, 1);
    return out;
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

class V2Cgroup : public Cgroup {
public:
    V2Cgroup(LayoutPtr layout, std::string rel)
        : layout_(std::move(layout)), path_(std::move(rel)), dir_(layout_->v2 + path_)
    {
    }

    const std::string& path() const override { return path_; }
    bool isV2() const override { return true; }

    void addProcess(pid_t pid) override { write("cgroup.procs", std::to_string(pid)); }
    std::vector<pid_t> processes() const override
    {
        std::vector<pid_t> out;
        collectProcs(dir_, out);
        return out;
    }

    void setMemoryHardLimit(uint64_t kib) override { write("memory.max", bytesOrMax(kib)); }
    void setMemorySoftLimit(uint64_t kib) override { write("memory.high", bytesOrMax(kib)); }
    void setMemorySwapHardLimit(uint64_t kib) override
    {
        // v1's memsw limits memory+swap; v2's swap.max limits swap alone.
        std::string swap = file("memory.swap.max");
        if (!exists(swap)) {
            if (unlimited(kib))
                return;
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_CGROUP,
                              "cannot set swap_hard_limit: '" + swap +
                                  "' is missing (swap accounting is disabled on this host)");
        }
        if (unlimited(kib)) {
            put(*layout_, swap, "max");
            return;
        }
        uint64_t hard = memoryHardLimit();
        if (hard != 0 && kib < hard)
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                              "swap_hard_limit (" + std::to_string(kib) +
                                  " KiB) must not be lower than hard_limit (" + std::to_string(hard) +
                                  " KiB)");
        // Without a memory limit, memory+swap <= kib is best approximated by
        // allowing at most kib of swap.
        put(*layout_, swap, std::to_string((kib - hard) * 1024));
    }
    uint64_t memoryHardLimit() const override
    {
        std::string f = file("memory.max");
        auto w = words(readFile(f));
        if (!w.empty() && w[0] == "max")
            return 0;
        return readU64(f) / 1024;
    }
    uint64_t memoryUsage() const override
    {
        auto path = [this] { return file("memory.current"); };
        std::string text = memCurrent_.read(path, layout_->fake);
        return parseU64Text(path(), text) / 1024;
    }
    uint64_t oomKillCount() const override { return readKeyed(file("memory.events"), "oom_kill"); }

    void setCpuShares(uint64_t shares) override
    {
        // libvirt's mapping of v1 shares [2, 262144] onto v2 weight [1, 10000].
        shares = std::clamp<uint64_t>(shares, 2, 262144);
        write("cpu.weight", std::to_string(1 + ((shares - 2) * 9999) / 262142));
    }
    uint64_t cpuShares() const override
    {
        uint64_t weight = std::clamp<uint64_t>(readU64(file("cpu.weight")), 1, 10000);
        return 2 + ((weight - 1) * 262142) / 9999;
    }
    void setCpuPeriodQuota(uint64_t period_us, int64_t quota_us) override
    {
        std::string f = file("cpu.max");
        if (period_us == 0) {
            // Keep the current period ("QUOTA PERIOD"); the kernel default
            // is 100 ms.
            period_us = 100000;
            if (exists(f)) {
                auto w = words(readFile(f));
                if (w.size() == 2)
                    period_us = std::strtoull(w[1].c_str(), nullptr, 10);
            }
        }
        std::string quota = quota_us < 0 ? "max" : std::to_string(quota_us);
        put(*layout_, f, quota + " " + std::to_string(period_us));
    }
    uint64_t cpuUsageNs() const override
    {
        auto path = [this] { return file("cpu.stat"); };
        std::string text = cpuStat_.read(path, layout_->fake);
        return keyedValue(path(), text, "usage_usec") * 1000;
    }
    std::pair<uint64_t, uint64_t> cpuUserSystemNs() const override
    {
        std::string f = file("cpu.stat");
        return {readKeyed(f, "user_usec") * 1000, readKeyed(f, "system_usec") * 1000};
    }
    void setCpusetCpus(const std::string& cpus) override { write("cpuset.cpus", cpus); }
    void setCpusetMems(const std::string& mems) override { write("cpuset.mems", mems); }

    void setBlkioWeight(unsigned weight) override
    {
        // BFQ has its own weight file that takes a bare number; io.weight
        // (io.cost) takes "default N".
        if (exists(file("io.bfq.weight")))
            write("io.bfq.weight", std::to_string(weight));
        else
            writeOptional("io.weight", "default " + std::to_string(weight), "blkio weight");
    }
    void setBlkioDeviceWeight(const std::string& majmin, unsigned weight) override
    {
        checkMajMin(majmin);
        std::string line = majmin + " " + std::to_string(weight);
        if (exists(file("io.bfq.weight")))
            write("io.bfq.weight", line);
        else
            writeOptional("io.weight", line, "blkio device weight");
    }
    void setBlkioThrottle(const std::string& majmin, std::optional<uint64_t> rbps,
                          std::optional<uint64_t> wbps, std::optional<uint64_t> riops,
                          std::optional<uint64_t> wiops) override
    {
        checkMajMin(majmin);
        std::string line = majmin;
        auto add = [&](const char* key, const std::optional<uint64_t>& v) {
            if (v)
                line += std::string(" ") + key + "=" + (*v == 0 ? "max" : std::to_string(*v));
        };
        add("rbps", rbps);
        add("wbps", wbps);
        add("riops", riops);
        add("wiops", wiops);
        if (line != majmin)
            write("io.max", line);
    }

    void setDeviceAllowList(const std::vector<DeviceRule>& allow) override
    {
        attachDeviceProgram(dir_, allow);
    }

    void freeze() override
    {
        write("cgroup.freeze", "1");
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        for (int i = 0;; ++i) {
            if (isFrozen())
                return;
            if (std::chrono::steady_clock::now() >= deadline)
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(i < 10 ? 1 : 10));
        }
        try {
            write("cgroup.freeze", "0");
        } catch (const Error&) {
        }
        throw Error::make(VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_CGROUP,
                          "cgroup '" + path_ + "' did not freeze within 1 s ('" + file("cgroup.events") +
                              "' does not report frozen)");
    }
    void thaw() override { write("cgroup.freeze", "0"); }
    bool isFrozen() const override
    {
        std::string text;
        std::string events = file("cgroup.events");
        if (int err = tryReadFile(events, text)) {
            if (isGone(err))
                return false;
            throw Error::system(err, "Unable to read from '" + events + "'", VIR_FROM_CGROUP);
        }
        return keyedValue(events, text, "frozen") == 1;
    }

    int killAll(int sig) override
    {
        auto pids = processes();
        // cgroup.kill (5.14+) also catches tasks forked while we signal.
        if (sig == SIGKILL && exists(file("cgroup.kill"))) {
            write("cgroup.kill", "1");
            return static_cast<int>(pids.size());
        }
        return signalAll(pids, sig);
    }

    void remove() override { removeTree(dir_, layout_->fake); }

    uint64_t memorySwapUsage() const override
    {
        std::string f = file("memory.swap.current");
        return exists(f) ? readU64(f) / 1024 : 0;
    }
    BlkioStats blkioStats(const std::string& majmin) const override
    {
        if (!majmin.empty())
            checkMajMin(majmin);
        // "MAJ:MIN rbytes=N wbytes=N rios=N wios=N dbytes=N dios=N"
        BlkioStats st;
        for (const auto& line : splitOn(readFile(file("io.stat")), '\n')) {
            auto w = splitWords(line);
            if (w.empty() || (!majmin.empty() && w[0] != majmin))
                continue;
            for (size_t i = 1; i < w.size(); ++i) {
                const std::string& kv = w[i];
                auto eq = kv.find('=');
                if (eq == std::string::npos)
                    continue;
                std::string k = kv.substr(0, eq);
                uint64_t n = std::strtoull(kv.c_str() + eq + 1, nullptr, 10);
                if (k == "rbytes")
                    st.readBytes += n;
                else if (k == "wbytes")
                    st.writeBytes += n;
                else if (k == "rios")
                    st.readOps += n;
                else if (k == "wios")
                    st.writeOps += n;
            }
        }
        return st;
    }

private:
    std::string file(const std::string& name) const { return dir_ + "/" + name; }
    void write(const std::string& name, const std::string& value)
    {
        put(*layout_, file(name), value);
    }
    void writeOptional(const std::string& name, const std::string& value, const std::string& what)
    {
        if (!exists(file(name)))
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_CGROUP,
                              "cannot set " + what + ": '" + file(name) +
                                  "' is missing (no io controller or no weight-based I/O scheduler)");
        write(name, value);
    }

    LayoutPtr layout_;
    std::string path_;
    std::string dir_;
    CounterFile cpuStat_, memCurrent_;  // what getInfo reads
};

class V2Manager : public Manager {
public:
    explicit V2Manager(LayoutPtr layout) : layout_(std::move(layout)) {}

    bool isV2() const override { return true; }

    std::unique_ptr<Cgroup> create(const std::string& partition, const std::string& name) override
    {
        std::string part = normalisePath(partition);
        std::string leaf = singleComponent(name);
        DirRollback undo(layout_->fake);

        // Each level above the domain cgroup hands the controllers down.
        std::string cur = layout_->v2;
        enableControllers(cur);
        for (const auto& comp : splitOn(part, '/')) {
            if (comp.empty())
                continue;
            cur += "/" + comp;
            if (::mkdir(cur.c_str(), 0755) == 0)
                undo.dirs.push_back(cur);
            else if (errno != EEXIST)
                throw Error::system(errno, "Unable to create cgroup '" + cur + "'", VIR_FROM_CGROUP);
            enableControllers(cur);
        }
        std::string dir = cur + leaf;
        if (::mkdir(dir.c_str(), 0755) != 0) {
            if (errno == EEXIST)
                throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_CGROUP,
                                  "cgroup '" + dir + "' already exists");
            throw Error::system(errno, "Unable to create cgroup '" + dir + "'", VIR_FROM_CGROUP);
        }
        undo.done = true;
        return std::make_unique<V2Cgroup>(layout_, part + leaf);
    }

    std::unique_ptr<Cgroup> open(const std::string& path) override
    {
        std::string rel = normalisePath(path);
        if (!isDir(layout_->v2 + rel))
            throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_CGROUP,
                              "cgroup '" + layout_->v2 + rel + "' does not exist");
        return std::make_unique<V2Cgroup>(layout_, rel);
    }

private:
    void enableControllers(const std::string& dir)
    {
        // What the parent handed down (the root's list for a fake tree
        // level that has no cgroup.controllers of its own).
        std::vector<std::string> avail = layout_->v2Controllers;
        if (exists(dir + "/cgroup.controllers"))
            avail = words(readFile(dir + "/cgroup.controllers"));
        std::vector<std::string> have;
        std::string subtree = dir + "/cgroup.subtree_control";
        if (exists(subtree))
            have = words(readFile(subtree));
        std::vector<std::string> missing;
        for (const auto& c : wantedControllers()) {
            if (std::find(avail.begin(), avail.end(), c) != avail.end() &&
                std::find(have.begin(), have.end(), c) == have.end())
                missing.push_back(c);
        }
        if (missing.empty())
            return;
        std::string all;
        for (const auto& c : missing)
            all += (all.empty() ? "+" : " +") + c;
        try {
            put(*layout_, subtree, all);
        } catch (const Error&) {
            // The write is all-or-nothing; enable what can be enabled (cpu
            // is refused while realtime tasks sit in the parent, for one).
            // A setter for a controller left out then fails naming its file.
            for (const auto& c : missing) {
                try {
                    put(*layout_, subtree, "+" + c);
                } catch (const Error&) {
                }
            }
        }
    }

    LayoutPtr layout_;
};

}  // namespace

std::unique_ptr<Manager> makeV2Manager(LayoutPtr layout)
{
    return std::make_unique<V2Manager>(std::move(layout));
}

}  // namespace lxvirt::cgroup::detail
