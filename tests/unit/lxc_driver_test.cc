// driver/lxc/driver.cc: registry, persistence, live state, lifecycle and
// events, driven through the DomainDriver interface with a fake container
// runtime injected (driver/lxc/driver_internal.h), so no real container is
// needed.
#include "driver/lxc/driver_internal.h"
#include "driver/lxc/state_file.h"
#include "tests/unit/tap.h"
#include "tests/unit/test_rootfs.h"
#include "xml/domain_xml.h"

#include <cppunit/extensions/HelperMacros.h>
#include <glib.h>
#include <libvirt/libvirt.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace lxvirt;
using namespace lxvirt::lxc;

// Readable failure messages for the value types compared below.
namespace CppUnit {
template <typename A, typename B> struct assertion_traits<std::pair<A, B>> {
    static bool equal(const std::pair<A, B> &x, const std::pair<A, B> &y) { return x == y; }
    static std::string toString(const std::pair<A, B> &x)
    {
        OStringStream os;
        os << "(" << x.first << ", " << x.second << ")";
        return os.str();
    }
};
template <> struct assertion_traits<std::vector<std::string>> {
    static bool equal(const std::vector<std::string> &x, const std::vector<std::string> &y) { return x == y; }
    static std::string toString(const std::vector<std::string> &x)
    {
        std::string s = "[";
        for (const auto &e : x)
            s += (s.size() > 1 ? ", " : "") + e;
        return s + "]";
    }
};
} // namespace CppUnit

namespace {

// ---- fake runtime -----------------------------------------------------------

class FakeCgroup : public cgroup::Cgroup {
public:
    std::string path_ = "/lxvirt-test/x.lxc";
    uint64_t hard = 0, soft = 0, swap = 0, shares = 1024, period = 0, cpu_ns = 123456789, mem_kib = 4242;
    int64_t quota = 0;
    unsigned blkio_weight = 0;
    std::map<std::string, unsigned> device_weights;
    int period_quota_calls = 0;

    const std::string &path() const override { return path_; }
    bool isV2() const override { return false; }
    void addProcess(pid_t) override {}
    std::vector<pid_t> processes() const override { return {}; }
    void setMemoryHardLimit(uint64_t kib) override { hard = kib; }
    void setMemorySoftLimit(uint64_t kib) override { soft = kib; }
    void setMemorySwapHardLimit(uint64_t kib) override { swap = kib; }
    uint64_t memoryHardLimit() const override { return hard; }
    uint64_t memoryUsage() const override { return mem_kib; }
    uint64_t oomKillCount() const override { return 0; }
    void setCpuShares(uint64_t s) override { shares = s; }
    uint64_t cpuShares() const override { return shares; }
    void setCpuPeriodQuota(uint64_t p, int64_t q) override
    {
        period = p;
        quota = q;
        period_quota_calls++;
    }
    uint64_t cpuUsageNs() const override { return cpu_ns; }
    std::pair<uint64_t, uint64_t> cpuUserSystemNs() const override { return {100, 23}; }
    void setCpusetCpus(const std::string &) override {}
    void setCpusetMems(const std::string &) override {}
    void setBlkioWeight(unsigned w) override { blkio_weight = w; }
    void setBlkioDeviceWeight(const std::string &mm, unsigned w) override { device_weights[mm] = w; }
    void setBlkioThrottle(const std::string &, std::optional<uint64_t>, std::optional<uint64_t>,
                          std::optional<uint64_t>, std::optional<uint64_t>) override
    {
    }
    void setDeviceAllowList(const std::vector<cgroup::DeviceRule> &) override {}
    void freeze() override {}
    void thaw() override {}
    bool isFrozen() const override { return false; }
    int killAll(int) override { return 0; }
    void remove() override {}
};

struct World;

class FakeContainer : public Container {
public:
    FakeContainer(World &w, const DomainDef &def, RunState rs, ExitCallback cb);
    ~FakeContainer() override;

    const RunState &runState() const override { return rs_; }
    void destroy(bool graceful) override
    {
        graceful_destroy = graceful;
        exit(ExitReason::Destroyed);
    }
    void shutdown(unsigned flags) override { shutdown_flags = int(flags); }
    void reboot(unsigned flags) override { reboot_flags = int(flags); }
    void suspend() override;
    void resume() override;
    bool isPaused() const override { return paused; }
    cgroup::Cgroup &cgroup() override { return cg; }
    int openConsole(int index, bool force) override
    {
        console_index = index;
        return ::open("/dev/null", O_RDWR | O_CLOEXEC);
    }
    std::vector<int> openNamespaces() override { return {}; }

    // What the runtime does when the container goes away.
    void exit(ExitReason why)
    {
        if (exited)
            return;
        exited = true;
        on_exit_(why);
    }

    World &world;
    DomainDef def;
    RunState rs_;
    ExitCallback on_exit_;
    FakeCgroup cg;
    bool paused = false, exited = false, graceful_destroy = false;
    int shutdown_flags = -1, reboot_flags = -1, console_index = -1;
};

// A SecurityManager that records what the driver asks of it: the driver's
// sVirt sequence (verify, generate, setAllLabel, restore, release, reserve,
// processLabel) is checked without SELinux on the host.
class FakeSecurity : public security::SecurityManager {
public:
    std::mutex mu;
    std::set<std::string> held; // labels of running domains
    int next = 0;
    int relabels = 0, restores = 0;

    std::string model() const override { return "selinux"; }
    std::string doi() const override { return "0"; }
    std::string baseLabel() const override { return "u:r:fake_t:s0"; }
    std::string baseImageLabel() const override { return "u:object_r:fake_file_t:s0"; }

    static SeclabelDef *find(DomainDef &def)
    {
        for (auto &s : def.seclabels)
            if (s.model.empty() || s.model == "selinux")
                return &s;
        return nullptr;
    }
    void verify(const DomainDef &def) const override
    {
        for (const auto &s : def.seclabels)
            if (s.type == SeclabelType::Static && s.label == "bad")
                throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_SECURITY, "invalid security label 'bad'");
    }
    security::Labels generate(DomainDef &def) override
    {
        SeclabelDef *s = find(def);
        if (!s || s->type != SeclabelType::Dynamic)
            return {};
        std::lock_guard<std::mutex> lk(mu);
        int n = next;
        next += 2;
        s->model = "selinux";
        s->label = "u:r:fake_t:s0:c" + std::to_string(n) + ",c" + std::to_string(n + 1);
        s->imagelabel = "u:object_r:fake_file_t:s0:c" + std::to_string(n) + ",c" + std::to_string(n + 1);
        held.insert(s->label);
        return {s->label, s->imagelabel};
    }
    security::Labels reserve(DomainDef &def, pid_t) override
    {
        SeclabelDef *s = find(def);
        if (!s || s->label.empty())
            return {};
        std::lock_guard<std::mutex> lk(mu);
        if (!held.insert(s->label).second)
            throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_SECURITY, "pair already held");
        return {s->label, s->imagelabel};
    }
    void release(DomainDef &def) override
    {
        SeclabelDef *s = find(def);
        if (!s || s->type != SeclabelType::Dynamic)
            return;
        std::lock_guard<std::mutex> lk(mu);
        held.erase(s->label);
        s->label.clear();
        s->imagelabel.clear();
    }
    std::string mountOptions(const DomainDef &def) const override
    {
        for (const auto &s : def.seclabels)
            if (!s.imagelabel.empty())
                return "context=\"" + s.imagelabel + "\"";
        return "";
    }
    security::ExecLabel execLabel(const DomainDef &def) const override
    {
        for (const auto &s : def.seclabels)
            if (!s.label.empty())
                return security::ExecLabel(s.label, true);
        return {};
    }
    void setAllLabel(const DomainDef &) override
    {
        std::lock_guard<std::mutex> lk(mu);
        relabels++;
    }
    void restoreAllLabel(const DomainDef &) override
    {
        std::lock_guard<std::mutex> lk(mu);
        restores++;
    }
    security::ProcessLabel processLabel(pid_t pid) const override
    {
        return {"proc-of-" + std::to_string(pid), true};
    }
};

struct World {
    std::mutex mu;
    std::map<std::string, FakeContainer *> containers; // live handles by domain name
    std::set<pid_t> alive;                             // controllers that "still run"
    std::set<pid_t> frozen;                            // their freezer state
    std::vector<std::string> cleaned;                  // cleanupStale calls
    std::vector<std::string> reconnected;
    std::map<std::string, int> starts;
    std::map<std::string, DomainDef> last_def;
    pid_t next_pid = 40000;
    bool fail_start = false;
    std::shared_ptr<FakeSecurity> security; // null: the driver's "none" model
    // Blocks start() of this domain until released (concurrency tests).
    std::string block_name;
    std::mutex block_mu;
    std::condition_variable block_cv;
    bool blocked = false, release = false;

    FakeContainer *get(const std::string &name)
    {
        std::lock_guard<std::mutex> lk(mu);
        auto it = containers.find(name);
        return it == containers.end() ? nullptr : it->second;
    }

    Runtime runtime()
    {
        Runtime rt;
        rt.start = [this](const DomainDef &def, const Paths &, Container::ExitCallback cb) {
            if (def.name == block_name) {
                std::unique_lock<std::mutex> lk(block_mu);
                blocked = true;
                block_cv.notify_all();
                block_cv.wait(lk, [this] { return release; });
            }
            std::lock_guard<std::mutex> lk(mu);
            if (fail_start)
                throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, "fake start failed at step 'exec'");
            RunState rs;
            rs.controller_pid = next_pid++;
            rs.init_pid = next_pid++;
            rs.cgroup_path = "/lxvirt-test/" + def.name + ".lxc";
            for (size_t i = 0; i < def.consoles.size(); i++)
                rs.console_ttys.push_back("/dev/pts/" + std::to_string(70 + i));
            alive.insert(rs.controller_pid);
            starts[def.name]++;
            last_def[def.name] = def;
            auto c = std::make_unique<FakeContainer>(*this, def, rs, std::move(cb));
            containers[def.name] = c.get();
            return std::unique_ptr<Container>(std::move(c));
        };
        rt.reconnect = [this](const DomainDef &def, const RunState &rs, const Paths &,
                              Container::ExitCallback cb) {
            std::lock_guard<std::mutex> lk(mu);
            reconnected.push_back(def.name);
            if (!alive.count(rs.controller_pid))
                throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, "controller is gone");
            auto c = std::make_unique<FakeContainer>(*this, def, rs, std::move(cb));
            c->paused = frozen.count(rs.controller_pid) > 0;
            containers[def.name] = c.get();
            return std::unique_ptr<Container>(std::move(c));
        };
        rt.cleanupStale = [this](const DomainDef &def, const RunState &, const Paths &) {
            std::lock_guard<std::mutex> lk(mu);
            cleaned.push_back(def.name);
        };
        rt.capabilities = [] { return std::string("<capabilities/>"); };
        rt.security = security;
        return rt;
    }
};

