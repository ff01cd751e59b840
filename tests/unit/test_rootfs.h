// What every test that starts real containers needs first: root, the built
// lxvirt-controller and tests/init, and a temp dir holding a busybox root
// file system (tests/rootfs/mkrootfs.sh) with tests/init as /sbin/init.
#pragma once

#include "tests/unit/tap.h"

#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lxvirt::test {

struct TestRootfs {
    std::string tmp;        // /tmp/lxvirt-TAG-XXXXXX (0755)
    std::string rootfs;     // tmp + "/rootfs"
    std::string controller; // the built lxvirt-controller
    std::string skip;       // why the tests cannot run here; empty when ready

    explicit TestRootfs(const std::string &tag)
    {
        if (geteuid() != 0) {
            skip = "needs root (namespaces, cgroups, mounts)";
            return;
        }
        struct stat st;
        std::string init = buildDir() + "/tests/init";
        controller = buildDir() + "/driver/controller/lxvirt-controller";
        if (stat(init.c_str(), &st) != 0 || stat(controller.c_str(), &st) != 0) {
            skip = "tests/init or lxvirt-controller not built";
            return;
        }
        std::string pattern = "/tmp/lxvirt-" + tag + "-XXXXXX";
        if (!mkdtemp(pattern.data())) {
            skip = "mkdtemp failed";
            return;
        }
        tmp = pattern;
        // Root in a user namespace is an unprivileged host uid: it must be
        // able to reach the rootfs and the run dir.
        chmod(tmp.c_str(), 0755);
        rootfs = tmp + "/rootfs";
        int rc = system(("sh " + srcDir() + "/tests/rootfs/mkrootfs.sh " + rootfs + " " + init).c_str());
        rc = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
        if (rc == 77)
            skip = "busybox-static is not installed";
        else if (rc != 0)
            skip = "tests/rootfs/mkrootfs.sh failed";
    }
};

} // namespace lxvirt::test
