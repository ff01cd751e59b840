// lxvirt-controller: one per running container. Creates the cgroup, clones
// the container child, reports the start result to the daemon, then
// supervises init (pidfd), relays the consoles and serves NAME.sock until
// init exits; finally kills what is left, removes the cgroup and exits.
//
//   lxvirt-controller --name NAME --spec-fd N --monitor-fd N [--t0 NS]
//   lxvirt-controller --monitor-fd N --name PADDING          (a standby)
//   lxvirt-controller --zygote-fd N --name PADDING           (forks standbys)
#include "driver/cgroup/cgroup.h"
#include "driver/container/child.h"
#include "driver/controller/controller.h"
#include "driver/controller/spec.h"
#include "driver/fdio.h"
#include "driver/security/security_manager.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/loop.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>

using namespace lxvirt;
using namespace lxvirt::controller;
using container::ChildMsg;
using container::MsgType;
using container::Stamp;
using container::Step;

namespace {

// A start step failed: reported as "failed ERRNO\tSTEP\tPATH".
struct StartError {
    int err;
    std::string step;
    std::string path;
};

[[noreturn]] void startFail(int err, const std::string &step, const std::string &path)
{
    throw StartError{err, step, path};
}

int64_t nowNs()
{
    return container::monotonicNs();
}

void logLine(const std::string &s)
{
    std::string line = s + "\n";
    (void)!write(2, line.data(), line.size());
}

// The capability named in the XML (libvirt's names: "sys_admin"), -1 if
// there is no such capability.
int capNumber(const std::string &name)
{
    return capng_name_to_capability(name.c_str());
}

// The host kernel's highest capability number, read once; a standby warms
// it before it is assigned a domain.
int hostLastCap()
{
    static int last = [] {
        std::string v = readWholeFile("/proc/sys/kernel/cap_last_cap");
        int n = v.empty() ? -1 : atoi(v.c_str());
        return n > 0 && n < 64 ? n : int(CAP_LAST_CAP);
    }();
    return last;
}

// libvirt's default policy: drop sys_module, sys_time, mknod, audit_control
// and mac_admin unless turned on (sys_boot stays: since Linux 3.4 reboot(2)
// in a pid namespace only ends that namespace, which is how libvirt decides
// too); deny = drop all but "on"; allow = drop only "off".
uint64_t capDropMask(const Spec &s)
{
    int last = hostLastCap();
    uint64_t all = last >= 63 ? ~uint64_t(0) : ((uint64_t(1) << (last + 1)) - 1);
    uint64_t drop = 0;
    if (s.cap_policy == "deny")
        drop = all;
    else if (s.cap_policy == "default")
        for (const char *n : {"sys_module", "sys_time", "mknod", "audit_control", "mac_admin"})
            drop |= uint64_t(1) << capNumber(n);
    for (const std::string &t : s.caps) {
        size_t eq = t.find('=');
        std::string name = t.substr(0, eq);
        bool on = eq != std::string::npos && t.substr(eq + 1) == "on";
        int n = capNumber(name);
        if (n < 0 || n > last)
            startFail(EINVAL, "capabilities", name);
        if (on)
            drop &= ~(uint64_t(1) << n);
        else
            drop |= uint64_t(1) << n;
    }
    return drop & all;
}

// ---------------------------------------------------------------- state

struct Client {
    Fd fd;
};

// A container child cloned by a standby controller ahead of need: its
// namespaces exist, and it waits for kGo, then runs childMain() with the
// config the controller wrote into `arena`, a shared mapping both see at the
// same address. Taken when the domain needs exactly these namespaces.
constexpr int kPreforkFlags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC;
constexpr size_t kArenaSize = 1 << 20;

struct PreforkSlot {
    int sync_fd;                   // the child's end of the sync socket
    container::ChildConfig *cfg;   // in the arena, set before kGo
};

struct Prefork {
    pid_t pid = 0;
    Fd pidfd;
    Fd sync;                // our end
    int child_sync = -1;    // the child's fd number for its end
    void *arena = nullptr;  // PreforkSlot, then the config
    Fd mountinfo;           // POLLPRI: the mount table changed since the clone
};

struct Controller {
    Prefork prefork;
    Spec spec;
    std::string sock_path;
    Fd listen_fd;
    Fd daemon_fd; // the connection the daemon started us with
    std::vector<Client> clients;
    std::unique_ptr<cgroup::Cgroup> cg;
    pid_t init_pid = 0;
    Fd init_pidfd;
    std::vector<std::unique_ptr<ConsoleRelay>> consoles;
    std::vector<Fd> loops;
    Fd sigfd;
    bool destroyed = false;
    bool shutdown_requested = false;
    bool done = false;

