// Integration tests of the container runtime: real containers started
// through lxvirt::lxc::Container (controller, namespaces, cgroups), checked
// from inside with the static tests/init helper in a busybox test rootfs.
// Needs root; skips with the reason otherwise.
#include "driver/cgroup/cgroup.h"
#include "driver/controller/spec.h"
#include "driver/fdio.h"
#include "driver/lxc/container.h"
#include "driver/lxc/container_spec.h"
#include "tests/unit/tap.h"
#include "tests/unit/test_rootfs.h"
#include "xml/domain_def.h"

#include <cppunit/extensions/HelperMacros.h>
#include <dirent.h>
#include <fcntl.h>
#include <glib.h>
#include <libvirt/libvirt.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

using namespace lxvirt;
using lxc::Container;
using lxc::ExitReason;

namespace {

std::string readFile(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool exists(const std::string &p)
{
    struct stat st;
    return lstat(p.c_str(), &st) == 0;
}

int run(const std::string &cmd)
{
    int rc = system(cmd.c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

std::vector<std::string> lines(const std::string &s)
{
    std::vector<std::string> out;
    std::istringstream is(s);
    std::string l;
    while (std::getline(is, l))
        out.push_back(l);
    return out;
}

const char *reasonName(ExitReason r)
{
    switch (r) {
    case ExitReason::Shutdown:
        return "shutdown";
    case ExitReason::Reboot:
        return "reboot";
    case ExitReason::Crashed:
        return "crashed";
    case ExitReason::Destroyed:
        return "destroyed";
    }
    return "?";
}

std::set<std::string> fdTargets()
{
    std::set<std::string> out;
    DIR *d = opendir("/proc/self/fd");
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        char buf[512];
        std::string p = std::string("/proc/self/fd/") + e->d_name;
        ssize_t n = readlink(p.c_str(), buf, sizeof buf - 1);
        if (n > 0) {
            buf[n] = 0;
            out.insert(std::string(e->d_name) + " " + buf);
        }
    }
    closedir(d);
    return out;
}

// One temp dir, rootfs and cgroup partition per test program run.
struct World {
    std::string tmp, rootfs, partition;
    lxc::Paths paths;
    std::string skip;
    int counter = 0;

    World()
    {
        test::TestRootfs r("rt");
        tmp = r.tmp;
        rootfs = r.rootfs;
        paths.controller_binary = r.controller;
        skip = r.skip;
        if (!skip.empty())
            return;
        paths.run_dir = tmp + "/run";
        paths.log_dir = tmp + "/log";
        mkdir(paths.run_dir.c_str(), 0700);
        mkdir(paths.log_dir.c_str(), 0700);
        partition = "/lxvirt-rt-" + std::to_string(getpid());
    }

    ~World()
    {
        if (!partition.empty())
            for (const char *ctl : {"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory",
                                    "pids", "systemd", "unified"})
                rmdir((paths.cgroup_root + "/" + ctl + partition).c_str());
        if (!tmp.empty() && tmp.rfind("/tmp/lxvirt-rt-", 0) == 0)
            run("umount -R " + rootfs + " 2>/dev/null; rm -rf " + tmp);
    }

    // Every place a container's cgroup could be left behind.
    std::vector<std::string> cgroupDirs(const std::string &rel)
    {
        std::vector<std::string> out;
        for (const char *ctl : {"blkio", "cpu", "cpuacct", "cpuset", "devices", "freezer", "memory", "pids"})
            if (exists(paths.cgroup_root + "/" + ctl + rel))
                out.push_back(paths.cgroup_root + "/" + ctl + rel);
        return out;
    }
};

World &world()
{
    static World w;
    return w;
}

// A running (or finished) test container with its output directory.
struct Box {
    std::unique_ptr<Container> c;
    std::string name, outdir;
    DomainDef def;
    std::optional<ExitReason> exited;
    std::shared_ptr<std::optional<ExitReason>> exit_slot = std::make_shared<std::optional<ExitReason>>();
    lxc::StartTimings timings;

    ~Box()
    {
        if (c)
            c->destroy(false);
    }
    std::optional<ExitReason> reason() const { return *exit_slot; }
};

void iterate(int ms)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

// Iterates the main loop until pred() or the timeout.
template <class F> bool waitFor(F pred, int ms = 10000)
{
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        while (g_main_context_iteration(nullptr, FALSE)) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

DomainDef baseDef(const std::string &tag, std::vector<std::string> args, std::string &outdir)
{
    World &w = world();
    DomainDef d;
    d.name = "rt" + std::to_string(getpid()) + "-" + tag + "-" + std::to_string(++w.counter);
    d.uuid = uuidGenerate();
    d.memory_kib = d.current_memory_kib = 256 * 1024;
    d.resource_partition = w.partition;
    d.init = "/sbin/init";
    d.initargs = std::move(args);
    outdir = w.tmp + "/out-" + d.name;
    mkdir(outdir.c_str(), 0755);
    FilesystemDef root;
    root.type = FsType::Mount;
    root.source = w.rootfs;
    root.target = "/";
    root.readonly = true;
    FilesystemDef out;
    out.type = FsType::Mount;
    out.source = outdir;
    out.target = "/out";
    d.filesystems = {root, out};
    d.consoles.push_back(ConsoleDef{});
    return d;
}

std::unique_ptr<Box> startBox(DomainDef def, const std::string &outdir)
{
    auto b = std::make_unique<Box>();
    b->def = std::move(def);
    b->name = b->def.name;
    b->outdir = outdir;
    auto slot = b->exit_slot;
    b->c = Container::start(
        b->def, world().paths, [slot](ExitReason r) { *slot = r; }, &b->timings);
    return b;
}

// Starts `init -o /out/answer -w ARGS...` and returns the answer.
std::string ask(std::unique_ptr<Box> &b, const std::string &tag, std::vector<std::string> args,
                std::function<void(DomainDef &)> tweak = nullptr)
{
    std::string outdir;
    args.insert(args.begin(), {"-o", "/out/answer", "-w"});
    DomainDef d = baseDef(tag, args, outdir);
    if (tweak)
        tweak(d);
    b = startBox(d, outdir);
    std::string answer = outdir + "/answer";
    bool ok = waitFor([&] { return exists(answer) || b->reason(); });
    CPPUNIT_ASSERT_MESSAGE("no answer from the container", ok && exists(answer));
    return readFile(answer);
}

// NUL-separated /proc/PID/cmdline with spaces, as ps shows it.
std::string cmdlineOf(pid_t pid)
{
    std::string c = readFile("/proc/" + std::to_string(pid) + "/cmdline");
    std::replace(c.begin(), c.end(), '\0', ' ');
    return c;
}

// This process's children (thread by thread).
std::vector<pid_t> childrenOf(pid_t pid)
{
    std::vector<pid_t> out;
    std::string base = "/proc/" + std::to_string(pid) + "/task";
    DIR *d = opendir(base.c_str());
    while (dirent *e = d ? readdir(d) : nullptr) {
        if (e->d_name[0] == '.')
            continue;
        std::istringstream in(readFile(base + "/" + e->d_name + "/children"));
        pid_t kid;
        while (in >> kid)
            out.push_back(kid);
    }
    if (d)
        closedir(d);
    return out;
}

bool blankName(const std::string &cmd)
{
    size_t at = cmd.find(" --name ");
    return cmd.find("lxvirt-controller") != std::string::npos && at != std::string::npos &&
           cmd.find_first_not_of(' ', at + 8) == std::string::npos;
}

// The zygote controller that forks the standbys (a child of this process).
std::vector<pid_t> zygotes()
{
    std::vector<pid_t> out;
    for (pid_t pid : childrenOf(getpid())) {
        std::string cmd = cmdlineOf(pid);
        if (blankName(cmd) && cmd.find(" --zygote-fd ") != std::string::npos)
            out.push_back(pid);
    }
    return out;
}

// The waiting standby controllers: the zygote's children (or, when no
// zygote could start, this process's) whose --name is still blank.
std::vector<pid_t> standbyChildren()
{
    std::vector<pid_t> out, parents = zygotes();
    parents.push_back(getpid());
    for (pid_t parent : parents)
        for (pid_t pid : childrenOf(parent)) {
            std::string cmd = cmdlineOf(pid);
            if (blankName(cmd) && (parent != getpid() || cmd.find(" --zygote-fd ") == std::string::npos))
                out.push_back(pid);
        }
    return out;
}

// Runs the controller in a role of its own ("--monitor-fd" for a standby,
// "--zygote-fd" for the zygote) with blank --name padding; `ours` gets this
// side of its socket.
pid_t spawnControllerAs(const std::string &bin, const char *role_flag, int &ours)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(sv[1], 3);
        execl(bin.c_str(), bin.c_str(), role_flag, "3", "--name", "                ", (char *)nullptr);
        _exit(127);
    }
    close(sv[1]);
    ours = sv[0];
    return pid;
}

// Closes our end of a controller's socket (or, with `nonsense`, sends it
// something it does not expect) and waits up to 2 s for that child of ours
// to exit by itself: true if it exited with status 0. Killed otherwise.
bool exitsCleanlyOnEofOrNonsense(pid_t pid, int ours, bool nonsense)
{
    if (!nonsense)
        close(ours);
    else if (send(ours, "hello", 5, 0) != 5)
        return false;
    int status = -1;
    bool gone = false;
    for (int i = 0; i < 2000 && !gone; ++i) {
        gone = waitpid(pid, &status, WNOHANG) == pid;
        if (!gone)
            usleep(1000);
    }
    if (!gone) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (nonsense)
        close(ours);
    return gone && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// Runs `body` on a controller spawned in `role_flag` twice: for the daemon's
// end closing and for nonsense sent on it.
template <typename Body>
void forBothEndings(const std::string &bin, const char *role_flag, Body &&body)
{
    for (bool nonsense : {false, true}) {
        int ours = -1;
        pid_t pid = spawnControllerAs(bin, role_flag, ours);
        CPPUNIT_ASSERT(pid > 0);
        body(pid, ours, nonsense);
    }
}

// The container children the standby controllers cloned ahead of need.
std::set<pid_t> preforkedChildren()
{
    std::set<pid_t> out;
    for (pid_t sb : standbyChildren()) {
        std::istringstream in(readFile("/proc/" + std::to_string(sb) + "/task/" + std::to_string(sb) + "/children"));
        pid_t pid;
        while (in >> pid)
            out.insert(pid);
    }
    return out;
}

std::string nsOf(pid_t pid, const char *ns)
{
    char buf[64] = {};
    std::string p = pid ? "/proc/" + std::to_string(pid) + "/ns/" + ns : std::string("/proc/self/ns/") + ns;
    return readlink(p.c_str(), buf, sizeof buf - 1) > 0 ? buf : "";
}

void requireWorld()
{
    if (!world().skip.empty())
        throw test::Skip(world().skip);
}

} // namespace

class ContainerTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ContainerTest);
    CPPUNIT_TEST(initIsPidOneAndSeesOnlyItsOwnProcesses);
    CPPUNIT_TEST(containerHasTheDomainNameAsHostname);
    CPPUNIT_TEST(containerSeesOnlyItsOwnMounts);
    CPPUNIT_TEST(containerDevHoldsOnlyTheMinimalNodes);
    CPPUNIT_TEST(hostDevicesAreDeniedByTheDeviceCgroupEvenWithMknod);
    CPPUNIT_TEST(initEnvironmentFollowsLibvirt);
    CPPUNIT_TEST(defaultCapabilitiesDropModuleTimeAndMknod);
    CPPUNIT_TEST(readonlyRootRefusesWritesAndRemountWithoutSysAdmin);
    CPPUNIT_TEST(containerWithoutRootSharesHostRootReadOnlyWithPrivateTmp);
    CPPUNIT_TEST(initUserAndGroupAreLookedUpInTheContainer);
    CPPUNIT_TEST(initRunsInTheContainersCgroup);
    CPPUNIT_TEST(memhogAboveTheHardLimitIsOomKilledAndReportedCrashed);
    CPPUNIT_TEST(cpusetPinsTheContainer);
    CPPUNIT_TEST(cpuQuotaHoldsUsageAtTheQuota);
    CPPUNIT_TEST(suspendFreezesAndResumeThaws);
    CPPUNIT_TEST(destroyLeavesNoProcessCgroupMountLoopDeviceOrFd);
    CPPUNIT_TEST(gracefulDestroyLetsInitExitOnSigterm);
    CPPUNIT_TEST(shutdownIsReportedAsShutdown);
    CPPUNIT_TEST(rebootInsideTheContainerIsReportedAsReboot);
    CPPUNIT_TEST(shutdownAndRebootUseTheInitctlPipeWhenThereIsOne);
    CPPUNIT_TEST(nonZeroExitIsReportedAsCrashed);
    CPPUNIT_TEST(reconnectFindsTheContainerAfterTheHandleIsDropped);
    CPPUNIT_TEST(containerSurvivesTheDeathOfTheProcessThatStartedIt);
    CPPUNIT_TEST(deadControllerIsCleanedUpAndReportedCrashed);
    CPPUNIT_TEST(consoleRelaysOutputAndInput);
    CPPUNIT_TEST(startFailureForMissingInitNamesStepPathAndErrno);
    CPPUNIT_TEST(startFailureForBadRootNamesStepPathAndErrno);
    CPPUNIT_TEST(startFailureUnderATooLowMemoryLimitNamesTheOomKiller);
    CPPUNIT_TEST(secondStartOfARunningNameFailsAndLeavesTheFirstIntact);
    CPPUNIT_TEST(userNamespaceMapsRootToTheIdmapTarget);
    CPPUNIT_TEST(privnetGivesAPrivateNetworkWithOnlyLoopback);
    CPPUNIT_TEST(shareutsByNameJoinsAnotherContainersUtsNamespace);
    CPPUNIT_TEST(startAndDestroyLatencyAndControllerPss);
    CPPUNIT_TEST(aStartIsHandedToTheStandbyControllerWhichTakesTheDomainsName);
    CPPUNIT_TEST(aDeadStandbyIsReplacedByAFreshController);
    CPPUNIT_TEST(aDeadZygoteIsReplacedAndItsStandbysStillServe);
    CPPUNIT_TEST(aStandbyExitsWhenTheDaemonsEndClosesOrSendsNonsense);
    CPPUNIT_TEST(theZygoteForksStandbysAndExitsWhenTheDaemonsEndClosesOrSendsNonsense);
    CPPUNIT_TEST(theChildAStandbyClonedAheadBecomesInit);
    CPPUNIT_TEST(aMountMadeAfterTheStandbyClonedItsChildIsSeenByTheContainer);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override { requireWorld(); }

