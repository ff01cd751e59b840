// driver/cgroup against fake trees (both backends, every setter's exact
// write) and, as root, against this host's real hierarchies.
#include "driver/cgroup/cgroup.h"
#include "driver/cgroup/cgroup_internal.h"
#include "driver/cgroup/v2_devices.h"
#include "tests/unit/tap.h"

#include <cppunit/extensions/HelperMacros.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

namespace cg = lxvirt::cgroup;
namespace fs = std::filesystem;
using lxvirt::Error;
using lxvirt::test::Skip;

namespace {

// ---------------------------------------------------------------- helpers

class TempDir {
public:
    TempDir()
    {
        char tmpl[] = "/tmp/lxvirt-cgroup-test-XXXXXX";
        if (!::mkdtemp(tmpl))
            throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

void put(const std::string& path, const std::string& text)
{
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << text;
}

std::string get(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        CPPUNIT_FAIL("missing file " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string slurp(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// The ordered writes a fake-tree backend made (see detail::put()).
std::vector<std::string> writes(const TempDir& t)
{
    std::vector<std::string> out;
    std::istringstream in(slurp(t.path() + "/.writes"));
    std::string line;
    while (std::getline(in, line))
        out.push_back(line);
    return out;
}

void clearWrites(const TempDir& t) { ::unlink((t.path() + "/.writes").c_str()); }

template <typename F>
std::string errorOf(F&& f)
{
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    CPPUNIT_FAIL("expected an lxvirt::Error");
    return "";
}

bool contains(const std::string& hay, const std::string& needle)
{
    return hay.find(needle) != std::string::npos;
}

const char* const kV1Dirs[] = {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio"};

// A v1 tree as a fresh kernel shows it, plus (hybrid) an empty cgroup2.
void makeV1Tree(const TempDir& t, bool hybrid)
{
    for (const char* d : kV1Dirs)
        fs::create_directories(t.path() + "/" + d);
    put(t.path() + "/cpuset/cpuset.cpus", "0-3\n");
    put(t.path() + "/cpuset/cpuset.mems", "0\n");
    if (hybrid)
        put(t.path() + "/unified/cgroup.controllers", "\n");
}

void makeV2Tree(const TempDir& t)
{
    put(t.path() + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n");
    put(t.path() + "/cgroup.subtree_control", "");
}

// A forked child that waits for go() before running its body; killed and
// reaped on destruction whatever happens to the test.
class Child {
public:
    explicit Child(const std::function<int()>& body)
    {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) < 0)
            throw std::runtime_error("pipe failed");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::close(p[1]);
            char c;
            if (::read(p[0], &c, 1) != 1)
                ::_exit(100);
            ::_exit(body());
        }
        ::close(p[0]);
        go_ = p[1];
    }
    ~Child()
    {
        if (go_ >= 0)
            ::close(go_);
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    pid_t pid() const { return pid_; }
    void go()
    {
        CPPUNIT_ASSERT(::write(go_, "g", 1) == 1);
        ::close(go_);
        go_ = -1;
    }
    int wait()
    {
        int st = 0;
        ::waitpid(pid_, &st, 0);
        reaped_ = true;
        return st;
    }

private:
    pid_t pid_ = -1;
    int go_ = -1;
    bool reaped_ = false;
};

// A private partition on the real host, removed with everything below it.
class RealPartition {
public:
    explicit RealPartition(std::vector<std::string> hierarchies)
        : name_("/lxvirt-cgtest-" + std::to_string(::getpid())), hier_(std::move(hierarchies))
    {
    }
    ~RealPartition()
    {
        for (const auto& h : hier_) {
            std::vector<pid_t> left;
            try {
                cg::detail::collectProcs(h + name_, left);
                for (pid_t p : left)
                    ::kill(p, SIGKILL);
                // v1 freezer: frozen tasks only die once thawed
                if (fs::exists(h + name_))
                    for (auto& e : fs::recursive_directory_iterator(h + name_))
                        if (e.path().filename() == "freezer.state")
                            cg::detail::writeFile(e.path(), "THAWED", false);
                cg::detail::removeTree(h + name_, false);
            } catch (...) {
            }
        }
    }
    const std::string& name() const { return name_; }
    bool goneEverywhere() const
    {
        for (const auto& h : hier_)
            if (fs::exists(h + name_ + "/t.lxc"))
                return false;
        return true;
    }

private:
    std::string name_;
    std::vector<std::string> hier_;
};

cg::detail::Layout hostLayout(const std::string& root)
{
    return cg::detail::layoutFromMountinfo(cg::detail::readFile("/proc/self/mountinfo"), root);
}

size_t openFds()
{
    size_t n = 0;
    for (auto it = fs::directory_iterator("/proc/self/fd"); it != fs::directory_iterator(); ++it)
        ++n;
    return n;
}

void requireRoot()
{
    if (::geteuid() != 0)
        throw Skip("needs root to create real cgroups");
}

// "major:minor" of some whole block device of this host, or "".
std::string firstBlockDevice()
{
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/sys/block", ec)) {
        std::string mm = slurp(e.path().string() + "/dev");
        while (!mm.empty() && mm.back() == '\n')
            mm.pop_back();
        if (!mm.empty())
            return mm;
    }
    return "";
}

void sleepMs(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

int busyLoop()
{
    volatile unsigned long spins = 0;
    for (;;)
        spins = spins + 1;
    return 0;
}

// Touches `mib` MiB page by page; exits 0 only if all of it fit.
int memhog(size_t mib)
{
    size_t len = mib << 20;
    char* p = static_cast<char*>(::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (p == MAP_FAILED)
        return 3;
    for (size_t i = 0; i < len; i += 4096)
        p[i] = 1;
    return 0;
}

// Executes a cgroup device program the way the kernel would for one access
// (only the instructions the builder emits).
int runDeviceProgram(const std::vector<struct bpf_insn>& prog, char type, unsigned major, unsigned minor,
                     const std::string& access)
{
    uint32_t acc = 0;
    for (char c : access)
        acc |= c == 'r' ? BPF_DEVCG_ACC_READ : c == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    struct bpf_cgroup_dev_ctx ctx = {(acc << 16) | (type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR),
                                     major, minor};
    uint64_t r[11] = {};
    size_t pc = 0;
    for (int steps = 0; steps < 10000; ++steps) {
        CPPUNIT_ASSERT(pc < prog.size());
        const auto& i = prog[pc];
        switch (i.code) {
        case BPF_LDX | BPF_W | BPF_MEM: {
            CPPUNIT_ASSERT_EQUAL(uint8_t(1), uint8_t(i.src_reg));
            uint32_t v;
            std::memcpy(&v, reinterpret_cast<const char*>(&ctx) + i.off, 4);
            r[i.dst_reg] = v;
            break;
        }
        case BPF_ALU64 | BPF_AND | BPF_K: r[i.dst_reg] &= static_cast<uint64_t>(static_cast<int64_t>(i.imm)); break;
        case BPF_ALU64 | BPF_RSH | BPF_K: r[i.dst_reg] >>= i.imm; break;
        case BPF_ALU64 | BPF_MOV | BPF_K: r[i.dst_reg] = static_cast<uint64_t>(static_cast<int64_t>(i.imm)); break;
        case BPF_ALU64 | BPF_MOV | BPF_X: r[i.dst_reg] = r[i.src_reg]; break;
        case BPF_JMP | BPF_JNE | BPF_K:
            if (r[i.dst_reg] != static_cast<uint64_t>(static_cast<int64_t>(i.imm))) {
                CPPUNIT_ASSERT(i.off >= 0);  // forward only: no loops
                pc += i.off;
            }
            break;
        case BPF_JMP | BPF_EXIT: return static_cast<int>(r[0]);
        default: CPPUNIT_FAIL("unexpected opcode " + std::to_string(i.code));
        }
        ++pc;
    }
    CPPUNIT_FAIL("program did not exit");
    return -1;
}

}  // namespace

// ------------------------------------------------------------ detection

class CgroupDetectTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CgroupDetectTest);
    CPPUNIT_TEST(mountTableOfAHybridHostMapsEveryControllerToItsV1Mount);
    CPPUNIT_TEST(mountTableOfAPureV2HostHasOnlyTheUnifiedMount);
    CPPUNIT_TEST(comountedAndEscapedMountPointsAreUnderstood);
    CPPUNIT_TEST(fakeTreeWithControllerDirectoriesIsV1);
    CPPUNIT_TEST(fakeHybridTreeIsDrivenThroughV1AndLeavesTheV2MountAlone);
    CPPUNIT_TEST(hybridV2MountServesOnlyWhatV1Lacks);
    CPPUNIT_TEST(fakeTreeWithRootCgroupControllersIsV2);
    CPPUNIT_TEST(emptyTreeIsAnErrorNamingTheRoot);
    CPPUNIT_TEST(thisHostIsDetectedFromItsMountTable);
    CPPUNIT_TEST(hostLayoutIsSharedUntilTheMountTableChanges);
    CPPUNIT_TEST(fakeTreeIsProbedAfreshEveryTime);
    CPPUNIT_TEST(domainNamesBecomeSafeSingleComponents);
    CPPUNIT_TEST_SUITE_END();

public:
    void mountTableOfAHybridHostMapsEveryControllerToItsV1Mount()
    {
        auto l = cg::detail::layoutFromMountinfo(get(lxvirt::test::srcDir() + "/tests/cgroup/mountinfo-hybrid"),
                                                 "/sys/fs/cgroup");
        CPPUNIT_ASSERT_EQUAL(size_t(7), l.v1.size());
        for (const char* c : kV1Dirs)
            CPPUNIT_ASSERT_EQUAL(std::string("/sys/fs/cgroup/") + c, l.v1.at(c));
        CPPUNIT_ASSERT_EQUAL(std::string("/sys/fs/cgroup/unified"), l.v2);
    }
    void mountTableOfAPureV2HostHasOnlyTheUnifiedMount()
    {
        auto l = cg::detail::layoutFromMountinfo(get(lxvirt::test::srcDir() + "/tests/cgroup/mountinfo-v2"),
                                                 "/sys/fs/cgroup/");
        CPPUNIT_ASSERT(l.v1.empty());
        CPPUNIT_ASSERT_EQUAL(std::string("/sys/fs/cgroup"), l.v2);
    }
    void comountedAndEscapedMountPointsAreUnderstood()
    {
        auto l = cg::detail::layoutFromMountinfo(
            get(lxvirt::test::srcDir() + "/tests/cgroup/mountinfo-v1-comounted"), "/sys/fs/cgroup");
        CPPUNIT_ASSERT_EQUAL(std::string("/sys/fs/cgroup/cpu,cpuacct"), l.v1.at("cpu"));
        CPPUNIT_ASSERT_EQUAL(std::string("/sys/fs/cgroup/cpu,cpuacct"), l.v1.at("cpuacct"));
        CPPUNIT_ASSERT_EQUAL(std::string("/sys/fs/cgroup/my cpuset"), l.v1.at("cpuset"));
        CPPUNIT_ASSERT(!l.v1.count("freezer"));  // mounted outside the root
        CPPUNIT_ASSERT(!l.v1.count("blkio"));
        CPPUNIT_ASSERT(!l.v1.count("net_cls"));  // not a controller lxvirt drives
    }
    void fakeTreeWithControllerDirectoriesIsV1()
    {
        TempDir t;
        makeV1Tree(t, false);
        auto m = cg::Manager::detect(t.path());
        CPPUNIT_ASSERT(!m->isV2());
        auto c = m->create("/machine", "a.lxc");
        CPPUNIT_ASSERT(!c->isV2());
        for (const char* d : kV1Dirs)
            CPPUNIT_ASSERT(fs::is_directory(t.path() + "/" + d + "/machine/a.lxc"));
    }
    void fakeHybridTreeIsDrivenThroughV1AndLeavesTheV2MountAlone()
    {
        TempDir t;
        makeV1Tree(t, true);
        auto m = cg::Manager::detect(t.path());
        CPPUNIT_ASSERT(!m->isV2());
        auto c = m->create("/machine", "a.lxc");
        CPPUNIT_ASSERT(fs::is_directory(t.path() + "/memory/machine/a.lxc"));
        CPPUNIT_ASSERT(!fs::exists(t.path() + "/unified/machine"));
    }
    void hybridV2MountServesOnlyWhatV1Lacks()
    {
        // v1 without memory and freezer; the v2 mount has memory.
        TempDir t;
        for (const char* d : {"cpu", "cpuacct", "cpuset", "devices", "blkio"})
            fs::create_directories(t.path() + "/" + d);
        put(t.path() + "/unified/cgroup.controllers", "memory pids\n");
        auto m = cg::Manager::detect(t.path());
        CPPUNIT_ASSERT(!m->isV2());
        auto c = m->create("/machine", "a.lxc");
        std::string twin = t.path() + "/unified/machine/a.lxc";
        CPPUNIT_ASSERT(fs::is_directory(twin));
        CPPUNIT_ASSERT_EQUAL(std::string("+memory +pids"), get(t.path() + "/unified/cgroup.subtree_control"));
        c->setMemoryHardLimit(1024);
        CPPUNIT_ASSERT_EQUAL(std::string("1048576"), get(twin + "/memory.max"));
        c->setCpuShares(100);  // still v1
        CPPUNIT_ASSERT_EQUAL(std::string("100"), get(t.path() + "/cpu/machine/a.lxc/cpu.shares"));
        put(twin + "/cgroup.events", "populated 0\nfrozen 1\n");
        c->freeze();  // cgroup2 core freezer
        CPPUNIT_ASSERT_EQUAL(std::string("1"), get(twin + "/cgroup.freeze"));
        c->addProcess(77);
        CPPUNIT_ASSERT_EQUAL(std::string("77"), get(twin + "/cgroup.procs"));
        CPPUNIT_ASSERT_EQUAL(std::string("77"), get(t.path() + "/cpu/machine/a.lxc/cgroup.procs"));
        CPPUNIT_ASSERT(m->open("/machine/a.lxc")->memoryHardLimit() == 1024);
        c->remove();
        CPPUNIT_ASSERT(!fs::exists(twin));
        CPPUNIT_ASSERT(!fs::exists(t.path() + "/cpu/machine/a.lxc"));
    }
    void fakeTreeWithRootCgroupControllersIsV2()
    {
        TempDir t;
        makeV2Tree(t);
        auto m = cg::Manager::detect(t.path());
        CPPUNIT_ASSERT(m->isV2());
        auto c = m->create("/machine", "a.lxc");
        CPPUNIT_ASSERT(c->isV2());
        CPPUNIT_ASSERT(fs::is_directory(t.path() + "/machine/a.lxc"));
    }
    void emptyTreeIsAnErrorNamingTheRoot()
    {
        TempDir t;
        std::string msg = errorOf([&] { cg::Manager::detect(t.path()); });
        CPPUNIT_ASSERT(contains(msg, t.path()));
    }
    void thisHostIsDetectedFromItsMountTable()
    {
        auto l = hostLayout("/sys/fs/cgroup");
        if (l.v1.empty() && l.v2.empty())
            throw Skip("no cgroup file system mounted at /sys/fs/cgroup");
        auto m = cg::Manager::detect();
        // v1 wins whenever a v1 controller is mounted (hybrid hosts).
        CPPUNIT_ASSERT_EQUAL(l.v1.empty(), m->isV2());
    }
    void hostLayoutIsSharedUntilTheMountTableChanges()
    {
        requireRoot();
        auto l = hostLayout("/sys/fs/cgroup");
        if (l.v1.empty() && l.v2.empty())
            throw Skip("no cgroup file system mounted at /sys/fs/cgroup");
        cg::detail::detectLayout("/sys/fs/cgroup");  // the parent's cache must not leak into the child
        TempDir mnt;
        // In a private mount namespace of a child, so the host's mount table
        // (and every other process) is left alone.
        Child child([&] {
            if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
                return 10;
            auto a = cg::detail::detectLayout("/sys/fs/cgroup");
            auto b = cg::detail::detectLayout("/sys/fs/cgroup/");  // same root, other spelling
            if (a != cg::detail::detectLayout("/sys/fs/cgroup"))
                return 11;
            if (b == nullptr || cg::Manager::detect()->isV2() != a->v1.empty())
                return 12;
            if (::mount("perf3", mnt.path().c_str(), "tmpfs", 0, nullptr) != 0)
                return 13;
            auto c = cg::detail::detectLayout("/sys/fs/cgroup");
            ::umount(mnt.path().c_str());
            if (c == a)
                return 14;  // a mount happened: the table is read again
            if (c->v1 != a->v1 || c->v2 != a->v2 || c->v1Dirs != a->v1Dirs)
                return 15;
            return 0;
        });
        child.go();
        int st = child.wait();
        CPPUNIT_ASSERT(WIFEXITED(st));
        CPPUNIT_ASSERT_EQUAL(0, WEXITSTATUS(st));
    }
    void fakeTreeIsProbedAfreshEveryTime()
    {
        TempDir t;
        for (const char* d : {"cpu", "cpuacct", "cpuset", "devices", "blkio"})
            fs::create_directories(t.path() + "/" + d);
        put(t.path() + "/unified/cgroup.controllers", "memory pids\n");
        auto before = cg::detail::detectLayout(t.path());
        CPPUNIT_ASSERT(before->fake);
        CPPUNIT_ASSERT_EQUAL(size_t(5), before->v1Dirs.size());
        CPPUNIT_ASSERT(before->v2Serves == std::set<std::string>({"memory", "freezer"}));
        CPPUNIT_ASSERT(before->twin && before->twin->v1.empty() && before->twin->v2 == before->v2);
        fs::create_directories(t.path() + "/memory");
        fs::create_directories(t.path() + "/freezer");
        auto after = cg::detail::detectLayout(t.path());
        CPPUNIT_ASSERT_EQUAL(size_t(7), after->v1Dirs.size());
        CPPUNIT_ASSERT_EQUAL(t.path() + "/cpu", after->v1Dirs.front());  // v1Controllers() order
        CPPUNIT_ASSERT(after->v2Serves.empty() && !after->twin);
    }
    void domainNamesBecomeSafeSingleComponents()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("web.lxc"), cg::cgroupNameFor("web"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\\x2fb.lxc"), cg::cgroupNameFor("a/b"));
        CPPUNIT_ASSERT_EQUAL(std::string("_.hidden.lxc"), cg::cgroupNameFor(".hidden"));
        CPPUNIT_ASSERT_EQUAL(std::string("_cpu.x.lxc"), cg::cgroupNameFor("cpu.x"));
        CPPUNIT_ASSERT_EQUAL(std::string("_cgroup.procs.lxc"), cg::cgroupNameFor("cgroup.procs"));
        CPPUNIT_ASSERT_EQUAL(std::string("_tasks.lxc"), cg::cgroupNameFor("tasks"));
        CPPUNIT_ASSERT(cg::cgroupNameFor("a\\x2fb") != cg::cgroupNameFor("a/b"));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(CgroupDetectTest);

// ------------------------------------------------------------ v1, fake tree

class CgroupV1FakeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CgroupV1FakeTest);
    CPPUNIT_TEST(createMakesPartitionAndDomainInEveryHierarchyWithTheParentsCpuset);
    CPPUNIT_TEST(createRefusesAnExistingCgroupAndUndoesWhatItMade);
    CPPUNIT_TEST(anExistingPartitionWithAnEmptyCpusetIsFilledFromItsParent);
    CPPUNIT_TEST(openFindsAnExistingCgroupAndRefusesAMissingOne);
    CPPUNIT_TEST(addProcessWritesThePidIntoEveryHierarchy);
    CPPUNIT_TEST(memorySettersWriteBytesAndMinusOneForUnlimited);
    CPPUNIT_TEST(raisingTheHardLimitAboveMemswRaisesMemswFirst);
    CPPUNIT_TEST(swapLimitWithoutSwapAccountingNamesTheMissingFile);
    CPPUNIT_TEST(memoryReadersParseWhatTheKernelReports);
    CPPUNIT_TEST(usageCountersFollowTheFileAndFallBackOnceItIsGone);
    CPPUNIT_TEST(counterFileHoldsOneFdSharedByConcurrentReaders);
    CPPUNIT_TEST(counterFileKeepsNoFdPastHalfTheFdLimit);
    CPPUNIT_TEST(cpuSettersWriteSharesPeriodAndQuota);
    CPPUNIT_TEST(cpuUsageIsReadFromCpuacctWithTicksTurnedIntoNanoseconds);
    CPPUNIT_TEST(cpusetSettersWriteTheLists);
    CPPUNIT_TEST(statisticsAreReadFromPercpuMemswAndThrottleFiles);
    CPPUNIT_TEST(blkioWeightWithoutAWeightFileNamesTheFile);
    CPPUNIT_TEST(blkioSettersWriteMajorMinorLines);
    CPPUNIT_TEST(badBlockDeviceNamesAreRejected);
    CPPUNIT_TEST(deviceListDeniesEverythingThenAllowsEachRule);
    CPPUNIT_TEST(freezeWritesFrozenAndThawWritesThawed);
    CPPUNIT_TEST(processesAreCollectedFromEveryHierarchyAndSubcgroup);
    CPPUNIT_TEST(removeDeletesTheDomainCgroupEverywhereButKeepsThePartition);
    CPPUNIT_TEST_SUITE_END();

    std::unique_ptr<TempDir> t_;
    std::unique_ptr<cg::Manager> m_;
    std::unique_ptr<cg::Cgroup> c_;
    std::string at(const char* ctrl, const std::string& file = "")
    {
        return t_->path() + "/" + ctrl + "/machine/web.lxc" + (file.empty() ? "" : "/" + file);
    }

public:
    void setUp() override
    {
        t_ = std::make_unique<TempDir>();
        makeV1Tree(*t_, true);
        m_ = cg::Manager::detect(t_->path());
        c_ = m_->create("/machine", "web.lxc");
        clearWrites(*t_);
    }
    void tearDown() override
    {
        c_.reset();
        m_.reset();
        t_.reset();
    }

    void createMakesPartitionAndDomainInEveryHierarchyWithTheParentsCpuset()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("/machine/web.lxc"), c_->path());
        for (const char* d : kV1Dirs)
            CPPUNIT_ASSERT(fs::is_directory(at(d)));
        CPPUNIT_ASSERT_EQUAL(std::string("0-3"), get(t_->path() + "/cpuset/machine/cpuset.cpus"));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), get(t_->path() + "/cpuset/machine/cpuset.mems"));
        CPPUNIT_ASSERT_EQUAL(std::string("0-3"), get(at("cpuset", "cpuset.cpus")));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), get(at("cpuset", "cpuset.mems")));
    }
    void createRefusesAnExistingCgroupAndUndoesWhatItMade()
    {
        fs::create_directories(t_->path() + "/memory/other/db.lxc");
        std::string msg = errorOf([&] { m_->create("/other", "db.lxc"); });
        CPPUNIT_ASSERT(contains(msg, "memory/other/db.lxc"));
        CPPUNIT_ASSERT(contains(msg, "already exists"));
        // Hierarchies before memory got /other made by this call: undone.
        CPPUNIT_ASSERT(!fs::exists(t_->path() + "/cpu/other"));
        CPPUNIT_ASSERT(!fs::exists(t_->path() + "/cpuset/other"));
        CPPUNIT_ASSERT(fs::exists(t_->path() + "/memory/other/db.lxc"));
        std::string again = errorOf([&] { m_->create("/machine", "web.lxc"); });
        CPPUNIT_ASSERT(contains(again, "already exists"));
        CPPUNIT_ASSERT(fs::is_directory(at("cpu")));  // the existing one stays
    }
    void anExistingPartitionWithAnEmptyCpusetIsFilledFromItsParent()
    {
        put(t_->path() + "/cpuset/shared/cpuset.cpus", "\n");
        put(t_->path() + "/cpuset/shared/cpuset.mems", "0\n");
        m_->create("/shared", "x.lxc");
        CPPUNIT_ASSERT_EQUAL(std::string("0-3"), get(t_->path() + "/cpuset/shared/cpuset.cpus"));
        CPPUNIT_ASSERT_EQUAL(std::string("0\n"), get(t_->path() + "/cpuset/shared/cpuset.mems"));  // kept
        CPPUNIT_ASSERT_EQUAL(std::string("0-3"), get(t_->path() + "/cpuset/shared/x.lxc/cpuset.cpus"));
    }
    void openFindsAnExistingCgroupAndRefusesAMissingOne()
    {
        auto c = m_->open("machine/web.lxc/");
        CPPUNIT_ASSERT_EQUAL(std::string("/machine/web.lxc"), c->path());
        std::string msg = errorOf([&] { m_->open("/machine/nope.lxc"); });
        CPPUNIT_ASSERT(contains(msg, "/machine/nope.lxc"));
        CPPUNIT_ASSERT(contains(errorOf([&] { m_->open("/machine/../x"); }), "'..'"));
    }
    void addProcessWritesThePidIntoEveryHierarchy()
    {
        c_->addProcess(4242);
        for (const char* d : kV1Dirs)
            CPPUNIT_ASSERT_EQUAL(std::string("4242"), get(at(d, "cgroup.procs")));
    }
    void memorySettersWriteBytesAndMinusOneForUnlimited()
    {
        c_->setMemoryHardLimit(524288);
        CPPUNIT_ASSERT_EQUAL(std::string("536870912"), get(at("memory", "memory.limit_in_bytes")));
        c_->setMemorySoftLimit(1024);
        CPPUNIT_ASSERT_EQUAL(std::string("1048576"), get(at("memory", "memory.soft_limit_in_bytes")));
        put(at("memory", "memory.memsw.limit_in_bytes"), "9223372036854771712\n");
        c_->setMemorySwapHardLimit(1048576);
        CPPUNIT_ASSERT_EQUAL(std::string("1073741824"), get(at("memory", "memory.memsw.limit_in_bytes")));
        c_->setMemoryHardLimit(0);
        CPPUNIT_ASSERT_EQUAL(std::string("-1"), get(at("memory", "memory.limit_in_bytes")));
        c_->setMemorySoftLimit(9007199254740991ULL);
        CPPUNIT_ASSERT_EQUAL(std::string("-1"), get(at("memory", "memory.soft_limit_in_bytes")));
    }
    void raisingTheHardLimitAboveMemswRaisesMemswFirst()
    {
        put(at("memory", "memory.memsw.limit_in_bytes"), "1048576\n");
        c_->setMemoryHardLimit(2048);
        auto w = writes(*t_);
        CPPUNIT_ASSERT_EQUAL(size_t(2), w.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/memory/machine/web.lxc/memory.memsw.limit_in_bytes\t2097152"), w[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("/memory/machine/web.lxc/memory.limit_in_bytes\t2097152"), w[1]);
        clearWrites(*t_);
        c_->setMemoryHardLimit(1024);  // below memsw: memsw untouched
        CPPUNIT_ASSERT_EQUAL(size_t(1), writes(*t_).size());
        clearWrites(*t_);
        c_->setMemoryHardLimit(0);  // unlimited needs an unlimited memsw
        CPPUNIT_ASSERT_EQUAL(std::string("/memory/machine/web.lxc/memory.memsw.limit_in_bytes\t-1"), writes(*t_).at(0));
    }
    void swapLimitWithoutSwapAccountingNamesTheMissingFile()
    {
        std::string msg = errorOf([&] { c_->setMemorySwapHardLimit(4096); });
        CPPUNIT_ASSERT(contains(msg, at("memory", "memory.memsw.limit_in_bytes")));
        c_->setMemorySwapHardLimit(0);  // unlimited asks for nothing: no error
        c_->setMemoryHardLimit(4096);   // and the hard limit does not need it
        CPPUNIT_ASSERT_EQUAL(std::string("4194304"), get(at("memory", "memory.limit_in_bytes")));
    }
    void memoryReadersParseWhatTheKernelReports()
    {
        put(at("memory", "memory.usage_in_bytes"), "10485760\n");
        put(at("memory", "memory.limit_in_bytes"), "9223372036854771712\n");
        put(at("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(10240), c_->memoryUsage());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c_->memoryHardLimit());
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), c_->oomKillCount());
        put(at("memory", "memory.limit_in_bytes"), "33554432\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(32768), c_->memoryHardLimit());
        put(at("memory", "memory.usage_in_bytes"), "garbage\n");
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->memoryUsage(); }), "memory.usage_in_bytes"));
    }
    void usageCountersFollowTheFileAndFallBackOnceItIsGone()
    {
        put(at("cpuacct", "cpuacct.usage"), "1000\n");
        put(at("memory", "memory.usage_in_bytes"), "4096\n");
        size_t fds = openFds();
        CPPUNIT_ASSERT_EQUAL(uint64_t(1000), c_->cpuUsageNs());
        CPPUNIT_ASSERT_EQUAL(uint64_t(4), c_->memoryUsage());
        CPPUNIT_ASSERT_EQUAL(fds + 2, openFds());  // one kept per counter
        // Rewritten in place, as the kernel's counters change.
        put(at("cpuacct", "cpuacct.usage"), "123456789012\n");
        put(at("memory", "memory.usage_in_bytes"), "8192\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(123456789012), c_->cpuUsageNs());
        CPPUNIT_ASSERT_EQUAL(uint64_t(8), c_->memoryUsage());
        CPPUNIT_ASSERT_EQUAL(fds + 2, openFds());
        // A new file at the path (the cgroup was re-created): read by path.
        ::unlink(at("cpuacct", "cpuacct.usage").c_str());
        put(at("cpuacct", "cpuacct.usage"), "7\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(7), c_->cpuUsageNs());
        c_->remove();
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->cpuUsageNs(); }), at("cpuacct", "cpuacct.usage")));
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->memoryUsage(); }), at("memory", "memory.usage_in_bytes")));
        c_.reset();
        CPPUNIT_ASSERT_EQUAL(fds, openFds());  // closed with the cgroup
    }
    void counterFileHoldsOneFdSharedByConcurrentReaders()
    {
        std::string f = t_->path() + "/counter";
        put(f, "42\n");
        size_t fds = openFds();
        {
            cg::detail::CounterFile cf;
            CPPUNIT_ASSERT(!cf.isOpen());
            std::atomic<int> bad{0};
            std::vector<std::thread> ts;
            for (int i = 0; i < 4; ++i)
                ts.emplace_back([&] {
                    for (int j = 0; j < 500; ++j)
                        if (cf.read([&] { return f; }, true) != "42\n")
                            ++bad;
                });
            for (auto& t : ts)
                t.join();
            CPPUNIT_ASSERT_EQUAL(0, bad.load());
            CPPUNIT_ASSERT(cf.isOpen());
            CPPUNIT_ASSERT_EQUAL(fds + 1, openFds());  // losers of the race closed theirs
            // Longer than the cached read takes: read whole by path.
            std::string big(3000, '1');
            put(f, big);
            CPPUNIT_ASSERT_EQUAL(big, cf.read([&] { return f; }, true));
            ::unlink(f.c_str());
            CPPUNIT_ASSERT(contains(errorOf([&] { cf.read([&] { return f; }, true); }), f));
        }
        CPPUNIT_ASSERT_EQUAL(fds, openFds());
    }
    void counterFileKeepsNoFdPastHalfTheFdLimit()
    {
        std::string f = t_->path() + "/counter";
        put(f, "7\n");
        Child child([&] {
            // The next fd is at least half of the new limit.
            struct rlimit rl = {openFds() + 2, openFds() + 2};
            if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
                return 10;
            cg::detail::CounterFile cf;
            for (int i = 0; i < 3; ++i)
                if (cf.read([&] { return f; }, true) != "7\n")
                    return 11;
            return cf.isOpen() ? 12 : 0;
        });
        child.go();
        int st = child.wait();
        CPPUNIT_ASSERT(WIFEXITED(st));
        CPPUNIT_ASSERT_EQUAL(0, WEXITSTATUS(st));
    }
    void cpuSettersWriteSharesPeriodAndQuota()
    {
        c_->setCpuShares(2048);
        CPPUNIT_ASSERT_EQUAL(std::string("2048"), get(at("cpu", "cpu.shares")));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2048), c_->cpuShares());
        c_->setCpuPeriodQuota(50000, 25000);
        CPPUNIT_ASSERT_EQUAL(std::string("50000"), get(at("cpu", "cpu.cfs_period_us")));
        CPPUNIT_ASSERT_EQUAL(std::string("25000"), get(at("cpu", "cpu.cfs_quota_us")));
        clearWrites(*t_);
        c_->setCpuPeriodQuota(0, -1);  // period 0 keeps the period
        auto w = writes(*t_);
        CPPUNIT_ASSERT_EQUAL(size_t(1), w.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/cpu/machine/web.lxc/cpu.cfs_quota_us\t-1"), w[0]);
    }
    void cpuUsageIsReadFromCpuacctWithTicksTurnedIntoNanoseconds()
    {
        put(at("cpuacct", "cpuacct.usage"), "123456789\n");
        put(at("cpuacct", "cpuacct.stat"), "user 250\nsystem 50\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(123456789), c_->cpuUsageNs());
        uint64_t tick = 1000000000ULL / ::sysconf(_SC_CLK_TCK);
        auto [user, sys] = c_->cpuUserSystemNs();
        CPPUNIT_ASSERT_EQUAL(250 * tick, user);
        CPPUNIT_ASSERT_EQUAL(50 * tick, sys);
    }
    void cpusetSettersWriteTheLists()
    {
        c_->setCpusetCpus("1,3");
        c_->setCpusetMems("0");
        CPPUNIT_ASSERT_EQUAL(std::string("1,3"), get(at("cpuset", "cpuset.cpus")));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), get(at("cpuset", "cpuset.mems")));
    }
    void statisticsAreReadFromPercpuMemswAndThrottleFiles()
    {
        put(at("cpuacct", "cpuacct.usage_percpu"), "100 200 0 5 \n");
        CPPUNIT_ASSERT((std::vector<uint64_t>{100, 200, 0, 5}) == c_->perCpuUsageNs());
        put(at("memory", "memory.usage_in_bytes"), "1048576\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c_->memorySwapUsage());  // no memsw file
        put(at("memory", "memory.memsw.usage_in_bytes"), "3145728\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(2048), c_->memorySwapUsage());
        put(at("blkio", "blkio.throttle.io_service_bytes_recursive"),
            "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Total 12288\n"
            "8:16 Read 1\n8:16 Write 2\n8:16 Total 3\nTotal 12291\n");
        put(at("blkio", "blkio.throttle.io_serviced_recursive"), "8:0 Read 3\n8:0 Write 4\n8:16 Read 5\nTotal 12\n");
        auto all = c_->blkioStats();
        CPPUNIT_ASSERT_EQUAL(uint64_t(4097), all.readBytes);
        CPPUNIT_ASSERT_EQUAL(uint64_t(8194), all.writeBytes);
        CPPUNIT_ASSERT_EQUAL(uint64_t(8), all.readOps);
        CPPUNIT_ASSERT_EQUAL(uint64_t(4), all.writeOps);
        auto one = c_->blkioStats("8:16");
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), one.readBytes);
        CPPUNIT_ASSERT_EQUAL(uint64_t(5), one.readOps);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), one.writeOps);
    }
    void blkioWeightWithoutAWeightFileNamesTheFile()
    {
        std::string msg = errorOf([&] { c_->setBlkioWeight(500); });
        CPPUNIT_ASSERT(contains(msg, at("blkio", "blkio.weight")));
        put(at("blkio", "blkio.bfq.weight"), "100\n");
        c_->setBlkioWeight(500);  // BFQ's file is used when present
        CPPUNIT_ASSERT_EQUAL(std::string("500"), get(at("blkio", "blkio.bfq.weight")));
    }
    void blkioSettersWriteMajorMinorLines()
    {
        put(at("blkio", "blkio.weight"), "500\n");
        put(at("blkio", "blkio.weight_device"), "");
        c_->setBlkioWeight(300);
        CPPUNIT_ASSERT_EQUAL(std::string("300"), get(at("blkio", "blkio.weight")));
        c_->setBlkioDeviceWeight("8:0", 700);
        CPPUNIT_ASSERT_EQUAL(std::string("8:0 700"), get(at("blkio", "blkio.weight_device")));
        clearWrites(*t_);
        c_->setBlkioThrottle("8:16", 1048576, std::nullopt, 100, 0);
        auto w = writes(*t_);
        CPPUNIT_ASSERT_EQUAL(size_t(3), w.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/blkio/machine/web.lxc/blkio.throttle.read_bps_device\t8:16 1048576"), w[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("/blkio/machine/web.lxc/blkio.throttle.read_iops_device\t8:16 100"), w[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("/blkio/machine/web.lxc/blkio.throttle.write_iops_device\t8:16 0"), w[2]);
    }
    void badBlockDeviceNamesAreRejected()
    {
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->setBlkioDeviceWeight("/dev/sda", 10); }), "'/dev/sda'"));
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->setBlkioThrottle("8:", 1, {}, {}, {}); }), "'8:'"));
        CPPUNIT_ASSERT(writes(*t_).empty());
    }
    void deviceListDeniesEverythingThenAllowsEachRule()
    {
        c_->setDeviceAllowList({{'c', 1, 3, "rwm"}, {'c', 136, -1, "rw"}, {'b', 8, 0, "r"}, {'a', -1, -1, "m"}});
        auto w = writes(*t_);
        std::string dir = "/devices/machine/web.lxc/";
        std::vector<std::string> want = {dir + "devices.deny\ta", dir + "devices.allow\tc 1:3 rwm",
                                         dir + "devices.allow\tc 136:* rw", dir + "devices.allow\tb 8:0 r",
                                         dir + "devices.allow\ta"};
        CPPUNIT_ASSERT(want == w);
        clearWrites(*t_);
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->setDeviceAllowList({{'c', 1, 3, "rx"}}); }), "'rx'"));
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->setDeviceAllowList({{'p', 1, 3, "r"}}); }), "'p'"));
        CPPUNIT_ASSERT(writes(*t_).empty());  // nothing half-applied
    }
    void freezeWritesFrozenAndThawWritesThawed()
    {
        put(at("freezer", "freezer.state"), "THAWED\n");
        CPPUNIT_ASSERT(!c_->isFrozen());
        c_->freeze();
        CPPUNIT_ASSERT_EQUAL(std::string("FROZEN"), get(at("freezer", "freezer.state")));
        CPPUNIT_ASSERT(c_->isFrozen());
        c_->thaw();
        CPPUNIT_ASSERT_EQUAL(std::string("THAWED"), get(at("freezer", "freezer.state")));
        CPPUNIT_ASSERT(!c_->isFrozen());
    }
    void processesAreCollectedFromEveryHierarchyAndSubcgroup()
    {
        put(at("memory", "cgroup.procs"), "10\n11\n");
        put(at("cpu", "cgroup.procs"), "11\n12\n");
        put(at("freezer", "inner/cgroup.procs"), "13\n");
        auto p = c_->processes();
        std::sort(p.begin(), p.end());
        CPPUNIT_ASSERT((std::vector<pid_t>{10, 11, 12, 13}) == p);
    }
    void removeDeletesTheDomainCgroupEverywhereButKeepsThePartition()
    {
        put(at("memory", "memory.limit_in_bytes"), "1\n");
        fs::create_directories(at("cpu", "nested/deeper"));
        c_->remove();
        for (const char* d : kV1Dirs) {
            CPPUNIT_ASSERT(!fs::exists(at(d)));
            CPPUNIT_ASSERT(fs::is_directory(t_->path() + "/" + d + "/machine"));
        }
        c_->remove();  // already gone: fine
        // What a destroy asks of a cgroup the controller already removed.
        CPPUNIT_ASSERT(c_->processes().empty());
        CPPUNIT_ASSERT(!c_->isFrozen());
        CPPUNIT_ASSERT_EQUAL(0, c_->killAll(SIGKILL));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(CgroupV1FakeTest);

// ------------------------------------------------------------ v2, fake tree

class CgroupV2FakeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CgroupV2FakeTest);
    CPPUNIT_TEST(createEnablesControllersDownThePartition);
    CPPUNIT_TEST(createSkipsControllersAlreadyEnabledOrUnavailable);
    CPPUNIT_TEST(memorySettersWriteMaxHighAndSwapAsMemswMinusMemory);
    CPPUNIT_TEST(swapBelowTheHardLimitOrWithoutSwapMaxIsRefused);
    CPPUNIT_TEST(memoryReadersParseCurrentMaxAndEvents);
    CPPUNIT_TEST(sharesAreConvertedToWeightAsLibvirtDoes);
    CPPUNIT_TEST(periodAndQuotaGoIntoCpuMax);
    CPPUNIT_TEST(cpuUsageComesFromCpuStatInMicroseconds);
    CPPUNIT_TEST(usageCountersAreRereadThroughTheirFds);
    CPPUNIT_TEST(statisticsAreReadFromSwapCurrentAndIoStat);
    CPPUNIT_TEST(ioWeightAndIoMaxLinesAreWritten);
    CPPUNIT_TEST(ioWeightWithoutAnIoWeightFileNamesTheFile);
    CPPUNIT_TEST(freezeWritesCgroupFreezeAndWaitsForFrozenEvent);
    CPPUNIT_TEST(freezeThatNeverCompletesTimesOutAndThaws);
    CPPUNIT_TEST(killAllUsesCgroupKillForSigkill);
    CPPUNIT_TEST(deviceProgramHasAPrologueOneBlockPerRuleAndADenyingEnd);
    CPPUNIT_TEST(deviceProgramAllowsExactlyTheListedAccesses);
    CPPUNIT_TEST(deviceProgramCannotAttachToAFakeTree);
    CPPUNIT_TEST(removeDeletesTheDomainCgroup);
    CPPUNIT_TEST_SUITE_END();

    std::unique_ptr<TempDir> t_;
    std::unique_ptr<cg::Manager> m_;
    std::unique_ptr<cg::Cgroup> c_;
    std::string at(const std::string& file = "")
    {
        return t_->path() + "/machine/web.lxc" + (file.empty() ? "" : "/" + file);
    }

