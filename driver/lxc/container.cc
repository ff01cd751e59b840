// Daemon side of the runtime: launches lxvirt-controller, waits for the
// start result, and talks to the controller over its monitor socket.
#include "driver/lxc/container.h"

#include "driver/controller/spec.h"
#include "driver/fdio.h"
#include "driver/lxc/container_spec.h"

#include <fcntl.h>
#include <glib-unix.h>
#include <glib.h>
#include <libvirt/libvirt.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

extern char **environ;

namespace lxvirt::lxc {

namespace {

int64_t nowUs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int pidfdOpen(pid_t pid)
{
    return int(syscall(SYS_pidfd_open, pid, 0));
}

// Waits up to `ms` for a pidfd to report exit; true if the process is gone.
bool waitPidfd(int pidfd, int ms)
{
    pollfd p{pidfd, POLLIN, 0};
    int64_t deadline = nowUs() + int64_t(ms) * 1000;
    for (;;) {
        int left = int((deadline - nowUs()) / 1000);
        int r = poll(&p, 1, left < 0 ? 0 : left);
        if (r > 0)
            return true;
        if (r == 0)
            return false;
        if (errno != EINTR)
            return false;
    }
}

std::string logPath(const Paths &paths, const std::string &name)
{
    return paths.log_dir + "/" + name + ".log";
}


// Whitespace-separated words.
std::vector<std::string> splitWords(const std::string &text)
{
    std::vector<std::string> out;
    size_t i = 0;
    while ((i = text.find_first_not_of(" \t\n", i)) != std::string::npos) {
        size_t e = text.find_first_of(" \t\n", i);
        out.push_back(text.substr(i, e == std::string::npos ? std::string::npos : e - i));
        i = e;
    }
    return out;
}

long wordAsLong(const std::vector<std::string> &w, size_t i)
{
    return i < w.size() ? atol(w[i].c_str()) : 0;
}

std::string logTail(const std::string &path, size_t lines = 5)
{
    std::vector<std::string> all;
    std::string text = readWholeFile(path);
    for (size_t pos = 0; pos < text.size();) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos)
            eol = text.size();
        all.push_back(text.substr(pos, eol - pos));
        pos = eol + 1;
    }
    std::string out;
    size_t from = all.size() > lines ? all.size() - lines : 0;
    for (size_t i = from; i < all.size(); ++i)
        out += (out.empty() ? "" : "\n") + all[i];
    return out;
}

std::string timestamp()
{
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t;
    gmtime_r(&ts.tv_sec, &t);
    char buf[64];
    snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%03ld+0000", t.tm_year + 1900, t.tm_mon + 1,
             t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
    return buf;
}

// One message (+ optional fd) from a SEQPACKET socket. 0 = EOF, -1 = error
// (errno), -2 = timeout.
int recvMessage(int fd, std::string &out, int *fd_out, int timeout_ms)
{
    if (timeout_ms >= 0) {
        pollfd p{fd, POLLIN, 0};
        int r;
        do {
            r = poll(&p, 1, timeout_ms);
        } while (r < 0 && errno == EINTR);
        if (r == 0)
            return -2;
        if (r < 0)
            return -1;
    }
    char buf[controller::kMaxMessage];
    std::vector<int> fds;
    ssize_t n = recvWithFds(fd, buf, sizeof buf, fds, timeout_ms >= 0 ? MSG_DONTWAIT : 0);
    if (n < 0)
        return errno == EAGAIN ? -2 : -1;
    for (int f : fds) {
        if (fd_out && *fd_out < 0)
            *fd_out = f;
        else
            close(f);
    }
    out.assign(buf, size_t(n));
    return n == 0 ? 0 : 1;
}

