// Container lifecycle benchmark through the LXC driver API (issue 5 "Numbers"):
//   [TMPDIR=DIR] bench/lifecycle_bench [-n SAMPLES] [-m MANY] [--controller PATH]
// Runs as root. Builds a rootfs in a temp dir whose init is the static test
// helper (tests/init, ~800 KiB): it writes its hostname to /ready/NAME (a
// writable bind mount watched from the host with inotify) and then sleeps, as
// the peers' payload (busybox sleep) does; the containers live under a private
// cgroup partition /lxvirt-bench-PID, and everything is torn down at the end.
//
// The kernel floor is measured in the same run (see Floor below): the
// minimum any container start does on this machine, so that the targets
// (set on a machine where it costs 1.9 ms) can be read as ratios here.
//
// Two "create" figures are printed because they answer different questions:
//   create->return  the driver's createXml() returning: Container::start
//                   returns once the controller reports init exec'd;
//   create->ready   init's ready file seen through inotify: the container
//                   really runs user code.
#include "driver/lxc/driver_internal.h"

#include <glib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <utility>
#include <poll.h>
#include <set>
#include <signal.h>
#include <string>
#include <sched.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

using namespace lxvirt;
using namespace lxvirt::lxc;

namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double pct(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    size_t i = size_t(p / 100.0 * double(v.size() - 1) + 0.5);
    return v[std::min(i, v.size() - 1)];
}

int sh(const std::string &cmd) { return std::system(cmd.c_str()); }

void pump()
{
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
}

// Waits for IN_CREATE of any name in `want` inside the watched ready dir.
class ReadyWatch {
public:
    explicit ReadyWatch(const std::string &dir)
    {
        fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd_ < 0 || inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO) < 0) {
            perror("inotify");
            std::exit(1);
        }
    }
    ~ReadyWatch() { close(fd_); }
    // Returns false on timeout. Names seen early are remembered.
    bool wait(const std::string &name, int timeout_ms)
    {
        auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
        while (!seen_.count(name)) {
            int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count());
            if (left <= 0)
                return false;
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, std::min(left, 50)) > 0)
                drain();
            pump();
        }
        return true;
    }
    void drain()
    {
        alignas(inotify_event) char buf[8192];
        ssize_t n;
        while ((n = read(fd_, buf, sizeof buf)) > 0)
            for (char *p = buf; p < buf + n;) {
                auto *e = reinterpret_cast<inotify_event *>(p);
                if (e->len)
                    seen_.insert(e->name);
                p += sizeof(inotify_event) + e->len;
            }
    }

private:
    int fd_ = -1;
    std::set<std::string> seen_;
};

// A file of the build dir this benchmark was built in.
std::string nextToUs(const char *argv0, const std::string &rel)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, size_t(n)) : std::string(argv0);
    dir.resize(dir.rfind('/'));                   // .../bench
    dir.resize(dir.rfind('/'));                   // build dir
    return dir + "/" + rel;
}

// Pss of /proc/PID/smaps_rollup in KiB (0 when unreadable).
long pssKib(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/smaps_rollup");
    std::string k;
    long v;
    while (in >> k) {
        if (k == "Pss:" && in >> v)
            return v;
    }
    return 0;
}

// Our controllers: lxvirt-controller processes running one of this run's
// domains (--name benchPID-N); not the standbys, not the zygote.
std::vector<pid_t> ourControllers()
{
    std::vector<pid_t> out;
    std::string mark = std::string("--name\0bench", 12) + std::to_string(getpid()) + "-";
    DIR *d = opendir("/proc");
    while (dirent *e = d ? readdir(d) : nullptr) {
        pid_t pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        std::ifstream cl("/proc/" + std::to_string(pid) + "/cmdline");
        std::string cmd((std::istreambuf_iterator<char>(cl)), std::istreambuf_iterator<char>());
        if (cmd.find("lxvirt-controller") != std::string::npos && cmd.find(mark) != std::string::npos)
            out.push_back(pid);
    }
    if (d)
        closedir(d);
    return out;
}

