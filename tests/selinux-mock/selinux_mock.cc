// LD_PRELOAD stand-in for libselinux, so the selinux security model can be
// driven on a host where SELinux is not active.
//
// Every call that would change a label is appended to the log file named by
// $SELINUX_MOCK_LOG, one line each:
//     setexeccon <label>          setexeccon(_raw), or a write to /proc/.../attr/exec
//     setsockcreatecon <label>    a write to /proc/.../attr/sockcreate ("(null)"
//                                 for an empty write: back to the default)
//     setfilecon <path> <label>   (l)setfilecon(_raw)
//     getcon / getpidcon <pid> / getfilecon <path>
// Answers come from the environment, read at each call:
//     SELINUX_MOCK_ENABLED    is_selinux_enabled()          (default 1)
//     SELINUX_MOCK_ENFORCE    security_getenforce()         (default 1)
//     SELINUX_MOCK_CON        getcon()                      (default virtd_t:s0-s0:c0.c1023)
//     SELINUX_MOCK_PIDCON_<pid>, SELINUX_MOCK_PIDCON        getpidcon(); unset -> ESRCH
//     SELINUX_MOCK_TYPES      types security_check_context() accepts (space separated)
//     SELINUX_MOCK_LXC_CONTEXTS  selinux_lxc_contexts_path()
//     SELINUX_MOCK_FILECON    label of a file never set     (default tmp_t:s0)
//     SELINUX_MOCK_DEFAULT_FILECON  selabel_lookup() answer; unset -> ENOENT
//     SELINUX_MOCK_SOCKCREATE_ERRNO open() of attr/sockcreate fails with it
// File labels set through the mock are kept in memory and read back.
// The container child writes its exec label straight to /proc (no
// allocation after clone), and lxvirt-controller (no libselinux) its socket
// creation label, so open()/write() of attr/exec and attr/sockcreate are
// caught too.
#include <selinux/label.h>
#include <selinux/selinux.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

std::mutex mu;
std::map<std::string, std::string> &labels()
{
    static std::map<std::string, std::string> m;
    return m;
}

constexpr int kMaxTracked = 16;
// Open fds standing for an attr file, and which one (what its writes log).
int tracked[kMaxTracked] = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
const char *trackedAs[kMaxTracked] = {};

std::string env(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v ? v : fallback;
}

void logLine(const std::string &line)
{
    const char *path = getenv("SELINUX_MOCK_LOG");
    if (!path)
        return;
    int fd = static_cast<int>(
        syscall(SYS_openat, AT_FDCWD, path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    if (fd < 0)
        return;
    std::string l = line + "\n";
    syscall(SYS_write, fd, l.data(), l.size());
    syscall(SYS_close, fd);
}

int give(const std::string &value, char **out)
{
    *out = strdup(value.c_str());
    return *out ? 0 : -1;
}

// "setexeccon" / "setsockcreatecon" for the /proc/.../attr/ files the mock
// stands in for, else nullptr.
const char *attrCall(const char *path)
{
    std::size_t n = strlen(path);
    auto endsWith = [&](const char *tail) {
        std::size_t t = strlen(tail);
        return n > t && strcmp(path + n - t, tail) == 0;
    };
    if (strncmp(path, "/proc/", 6) != 0)
        return nullptr;
    if (endsWith("/attr/exec"))
        return "setexeccon";
    if (endsWith("/attr/sockcreate"))
        return "setsockcreatecon";
    return nullptr;
}

int openTracked(const char *path, int flags, mode_t mode)
{
    const char *call = attrCall(path);
    if (!call)
        return static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, flags, mode));
    if (strcmp(call, "setsockcreatecon") == 0) {
        const char *fail = getenv("SELINUX_MOCK_SOCKCREATE_ERRNO");
        if (fail && atoi(fail) > 0) {
            errno = atoi(fail);
            return -1;
        }
    }
    int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/dev/null", O_WRONLY | (flags & O_CLOEXEC)));
    if (fd < 0)
        return fd;
    std::lock_guard lock(mu);
    for (int i = 0; i < kMaxTracked; ++i)
        if (tracked[i] < 0) {
            tracked[i] = fd;
            trackedAs[i] = call;
            break;
        }
    return fd;
}

// The call a write to fd stands for, or nullptr.
const char *trackedCall(int fd)
{
    std::lock_guard lock(mu);
    for (int i = 0; i < kMaxTracked; ++i)
        if (tracked[i] == fd)
            return trackedAs[i];
    return nullptr;
}

mode_t modeArg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? static_cast<mode_t>(va_arg(ap, int)) : 0;
}

int setFile(const char *path, const char *con)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -1;
    logLine(std::string("setfilecon ") + path + " " + con);
    std::lock_guard lock(mu);
    labels()[path] = con;
    return 0;
}

int getFile(const char *path, char **con)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -1;
    logLine(std::string("getfilecon ") + path);
    std::lock_guard lock(mu);
    auto it = labels().find(path);
    int rc = give(
        it != labels().end() ? it->second : env("SELINUX_MOCK_FILECON", "system_u:object_r:tmp_t:s0"), con);
    return rc < 0 ? -1 : static_cast<int>(strlen(*con) + 1);
}