bool sendText(int fd, const std::string &s)
{
    ssize_t n;
    do {
        n = send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n == ssize_t(s.size());
}

ExitReason parseReason(const std::string &r)
{
    if (r == "shutdown")
        return ExitReason::Shutdown;
    if (r == "reboot")
        return ExitReason::Reboot;
    if (r == "destroyed")
        return ExitReason::Destroyed;
    return ExitReason::Crashed;
}

// Kills whatever is left in a cgroup and removes it; quiet if it is gone.
void removeCgroup(const std::string &root, const std::string &path)
{
    if (path.empty())
        return;
    std::unique_ptr<cgroup::Cgroup> cg;
    try {
        cg = cgroup::Manager::detect(root)->open(path);
    } catch (const std::exception &) {
        return;
    }
    for (int i = 0; i < 2000; ++i) {
        try {
            if (cg->isFrozen())
                cg->thaw();
            if (cg->killAll(SIGKILL) == 0) {
                cg->remove();
                return;
            }
        } catch (const std::exception &) {
            if (i > 100)
                return;
        }
        usleep(500);
    }
}

// State shared between the Container and its GLib watch, which may outlive
// the Container by one dispatch.
struct Monitor;
void unwatch(Monitor *mon);

struct Monitor {
    std::mutex mu;
    std::string name;
    Paths paths;
    int fd = -1; // monitor connection
    int ctrl_pidfd = -1;
    bool ctrl_is_child = false;
    pid_t ctrl_pid = 0;
    std::string cgroup_path;
    bool exit_seen = false;
    ExitReason exit_reason = ExitReason::Crashed;
    bool finished = false;
    bool watched = false;  // registered with the MonitorHub
    Container::ExitCallback on_exit;

    ~Monitor() { closeFds(); }

    void closeFds()
    {
        if (fd >= 0)
            close(fd);
        if (ctrl_pidfd >= 0)
            close(ctrl_pidfd);
        fd = ctrl_pidfd = -1;
    }

    void noteMessage(const std::string &m)
    {
        if (m.rfind("exit ", 0) == 0) {
            exit_seen = true;
            std::vector<std::string> w = splitWords(m.substr(5));
            exit_reason = parseReason(w.empty() ? std::string() : w[0]);
        }
    }

    // Request/response; events met on the way are recorded. Caller holds mu.
    std::string request(const std::string &req, int *fd_out = nullptr, int timeout_ms = 10000)
    {
        if (fd < 0 || !sendText(fd, req))
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                              "domain '" + name + "' is not running");
        for (;;) {
            std::string m;
            int r = recvMessage(fd, m, fd_out, timeout_ms);
            if (r == 1 && (m == "ok" || m.rfind("error", 0) == 0))
                return m;
            if (r == 1) {
                noteMessage(m);
                continue;
            }
            if (r == -2)
                throw Error::make(VIR_ERR_OPERATION_TIMEOUT, VIR_FROM_LXC,
                                  "controller of '" + name + "' did not answer '" + req + "'");
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                              "domain '" + name + "' is not running");
        }
    }

    // Reads until EOF or timeout; true on EOF.
    bool drainUntilEof(int timeout_ms)
    {
        int64_t deadline = nowUs() + int64_t(timeout_ms) * 1000;
        while (fd >= 0) {
            int left = int((deadline - nowUs()) / 1000);
            if (left < 0)
                return false;
            std::string m;
            int r = recvMessage(fd, m, nullptr, left);
            if (r == 1)
                noteMessage(m);
            else if (r == -2)
                return false;
            else
                return true;
        }
        return true;
    }

    // The controller is gone (or going): reap it, clean what it could not,
    // and hand the callback out to be called without the lock held.
    Container::ExitCallback finish()
    {
        if (finished)
            return nullptr;
        finished = true;
        if (watched) {
            unwatch(this);
            watched = false;
        }
        if (fd >= 0) {
            close(fd);
            fd = -1;
        }
        if (ctrl_pidfd >= 0) {
            if (!waitPidfd(ctrl_pidfd, 5000)) {
                syscall(SYS_pidfd_send_signal, ctrl_pidfd, SIGKILL, nullptr, 0);
                waitPidfd(ctrl_pidfd, 5000);
            }
            if (ctrl_is_child) {
                siginfo_t si{};
                waitid(P_PIDFD, id_t(ctrl_pidfd), &si, WEXITED);
            }
        }
        if (!exit_seen) {
            // The controller died without reporting: it left its cgroup and
            // socket behind.
            removeCgroup(paths.cgroup_root, cgroup_path);
            unlink((paths.run_dir + "/" + name + ".sock").c_str());
        }
        closeFds();
        return std::move(on_exit);
    }
};

// Handles readiness of one controller socket; false once the container is
// gone (the hub then forgets the monitor).
bool onMonitorEvent(const std::shared_ptr<Monitor> &mon, uint32_t events)
{
    Container::ExitCallback cb;
    ExitReason reason;
    {
        std::lock_guard<std::mutex> lock(mon->mu);
        if (mon->finished)
            return false;
        bool eof = false;
        for (;;) {
            std::string m;
            int r = recvMessage(mon->fd, m, nullptr, 0);
            if (r == 1) {
                mon->noteMessage(m);
                continue;
            }
            eof = r == 0 || r == -1;
            break;
        }
        if (!eof && !(events & (EPOLLHUP | EPOLLERR)))
            return true;
        cb = mon->finish();
        reason = mon->exit_seen ? mon->exit_reason : ExitReason::Crashed;
    }
    if (cb)
        cb(reason);
    return false;
}

// Every controller socket sits behind one epoll fd, watched by a single
// GSource on the default main context. With one GSource per socket, each
// wake-up of the daemon's main loop polled one fd per running container
// (O(N) per RPC call: ~19 % of the daemon's time with 100 running).
class MonitorHub {
public:
    static MonitorHub &get()
    {
        static MonitorHub *hub = new MonitorHub; // lives as long as the process
        return *hub;
    }