FakeContainer::FakeContainer(World &w, const DomainDef &d, RunState rs, ExitCallback cb)
    : world(w), def(d), rs_(std::move(rs)), on_exit_(std::move(cb))
{
    // Registered in world.containers by the caller, which holds world.mu.
}

void FakeContainer::suspend()
{
    paused = true;
    std::lock_guard<std::mutex> lk(world.mu);
    world.frozen.insert(rs_.controller_pid);
}

void FakeContainer::resume()
{
    paused = false;
    std::lock_guard<std::mutex> lk(world.mu);
    world.frozen.erase(rs_.controller_pid);
}

FakeContainer::~FakeContainer()
{
    std::lock_guard<std::mutex> lk(world.mu);
    auto it = world.containers.find(def.name);
    if (it != world.containers.end() && it->second == this)
        world.containers.erase(it);
}

// ---- helpers ------------------------------------------------------------------

std::string domainXml(const std::string &name, uint64_t memory_kib = 65536, const std::string &uuid = "")
{
    std::string x = "<domain type='lxc'>\n  <name>" + name + "</name>\n";
    if (!uuid.empty())
        x += "  <uuid>" + uuid + "</uuid>\n";
    x += "  <memory unit='KiB'>" + std::to_string(memory_kib) +
         "</memory>\n"
         "  <os>\n    <type>exe</type>\n    <init>/bin/sh</init>\n  </os>\n"
         "  <devices>\n    <console type='pty'/>\n  </devices>\n</domain>\n";
    return x;
}

bool exists(const std::string &path)
{
    struct stat st {};
    return lstat(path.c_str(), &st) == 0;
}

template <typename F> int errorCode(F &&f)
{
    try {
        f();
    } catch (const Error &e) {
        return e.code();
    }
    return 0;
}

template <typename F> std::string errorText(F &&f)
{
    try {
        f();
    } catch (const Error &e) {
        return e.what();
    }
    return "(no error)";
}

void drainMainContext()
{
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
}

std::vector<std::string> names(const std::vector<DomainRef> &refs)
{
    std::vector<std::string> v;
    for (const auto &r : refs)
        v.push_back(r.name);
    std::sort(v.begin(), v.end());
    return v;
}

const TypedValue *param(const TypedParams &params, const std::string &field)
{
    for (const auto &p : params)
        if (p.field == field)
            return &p.value;
    return nullptr;
}

} // namespace

class LxcDriverTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LxcDriverTest);
    CPPUNIT_TEST(kernelReleasesParseAsLibvirtVersions);
    CPPUNIT_TEST(defineWritesTheConfigAtomicallyAndReportsAddedThenUpdated);
    CPPUNIT_TEST(definitionsAreReloadedWhenTheDriverIsCreatedAgain);
    CPPUNIT_TEST(defineRejectsNewlinesInNamesUnknownFlagsAndUuidClashes);
    CPPUNIT_TEST(undefineRemovesTheConfigAndTheAutostartLink);
    CPPUNIT_TEST(undefineOfATransientDomainIsAnError);
    CPPUNIT_TEST(undefineOfARunningDomainMakesItTransient);
    CPPUNIT_TEST(lookupErrorsUseLibvirtsWording);
    CPPUNIT_TEST(listAllDomainsHonoursEveryFilter);
    CPPUNIT_TEST(startSuspendResumeDestroyReportStatesReasonsAndEvents);
    CPPUNIT_TEST(startPausedLeavesTheDomainPaused);
    CPPUNIT_TEST(liveStateFileExistsOnlyWhileRunning);
    CPPUNIT_TEST(containerExitIsReportedAsShutdownOrCrash);
    CPPUNIT_TEST(transientDomainsVanishWhenTheyStop);
    CPPUNIT_TEST(rebootRestartsWithTheSameDefinitionAndReportsReboot);
    CPPUNIT_TEST(staleExitNotificationsAreIgnored);
    CPPUNIT_TEST(redefiningARunningDomainKeepsTheLiveDefinitionUntilItStops);
    CPPUNIT_TEST(liveXmlShowsTheIdAndConsoleTty);
    CPPUNIT_TEST(shutdownAndRebootAcceptOnlyInitctlAndSignalFlags);
    CPPUNIT_TEST(startFailureLeavesTheDomainShutOffFailed);
    CPPUNIT_TEST(memoryTunablesAreValidatedWrittenLiveAndPersisted);
    CPPUNIT_TEST(setMemoryRespectsMaxMemoryAndWritesTheCgroup);
    CPPUNIT_TEST(schedulerParametersWriteTheCgroupAndValidateRanges);
    CPPUNIT_TEST(blkioParametersValidateAndPersistDeviceLists);
    CPPUNIT_TEST(infoAndStatsComeFromTheCgroupWhileRunning);
    CPPUNIT_TEST(autostartLinksPointToTheConfigAndStartDomainsOnDriverCreation);
    CPPUNIT_TEST(restartRecoveryReattachesLiveContainersAndReportsDeadOnesCrashed);
    CPPUNIT_TEST(jobsOnDifferentDomainsRunInParallelAndReadsDoNotWaitForJobs);
    CPPUNIT_TEST(consoleAndHostQueriesFollowLibvirt);
    CPPUNIT_TEST(withoutASecurityManagerDomainsRunUnconfined);
    CPPUNIT_TEST(dynamicLabelsAreGeneratedIntoTheLiveXmlAndReleasedAtStop);
    CPPUNIT_TEST(labelsThatCannotBeHonouredAreRefusedAtDefine);
    CPPUNIT_TEST(restartedDriverReservesTheLabelsOfRunningContainers);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        char tmpl[] = "/tmp/lxvirt-lxc-driver-XXXXXX";
        CPPUNIT_ASSERT(mkdtemp(tmpl));
        dir_ = tmpl;
        world_ = std::make_unique<World>();
        events_.clear();
    }

    void tearDown() override
    {
        driver_.reset();
        drainMainContext();
        world_.reset();
        std::error_code ec;
        std::filesystem::remove_all(dir_, ec);
    }

    DriverConfig config(bool autostart = false)
    {
        DriverConfig c;
        c.config_dir = dir_ + "/etc";
        c.paths.run_dir = dir_ + "/run";
        c.paths.log_dir = dir_ + "/log";
        c.paths.controller_binary = "/nonexistent/lxvirt-controller";
        c.cgroup_partition = "/lxvirt-test";
        c.run_autostart = autostart;
        return c;
    }

    void makeDriver(bool autostart = false, bool sink = true)
    {
        driver_.reset();
        drainMainContext();
        driver_ = createDriverWith(config(autostart), world_->runtime());
        if (sink)
            installSink();
    }

    void installSink()
    {
        driver_->setEventSink([this](const DomainEvent &e) {
            std::lock_guard<std::mutex> lk(events_mu_);
            events_.push_back(e);
        });
    }

    std::vector<DomainEvent> takeEvents()
    {
        std::lock_guard<std::mutex> lk(events_mu_);
        auto v = events_;
        events_.clear();
        return v;
    }

    static std::string describe(const std::vector<DomainEvent> &events)
    {
        std::string s;
        for (const auto &e : events) {
            if (!s.empty())
                s += " ";
            if (e.kind == DomainEvent::Kind::Reboot)
                s += e.lifecycle.dom.name + ":reboot";
            else
                s += e.lifecycle.dom.name + ":" + std::to_string(e.lifecycle.event) + "/" +
                     std::to_string(e.lifecycle.detail);
        }
        return s;
    }

    std::string etc(const std::string &f) { return dir_ + "/etc/" + f; }
    std::string run(const std::string &f) { return dir_ + "/run/" + f; }

    // ---------------------------------------------------------------------

    void kernelReleasesParseAsLibvirtVersions()
    {
        uint64_t v = 0;
        CPPUNIT_ASSERT(parseKernelVersion("6.18.0-1-amd64", v));
        CPPUNIT_ASSERT_EQUAL(uint64_t(6018000), v);
        CPPUNIT_ASSERT(parseKernelVersion("5.10", v));
        CPPUNIT_ASSERT_EQUAL(uint64_t(5010000), v);
        CPPUNIT_ASSERT(parseKernelVersion("4.19.260+", v));
        CPPUNIT_ASSERT_EQUAL(uint64_t(4019260), v);
        CPPUNIT_ASSERT(!parseKernelVersion("linux", v));
        CPPUNIT_ASSERT(!parseKernelVersion("6.1000.0", v));
    }

    void defineWritesTheConfigAtomicallyAndReportsAddedThenUpdated()
    {
        makeDriver();
        DomainRef ref = driver_->defineXml(domainXml("lxc-a"), 0);
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a"), ref.name);
        CPPUNIT_ASSERT_EQUAL(-1, ref.id);
        CPPUNIT_ASSERT(exists(etc("lxc-a.xml")));
        CPPUNIT_ASSERT(!exists(etc("lxc-a.xml.new")));
        DomainDef back = parseDomainXml(readFile(etc("lxc-a.xml")));
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a"), back.name);
        CPPUNIT_ASSERT(back.uuid == ref.uuid);
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), back.memory_kib);

        driver_->defineXml(domainXml("lxc-a", 131072, uuidToString(ref.uuid)), VIR_DOMAIN_DEFINE_VALIDATE);
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072), parseDomainXml(readFile(etc("lxc-a.xml"))).memory_kib);
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a:0/0 lxc-a:0/1"), describe(takeEvents()));
        CPPUNIT_ASSERT(driver_->isPersistent(ref));
        CPPUNIT_ASSERT(!driver_->isActive(ref));
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_UNKNOWN)),
                             driver_->getState(ref, 0));
    }

    void definitionsAreReloadedWhenTheDriverIsCreatedAgain()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a", 65536), 0);
        driver_->defineXml(domainXml("lxc-b", 32768), 0);
        driver_->setAutostart(a, true);
        // A half-written file from a crash must not be taken for a domain.
        writeFileAtomic(etc("junk.xml.new"), "<domain");
        makeDriver();
        CPPUNIT_ASSERT_EQUAL((std::vector<std::string>{"lxc-a", "lxc-b"}), names(driver_->listAllDomains(0)));
        DomainRef a2 = driver_->lookupByName("lxc-a");
        CPPUNIT_ASSERT(a2.uuid == a.uuid);
        CPPUNIT_ASSERT(driver_->getAutostart(a2));
        CPPUNIT_ASSERT(!driver_->getAutostart(driver_->lookupByName("lxc-b")));
        CPPUNIT_ASSERT_EQUAL(uint64_t(32768), driver_->getMaxMemory(driver_->lookupByName("lxc-b")));
        CPPUNIT_ASSERT(!driver_->isActive(a2)); // autostart off in this driver
    }

    void defineRejectsNewlinesInNamesUnknownFlagsAndUuidClashes()
    {
        makeDriver();
        int code = errorCode([&] { driver_->defineXml(domainXml("bad&#10;name"), 0); });
        CPPUNIT_ASSERT(code == VIR_ERR_XML_DETAIL || code == VIR_ERR_XML_ERROR);
        CPPUNIT_ASSERT(!exists(etc("bad\nname.xml")));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG),
                             errorCode([&] { driver_->defineXml(domainXml("x"), 2); }));
        CPPUNIT_ASSERT_EQUAL(
            std::string("invalid argument: unsupported flags (0x2) in function lxcDomainDefineXMLFlags"),
            errorText([&] { driver_->defineXml(domainXml("x"), 2); }));

        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        // Same uuid, other name.
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_FAILED), errorCode([&] {
                                 driver_->defineXml(domainXml("lxc-z", 65536, uuidToString(a.uuid)), 0);
                             }));
        // Same name, other uuid.
        std::string msg = errorText([&] {
            driver_->defineXml(domainXml("lxc-a", 65536, "11111111-2222-3333-4444-555555555555"), 0);
        });
        CPPUNIT_ASSERT_EQUAL(std::string("operation failed: domain 'lxc-a' already exists with uuid ") +
                                 uuidToString(a.uuid),
                             msg);
        CPPUNIT_ASSERT_EQUAL(size_t(1), driver_->listAllDomains(0).size());
    }

    void undefineRemovesTheConfigAndTheAutostartLink()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        driver_->setAutostart(a, true);
        CPPUNIT_ASSERT(exists(etc("autostart/lxc-a.xml")));
        takeEvents();
        driver_->undefine(a, 0);
        CPPUNIT_ASSERT(!exists(etc("lxc-a.xml")));
        CPPUNIT_ASSERT(!exists(etc("autostart/lxc-a.xml")));
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a:1/0"), describe(takeEvents()));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->lookupByName("lxc-a"); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->undefine(a, 0); }));
    }

    void undefineOfATransientDomainIsAnError()
    {
        makeDriver();
        DomainRef t = driver_->createXml(domainXml("lxc-t"), 0);
        CPPUNIT_ASSERT(!driver_->isPersistent(t));
        CPPUNIT_ASSERT(!exists(etc("lxc-t.xml")));
        CPPUNIT_ASSERT_EQUAL(
            std::string("Requested operation is not valid: Cannot undefine transient domain"),
            errorText([&] { driver_->undefine(t, 0); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID),
                             errorCode([&] { driver_->setAutostart(t, true); }));
    }

    void undefineOfARunningDomainMakesItTransient()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        a = driver_->create(a, 0);
        driver_->undefine(a, 0);
        CPPUNIT_ASSERT(!exists(etc("lxc-a.xml")));
        CPPUNIT_ASSERT(driver_->isActive(a));
        CPPUNIT_ASSERT(!driver_->isPersistent(a));
        driver_->destroy(a, 0);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->lookupByName("lxc-a"); }));
    }

    void lookupErrorsUseLibvirtsWording()
    {
        makeDriver();
        CPPUNIT_ASSERT_EQUAL(std::string("Domain not found: no domain with matching name 'nope'"),
                             errorText([&] { driver_->lookupByName("nope"); }));
        Uuid u{};
        uuidFromString("00000000-1111-2222-3333-444444444444", u);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                "Domain not found: no domain with matching uuid '00000000-1111-2222-3333-444444444444'"),
            errorText([&] { driver_->lookupByUuid(u); }));
        CPPUNIT_ASSERT_EQUAL(std::string("Domain not found: no domain with matching id 42"),
                             errorText([&] { driver_->lookupById(42); }));
        DomainRef ghost;
        ghost.name = "ghost";
        ghost.uuid = u;
        CPPUNIT_ASSERT_EQUAL(std::string("Domain not found: no domain with matching uuid "
                                         "'00000000-1111-2222-3333-444444444444' (ghost)"),
                             errorText([&] { driver_->getState(ghost, 0); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->lookupByName("nope"); }));

        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        CPPUNIT_ASSERT(a.id > 0);
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a"), driver_->lookupById(a.id).name);
        CPPUNIT_ASSERT_EQUAL(a.id, driver_->lookupByName("lxc-a").id);
        CPPUNIT_ASSERT_EQUAL(a.id, driver_->lookupByUuid(a.uuid).id);
        CPPUNIT_ASSERT_EQUAL(a.id, int(world_->get("lxc-a")->rs_.controller_pid));
    }

    void listAllDomainsHonoursEveryFilter()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-off"), 0);
        driver_->setAutostart(a, true);
        driver_->create(driver_->defineXml(domainXml("lxc-run"), 0), 0);
        driver_->createXml(domainXml("lxc-trans"), 0);
        DomainRef p = driver_->create(driver_->defineXml(domainXml("lxc-paused"), 0), 0);
        driver_->suspend(p);

        auto list = [&](unsigned f) { return names(driver_->listAllDomains(f)); };
        using V = std::vector<std::string>;
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off", "lxc-paused", "lxc-run", "lxc-trans"}), list(0));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-paused", "lxc-run", "lxc-trans"}),
                             list(VIR_CONNECT_LIST_DOMAINS_ACTIVE));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off"}), list(VIR_CONNECT_LIST_DOMAINS_INACTIVE));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off", "lxc-paused", "lxc-run", "lxc-trans"}),
                             list(VIR_CONNECT_LIST_DOMAINS_ACTIVE | VIR_CONNECT_LIST_DOMAINS_INACTIVE));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off", "lxc-paused", "lxc-run"}),
                             list(VIR_CONNECT_LIST_DOMAINS_PERSISTENT));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-trans"}), list(VIR_CONNECT_LIST_DOMAINS_TRANSIENT));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-run", "lxc-trans"}), list(VIR_CONNECT_LIST_DOMAINS_RUNNING));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-paused"}), list(VIR_CONNECT_LIST_DOMAINS_PAUSED));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off"}), list(VIR_CONNECT_LIST_DOMAINS_SHUTOFF));
        CPPUNIT_ASSERT_EQUAL((V{}), list(VIR_CONNECT_LIST_DOMAINS_OTHER));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off", "lxc-paused"}),
                             list(VIR_CONNECT_LIST_DOMAINS_PAUSED | VIR_CONNECT_LIST_DOMAINS_SHUTOFF));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off"}), list(VIR_CONNECT_LIST_DOMAINS_AUTOSTART));
        CPPUNIT_ASSERT_EQUAL((V{"lxc-paused", "lxc-run", "lxc-trans"}),
                             list(VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART));
        CPPUNIT_ASSERT_EQUAL((V{}), list(VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE));
        CPPUNIT_ASSERT_EQUAL(size_t(4), list(VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE).size());
        CPPUNIT_ASSERT_EQUAL((V{}), list(VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT));
        CPPUNIT_ASSERT_EQUAL(size_t(4), list(VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT).size());
        CPPUNIT_ASSERT_EQUAL((V{"lxc-run"}),
                             list(VIR_CONNECT_LIST_DOMAINS_PERSISTENT | VIR_CONNECT_LIST_DOMAINS_RUNNING));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG), errorCode([&] { driver_->listAllDomains(1u << 30); }));

        CPPUNIT_ASSERT_EQUAL(3, driver_->numOfDomains());
        CPPUNIT_ASSERT_EQUAL(1, driver_->numOfDefinedDomains());
        CPPUNIT_ASSERT_EQUAL((V{"lxc-off"}), driver_->listDefinedDomains(10));
        CPPUNIT_ASSERT_EQUAL(size_t(3), driver_->listDomainIds(10).size());
        CPPUNIT_ASSERT_EQUAL(size_t(2), driver_->listDomainIds(2).size());
    }

    void startSuspendResumeDestroyReportStatesReasonsAndEvents()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        takeEvents();
        a = driver_->create(a, 0);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED)),
                             driver_->getState(a, 0));
        CPPUNIT_ASSERT_EQUAL(std::string("Requested operation is not valid: Domain is already running"),
                             errorText([&] { driver_->create(a, 0); }));

        driver_->suspend(a);
        CPPUNIT_ASSERT(world_->get("lxc-a")->paused);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER)),
                             driver_->getState(a, 0));
        driver_->suspend(a); // already paused: no second event
        driver_->resume(a);
        CPPUNIT_ASSERT(!world_->get("lxc-a")->paused);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_UNPAUSED)),
                             driver_->getState(a, 0));
        driver_->resume(a); // not paused: nothing happens

        driver_->destroy(a, VIR_DOMAIN_DESTROY_GRACEFUL);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED)),
                             driver_->getState(a, 0));
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a:2/0 lxc-a:3/0 lxc-a:4/0 lxc-a:5/1"), describe(takeEvents()));
        CPPUNIT_ASSERT_EQUAL(-1, driver_->lookupByName("lxc-a").id);

        // The handle is released from the main context, not inside its callback.
        drainMainContext();
        CPPUNIT_ASSERT(world_->get("lxc-a") == nullptr);

        CPPUNIT_ASSERT_EQUAL(std::string("Requested operation is not valid: domain is not running"),
                             errorText([&] { driver_->destroy(a, 0); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID), errorCode([&] { driver_->suspend(a); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID), errorCode([&] { driver_->resume(a); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG), errorCode([&] { driver_->destroy(a, 4); }));
    }

    void startPausedLeavesTheDomainPaused()
    {
        makeDriver();
        DomainRef t = driver_->createXml(domainXml("lxc-p"), VIR_DOMAIN_START_PAUSED);
        CPPUNIT_ASSERT(world_->get("lxc-p")->paused);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER)),
                             driver_->getState(t, 0));
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-p:2/0 lxc-p:3/0"), describe(takeEvents()));
        CPPUNIT_ASSERT(
            errorCode([&] { driver_->createXml(domainXml("lxc-q"), VIR_DOMAIN_START_AUTODESTROY); }) != 0);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->lookupByName("lxc-q"); }));
    }

    void liveStateFileExistsOnlyWhileRunning()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        CPPUNIT_ASSERT(exists(run("lxc-a.xml")));
        CPPUNIT_ASSERT(!exists(run("lxc-a.xml.new")));
        LiveState st = parseLiveState(readFile(run("lxc-a.xml")));
        const RunState &rs = world_->get("lxc-a")->rs_;
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_RUNNING), st.state);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_RUNNING_BOOTED), st.reason);
        CPPUNIT_ASSERT_EQUAL(rs.controller_pid, st.run.controller_pid);
        CPPUNIT_ASSERT_EQUAL(rs.init_pid, st.run.init_pid);
        CPPUNIT_ASSERT_EQUAL(rs.cgroup_path, st.run.cgroup_path);
        CPPUNIT_ASSERT(st.run.console_ttys == rs.console_ttys);
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a"), st.def.name);
        CPPUNIT_ASSERT(st.def.uuid == a.uuid);

        driver_->suspend(a);
        st = parseLiveState(readFile(run("lxc-a.xml")));
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_PAUSED), st.state);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_PAUSED_USER), st.reason);

        driver_->destroy(a, 0);
        CPPUNIT_ASSERT(!exists(run("lxc-a.xml")));
    }

    void containerExitIsReportedAsShutdownOrCrash()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        takeEvents();
        driver_->shutdown(a, 0);
        CPPUNIT_ASSERT_EQUAL(0, world_->get("lxc-a")->shutdown_flags);
        world_->get("lxc-a")->exit(ExitReason::Shutdown);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_SHUTDOWN)),
                             driver_->getState(a, 0));
        CPPUNIT_ASSERT(!exists(run("lxc-a.xml")));

        driver_->create(a, 0);
        world_->get("lxc-a")->exit(ExitReason::Crashed);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED)),
                             driver_->getState(a, 0));
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a:5/0 lxc-a:2/0 lxc-a:5/2"), describe(takeEvents()));
    }

    void transientDomainsVanishWhenTheyStop()
    {
        makeDriver();
        DomainRef t = driver_->createXml(domainXml("lxc-t"), 0);
        CPPUNIT_ASSERT_EQUAL(size_t(1), driver_->listAllDomains(0).size());
        world_->get("lxc-t")->exit(ExitReason::Shutdown);
        CPPUNIT_ASSERT_EQUAL(size_t(0), driver_->listAllDomains(0).size());
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->getState(t, 0); }));
        CPPUNIT_ASSERT(!exists(run("lxc-t.xml")));
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-t:2/0 lxc-t:5/0"), describe(takeEvents()));
    }

    void rebootRestartsWithTheSameDefinitionAndReportsReboot()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a", 65536), 0), 0);
        // A new persistent definition must not be picked up by a reboot.
        driver_->defineXml(domainXml("lxc-a", 131072, uuidToString(a.uuid)), 0);
        takeEvents();
        driver_->reboot(a, VIR_DOMAIN_REBOOT_SIGNAL);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_REBOOT_SIGNAL), world_->get("lxc-a")->reboot_flags);
        world_->get("lxc-a")->exit(ExitReason::Reboot);
        for (int i = 0; i < 200 && world_->starts["lxc-a"] < 2; i++)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::vector<DomainEvent> events;
        for (int i = 0; i < 200 && events.empty(); i++) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            events = takeEvents();
        }
        CPPUNIT_ASSERT_EQUAL(2, world_->starts["lxc-a"]);
        CPPUNIT_ASSERT(driver_->isActive(a));
        DomainRef again = driver_->lookupByName("lxc-a");
        CPPUNIT_ASSERT(again.id != a.id);
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), world_->last_def["lxc-a"].memory_kib);
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-a:reboot"), describe(events));
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), driver_->getMaxMemory(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072),
                             parseDomainXml(driver_->getXmlDesc(a, VIR_DOMAIN_XML_INACTIVE)).memory_kib);
    }

    void staleExitNotificationsAreIgnored()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        FakeContainer *first = world_->get("lxc-a");
        auto cb = first->on_exit_;
        driver_->destroy(a, 0);
        driver_->create(a, 0);
        takeEvents();
        cb(ExitReason::Crashed); // late duplicate from the first run
        CPPUNIT_ASSERT(driver_->isActive(a));
        CPPUNIT_ASSERT_EQUAL(std::string(""), describe(takeEvents()));
    }

    void redefiningARunningDomainKeepsTheLiveDefinitionUntilItStops()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a", 65536), 0), 0);
        CPPUNIT_ASSERT(!driver_->isUpdated(a));
        driver_->defineXml(domainXml("lxc-a", 131072, uuidToString(a.uuid)), 0);
        CPPUNIT_ASSERT(driver_->isUpdated(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), driver_->getMaxMemory(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536),
                             parseDomainXml(driver_->getXmlDesc(a, 0), PARSE_LIVE).memory_kib);
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072),
                             parseDomainXml(driver_->getXmlDesc(a, VIR_DOMAIN_XML_INACTIVE)).memory_kib);
        driver_->destroy(a, 0);
        CPPUNIT_ASSERT(!driver_->isUpdated(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072), driver_->getMaxMemory(a));
        driver_->create(a, 0);
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072), world_->last_def["lxc-a"].memory_kib);
    }

    void liveXmlShowsTheIdAndConsoleTty()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        std::string live = driver_->getXmlDesc(a, 0);
        CPPUNIT_ASSERT_MESSAGE(live, live.find("id='" + std::to_string(a.id) + "'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(live, live.find("/dev/pts/70") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(live, live.find("console0") != std::string::npos);
        std::string inactive = driver_->getXmlDesc(a, VIR_DOMAIN_XML_INACTIVE);
        CPPUNIT_ASSERT_MESSAGE(inactive, inactive.find("/dev/pts/70") == std::string::npos);
        CPPUNIT_ASSERT(inactive.find(" id='") == std::string::npos);
        // The runtime received the driver's cgroup partition.
        CPPUNIT_ASSERT_EQUAL(std::string("/lxvirt-test"), world_->last_def["lxc-a"].resource_partition);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG), errorCode([&] { driver_->getXmlDesc(a, 64); }));
    }

    void shutdownAndRebootAcceptOnlyInitctlAndSignalFlags()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG),
                             errorCode([&] { driver_->shutdown(a, VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG),
                             errorCode([&] { driver_->reboot(a, VIR_DOMAIN_REBOOT_GUEST_AGENT); }));
        driver_->shutdown(a, VIR_DOMAIN_SHUTDOWN_INITCTL | VIR_DOMAIN_SHUTDOWN_SIGNAL);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_SHUTDOWN_INITCTL | VIR_DOMAIN_SHUTDOWN_SIGNAL),
                             world_->get("lxc-a")->shutdown_flags);
        driver_->reboot(a, VIR_DOMAIN_REBOOT_INITCTL);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_REBOOT_INITCTL), world_->get("lxc-a")->reboot_flags);
        driver_->destroy(a, 0);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID), errorCode([&] { driver_->shutdown(a, 0); }));
    }

    void startFailureLeavesTheDomainShutOffFailed()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        takeEvents();
        world_->fail_start = true;
        std::string msg = errorText([&] { driver_->create(a, 0); });
        CPPUNIT_ASSERT_MESSAGE(msg, msg.find("fake start failed at step 'exec'") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_FAILED)),
                             driver_->getState(a, 0));
        CPPUNIT_ASSERT(!exists(run("lxc-a.xml")));
        CPPUNIT_ASSERT(errorCode([&] { driver_->createXml(domainXml("lxc-t"), 0); }) != 0);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->lookupByName("lxc-t"); }));
        CPPUNIT_ASSERT_EQUAL(std::string(""), describe(takeEvents()));
        world_->fail_start = false;
        driver_->create(a, 0);
        CPPUNIT_ASSERT(driver_->isActive(a));
    }

    void memoryTunablesAreValidatedWrittenLiveAndPersisted()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        TypedParams cfg = driver_->getMemoryParameters(a, 0);
        CPPUNIT_ASSERT_EQUAL(size_t(3), cfg.size());
        CPPUNIT_ASSERT(std::get<uint64_t>(*param(cfg, "hard_limit")) == 9007199254740991ULL);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID),
                             errorCode([&] { driver_->getMemoryParameters(a, VIR_DOMAIN_AFFECT_LIVE); }));

        // Inactive: CURRENT means CONFIG and persists.
        driver_->setMemoryParameters(a, {{"hard_limit", uint64_t(200000)}, {"soft_limit", uint64_t(100000)}},
                                     0);
        DomainDef persisted = parseDomainXml(readFile(etc("lxc-a.xml")));
        CPPUNIT_ASSERT(persisted.mem_hard_limit_kib == std::optional<uint64_t>(200000));
        CPPUNIT_ASSERT(persisted.mem_soft_limit_kib == std::optional<uint64_t>(100000));

        a = driver_->create(a, 0);
        FakeCgroup &cg = world_->get("lxc-a")->cg;
        driver_->setMemoryParameters(
            a, {{"hard_limit", uint64_t(150000)}, {"swap_hard_limit", uint64_t(300000)}},
            VIR_DOMAIN_AFFECT_LIVE);
        CPPUNIT_ASSERT_EQUAL(uint64_t(150000), cg.hard);
        CPPUNIT_ASSERT_EQUAL(uint64_t(300000), cg.swap);
        TypedParams live = driver_->getMemoryParameters(a, VIR_DOMAIN_AFFECT_LIVE);
        CPPUNIT_ASSERT_EQUAL(uint64_t(150000), std::get<uint64_t>(*param(live, "hard_limit")));
        TypedParams conf = driver_->getMemoryParameters(a, VIR_DOMAIN_AFFECT_CONFIG);
        CPPUNIT_ASSERT_EQUAL(uint64_t(200000), std::get<uint64_t>(*param(conf, "hard_limit")));
        CPPUNIT_ASSERT(std::get<uint64_t>(*param(conf, "swap_hard_limit")) == 9007199254740991ULL);

        // Validation as libvirt: types, names, hard <= swap.
        CPPUNIT_ASSERT_EQUAL(std::string("invalid argument: invalid type 'llong' for parameter 'hard_limit', "
                                         "expected 'ullong'"),
                             errorText([&] {
                                 driver_->setMemoryParameters(a, {{"hard_limit", int64_t(5)}}, 0);
                             }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_ARGUMENT_UNSUPPORTED), errorCode([&] {
                                 driver_->setMemoryParameters(a, {{"min_guarantee", uint64_t(5)}}, 0);
                             }));
        CPPUNIT_ASSERT_EQUAL(
            std::string("invalid argument: memory hard_limit tunable value must be lower than or equal to "
                        "swap_hard_limit"),
            errorText([&] {
                driver_->setMemoryParameters(a, {{"hard_limit", uint64_t(400000)}}, 0);
            }));
        CPPUNIT_ASSERT_EQUAL(uint64_t(150000), cg.hard);

        // Unlimited goes to the cgroup as "no limit".
        driver_->setMemoryParameters(a, {{"soft_limit", uint64_t(9007199254740991ULL)}},
                                     VIR_DOMAIN_AFFECT_LIVE);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), cg.soft);

        // LIVE|CONFIG writes both.
        driver_->setMemoryParameters(a, {{"soft_limit", uint64_t(50000)}},
                                     VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG);
        CPPUNIT_ASSERT_EQUAL(uint64_t(50000), cg.soft);
        CPPUNIT_ASSERT(parseDomainXml(readFile(etc("lxc-a.xml"))).mem_soft_limit_kib ==
                       std::optional<uint64_t>(50000));
        LiveState st = parseLiveState(readFile(run("lxc-a.xml")));
        CPPUNIT_ASSERT(st.def.mem_soft_limit_kib == std::optional<uint64_t>(50000));

        DomainRef t = driver_->createXml(domainXml("lxc-t"), 0);
        CPPUNIT_ASSERT_EQUAL(
            std::string(
                "Requested operation is not valid: transient domains do not have any persistent config"),
            errorText([&] { driver_->setMemoryParameters(t, {}, VIR_DOMAIN_AFFECT_CONFIG); }));
    }

    void setMemoryRespectsMaxMemoryAndWritesTheCgroup()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a", 65536), 0);
        driver_->setMaxMemory(a, 131072);
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072), driver_->getMaxMemory(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072), parseDomainXml(readFile(etc("lxc-a.xml"))).memory_kib);
        CPPUNIT_ASSERT_EQUAL(std::string("invalid argument: Cannot set memory higher than max memory"),
                             errorText([&] { driver_->setMemoryFlags(a, 262144, 0); }));
        a = driver_->create(a, 0);
        CPPUNIT_ASSERT_EQUAL(
            std::string("Requested operation is not valid: Cannot resize the max memory on an active domain"),
            errorText([&] { driver_->setMaxMemory(a, 262144); }));
        driver_->setMemoryFlags(a, 100000, VIR_DOMAIN_AFFECT_LIVE);
        CPPUNIT_ASSERT_EQUAL(uint64_t(100000), world_->get("lxc-a")->cg.hard);
        CPPUNIT_ASSERT_EQUAL(uint64_t(100000),
                             parseDomainXml(driver_->getXmlDesc(a, 0), PARSE_LIVE).current_memory_kib);
        driver_->setMemoryFlags(a, 90000, VIR_DOMAIN_AFFECT_CONFIG);
        CPPUNIT_ASSERT_EQUAL(uint64_t(90000), parseDomainXml(readFile(etc("lxc-a.xml"))).current_memory_kib);
        CPPUNIT_ASSERT_EQUAL(uint64_t(100000), world_->get("lxc-a")->cg.hard);
    }

    void schedulerParametersWriteTheCgroupAndValidateRanges()
    {
        makeDriver();
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        CPPUNIT_ASSERT_EQUAL((std::pair<std::string, int>("posix", 3)), driver_->getSchedulerType(a));
        FakeCgroup &cg = world_->get("lxc-a")->cg;
        driver_->setSchedulerParameters(a, {{"cpu_shares", uint64_t(512)}, {"vcpu_quota", int64_t(50000)}},
                                        0);
        CPPUNIT_ASSERT_EQUAL(uint64_t(512), cg.shares);
        CPPUNIT_ASSERT_EQUAL(int64_t(50000), cg.quota);
        CPPUNIT_ASSERT_EQUAL(uint64_t(100000), cg.period);
        TypedParams live = driver_->getSchedulerParameters(a, 0);
        CPPUNIT_ASSERT_EQUAL(size_t(3), live.size());
        CPPUNIT_ASSERT_EQUAL(uint64_t(512), std::get<uint64_t>(*param(live, "cpu_shares")));
        CPPUNIT_ASSERT_EQUAL(int64_t(50000), std::get<int64_t>(*param(live, "vcpu_quota")));
        // Not persisted: the config still has no shares.
        TypedParams conf = driver_->getSchedulerParameters(a, VIR_DOMAIN_AFFECT_CONFIG);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), std::get<uint64_t>(*param(conf, "cpu_shares")));

        CPPUNIT_ASSERT_EQUAL(
            std::string("invalid argument: cfs_period '10' must be in range (1000, 1000000)"), errorText([&] {
                driver_->setSchedulerParameters(a, {{"vcpu_period", uint64_t(10)}}, 0);
            }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG), errorCode([&] {
                                 driver_->setSchedulerParameters(a, {{"vcpu_quota", uint64_t(5000)}}, 0);
                             }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_ARGUMENT_UNSUPPORTED), errorCode([&] {
                                 driver_->setSchedulerParameters(a, {{"weight", uint64_t(5)}}, 0);
                             }));

        driver_->setSchedulerParameters(a, {{"cpu_shares", uint64_t(2048)}, {"vcpu_period", uint64_t(20000)}},
                                        VIR_DOMAIN_AFFECT_CONFIG);
        DomainDef persisted = parseDomainXml(readFile(etc("lxc-a.xml")));
        CPPUNIT_ASSERT(persisted.cpu_shares == std::optional<uint64_t>(2048));
        CPPUNIT_ASSERT(persisted.cpu_period == std::optional<uint64_t>(20000));
        CPPUNIT_ASSERT_EQUAL(uint64_t(512), cg.shares);
    }

    void blkioParametersValidateAndPersistDeviceLists()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        CPPUNIT_ASSERT_EQUAL(std::string("invalid argument: out of blkio weight range."), errorText([&] {
                                 driver_->setBlkioParameters(a, {{"weight", uint32_t(50)}}, 0);
                             }));
        CPPUNIT_ASSERT_EQUAL(
            int(VIR_ERR_INVALID_ARG), errorCode([&] {
                driver_->setBlkioParameters(a, {{"device_weight", std::string("/dev/sda")}}, 0);
            }));
        driver_->setBlkioParameters(a,
                                    {{"weight", uint32_t(300)},
                                     {"device_weight", std::string("/dev/lxvirt-test-disk,500")},
                                     {"device_read_bytes_sec", std::string("/dev/lxvirt-test-disk,1048576")}},
                                    0);
        DomainDef persisted = parseDomainXml(readFile(etc("lxc-a.xml")));
        CPPUNIT_ASSERT(persisted.blkio_weight == std::optional<unsigned>(300));
        CPPUNIT_ASSERT_EQUAL(size_t(1), persisted.blkio_devices.size());
        CPPUNIT_ASSERT(persisted.blkio_devices[0].weight == std::optional<unsigned>(500));
        CPPUNIT_ASSERT(persisted.blkio_devices[0].read_bytes_sec == std::optional<uint64_t>(1048576));

        TypedParams got = driver_->getBlkioParameters(a, 0);
        CPPUNIT_ASSERT_EQUAL(size_t(6), got.size());
        CPPUNIT_ASSERT_EQUAL(uint32_t(300), std::get<uint32_t>(*param(got, "weight")));
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/lxvirt-test-disk,500"),
                             std::get<std::string>(*param(got, "device_weight")));
        CPPUNIT_ASSERT_EQUAL(std::string(""), std::get<std::string>(*param(got, "device_write_iops_sec")));

        // A zero removes the device setting.
        driver_->setBlkioParameters(a, {{"device_weight", std::string("/dev/lxvirt-test-disk,0")}}, 0);
        got = driver_->getBlkioParameters(a, 0);
        CPPUNIT_ASSERT_EQUAL(std::string(""), std::get<std::string>(*param(got, "device_weight")));
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/lxvirt-test-disk,1048576"),
                             std::get<std::string>(*param(got, "device_read_bytes_sec")));

        a = driver_->create(a, 0);
        driver_->setBlkioParameters(a, {{"weight", uint32_t(700)}}, VIR_DOMAIN_AFFECT_LIVE);
        CPPUNIT_ASSERT_EQUAL(700u, world_->get("lxc-a")->cg.blkio_weight);
        // Live device settings need a real block device.
        CPPUNIT_ASSERT(errorCode([&] {
                           driver_->setBlkioParameters(a, {{"device_weight", std::string("/dev/null,500")}},
                                                       VIR_DOMAIN_AFFECT_LIVE);
                       }) != 0);
    }

    void infoAndStatsComeFromTheCgroupWhileRunning()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a", 65536), 0);
        DomainInfo off = driver_->getInfo(a);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_SHUTOFF), off.state);
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), off.max_mem_kib);
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), off.memory_kib);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), off.cpu_time_ns);
        CPPUNIT_ASSERT_EQUAL(1u, off.nr_virt_cpu);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID), errorCode([&] { driver_->memoryStats(a, 8); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID), errorCode([&] { driver_->cpuStatsTotal(a); }));
        CPPUNIT_ASSERT_EQUAL(std::string(""), driver_->getSecurityLabel(a).label);

        a = driver_->create(a, 0);
        DomainInfo on = driver_->getInfo(a);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_RUNNING), on.state);
        CPPUNIT_ASSERT_EQUAL(uint64_t(123456789), on.cpu_time_ns);
        CPPUNIT_ASSERT_EQUAL(uint64_t(4242), on.memory_kib);

        auto stats = driver_->memoryStats(a, 8);
        CPPUNIT_ASSERT_EQUAL(size_t(3), stats.size());
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON), stats[0].first);
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), stats[0].second);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_MEMORY_STAT_RSS), stats[2].first);
        CPPUNIT_ASSERT_EQUAL(uint64_t(4242), stats[2].second);
        CPPUNIT_ASSERT_EQUAL(size_t(1), driver_->memoryStats(a, 1).size());

        TypedParams cpu = driver_->cpuStatsTotal(a);
        CPPUNIT_ASSERT_EQUAL(uint64_t(123456789), std::get<uint64_t>(*param(cpu, "cpu_time")));
        CPPUNIT_ASSERT_EQUAL(uint64_t(100), std::get<uint64_t>(*param(cpu, "user_time")));
        CPPUNIT_ASSERT_EQUAL(uint64_t(23), std::get<uint64_t>(*param(cpu, "system_time")));
        CPPUNIT_ASSERT_EQUAL(std::string("exe"), driver_->getOsType(a));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_HOSTNAME), errorCode([&] { driver_->getHostname(a, 0); }));
    }

    void autostartLinksPointToTheConfigAndStartDomainsOnDriverCreation()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-auto"), 0);
        driver_->defineXml(domainXml("lxc-manual"), 0);
        driver_->setAutostart(a, true);
        char target[256] = {};
        ssize_t n = readlink(etc("autostart/lxc-auto.xml").c_str(), target, sizeof target - 1);
        CPPUNIT_ASSERT(n > 0);
        CPPUNIT_ASSERT_EQUAL(std::string("../lxc-auto.xml"), std::string(target, size_t(n)));
        driver_->setAutostart(a, true); // idempotent
        CPPUNIT_ASSERT(driver_->getAutostart(a));

        makeDriver(/*autostart=*/true);
        CPPUNIT_ASSERT(driver_->isActive(driver_->lookupByName("lxc-auto")));
        CPPUNIT_ASSERT(!driver_->isActive(driver_->lookupByName("lxc-manual")));
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED)),
                             driver_->getState(driver_->lookupByName("lxc-auto"), 0));

        driver_->setAutostart(a, false);
        CPPUNIT_ASSERT(!exists(etc("autostart/lxc-auto.xml")));
        CPPUNIT_ASSERT(!driver_->getAutostart(a));
    }

    void restartRecoveryReattachesLiveContainersAndReportsDeadOnesCrashed()
    {
        makeDriver();
        DomainRef alive = driver_->create(driver_->defineXml(domainXml("lxc-alive"), 0), 0);
        DomainRef dead = driver_->create(driver_->defineXml(domainXml("lxc-dead"), 0), 0);
        DomainRef paused = driver_->create(driver_->defineXml(domainXml("lxc-paused"), 0), 0);
        driver_->suspend(paused);
        DomainRef trans = driver_->createXml(domainXml("lxc-trans"), 0);
        // Redefined while running: the new config must become the persistent one.
        driver_->defineXml(domainXml("lxc-alive", 131072, uuidToString(alive.uuid)), 0);
        {
            std::lock_guard<std::mutex> lk(world_->mu);
            world_->alive.erase(dead.id);
            world_->alive.erase(trans.id);
        }

        // The daemon goes away; containers keep running.
        takeEvents();
        makeDriver(false, /*sink=*/false);
        CPPUNIT_ASSERT_EQUAL(size_t(4), world_->reconnected.size());
        std::sort(world_->cleaned.begin(), world_->cleaned.end());
        CPPUNIT_ASSERT_EQUAL((std::vector<std::string>{"lxc-dead", "lxc-trans"}), world_->cleaned);

        DomainRef a = driver_->lookupByName("lxc-alive");
        CPPUNIT_ASSERT_EQUAL(alive.id, a.id);
        CPPUNIT_ASSERT(driver_->isActive(a));
        CPPUNIT_ASSERT(driver_->isPersistent(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), driver_->getMaxMemory(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072),
                             parseDomainXml(driver_->getXmlDesc(a, VIR_DOMAIN_XML_INACTIVE)).memory_kib);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED)),
                             driver_->getState(a, 0));
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER)),
                             driver_->getState(paused, 0));

        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED)),
                             driver_->getState(dead, 0));
        CPPUNIT_ASSERT(!exists(run("lxc-dead.xml")));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->lookupByName("lxc-trans"); }));
        CPPUNIT_ASSERT(!exists(run("lxc-trans.xml")));

        // Events from the recovery reach the first sink.
        installSink();
        CPPUNIT_ASSERT_EQUAL(std::string("lxc-dead:5/2 lxc-trans:5/2"), describe(takeEvents()));

        // The re-attached container is fully usable.
        world_->get("lxc-alive")->exit(ExitReason::Shutdown);
        CPPUNIT_ASSERT(!driver_->isActive(a));
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072), driver_->getMaxMemory(a));
        driver_->destroy(paused, 0);
    }

    void jobsOnDifferentDomainsRunInParallelAndReadsDoNotWaitForJobs()
    {
        makeDriver();
        DomainRef slow = driver_->defineXml(domainXml("lxc-slow"), 0);
        DomainRef fast = driver_->defineXml(domainXml("lxc-fast"), 0);
        world_->block_name = "lxc-slow";
        std::thread t([&] { driver_->create(slow, 0); });
        {
            std::unique_lock<std::mutex> lk(world_->block_mu);
            world_->block_cv.wait(lk, [&] { return world_->blocked; });
        }
        // While lxc-slow's start job is stuck: another domain starts, and
        // reads on the busy domain answer at once.
        driver_->create(fast, 0);
        CPPUNIT_ASSERT(driver_->isActive(fast));
        CPPUNIT_ASSERT_EQUAL(size_t(2), driver_->listAllDomains(0).size());
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_SHUTOFF), driver_->getInfo(slow).state);
        {
            std::lock_guard<std::mutex> lk(world_->block_mu);
            world_->release = true;
        }
        world_->block_cv.notify_all();
        t.join();
        CPPUNIT_ASSERT(driver_->isActive(slow));
    }

    static std::string confinedXml(const std::string &name, const std::string &seclabel)
    {
        std::string x = domainXml(name);
        return x.insert(x.rfind("</domain>"), "  " + seclabel + "\n");
    }

    void withoutASecurityManagerDomainsRunUnconfined()
    {
        makeDriver();
        CPPUNIT_ASSERT_EQUAL(std::string("none"), driver_->securityModel().model);
        DomainRef a = driver_->create(driver_->defineXml(domainXml("lxc-a"), 0), 0);
        SecurityLabel l = driver_->getSecurityLabel(a);
        CPPUNIT_ASSERT_EQUAL(std::string(), l.label);
        CPPUNIT_ASSERT_EQUAL(0, l.enforcing);
        CPPUNIT_ASSERT(driver_->getXmlDesc(a, 0).find("<seclabel") == std::string::npos);
        driver_->destroy(a, 0);
    }

    void dynamicLabelsAreGeneratedIntoTheLiveXmlAndReleasedAtStop()
    {
        world_->security = std::make_shared<FakeSecurity>();
        auto &sec = *world_->security;
        makeDriver();
        CPPUNIT_ASSERT_EQUAL(std::string("selinux"), driver_->securityModel().model);
        CPPUNIT_ASSERT_EQUAL(std::string("0"), driver_->securityModel().doi);
        const std::string dyn = "<seclabel type='dynamic' model='selinux'/>";
        DomainRef a = driver_->create(driver_->defineXml(confinedXml("lxc-a", dyn), 0), 0);
        DomainRef b = driver_->create(driver_->defineXml(confinedXml("lxc-b", dyn), 0), 0);

        std::string la = world_->last_def["lxc-a"].seclabels.at(0).label;
        std::string lb = world_->last_def["lxc-b"].seclabels.at(0).label;
        CPPUNIT_ASSERT(!la.empty() && !lb.empty() && la != lb);
        CPPUNIT_ASSERT_EQUAL(size_t(2), sec.held.size());
        CPPUNIT_ASSERT_EQUAL(2, sec.relabels);
        std::string live = driver_->getXmlDesc(a, 0);
        CPPUNIT_ASSERT_MESSAGE(live, live.find("<label>" + la + "</label>") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(live, live.find("<imagelabel>u:object_r:fake_file_t:s0:c0,c1</imagelabel>") !=
                                         std::string::npos);
        // The live state file keeps them for reserve() after a restart.
        LiveState st = parseLiveState(readFile(run("lxc-a.xml")));
        CPPUNIT_ASSERT_EQUAL(la, st.def.seclabels.at(0).label);
        // The persistent definition does not.
        CPPUNIT_ASSERT(driver_->getXmlDesc(a, VIR_DOMAIN_XML_INACTIVE).find("<label>") == std::string::npos);

        SecurityLabel l = driver_->getSecurityLabel(a);
        CPPUNIT_ASSERT_EQUAL("proc-of-" + std::to_string(world_->get("lxc-a")->rs_.init_pid), l.label);
        CPPUNIT_ASSERT_EQUAL(1, l.enforcing);

        driver_->destroy(a, 0);
        CPPUNIT_ASSERT_EQUAL(size_t(1), sec.held.size());
        CPPUNIT_ASSERT_EQUAL(size_t(1), sec.held.count(lb));
        CPPUNIT_ASSERT_EQUAL(1, sec.restores);
        CPPUNIT_ASSERT(driver_->getXmlDesc(a, 0).find("<label>") == std::string::npos);
        CPPUNIT_ASSERT_EQUAL(std::string(), driver_->getSecurityLabel(a).label);

        // A failed start gives its pair back and restores its files.
        world_->fail_start = true;
        CPPUNIT_ASSERT(errorCode([&] { driver_->create(a, 0); }) != 0);
        CPPUNIT_ASSERT_EQUAL(size_t(1), sec.held.size());
        CPPUNIT_ASSERT_EQUAL(2, sec.restores);
        world_->fail_start = false;
        driver_->create(a, 0);
        CPPUNIT_ASSERT(world_->last_def["lxc-a"].seclabels.at(0).label != la);
        driver_->destroy(a, 0);
        driver_->destroy(b, 0);
        CPPUNIT_ASSERT(sec.held.empty());
    }

    void labelsThatCannotBeHonouredAreRefusedAtDefine()
    {
        world_->security = std::make_shared<FakeSecurity>();
        makeDriver();
        const std::string bad = "<seclabel type='static' model='selinux'><label>bad</label></seclabel>";
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_CONFIG_UNSUPPORTED),
                             errorCode([&] { driver_->defineXml(confinedXml("lxc-a", bad), 0); }));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_CONFIG_UNSUPPORTED),
                             errorCode([&] { driver_->createXml(confinedXml("lxc-a", bad), 0); }));
        CPPUNIT_ASSERT(!exists(etc("lxc-a.xml")));
    }

    void restartedDriverReservesTheLabelsOfRunningContainers()
    {
        world_->security = std::make_shared<FakeSecurity>();
        makeDriver();
        const std::string dyn = "<seclabel type='dynamic' model='selinux'/>";
        driver_->create(driver_->defineXml(confinedXml("lxc-a", dyn), 0), 0);
        std::string la = world_->last_def["lxc-a"].seclabels.at(0).label;

        // A new daemon: a fresh manager that holds nothing yet.
        world_->security = std::make_shared<FakeSecurity>();
        makeDriver();
        CPPUNIT_ASSERT_EQUAL(size_t(1), world_->security->held.count(la));
        DomainRef a = driver_->lookupByName("lxc-a");
        CPPUNIT_ASSERT(driver_->getXmlDesc(a, 0).find("<label>" + la + "</label>") != std::string::npos);
        driver_->destroy(a, 0);
        CPPUNIT_ASSERT(world_->security->held.empty());
    }

    void consoleAndHostQueriesFollowLibvirt()
    {
        makeDriver();
        DomainRef a = driver_->defineXml(domainXml("lxc-a"), 0);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_OPERATION_INVALID),
                             errorCode([&] { driver_->openConsole(a, "", 0); }));
        a = driver_->create(a, 0);
        int fd = driver_->openConsole(a, "console0", VIR_DOMAIN_CONSOLE_FORCE);
        CPPUNIT_ASSERT(fd >= 0);
        ::close(fd);
        CPPUNIT_ASSERT_EQUAL(0, world_->get("lxc-a")->console_index);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INTERNAL_ERROR),
                             errorCode([&] { driver_->openConsole(a, "console7", 0); }));

        CPPUNIT_ASSERT_EQUAL(std::string("LXC"), driver_->type());
        CPPUNIT_ASSERT(driver_->hypervisorVersion() >= 2000000);
        CPPUNIT_ASSERT(!driver_->hostname().empty());
        CPPUNIT_ASSERT_EQUAL(std::string("<capabilities/>"), driver_->capabilities());
        NodeInfo ni = driver_->nodeInfo();
        CPPUNIT_ASSERT(ni.cpus >= 1);
        CPPUNIT_ASSERT(ni.memory_kib > 0);
        CPPUNIT_ASSERT(driver_->nodeFreeMemory() > 0);
        // Parsed from /proc/meminfo and /proc/cpuinfo as the kernel words them.
        std::ifstream meminfo("/proc/meminfo"), cpuinfo("/proc/cpuinfo");
        std::string key, line;
        uint64_t total = 0;
        while (meminfo >> key && key != "MemTotal:")
            meminfo.ignore(1 << 20, '\n');
        meminfo >> total;
        CPPUNIT_ASSERT_EQUAL(total, ni.memory_kib);
        while (std::getline(cpuinfo, line))
            if (line.rfind("cpu MHz", 0) == 0) {
                CPPUNIT_ASSERT_EQUAL(int(std::strtod(line.c_str() + line.find(':') + 1, nullptr)), ni.mhz);
                break;
            }
        CPPUNIT_ASSERT_EQUAL(std::string("invalid argument: unsupported config type xen-xm"),
                             errorText([&] { driver_->domainXmlFromNative("xen-xm", "", 0); }));
    }