char selabelDummy;

} // namespace

extern "C" {

// Lets tests see that they run under the mock, and forget set labels.
int selinux_mock_loaded(void)
{
    return 1;
}
void selinux_mock_reset(void)
{
    std::lock_guard lock(mu);
    labels().clear();
}

int is_selinux_enabled(void)
{
    return atoi(env("SELINUX_MOCK_ENABLED", "1").c_str());
}
int security_getenforce(void)
{
    return atoi(env("SELINUX_MOCK_ENFORCE", "1").c_str());
}

int getcon_raw(char **con)
{
    logLine("getcon");
    return give(env("SELINUX_MOCK_CON", "system_u:system_r:virtd_t:s0-s0:c0.c1023"), con);
}
int getcon(char **con)
{
    return getcon_raw(con);
}

int getpidcon_raw(pid_t pid, char **con)
{
    logLine("getpidcon " + std::to_string(pid));
    const char *v = getenv(("SELINUX_MOCK_PIDCON_" + std::to_string(pid)).c_str());
    if (!v)
        v = getenv("SELINUX_MOCK_PIDCON");
    if (!v) {
        errno = ESRCH;
        return -1;
    }
    return give(v, con);
}
int getpidcon(pid_t pid, char **con)
{
    return getpidcon_raw(pid, con);
}

int security_check_context_raw(const char *con)
{
    // user:role:type:level with a known type and an s0 level.
    std::string c = con;
    std::size_t a = c.find(':'), b = a == std::string::npos ? a : c.find(':', a + 1),
                t = b == std::string::npos ? b : c.find(':', b + 1);
    if (t == std::string::npos || c.compare(t + 1, 2, "s0") != 0) {
        errno = EINVAL;
        return -1;
    }
    std::string type = " " + c.substr(b + 1, t - b - 1) + " ";
    std::string known =
        " " + env("SELINUX_MOCK_TYPES", "svirt_lxc_net_t svirt_sandbox_file_t virt_var_lib_t virtd_t tmp_t") +
        " ";
    if (known.find(type) == std::string::npos) {
        errno = EINVAL;
        return -1;
    }
    return 0;
}
int security_check_context(const char *con)
{
    return security_check_context_raw(con);
}

const char *selinux_lxc_contexts_path(void)
{
    static std::string path;
    path = env("SELINUX_MOCK_LXC_CONTEXTS", "/nonexistent/lxc_contexts");
    return path.c_str();
}

int setexeccon_raw(const char *con)
{
    logLine(std::string("setexeccon ") + (con ? con : "(null)"));
    return 0;
}
int setexeccon(const char *con)
{
    return setexeccon_raw(con);
}

int lsetfilecon_raw(const char *path, const char *con)
{
    return setFile(path, con);
}
int lsetfilecon(const char *path, const char *con)
{
    return setFile(path, con);
}
int setfilecon_raw(const char *path, const char *con)
{
    return setFile(path, con);
}
int setfilecon(const char *path, const char *con)
{
    return setFile(path, con);
}
int lgetfilecon_raw(const char *path, char **con)
{
    return getFile(path, con);
}
int lgetfilecon(const char *path, char **con)
{
    return getFile(path, con);
}
int getfilecon_raw(const char *path, char **con)
{
    return getFile(path, con);
}
int getfilecon(const char *path, char **con)
{
    return getFile(path, con);
}

void freecon(char *con)
{
    free(con);
}

struct selabel_handle *selabel_open(unsigned int, const struct selinux_opt *, unsigned)
{
    return reinterpret_cast<struct selabel_handle *>(&selabelDummy);
}
void selabel_close(struct selabel_handle *) {}
int selabel_lookup_raw(struct selabel_handle *, char **con, const char *key, int)
{
    logLine(std::string("selabel_lookup ") + key);
    const char *v = getenv("SELINUX_MOCK_DEFAULT_FILECON");
    if (!v) {
        errno = ENOENT;
        return -1;
    }
    return give(v, con);
}
int selabel_lookup(struct selabel_handle *h, char **con, const char *key, int type)
{
    return selabel_lookup_raw(h, con, key, type);
}

int open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = modeArg(flags, ap);
    va_end(ap);
    return openTracked(path, flags, mode);
}
int open64(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = modeArg(flags, ap);
    va_end(ap);
    return openTracked(path, flags, mode);
}
int __open_2(const char *path, int flags)
{
    return openTracked(path, flags, 0);
}
int __open64_2(const char *path, int flags)
{
    return openTracked(path, flags, 0);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    const char *call = fd >= 0 ? trackedCall(fd) : nullptr;
    if (call) {
        std::string label(static_cast<const char *>(buf), n);
        while (!label.empty() && (label.back() == '\0' || label.back() == '\n'))
            label.pop_back();
        logLine(std::string(call) + " " + (label.empty() ? "(null)" : label));
        return static_cast<ssize_t>(n);
    }
    return syscall(SYS_write, fd, buf, n);
}

int close(int fd)
{
    {
        std::lock_guard lock(mu);
        for (int &t : tracked)
            if (t == fd)
                t = -1;
    }
    return static_cast<int>(syscall(SYS_close, fd));
}

} // extern "C"