    void add(const std::shared_ptr<Monitor> &mon)
    {
        std::lock_guard<std::mutex> lock(mu_);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLHUP | EPOLLERR;
        ev.data.ptr = mon.get();
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, mon->fd, &ev) < 0)
            throw Error::system(errno, "cannot watch the controller socket of '" + mon->name + "'");
        mons_[mon.get()] = mon;
    }

    // Idempotent; the fd may already be closed (epoll then dropped it).
    void remove(Monitor *mon)
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (mon->fd >= 0)
            epoll_ctl(epfd_, EPOLL_CTL_DEL, mon->fd, nullptr);
        mons_.erase(mon);
    }

private:
    MonitorHub()
    {
        epfd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epfd_ < 0)
            throw Error::system(errno, "cannot create the controller epoll fd");
        g_unix_fd_add_full(G_PRIORITY_DEFAULT, epfd_, G_IO_IN, &MonitorHub::dispatch, this, nullptr);
    }

    static gboolean dispatch(gint, GIOCondition, gpointer data)
    {
        auto *hub = static_cast<MonitorHub *>(data);
        epoll_event evs[64];
        int n = epoll_wait(hub->epfd_, evs, 64, 0);
        for (int i = 0; i < n; ++i) {
            std::shared_ptr<Monitor> mon;
            {
                std::lock_guard<std::mutex> lock(hub->mu_);
                auto it = hub->mons_.find(static_cast<Monitor *>(evs[i].data.ptr));
                if (it == hub->mons_.end())
                    continue; // removed by another thread meanwhile
                mon = it->second;
            }
            if (!onMonitorEvent(mon, evs[i].events))
                hub->remove(mon.get());
        }
        return G_SOURCE_CONTINUE;
    }

    int epfd_ = -1;
    std::mutex mu_;
    std::unordered_map<Monitor *, std::shared_ptr<Monitor>> mons_;
};

void unwatch(Monitor *mon)
{
    MonitorHub::get().remove(mon);
}

void watch(const std::shared_ptr<Monitor> &mon)
{
    MonitorHub::get().add(mon);
    mon->watched = true;
}

// Asks a SysV-style init for a runlevel through its initctl FIFO inside the
// container (/run/initctl or /dev/initctl, resolved inside the container's
// root so that its symlinks cannot point at host files). A FIFO that is the
// host's own (a shared root) is skipped. False if there is none.
bool writeInitctl(pid_t init_pid, char runlevel)
{
    std::string root = "/proc/" + std::to_string(init_pid) + "/root";
    int rootfd = open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0)
        return false;
    bool done = false;
    for (const char *fifo : {"run/initctl", "dev/initctl"}) {
        open_how how{};
        how.flags = O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
        int fd = int(syscall(SYS_openat2, rootfd, fifo, &how, sizeof how));
        if (fd < 0)
            continue;
        struct stat st, host;
        bool ok = fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
                  !(stat((std::string("/") + fifo).c_str(), &host) == 0 && host.st_dev == st.st_dev &&
                    host.st_ino == st.st_ino);
        if (ok) {
            // struct init_request from sysvinit's initreq.h: 384 bytes.
            unsigned char req[384] = {};
            int32_t magic = 0x03091969, cmd = 1 /* INIT_CMD_RUNLVL */, level = runlevel;
            memcpy(req, &magic, 4);
            memcpy(req + 4, &cmd, 4);
            memcpy(req + 8, &level, 4);
            done = write(fd, req, sizeof req) == ssize_t(sizeof req);
        }
        close(fd);
        if (done)
            break;
    }
    close(rootfd);
    return done;
}

class ContainerImpl : public Container {
public:
    ContainerImpl(std::shared_ptr<Monitor> mon, RunState state, const DomainDef &def)
        : mon_(std::move(mon)), state_(std::move(state)), userns_(def.needsUserNamespace())
    {
        try {
            cg_ = cgroup::Manager::detect(mon_->paths.cgroup_root)->open(state_.cgroup_path);
        } catch (const Error &) {
            // An init that exits at once is reaped and its cgroup removed by
            // the controller before we get here; the exit report follows on
            // the monitor socket, and cg() refuses to act meanwhile.
        }
    }

    ~ContainerImpl() override
    {
        // Dropping the handle leaves the container running (as a daemon
        // exit would); reconnect() finds it again.
        std::lock_guard<std::mutex> lock(mon_->mu);
        if (mon_->watched) {
            unwatch(mon_.get());
            mon_->watched = false;
        }
        mon_->finished = true;
        mon_->closeFds();
    }

    const RunState &runState() const override { return state_; }

    void destroy(bool graceful) override
    {
        ExitCallback cb;
        {
            std::lock_guard<std::mutex> lock(mon_->mu);
            if (mon_->finished)
                return;
            bool gone = false;
            if (graceful && mon_->fd >= 0) {
                try {
                    mon_->request("killall " + std::to_string(SIGTERM));
                    gone = mon_->drainUntilEof(5000);
                } catch (const Error &) {
                    gone = true;
                }
            }
            if (!gone && mon_->fd >= 0) {
                // The controller learns why init dies; the killing starts
                // right here without waiting for it to be scheduled.
                if (sendText(mon_->fd, "destroy")) {
                    try {
                        cg().killAll(SIGKILL);
                        if (cg().isFrozen())
                            cg().thaw();
                    } catch (const std::exception &) {
                    }
                }
                gone = mon_->drainUntilEof(30000);
            }
            if (!gone && mon_->ctrl_pidfd >= 0)
                syscall(SYS_pidfd_send_signal, mon_->ctrl_pidfd, SIGKILL, nullptr, 0);
            cb = mon_->finish();
        }
        if (cb)
            cb(ExitReason::Destroyed);
    }