std::string domainXml(const std::string &name, const std::string &rootfs, const std::string &ready,
                      const std::string &partition)
{
    return "<domain type='lxc'><name>" + name +
           "</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
           "<resource><partition>" +
           partition +
           "</partition></resource>"
           "<os><type>exe</type><init>/sbin/init</init><initarg>-o</initarg><initarg>/ready/" +
           name + "</initarg><initarg>-w</initarg><initarg>hostname</initarg></os>"
           "<devices><filesystem type='mount'><source dir='" +
           rootfs +
           "'/><target dir='/'/><readonly/></filesystem>"
           "<filesystem type='mount'><source dir='" +
           ready + "'/><target dir='/ready'/></filesystem><console type='pty'/></devices></domain>";
}

// The machine's own process start-up cost in this run (posix_spawn +
// waitpid of /bin/true): the yardstick for reading the "spawn" step and the
// totals on a loaded host.
double spawnTrueMs()
{
    std::vector<double> v;
    char arg0[] = "true";
    char *args[] = {arg0, nullptr};
    for (int i = 0; i < 20; ++i) {
        auto t0 = Clock::now();
        pid_t pid;
        if (posix_spawn(&pid, "/bin/true", nullptr, nullptr, args, environ) != 0)
            return 0;
        int st;
        waitpid(pid, &st, 0);
        v.push_back(msSince(t0));
    }
    return pct(v, 50);
}

// The kernel floor of one start, measured here in the same run: what any
// container start must do at least, with no library and no supervisor (the
// recipe of the peers' floor.c, written anew): a cgroup in the v1 memory,
// cpu and pids hierarchies with a memory limit; clone(PID|NS|UTS|IPC) (the
// namespaces the benchmark's domains get); attach; in the child rprivate /,
// bind the rootfs, pivot_root, mount /proc, detach the old root, set the
// hostname and exec the same payload. A start ends when the payload has
// exec'd (a close-on-exec pipe reaches EOF), as createXml() returns then.
class Floor {
public:
    // `ready`: bound on ROOTFS/ready in the container, as the domains have it,
    // so that the payload can say it runs.
    Floor(std::string cgroot, std::string partition, std::string rootfs, std::string ready)
        : root_(std::move(cgroot)), part_(std::move(partition)), rootfs_(std::move(rootfs)),
          ready_(std::move(ready)), ready_target_(rootfs_ + "/ready")
    {
        for (const char *c : {"memory", "cpu", "pids"}) {
            std::string d = root_ + "/" + c;
            struct stat sb;
            if (stat((d + "/cgroup.procs").c_str(), &sb) == 0 && mkdir((d + part_).c_str(), 0755) == 0)
                ctrls_.push_back(c);
        }
        live_ = ctrls_;
    }
    ~Floor() { remove(); }
    // Stops what runs and removes the partition: the number of cgroup
    // directories that could not be removed.
    int remove()
    {
        stopAll();
        int left = 0;
        for (auto &c : std::exchange(live_, {}))
            if (rmdir((root_ + "/" + c + part_).c_str()) != 0 && errno != ENOENT) {
                fprintf(stderr, "cannot remove %s: %s\n", (root_ + "/" + c + part_).c_str(), strerror(errno));
                ++left;
            }
        return left;
    }
    const std::vector<std::string> &controllers() const { return ctrls_; }