public:
    void setUp() override
    {
        t_ = std::make_unique<TempDir>();
        makeV2Tree(*t_);
        m_ = cg::Manager::detect(t_->path());
        c_ = m_->create("/machine", "web.lxc");
    }
    void tearDown() override
    {
        c_.reset();
        m_.reset();
        t_.reset();
    }

    void createEnablesControllersDownThePartition()
    {
        auto w = writes(*t_);
        CPPUNIT_ASSERT_EQUAL(size_t(2), w.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/cgroup.subtree_control\t+cpu +cpuset +memory +io +pids"), w[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("/machine/cgroup.subtree_control\t+cpu +cpuset +memory +io +pids"), w[1]);
        CPPUNIT_ASSERT(fs::is_directory(at()));
        CPPUNIT_ASSERT(!fs::exists(at("cgroup.subtree_control")));  // tasks live in the leaf
    }
    void createSkipsControllersAlreadyEnabledOrUnavailable()
    {
        clearWrites(*t_);
        put(t_->path() + "/cgroup.subtree_control", "cpu memory\n");
        put(t_->path() + "/part/cgroup.controllers", "cpu memory\n");
        put(t_->path() + "/part/cgroup.subtree_control", "memory\n");
        m_->create("/part", "x.lxc");
        auto w = writes(*t_);
        CPPUNIT_ASSERT_EQUAL(size_t(2), w.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/cgroup.subtree_control\t+cpuset +io +pids"), w[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("/part/cgroup.subtree_control\t+cpu"), w[1]);
    }
    void memorySettersWriteMaxHighAndSwapAsMemswMinusMemory()
    {
        put(at("memory.swap.max"), "max\n");
        c_->setMemoryHardLimit(524288);
        CPPUNIT_ASSERT_EQUAL(std::string("536870912"), get(at("memory.max")));
        c_->setMemorySoftLimit(262144);
        CPPUNIT_ASSERT_EQUAL(std::string("268435456"), get(at("memory.high")));
        c_->setMemorySwapHardLimit(786432);
        CPPUNIT_ASSERT_EQUAL(std::string("268435456"), get(at("memory.swap.max")));
        c_->setMemorySwapHardLimit(0);
        CPPUNIT_ASSERT_EQUAL(std::string("max"), get(at("memory.swap.max")));
        c_->setMemoryHardLimit(0);
        CPPUNIT_ASSERT_EQUAL(std::string("max"), get(at("memory.max")));
        c_->setMemorySoftLimit(0);
        CPPUNIT_ASSERT_EQUAL(std::string("max"), get(at("memory.high")));
    }
    void swapBelowTheHardLimitOrWithoutSwapMaxIsRefused()
    {
        std::string msg = errorOf([&] { c_->setMemorySwapHardLimit(1024); });
        CPPUNIT_ASSERT(contains(msg, at("memory.swap.max")));
        put(at("memory.swap.max"), "max\n");
        c_->setMemoryHardLimit(2048);
        msg = errorOf([&] { c_->setMemorySwapHardLimit(1024); });
        CPPUNIT_ASSERT(contains(msg, "swap_hard_limit"));
        CPPUNIT_ASSERT_EQUAL(std::string("max\n"), get(at("memory.swap.max")));
    }
    void memoryReadersParseCurrentMaxAndEvents()
    {
        put(at("memory.current"), "2097152\n");
        put(at("memory.max"), "max\n");
        put(at("memory.events"), "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\noom_group_kill 0\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(2048), c_->memoryUsage());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c_->memoryHardLimit());
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), c_->oomKillCount());
        put(at("memory.max"), "1048576\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(1024), c_->memoryHardLimit());
    }
    void sharesAreConvertedToWeightAsLibvirtDoes()
    {
        c_->setCpuShares(1024);
        CPPUNIT_ASSERT_EQUAL(std::string("39"), get(at("cpu.weight")));  // 1 + 1022*9999/262142
        CPPUNIT_ASSERT_EQUAL(uint64_t(998), c_->cpuShares());  // 2 + 38*262142/9999: lossy, as in libvirt
        c_->setCpuShares(2);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), get(at("cpu.weight")));
        c_->setCpuShares(262144);
        CPPUNIT_ASSERT_EQUAL(std::string("10000"), get(at("cpu.weight")));
        CPPUNIT_ASSERT_EQUAL(uint64_t(262144), c_->cpuShares());
    }
    void periodAndQuotaGoIntoCpuMax()
    {
        c_->setCpuPeriodQuota(50000, 20000);
        CPPUNIT_ASSERT_EQUAL(std::string("20000 50000"), get(at("cpu.max")));
        c_->setCpuPeriodQuota(0, -1);
        CPPUNIT_ASSERT_EQUAL(std::string("max 50000"), get(at("cpu.max")));
    }
    void cpuUsageComesFromCpuStatInMicroseconds()
    {
        put(at("cpu.stat"), "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 0\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(1500000), c_->cpuUsageNs());
        auto [u, s] = c_->cpuUserSystemNs();
        CPPUNIT_ASSERT_EQUAL(uint64_t(1000000), u);
        CPPUNIT_ASSERT_EQUAL(uint64_t(500000), s);
    }
    void usageCountersAreRereadThroughTheirFds()
    {
        put(at("cpu.stat"), "usage_usec 1\nuser_usec 1\nsystem_usec 0\n");
        put(at("memory.current"), "1024\n");
        size_t fds = openFds();
        CPPUNIT_ASSERT_EQUAL(uint64_t(1000), c_->cpuUsageNs());
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), c_->memoryUsage());
        CPPUNIT_ASSERT_EQUAL(fds + 2, openFds());
        put(at("cpu.stat"), "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n");
        put(at("memory.current"), "3072\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(2500000), c_->cpuUsageNs());
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), c_->memoryUsage());
        put(at("cpu.stat"), "user_usec 2000\n");
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->cpuUsageNs(); }), "usage_usec"));
        c_->remove();
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->memoryUsage(); }), at("memory.current")));
        CPPUNIT_ASSERT_EQUAL(fds + 2, openFds());
    }
    void statisticsAreReadFromSwapCurrentAndIoStat()
    {
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c_->memorySwapUsage());  // no swap accounting
        put(at("memory.swap.current"), "4096\n");
        CPPUNIT_ASSERT_EQUAL(uint64_t(4), c_->memorySwapUsage());
        put(at("io.stat"), "8:0 rbytes=100 wbytes=200 rios=1 wios=2 dbytes=0 dios=0\n"
                           "8:16 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n");
        auto all = c_->blkioStats();
        CPPUNIT_ASSERT_EQUAL(uint64_t(101), all.readBytes);
        CPPUNIT_ASSERT_EQUAL(uint64_t(202), all.writeBytes);
        CPPUNIT_ASSERT_EQUAL(uint64_t(4), all.readOps);
        CPPUNIT_ASSERT_EQUAL(uint64_t(6), all.writeOps);
        CPPUNIT_ASSERT_EQUAL(uint64_t(200), c_->blkioStats("8:0").writeBytes);
        // v2 has no per-CPU accounting file
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->perCpuUsageNs(); }), "per-CPU"));
    }
    void ioWeightAndIoMaxLinesAreWritten()
    {
        put(at("io.weight"), "default 100\n");
        c_->setBlkioWeight(250);
        CPPUNIT_ASSERT_EQUAL(std::string("default 250"), get(at("io.weight")));
        c_->setBlkioDeviceWeight("8:0", 50);
        CPPUNIT_ASSERT_EQUAL(std::string("8:0 50"), get(at("io.weight")));
        c_->setBlkioThrottle("8:16", 1000, 0, std::nullopt, 7);
        CPPUNIT_ASSERT_EQUAL(std::string("8:16 rbps=1000 wbps=max wiops=7"), get(at("io.max")));
        put(at("io.bfq.weight"), "default 100\n");
        c_->setBlkioWeight(90);
        CPPUNIT_ASSERT_EQUAL(std::string("90"), get(at("io.bfq.weight")));
    }
    void ioWeightWithoutAnIoWeightFileNamesTheFile()
    {
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->setBlkioWeight(100); }), at("io.weight")));
    }
    void freezeWritesCgroupFreezeAndWaitsForFrozenEvent()
    {
        // A fake kernel that reports frozen a moment after the request.
        put(at("cgroup.events"), "populated 1\nfrozen 0\n");
        std::thread kernel([&] {
            for (int i = 0; i < 200; ++i) {
                if (slurp(at("cgroup.freeze")) == "1") {
                    put(at("cgroup.events"), "populated 1\nfrozen 1\n");
                    return;
                }
                sleepMs(2);
            }
        });
        c_->freeze();
        kernel.join();
        CPPUNIT_ASSERT(c_->isFrozen());
        c_->thaw();
        CPPUNIT_ASSERT_EQUAL(std::string("0"), get(at("cgroup.freeze")));
    }
    void freezeThatNeverCompletesTimesOutAndThaws()
    {
        put(at("cgroup.events"), "populated 1\nfrozen 0\n");
        auto start = std::chrono::steady_clock::now();
        std::string msg = errorOf([&] { c_->freeze(); });
        auto took = std::chrono::steady_clock::now() - start;
        CPPUNIT_ASSERT(contains(msg, "did not freeze"));
        CPPUNIT_ASSERT(took >= std::chrono::milliseconds(900) && took < std::chrono::seconds(3));
        CPPUNIT_ASSERT_EQUAL(std::string("0"), get(at("cgroup.freeze")));
    }
    void killAllUsesCgroupKillForSigkill()
    {
        // pids far above pid_max so nothing real is signalled
        put(at("cgroup.procs"), "2147483000\n2147483001\n");
        put(at("cgroup.kill"), "");
        CPPUNIT_ASSERT_EQUAL(2, c_->killAll(SIGKILL));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), get(at("cgroup.kill")));
        CPPUNIT_ASSERT_EQUAL(0, c_->killAll(SIGTERM));  // signalled one by one: none exist
    }
    void deviceProgramHasAPrologueOneBlockPerRuleAndADenyingEnd()
    {
        auto empty = cg::detail::buildDeviceProgram({});
        CPPUNIT_ASSERT_EQUAL(size_t(8), empty.size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(BPF_ALU64 | BPF_MOV | BPF_K), empty[6].code);
        CPPUNIT_ASSERT_EQUAL(int32_t(0), empty[6].imm);
        CPPUNIT_ASSERT_EQUAL(uint8_t(BPF_JMP | BPF_EXIT), empty[7].code);
        // c 1:3 rwm: type, major, minor tests + allow = 5
        // c 136:* rw: type, 3 access insns, major + allow = 7
        // a *:* m: 3 access insns + allow = 5
        auto p = cg::detail::buildDeviceProgram({{'c', 1, 3, "rwm"}, {'c', 136, -1, "rw"}, {'a', -1, -1, "m"}});
        CPPUNIT_ASSERT_EQUAL(size_t(6 + 5 + 7 + 5 + 2), p.size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(BPF_JMP | BPF_JNE | BPF_K), p[6].code);
        CPPUNIT_ASSERT_EQUAL(int32_t(BPF_DEVCG_DEV_CHAR), p[6].imm);
        CPPUNIT_ASSERT_EQUAL(int16_t(4), p[6].off);  // to the next block
        CPPUNIT_ASSERT_EQUAL(int32_t(1), p[7].imm);  // major
        CPPUNIT_ASSERT_EQUAL(int16_t(3), p[7].off);
        CPPUNIT_ASSERT_EQUAL(int32_t(3), p[8].imm);  // minor
        CPPUNIT_ASSERT_EQUAL(int32_t(1), p[9].imm);  // r0 = 1
        CPPUNIT_ASSERT_EQUAL(uint8_t(BPF_JMP | BPF_EXIT), p[10].code);
        CPPUNIT_ASSERT_EQUAL(int32_t(BPF_DEVCG_ACC_MKNOD), p[13].imm);  // ~rw & 7
        for (const auto& i : p)
            CPPUNIT_ASSERT(i.dst_reg <= 5 && i.src_reg <= 5);
        CPPUNIT_ASSERT(contains(errorOf([] { cg::detail::buildDeviceProgram({{'c', 1, 3, ""}}); }), "''"));
        // An unconditional rule ends the program: no unreachable code.
        auto all = cg::detail::buildDeviceProgram({{'c', 1, 3, "r"}, {'a', -1, -1, "rwm"}, {'c', 1, 5, "r"}});
        CPPUNIT_ASSERT_EQUAL(size_t(6 + 8 + 2), all.size());
        CPPUNIT_ASSERT_EQUAL(uint8_t(BPF_JMP | BPF_EXIT), all.back().code);
        CPPUNIT_ASSERT_EQUAL(int32_t(1), all[all.size() - 2].imm);
    }
    void deviceProgramAllowsExactlyTheListedAccesses()
    {
        auto p = cg::detail::buildDeviceProgram(
            {{'c', 1, 3, "rwm"}, {'c', 136, -1, "rw"}, {'b', 8, 0, "r"}, {'a', -1, -1, "m"}});
        CPPUNIT_ASSERT_EQUAL(1, runDeviceProgram(p, 'c', 1, 3, "rw"));
        CPPUNIT_ASSERT_EQUAL(0, runDeviceProgram(p, 'c', 1, 5, "r"));    // zero: not listed
        CPPUNIT_ASSERT_EQUAL(0, runDeviceProgram(p, 'b', 1, 3, "r"));    // wrong type
        CPPUNIT_ASSERT_EQUAL(1, runDeviceProgram(p, 'c', 136, 7, "w"));  // any pty
        CPPUNIT_ASSERT_EQUAL(1, runDeviceProgram(p, 'c', 136, 7, "m"));  // mknod via the 'a' rule
        CPPUNIT_ASSERT_EQUAL(0, runDeviceProgram(p, 'c', 136, 7, "rm"));  // no one rule gives both
        CPPUNIT_ASSERT_EQUAL(1, runDeviceProgram(p, 'b', 8, 0, "r"));
        CPPUNIT_ASSERT_EQUAL(0, runDeviceProgram(p, 'b', 8, 0, "w"));
        CPPUNIT_ASSERT_EQUAL(0, runDeviceProgram(p, 'b', 8, 1, "r"));
        CPPUNIT_ASSERT_EQUAL(0, runDeviceProgram(cg::detail::buildDeviceProgram({}), 'c', 1, 3, "r"));
    }
    void deviceProgramCannotAttachToAFakeTree()
    {
        throw Skip("a fake tree is a plain directory: BPF_PROG_ATTACH needs a real cgroup2 "
                   "(see the real v2 device test)");
    }
    void removeDeletesTheDomainCgroup()
    {
        put(at("memory.max"), "max\n");
        c_->remove();
        CPPUNIT_ASSERT(!fs::exists(at()));
        CPPUNIT_ASSERT(fs::is_directory(t_->path() + "/machine"));
        CPPUNIT_ASSERT(c_->processes().empty());
        CPPUNIT_ASSERT(!c_->isFrozen());
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(CgroupV2FakeTest);

// ------------------------------------------------------------ real v1

// What the v1 and v2 real-kernel fixtures check alike.
void checkAHogAboveTheLimitIsOomKilled(cg::Cgroup& c)
{
    Child child([] { return memhog(256); });
    c.addProcess(child.pid());
    child.go();
    int st = child.wait();
    CPPUNIT_ASSERT_MESSAGE("child survived allocating 256 MiB under a 32 MiB limit",
                           WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
    CPPUNIT_ASSERT(c.oomKillCount() > 0);
}

void checkFreezeStopsABusyChildAndThawResumesIt(cg::Cgroup& c)
{
    Child child(busyLoop);
    c.addProcess(child.pid());
    child.go();
    sleepMs(100);
    c.freeze();
    CPPUNIT_ASSERT(c.isFrozen());
    uint64_t a = c.cpuUsageNs();
    sleepMs(300);
    uint64_t b = c.cpuUsageNs();
    CPPUNIT_ASSERT_MESSAGE("frozen child used " + std::to_string(b - a) + " ns", b - a < 5000000);
    c.thaw();
    CPPUNIT_ASSERT(!c.isFrozen());
    // A loaded host may give the child little time: wait up to 3 s.
    uint64_t d = b;
    for (int i = 0; i < 30 && d - b <= 20000000; ++i) {
        sleepMs(100);
        d = c.cpuUsageNs();
    }
    CPPUNIT_ASSERT_MESSAGE("thawed child used only " + std::to_string(d - b) + " ns", d - b > 20000000);
}

void checkKillAllEndsEveryTask(cg::Cgroup& c)
{
    Child one(busyLoop), two(busyLoop);
    c.addProcess(one.pid());
    c.addProcess(two.pid());
    one.go();
    two.go();
    CPPUNIT_ASSERT_EQUAL(2, c.killAll(SIGKILL));
    int s1 = one.wait(), s2 = two.wait();
    CPPUNIT_ASSERT(WIFSIGNALED(s1) && WTERMSIG(s1) == SIGKILL);
    CPPUNIT_ASSERT(WIFSIGNALED(s2) && WTERMSIG(s2) == SIGKILL);
}

class CgroupV1RealTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CgroupV1RealTest);
    CPPUNIT_TEST(aChildAddedToTheCgroupIsListedInEveryHierarchy);
    CPPUNIT_TEST(memoryLimitIsEnforcedByTheOomKiller);
    CPPUNIT_TEST(freezeStopsABusyChildAndThawResumesIt);
    CPPUNIT_TEST(killAllEndsEveryTaskAndRemoveLeavesNothing);
    CPPUNIT_TEST(usageCountersTrackABusyChildAndFailOnceTheCgroupIsGone);
    CPPUNIT_TEST(settersAreAcceptedByTheRealKernel);
    CPPUNIT_TEST_SUITE_END();

    std::unique_ptr<RealPartition> part_;
    std::unique_ptr<cg::Manager> m_;
    std::unique_ptr<cg::Cgroup> c_;

public:
    void setUp() override
    {
        auto l = hostLayout("/sys/fs/cgroup");
        for (const char* c : {"memory", "freezer", "cpuacct"})
            if (!l.v1.count(c))
                return;  // each test skips with the reason
        if (::geteuid() != 0)
            return;
        std::vector<std::string> hier;
        for (const auto& [c, d] : l.v1)
            hier.push_back(d);
        part_ = std::make_unique<RealPartition>(hier);
        m_ = cg::Manager::detect("/sys/fs/cgroup");
        c_ = m_->create(part_->name(), "t.lxc");
    }
    void tearDown() override
    {
        c_.reset();
        m_.reset();
        part_.reset();
    }
    void need()
    {
        requireRoot();
        if (!c_)
            throw Skip("no cgroup v1 memory, freezer and cpuacct hierarchies on this host");
    }

    void aChildAddedToTheCgroupIsListedInEveryHierarchy()
    {
        need();
        Child child([] { return 0; });
        c_->addProcess(child.pid());
        auto p = c_->processes();
        CPPUNIT_ASSERT(std::find(p.begin(), p.end(), child.pid()) != p.end());
        std::string self = slurp("/proc/" + std::to_string(child.pid()) + "/cgroup");
        CPPUNIT_ASSERT(contains(self, ":memory:" + part_->name() + "/t.lxc\n"));
        CPPUNIT_ASSERT(contains(self, ":freezer:" + part_->name() + "/t.lxc\n"));
        CPPUNIT_ASSERT(contains(self, ":cpuset:" + part_->name() + "/t.lxc\n"));
        child.go();
        child.wait();
    }
    void memoryLimitIsEnforcedByTheOomKiller()
    {
        need();
        c_->setMemoryHardLimit(32 * 1024);
        try {
            c_->setMemorySwapHardLimit(32 * 1024);  // no escape into swap
        } catch (const Error&) {
            std::string swaps = slurp("/proc/swaps");
            if (std::count(swaps.begin(), swaps.end(), '\n') > 1)
                throw Skip("swap is on but not accounted (no memory.memsw.*): a hog would escape into swap");
        }
        CPPUNIT_ASSERT_EQUAL(uint64_t(32 * 1024), c_->memoryHardLimit());
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c_->oomKillCount());
        checkAHogAboveTheLimitIsOomKilled(*c_);
    }
    void freezeStopsABusyChildAndThawResumesIt()
    {
        need();
        checkFreezeStopsABusyChildAndThawResumesIt(*c_);
        auto [user, sys] = c_->cpuUserSystemNs();
        CPPUNIT_ASSERT(user + sys > 0);
        auto per = c_->perCpuUsageNs();
        uint64_t sum = 0;
        for (uint64_t n : per)
            sum += n;
        CPPUNIT_ASSERT(per.size() >= 1);
        CPPUNIT_ASSERT(sum > 0 && sum <= c_->cpuUsageNs());
    }
    void killAllEndsEveryTaskAndRemoveLeavesNothing()
    {
        need();
        checkKillAllEndsEveryTask(*c_);
        c_->remove();
        CPPUNIT_ASSERT(part_->goneEverywhere());
        CPPUNIT_ASSERT(c_->processes().empty());
    }
    void usageCountersTrackABusyChildAndFailOnceTheCgroupIsGone()
    {
        need();
        uint64_t cpu0 = c_->cpuUsageNs();
        // Touches 8 MiB (charged to the cgroup it runs in by then), then spins.
        Child busy([] {
            char* p = static_cast<char*>(
                ::mmap(nullptr, 8 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
            for (size_t i = 0; p != MAP_FAILED && i < (8 << 20); i += 4096)
                p[i] = 1;
            return busyLoop();
        });
        c_->addProcess(busy.pid());
        busy.go();
        uint64_t cpu1 = cpu0, mem = 0;
        for (int i = 0; i < 400 && (cpu1 < cpu0 + 20000000 || mem < 8 * 1024); ++i) {
            sleepMs(5);
            cpu1 = c_->cpuUsageNs();  // the same fds, read again
            mem = c_->memoryUsage();
        }
        CPPUNIT_ASSERT_MESSAGE("cpuacct.usage did not grow by 20 ms of a busy loop", cpu1 >= cpu0 + 20000000);
        CPPUNIT_ASSERT_MESSAGE("memory.usage_in_bytes shows " + std::to_string(mem) + " KiB", mem >= 8 * 1024);
        c_->killAll(SIGKILL);
        busy.wait();
        c_->remove();
        // The kept fds now answer ENODEV; the path is gone too.
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->cpuUsageNs(); }), "cpuacct.usage"));
        CPPUNIT_ASSERT(contains(errorOf([&] { c_->memoryUsage(); }), "memory.usage_in_bytes"));
    }
    void settersAreAcceptedByTheRealKernel()
    {
        need();
        c_->setCpuShares(512);
        CPPUNIT_ASSERT_EQUAL(uint64_t(512), c_->cpuShares());
        c_->setCpuPeriodQuota(100000, 50000);
        c_->setCpuPeriodQuota(0, -1);
        c_->setMemorySoftLimit(65536);
        c_->setMemoryHardLimit(65536);
        if (fs::exists("/sys/fs/cgroup/memory" + c_->path() + "/memory.memsw.limit_in_bytes"))
            c_->setMemorySwapHardLimit(65536);
        c_->setMemoryHardLimit(131072);  // above memsw: memsw follows
        CPPUNIT_ASSERT_EQUAL(uint64_t(131072), c_->memoryHardLimit());
        c_->setMemoryHardLimit(0);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c_->memoryHardLimit());
        c_->setCpusetCpus("0");
        c_->setCpusetMems("0");
        c_->setDeviceAllowList({{'c', 1, 3, "rwm"}, {'c', 136, -1, "rwm"}});
        std::string list = slurp("/sys/fs/cgroup/devices" + c_->path() + "/devices.list");
        CPPUNIT_ASSERT_EQUAL(std::string("c 1:3 rwm\nc 136:* rwm\n"), list);
        c_->memorySwapUsage();  // the real files parse
        c_->blkioStats();
        std::string dev = firstBlockDevice();
        if (!dev.empty()) {
            c_->setBlkioThrottle(dev, 1048576, std::nullopt, 200, std::nullopt);
            CPPUNIT_ASSERT_EQUAL(dev + " 1048576\n",
                                 slurp("/sys/fs/cgroup/blkio" + c_->path() + "/blkio.throttle.read_bps_device"));
        }
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(CgroupV1RealTest);