    // libvirt's order: the container's initctl pipe (runlevel 0/6) unless
    // only SIGNAL was asked for, then the signal unless only INITCTL was.
    void shutdown(unsigned flags) override
    {
        stopInit(flags, VIR_DOMAIN_SHUTDOWN_INITCTL, VIR_DOMAIN_SHUTDOWN_SIGNAL, '0', SIGTERM);
    }
    void reboot(unsigned flags) override
    {
        stopInit(flags, VIR_DOMAIN_REBOOT_INITCTL, VIR_DOMAIN_REBOOT_SIGNAL, '6', SIGHUP);
    }

    void suspend() override { cg().freeze(); }
    void resume() override { cg().thaw(); }
    bool isPaused() const override
    {
        try {
            return cg().isFrozen();
        } catch (const std::exception &) {
            return false;
        }
    }

    cgroup::Cgroup &cgroup() override { return cg(); }

    cgroup::Cgroup &cg() const
    {
        if (!cg_)
            throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                              "the container's cgroup '" + state_.cgroup_path + "' is gone (the container stopped)");
        return *cg_;
    }

    int openConsole(int index, bool force) override
    {
        std::lock_guard<std::mutex> lock(mon_->mu);
        int fd = -1;
        std::string r = mon_->request("console " + std::to_string(index) + " " + (force ? "1" : "0"), &fd);
        if (r != "ok" || fd < 0) {
            if (fd >= 0)
                close(fd);
            std::string why = r.size() > 6 ? r.substr(6) : "no console fd";
            throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_LXC, why);
        }
        return fd;
    }

    std::vector<int> openNamespaces() override
    {
        std::vector<int> fds;
        std::vector<const char *> names = {"ipc", "uts", "net", "pid", "mnt"};
        if (userns_)
            names.insert(names.begin(), "user");
        for (const char *n : names) {
            std::string p = "/proc/" + std::to_string(state_.init_pid) + "/ns/" + n;
            int fd = open(p.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                int e = errno;
                for (int f : fds)
                    close(f);
                throw Error::system(e, "cannot open " + p);
            }
            fds.push_back(fd);
        }
        return fds;
    }

private:
    void stopInit(unsigned flags, unsigned initctl_flag, unsigned signal_flag, char runlevel, int sig)
    {
        if (flags & ~(initctl_flag | signal_flag))
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC,
                              "unsupported flags (0x" +
                                  std::to_string(flags & ~(initctl_flag | signal_flag)) + ")");
        if ((flags == 0 || (flags & initctl_flag)) && writeInitctl(state_.init_pid, runlevel))
            return;
        if (flags != 0 && !(flags & signal_flag))
            throw Error::make(VIR_ERR_OPERATION_UNSUPPORTED, VIR_FROM_LXC,
                              "Container does not provide an initctl pipe");
        signalInit(sig);
    }

    void signalInit(int sig)
    {
        std::lock_guard<std::mutex> lock(mon_->mu);
        std::string r = mon_->request("signal " + std::to_string(sig));
        if (r != "ok")
            throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_LXC, r.size() > 6 ? r.substr(6) : r);
    }

    std::shared_ptr<Monitor> mon_;
    RunState state_;
    bool userns_;
    std::unique_ptr<cgroup::Cgroup> cg_;
};

class FdGuard {
public:
    explicit FdGuard(int fd = -1) : fd_(fd) {}
    FdGuard(const FdGuard &) = delete;
    FdGuard &operator=(FdGuard &&o) noexcept
    {
        if (this != &o) {
            if (fd_ >= 0)
                close(fd_);
            fd_ = o.release();
        }
        return *this;
    }
    ~FdGuard()
    {
        if (fd_ >= 0)
            close(fd_);
    }
    int get() const { return fd_; }
    int release()
    {
        int f = fd_;
        fd_ = -1;
        return f;
    }

private:
    int fd_;
};