    ~Controller()
    {
        if (!sock_path.empty())
            unlink(sock_path.c_str());
        if (prefork.pid > 0) // a start that failed before using it
            syscall(SYS_pidfd_send_signal, prefork.pidfd.get(), SIGKILL, nullptr, 0);
    }
};

// Kills every task still in the cgroup and removes it; a frozen cgroup is
// thawed so SIGKILL can be delivered.
void teardownCgroup(Controller &c)
{
    if (!c.cg)
        return;
    for (int i = 0; i < 2000; ++i) {
        try {
            if (c.cg->isFrozen())
                c.cg->thaw();
        } catch (const std::exception &) {
        }
        int n = 0;
        try {
            n = c.cg->killAll(SIGKILL);
        } catch (const std::exception &e) {
            logLine(std::string("cgroup kill: ") + e.what());
        }
        if (n == 0) {
            try {
                c.cg->remove();
                c.cg.reset();
                return;
            } catch (const std::exception &e) {
                if (i == 1999)
                    logLine(std::string("cgroup remove: ") + e.what());
            }
        }
        usleep(500);
    }
    c.cg.reset();
}

// ---------------------------------------------------------------- start

Fd makeListenSocket(Controller &c)
{
    c.sock_path = c.spec.run_dir + "/" + c.spec.name + ".sock";
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (c.sock_path.size() >= sizeof sa.sun_path)
        startFail(ENAMETOOLONG, "monitor socket", c.sock_path);
    memcpy(sa.sun_path, c.sock_path.c_str(), c.sock_path.size() + 1);
    Fd s;
    int err = 0;
    {
        // sVirt: the socket carries the container's label (its MCS pair), as
        // libvirt's controller socket does; the thread's setting is dropped
        // again before any other socket is made.
        std::unique_ptr<security::ScopedSocketCreateLabel> label;
        try {
            label = std::make_unique<security::ScopedSocketCreateLabel>(c.spec.exec_label,
                                                                        c.spec.exec_label_fatal);
        } catch (const std::exception &e) {
            startFail(0, "monitor socket label", e.what());
        }
        if (label->error())
            logLine("monitor socket keeps the default label: cannot set " + c.spec.exec_label + ": " +
                    strerror(label->error()));
        s = Fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        err = errno;
    }
    if (!s)
        startFail(err, "monitor socket", c.sock_path);
    unlink(c.sock_path.c_str());
    mode_t old = umask(0077);
    int r = bind(s.get(), reinterpret_cast<sockaddr *>(&sa), sizeof sa);
    umask(old);
    if (r < 0 || listen(s.get(), 8) < 0) {
        int e = errno;
        std::string p = c.sock_path;
        c.sock_path.clear();
        startFail(e, "monitor socket", p);
    }
    return s;
}

void applyLimits(Controller &c)
{
    const Spec &s = c.spec;
    cgroup::Cgroup &g = *c.cg;
    if (s.mem_hard_kib)
        g.setMemoryHardLimit(s.mem_hard_kib);
    if (s.mem_soft_kib)
        g.setMemorySoftLimit(s.mem_soft_kib);
    if (s.mem_swap_kib)
        g.setMemorySwapHardLimit(s.mem_swap_kib);
    if (s.cpu_shares)
        g.setCpuShares(s.cpu_shares);
    if (s.cpu_period || s.cpu_quota)
        g.setCpuPeriodQuota(s.cpu_period ? s.cpu_period : 100000, s.cpu_quota ? s.cpu_quota : -1);
    if (!s.cpuset_cpus.empty())
        g.setCpusetCpus(s.cpuset_cpus);
    if (!s.cpuset_mems.empty())
        g.setCpusetMems(s.cpuset_mems);
    if (s.blkio_weight)
        g.setBlkioWeight(s.blkio_weight);
    for (const std::string &d : s.blkio_devices) {
        char majmin[64];
        long long w, rb, wb, ri, wi;
        if (sscanf(d.c_str(), "%63s %lld %lld %lld %lld %lld", majmin, &w, &rb, &wb, &ri, &wi) != 6)
            throw std::runtime_error("bad blkio device '" + d + "'");
        if (w >= 0)
            g.setBlkioDeviceWeight(majmin, unsigned(w));
        auto opt = [](long long v) { return v >= 0 ? std::optional<uint64_t>(v) : std::nullopt; };
        if (rb >= 0 || wb >= 0 || ri >= 0 || wi >= 0)
            g.setBlkioThrottle(majmin, opt(rb), opt(wb), opt(ri), opt(wi));
    }
}

std::vector<cgroup::DeviceRule> deviceRules(const Controller &c, const std::vector<dev_t> &blocks,
                                            const std::vector<bool> &blocks_ro)
{
    std::vector<cgroup::DeviceRule> r = {{'c', 1, 3, "rwm"}, {'c', 1, 5, "rwm"},    {'c', 1, 7, "rwm"},
                                         {'c', 1, 8, "rwm"}, {'c', 1, 9, "rwm"},    {'c', 5, 0, "rwm"},
                                         {'c', 5, 2, "rwm"}, {'c', 10, 229, "rwm"}, {'c', 136, -1, "rwm"}};
    for (const DeviceSpec &d : c.spec.devices)
        r.push_back({d.type, d.major, d.minor, d.access});
    for (size_t i = 0; i < blocks.size(); ++i)
        r.push_back({'b', long(major(blocks[i])), long(minor(blocks[i])), blocks_ro[i] ? "r" : "rw"});
    return r;
}

// A file filesystem becomes a loop device that disappears with its last
// mount (autoclear), so nothing outlives the container.
std::string attachLoop(Controller &c, const FsSpec &f)
{
    Fd file(open(f.source.c_str(), (f.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC));
    if (!file)
        startFail(errno, "loop device", f.source);
    Fd ctl(open("/dev/loop-control", O_RDWR | O_CLOEXEC));
    if (!ctl)
        startFail(errno, "loop device", "/dev/loop-control");
    for (int attempt = 0; attempt < 32; ++attempt) {
        int n = ioctl(ctl.get(), LOOP_CTL_GET_FREE);
        if (n < 0)
            startFail(errno, "loop device", "/dev/loop-control");
        std::string dev = "/dev/loop" + std::to_string(n);
        Fd lo(open(dev.c_str(), (f.readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC));
        if (!lo)
            startFail(errno, "loop device", dev);
        loop_config lc{};
        lc.fd = unsigned(file.get());
        lc.info.lo_flags = LO_FLAGS_AUTOCLEAR | (f.readonly ? LO_FLAGS_READ_ONLY : 0);
        if (ioctl(lo.get(), LOOP_CONFIGURE, &lc) == 0) {
            c.loops.push_back(std::move(lo));
            return dev;
        }
        if (errno != EBUSY)
            startFail(errno, "loop device", dev);
    }
    startFail(EBUSY, "loop device", f.source);
}

std::vector<std::string> blockFsTypes()
{
    std::vector<std::string> out;
    FILE *f = fopen("/proc/filesystems", "re");
    if (!f)
        return out;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "nodev", 5) == 0)
            continue;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            ++p;
        p[strcspn(p, "\n")] = '\0';
        if (*p)
            out.push_back(p);
    }
    fclose(f);
    return out;
}