// ------------------------------------------------------------ real v2

class CgroupV2RealTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CgroupV2RealTest);
    CPPUNIT_TEST(memoryLimitIsEnforcedByTheOomKiller);
    CPPUNIT_TEST(freezeStopsABusyChildAndThawResumesIt);
    CPPUNIT_TEST(deviceProgramDeniesUnlistedDevicesAndIsReplacedAsAWhole);
    CPPUNIT_TEST(killAllEndsEveryTaskAndRemoveLeavesNothing);
    CPPUNIT_TEST_SUITE_END();

    std::unique_ptr<RealPartition> part_;
    std::unique_ptr<cg::Manager> m_;
    std::unique_ptr<cg::Cgroup> c_;
    std::string v2_;
    std::vector<std::string> ctrls_;

public:
    void setUp() override
    {
        auto l = hostLayout("/sys/fs/cgroup");
        if (l.v2.empty() || ::geteuid() != 0)
            return;
        v2_ = l.v2;
        std::istringstream in(slurp(v2_ + "/cgroup.controllers"));
        std::string w;
        while (in >> w)
            ctrls_.push_back(w);
        part_ = std::make_unique<RealPartition>(std::vector<std::string>{v2_});
        // The cgroup2 mount by itself: on a hybrid host it carries no
        // controllers, but freezing, killing and device programs are part
        // of cgroup2's core and work there.
        m_ = cg::Manager::detect(v2_);
        CPPUNIT_ASSERT(m_->isV2());
        c_ = m_->create(part_->name(), "t.lxc");
    }
    void tearDown() override
    {
        c_.reset();
        m_.reset();
        part_.reset();
    }
    void need(const char* controller = nullptr)
    {
        requireRoot();
        if (!c_)
            throw Skip("no cgroup2 mount under /sys/fs/cgroup");
        if (controller && std::find(ctrls_.begin(), ctrls_.end(), controller) == ctrls_.end())
            throw Skip(std::string("no cgroup v2 controllers on this host (") + controller +
                       " is not in " + v2_ + "/cgroup.controllers; v1 owns it)");
    }

    void memoryLimitIsEnforcedByTheOomKiller()
    {
        need("memory");
        c_->setMemoryHardLimit(32 * 1024);
        try {
            c_->setMemorySwapHardLimit(32 * 1024);
        } catch (const Error&) {
        }
        checkAHogAboveTheLimitIsOomKilled(*c_);
    }
    void freezeStopsABusyChildAndThawResumesIt()
    {
        need();
        checkFreezeStopsABusyChildAndThawResumesIt(*c_);
    }
    void deviceProgramDeniesUnlistedDevicesAndIsReplacedAsAWhole()
    {
        need();
        // exit status: bit 0 = /dev/null opened, bit 1 = /dev/zero opened,
        // bit 2 = a refusal that was not EPERM
        auto probe = [] {
            int r = 0;
            for (auto [bit, path] : {std::pair{1, "/dev/null"}, std::pair{2, "/dev/zero"}}) {
                int fd = ::open(path, O_RDONLY);
                if (fd >= 0) {
                    r |= bit;
                    ::close(fd);
                } else if (errno != EPERM) {
                    r |= 4;
                }
            }
            return r;
        };
        auto run = [&] {
            Child child(probe);
            c_->addProcess(child.pid());
            child.go();
            int st = child.wait();
            CPPUNIT_ASSERT(WIFEXITED(st));
            return WEXITSTATUS(st);
        };
        // libvirt's default container list (plus a disk) passes the verifier
        c_->setDeviceAllowList({{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"}, {'c', 1, 7, "rwm"}, {'c', 1, 8, "rwm"},
                                {'c', 1, 9, "rwm"}, {'c', 5, 0, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 10, 229, "rwm"},
                                {'c', 136, -1, "rwm"}, {'b', 8, 0, "r"}});
        CPPUNIT_ASSERT_EQUAL(3, run());
        c_->setDeviceAllowList({{'c', 1, 3, "rw"}});
        CPPUNIT_ASSERT_EQUAL(1, run());
        c_->setDeviceAllowList({{'c', 1, 5, "r"}});
        CPPUNIT_ASSERT_EQUAL(2, run());  // the old program is gone
        c_->setDeviceAllowList({{'a', -1, -1, "rwm"}});
        CPPUNIT_ASSERT_EQUAL(3, run());
    }
    void killAllEndsEveryTaskAndRemoveLeavesNothing()
    {
        need();
        checkKillAllEndsEveryTask(*c_);
        c_->remove();
        CPPUNIT_ASSERT(part_->goneEverywhere());
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(CgroupV2RealTest);