// Starts lxvirt-controller with stdin on /dev/null, stdout and stderr on
// `out_fd` (or /dev/null) and `fds` as fds 3, 4, ... in a session of its own.
int spawnController(const std::string &binary, std::vector<std::string> args, int out_fd,
                    const std::vector<int> &fds, pid_t &pid)
{
    std::vector<char *> argv;
    for (auto &a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (out_fd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
        posix_spawn_file_actions_adddup2(&fa, out_fd, 2);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    for (size_t i = 0; i < fds.size(); ++i)
        posix_spawn_file_actions_adddup2(&fa, fds[i], int(3 + i));
    posix_spawn_file_actions_addclosefrom_np(&fa, int(3 + fds.size()));
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawn(&pid, binary.c_str(), &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

// Spawning the controller (fork + exec) is the largest single cost of a
// start, so the daemon keeps one started ahead of need: a standby waits on
// its monitor socket for "assign T0" with the spec memfd and the domain's log
// fd and then runs exactly as a controller started for that domain. Its
// --name argument is blank padding that it overwrites with the domain's
// name, so ps and cleanupStale() see the usual command line. It exits when
// the daemon's end of the socket closes, so a daemon that dies leaves none.
constexpr size_t kStandbyNameRoom = 255;

struct Standby {
    pid_t pid = -1;
    int fd = -1;    // the daemon's end of the monitor socket
    int pidfd = -1;
    std::string binary;
    bool is_child = true; // false: forked by the zygote, which reaps it
};

// Waits until a controller is gone: reaps it if it is our child, else (the
// zygote forked it, and reaps it) waits up to `ms` on its pidfd.
void waitGone(pid_t pid, int pidfd, bool is_child, int ms)
{
    if (is_child) {
        siginfo_t si{};
        waitid(P_PID, id_t(pid), &si, WEXITED);
    } else {
        waitPidfd(pidfd, ms);
    }
}

void killAndWait(pid_t pid, int pidfd, bool is_child)
{
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0);
    waitGone(pid, pidfd, is_child, 2000);
}

class StandbyPool {
public:
    // Two, so that back-to-back starts each find one while the next is
    // spawned on another CPU; one more idle controller costs ~100 KiB.
    static constexpr size_t kSize = 2;

    static StandbyPool &get()
    {
        static StandbyPool *pool = new StandbyPool; // lives as long as the process
        return *pool;
    }

    // Hands out a live standby for `binary`. With none left, a spawn under
    // way is waited for (briefly): it is further along than a new one.
    bool take(const std::string &binary, Standby &out)
    {
        std::unique_lock<std::mutex> lock(mu_);
        if (binary_ != binary)
            return false;
        for (;;) {
            if (ready_.empty())
                cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return !ready_.empty() || !spawning_; });
            if (ready_.empty())
                return false;
            Standby s = ready_.front();
            ready_.erase(ready_.begin());
            pollfd p{s.pidfd, POLLIN, 0};
            if (poll(&p, 1, 0) == 0) {
                out = s;
                return true;
            }
            discard(s); // it exited (or cannot be watched): try the next
        }
    }

    // Has the spawner thread top the pool up for `binary`. Called once a
    // start is over, so that spawning does not compete with it for CPUs.
    void refill(const std::string &binary)
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (binary_ != binary) {
            for (Standby &s : ready_)
                discard(s);
            ready_.clear();
            binary_ = binary;
        }
        if (ready_.size() >= kSize || spawning_)
            return;
        spawning_ = true;
        if (!thread_started_) {
            std::thread([this] { spawner(); }).detach();
            thread_started_ = true;
        }
        cv_.notify_all();
    }

    void drop()
    {
        std::unique_lock<std::mutex> lock(mu_);
        binary_.clear(); // stops the spawner after its current spawn
        cv_.wait(lock, [&] { return !spawning_; });
        for (Standby &s : ready_)
            discard(s);
        ready_.clear();
        discard(zygote_);
    }

    static void discard(Standby &s)
    {
        if (s.pidfd >= 0) {
            killAndWait(s.pid, s.pidfd, s.is_child);
            close(s.pidfd);
        }
        if (s.fd >= 0)
            close(s.fd);
        s = Standby{};
    }

private:
    void spawner()
    {
        // Standbys are made while starts run: at the lowest priority (the
        // spawned controller and the container child it clones inherit it)
        // they take only CPU time the starts leave. A standby resumes the
        // daemon's priority when a start hands it a domain.
        setpriority(PRIO_PROCESS, pid_t(syscall(SYS_gettid)), 19);
        std::unique_lock<std::mutex> lock(mu_);
        for (;;) {
            cv_.wait(lock, [&] { return spawning_; });
            while (!binary_.empty() && ready_.size() < kSize) {
                std::string binary = binary_;
                lock.unlock();
                Standby s;
                bool ok = spawn(binary, s);
                lock.lock();
                if (!ok)
                    break;
                if (binary != binary_) {
                    discard(s);
                    continue;
                }
                ready_.push_back(s);
                cv_.notify_all();
            }
            spawning_ = false;
            cv_.notify_all();
        }
    }

    // Runs on the spawner thread only (drop() waits for it to be idle).
    bool spawn(const std::string &binary, Standby &s)
    {
        if (zygote_binary_ != binary) {
            zygote_binary_ = binary;
            zygote_failures_ = 0;
        }
        if (zygote_.pidfd >= 0 && (zygote_.binary != binary || waitPidfd(zygote_.pidfd, 0)))
            discard(zygote_);
        // The zygote is an ordinary controller process that forks the
        // standbys. One that keeps failing (a policy that does not let the
        // pidfd through, say) is given up: the standbys are exec'd then.
        if (zygote_failures_ < kZygoteTries) {
            if (zygote_.pidfd >= 0 || exec(binary, "--zygote-fd", zygote_)) {
                if (forkFromZygote(s)) {
                    zygote_failures_ = 0;
                    return true;
                }
                discard(zygote_);
            }
            if (++zygote_failures_ == kZygoteTries)
                g_message("lxvirt: the zygote controller failed %d times: standby controllers are exec'd from now on",
                          kZygoteTries);
        }
        return exec(binary, "--monitor-fd", s);
    }

    // Asks the zygote for a standby: "fork" + [its end of a new monitor
    // socket]; the answer is "pid N" + [pidfd].
    bool forkFromZygote(Standby &s)
    {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            return false;
        FdGuard mine(sv[0]), theirs(sv[1]);
        int give = theirs.get();
        if (sendWithFds(zygote_.fd, "fork", 4, &give, 1) != 4)
            return false;
        pollfd p{zygote_.fd, POLLIN, 0};
        if (poll(&p, 1, 5000) != 1)
            return false;
        char buf[32];
        std::vector<int> got;
        ssize_t n = recvWithFds(zygote_.fd, buf, sizeof buf - 1, got);
        FdGuard pidfd(got.empty() ? -1 : got[0]);
        for (size_t i = 1; i < got.size(); ++i)
            close(got[i]);
        if (n <= 4 || memcmp(buf, "pid ", 4) != 0 || pidfd.get() < 0)
            return false;
        buf[n] = '\0';
        s.pid = pid_t(atol(buf + 4));
        s.fd = mine.release();
        s.pidfd = pidfd.release();
        s.binary = zygote_.binary;
        s.is_child = false;
        return s.pid > 0;
    }

    // Spawns `binary` with `role_flag` 3 (its end of a new socket pair).
    static bool exec(const std::string &binary, const char *role_flag, Standby &s)
    {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            return false;
        FdGuard mine(sv[0]), theirs(sv[1]);
        pid_t pid = -1;
        if (spawnController(binary, {binary, role_flag, "3", "--name", std::string(kStandbyNameRoom, ' ')}, -1,
                            {theirs.get()}, pid) != 0)
            return false;
        int pidfd = pidfdOpen(pid);
        if (pidfd < 0) {
            kill(pid, SIGKILL);
            siginfo_t si{};
            waitid(P_PID, id_t(pid), &si, WEXITED);
            return false;
        }
        s.pid = pid;
        s.fd = mine.release();
        s.pidfd = pidfd;
        s.binary = binary;
        return true;
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::string binary_;         // what the standbys run; empty: none wanted
    std::vector<Standby> ready_; // oldest first
    // Touched by the spawner thread only.
    static constexpr int kZygoteTries = 3;
    Standby zygote_;             // forks the standbys
    std::string zygote_binary_;  // what zygote_failures_ counts for
    int zygote_failures_ = 0;    // in a row
    bool spawning_ = false;      // the spawner thread is topping up
    bool thread_started_ = false;
};

// Passes the start to a standby: "assign T0 NICE" + [spec memfd, log fd];
// NICE is the daemon's own, which the standby (spawned at nice 19) resumes.
bool assign(const Standby &s, int memfd, int logfd, int64_t t0_ns)
{
    errno = 0;
    int nice = getpriority(PRIO_PROCESS, 0);
    if (errno)
        nice = 0;
    std::string text = "assign " + std::to_string(t0_ns) + " " + std::to_string(nice);
    int fds[2] = {memfd, logfd};
    ssize_t n = sendWithFds(s.fd, text.data(), text.size(), fds, 2);
    return n == ssize_t(text.size());
}

[[noreturn]] void startError(const std::string &name, const Paths &paths, const std::string &detail)
{
    std::string tail = logTail(logPath(paths, name));
    throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC,
                      "guest failed to start: " + detail + (tail.empty() ? "" : "\n" + tail));
}