private:
    std::string dir_;
    std::unique_ptr<World> world_;
    std::unique_ptr<DomainDriver> driver_;
    std::mutex events_mu_;
    std::vector<DomainEvent> events_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LxcDriverTest);

// ---- real containers ---------------------------------------------------------
//
// The same driver over the real runtime (createDriver, Container, cgroups),
// in a private run dir, config dir and cgroup partition, with the busybox
// test rootfs and the tests/init helper. Needs root.

namespace {

// Whole file, or "" when it cannot be read.
std::string slurp(const std::string &path)
{
    try {
        return readFile(path);
    } catch (const Error &) {
        return {};
    }
}

int sh(const std::string &cmd)
{
    int rc = system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const char *const kControllers[] = {"blkio",   "cpu",    "cpuacct", "cpuset",  "devices",
                                    "freezer", "memory", "pids",    "systemd", "unified"};

struct RealWorld {
    std::string skip, tmp, rootfs, partition;
    DriverConfig config;
    int counter = 0;

    RealWorld()
    {
        test::TestRootfs r("lxcdrv");
        tmp = r.tmp;
        rootfs = r.rootfs;
        config.paths.controller_binary = r.controller;
        skip = r.skip;
        if (!skip.empty())
            return;
        config.config_dir = tmp + "/etc";
        config.paths.run_dir = tmp + "/run";
        config.paths.log_dir = tmp + "/log";
        partition = "/lxvirt-lxcdrv-" + std::to_string(getpid());
        config.cgroup_partition = partition;
        config.run_autostart = false;
    }

    ~RealWorld()
    {
        if (!partition.empty())
            for (const char *ctl : kControllers)
                rmdir((config.paths.cgroup_root + "/" + ctl + partition).c_str());
        if (!tmp.empty() && tmp.rfind("/tmp/lxvirt-lxcdrv-", 0) == 0)
            sh("umount -R " + rootfs + " 2>/dev/null; rm -rf " + tmp);
    }

    bool cgroupLeft(const std::string &rel)
    {
        for (const char *ctl : kControllers)
            if (exists(config.paths.cgroup_root + "/" + ctl + rel))
                return true;
        return false;
    }

    // A domain whose init writes the answer to ARGS into OUTDIR/answer and
    // then waits for SIGTERM.
    std::string xml(std::string &name, std::string &outdir, const std::vector<std::string> &args)
    {
        name = "lxcdrv" + std::to_string(getpid()) + "-" + std::to_string(++counter);
        outdir = tmp + "/out-" + name;
        mkdir(outdir.c_str(), 0755);
        std::string x = "<domain type='lxc'>\n  <name>" + name +
                        "</name>\n"
                        "  <memory unit='KiB'>262144</memory>\n"
                        "  <os>\n    <type>exe</type>\n    <init>/sbin/init</init>\n"
                        "    <initarg>-o</initarg>\n    <initarg>/out/answer</initarg>\n";
        for (const auto &a : args)
            x += "    <initarg>" + a + "</initarg>\n";
        x += "  </os>\n  <devices>\n"
             "    <filesystem type='mount'>\n      <source dir='" +
             rootfs +
             "'/>\n"
             "      <target dir='/'/>\n      <readonly/>\n    </filesystem>\n"
             "    <filesystem type='mount'>\n      <source dir='" +
             outdir +
             "'/>\n"
             "      <target dir='/out'/>\n    </filesystem>\n"
             "    <console type='pty'/>\n  </devices>\n</domain>\n";
        return x;
    }
};

RealWorld &realWorld()
{
    static RealWorld w;
    return w;
}

// Container exits are delivered on the default main context: keep it turning.
class MainLoopThread {
public:
    MainLoopThread()
        : thread_([this] {
              while (!stop_)
                  g_main_context_iteration(nullptr, TRUE);
          })
    {
    }
    ~MainLoopThread()
    {
        stop_ = true;
        g_main_context_wakeup(nullptr);
        thread_.join();
    }

private:
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// A killed controller started from this process stays a zombie until the
// runtime reaps it: count zombies as dead.
bool alive(pid_t pid)
{
    if (kill(pid, 0) < 0)
        return false;
    std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

template <class F> bool eventually(F pred, int ms = 10000)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace

class LxcDriverRealTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(LxcDriverRealTest);
    CPPUNIT_TEST(realContainerRunsTunesSuspendsAndLeavesNothingAfterDestroy);
    CPPUNIT_TEST(initExitingByItselfIsReportedShutdownAndTransientDomainVanishes);
    CPPUNIT_TEST(anInitThatExitsAtOnceGivesCleanAnswersToStartPausedAndStats);
    CPPUNIT_TEST(newDriverFindsRunningContainersAndReportsKilledOnesCrashed);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        if (!realWorld().skip.empty())
            throw test::Skip(realWorld().skip);
        loop_ = std::make_unique<MainLoopThread>();
    }

    void tearDown() override
    {
        // Whatever a failed test left running is found again through the
        // run dir and destroyed; every definition goes too.
        try {
            if (!driver_)
                driver_ = createDriver(realWorld().config);
            for (const auto &d : driver_->listAllDomains(VIR_CONNECT_LIST_DOMAINS_ACTIVE)) {
                try {
                    driver_->destroy(d, 0);
                } catch (...) {
                }
            }
            for (const auto &d : driver_->listAllDomains(VIR_CONNECT_LIST_DOMAINS_PERSISTENT)) {
                try {
                    driver_->undefine(d, 0);
                } catch (...) {
                }
            }
        } catch (...) {
        }
        driver_.reset();
        loop_.reset();
    }

    void record()
    {
        driver_->setEventSink([this](const DomainEvent &e) {
            std::lock_guard<std::mutex> lk(mu_);
            events_.push_back(e);
        });
    }

    bool sawEvent(const std::string &name, int event, int detail)
    {
        std::lock_guard<std::mutex> lk(mu_);
        for (const auto &e : events_)
            if (e.kind == DomainEvent::Kind::Lifecycle && e.lifecycle.dom.name == name &&
                e.lifecycle.event == event && e.lifecycle.detail == detail)
                return true;
        return false;
    }

    void realContainerRunsTunesSuspendsAndLeavesNothingAfterDestroy()
    {
        RealWorld &w = realWorld();
        driver_ = createDriver(w.config);
        record();
        std::string name, outdir;
        DomainRef d = driver_->defineXml(w.xml(name, outdir, {"-w", "pid"}), 0);
        d = driver_->create(d, 0);
        CPPUNIT_ASSERT(d.id > 0);
        CPPUNIT_ASSERT_EQUAL(0, kill(d.id, 0));
        CPPUNIT_ASSERT_MESSAGE("no answer from init", eventually([&] { return exists(outdir + "/answer"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), readFile(outdir + "/answer"));
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_RUNNING, VIR_DOMAIN_RUNNING_BOOTED)),
                             driver_->getState(d, 0));
        CPPUNIT_ASSERT(driver_->lookupById(d.id).name == name);

        LiveState st = parseLiveState(readFile(w.config.paths.run_dir + "/" + name + ".xml"));
        CPPUNIT_ASSERT_EQUAL(pid_t(d.id), st.run.controller_pid);
        CPPUNIT_ASSERT(st.run.init_pid > 1);
        std::string cg = st.run.cgroup_path;
        CPPUNIT_ASSERT_MESSAGE(cg, cg.rfind(w.partition + "/", 0) == 0);

        DomainInfo info = driver_->getInfo(d);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_RUNNING), info.state);
        CPPUNIT_ASSERT_EQUAL(uint64_t(262144), info.max_mem_kib);

