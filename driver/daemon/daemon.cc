#include "driver/daemon/daemon.h"

#include "driver/daemon/log.h"
#include "driver/daemon/server.h"

#include <glib-unix.h>
#include <algorithm>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var"
#endif
#ifndef PACKAGE_VERSION_STRING
#define PACKAGE_VERSION_STRING "0"
#endif

namespace lxvirt::daemon {

namespace {

// The system instance always uses /run: it is where clients look, whatever
// prefix the package was configured with.
constexpr const char* kSystemRunDir = "/run/lxvirt";
constexpr const char* kCompatRunDir = "/run/libvirt";

struct Options {
    gchar* config = nullptr;
    gchar* root = nullptr;
    gchar* listen = nullptr;
    gchar* pid_file = nullptr;
    gchar* log_file = nullptr;
    gboolean daemonize = FALSE;
    gboolean verbose = FALSE;
    gboolean version = FALSE;
    gboolean compat = FALSE;
    ~Options()
    {
        g_free(config);
        g_free(root);
        g_free(listen);
        g_free(pid_file);
        g_free(log_file);
    }
};

std::string absPath(const std::string& p)
{
    if (p.empty() || p[0] == '/')
        return p;
    char* cwd = g_get_current_dir();
    std::string out = std::string(cwd) + "/" + p;
    g_free(cwd);
    return out;
}

DaemonPaths makePaths(const Options& o)
{
    DaemonPaths p;
    if (o.root) {
        p.root = absPath(o.root);
        p.run_dir = p.root + "/run";
        p.config_dir = p.root + "/etc";
        p.log_dir = p.root + "/log";
    } else {
        p.run_dir = kSystemRunDir;
        p.config_dir = std::string(SYSCONFDIR) + "/lxvirt";
        p.log_dir = std::string(LOCALSTATEDIR) + "/log/lxvirt";
    }
    p.state_dir = p.run_dir + "/lxc";
    p.domain_config_dir = p.config_dir + "/lxc";
    p.config_file = o.config ? absPath(o.config) : p.config_dir + "/lxvirtd.conf";
    p.socket = p.run_dir + "/lxvirtd-sock";
    p.socket_ro = p.run_dir + "/lxvirtd-sock-ro";
    p.lock_file = p.run_dir + "/lxvirtd.lock";
    p.pid_file = o.pid_file ? absPath(o.pid_file) : p.run_dir + "/lxvirtd.pid";
    return p;
}

void mkdirs(const std::string& path, mode_t mode)
{
    if (g_mkdir_with_parents(path.c_str(), mode) < 0)
        throw Error::system(errno, "cannot create directory '" + path + "'", VIR_FROM_NONE);
}

// The config file is optional: a missing file means all defaults.
GKeyFile* loadConfig(const std::string& file, bool required)
{
    GKeyFile* kf = g_key_file_new();
    GError* err = nullptr;
    if (!g_key_file_load_from_file(kf, file.c_str(), G_KEY_FILE_NONE, &err)) {
        bool missing = g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT);
        std::string msg = err->message;
        g_error_free(err);
        if (!missing || required) {
            g_key_file_free(kf);
            throw Error::make(VIR_ERR_CONF_SYNTAX, VIR_FROM_CONF, "cannot load '" + file + "': " + msg);
        }
    }
    return kf;
}

mode_t parseMode(const std::string& s, mode_t fallback)
{
    if (s.empty())
        return fallback;
    char* end = nullptr;
    long v = std::strtol(s.c_str(), &end, 8);
    if (*end || v < 0 || v > 07777)
        throw Error::make(VIR_ERR_CONF_SYNTAX, VIR_FROM_CONF, "bad socket mode '" + s + "'");
    return static_cast<mode_t>(v);
}

ServerConfig serverConfig(GKeyFile* conf)
{
    ServerConfig c;
    c.workers = static_cast<unsigned>(std::max(1, confInt(conf, "daemon", "workers", 4)));
    c.max_clients = static_cast<unsigned>(std::max(1, confInt(conf, "daemon", "max_clients", 5000)));
    c.max_client_requests = static_cast<unsigned>(std::max(1, confInt(conf, "daemon", "max_client_requests", 16)));
    c.keepalive_interval = confInt(conf, "daemon", "keepalive_interval", 5);
    c.keepalive_count = confInt(conf, "daemon", "keepalive_count", 5);
    c.inline_queries = confBool(conf, "daemon", "inline_queries", true);
    c.busy_poll_us = std::clamp(confInt(conf, "daemon", "busy_poll_us", 50), 0, 10000);
    return c;
}

void applyLogging(GKeyFile* conf, const Options& o, const DaemonPaths& paths)
{
    LogLevel level = LogLevel::Info;
    std::string lv = confString(conf, "daemon", "log_level", "info");
    if (!parseLogLevel(lv, level))
        throw Error::make(VIR_ERR_CONF_SYNTAX, VIR_FROM_CONF, "bad log_level '" + lv + "'");
    if (o.verbose)
        level = LogLevel::Debug;
    std::string file = o.log_file ? absPath(o.log_file) : confString(conf, "daemon", "log_file", "");
    if (file.empty() && o.daemonize)
        file = paths.log_dir + "/lxvirtd.log";
    if (!file.empty() && file[0] != '/')
        file = paths.log_dir + "/" + file;
    logSetup(level, file);
}

// Holds the per-root instance lock for the life of the process.
class InstanceLock {
public:
    explicit InstanceLock(const std::string& path)
    {
        fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd_ < 0)
            throw Error::system(errno, "cannot open lock file '" + path + "'", VIR_FROM_NONE);
        if (::flock(fd_, LOCK_EX | LOCK_NB) < 0) {
            int err = errno;
            ::close(fd_);
            if (err == EWOULDBLOCK)
                throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_NONE,
                                  "another lxvirtd is already running with lock file '" + path + "'");
            throw Error::system(err, "cannot lock '" + path + "'", VIR_FROM_NONE);
        }
        std::string pid = std::to_string(getpid()) + "\n";
        if (::ftruncate(fd_, 0) == 0) {
            ssize_t ignored = ::pwrite(fd_, pid.data(), pid.size(), 0);
            (void)ignored;
        }
    }
    ~InstanceLock() { ::close(fd_); }