void mkdirs(const std::string &dir)
{
    for (size_t i = 1; i <= dir.size(); ++i)
        if (i == dir.size() || dir[i] == '/')
            mkdir(dir.substr(0, i).c_str(), 0755);
}

} // namespace

std::unique_ptr<Container> Container::start(const DomainDef &def, const Paths &paths, ExitCallback on_exit,
                                            StartTimings *timings, const StartSecurity &security)
{
    int64_t t_start = nowUs();
    controller::Spec spec = buildSpec(def, paths);
    spec.exec_label = security.exec_label;
    spec.exec_label_fatal = security.exec_label_fatal;
    spec.mount_context = security.mount_options;
    std::string wire = controller::encodeSpec(spec);

    mkdirs(paths.run_dir);
    mkdirs(paths.log_dir);
    FdGuard memfd(memfd_create("lxvirt-spec", MFD_CLOEXEC));
    if (memfd.get() < 0 || write(memfd.get(), wire.data(), wire.size()) != ssize_t(wire.size()))
        throw Error::system(errno, "cannot write the controller spec");

    std::string log = logPath(paths, def.name);
    FdGuard logfd(open(log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600));
    if (logfd.get() < 0)
        throw Error::system(errno, "cannot open log file '" + log + "'");

    int64_t t_spawn = nowUs();
    StandbyPool &pool = StandbyPool::get();
    Standby sb;
    pid_t pid = -1;
    bool is_child = true; // standbys forked by the zygote are not
    FdGuard mine, ctrl_pidfd;
    if (def.name.size() <= kStandbyNameRoom && pool.take(paths.controller_binary, sb)) {
        std::string header = timestamp() + ": starting up (standby controller " + std::to_string(sb.pid) + ")\n";
        (void)!write(logfd.get(), header.data(), header.size());
        if (assign(sb, memfd.get(), logfd.get(), t_spawn * 1000)) {
            pid = sb.pid;
            is_child = sb.is_child;
            mine = FdGuard(sb.fd);
            ctrl_pidfd = FdGuard(sb.pidfd);
        } else {
            StandbyPool::discard(sb);
        }
    }
    if (pid < 0) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
            throw Error::system(errno, "cannot create the monitor socket pair");
        FdGuard theirs(sv[1]);
        mine = FdGuard(sv[0]);
        std::vector<std::string> args = {paths.controller_binary, "--name", def.name, "--spec-fd", "3",
                                         "--monitor-fd", "4", "--t0", std::to_string(t_spawn * 1000)};
        std::string header = timestamp() + ": starting up\n";
        for (auto &a : args)
            header += (a == args.front() ? "" : " ") + a;
        header += "\n";
        (void)!write(logfd.get(), header.data(), header.size());
        int rc = spawnController(paths.controller_binary, args, logfd.get(), {memfd.get(), theirs.get()}, pid);
        if (rc != 0)
            throw Error::system(rc, "cannot execute '" + paths.controller_binary + "'");
        ctrl_pidfd = FdGuard(pidfdOpen(pid));
    }
    // Whatever the outcome, the next start finds a standby.
    struct Refill {
        StandbyPool &pool;
        const std::string &binary;
        ~Refill() { pool.refill(binary); }
    } refill{pool, paths.controller_binary};

    auto reap = [&]() { waitGone(pid, ctrl_pidfd.get(), is_child, 5000); };
    std::string msg;
    int r = recvMessage(mine.get(), msg, nullptr, 60000);
    if (r != 1) {
        if (r == -2) {
            syscall(SYS_pidfd_send_signal, ctrl_pidfd.get(), SIGKILL, nullptr, 0);
            reap();
            removeCgroup(paths.cgroup_root, spec.partition + "/" + spec.cgroup_name);
            unlink((paths.run_dir + "/" + def.name + ".sock").c_str());
            startError(def.name, paths, "timed out waiting for the controller");
        }
        reap();
        startError(def.name, paths, "the controller exited before reporting");
    }
    if (msg.rfind("failed ", 0) == 0) {
        reap();
        // failed ERRNO \t STEP \t PATH
        std::string rest = msg.substr(7);
        size_t t1 = rest.find('\t'), t2 = rest.find('\t', t1 == std::string::npos ? 0 : t1 + 1);
        int err = atoi(rest.c_str());
        std::string step = t1 == std::string::npos ? rest : rest.substr(t1 + 1, t2 - t1 - 1);
        std::string path = t2 == std::string::npos ? "" : rest.substr(t2 + 1);
        std::string detail = step + (path.empty() ? "" : " '" + path + "'") +
                             (err ? std::string(": ") + std::strerror(err) : "");
        startError(def.name, paths, detail);
    }
    std::vector<std::string> words = splitWords(msg);
    std::string word = words.empty() ? std::string() : words[0];
    long initpid = wordAsLong(words, 1);
    std::string cgpath = words.size() > 2 ? words[2] : std::string();
    if (word != "started" || initpid <= 0) {
        syscall(SYS_pidfd_send_signal, ctrl_pidfd.get(), SIGKILL, nullptr, 0);
        reap();
        startError(def.name, paths, "unexpected controller reply '" + msg + "'");
    }
    StartTimings st;
    st.steps.emplace_back("prepare", long(t_spawn - t_start));
    for (size_t wi = 3; wi < words.size(); ++wi) {
        word = words[wi];
        size_t eq = word.find('=');
        if (eq == std::string::npos)
            continue;
        if (word.compare(0, eq, "t") == 0)
            st.steps.emplace_back("report", long(nowUs() - atoll(word.c_str() + 2) / 1000));
        else
            st.steps.emplace_back(word.substr(0, eq), atol(word.c_str() + eq + 1));
    }
    st.total_us = long(nowUs() - t_start);
    if (timings)
        *timings = st;

    auto mon = std::make_shared<Monitor>();
    mon->name = def.name;
    mon->paths = paths;
    mon->fd = mine.release();
    mon->ctrl_pidfd = ctrl_pidfd.release();
    mon->ctrl_is_child = is_child;
    mon->ctrl_pid = pid;
    mon->cgroup_path = cgpath;
    mon->on_exit = std::move(on_exit);
    fcntl(mon->fd, F_SETFL, fcntl(mon->fd, F_GETFL) | O_NONBLOCK);

    RunState state;
    state.controller_pid = pid;
    state.init_pid = pid_t(initpid);
    state.cgroup_path = cgpath;
    for (unsigned i = 0; i < spec.consoles; ++i)
        state.console_ttys.push_back("console" + std::to_string(i));
    std::unique_ptr<ContainerImpl> c;
    try {
        c = std::make_unique<ContainerImpl>(mon, state, def);
    } catch (...) {
        // Cannot manage what we cannot see: take it down again.
        sendText(mon->fd, "destroy");
        mon->drainUntilEof(30000);
        mon->finish();
        throw;
    }
    watch(mon);
    return c;
}