void writeIdMap(pid_t pid, const char *file, const std::vector<std::string> &lines)
{
    std::string text;
    for (const std::string &l : lines)
        text += l + "\n";
    std::string path = "/proc/" + std::to_string(pid) + "/" + file;
    Fd f(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!f || write(f.get(), text.data(), text.size()) != ssize_t(text.size()))
        startFail(errno, "idmap", path);
}

void joinShared(const std::string &path, int nstype, const char *what)
{
    if (path.empty())
        return;
    Fd f(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!f || setns(f.get(), nstype) < 0)
        startFail(errno, std::string("join ") + what + " namespace", path);
}

struct Timings {
    std::vector<std::pair<std::string, long>> steps;
    void add(const char *name, int64_t from, int64_t to)
    {
        steps.emplace_back(name, long((to - from) / 1000));
    }
};

// Receives one child message (and fds); 0 on EOF.
ssize_t recvChild(int fd, ChildMsg &m, std::vector<Fd> &fds)
{
    std::vector<int> got;
    ssize_t n = recvWithFds(fd, &m, sizeof m, got);
    for (int f : got)
        fds.emplace_back(f);
    return n;
}

constexpr size_t kChildStack = 256 * 1024;

int preforkMain(void *arg)
{
    auto *slot = static_cast<PreforkSlot *>(arg);
    // Everything the controller had open stays with it: a copy held here
    // (its end of our socket, its monitor socket) would keep both waiting
    // for an EOF that never comes once the controller is gone.
    int keep = slot->sync_fd;
    if ((keep > 3 && close_range(3, unsigned(keep - 1), 0) < 0) || close_range(unsigned(keep + 1), ~0U, 0) < 0)
        _exit(1);
    // While waiting, the child dies with the standby; as init it will not.
    // (A standby gone before this line shows as EOF below: getppid() says
    // nothing here, the parent is outside our pid namespace.)
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
        _exit(1);
    char ch = 0;
    ssize_t n;
    do {
        n = read(slot->sync_fd, &ch, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1 || ch != container::kGo)
        _exit(0); // the standby was dropped or went stale
    prctl(PR_SET_PDEATHSIG, 0);
    return container::childMain(slot->cfg);
}

// Clones the standby's container child. False (and no child) on failure:
// the start then clones one itself.
bool startPrefork(Controller &c)
{
    Prefork &p = c.prefork;
    if (!p.arena) {
        void *a = mmap(nullptr, kArenaSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
                       -1, 0);
        if (a == MAP_FAILED)
            return false;
        p.arena = a;
    }
    // Opened before the clone: a mount made after it shows as POLLPRI.
    p.mountinfo = Fd(open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC));
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
        return false;
    Fd mine(sv[0]), theirs(sv[1]);
    auto *slot = static_cast<PreforkSlot *>(p.arena);
    slot->sync_fd = theirs.get();
    slot->cfg = nullptr;
    void *stack = mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED)
        return false;
    int pidfd = -1;
    pid_t pid = clone(preforkMain, static_cast<char *>(stack) + kChildStack,
                      kPreforkFlags | CLONE_PIDFD | SIGCHLD, slot, &pidfd);
    munmap(stack, kChildStack);
    if (pid < 0)
        return false;
    p.pid = pid;
    p.pidfd = Fd(pidfd);
    p.sync = std::move(mine);
    p.child_sync = theirs.get();
    return true;
}

void endPrefork(Controller &c)
{
    Prefork &p = c.prefork;
    if (p.pid > 0) {
        syscall(SYS_pidfd_send_signal, p.pidfd.get(), SIGKILL, nullptr, 0);
        siginfo_t si{};
        waitid(P_PIDFD, id_t(p.pidfd.get()), &si, WEXITED);
    }
    p.pid = 0;
    p.pidfd.reset();
    p.sync.reset();
    p.child_sync = -1;
}

// Alive, and cloned from the mount table as it still is.
bool preforkFresh(Controller &c)
{
    Prefork &p = c.prefork;
    if (p.pid <= 0)
        return false;
    pollfd f[2] = {{p.pidfd.get(), POLLIN, 0}, {p.mountinfo.get(), POLLPRI, 0}};
    if (poll(f, 2, 0) < 0)
        return false;
    return !f[0].revents && !(f[1].revents & (POLLPRI | POLLERR));
}

// Bump allocation in the prefork arena; the child reads what is put here.
class Arena {
public:
    Arena(void *base, size_t size) : p_(static_cast<char *>(base)), end_(p_ + size) {}
    void *alloc(size_t n, size_t align)
    {
        uintptr_t a = (reinterpret_cast<uintptr_t>(p_) + align - 1) & ~(uintptr_t(align) - 1);
        if (a + n > reinterpret_cast<uintptr_t>(end_))
            startFail(E2BIG, "child config", "larger than the prefork arena");
        p_ = reinterpret_cast<char *>(a + n);
        return reinterpret_cast<void *>(a);
    }
    const char *str(const char *s)
    {
        if (!s)
            return nullptr;
        size_t n = strlen(s) + 1;
        char *d = static_cast<char *>(alloc(n, 1));
        memcpy(d, s, n);
        return d;
    }
    template <class T> T *array(size_t n) { return static_cast<T *>(alloc(sizeof(T) * (n ? n : 1), alignof(T))); }
    char **strv(const char *const *v)
    {
        size_t n = 0;
        while (v && v[n])
            ++n;
        char **out = array<char *>(n + 1);
        for (size_t i = 0; i < n; ++i)
            out[i] = const_cast<char *>(str(v[i]));
        out[n] = nullptr;
        return out;
    }

private:
    char *p_;
    char *end_;
};