        // A live memtune change reaches the kernel at once (v1: the memory
        // hierarchy's limit_in_bytes; a pure v2 host: memory.max).
        const std::string &root = w.config.paths.cgroup_root;
        bool v2 = !exists(root + "/memory") && exists(root + "/cgroup.controllers");
        driver_->setMemoryParameters(d, {{"hard_limit", uint64_t(200 * 1024)}}, VIR_DOMAIN_AFFECT_LIVE);
        std::string limit = readFile(v2 ? root + cg + "/memory.max" : root + "/memory" + cg + "/memory.limit_in_bytes");
        CPPUNIT_ASSERT_EQUAL(std::to_string(200 * 1024 * 1024) + "\n", limit);
        CPPUNIT_ASSERT(std::get<uint64_t>(*param(driver_->getMemoryParameters(d, 0), "hard_limit")) ==
                       200 * 1024);

        driver_->suspend(d);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_PAUSED), driver_->getState(d, 0).first);
        if (v2)
            CPPUNIT_ASSERT_EQUAL(std::string("1\n"), readFile(root + cg + "/cgroup.freeze"));
        else
            CPPUNIT_ASSERT_EQUAL(std::string("FROZEN\n"), readFile(root + "/freezer" + cg + "/freezer.state"));
        driver_->resume(d);
        CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_RUNNING), driver_->getState(d, 0).first);

        std::string live = driver_->getXmlDesc(d, 0);
        CPPUNIT_ASSERT_MESSAGE(live, live.find("id='" + std::to_string(d.id) + "'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(live,
                               live.find("tty='" + st.run.console_ttys.at(0) + "'") != std::string::npos);
        CPPUNIT_ASSERT_MESSAGE(live, live.find("<alias name='console0'/>") != std::string::npos);

        driver_->destroy(d, 0);
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED)),
                             driver_->getState(d, 0));
        CPPUNIT_ASSERT(sawEvent(name, VIR_DOMAIN_EVENT_STARTED, VIR_DOMAIN_EVENT_STARTED_BOOTED));
        CPPUNIT_ASSERT(sawEvent(name, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_DESTROYED));
        CPPUNIT_ASSERT(eventually([&] { return !alive(st.run.init_pid); }));
        CPPUNIT_ASSERT(eventually([&] { return !alive(d.id); }));
        CPPUNIT_ASSERT(!exists(w.config.paths.run_dir + "/" + name + ".xml"));
        CPPUNIT_ASSERT(!w.cgroupLeft(cg));
        driver_->undefine(d, 0);
    }

    void initExitingByItselfIsReportedShutdownAndTransientDomainVanishes()
    {
        RealWorld &w = realWorld();
        driver_ = createDriver(w.config);
        record();
        std::string name, outdir;
        DomainRef d = driver_->createXml(w.xml(name, outdir, {"exit", "0"}), 0);
        bool gone = eventually([&] { return driver_->listAllDomains(0).empty(); });
        if (!gone) {
            auto st = driver_->getState(d, 0);
            std::string log = slurp(w.config.paths.log_dir + "/" + name + ".log");
            CPPUNIT_FAIL("the transient domain never went away: state " + std::to_string(st.first) + "/" +
                         std::to_string(st.second) + " answer '" + slurp(outdir + "/answer") +
                         "' log: " + log);
        }
        std::string seen;
        // The event follows the state change.
        bool stopped = eventually(
            [&] { return sawEvent(name, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN); });
        {
            std::lock_guard<std::mutex> lk(mu_);
            seen = LxcDriverTest::describe(events_);
        }
        CPPUNIT_ASSERT_MESSAGE(seen, stopped);
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_NO_DOMAIN), errorCode([&] { driver_->lookupByName(name); }));
        CPPUNIT_ASSERT(!exists(w.config.paths.run_dir + "/" + name + ".xml"));
        CPPUNIT_ASSERT(!w.cgroupLeft(w.partition + "/" + name + ".lxc"));
    }

    // A START_PAUSED start races with an init that exits at once: either it
    // was frozen in time (paused), or the start fails with an operation
    // error, the domain ends shut off and nothing is left; never a raw
    // cgroup read error for a cgroup already gone (seen by a fuzzer).
    void anInitThatExitsAtOnceGivesCleanAnswersToStartPausedAndStats()
    {
        RealWorld &w = realWorld();
        driver_ = createDriver(w.config);
        for (int i = 0; i < 6; ++i) {
            std::string name, outdir;
            DomainRef d = driver_->defineXml(w.xml(name, outdir, {"exit", "0"}), 0);
            try {
                d = driver_->create(d, VIR_DOMAIN_START_PAUSED);
                CPPUNIT_ASSERT_EQUAL(int(VIR_DOMAIN_PAUSED), driver_->getState(d, 0).first);
                driver_->destroy(d, 0);
            } catch (const Error &e) {
                CPPUNIT_ASSERT_EQUAL_MESSAGE(e.what(), int(VIR_ERR_OPERATION_FAILED), e.code());
                CPPUNIT_ASSERT(eventually([&] { return driver_->getState(d, 0).first == VIR_DOMAIN_SHUTOFF; }));
            }
            CPPUNIT_ASSERT(eventually([&] { return !w.cgroupLeft(w.partition + "/" + name + ".lxc"); }));
            driver_->undefine(d, 0);
        }
        // Statistics of such a domain: numbers while it runs, then "not
        // running" (not a failed read of its removed cgroup files).
        for (int i = 0; i < 6; ++i) {
            std::string name, outdir;
            DomainRef d = driver_->create(driver_->defineXml(w.xml(name, outdir, {"exit", "0"}), 0), 0);
            for (int k = 0; k < 2000 && driver_->getState(d, 0).first != VIR_DOMAIN_SHUTOFF; ++k) {
                for (int code : {errorCode([&] { driver_->memoryStats(d, 8); }),
                                 errorCode([&] { driver_->cpuStatsTotal(d); })})
                    CPPUNIT_ASSERT_MESSAGE(std::to_string(code), code == 0 || code == VIR_ERR_OPERATION_INVALID);
            }
            driver_->undefine(d, 0);
        }
    }

    void newDriverFindsRunningContainersAndReportsKilledOnesCrashed()
    {
        RealWorld &w = realWorld();
        driver_ = createDriver(w.config);
        std::string n1, o1, n2, o2;
        DomainRef keep = driver_->create(driver_->defineXml(w.xml(n1, o1, {"-w", "pid"}), 0), 0);
        DomainRef lost = driver_->create(driver_->defineXml(w.xml(n2, o2, {"-w", "pid"}), 0), 0);
        CPPUNIT_ASSERT(eventually([&] { return exists(o1 + "/answer") && exists(o2 + "/answer"); }));
        LiveState lost_state = parseLiveState(readFile(w.config.paths.run_dir + "/" + n2 + ".xml"));

        // The daemon goes away; while it is gone one controller is killed.
        driver_.reset();
        CPPUNIT_ASSERT_EQUAL(0, kill(keep.id, 0));
        kill(lost.id, SIGKILL);
        CPPUNIT_ASSERT(eventually([&] { return !alive(lost.id); }));
        CPPUNIT_ASSERT(eventually([&] { return !alive(lost_state.run.init_pid); }));

        driver_ = createDriver(w.config);
        record();
        DomainRef k = driver_->lookupByName(n1);
        CPPUNIT_ASSERT_EQUAL(keep.id, k.id);
        CPPUNIT_ASSERT(driver_->isActive(k));
        CPPUNIT_ASSERT(driver_->isPersistent(k));
        CPPUNIT_ASSERT_EQUAL((std::pair<int, int>(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED)),
                             driver_->getState(driver_->lookupByName(n2), 0));
        CPPUNIT_ASSERT(sawEvent(n2, VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED));
        CPPUNIT_ASSERT(!exists(w.config.paths.run_dir + "/" + n2 + ".xml"));
        CPPUNIT_ASSERT(eventually([&] { return !w.cgroupLeft(lost_state.run.cgroup_path); }));

        // The re-attached container is controlled as before.
        driver_->destroy(k, 0);
        CPPUNIT_ASSERT(eventually([&] { return !alive(keep.id); }));
        CPPUNIT_ASSERT(!driver_->isActive(k));
        driver_->undefine(k, 0);
        driver_->undefine(driver_->lookupByName(n2), 0);
    }

private:
    std::unique_ptr<MainLoopThread> loop_;
    std::unique_ptr<DomainDriver> driver_;
    std::mutex mu_;
    std::vector<DomainEvent> events_;
};

CPPUNIT_TEST_SUITE_REGISTRATION(LxcDriverRealTest);