private:
    int fd_ = -1;
};

void writePidFile(const std::string& path)
{
    std::string tmp = path + ".new";
    FILE* f = std::fopen(tmp.c_str(), "we");
    if (!f)
        throw Error::system(errno, "cannot write pid file '" + path + "'", VIR_FROM_NONE);
    std::fprintf(f, "%d\n", static_cast<int>(getpid()));
    std::fclose(f);
    if (std::rename(tmp.c_str(), path.c_str()) < 0)
        throw Error::system(errno, "cannot write pid file '" + path + "'", VIR_FROM_NONE);
}

// Forks into the background. The parent waits until the child reports that
// it is listening (or why it failed) and exits with that status.
int daemonize(int& notifyFd)
{
    int pfd[2];
    if (::pipe2(pfd, O_CLOEXEC) < 0)
        throw Error::system(errno, "pipe", VIR_FROM_NONE);
    pid_t pid = ::fork();
    if (pid < 0)
        throw Error::system(errno, "fork", VIR_FROM_NONE);
    if (pid > 0) {
        ::close(pfd[1]);
        char status = 1;
        if (::read(pfd[0], &status, 1) != 1)
            status = 1;
        _exit(status);
    }
    ::close(pfd[0]);
    ::setsid();
    int nul = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (nul >= 0) {
        ::dup2(nul, STDIN_FILENO);
        ::dup2(nul, STDOUT_FILENO);
        ::dup2(nul, STDERR_FILENO);
        if (nul > STDERR_FILENO)
            ::close(nul);
    }
    notifyFd = pfd[1];
    return 0;
}

void notifyParent(int& fd, char status)
{
    if (fd < 0)
        return;
    ssize_t ignored = ::write(fd, &status, 1);
    (void)ignored;
    ::close(fd);
    fd = -1;
}

// systemd socket activation: LISTEN_FDS sockets from fd 3, named by
// FileDescriptorName= (a name ending in "-ro" is the read-only socket).
int adoptActivatedSockets(Server& server)
{
    const char* pidStr = std::getenv("LISTEN_PID");
    const char* fdsStr = std::getenv("LISTEN_FDS");
    if (!pidStr || !fdsStr || std::atol(pidStr) != getpid())
        return 0;
    int n = std::atoi(fdsStr);
    const char* namesStr = std::getenv("LISTEN_FDNAMES");
    gchar** names = g_strsplit(namesStr ? namesStr : "", ":", -1);
    for (int i = 0; i < n; ++i) {
        int fd = 3 + i;
        std::string name = (names && i < static_cast<int>(g_strv_length(names))) ? names[i] : "";
        bool ro = name.size() >= 3 && name.compare(name.size() - 3, 3, "-ro") == 0;
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        server.adopt(fd, ro);
        LOG_INFO("daemon", "adopted activated socket fd " + std::to_string(fd) + (ro ? " (read-only)" : ""));
    }
    g_strfreev(names);
    unsetenv("LISTEN_PID");
    unsetenv("LISTEN_FDS");
    unsetenv("LISTEN_FDNAMES");
    return n;
}

}  // namespace

