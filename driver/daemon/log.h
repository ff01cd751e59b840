// Structured log lines: "TIMESTAMP: PID: LEVEL : CATEGORY: message", to
// stderr or a file, filtered by level. Thread-safe.
#pragma once

#include <string>

namespace lxvirt::daemon {

enum class LogLevel { Debug = 1, Info = 2, Warning = 3, Error = 4 };

// Sets the minimum level and the output (empty path: stderr). Throws
// lxvirt::Error when the file cannot be opened.
void logSetup(LogLevel min, const std::string& file);
LogLevel logLevel();
// True when log lines go to a file rather than stderr.
bool logToFile();
// Parses "debug", "info", "warning", "error" or 1-4; returns false if bad.
bool parseLogLevel(const std::string& text, LogLevel& out);

void logMessage(LogLevel level, const char* category, const std::string& message);

}  // namespace lxvirt::daemon

#define LXV_LOG(level, cat, msg)                                                   \
    do {                                                                           \
        if (static_cast<int>(level) >= static_cast<int>(::lxvirt::daemon::logLevel())) \
            ::lxvirt::daemon::logMessage(level, cat, msg);                         \
    } while (0)
#define LOG_DEBUG(cat, msg) LXV_LOG(::lxvirt::daemon::LogLevel::Debug, cat, msg)
#define LOG_INFO(cat, msg) LXV_LOG(::lxvirt::daemon::LogLevel::Info, cat, msg)
#define LOG_WARN(cat, msg) LXV_LOG(::lxvirt::daemon::LogLevel::Warning, cat, msg)
#define LOG_ERROR(cat, msg) LXV_LOG(::lxvirt::daemon::LogLevel::Error, cat, msg)
