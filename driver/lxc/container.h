// Daemon-side handle on one running container: it launches lxvirt-controller,
// waits until the container's init has been exec'd, talks to the controller
// over NAME.sock in the run dir, and tears everything down.
//
// The registry in driver/lxc/driver.cc owns one Container per running domain.
// Nothing here knows about RPC or about persistent definitions.
#pragma once

#include "driver/cgroup/cgroup.h"
#include "xml/domain_def.h"
#include "xml/error.h"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lxvirt::lxc {

struct Paths {
    std::string run_dir;             // NAME.sock, NAME.xml (live state), NAME.console ...
    std::string log_dir;             // NAME.log
    std::string controller_binary;   // lxvirt-controller
    std::string cgroup_root = "/sys/fs/cgroup";
};

// Why a container stopped (reported once, through the exit callback).
enum class ExitReason {
    Shutdown,   // init exited by itself (status 0 or by SIGTERM it asked for)
    Reboot,     // init asked for a reboot (SIGHUP / reboot(2) in the pid ns)
    Crashed,    // init died of a signal or non-zero status, or the controller died
    Destroyed,  // destroy() was called
};

// Everything needed to find the container again after a daemon restart;
// the driver persists it in the live state file.
struct RunState {
    pid_t controller_pid = 0;
    pid_t init_pid = 0;                // as seen from the host
    std::string cgroup_path;           // relative, e.g. "/machine/web.lxc"
    std::vector<std::string> console_ttys;  // host-visible description per console
};

// Per-step start latency, microseconds (printed by bench/ and the log).
struct StartTimings {
    std::vector<std::pair<std::string, long>> steps;  // {"clone", 310}, {"cgroups", 120}, ...
    long total_us = 0;
};

// sVirt settings for one start, from the daemon's SecurityManager
// (execLabel()/mountOptions() of the live definition). Empty = unconfined.
struct StartSecurity {
    std::string exec_label;       // what init is exec'd with
    bool exec_label_fatal = false; // the host enforces: failing to set it aborts the start
    std::string mount_options;    // `context="..."` for /dev, devpts and type='ram' mounts
};

class Container {
public:
    using ExitCallback = std::function<void(ExitReason)>;

    virtual ~Container() = default;

    // Launches the container and returns once init has been exec'd. On any
    // failure nothing is left behind (no cgroup, mount, process, fd) and an
    // Error is thrown whose message names the step, the path and the errno
    // text, followed by the last lines of LOG_DIR/NAME.log.
    // `on_exit` is called exactly once, from the GLib main context, when the
    // container is gone (and its resources released).
    static std::unique_ptr<Container> start(const DomainDef& def, const Paths& paths,
                                            ExitCallback on_exit, StartTimings* timings = nullptr,
                                            const StartSecurity& security = {});

    // Re-attaches to a container started by an earlier daemon. Throws if the
    // controller is gone; the caller then calls cleanupStale() and reports
    // the domain shut off (crashed).
    static std::unique_ptr<Container> reconnect(const DomainDef& def, const RunState& state,
                                                const Paths& paths, ExitCallback on_exit);
    // Removes whatever a dead controller left (cgroup, sockets, mounts).
    static void cleanupStale(const DomainDef& def, const RunState& state, const Paths& paths);

    // Every start hands its spec to a controller spawned ahead of need (and
    // spawns the next one); this ends the waiting one, e.g. before counting
    // the daemon's fds or when the controller binary changes.
    static void dropStandby();

    virtual const RunState& runState() const = 0;

    // Hard stop: SIGKILL the whole container now (graceful: SIGTERM first,
    // SIGKILL after a grace period). Returns when every process is gone and
    // the resources are released; on_exit(Destroyed) has been called.
    virtual void destroy(bool graceful) = 0;
    // VIR_DOMAIN_SHUTDOWN_* / VIR_DOMAIN_REBOOT_* flags (INITCTL, SIGNAL).
    virtual void shutdown(unsigned flags) = 0;
    virtual void reboot(unsigned flags) = 0;
    virtual void suspend() = 0;
    virtual void resume() = 0;
    virtual bool isPaused() const = 0;

    virtual cgroup::Cgroup& cgroup() = 0;

    // See DomainDriver::openConsole.
    virtual int openConsole(int index, bool force) = 0;
    virtual std::vector<int> openNamespaces() = 0;
};

}  // namespace lxvirt::lxc