std::string confString(GKeyFile* conf, const char* group, const char* key, const std::string& fallback)
{
    if (!conf || !g_key_file_has_key(conf, group, key, nullptr))
        return fallback;
    gchar* v = g_key_file_get_string(conf, group, key, nullptr);
    std::string out = v ? v : fallback;
    g_free(v);
    return out;
}

bool confBool(GKeyFile* conf, const char* group, const char* key, bool fallback)
{
    if (!conf || !g_key_file_has_key(conf, group, key, nullptr))
        return fallback;
    GError* err = nullptr;
    gboolean v = g_key_file_get_boolean(conf, group, key, &err);
    if (err) {
        std::string msg = err->message;
        g_error_free(err);
        throw Error::make(VIR_ERR_CONF_SYNTAX, VIR_FROM_CONF, std::string("[") + group + "] " + key + ": " + msg);
    }
    return v;
}

int confInt(GKeyFile* conf, const char* group, const char* key, int fallback)
{
    if (!conf || !g_key_file_has_key(conf, group, key, nullptr))
        return fallback;
    GError* err = nullptr;
    int v = g_key_file_get_integer(conf, group, key, &err);
    if (err) {
        std::string msg = err->message;
        g_error_free(err);
        throw Error::make(VIR_ERR_CONF_SYNTAX, VIR_FROM_CONF, std::string("[") + group + "] " + key + ": " + msg);
    }
    return v;
}