std::unique_ptr<Container> Container::reconnect(const DomainDef &def, const RunState &state,
                                                const Paths &paths, ExitCallback on_exit)
{
    std::string path = paths.run_dir + "/" + def.name + ".sock";
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, "socket path too long: " + path);
    memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    FdGuard fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (fd.get() < 0 || connect(fd.get(), reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0)
        throw Error::system(errno, "cannot connect to the controller of '" + def.name + "' at " + path);
    std::string hello;
    if (recvMessage(fd.get(), hello, nullptr, 5000) != 1)
        throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC,
                          "no greeting from the controller of '" + def.name + "'");
    std::vector<std::string> hw = splitWords(hello);
    std::string word = hw.empty() ? std::string() : hw[0], cgpath = hw.size() > 3 ? hw[3] : std::string();
    long ctrl = wordAsLong(hw, 1), init = wordAsLong(hw, 2);
    if (word != "hello" || ctrl <= 0 || init <= 0)
        throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, "bad greeting '" + hello + "'");
    if (state.controller_pid && state.controller_pid != ctrl)
        throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC,
                          "controller of '" + def.name + "' is pid " + std::to_string(ctrl) +
                              ", state says " + std::to_string(state.controller_pid));
    FdGuard pidfd(pidfdOpen(pid_t(ctrl)));
    if (pidfd.get() < 0)
        throw Error::system(errno, "controller of '" + def.name + "' is gone");

    auto mon = std::make_shared<Monitor>();
    mon->name = def.name;
    mon->paths = paths;
    mon->ctrl_pid = pid_t(ctrl);
    mon->cgroup_path = cgpath;
    // An earlier handle in this same process may have spawned it: then it
    // is still ours to reap.
    siginfo_t si{};
    mon->ctrl_is_child = waitid(P_PID, id_t(ctrl), &si, WEXITED | WNOHANG | WNOWAIT) == 0;
    mon->on_exit = std::move(on_exit);
    mon->fd = fd.release();
    mon->ctrl_pidfd = pidfd.release();
    fcntl(mon->fd, F_SETFL, fcntl(mon->fd, F_GETFL) | O_NONBLOCK);

    RunState st = state;
    st.controller_pid = pid_t(ctrl);
    st.init_pid = pid_t(init);
    st.cgroup_path = cgpath;
    auto c = std::make_unique<ContainerImpl>(mon, st, def);
    watch(mon);
    return c;
}

