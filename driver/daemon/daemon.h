// lxvirtd's process shell: options, the key-file config, directories under
// --root, the instance lock, the pid file, daemonizing, signals and the GLib
// main loop around a Server. The hypervisor driver comes from a factory so
// that tests can run the same daemon over a test double.
#pragma once

#include "driver/domain_driver.h"

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

namespace lxvirt::daemon {

struct DaemonPaths {
    std::string root;               // --root, empty for the system instance
    std::string run_dir;            // sockets, lock, pid file
    std::string state_dir;          // live domain state (run_dir/lxc)
    std::string config_dir;         // lxvirtd.conf lives here
    std::string domain_config_dir;  // persistent domain XML (config_dir/lxc)
    std::string log_dir;            // daemon log; per-domain logs in log_dir/lxc
    std::string config_file;
    std::string socket, socket_ro;
    std::string lock_file, pid_file;
};

// Reads a key from the [group] of the config, or returns the fallback.
std::string confString(GKeyFile* conf, const char* group, const char* key, const std::string& fallback);
bool confBool(GKeyFile* conf, const char* group, const char* key, bool fallback);
int confInt(GKeyFile* conf, const char* group, const char* key, int fallback);

using DriverFactory = std::function<std::unique_ptr<DomainDriver>(const DaemonPaths& paths, GKeyFile* conf)>;

// Runs the daemon until SIGTERM/SIGINT; returns the process exit status.
int runDaemon(int argc, char** argv, const DriverFactory& factory);

}  // namespace lxvirt::daemon