    // Starts one container; false (with a message) when a step failed.
    bool start(const std::string &name)
    {
        int release[2], done[2];
        if (pipe2(release, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0)
            return fail("pipe", errno);
        for (auto &c : ctrls_) {
            std::string d = root_ + "/" + c + part_ + "/" + name;
            if (mkdir(d.c_str(), 0755) < 0)
                return fail(d.c_str(), errno);
            if (c == "memory")
                writeFile(d + "/memory.limit_in_bytes", "67108864");
        }
        std::string ready_file = "/ready/" + name;
        Child ch{this, name.c_str(), ready_file.data(), release[0], done[1]};
        static constexpr size_t kStack = 64 << 10;
        void *stack = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        pid_t pid = clone(childMain, static_cast<char *>(stack) + kStack,
                          CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD, &ch);
        int err = errno;
        munmap(stack, kStack);
        close(release[0]);
        close(done[1]);
        if (pid < 0) {
            close(release[1]);
            close(done[0]);
            return fail("clone", err);
        }
        running_.emplace_back(pid, name);
        for (auto &c : ctrls_)
            writeFile(root_ + "/" + c + part_ + "/" + name + "/cgroup.procs", std::to_string(pid));
        char go = 1;
        (void)!write(release[1], &go, 1);
        close(release[1]);
        int child_err = 0;
        ssize_t n = read(done[0], &child_err, sizeof child_err);
        close(done[0]);
        if (n != 0)
            return fail("child step", n == ssize_t(sizeof child_err) ? child_err : EPROTO);
        return true;
    }
    void stopAll()
    {
        for (auto &[pid, name] : running_) {
            kill(pid, SIGKILL);
            waitpid(pid, nullptr, 0);
            for (auto &c : ctrls_)
                rmdir((root_ + "/" + c + part_ + "/" + name).c_str());
        }
        running_.clear();
    }

private:
    struct Child {
        Floor *self;
        const char *name;
        char *ready_file; // /ready/NAME
        int release, done;
    };
    static int childMain(void *arg)
    {
        auto *c = static_cast<Child *>(arg);
        char go;
        if (read(c->release, &go, 1) != 1)
            _exit(1);
        const char *root = c->self->rootfs_.c_str();
        auto check = [c](bool ok) {
            if (!ok) {
                int e = errno;
                (void)!write(c->done, &e, sizeof e);
                _exit(1);
            }
        };
        check(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
        check(mount(root, root, nullptr, MS_BIND | MS_REC, nullptr) == 0);
        check(mount(c->self->ready_.c_str(), c->self->ready_target_.c_str(), nullptr, MS_BIND, nullptr) == 0);
        check(chdir(root) == 0);
        check(syscall(SYS_pivot_root, ".", ".") == 0);
        check(umount2(".", MNT_DETACH) == 0);
        check(chdir("/") == 0);
        check(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) == 0);
        check(sethostname(c->name, strlen(c->name)) == 0);
        char a0[] = "init", a1[] = "-o", a3[] = "-w", a4[] = "hostname";
        char *argv[] = {a0, a1, c->ready_file, a3, a4, nullptr};
        char *envp[] = {nullptr};
        execve("/sbin/init", argv, envp);
        check(false);
        return 1;
    }
    static void writeFile(const std::string &path, const std::string &v)
    {
        int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!write(fd, v.data(), v.size());
            close(fd);
        }
    }
    bool fail(const char *what, int err)
    {
        fprintf(stderr, "floor: %s: %s\n", what, strerror(err));
        return false;
    }

    std::string root_, part_, rootfs_, ready_, ready_target_;
    std::vector<std::string> ctrls_, live_; // live_: partitions not removed yet
    std::vector<std::pair<pid_t, std::string>> running_;
};

// CPU time used by the whole machine so far, in ms (/proc/stat, all CPUs,
// everything but idle and iowait): the batch figures are CPU-bound on a small
// machine, so what a start costs in total matters as much as its latency.
double machineBusyMs()
{
    std::ifstream st("/proc/stat");
    std::string cpu;
    unsigned long long v[10] = {};
    st >> cpu;
    for (auto &x : v)
        st >> x;
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return double(busy) * 1000.0 / double(sysconf(_SC_CLK_TCK));
}

volatile sig_atomic_t g_stop = 0;

} // namespace