// A deep copy of `src` in the arena: every string and array it points to.
container::ChildConfig *copyConfig(const container::ChildConfig &src, Arena &a)
{
    auto *c = new (a.alloc(sizeof src, alignof(container::ChildConfig))) container::ChildConfig(src);
    for (const char **f : {&c->stage, &c->hostname, &c->root_source, &c->run_dir, &c->init, &c->initdir,
                           &c->inituser, &c->initgroup, &c->exec_label, &c->dev_data, &c->devpts_data,
                           &c->devpts_data_nogid, &c->shm_data, &c->tmp_data, &c->run_data, &c->ram_root_data})
        *f = a.str(*f);
    auto *m = a.array<container::ChildMount>(src.nmounts);
    for (size_t i = 0; i < src.nmounts; ++i) {
        m[i] = src.mounts[i];
        m[i].source = a.str(m[i].source);
        m[i].target = a.str(m[i].target);
        m[i].data = a.str(m[i].data);
    }
    c->mounts = m;
    auto *d = a.array<container::ChildDevice>(src.ndevices);
    for (size_t i = 0; i < src.ndevices; ++i) {
        d[i] = src.devices[i];
        d[i].path = a.str(d[i].path);
    }
    c->devices = d;
    c->fstypes = a.strv(src.fstypes);
    c->argv = a.strv(src.argv);
    c->envp = a.strv(src.envp);
    return c;
}

// Throws the child's own failure if it has already reported one.
void reportChildFailure(int sync_fd)
{
    for (;;) {
        pollfd p{sync_fd, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0)
            return;
        ChildMsg m{};
        std::vector<Fd> fds;
        if (recvChild(sync_fd, m, fds) != ssize_t(sizeof m))
            return;
        if (m.type == MsgType::Failed) {
            m.path[sizeof m.path - 1] = '\0';
            startFail(m.err, container::stepName(Step(m.step)), m.path);
        }
    }
}