void Container::dropStandby()
{
    StandbyPool::get().drop();
}

void Container::cleanupStale(const DomainDef &def, const RunState &state, const Paths &paths)
{
    if (state.controller_pid > 0) {
        // Only a process that really is this domain's controller is killed.
        std::string cmd = readWholeFile("/proc/" + std::to_string(state.controller_pid) + "/cmdline");
        for (char &ch : cmd)
            if (ch == '\0')
                ch = ' ';
        if (cmd.find("lxvirt-controller") != std::string::npos &&
            cmd.find("--name " + def.name + " ") != std::string::npos) {
            int pfd = pidfdOpen(state.controller_pid);
            if (pfd >= 0) {
                syscall(SYS_pidfd_send_signal, pfd, SIGKILL, nullptr, 0);
                waitPidfd(pfd, 5000);
                siginfo_t si{};
                waitid(P_PIDFD, id_t(pfd), &si, WEXITED | WNOHANG);
                close(pfd);
            }
        }
    }
    std::string cg = state.cgroup_path;
    if (cg.empty()) {
        std::string part = def.resource_partition.empty() ? "/machine" : def.resource_partition;
        cg = part + "/" + cgroup::cgroupNameFor(def.name);
    }
    removeCgroup(paths.cgroup_root, cg);
    unlink((paths.run_dir + "/" + def.name + ".sock").c_str());
}

} // namespace lxvirt::lxc