int main(int argc, char **argv)
{
    int samples = 30, many = 100;
    std::string controller, init;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-n" && i + 1 < argc)
            samples = atoi(argv[++i]);
        else if (a == "-m" && i + 1 < argc)
            many = atoi(argv[++i]);
        else if (a == "--controller" && i + 1 < argc)
            controller = argv[++i];
        else if (a == "--init" && i + 1 < argc)
            init = argv[++i];
        else {
            fprintf(stderr, "usage: %s [-n SAMPLES] [-m MANY] [--controller PATH] [--init PATH]\n", argv[0]);
            return 2;
        }
    }
    if (geteuid() != 0) {
        printf("lifecycle_bench: SKIPPED (needs root: namespaces, cgroups, mounts)\n");
        return 77;
    }
    if (controller.empty())
        controller = nextToUs(argv[0], "driver/controller/lxvirt-controller");
    if (init.empty())
        init = nextToUs(argv[0], "tests/init");
    if (access(controller.c_str(), X_OK) != 0 || access(init.c_str(), X_OK) != 0) {
        printf("lifecycle_bench: SKIPPED (need %s and %s: make %s tests/init)\n", controller.c_str(), init.c_str(),
               "driver/controller/lxvirt-controller");
        return 77;
    }
    signal(SIGINT, [](int) { g_stop = 1; });
    signal(SIGTERM, [](int) { g_stop = 1; });

    // TMPDIR picks the file system of the log and config dirs (disk, as
    // /var/log and /etc are); the run dir (state files, monitor sockets) is
    // under /run, a tmpfs, as the daemon's /run/lxvirt is.
    const char *tmpdir = getenv("TMPDIR");
    std::string tmpl = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/lxvirt-bench-XXXXXX";
    std::vector<char> t(tmpl.begin(), tmpl.end());
    t.push_back('\0');
    if (!mkdtemp(t.data())) {
        perror("mkdtemp");
        return 1;
    }
    std::string tmp = t.data(), rootfs = tmp + "/rootfs", ready = tmp + "/ready";
    chmod(t.data(), 0755);
    std::string partition = "/lxvirt-bench-" + std::to_string(getpid());
    sh("set -e; d=" + rootfs + "; mkdir -p $d/sbin $d/proc $d/sys $d/dev $d/tmp $d/run $d/ready " + ready +
       "; cp " + init + " $d/sbin/init");

    DriverConfig cfg;
    cfg.config_dir = tmp + "/etc";
    std::string run_dir = "/run/lxvirt-bench-" + std::to_string(getpid());
    cfg.paths.run_dir = run_dir;
    cfg.paths.log_dir = tmp + "/log";
    cfg.paths.controller_binary = controller;
    cfg.cgroup_partition = partition;
    cfg.run_autostart = false;
    mkdir(cfg.config_dir.c_str(), 0700);

    // The real runtime, with Container::start's per-step timings captured.
    StartTimings last;
    Runtime rt = realRuntime(cfg);
    rt.start = [&last](const DomainDef &def, const Paths &paths, Container::ExitCallback cb) {
        return Container::start(def, paths, std::move(cb), &last);
    };
    auto drv = createDriverWith(cfg, rt);
    ReadyWatch watch(ready);

    printf("lifecycle_bench: %s, controller %s, partition %s, samples %d, many %d\n", tmp.c_str(),
           controller.c_str(), partition.c_str(), samples, many);
    {
        std::ifstream la("/proc/loadavg");
        std::string l;
        std::getline(la, l);
        printf("load average at start: %s\n", l.c_str());
    }

    std::vector<double> t_ret, t_ready, t_destroy, t_destroy_many;
    std::map<std::string, std::vector<double>> steps;
    std::vector<std::string> step_order;
    std::vector<std::pair<std::string, DomainRef>> running;
    int counter = 0;
    int failures = 0;
    auto startOne = [&](bool record) -> bool {
        std::string name = "bench" + std::to_string(getpid()) + "-" + std::to_string(++counter);
        std::string xml = domainXml(name, rootfs, ready, partition);
        auto t0 = Clock::now();
        DomainRef ref;
        try {
            ref = drv->createXml(xml, 0);
        } catch (const std::exception &e) {
            fprintf(stderr, "start %s failed: %s\n", name.c_str(), e.what());
            ++failures;
            return false;
        }
        double r = msSince(t0);
        running.emplace_back(name, ref);
        if (!watch.wait(name, 10000)) {
            fprintf(stderr, "%s: no ready file after 10 s\n", name.c_str());
            ++failures;
            return false;
        }
        double rd = msSince(t0);
        if (record) {
            t_ret.push_back(r);
            t_ready.push_back(rd);
            for (auto &[k, v] : last.steps) {
                if (!steps.count(k))
                    step_order.push_back(k);
                steps[k].push_back(double(v) / 1000.0);
            }
            steps["(total in start)"].push_back(double(last.total_us) / 1000.0);
        }
        return true;
    };
    auto destroyLast = [&](std::vector<double> *into) {
        auto [name, ref] = running.back();
        running.pop_back();
        auto t0 = Clock::now();
        try {
            drv->destroy(ref, 0);
        } catch (const std::exception &e) {
            fprintf(stderr, "destroy %s failed: %s\n", name.c_str(), e.what());
            ++failures;
        }
        if (into)
            into->push_back(msSince(t0));
        unlink((ready + "/" + name).c_str());
        pump();
    };

    // Warm-up (page cache, first cgroup creation of the partition).
    if (startOne(false))
        destroyLast(nullptr);

    // The floor's cgroups go under their own partition next to ours.
    Floor floor(cfg.paths.cgroup_root, partition + "-floor", rootfs, ready);
    std::vector<double> floor_start, floor_ready;
    int floor_counter = 0;
    auto floorOne = [&](bool wait_ready) {
        std::string name = "floor" + std::to_string(++floor_counter);
        auto t0 = Clock::now();
        bool ok = floor.start(name);
        double ms = msSince(t0);
        if (ok)
            floor_start.push_back(ms);
        else
            ++failures;
        if (ok && wait_ready) {
            if (watch.wait(name, 10000))
                floor_ready.push_back(msSince(t0));
            else
                ++failures;
        }
        unlink((ready + "/" + name).c_str());
        return ok;
    };
    floorOne(true); // warm-up
    floor.stopAll();
    floor_start.clear();
    floor_ready.clear();

    // Samples interleave lxvirt and the floor so that load affects both.
    for (int i = 0; i < samples && !g_stop; ++i) {
        if (startOne(true))
            destroyLast(&t_destroy);
        else if (!running.empty())
            destroyLast(nullptr);
        floorOne(true);
        floor.stopAll();
    }

    // 100 sequential starts: createXml calls back to back, then until every
    // ready file is seen.
    double many_calls = 0, many_ready = 0, many_cpu = 0;
    int many_ok = 0;
    std::vector<double> each; // per start of the batch, in order
    std::map<std::string, std::vector<double>> batch_steps;
    std::vector<long> pss;
    // The floor's batch, before and after ours.
    std::vector<double> floor_batch, floor_cpu;
    auto floorBatch = [&]() {
        double c0 = machineBusyMs();
        auto t0 = Clock::now();
        int ok = 0;
        for (int i = 0; i < many && !g_stop; ++i)
            ok += floorOne(false) ? 1 : 0;
        double ms = msSince(t0);
        double cpu = machineBusyMs() - c0;
        floor.stopAll();
        if (ok == many) {
            floor_batch.push_back(ms);
            floor_cpu.push_back(cpu / many);
        }
    };
    size_t floor_singles = floor_start.size();
    floorBatch();
    if (!g_stop) {
        std::vector<std::string> names;
        double c0 = machineBusyMs();
        auto t0 = Clock::now();
        for (int i = 0; i < many && !g_stop; ++i) {
            std::string name = "bench" + std::to_string(getpid()) + "-" + std::to_string(++counter);
            try {
                auto ts = Clock::now();
                running.emplace_back(name, drv->createXml(domainXml(name, rootfs, ready, partition), 0));
                each.push_back(msSince(ts));
                for (auto &[k, v] : last.steps)
                    batch_steps[k].push_back(double(v) / 1000.0);
                batch_steps["(total in start)"].push_back(double(last.total_us) / 1000.0);
                if (getenv("BENCH_DUMP")) {
                    for (auto &[k, v] : last.steps)
                        fprintf(stderr, "%s=%.2f ", k.c_str(), double(v) / 1000.0);
                    fprintf(stderr, "total=%.2f\n", double(last.total_us) / 1000.0);
                }
                names.push_back(name);
            } catch (const std::exception &e) {
                fprintf(stderr, "start %s failed: %s\n", name.c_str(), e.what());
                ++failures;
            }
        }
        many_calls = msSince(t0);
        many_cpu = (machineBusyMs() - c0) / std::max(1, int(names.size()));
        for (auto &n : names)
            if (watch.wait(n, 20000))
                ++many_ok;
        many_ready = msSince(t0);
        pump();
        usleep(300000); // let the controllers settle (lazy page faults done)
        for (pid_t p : ourControllers())
            pss.push_back(pssKib(p));
        while (!running.empty())
            destroyLast(&t_destroy_many);
        floorBatch();
    }
    floor_start.resize(floor_singles);
    while (!running.empty())
        destroyLast(nullptr);
    drv.reset();
    pump();

    // Cleanup: partition cgroups, temp dir.
    int leftovers = floor.remove();
    for (const char *ctl : {"blkio", "cpu", "cpuacct", "cpu,cpuacct", "cpuset", "devices", "freezer", "memory",
                            "net_cls", "net_prio", "net_cls,net_prio", "perf_event", "pids", "hugetlb", "rdma",
                            "misc", "systemd", "unified"}) {
        std::string p = cfg.paths.cgroup_root + "/" + ctl + partition;
        struct stat sb;
        if (stat(p.c_str(), &sb) == 0 && rmdir(p.c_str()) != 0) {
            fprintf(stderr, "cannot remove %s: %s\n", p.c_str(), strerror(errno));
            ++leftovers;
        }
    }
    if (sh("grep -q ' " + tmp + "/' /proc/mounts") == 0) {
        fprintf(stderr, "mounts left under %s\n", tmp.c_str());
        ++leftovers;
    }
    sh("rm -rf " + tmp + " " + run_dir);

    auto row = [](const char *what, const std::vector<double> &v, const char *target) {
        printf("%-34s p50 %8.2f  p90 %8.2f  min %8.2f  max %8.2f ms  (n=%zu)  %s\n", what, pct(v, 50), pct(v, 90),
               v.empty() ? 0 : *std::min_element(v.begin(), v.end()),
               v.empty() ? 0 : *std::max_element(v.begin(), v.end()), v.size(), target);
    };
    printf("\nmachine yardstick: posix_spawn+wait of /bin/true p50 %.2f ms\n",
           spawnTrueMs());
    printf("\n== lifecycle through the LXC driver API (createXml / destroy) ==\n");
    row("create -> start call returned", t_ret, "(returns after init exec'd)");
    row("create -> init running (ready)", t_ready, "target p50 <= 4 ms; libvirt 38 ms");
    row("destroy (1 running)", t_destroy, "target p50 <= 5 ms; libvirt 202 ms");
    row(("destroy (of " + std::to_string(many) + " running)").c_str(), t_destroy_many, "");
    printf("%-34s calls %.1f ms, all %d ready %.1f ms   target <= 400 ms\n",
           (std::to_string(many) + " sequential starts").c_str(), many_calls, many_ok, many_ready);
    std::string ctl_list;
    for (auto &c : floor.controllers())
        ctl_list += (ctl_list.empty() ? "" : ",") + c;
    printf("\n== kernel floor, same run: cgroup v1 %s + memory limit, clone(PID|NS|UTS|IPC), rprivate, bind, "
           "pivot_root, /proc, exec ==\n", ctl_list.empty() ? "(none)" : ctl_list.c_str());
    row("floor: start -> payload exec'd", floor_start, "");
    row("floor: start -> payload running", floor_ready, "(ready file seen)");
    std::string fb;
    for (double v : floor_batch)
        fb += (fb.empty() ? "" : ", ") + std::to_string(int(v + 0.5)) + " ms";
    double fb_mean = 0;
    for (double v : floor_batch)
        fb_mean += v / double(floor_batch.size());
    printf("%-34s %s (before and after lxvirt's)\n",
           ("floor: " + std::to_string(many) + " sequential starts").c_str(), fb.c_str());
    if (!floor_start.empty() && !t_ret.empty() && fb_mean > 0 && many_calls > 0) {
        printf("\n== lxvirt / floor (the issue's targets were set where the floor is 1.9 ms a start and 0.1 s "
               "for 50: 4 ms = 2.1x, 0.4 s for 100 = 2.0x) ==\n");
        printf("%-34s %.2fx  (%.2f / %.2f ms)\n", "start call returned, p50", pct(t_ret, 50) / pct(floor_start, 50),
               pct(t_ret, 50), pct(floor_start, 50));
        if (!floor_ready.empty() && !t_ready.empty())
            printf("%-34s %.2fx  (%.2f / %.2f ms)\n", "init running (ready), p50",
                   pct(t_ready, 50) / pct(floor_ready, 50), pct(t_ready, 50), pct(floor_ready, 50));
        printf("%-34s %.2fx  (%.0f / %.0f ms)\n", (std::to_string(many) + " sequential starts").c_str(),
               many_calls / fb_mean, many_calls, fb_mean);
        double fc = 0;
        for (double v : floor_cpu)
            fc += v / double(floor_cpu.size());
        printf("%-34s %.2fx  (%.2f / %.2f ms of CPU, all processes, %ld CPUs)\n", "  ... CPU per start in the batch",
               many_cpu / fc, many_cpu, fc, sysconf(_SC_NPROCESSORS_ONLN));
    }
    if (each.size() >= 20) {
        // Does a start get slower as more containers run?
        size_t k = each.size() / 10;
        std::vector<double> first(each.begin(), each.begin() + long(k)), last(each.end() - long(k), each.end());
        printf("%-34s p50 %.2f ms with 0-%zu running, %.2f ms with %zu-%zu running\n", "  ... each start",
               pct(first, 50), k - 1, pct(last, 50), each.size() - k, each.size() - 1);
        std::string line;
        auto order = step_order;
        order.push_back("(total in start)");
        for (auto &k : order)
            if (batch_steps.count(k)) {
                char b[64];
                snprintf(b, sizeof b, " %s %.2f", k.c_str(), pct(batch_steps[k], 50));
                line += b;
            }
        printf("%-34s p50 ms:%s\n", "  ... steps in the batch", line.c_str());
    }
    if (!pss.empty()) {
        std::vector<double> d(pss.begin(), pss.end());
        double sum = 0;
        for (double x : d)
            sum += x;
        printf("%-34s %zu controllers: mean %.0f KiB, p50 %.0f, max %.0f KiB   target <= 256 KiB; "
               "libvirt_lxc 2529 KiB\n",
               "controller PSS with many running", d.size(), sum / double(d.size()), pct(d, 50), pct(d, 100));
    }
    printf("\n== per-step start breakdown (Container::start StartTimings, ms) ==\n");
    step_order.push_back("(total in start)");
    for (auto &k : step_order)
        printf("  %-22s p50 %7.3f  p90 %7.3f\n", k.c_str(), pct(steps[k], 50), pct(steps[k], 90));
    printf("\nfailures %d, leftovers %d\n", failures, leftovers);
    return failures || leftovers ? 1 : 0;
}
