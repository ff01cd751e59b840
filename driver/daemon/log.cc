#include "driver/daemon/log.h"

#include "xml/error.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <fcntl.h>
#include <mutex>
#include <sys/time.h>
#include <unistd.h>

namespace lxvirt::daemon {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::mutex g_mu;
int g_fd = STDERR_FILENO;

const char* levelName(LogLevel l)
{
    switch (l) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warning: return "warning";
    case LogLevel::Error: return "error";
    }
    return "?";
}
}  // namespace

void logSetup(LogLevel min, const std::string& file)
{
    g_level = static_cast<int>(min);
    if (file.empty())
        return;
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
        throw Error::system(errno, "cannot open log file '" + file + "'", VIR_FROM_NONE);
    std::lock_guard lock(g_mu);
    if (g_fd != STDERR_FILENO)
        ::close(g_fd);
    g_fd = fd;
}

LogLevel logLevel()
{
    return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}

bool logToFile()
{
    std::lock_guard lock(g_mu);
    return g_fd != STDERR_FILENO;
}

bool parseLogLevel(const std::string& t, LogLevel& out)
{
    if (t == "debug" || t == "1") out = LogLevel::Debug;
    else if (t == "info" || t == "2") out = LogLevel::Info;
    else if (t == "warning" || t == "warn" || t == "3") out = LogLevel::Warning;
    else if (t == "error" || t == "4") out = LogLevel::Error;
    else return false;
    return true;
}

void logMessage(LogLevel level, const char* category, const std::string& message)
{
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char stamp[64];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    char line[256];
    int n = snprintf(line, sizeof line, "%s.%03d+0000: %d: %s : %s: ", stamp, static_cast<int>(tv.tv_usec / 1000),
                     static_cast<int>(getpid()), levelName(level), category);
    std::string out(line, n > 0 ? static_cast<size_t>(n) : 0);
    out += message;
    out += '\n';
    std::lock_guard lock(g_mu);
    ssize_t ignored = ::write(g_fd, out.data(), out.size());
    (void)ignored;
}

}  // namespace lxvirt::daemon
