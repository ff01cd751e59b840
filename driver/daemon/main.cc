// lxvirtd: the daemon over the LXC driver.
#include "driver/daemon/daemon.h"
#include "driver/lxc/driver.h"

#include <unistd.h>

#include <climits>

#ifndef PKGLIBEXECDIR
#define PKGLIBEXECDIR "/usr/libexec/lxvirt"
#endif

using namespace lxvirt;

namespace {

// The installed controller, or, when lxvirtd runs from its build tree
// (not installed yet), the one built next to it.
std::string defaultController()
{
    std::string installed = std::string(PKGLIBEXECDIR) + "/lxvirt-controller";
    if (access(installed.c_str(), X_OK) == 0)
        return installed;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        std::string dir(self, static_cast<size_t>(n));
        dir.resize(dir.rfind('/'));
        std::string built = dir + "/driver/controller/lxvirt-controller";
        if (access(built.c_str(), X_OK) == 0)
            return built;
    }
    return installed;
}

}  // namespace

int main(int argc, char** argv)
{
    return daemon::runDaemon(argc, argv, [](const daemon::DaemonPaths& paths, GKeyFile* conf) {
        lxc::DriverConfig c;
        c.config_dir = paths.domain_config_dir;
        c.paths.run_dir = paths.state_dir;
        c.paths.log_dir = paths.log_dir + "/lxc";
        c.paths.controller_binary =
            daemon::confString(conf, "lxc", "controller", defaultController());
        c.paths.cgroup_root = daemon::confString(conf, "lxc", "cgroup_root", c.paths.cgroup_root);
        c.cgroup_partition = daemon::confString(conf, "lxc", "cgroup_partition", c.cgroup_partition);
        c.security_driver = daemon::confString(conf, "lxc", "security_driver", c.security_driver);
        c.run_autostart = daemon::confBool(conf, "lxc", "autostart", c.run_autostart);
        return lxc::createDriver(c);
    });
}
