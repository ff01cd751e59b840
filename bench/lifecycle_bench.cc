// Container lifecycle benchmark through the LXC driver API (issue 5 "Numbers"):
//   [TMPDIR=DIR] bench/lifecycle_bench [-n SAMPLES] [-m MANY] [--controller PATH]
// Runs as root. Builds a busybox rootfs in a temp dir whose init writes
// /ready/NAME (a writable bind mount watched from the host with inotify) and
// then waits; the containers live under a private cgroup partition
// /lxvirt-bench-PID, and everything is torn down at the end.
//
// Two "create" figures are printed because they answer different questions:
//   create->return  the driver's createXml() returning: Container::start
//                   returns once the controller reports init exec'd;
//   create->ready   init's ready file seen through inotify: the container
//                   really runs user code (includes busybox sh start-up).
#include "driver/lxc/driver_internal.h"

#include <glib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <map>
#include <poll.h>
#include <set>
#include <signal.h>
#include <string>
#include <sys/inotify.h>
#include <spawn.h>
#include <sys/stat.h>
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

std::string controllerNextToUs(const char *argv0)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, size_t(n)) : std::string(argv0);
    dir.resize(dir.rfind('/'));                   // .../bench
    dir.resize(dir.rfind('/'));                   // build dir
    return dir + "/driver/controller/lxvirt-controller";
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

// Our controllers: lxvirt-controller processes whose parent is this process
// (not the standby that waits for the next start).
std::vector<pid_t> ourControllers()
{
    std::vector<pid_t> out;
    DIR *d = opendir("/proc");
    while (dirent *e = readdir(d)) {
        pid_t pid = atoi(e->d_name);
        if (pid <= 0)
            continue;
        std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
        std::string line;
        std::getline(st, line);
        size_t rp = line.rfind(')');
        if (rp == std::string::npos || line.find("(lxvirt-control") == std::string::npos)
            continue;
        char state;
        int ppid = 0;
        if (sscanf(line.c_str() + rp + 1, " %c %d", &state, &ppid) != 2 || ppid != getpid())
            continue;
        // The standby (spawned ahead of the next start) has a blank --name.
        std::ifstream cl("/proc/" + std::to_string(pid) + "/cmdline");
        std::string cmd((std::istreambuf_iterator<char>(cl)), std::istreambuf_iterator<char>());
        size_t at = cmd.find(std::string("--name\0", 7));
        bool standby = at != std::string::npos && cmd.find_first_not_of(std::string(" \0", 2), at + 7) ==
                                                       std::string::npos;
        if (!standby)
            out.push_back(pid);
    }
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
           "<os><type>exe</type><init>/sbin/benchinit</init></os>"
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

volatile sig_atomic_t g_stop = 0;

} // namespace

int main(int argc, char **argv)
{
    int samples = 30, many = 100;
    std::string controller;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "-n" && i + 1 < argc)
            samples = atoi(argv[++i]);
        else if (a == "-m" && i + 1 < argc)
            many = atoi(argv[++i]);
        else if (a == "--controller" && i + 1 < argc)
            controller = argv[++i];
        else {
            fprintf(stderr, "usage: %s [-n SAMPLES] [-m MANY] [--controller PATH]\n", argv[0]);
            return 2;
        }
    }
    if (geteuid() != 0) {
        printf("lifecycle_bench: SKIPPED (needs root: namespaces, cgroups, mounts)\n");
        return 77;
    }
    if (controller.empty())
        controller = controllerNextToUs(argv[0]);
    if (access(controller.c_str(), X_OK) != 0 || access("/bin/busybox", X_OK) != 0) {
        printf("lifecycle_bench: SKIPPED (need %s and /bin/busybox from busybox-static)\n", controller.c_str());
        return 77;
    }
    signal(SIGINT, [](int) { g_stop = 1; });
    signal(SIGTERM, [](int) { g_stop = 1; });

    // TMPDIR picks the file system of the run/log/config dirs (e.g. a tmpfs,
    // as /run usually is) so its fsync cost can be compared.
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
    sh("set -e; d=" + rootfs + "; mkdir -p $d/bin $d/sbin $d/proc $d/sys $d/dev $d/tmp $d/run $d/ready " + ready +
       "; cp /bin/busybox $d/bin/; for a in sh sleep; do ln -s busybox $d/bin/$a; done;"
       "printf '#!/bin/sh\\ntrap \"exit 0\" TERM\\n: > /ready/$LIBVIRT_LXC_NAME\\n"
       "while :; do sleep 100000 & wait $!; done\\n' > $d/sbin/benchinit; chmod 755 $d/sbin/benchinit");

    DriverConfig cfg;
    cfg.config_dir = tmp + "/etc";
    cfg.paths.run_dir = tmp + "/run";
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

    for (int i = 0; i < samples && !g_stop; ++i) {
        if (startOne(true))
            destroyLast(&t_destroy);
        else if (!running.empty())
            destroyLast(nullptr);
    }

    // 100 sequential starts: createXml calls back to back, then until every
    // ready file is seen.
    double many_calls = 0, many_ready = 0;
    int many_ok = 0;
    std::vector<double> each; // per start of the batch, in order
    std::map<std::string, std::vector<double>> batch_steps;
    std::vector<long> pss;
    if (!g_stop) {
        std::vector<std::string> names;
        auto t0 = Clock::now();
        for (int i = 0; i < many && !g_stop; ++i) {
            std::string name = "bench" + std::to_string(getpid()) + "-" + std::to_string(++counter);
            try {
                auto ts = Clock::now();
                running.emplace_back(name, drv->createXml(domainXml(name, rootfs, ready, partition), 0));
                each.push_back(msSince(ts));
                for (auto &[k, v] : last.steps)
                    batch_steps[k].push_back(double(v) / 1000.0);
                names.push_back(name);
            } catch (const std::exception &e) {
                fprintf(stderr, "start %s failed: %s\n", name.c_str(), e.what());
                ++failures;
            }
        }
        many_calls = msSince(t0);
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
    }
    while (!running.empty())
        destroyLast(nullptr);
    drv.reset();
    pump();

    // Cleanup: partition cgroups, temp dir.
    int leftovers = 0;
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
    sh("rm -rf " + tmp);

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
    if (each.size() >= 20) {
        // Does a start get slower as more containers run?
        size_t k = each.size() / 10;
        std::vector<double> first(each.begin(), each.begin() + long(k)), last(each.end() - long(k), each.end());
        printf("%-34s p50 %.2f ms with 0-%zu running, %.2f ms with %zu-%zu running\n", "  ... each start",
               pct(first, 50), k - 1, pct(last, 50), each.size() - k, each.size() - 1);
        std::string line;
        for (auto &k : step_order)
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