int runDaemon(int argc, char** argv, const DriverFactory& factory)
{
    Options o;
    GOptionEntry entries[] = {
        {"config", 'f', 0, G_OPTION_ARG_FILENAME, &o.config, "Configuration file (GLib key file)", "FILE"},
        {"root", 'r', 0, G_OPTION_ARG_FILENAME, &o.root, "Put run, config and log directories under DIR", "DIR"},
        {"listen", 'l', 0, G_OPTION_ARG_FILENAME, &o.listen, "Listen on this socket path (read-write)", "PATH"},
        {"daemon", 'd', 0, G_OPTION_ARG_NONE, &o.daemonize, "Run in the background", nullptr},
        {"pid-file", 'p', 0, G_OPTION_ARG_FILENAME, &o.pid_file, "Write the daemon pid to FILE", "FILE"},
        {"log-file", 0, 0, G_OPTION_ARG_FILENAME, &o.log_file, "Write the log to FILE instead of stderr", "FILE"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &o.verbose, "Log debug messages", nullptr},
        {"version", 'V', 0, G_OPTION_ARG_NONE, &o.version, "Print the version and exit", nullptr},
        {"virtlxcd-compat", 0, 0, G_OPTION_ARG_NONE, &o.compat,
         "Also listen on /run/libvirt/virtlxcd-sock[-ro] so plain lxc:///system clients find us", nullptr},
        {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
    };
    GOptionContext* octx = g_option_context_new("- libvirt-compatible LXC container daemon");
    g_option_context_add_main_entries(octx, entries, nullptr);
    GError* gerr = nullptr;
    bool ok = g_option_context_parse(octx, &argc, &argv, &gerr);
    g_option_context_free(octx);
    if (!ok) {
        std::fprintf(stderr, "lxvirtd: %s\n", gerr->message);
        g_error_free(gerr);
        return 2;
    }
    if (o.version) {
        std::printf("lxvirtd (lxvirt) %s\n", PACKAGE_VERSION_STRING);
        return 0;
    }
    if (argc > 1) {
        std::fprintf(stderr, "lxvirtd: unexpected argument '%s'\n", argv[1]);
        return 2;
    }

    std::signal(SIGPIPE, SIG_IGN);
    // One fd per client and per console, two per running domain (its cgroup
    // usage counters, kept open for getInfo): take all the descriptors we may.
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    DaemonPaths paths = makePaths(o);
    int notifyFd = -1;
    GKeyFile* conf = nullptr;
    try {
        conf = loadConfig(paths.config_file, o.config != nullptr);
        mkdirs(paths.log_dir, 0700);
        applyLogging(conf, o, paths);
        if (o.daemonize)
            daemonize(notifyFd);

        mkdirs(paths.run_dir, 0755);
        mkdirs(paths.state_dir, 0700);
        mkdirs(paths.domain_config_dir, 0700);
        mkdirs(paths.log_dir + "/lxc", 0700);
        InstanceLock lock(paths.lock_file);
        LOG_INFO("daemon", std::string("lxvirtd ") + PACKAGE_VERSION_STRING + " starting, pid " +
                               std::to_string(getpid()) + ", config " + paths.config_file);

        GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
        std::unique_ptr<DomainDriver> driver = factory(paths, conf);
        int rc = 0;
        {
            Server server(*driver, serverConfig(conf), nullptr);
            mode_t rwMode = parseMode(confString(conf, "daemon", "unix_sock_rw_perms", "0600"), 0600);
            mode_t roMode = parseMode(confString(conf, "daemon", "unix_sock_ro_perms", "0666"), 0666);
            if (adoptActivatedSockets(server) == 0) {
                std::string rw = o.listen ? absPath(o.listen) : confString(conf, "daemon", "listen", paths.socket);
                std::string ro = confString(conf, "daemon", "listen_ro", o.listen ? rw + "-ro" : paths.socket_ro);
                server.listen(rw, rwMode, false);
                if (!ro.empty())
                    server.listen(ro, roMode, true);
                if (o.compat || confBool(conf, "daemon", "virtlxcd_compat", false)) {
                    mkdirs(kCompatRunDir, 0755);
                    server.listen(std::string(kCompatRunDir) + "/virtlxcd-sock", rwMode, false);
                    server.listen(std::string(kCompatRunDir) + "/virtlxcd-sock-ro", roMode, true);
                }
            }
            writePidFile(paths.pid_file);

            struct SignalCtx {
                GMainLoop* loop;
                Server* server;
                const Options* opts;
                const DaemonPaths* paths;
                GKeyFile** conf;
            } sctx{loop, &server, &o, &paths, &conf};
            auto onTerm = [](gpointer d) -> gboolean {
                auto* s = static_cast<SignalCtx*>(d);
                LOG_INFO("daemon", "shutting down on signal");
                g_main_loop_quit(s->loop);
                return G_SOURCE_CONTINUE;
            };
            guint sigTerm = g_unix_signal_add(SIGTERM, onTerm, &sctx);
            guint sigInt = g_unix_signal_add(SIGINT, onTerm, &sctx);
            guint sigHup = g_unix_signal_add(
                SIGHUP,
                [](gpointer d) -> gboolean {
                    auto* s = static_cast<SignalCtx*>(d);
                    try {
                        GKeyFile* fresh = loadConfig(s->paths->config_file, s->opts->config != nullptr);
                        applyLogging(fresh, *s->opts, *s->paths);
                        s->server->reconfigure(serverConfig(fresh));
                        g_key_file_free(*s->conf);
                        *s->conf = fresh;
                        LOG_INFO("daemon", "configuration reloaded from " + s->paths->config_file);
                    } catch (const std::exception& e) {
                        LOG_ERROR("daemon", std::string("reload failed, keeping the old configuration: ") + e.what());
                    }
                    return G_SOURCE_CONTINUE;
                },
                &sctx);

            notifyParent(notifyFd, 0);
            LOG_INFO("daemon", "ready");
            g_main_loop_run(loop);
            g_source_remove(sigTerm);
            g_source_remove(sigInt);
            g_source_remove(sigHup);
        }
        // Containers keep running: the driver only lets go of them.
        driver.reset();
        ::unlink(paths.pid_file.c_str());
        g_main_loop_unref(loop);
        g_key_file_free(conf);
        LOG_INFO("daemon", "stopped");
        return rc;
    } catch (const std::exception& e) {
        LOG_ERROR("daemon", e.what());
        if (logToFile() && notifyFd < 0)
            std::fprintf(stderr, "lxvirtd: %s\n", e.what());
        notifyParent(notifyFd, 1);
        if (conf)
            g_key_file_free(conf);
        return 1;
    }
}

}  // namespace lxvirt::daemon