// The child is gone without a report of its own: killed (most often by
// the OOM killer of the memory limit it was just put under) or exited. Says
// how it ended; its exit status stays for the teardown to reap.
[[noreturn]] void childGone(Controller &c, int sync_err)
{
    pollfd p{c.init_pidfd.get(), POLLIN, 0};
    poll(&p, 1, 1000); // its end of the socket is closed: it is dying
    siginfo_t si{};
    if (waitid(P_PIDFD, id_t(c.init_pidfd.get()), &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid != 0) {
        if (si.si_code == CLD_KILLED || si.si_code == CLD_DUMPED) {
            uint64_t ooms = 0;
            try {
                if (c.cg)
                    ooms = c.cg->oomKillCount();
            } catch (const std::exception &) {
            }
            if (ooms > 0)
                startFail(ENOMEM, "container child", "killed by the OOM killer before exec: memory limit too low");
            startFail(0, "container child",
                      std::string("killed by signal ") + std::to_string(si.si_status) + " (" +
                          strsignal(si.si_status) + ") before exec");
        }
        startFail(0, "container child", "exited with status " + std::to_string(si.si_status) + " before exec");
    }
    startFail(sync_err ? sync_err : ECHILD, "container child", "gone before exec");
}

std::string startContainer(Controller &c, int64_t t0, int64_t tmain)
{
    Timings tm;
    if (t0)
        tm.add("spawn", t0, tmain);
    const Spec &s = c.spec;

    int64_t tprep = nowNs();
    tm.add("setup", tmain, tprep);

    // Everything the child needs, allocated before clone(). The file system
    // types a block device may hold are only needed when there is one.
    bool any_block = std::any_of(s.filesystems.begin(), s.filesystems.end(),
                                 [](const FsSpec &f) { return f.kind == FsKind::Block || f.kind == FsKind::File; });
    std::vector<std::string> fstypes_s = any_block ? blockFsTypes() : std::vector<std::string>();
    std::vector<const char *> fstypes;
    for (auto &t : fstypes_s)
        fstypes.push_back(t.c_str());
    fstypes.push_back(nullptr);

    container::ChildConfig cfg;
    std::vector<std::string> sources;
    sources.reserve(s.filesystems.size());
    std::vector<std::string> ramdata;
    ramdata.reserve(s.filesystems.size());
    std::vector<container::ChildMount> mounts;
    std::vector<dev_t> blocks;
    std::vector<bool> blocks_ro;
    for (const FsSpec &f : s.filesystems) {
        container::MountKind kind = container::MountKind::Mount;
        std::string src = f.source;
        switch (f.kind) {
        case FsKind::Mount:
            kind = container::MountKind::Mount;
            break;
        case FsKind::Bind:
            kind = container::MountKind::Bind;
            break;
        case FsKind::Ram:
            kind = container::MountKind::Ram;
            break;
        case FsKind::Block:
            kind = container::MountKind::Block;
            break;
        case FsKind::File:
            kind = container::MountKind::Block;
            src = attachLoop(c, f);
            break;
        }
        if (kind == container::MountKind::Block) {
            struct stat st;
            if (stat(src.c_str(), &st) < 0)
                startFail(errno, "filesystem", src);
            if (!S_ISBLK(st.st_mode))
                startFail(ENOTBLK, "filesystem", src);
            blocks.push_back(st.st_rdev);
            blocks_ro.push_back(f.readonly);
        }
        sources.push_back(src);
        if (f.target == "/") {
            cfg.root_source = sources.back().c_str();
            cfg.root_kind = kind;
            cfg.root_readonly = f.readonly;
            continue;
        }
        std::string rd = f.size_kib ? "size=" + std::to_string(f.size_kib) + "k" : std::string();
        if (!s.mount_context.empty())
            rd += (rd.empty() ? "" : ",") + s.mount_context;
        ramdata.push_back(rd);
        mounts.push_back({kind, sources.back().c_str(), f.target.c_str(), f.readonly,
                          f.kind == FsKind::Ram && !rd.empty() ? ramdata.back().c_str() : nullptr});
    }
    std::vector<container::ChildDevice> devices;
    for (const DeviceSpec &d : s.devices) {
        if (d.path.empty())
            continue;
        struct stat st;
        if (stat(d.path.c_str(), &st) < 0)
            startFail(errno, "hostdev", d.path);
        devices.push_back({d.path.c_str(), mode_t((st.st_mode & S_IFMT) | 0600), st.st_rdev});
    }

    std::vector<std::string> argv_s;
    argv_s.push_back(s.init);
    for (auto &a : s.args)
        argv_s.push_back(a);
    std::vector<char *> argv, envp;
    for (auto &a : argv_s)
        argv.push_back(const_cast<char *>(a.c_str()));
    argv.push_back(nullptr);
    for (auto &e : s.env)
        envp.push_back(const_cast<char *>(e.c_str()));
    envp.push_back(nullptr);

    cfg.stage = s.run_dir.c_str();
    cfg.run_dir = s.run_dir.c_str();
    cfg.hostname = s.hostname.c_str();
    cfg.own_uts = s.share_uts.empty();
    cfg.netns = s.netns && s.share_net.empty();
    cfg.userns = s.userns;
    cfg.mounts = mounts.data();
    cfg.nmounts = mounts.size();
    cfg.devices = devices.data();
    cfg.ndevices = devices.size();
    cfg.fstypes = fstypes.data();
    cfg.consoles = s.consoles ? s.consoles : 1;
    cfg.cap_drop = capDropMask(s);
    cfg.init = s.init.c_str();
    cfg.argv = argv.data();
    cfg.envp = envp.data();
    cfg.initdir = s.initdir.c_str();
    cfg.inituser = s.inituser.c_str();
    cfg.initgroup = s.initgroup.c_str();

    // sVirt: the labels the daemon's security manager generated.
    if (!s.exec_label.empty()) {
        cfg.exec_label = s.exec_label.c_str();
        cfg.exec_label_fatal = s.exec_label_fatal;
    }
    std::string ctx = s.mount_context.empty() ? std::string() : "," + s.mount_context;
    std::string dev_data = cfg.dev_data + ctx, devpts_data = cfg.devpts_data + ctx,
                devpts_data_nogid = cfg.devpts_data_nogid + ctx, shm_data = cfg.shm_data + ctx,
                tmp_data = cfg.tmp_data + ctx, run_data = cfg.run_data + ctx;
    if (!ctx.empty()) {
        cfg.dev_data = dev_data.c_str();
        cfg.devpts_data = devpts_data.c_str();
        cfg.devpts_data_nogid = devpts_data_nogid.c_str();
        cfg.shm_data = shm_data.c_str();
        cfg.tmp_data = tmp_data.c_str();
        cfg.run_data = run_data.c_str();
        cfg.ram_root_data = s.mount_context.c_str();
    }

    // Shared namespaces are joined by the controller itself so that the
    // child inherits them even inside a new user namespace.
    joinShared(s.share_net, CLONE_NEWNET, "net");
    joinShared(s.share_ipc, CLONE_NEWIPC, "ipc");
    joinShared(s.share_uts, CLONE_NEWUTS, "uts");

    int flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_PIDFD | SIGCHLD;
    if (s.share_uts.empty())
        flags |= CLONE_NEWUTS;
    if (s.share_ipc.empty())
        flags |= CLONE_NEWIPC;
    if (cfg.netns)
        flags |= CLONE_NEWNET;
    if (s.userns)
        flags |= CLONE_NEWUSER;

    Fd mine;
    pid_t pid = -1;
    int pidfd = -1;
    bool ahead = false;
    int64_t tclone = nowNs();
    if (flags == (kPreforkFlags | CLONE_PIDFD | SIGCHLD) && preforkFresh(c)) {
        // The standby's child: hand it the config and let it go.
        Prefork &p = c.prefork;
        auto *slot = static_cast<PreforkSlot *>(p.arena);
        Arena arena(slot + 1, kArenaSize - sizeof *slot);
        cfg.sync_fd = p.child_sync;
        slot->cfg = copyConfig(cfg, arena);
        char g = container::kGo;
        if (send(p.sync.get(), &g, 1, MSG_NOSIGNAL) == 1) {
            pid = p.pid;
            pidfd = p.pidfd.release();
            mine = std::move(p.sync);
            ahead = true;
            p.pid = 0;
            p.child_sync = -1;
        }
    }
    endPrefork(c); // unused (other namespaces, stale, or gone): not kept around
    if (pid < 0) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            startFail(errno, "sync socket", "");
        mine = Fd(sv[0]);
        Fd theirs(sv[1]);
        cfg.sync_fd = theirs.get();
        void *stack = mmap(nullptr, kChildStack, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
        if (stack == MAP_FAILED)
            startFail(errno, "clone", "stack");
        tclone = nowNs();
        pid = clone(container::childMain, static_cast<char *>(stack) + kChildStack, flags, &cfg, &pidfd);
        int clone_err = errno;
        munmap(stack, kChildStack);
        if (pid < 0)
            startFail(clone_err, "clone", "");
    }
    c.init_pid = pid;
    c.init_pidfd = Fd(pidfd);
    tm.add("config", tprep, tclone);

    char go = container::kContinue;
    if (s.userns) {
        writeIdMap(pid, "uid_map", s.uid_map);
        writeIdMap(pid, "gid_map", s.gid_map);
        (void)send(mine.get(), &go, 1, MSG_NOSIGNAL); // a failure is reported below
    }

    // The child mounts its root meanwhile and waits before exec until the
    // cgroup holds it. Creating the cgroup fails if the name is taken; the
    // monitor socket comes after it, so a second start never replaces a
    // running controller's socket.
    int64_t tcg = nowNs();
    try {
        try {
            auto mgr = cgroup::Manager::detect(s.cgroup_root);
            c.cg = mgr->create(s.partition, s.cgroup_name);
            applyLimits(c);
        } catch (const std::exception &e) {
            startFail(0, "cgroup", e.what());
        }
        try {
            c.cg->setDeviceAllowList(deviceRules(c, blocks, blocks_ro));
        } catch (const std::exception &e) {
            startFail(0, "cgroup devices", e.what());
        }
        try {
            c.cg->addProcess(pid);
        } catch (const std::exception &e) {
            startFail(0, "cgroup attach", e.what());
        }
    } catch (const StartError &) {
        // The child may have failed first (and so made the attach fail):
        // its report is the one that explains the start failure.
        reportChildFailure(mine.get());
        throw;
    }
    tm.add("cgroups", tcg, nowNs());
    c.listen_fd = makeListenSocket(c);
    // A child that failed meanwhile has closed its end: its own report,
    // read below, says why.
    (void)send(mine.get(), &go, 1, MSG_NOSIGNAL);

    ChildMsg m{};
    ChildMsg ready{};
    bool got_ready = false;
    for (;;) {
        std::vector<Fd> fds;
        memset(&m, 0, sizeof m);
        ssize_t n = recvChild(mine.get(), m, fds);
        if (n < 0)
            childGone(c, errno);
        if (n == 0)
            break;
        if (size_t(n) != sizeof m)
            startFail(EPROTO, "sync", "");
        if (m.type == MsgType::Consoles) {
            for (Fd &f : fds)
                c.consoles.push_back(std::make_unique<ConsoleRelay>(std::move(f)));
        } else if (m.type == MsgType::Ready) {
            ready = m;
            got_ready = true;
        } else if (m.type == MsgType::Failed) {
            m.path[sizeof m.path - 1] = '\0';
            startFail(m.err, container::stepName(Step(m.step)), m.path);
        }
    }
    int64_t texec = nowNs();
    if (!got_ready)
        childGone(c, 0);
    c.loops.clear(); // the mounts hold the loop devices now
    if (c.prefork.arena) {
        munmap(c.prefork.arena, kArenaSize);
        c.prefork.arena = nullptr;
    }
    c.prefork.mountinfo.reset();

    const int64_t *st = ready.stamps;
    // Child steps; "cgroups" above ran in the controller at the same time as
    // idmap..caps, "wait" is what the child still had to wait for it.
    // "clone": cloned now; "go": the child a standby cloned ahead was let go.
    tm.add(ahead ? "go" : "clone", tclone, st[container::StampStart]);
    if (s.userns)
        tm.add("idmap", st[container::StampStart], st[container::StampMapped]);
    tm.add("mounts", st[container::StampMapped], st[container::StampMounts]);
    tm.add("dev", st[container::StampMounts], st[container::StampDev]);
    tm.add("pivot", st[container::StampDev], st[container::StampPivot]);
    tm.add("caps", st[container::StampPivot], st[container::StampCaps]);
    tm.add("wait", st[container::StampCaps], st[container::StampAttached]);
    tm.add("exec", st[container::StampAttached], texec);

    std::string out = "started " + std::to_string(pid) + " " + c.cg->path();
    for (auto &[name, us] : tm.steps)
        out += " " + name + "=" + std::to_string(us);
    // When this report leaves, so that the daemon can time the hand-back.
    out += " t=" + std::to_string(nowNs());
    return out;
}

// ---------------------------------------------------------------- running

const char *reasonName(Controller &c, const siginfo_t &si)
{
    if (c.destroyed)
        return "destroyed";
    if (si.si_code == CLD_EXITED)
        return si.si_status == 0 ? "shutdown" : "crashed";
    if (si.si_status == SIGHUP)
        return "reboot"; // also what reboot(2) with RB_AUTOBOOT does in a pid ns
    if (si.si_status == SIGINT)
        return "shutdown"; // reboot(2) power off / halt in a pid ns
    if (si.si_status == SIGTERM && c.shutdown_requested)
        return "shutdown";
    return "crashed";
}

void broadcast(Controller &c, const std::string &msg)
{
    if (c.daemon_fd)
        sendMessage(c.daemon_fd.get(), msg);
    for (Client &cl : c.clients)
        sendMessage(cl.fd.get(), msg);
}

void initExited(Controller &c)
{
    siginfo_t si{};
    if (waitid(P_PIDFD, c.init_pidfd.get(), &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
        return;
    const char *reason = reasonName(c, si);
    int status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
    for (auto &r : c.consoles)
        r->flush();
    c.consoles.clear();
    teardownCgroup(c);
    logLine(std::string("init exited: ") + reason + " status " + std::to_string(status));
    broadcast(c, std::string("exit ") + reason + " " + std::to_string(status));
    c.done = true;
}

void handleRequest(Controller &c, int fd, const std::string &req)
{
    char verb[32] = "";
    int a = 0, b = 0;
    sscanf(req.c_str(), "%31s %d %d", verb, &a, &b);
    std::string v = verb;
    auto reply = [&](bool ok, const std::string &err = "") { sendMessage(fd, ok ? "ok" : "error " + err); };
    if (v == "signal") {
        if (a == SIGTERM || a == SIGINT)
            c.shutdown_requested = true;
        if (syscall(SYS_pidfd_send_signal, c.init_pidfd.get(), a, nullptr, 0) < 0)
            reply(false, strerror(errno));
        else
            reply(true);
    } else if (v == "killall") {
        if (a == SIGTERM)
            c.shutdown_requested = true;
        try {
            c.cg->killAll(a);
            reply(true);
        } catch (const std::exception &e) {
            reply(false, e.what());
        }
    } else if (v == "destroy") {
        c.destroyed = true;
        try {
            c.cg->killAll(SIGKILL);
            if (c.cg->isFrozen())
                c.cg->thaw();
        } catch (const std::exception &e) {
            logLine(std::string("destroy: ") + e.what());
        }
        reply(true);
    } else if (v == "console") {
        if (a < 0 || size_t(a) >= c.consoles.size()) {
            reply(false, "no console " + std::to_string(a));
            return;
        }
        int theirs = c.consoles[size_t(a)]->attach(b != 0);
        if (theirs < 0) {
            reply(false, errno == EBUSY ? "Active console session exists for this domain"
                                        : std::string(strerror(errno)));
            return;
        }
        sendMessage(fd, "ok", theirs);
        close(theirs);
    } else {
        reply(false, "unknown request '" + v + "'");
    }
}

// Reads one request; false when the peer is gone.
bool serveClient(Controller &c, int fd)
{
    char buf[kMaxMessage];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (n == 0)
        return false;
    buf[n] = '\0';
    handleRequest(c, fd, buf);
    return true;
}

void acceptClient(Controller &c)
{
    int fd = accept4(c.listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    Client cl{Fd(fd)};
    sendMessage(fd, "hello " + std::to_string(getpid()) + " " + std::to_string(c.init_pid) + " " +
                        (c.cg ? c.cg->path() : std::string("-")));
    c.clients.push_back(std::move(cl));
}

void run(Controller &c)
{
    std::vector<pollfd> fds;
    while (!c.done) {
        fds.clear();
        fds.push_back({c.init_pidfd.get(), POLLIN, 0});
        fds.push_back({c.listen_fd.get(), POLLIN, 0});
        fds.push_back({c.sigfd.get(), POLLIN, 0});
        fds.push_back({c.daemon_fd ? c.daemon_fd.get() : -1, POLLIN, 0});
        for (Client &cl : c.clients)
            fds.push_back({cl.fd.get(), POLLIN, 0});
        size_t console_base = fds.size();
        for (auto &r : c.consoles)
            r->addPollFds(fds);
        if (poll(fds.data(), fds.size(), -1) < 0) {
            if (errno == EINTR)
                continue;
            logLine(std::string("poll: ") + strerror(errno));
            return;
        }
        if (fds[2].revents & POLLIN) {
            signalfd_siginfo ssi;
            if (read(c.sigfd.get(), &ssi, sizeof ssi) == sizeof ssi) {
                logLine("controller got signal " + std::to_string(ssi.ssi_signo) + ": destroying");
                c.destroyed = true;
                teardownCgroup(c);
            }
        }
        if (fds[3].revents & (POLLIN | POLLHUP | POLLERR))
            if (!serveClient(c, c.daemon_fd.get()))
                c.daemon_fd.reset(); // the daemon went away; we stay
        for (size_t i = 0; i < c.clients.size();) {
            if (fds[4 + i].revents & (POLLIN | POLLHUP | POLLERR) && !serveClient(c, c.clients[i].fd.get())) {
                c.clients.erase(c.clients.begin() + long(i));
                fds.erase(fds.begin() + long(4 + i));
                --console_base;
                continue;
            }
            ++i;
        }
        size_t idx = console_base;
        for (auto &r : c.consoles)
            r->handle(fds, idx);
        if (fds[1].revents & POLLIN)
            acceptClient(c);
        if (fds[0].revents & POLLIN)
            initExited(c);
    }
}

std::string readAll(int fd)
{
    lseek(fd, 0, SEEK_SET);
    return readFd(fd);
}

// Standby mode: the daemon started us ahead of need. Waits for
// "assign T0" carrying the spec memfd and the domain's log fd; false when the
// daemon closed the socket instead (it stopped, or dropped its standby).
bool awaitAssignment(int monitor_fd, int &spec_fd, int64_t &t0, pid_t c_prefork_pid)
{
    char buf[64];
    std::vector<int> got;
    ssize_t n = recvWithFds(monitor_fd, buf, sizeof buf - 1, got);
    std::vector<Fd> fds;
    for (int f : got)
        fds.emplace_back(f);
    if (n <= 0 || fds.size() != 2)
        return false;
    buf[n] = '\0';
    if (strncmp(buf, "assign ", 7) != 0)
        return false;
    char *end = nullptr;
    t0 = strtoll(buf + 7, &end, 10);
    // Spawned at nice 19 so as not to slow down running starts; from here on
    // this is a start: the daemon's priority, for the child too.
    int nice = end && *end == ' ' ? atoi(end + 1) : 0;
    if (dup2(fds[1].get(), 1) < 0 || dup2(fds[1].get(), 2) < 0)
        return false;
    if (setpriority(PRIO_PROCESS, 0, nice) < 0 ||
        (c_prefork_pid > 0 && setpriority(PRIO_PROCESS, c_prefork_pid, nice) < 0))
        logLine(std::string("cannot return to priority ") + std::to_string(nice) + ": " + strerror(errno));
    spec_fd = fds[0].release();
    return true;
}

// Zygote mode: the daemon's fork server for standbys. Exec'ing a controller
// (kernel exec, static start-up, CPU feature probing) costs more than a fork
// of this small, already started process, and the pool spawns one per start.
// Each "fork" message carries the new standby's end of its monitor socket;
// the forked child puts it on the zygote's fd number and returns it (the
// child then goes on as a standby). The parent answers "pid N" with a pidfd
// of the child, opened before the child can be reaped, so its pid is not
// reused meanwhile. Returns -1 in the zygote when the daemon closed its end
// or sent something else: the zygote then exits, its standbys see their
// own sockets close and follow.
int zygote(int zfd)
{
    sigset_t chld, old;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, &old);
    Fd sigfd(signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK));
    auto reap = [] {
        while (waitpid(-1, nullptr, WNOHANG) > 0) {
        }
    };
    for (;;) {
        pollfd f[2] = {{zfd, POLLIN, 0}, {sigfd.get(), POLLIN, 0}};
        if (poll(f, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (f[1].revents) {
            signalfd_siginfo si;
            while (read(sigfd.get(), &si, sizeof si) == ssize_t(sizeof si)) {
            }
            reap();
        }
        if (!f[0].revents)
            continue;
        char buf[16];
        std::vector<int> got;
        ssize_t n = recvWithFds(zfd, buf, sizeof buf, got);
        std::vector<Fd> fds;
        for (int fd : got)
            fds.emplace_back(fd);
        if (n != 4 || memcmp(buf, "fork", 4) != 0 || fds.size() != 1)
            return -1;
        pid_t pid = fork();
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &old, nullptr);
            if (dup2(fds[0].get(), zfd) < 0) // also closes the zygote's socket here
                _exit(1);
            return zfd;
        }
        std::string reply;
        Fd pidfd(pid > 0 ? int(syscall(SYS_pidfd_open, pid, 0)) : -1);
        if (pid < 0 || !pidfd) {
            reply = "error " + std::to_string(errno);
            if (pid > 0)
                kill(pid, SIGKILL);
        } else {
            reply = "pid " + std::to_string(pid);
        }
        int pfd = pidfd.get();
        if (sendWithFds(zfd, reply.data(), reply.size(), &pfd, pidfd ? 1 : 0) < 0)
            return -1;
    }
}

} // namespace

int main(int argc, char **argv)
{
    int64_t tmain = nowNs();
    std::string name;
    char *name_arg = nullptr;
    int spec_fd = -1, monitor_fd = -1, zygote_fd = -1;
    int64_t t0 = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string a = argv[i];
        if (a == "--name") {
            name = argv[i + 1];
            name_arg = argv[i + 1];
        } else if (a == "--spec-fd") {
            spec_fd = atoi(argv[i + 1]);
        } else if (a == "--monitor-fd") {
            monitor_fd = atoi(argv[i + 1]);
        } else if (a == "--zygote-fd") {
            zygote_fd = atoi(argv[i + 1]);
        } else if (a == "--t0") {
            t0 = strtoll(argv[i + 1], nullptr, 10);
        }
    }
    // Without --spec-fd: a standby (or the zygote that forks them), whose
    // --name is blank padding.
    bool padded = name_arg && !name.empty() && name.find_first_not_of(' ') == std::string::npos;
    bool is_zygote = zygote_fd >= 0 && spec_fd < 0 && monitor_fd < 0 && padded;
    bool standby = spec_fd < 0 && monitor_fd >= 0 && padded;
    if ((name.empty() || spec_fd < 0 || monitor_fd < 0) && !standby && !is_zygote) {
        fprintf(stderr, "usage: %s --name NAME --spec-fd N --monitor-fd N [--t0 NS]\n"
                        "       %s --monitor-fd N --name PADDING (standby)\n"
                        "       %s --zygote-fd N --name PADDING (forks standbys)\n", argv[0], argv[0], argv[0]);
        return 2;
    }
    for (int sig : container::kControllerIgnores)
        signal(sig, SIG_IGN);
    // Do not pin the daemon's working directory (or its mount) for the
    // container's lifetime.
    if (chdir("/") < 0)
        return 1;
    if (is_zygote || standby)
        hostLastCap(); // once, ahead of any start
    if (is_zygote) {
        fcntl(zygote_fd, F_SETFD, FD_CLOEXEC);
        monitor_fd = zygote(zygote_fd);
        if (monitor_fd < 0)
            return 0;
        standby = true;
        tmain = nowNs();
    }
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigprocmask(SIG_BLOCK, &mask, nullptr);

    auto c = std::make_unique<Controller>();
    c->daemon_fd = Fd(monitor_fd);
    fcntl(monitor_fd, F_SETFD, FD_CLOEXEC);
    if (standby) {
        // Clone the container child now; a change of the host's mount table
        // makes it stale (its mount namespace is a copy), so it is replaced,
        // once the table has been quiet for a moment.
        startPrefork(*c);
        bool stale = false;
        for (;;) {
            pollfd f[3] = {{monitor_fd, POLLIN, 0},
                           {c->prefork.mountinfo.get(), POLLPRI, 0},
                           {c->prefork.pid > 0 ? c->prefork.pidfd.get() : -1, POLLIN, 0}};
            int r = poll(f, 3, stale ? 100 : -1);
            if (r < 0 && errno != EINTR)
                break;
            if (f[0].revents)
                break;
            if ((f[1].revents & (POLLPRI | POLLERR)) || f[2].revents) {
                endPrefork(*c);
                stale = true;
            } else if (r == 0 && stale) {
                stale = !startPrefork(*c);
            }
        }
        if (!awaitAssignment(monitor_fd, spec_fd, t0, c->prefork.pid)) {
            endPrefork(*c);
            return 0;
        }
        tmain = nowNs();
    }
    std::string result;
    try {
        {
            Fd sf(spec_fd);
            c->spec = decodeSpec(readAll(sf.get()));
        }
        if (standby) {
            // ps and the daemon's stale-controller check read --name NAME.
            size_t room = strlen(name_arg);
            if (c->spec.name.empty() || c->spec.name.size() > room)
                startFail(ENAMETOOLONG, "spec", "name does not fit the standby's padding");
            memset(name_arg, 0, room);
            memcpy(name_arg, c->spec.name.data(), c->spec.name.size());
            name = c->spec.name;
        }
        if (c->spec.name != name)
            startFail(EINVAL, "spec", "name mismatch");
        c->sigfd = Fd(signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
        result = startContainer(*c, t0, tmain);
    } catch (const StartError &e) {
        std::string line = "failed " + std::to_string(e.err) + "\t" + e.step + "\t" + e.path;
        logLine("start failed: " + e.step + " " + e.path +
                (e.err ? std::string(": ") + strerror(e.err) : ""));
        if (c->init_pidfd) {
            syscall(SYS_pidfd_send_signal, c->init_pidfd.get(), SIGKILL, nullptr, 0);
            siginfo_t si{};
            waitid(P_PIDFD, c->init_pidfd.get(), &si, WEXITED);
        }
        c->consoles.clear();
        teardownCgroup(*c);
        sendMessage(c->daemon_fd.get(), line);
        return 1;
    } catch (const std::exception &e) {
        logLine(std::string("start failed: ") + e.what());
        teardownCgroup(*c);
        sendMessage(c->daemon_fd.get(), std::string("failed 0\tcontroller\t") + e.what());
        return 1;
    }
    sendMessage(c->daemon_fd.get(), result); // the daemon waits on this: log after
    logLine(result);
    run(*c);
    return 0;
}