    void initIsPidOneAndSeesOnlyItsOwnProcesses()
    {
        std::unique_ptr<Box> b;
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(b, "pids", {"pids"}));
        std::unique_ptr<Box> b2;
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(b2, "pid", {"pid"}));
        CPPUNIT_ASSERT(b2->c->runState().init_pid > 1);
        CPPUNIT_ASSERT(b2->c->runState().init_pid != b->c->runState().init_pid);
    }

    void containerHasTheDomainNameAsHostname()
    {
        std::unique_ptr<Box> b;
        std::string h = ask(b, "host", {"hostname"});
        CPPUNIT_ASSERT_EQUAL(b->name + "\n", h);
        char mine[256] = "";
        gethostname(mine, sizeof mine);
        CPPUNIT_ASSERT(std::string(mine) != b->name);
    }

    void containerSeesOnlyItsOwnMounts()
    {
        std::unique_ptr<Box> b;
        std::string m = ask(b, "mounts", {"mounts"});
        std::set<std::string> allowed = {"/",           "/out",         "/proc",    "/proc/sys",
                                         "/sys",        "/dev",         "/dev/pts", "/dev/shm",
                                         "/dev/mqueue", "/dev/console", "/dev/tty1"};
        std::set<std::string> seen;
        for (auto &l : lines(m)) {
            std::istringstream is(l);
            std::string src, target, type, opts;
            is >> src >> target >> type >> opts;
            seen.insert(target);
            CPPUNIT_ASSERT_MESSAGE("unexpected mount in the container: " + l, allowed.count(target));
            if (target == "/" || target == "/sys" || target == "/proc/sys")
                CPPUNIT_ASSERT_MESSAGE(target + " must be read-only: " + l, opts.rfind("ro", 0) == 0);
        }
        for (const char *must : {"/", "/proc", "/sys", "/dev", "/dev/pts", "/out"})
            CPPUNIT_ASSERT_MESSAGE(std::string("missing mount ") + must, seen.count(must));
        // And the host does not see the container's mounts.
        std::string host = readFile("/proc/self/mounts");
        CPPUNIT_ASSERT(host.find(world().rootfs) == std::string::npos);
    }

    void containerDevHoldsOnlyTheMinimalNodes()
    {
        std::unique_ptr<Box> b;
        auto l = lines(ask(b, "dev", {"devices"}));
        std::set<std::string> got(l.begin(), l.end());
        std::set<std::string> want = {"null",    "zero",  "full",   "random", "urandom", "tty",
                                      "console", "tty1",  "ptmx",   "pts",    "shm",     "mqueue",
                                      "fd",      "stdin", "stdout", "stderr"};
        CPPUNIT_ASSERT(got == want);
    }

    void hostDevicesAreDeniedByTheDeviceCgroupEvenWithMknod()
    {
        std::unique_ptr<Box> b;
        // mknod allowed by capability, the node is still unusable: 1:1 is /dev/mem.
        std::string a = ask(b, "mknod", {"mknod", "/dev/mem", "1", "1"}, [](DomainDef &d) {
            d.has_capabilities = true;
            d.caps.push_back({"mknod", true});
        });
        // The device cgroup refuses the mknod itself (no 'm' for 1:1), or the open.
        CPPUNIT_ASSERT_MESSAGE(a, a == "error: mknod: Operation not permitted\n" ||
                                      a == "error: open: Operation not permitted\n");
        std::unique_ptr<Box> b2;
        CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), ask(b2, "null", {"open", "/dev/null"}));
    }

    void initEnvironmentFollowsLibvirt()
    {
        std::unique_ptr<Box> b;
        auto l = lines(ask(b, "env", {"env"}, [](DomainDef &d) {
            d.initenv.push_back({"FOO", "bar baz"});
            d.cmdline = "quiet";
        }));
        std::set<std::string> env(l.begin(), l.end());
        std::string uuid = uuidToString(b->def.uuid);
        for (std::string want :
             {std::string("PATH=/bin:/sbin"), std::string("TERM=linux"), std::string("container=lxc-libvirt"),
              std::string("HOME=/"), "container_uuid=" + uuid, "LIBVIRT_LXC_UUID=" + uuid,
              "LIBVIRT_LXC_NAME=" + b->name, std::string("LIBVIRT_LXC_CMDLINE=quiet"),
              std::string("FOO=bar baz")})
            CPPUNIT_ASSERT_MESSAGE("missing " + want, env.count(want));
    }

    static uint64_t capField(const std::string &status, const std::string &field)
    {
        for (auto &l : lines(status))
            if (l.rfind(field + ":", 0) == 0)
                return std::stoull(l.substr(field.size() + 1), nullptr, 16);
        CPPUNIT_FAIL("no " + field);
        return 0;
    }

    void defaultCapabilitiesDropModuleTimeAndMknod()
    {
        std::unique_ptr<Box> b;
        std::string s = ask(b, "caps", {"caps"});
        for (const char *f : {"CapEff", "CapBnd"}) {
            uint64_t v = capField(s, f);
            CPPUNIT_ASSERT_MESSAGE(f, !(v & (1ull << 16))); // sys_module
            CPPUNIT_ASSERT_MESSAGE(f, !(v & (1ull << 25))); // sys_time
            CPPUNIT_ASSERT_MESSAGE(f, !(v & (1ull << 27))); // mknod
            CPPUNIT_ASSERT_MESSAGE(f, !(v & (1ull << 30))); // audit_control
            CPPUNIT_ASSERT_MESSAGE(f, (v & (1ull << 21)));  // sys_admin kept
            CPPUNIT_ASSERT_MESSAGE(f, (v & (1ull << 22)));  // sys_boot kept
        }
        std::unique_ptr<Box> b2;
        std::string deny = ask(b2, "capdeny", {"caps"}, [](DomainDef &d) {
            d.has_capabilities = true;
            d.cap_policy = CapPolicy::Deny;
            d.caps.push_back({"kill", true});
        });
        CPPUNIT_ASSERT_EQUAL(uint64_t(1) << 5, capField(deny, "CapEff"));
        CPPUNIT_ASSERT_EQUAL(uint64_t(1) << 5, capField(deny, "CapBnd"));
    }

    void readonlyRootRefusesWritesAndRemountWithoutSysAdmin()
    {
        std::unique_ptr<Box> b;
        CPPUNIT_ASSERT_EQUAL(std::string("error: Read-only file system\n"),
                             ask(b, "rowrite", {"write", "/probe", "x"}));
        CPPUNIT_ASSERT(!exists(world().rootfs + "/probe"));
        std::unique_ptr<Box> b2;
        std::string r = ask(b2, "remount", {"remount", "/"}, [](DomainDef &d) {
            d.has_capabilities = true;
            d.caps.push_back({"sys_admin", false});
        });
        CPPUNIT_ASSERT_EQUAL(std::string("error: Operation not permitted\n"), r);
        std::unique_ptr<Box> b3;
        CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), ask(b3, "outwrite", {"write", "/out/x", "y"}));
        CPPUNIT_ASSERT_EQUAL(std::string("y"), readFile(b3->outdir + "/x"));
    }

    static FilesystemDef helperDirMount()
    {
        FilesystemDef fs;
        fs.type = FsType::Mount;
        fs.source = test::buildDir() + "/tests";
        fs.target = fs.source;
        fs.readonly = true;
        return fs;
    }

    void containerWithoutRootSharesHostRootReadOnlyWithPrivateTmp()
    {
        // No '/' filesystem: the host root, read-only, tmpfs on /tmp.
        std::string outdir;
        DomainDef d = baseDef("app", {"-o", "/out/answer", "-w", "write", "/etc/lxvirt-probe", "x"}, outdir);
        // The rootfs lives under /tmp, which such a container sees as its own
        // empty tmpfs: run the helper from the build tree, bound at its own
        // path (the build tree itself may be under /tmp too, as in CI).
        d.init = test::buildDir() + "/tests/init";
        d.filesystems.erase(d.filesystems.begin());
        d.filesystems.push_back(helperDirMount());
        auto b = startBox(d, outdir);
        CPPUNIT_ASSERT(waitFor([&] { return exists(outdir + "/answer") || b->reason(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("error: Read-only file system\n"), readFile(outdir + "/answer"));
        CPPUNIT_ASSERT(!exists("/etc/lxvirt-probe"));

        std::string outdir2;
        DomainDef d2 =
            baseDef("apptmp", {"-o", "/out/answer", "-w", "write", "/tmp/lxvirt-probe", "x"}, outdir2);
        d2.init = test::buildDir() + "/tests/init";
        d2.filesystems.erase(d2.filesystems.begin());
        d2.filesystems.push_back(helperDirMount());
        auto b2 = startBox(d2, outdir2);
        CPPUNIT_ASSERT(waitFor([&] { return exists(outdir2 + "/answer") || b2->reason(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), readFile(outdir2 + "/answer"));
        CPPUNIT_ASSERT(!exists("/tmp/lxvirt-probe"));
    }

    void initUserAndGroupAreLookedUpInTheContainer()
    {
        std::unique_ptr<Box> b;
        std::string s = ask(b, "user", {"status"}, [](DomainDef &d) {
            chmod(d.filesystems[1].source.c_str(), 0777);
            d.inituser = "tester";
            d.initgroup = "testers";
        });
        bool uid = false, gid = false;
        for (auto &l : lines(s)) {
            if (l.rfind("Uid:", 0) == 0)
                uid = l.find("1234") != std::string::npos;
            if (l.rfind("Gid:", 0) == 0)
                gid = l.find("1235") != std::string::npos;
        }
        CPPUNIT_ASSERT(uid && gid);
    }

    void initRunsInTheContainersCgroup()
    {
        std::unique_ptr<Box> b;
        std::string s = ask(b, "cg", {"cgroup"});
        std::string rel = b->c->runState().cgroup_path;
        CPPUNIT_ASSERT_EQUAL(world().partition + "/" + cgroup::cgroupNameFor(b->name), rel);
        // v1: the memory hierarchy's line; v2: the unified hierarchy's "0::".
        bool v2 = b->c->cgroup().isV2();
        bool mem = false;
        for (auto &l : lines(s))
            if (l.find(v2 ? "0::" : ":memory:") != std::string::npos)
                mem = l.find(rel) != std::string::npos;
        CPPUNIT_ASSERT_MESSAGE(s, mem);
        auto pids = b->c->cgroup().processes();
        CPPUNIT_ASSERT(std::find(pids.begin(), pids.end(), b->c->runState().init_pid) != pids.end());
        CPPUNIT_ASSERT_EQUAL(uint64_t(256 * 1024), b->c->cgroup().memoryHardLimit());
    }

    void memhogAboveTheHardLimitIsOomKilledAndReportedCrashed()
    {
        std::string outdir;
        DomainDef d = baseDef("oom", {"-o", "/out/answer", "memhog", "256"}, outdir);
        d.mem_hard_limit_kib = 32 * 1024;
        auto b = startBox(d, outdir);
        CPPUNIT_ASSERT(waitFor([&] { return b->reason().has_value(); }, 20000));
        CPPUNIT_ASSERT_EQUAL(std::string("crashed"), std::string(reasonName(*b->reason())));
        CPPUNIT_ASSERT(!exists(outdir + "/answer"));
        b->c.reset();
    }

    void cpusetPinsTheContainer()
    {
        if (std::thread::hardware_concurrency() < 2)
            throw test::Skip("needs two CPUs");
        std::unique_ptr<Box> b;
        std::string s = ask(b, "cpuset", {"status"}, [](DomainDef &d) { d.vcpu_cpuset = "0-1,^0"; });
        bool pinned = false;
        for (auto &l : lines(s))
            if (l.rfind("Cpus_allowed_list:", 0) == 0)
                pinned = l.substr(l.find(':') + 1).find_first_not_of(" \t") != std::string::npos &&
                         l.substr(l.find_first_not_of(" \t", l.find(':') + 1)) == "1";
        CPPUNIT_ASSERT_MESSAGE(s, pinned);
    }

    void cpuQuotaHoldsUsageAtTheQuota()
    {
        std::string outdir;
        DomainDef d = baseDef("quota", {"-o", "/out/answer", "spin"}, outdir);
        d.cpu_period = 100000;
        d.cpu_quota = 20000; // 20% of one CPU
        auto b = startBox(d, outdir);
        CPPUNIT_ASSERT(waitFor([&] { return exists(outdir + "/answer"); }));
        uint64_t u0 = b->c->cgroup().cpuUsageNs();
        auto t0 = std::chrono::steady_clock::now();
        iterate(1000);
        uint64_t used = b->c->cgroup().cpuUsageNs() - u0;
        double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        double share = double(used) / 1e9 / wall;
        CPPUNIT_ASSERT_MESSAGE("cpu share " + std::to_string(share), share <= 0.20 * 1.25);
        CPPUNIT_ASSERT_MESSAGE("cpu share " + std::to_string(share), share > 0.01);
    }

    void suspendFreezesAndResumeThaws()
    {
        std::string outdir;
        DomainDef d = baseDef("freeze", {"count", "/out/count"}, outdir);
        auto b = startBox(d, outdir);
        std::string f = outdir + "/count";
        CPPUNIT_ASSERT(waitFor([&] { return exists(f); }));
        b->c->suspend();
        CPPUNIT_ASSERT(b->c->isPaused());
        std::string v1 = readFile(f);
        iterate(150);
        CPPUNIT_ASSERT_EQUAL(v1, readFile(f));
        b->c->resume();
        CPPUNIT_ASSERT(!b->c->isPaused());
        CPPUNIT_ASSERT(waitFor([&] { return readFile(f) != v1; }, 2000));
        // Destroying a frozen container works too.
        b->c->suspend();
        b->c->destroy(false);
        CPPUNIT_ASSERT_EQUAL(std::string("destroyed"), std::string(reasonName(*b->reason())));
        b->c.reset();
    }

    void destroyLeavesNoProcessCgroupMountLoopDeviceOrFd()
    {
        World &w = world();
        std::string img = w.tmp + "/disk.img";
        bool loop = exists("/dev/loop-control") &&
                    run("truncate -s 8M " + img + " && mkfs.ext4 -q -F " + img + " >/dev/null 2>&1") == 0;
        // Warm up: the GLib main context and the cgroup library open fds once.
        {
            std::unique_ptr<Box> warm;
            ask(warm, "warm", {"pid"});
        }
        // The standby controller's socket and pidfd are the pool's, not the
        // container's: compare without it.
        lxc::Container::dropStandby();
        auto fds_before = fdTargets();
        std::string mounts_before = readFile("/proc/self/mounts");

        std::string outdir;
        DomainDef d = baseDef("gone", {"forkbomb", "20"}, outdir);
        d.initargs = {"-o", "/out/answer", "-w", "forkbomb", "20"};
        FilesystemDef ram;
        ram.type = FsType::Ram;
        ram.ram_usage_kib = 1024;
        ram.target = "/scratch";
        d.filesystems.push_back(ram);
        if (loop) {
            FilesystemDef file;
            file.type = FsType::File;
            file.source = img;
            file.target = "/disk";
            d.filesystems.push_back(file);
        }
        d.filesystems[0].readonly = false;
        run("mkdir -p " + w.rootfs + "/scratch " + w.rootfs + "/disk");
        d.filesystems[0].readonly = true;
        auto b = startBox(d, outdir);
        CPPUNIT_ASSERT(waitFor([&] { return exists(outdir + "/answer"); }));
        CPPUNIT_ASSERT_EQUAL(std::string("forked 20\n"), readFile(outdir + "/answer"));
        lxc::RunState st = b->c->runState();
        auto pids = b->c->cgroup().processes();
        CPPUNIT_ASSERT_EQUAL(size_t(21), pids.size());
        if (loop)
            CPPUNIT_ASSERT(run("losetup -j " + img + " | grep -q loop") == 0);

        b->c->destroy(false);
        CPPUNIT_ASSERT_EQUAL(std::string("destroyed"), std::string(reasonName(*b->reason())));
        for (pid_t p : pids)
            CPPUNIT_ASSERT_MESSAGE("process " + std::to_string(p) + " survived", kill(p, 0) < 0);
        CPPUNIT_ASSERT(kill(st.controller_pid, 0) < 0);
        CPPUNIT_ASSERT(w.cgroupDirs(st.cgroup_path).empty());
        CPPUNIT_ASSERT(!exists(w.paths.run_dir + "/" + b->name + ".sock"));
        CPPUNIT_ASSERT_EQUAL(mounts_before, readFile("/proc/self/mounts"));
        if (loop)
            CPPUNIT_ASSERT_MESSAGE("loop device left", run("losetup -j " + img + " | grep -q loop") != 0);
        b->c.reset();
        lxc::Container::dropStandby();
        CPPUNIT_ASSERT(fds_before == fdTargets());
        if (!loop)
            throw test::Skip("loop devices or mkfs.ext4 unavailable: loop part not checked");
    }

    void gracefulDestroyLetsInitExitOnSigterm()
    {
        std::unique_ptr<Box> b;
        ask(b, "graceful", {"pid"});
        auto t0 = std::chrono::steady_clock::now();
        b->c->destroy(true);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
                      .count();
        CPPUNIT_ASSERT_EQUAL(std::string("destroyed"), std::string(reasonName(*b->reason())));
        CPPUNIT_ASSERT_MESSAGE("init handles SIGTERM, no need to wait: " + std::to_string(ms) + " ms",
                               ms < 2000);
        b->c.reset();
    }

    void shutdownIsReportedAsShutdown()
    {
        std::unique_ptr<Box> b;
        ask(b, "shutdown", {"pid"});
        b->c->shutdown(0);
        CPPUNIT_ASSERT(waitFor([&] { return b->reason().has_value(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("shutdown"), std::string(reasonName(*b->reason())));
        CPPUNIT_ASSERT(world().cgroupDirs(b->c->runState().cgroup_path).empty());
        b->c.reset();
    }

    void rebootInsideTheContainerIsReportedAsReboot()
    {
        std::unique_ptr<Box> b;
        ask(b, "reboot", {"pid"});
        b->c->reboot(0);
        CPPUNIT_ASSERT(waitFor([&] { return b->reason().has_value(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("reboot"), std::string(reasonName(*b->reason())));
        b->c.reset();
    }

    void shutdownAndRebootUseTheInitctlPipeWhenThereIsOne()
    {
        // No pipe: INITCTL alone is refused, the default falls back to SIGTERM.
        std::unique_ptr<Box> none;
        ask(none, "noinitctl", {"pid"});
        CPPUNIT_ASSERT_THROW(none->c->shutdown(VIR_DOMAIN_SHUTDOWN_INITCTL), Error);
        CPPUNIT_ASSERT_THROW(none->c->shutdown(1u << 7), Error);
        none->c->destroy(false);
        none->c.reset();

        std::unique_ptr<Box> b;
        CPPUNIT_ASSERT_EQUAL(std::string("listening\n"), ask(b, "initctl", {"initctl"}));
        b->c->shutdown(VIR_DOMAIN_SHUTDOWN_INITCTL);
        CPPUNIT_ASSERT(waitFor([&] { return b->reason().has_value(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("shutdown"), std::string(reasonName(*b->reason())));
        b->c.reset();

        std::unique_ptr<Box> r;
        ask(r, "initctl6", {"initctl"});
        r->c->reboot(VIR_DOMAIN_REBOOT_INITCTL);
        CPPUNIT_ASSERT(waitFor([&] { return r->reason().has_value(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("reboot"), std::string(reasonName(*r->reason())));
        r->c.reset();
    }

    void nonZeroExitIsReportedAsCrashed()
    {
        std::string outdir;
        auto b = startBox(baseDef("exit3", {"exit", "3"}, outdir), outdir);
        CPPUNIT_ASSERT(waitFor([&] { return b->reason().has_value(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("crashed"), std::string(reasonName(*b->reason())));
        b->c.reset();
        auto b0 = startBox(baseDef("exit0", {"exit", "0"}, outdir), outdir);
        CPPUNIT_ASSERT(waitFor([&] { return b0->reason().has_value(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("shutdown"), std::string(reasonName(*b0->reason())));
        b0->c.reset();
    }

    void reconnectFindsTheContainerAfterTheHandleIsDropped()
    {
        std::unique_ptr<Box> b;
        ask(b, "reconnect", {"pid"});
        lxc::RunState st = b->c->runState();
        b->c.reset();
        iterate(20);
        CPPUNIT_ASSERT(!b->reason().has_value());
        CPPUNIT_ASSERT_EQUAL(0, kill(st.init_pid, 0));
        auto slot = std::make_shared<std::optional<ExitReason>>();
        auto c = Container::reconnect(b->def, st, world().paths, [slot](ExitReason r) { *slot = r; });
        CPPUNIT_ASSERT_EQUAL(st.init_pid, c->runState().init_pid);
        CPPUNIT_ASSERT_EQUAL(st.cgroup_path, c->runState().cgroup_path);
        c->destroy(false);
        CPPUNIT_ASSERT_EQUAL(std::string("destroyed"), std::string(reasonName(**slot)));
        CPPUNIT_ASSERT(kill(st.init_pid, 0) < 0);
        CPPUNIT_ASSERT(world().cgroupDirs(st.cgroup_path).empty());
    }

    void containerSurvivesTheDeathOfTheProcessThatStartedIt()
    {
        // A "daemon" process starts the container and is killed with SIGKILL;
        // a new one (this process) finds the container running.
        std::string outdir;
        DomainDef d = baseDef("daemondeath", {"-o", "/out/answer", "-w", "pid"}, outdir);
        int pfd[2];
        CPPUNIT_ASSERT_EQUAL(0, pipe(pfd));
        pid_t daemon = fork();
        if (daemon == 0) {
            close(pfd[0]);
            try {
                auto c = Container::start(d, world().paths, [](ExitReason) {});
                lxc::RunState st = c->runState();
                long v[2] = {st.controller_pid, st.init_pid};
                (void)!write(pfd[1], v, sizeof v);
            } catch (...) {
            }
            kill(getpid(), SIGKILL);
        }
        close(pfd[1]);
        long v[2] = {0, 0};
        ssize_t n = read(pfd[0], v, sizeof v);
        close(pfd[0]);
        waitpid(daemon, nullptr, 0);
        CPPUNIT_ASSERT_EQUAL(ssize_t(sizeof v), n);
        lxc::RunState st;
        st.controller_pid = pid_t(v[0]);
        st.init_pid = pid_t(v[1]);
        CPPUNIT_ASSERT(waitFor([&] { return exists(outdir + "/answer"); }));
        CPPUNIT_ASSERT_EQUAL(0, kill(st.controller_pid, 0));
        auto slot = std::make_shared<std::optional<ExitReason>>();
        auto c = Container::reconnect(d, st, world().paths, [slot](ExitReason r) { *slot = r; });
        CPPUNIT_ASSERT_EQUAL(st.init_pid, c->runState().init_pid);
        // Events still arrive on this process's main loop.
        c->shutdown(0);
        CPPUNIT_ASSERT(waitFor([&] { return slot->has_value(); }));
        CPPUNIT_ASSERT_EQUAL(std::string("shutdown"), std::string(reasonName(**slot)));
        CPPUNIT_ASSERT(kill(st.controller_pid, 0) < 0 ||
                       readFile("/proc/" + std::to_string(st.controller_pid) + "/status").find("State:\tZ") !=
                           std::string::npos);
        CPPUNIT_ASSERT(world().cgroupDirs(c->runState().cgroup_path).empty());
    }

    void deadControllerIsCleanedUpAndReportedCrashed()
    {
        std::unique_ptr<Box> b;
        ask(b, "ctrldeath", {"pid"});
        lxc::RunState st = b->c->runState();
        b->c.reset();
        kill(st.controller_pid, SIGKILL);
        auto slot = std::make_shared<std::optional<ExitReason>>();
        CPPUNIT_ASSERT(waitFor([&] {
            return !exists("/proc/" + std::to_string(st.controller_pid) + "/status") ||
                   readFile("/proc/" + std::to_string(st.controller_pid) + "/status").find("State:\tZ") !=
                       std::string::npos;
        }));
        CPPUNIT_ASSERT_THROW(
            Container::reconnect(b->def, st, world().paths, [slot](ExitReason r) { *slot = r; }), Error);
        Container::cleanupStale(b->def, st, world().paths);
        waitpid(st.controller_pid, nullptr, WNOHANG);
        CPPUNIT_ASSERT(waitFor([&] { return kill(st.init_pid, 0) < 0; }, 2000));
        CPPUNIT_ASSERT(world().cgroupDirs(st.cgroup_path).empty());
        CPPUNIT_ASSERT(!exists(world().paths.run_dir + "/" + b->name + ".sock"));
    }

    void consoleRelaysOutputAndInput()
    {
        std::string outdir;
        auto b = startBox(baseDef("console", {"console-echo"}, outdir), outdir);
        int fd = b->c->openConsole(0, false);
        CPPUNIT_ASSERT(fd >= 0);
        CPPUNIT_ASSERT_THROW(b->c->openConsole(0, false), Error);
        close(fd);
        iterate(10);
        fd = b->c->openConsole(0, true);
        CPPUNIT_ASSERT_EQUAL(ssize_t(5), write(fd, "ping\n", 5));
        std::string got;
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (got.find("echo: ping") == std::string::npos && std::chrono::steady_clock::now() < until) {
            pollfd p{fd, POLLIN, 0};
            if (poll(&p, 1, 100) > 0) {
                char buf[256];
                ssize_t n = read(fd, buf, sizeof buf);
                if (n <= 0)
                    break;
                got.append(buf, size_t(n));
            }
        }
        CPPUNIT_ASSERT_MESSAGE(got, got.find("echo: ping") != std::string::npos);
        CPPUNIT_ASSERT(waitFor([&] { return b->reason().has_value(); }));
        char c;
        CPPUNIT_ASSERT(read(fd, &c, 1) <= 0); // EOF once the container is gone
        close(fd);
        b->c.reset();
    }

    // The start fails with an internal error whose message holds `fragment`
    // and leaves neither cgroup nor socket behind; returns the message.
    std::string expectStartFailure(const DomainDef &d, const std::string &outdir, const std::string &fragment)
    {
        std::string m;
        try {
            startBox(d, outdir);
            CPPUNIT_FAIL("start succeeded");
        } catch (const Error &e) {
            m = e.what();
            CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INTERNAL_ERROR), e.code());
            CPPUNIT_ASSERT_MESSAGE(m, m.find(fragment) != std::string::npos);
        }
        CPPUNIT_ASSERT(world().cgroupDirs(world().partition + "/" + cgroup::cgroupNameFor(d.name)).empty());
        CPPUNIT_ASSERT(!exists(world().paths.run_dir + "/" + d.name + ".sock"));
        return m;
    }

    void startFailureForMissingInitNamesStepPathAndErrno()
    {
        std::string outdir;
        DomainDef d = baseDef("noinit", {}, outdir);
        d.init = "/sbin/no-such-init";
        std::string m = expectStartFailure(d, outdir, "init '/sbin/no-such-init': No such file or directory");
        CPPUNIT_ASSERT_MESSAGE(m, m.find("starting up") != std::string::npos ||
                                      m.find("start failed") != std::string::npos);
    }

    void startFailureForBadRootNamesStepPathAndErrno()
    {
        std::string outdir;
        DomainDef d = baseDef("badroot", {"pid"}, outdir);
        d.filesystems[0].source = "/nonexistent/lxvirt-root";
        expectStartFailure(d, outdir, "root filesystem '/nonexistent/lxvirt-root': No such file or directory");
    }

    // A memory limit too low for the child to get to exec: it is killed
    // without a report of its own; the start says by whom.
    void startFailureUnderATooLowMemoryLimitNamesTheOomKiller()
    {
        std::string outdir;
        DomainDef d = baseDef("oomstart", {"pid"}, outdir);
        d.mem_hard_limit_kib = 1;
        expectStartFailure(d, outdir, "container child 'killed by the OOM killer before exec: memory limit too low': "
                                      "Cannot allocate memory");
    }

    void secondStartOfARunningNameFailsAndLeavesTheFirstIntact()
    {
        std::unique_ptr<Box> b;
        ask(b, "twice", {"pid"});
        CPPUNIT_ASSERT_THROW(startBox(b->def, b->outdir), Error);
        std::string sock = world().paths.run_dir + "/" + b->name + ".sock";
        CPPUNIT_ASSERT(exists(sock));
        CPPUNIT_ASSERT(!world().cgroupDirs(b->c->runState().cgroup_path).empty());
        CPPUNIT_ASSERT_EQUAL(0, kill(b->c->runState().init_pid, 0));
        lxc::RunState st = b->c->runState();
        b->c.reset();
        auto c = Container::reconnect(b->def, st, world().paths, [](ExitReason) {});
        c->destroy(false);
    }

    void userNamespaceMapsRootToTheIdmapTarget()
    {
        std::unique_ptr<Box> b;
        std::string m;
        try {
            m = ask(b, "userns", {"uidmap"}, [](DomainDef &d) {
                chmod(d.filesystems[1].source.c_str(), 0777);
                d.idmap_uid.push_back({0, 100000, 65536});
                d.idmap_gid.push_back({0, 100000, 65536});
            });
        } catch (const Error &e) {
            CPPUNIT_FAIL(e.what());
        }
        std::istringstream is(m);
        unsigned a = 0, t = 0, n = 0;
        is >> a >> t >> n;
        CPPUNIT_ASSERT_EQUAL(0u, a);
        CPPUNIT_ASSERT_EQUAL(100000u, t);
        CPPUNIT_ASSERT_EQUAL(65536u, n);
    }

    void privnetGivesAPrivateNetworkWithOnlyLoopback()
    {
        std::unique_ptr<Box> b;
        auto l = lines(ask(b, "privnet", {"netdev"}, [](DomainDef &d) { d.privnet = true; }));
        std::set<std::string> ifs;
        for (size_t i = 2; i < l.size(); ++i)
            ifs.insert(l[i].substr(0, l[i].find(':')).substr(l[i].find_first_not_of(' ')));
        CPPUNIT_ASSERT_EQUAL(size_t(1), ifs.size());
        CPPUNIT_ASSERT_EQUAL(std::string("lo"), *ifs.begin());
        std::unique_ptr<Box> host;
        auto hl = lines(ask(host, "hostnet", {"netdev"}));
        CPPUNIT_ASSERT(hl.size() > l.size()); // the host's interfaces show without privnet
    }

    void shareutsByNameJoinsAnotherContainersUtsNamespace()
    {
        std::unique_ptr<Box> first;
        ask(first, "utsowner", {"pid"});
        std::unique_ptr<Box> second;
        std::string other = first->name;
        std::string h = ask(second, "utsguest", {"hostname"}, [&](DomainDef &d) {
            d.share_uts.type = NsShareType::Name;
            d.share_uts.value = other;
        });
        CPPUNIT_ASSERT_EQUAL(other + "\n", h);
    }

    void aStartIsHandedToTheStandbyControllerWhichTakesTheDomainsName()
    {
        requireWorld();
        World &w = world();
        lxc::Container::dropStandby();
        CPPUNIT_ASSERT(standbyChildren().empty());
        std::unique_ptr<Box> a, b;
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(a, "cold", {"pid"}));
        // The first start spawned its controller itself; standbys follow,
        // spawned once the start is over, off the start's path.
        std::string alog = readFile(w.paths.log_dir + "/" + a->name + ".log");
        CPPUNIT_ASSERT_MESSAGE(alog, alog.find("--name " + a->name + " --spec-fd 3") != std::string::npos);
        CPPUNIT_ASSERT(waitFor([] { return standbyChildren().size() == 2; }));
        std::vector<pid_t> before = standbyChildren();

        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(b, "warm", {"pid"}));
        pid_t ctrl = b->c->runState().controller_pid;
        CPPUNIT_ASSERT(std::find(before.begin(), before.end(), ctrl) != before.end());
        std::string blog = readFile(w.paths.log_dir + "/" + b->name + ".log");
        CPPUNIT_ASSERT_MESSAGE(blog, blog.find("standby controller " + std::to_string(ctrl)) != std::string::npos);
        std::string cmd = cmdlineOf(ctrl);
        CPPUNIT_ASSERT_MESSAGE(cmd, cmd.find("lxvirt-controller --zygote-fd 3 --name " + b->name + " ") !=
                                        std::string::npos);
        // The zygote forked it, and stays for the next ones.
        std::vector<pid_t> z = zygotes();
        CPPUNIT_ASSERT_EQUAL(size_t(1), z.size());
        std::vector<pid_t> zkids = childrenOf(z[0]);
        CPPUNIT_ASSERT(std::find(zkids.begin(), zkids.end(), ctrl) != zkids.end());
        // ... and the pool is topped up again with a new one.
        CPPUNIT_ASSERT(waitFor([] { return standbyChildren().size() == 2; }));
        std::vector<pid_t> after = standbyChildren();
        CPPUNIT_ASSERT(std::find(after.begin(), after.end(), ctrl) == after.end());
        // Its log went to the domain's log file, not to /dev/null.
        b->c->destroy(false);
        b->c.reset();
        blog = readFile(w.paths.log_dir + "/" + b->name + ".log");
        CPPUNIT_ASSERT_MESSAGE(blog, blog.find("started ") != std::string::npos);
    }

    void aDeadStandbyIsReplacedByAFreshController()
    {
        requireWorld();
        World &w = world();
        std::unique_ptr<Box> a, b;
        ask(a, "prime", {"pid"});
        CPPUNIT_ASSERT(waitFor([] { return standbyChildren().size() == 2; }));
        std::vector<pid_t> sb = standbyChildren();
        for (pid_t p : sb)
            kill(p, SIGKILL);
        for (pid_t p : sb) // dead: a zombie, or reaped at once by the zygote
            CPPUNIT_ASSERT(waitFor([&] {
                std::string st = readFile("/proc/" + std::to_string(p) + "/stat");
                return st.empty() || st.find(" Z ") != std::string::npos;
            }));
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(b, "after", {"pid"}));
        std::string blog = readFile(w.paths.log_dir + "/" + b->name + ".log");
        CPPUNIT_ASSERT_MESSAGE(blog, blog.find("--name " + b->name + " --spec-fd 3") != std::string::npos);
        // The dead ones were reaped, live ones took their place.
        for (pid_t p : sb)
            CPPUNIT_ASSERT(!exists("/proc/" + std::to_string(p)));
        CPPUNIT_ASSERT(waitFor([] { return standbyChildren().size() == 2; }));
    }

    void aDeadZygoteIsReplacedAndItsStandbysStillServe()
    {
        requireWorld();
        std::unique_ptr<Box> a, b, c;
        ask(a, "zprime", {"pid"});
        CPPUNIT_ASSERT(waitFor([] { return zygotes().size() == 1 && standbyChildren().size() == 2; }));
        pid_t z = zygotes()[0];
        std::vector<pid_t> sb = standbyChildren();
        kill(z, SIGKILL);
        // Its standbys (now orphans) still take starts: they hold their own
        // sockets to us; each start then has a new zygote fork a successor.
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(b, "zafter", {"pid"}));
        CPPUNIT_ASSERT(std::find(sb.begin(), sb.end(), b->c->runState().controller_pid) != sb.end());
        CPPUNIT_ASSERT(waitFor([&] { return zygotes().size() == 1 && zygotes()[0] != z; }));
        CPPUNIT_ASSERT(!exists("/proc/" + std::to_string(z))); // reaped
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(c, "zthird", {"pid"}));
        CPPUNIT_ASSERT(waitFor([] { return standbyChildren().size() == 2; }));
    }

    void aStandbyExitsWhenTheDaemonsEndClosesOrSendsNonsense()
    {
        requireWorld();
        forBothEndings(world().paths.controller_binary, "--monitor-fd", [](pid_t pid, int ours, bool nonsense) {
            // It clones its container child ahead of need.
            std::string kids;
            CPPUNIT_ASSERT(waitFor([&] {
                kids = readFile("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
                return !kids.empty();
            }));
            pid_t child = atoi(kids.c_str());
            CPPUNIT_ASSERT_MESSAGE(nonsense ? "nonsense" : "eof", exitsCleanlyOnEofOrNonsense(pid, ours, nonsense));
            // ... and that child goes with it (no orphan left holding namespaces).
            CPPUNIT_ASSERT_MESSAGE("the standby's child outlived it",
                                   waitFor([&] { return !exists("/proc/" + std::to_string(child)); }, 3000));
        });
    }

    void theZygoteForksStandbysAndExitsWhenTheDaemonsEndClosesOrSendsNonsense()
    {
        requireWorld();
        forBothEndings(world().paths.controller_binary, "--zygote-fd", [](pid_t zpid, int zfd, bool nonsense) {
            // "fork" + the standby's end of its monitor socket -> "pid N" + pidfd.
            int mv[2];
            CPPUNIT_ASSERT(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, mv) == 0);
            CPPUNIT_ASSERT(sendWithFds(zfd, "fork", 4, &mv[1], 1) == 4);
            close(mv[1]);
            char buf[32] = {};
            std::vector<int> got;
            ssize_t n = recvWithFds(zfd, buf, sizeof buf - 1, got);
            CPPUNIT_ASSERT_MESSAGE(buf, n > 4 && strncmp(buf, "pid ", 4) == 0 && got.size() == 1);
            pid_t sb = atoi(buf + 4);
            int pidfd = got[0];
            std::vector<pid_t> zkids = childrenOf(zpid);
            CPPUNIT_ASSERT(std::find(zkids.begin(), zkids.end(), sb) != zkids.end());
            // The standby clones its container child ahead, as an exec'd one does.
            CPPUNIT_ASSERT(waitFor([&] { return !childrenOf(sb).empty(); }));
            pid_t child = childrenOf(sb)[0];
            // Its monitor socket closes: it exits and the zygote reaps it.
            close(mv[0]);
            pollfd p{pidfd, POLLIN, 0};
            CPPUNIT_ASSERT_MESSAGE("the standby outlived its socket", poll(&p, 1, 3000) == 1);
            close(pidfd);
            CPPUNIT_ASSERT(waitFor([&] { return !exists("/proc/" + std::to_string(sb)); }, 3000));
            CPPUNIT_ASSERT(waitFor([&] { return !exists("/proc/" + std::to_string(child)); }, 3000));
            CPPUNIT_ASSERT_MESSAGE(nonsense ? "nonsense" : "eof", exitsCleanlyOnEofOrNonsense(zpid, zfd, nonsense));
        });
    }

    void theChildAStandbyClonedAheadBecomesInit()
    {
        requireWorld();
        std::unique_ptr<Box> a, b;
        ask(a, "pf", {"pid"});
        CPPUNIT_ASSERT(waitFor([] { return standbyChildren().size() == 2 && preforkedChildren().size() == 2; }));
        std::set<pid_t> ahead = preforkedChildren();
        for (pid_t p : ahead) {
            // Its namespaces exist already, and nothing of the user's runs in them.
            CPPUNIT_ASSERT(nsOf(p, "pid") != nsOf(0, "pid") && !nsOf(p, "pid").empty());
            CPPUNIT_ASSERT(nsOf(p, "mnt") != nsOf(0, "mnt"));
            CPPUNIT_ASSERT(cmdlineOf(p).find("lxvirt-controller") != std::string::npos);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("1\n"), ask(b, "pf", {"pid"}));
        CPPUNIT_ASSERT_MESSAGE("init was not one of the children cloned ahead",
                               ahead.count(b->c->runState().init_pid) == 1);
    }

    void aMountMadeAfterTheStandbyClonedItsChildIsSeenByTheContainer()
    {
        requireWorld();
        World &w = world();
        std::unique_ptr<Box> a, b;
        ask(a, "pm", {"pid"});
        // A private mount: nothing mounted below it propagates into the
        // namespaces the standbys cloned before.
        std::string priv = w.tmp + "/pfmnt", src = priv + "/src";
        mkdir(priv.c_str(), 0755);
        CPPUNIT_ASSERT(run("mount -t tmpfs pfmnt " + priv + " && mount --make-private " + priv + " && mkdir " + src) ==
                       0);
        struct Unmount { // whatever the outcome, nothing stays mounted
            std::string src, priv;
            ~Unmount() { umount2(src.c_str(), MNT_DETACH), umount2(priv.c_str(), MNT_DETACH); }
        } unmount{src, priv};
        iterate(400); // the standbys renew their children once the table is quiet
        CPPUNIT_ASSERT(waitFor([] { return preforkedChildren().size() == 2; }));
        std::set<pid_t> before = preforkedChildren();
        CPPUNIT_ASSERT(run("mount -t tmpfs pfsrc " + src + " && echo hi > " + src + "/marker") == 0);
        // At once, before any standby could notice.
        std::string answer = ask(b, "pm", {"open", "/data/marker"}, [&](DomainDef &d) {
            FilesystemDef f;
            f.type = FsType::Mount;
            f.source = src;
            f.target = "/data";
            d.filesystems.push_back(f);
        });
        pid_t init = b->c->runState().init_pid;
        b.reset();
        std::string um = w.tmp + "/pf-umount.log";
        // (A destroyed container's last references may take a moment to go.)
        int urc = 1;
        for (int i = 0; i < 20 && urc != 0; ++i) {
            if (i)
                iterate(100);
            urc = run("(! mountpoint -q " + src + " || umount " + src + ") >" + um + " 2>&1 && umount " + priv +
                      " >>" + um + " 2>&1");
        }
        if (urc != 0) {
            std::string why = readFile(um);
            run("umount -l " + src + "; umount -l " + priv);
            CPPUNIT_FAIL("cannot unmount the test's file systems: " + why);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("ok\n"), answer);
        CPPUNIT_ASSERT_MESSAGE("a stale pre-cloned child was used", before.count(init) == 0);
        // The stale ones are replaced.
        CPPUNIT_ASSERT(waitFor([&] {
            std::set<pid_t> now = preforkedChildren();
            return now.size() == 2 && std::none_of(now.begin(), now.end(), [&](pid_t p) { return before.count(p); });
        }));
        // And no waiting namespace keeps the unmounted file systems alive.
        CPPUNIT_ASSERT_MESSAGE("a namespace still holds the unmounted tmpfs", waitFor([] {
            for (pid_t p : preforkedChildren())
                if (readFile("/proc/" + std::to_string(p) + "/mountinfo").find(" pfsrc ") != std::string::npos ||
                    readFile("/proc/" + std::to_string(p) + "/mountinfo").find(" pfmnt ") != std::string::npos)
                    return false;
            return true;
        }));
    }

    void startAndDestroyLatencyAndControllerPss()
    {
        const int runs = 20;
        std::map<std::string, std::vector<long>> steps;
        std::vector<long> total, destroy;
        std::vector<std::unique_ptr<Box>> keep;
        for (int i = 0; i < runs; ++i) {
            std::string outdir;
            DomainDef d = baseDef("lat", {"sleep"}, outdir);
            d.filesystems.pop_back();
            auto b = startBox(d, outdir);
            for (auto &[k, v] : b->timings.steps)
                steps[k].push_back(v);
            total.push_back(b->timings.total_us);
            keep.push_back(std::move(b));
        }
        long pss = 0;
        for (auto &b : keep) {
            std::string s =
                readFile("/proc/" + std::to_string(b->c->runState().controller_pid) + "/smaps_rollup");
            for (auto &l : lines(s))
                if (l.rfind("Pss:", 0) == 0)
                    pss = std::max(pss, std::stol(l.substr(4)));
        }
        for (auto &b : keep) {
            auto t0 = std::chrono::steady_clock::now();
            b->c->destroy(false);
            destroy.push_back(long(
                std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
                    .count()));
            b->c.reset();
        }
        auto p50 = [](std::vector<long> v) {
            std::sort(v.begin(), v.end());
            return v.empty() ? 0 : v[v.size() / 2];
        };
        auto least = [](const std::vector<long> &v) {
            return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
        };
        std::string report =
            "start p50/min " + std::to_string(p50(total)) + "/" + std::to_string(least(total)) + " us (";
        for (auto &[k, v] : steps)
            report += k + " " + std::to_string(p50(v)) + "/" + std::to_string(least(v)) + " ";
        report += "), destroy p50/min " + std::to_string(p50(destroy)) + "/" +
                  std::to_string(least(destroy)) + " us, controller PSS max " + std::to_string(pss) +
                  " KiB with " + std::to_string(runs) + " running";
        fprintf(stdout, "# %s\n", report.c_str());
        fflush(stdout);
        CPPUNIT_ASSERT(p50(total) > 0);
        // "go" when the child a standby cloned ahead was used, else "clone".
        CPPUNIT_ASSERT(!steps["clone"].empty() || !steps["go"].empty());
        CPPUNIT_ASSERT(pss > 0);
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(ContainerTest);

// Pure parts of the runtime: no root needed.
class SpecTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SpecTest);
    CPPUNIT_TEST(specSurvivesEncodeAndDecode);
    CPPUNIT_TEST(specDecoderRejectsUnknownKeysAndBadNumbers);
    CPPUNIT_TEST(cpusetSyntaxIsNormalisedForTheKernel);
    CPPUNIT_TEST(badCpusetIsRejectedNamingTheField);
    CPPUNIT_TEST(specCarriesLimitsFilesystemsAndTheInitEnvironment);
    CPPUNIT_TEST(templateFilesystemsAreRejected);
    CPPUNIT_TEST(interfacesAreRefusedRatherThanSilentlyDropped);
    CPPUNIT_TEST(securityLabelsTravelInTheSpecOnlyWhenConfined);
    CPPUNIT_TEST_SUITE_END();

public:
    void specSurvivesEncodeAndDecode()
    {
        controller::Spec s;
        s.name = "web";
        s.mem_hard_kib = 1024;
        s.cpu_quota = -1;
        s.args = {"a b", "", "c\nd"};
        s.env = {"A=1", "B="};
        controller::FsSpec f;
        f.kind = controller::FsKind::Ram;
        f.target = "/tmp";
        f.size_kib = 77;
        s.filesystems = {f};
        controller::DeviceSpec d;
        d.type = 'b';
        d.major = 8;
        d.minor = -1;
        s.devices = {d};
        controller::Spec t = controller::decodeSpec(controller::encodeSpec(s));
        CPPUNIT_ASSERT_EQUAL(s.name, t.name);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1024), t.mem_hard_kib);
        CPPUNIT_ASSERT_EQUAL(int64_t(-1), t.cpu_quota);
        CPPUNIT_ASSERT(s.args == t.args);
        CPPUNIT_ASSERT(s.env == t.env);
        CPPUNIT_ASSERT_EQUAL(size_t(1), t.filesystems.size());
        CPPUNIT_ASSERT(t.filesystems[0].kind == controller::FsKind::Ram);
        CPPUNIT_ASSERT_EQUAL(uint64_t(77), t.filesystems[0].size_kib);
        CPPUNIT_ASSERT_EQUAL('b', t.devices.at(0).type);
        CPPUNIT_ASSERT_EQUAL(-1L, t.devices.at(0).minor);
    }

    void securityLabelsTravelInTheSpecOnlyWhenConfined()
    {
        controller::Spec s;
        s.name = "web";
        std::string plain = controller::encodeSpec(s);
        CPPUNIT_ASSERT(plain.find("exec_label") == std::string::npos);
        CPPUNIT_ASSERT(plain.find("mount_context") == std::string::npos);
        s.exec_label = "system_u:system_r:svirt_lxc_net_t:s0:c1,c2";
        s.exec_label_fatal = true;
        s.mount_context = "context=\"system_u:object_r:svirt_sandbox_file_t:s0:c1,c2\"";
        controller::Spec t = controller::decodeSpec(controller::encodeSpec(s));
        CPPUNIT_ASSERT_EQUAL(s.exec_label, t.exec_label);
        CPPUNIT_ASSERT(t.exec_label_fatal);
        CPPUNIT_ASSERT_EQUAL(s.mount_context, t.mount_context);
        s.exec_label_fatal = false;
        CPPUNIT_ASSERT(!controller::decodeSpec(controller::encodeSpec(s)).exec_label_fatal);
    }

    void specDecoderRejectsUnknownKeysAndBadNumbers()
    {
        using namespace std::string_literals;
        CPPUNIT_ASSERT_THROW(controller::decodeSpec("bogus\0x\0"s), std::runtime_error);
        CPPUNIT_ASSERT_THROW(controller::decodeSpec("mem_hard\012k\0"s), std::runtime_error);
        CPPUNIT_ASSERT_THROW(controller::decodeSpec("fs.source\0/x\0"s), std::runtime_error);
        CPPUNIT_ASSERT_THROW(controller::decodeSpec("name\0"s), std::runtime_error);
    }

    void cpusetSyntaxIsNormalisedForTheKernel()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("0-1,3,8"), lxc::normalizeCpuset("0-3,^2,8", "vcpu cpuset"));
        CPPUNIT_ASSERT_EQUAL(std::string("1"), lxc::normalizeCpuset("0-1,^0", "vcpu cpuset"));
        CPPUNIT_ASSERT_EQUAL(std::string("0,2-4"), lxc::normalizeCpuset(" 4, 3 ,2,0", "vcpu cpuset"));
    }

    void badCpusetIsRejectedNamingTheField()
    {
        for (const char *bad : {"3-1", "", "a", "0,^0", "1,,2"}) {
            try {
                lxc::normalizeCpuset(bad, "vcpu cpuset");
                CPPUNIT_FAIL(std::string("accepted '") + bad + "'");
            } catch (const Error &e) {
                CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_INVALID_ARG), e.code());
                CPPUNIT_ASSERT(std::string(e.what()).find("vcpu cpuset") != std::string::npos);
            }
        }
    }

    void specCarriesLimitsFilesystemsAndTheInitEnvironment()
    {
        DomainDef d;
        d.name = "web";
        d.uuid = uuidGenerate();
        d.memory_kib = 65536;
        d.mem_hard_limit_kib = 32768;
        d.vcpu_cpuset = "0-1,^0";
        FilesystemDef data;
        data.type = FsType::Mount;
        data.source = "/srv/data";
        data.target = "/data";
        FilesystemDef root;
        root.source = "/srv/root";
        root.target = "/";
        root.readonly = true;
        d.filesystems = {data, root};
        d.initenv = {{"FOO", "bar"}};
        lxc::Paths p;
        p.run_dir = "/run/x";
        controller::Spec s = lxc::buildSpec(d, p);
        CPPUNIT_ASSERT_EQUAL(uint64_t(32768), s.mem_hard_kib);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), s.cpuset_cpus);
        CPPUNIT_ASSERT_EQUAL(std::string("/machine"), s.partition);
        CPPUNIT_ASSERT_EQUAL(std::string("/sbin/init"), s.init);
        CPPUNIT_ASSERT_EQUAL(std::string("/"), s.filesystems.at(0).target); // the root goes first
        CPPUNIT_ASSERT(s.filesystems.at(0).readonly);
        CPPUNIT_ASSERT_EQUAL(std::string("/data"), s.filesystems.at(1).target);
        CPPUNIT_ASSERT_EQUAL(std::string("PATH=/bin:/sbin"), s.env.at(0));
        CPPUNIT_ASSERT_EQUAL(std::string("FOO=bar"), s.env.back());
        CPPUNIT_ASSERT(!s.netns && !s.userns);
    }

    void templateFilesystemsAreRejected()
    {
        DomainDef d;
        d.name = "web";
        FilesystemDef t;
        t.type = FsType::Template;
        t.source = "x";
        t.target = "/x";
        d.filesystems = {t};
        try {
            lxc::buildSpec(d, lxc::Paths{});
            CPPUNIT_FAIL("template accepted");
        } catch (const Error &e) {
            CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_CONFIG_UNSUPPORTED), e.code());
            CPPUNIT_ASSERT(std::string(e.what()).find("/x") != std::string::npos);
        }
    }

    void interfacesAreRefusedRatherThanSilentlyDropped()
    {
        DomainDef d;
        d.name = "web";
        InterfaceDef nic;
        nic.mac = "52:54:00:12:34:56";
        d.interfaces = {nic};
        try {
            lxc::buildSpec(d, lxc::Paths{});
            CPPUNIT_FAIL("interface accepted");
        } catch (const Error &e) {
            CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_CONFIG_UNSUPPORTED), e.code());
            CPPUNIT_ASSERT(std::string(e.what()).find("52:54:00:12:34:56") != std::string::npos);
        }
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(SpecTest);
