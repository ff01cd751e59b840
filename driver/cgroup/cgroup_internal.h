// Private to driver/cgroup: what detection found, shared file helpers and
// the two backend factories. Not for use outside driver/cgroup (and its tests).
#pragma once

#include "driver/cgroup/cgroup.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lxvirt::cgroup::detail {

// What Manager::detect() learned about the host (or the fake tree).
struct Layout {
    std::string root;
    // v1: controller name -> directory of the hierarchy that has it. Two
    // controllers mounted together ("cpu,cpuacct") map to the same directory.
    std::map<std::string, std::string> v1;
    // Directory of a cgroup2 mount (pure v2: == root; hybrid: ROOT/unified).
    std::string v2;
    // Controllers listed in the v2 root's cgroup.controllers.
    std::vector<std::string> v2Controllers;
    // True when the layout came from the directory shape of a fake tree, not
    // from the mount table: files a real kernel would create in a new cgroup
    // are then created on first write.
    bool fake = false;
};

// The v1 controllers lxvirt drives, in the order hierarchies are set up.
const std::vector<std::string>& v1Controllers();

std::unique_ptr<Manager> makeV1Manager(const Layout& layout);
std::unique_ptr<Manager> makeV2Manager(const Layout& layout);

// Parses the mount table text (/proc/self/mountinfo format) into a layout for
// hierarchies mounted at or below `root`. Exposed for tests.
Layout layoutFromMountinfo(const std::string& mountinfo, const std::string& root);

// --- file helpers; every error names the file ----------------------------

bool exists(const std::string& path);
bool isDir(const std::string& path);
// Writes `value` in a single write(2), as the kernel wants it. `create`
// allows creating the file (fake trees only).
void writeFile(const std::string& path, const std::string& value, bool create);
std::string readFile(const std::string& path);
// writeFile() for a backend: on a fake tree it may create the file and it
// appends "PATH-BELOW-ROOT<TAB>VALUE" to ROOT/.writes, so tests can check
// every write and its order (a real kernel keeps command files such as
// devices.allow write-only, a fake file only keeps the last value).
void put(const Layout& layout, const std::string& path, const std::string& value);
// Trimmed content parsed as an unsigned integer.
uint64_t readU64(const std::string& path);
// Value of `key` in a "key value" per line file (memory.events, cpu.stat,
// memory.oom_control, cpuacct.stat); throws naming the file when missing.
uint64_t readKeyed(const std::string& path, const std::string& key);
// PIDs listed in DIR/cgroup.procs of DIR and every cgroup below it.
void collectProcs(const std::string& dir, std::vector<pid_t>& out);
// Creates every missing component of `rel` below `base`; returns the
// directories it created, outermost first.
std::vector<std::string> mkdirs(const std::string& base, const std::string& rel);
// rmdir `dir` after its child cgroups (deepest first); retries EBUSY
// briefly because the kernel frees a cgroup a moment after its last task
// exits. ENOENT is not an error. `fake` also unlinks plain files first.
void removeTree(const std::string& dir, bool fake);
// Normalises a cgroup path: leading '/', no trailing '/', no "." or ".."
// components (throws VIR_ERR_INVALID_ARG for those).
std::string normalisePath(const std::string& path);
// Signals each pid; returns how many signals were delivered.
int signalAll(const std::vector<pid_t>& pids, int sig);

[[noreturn]] void throwParse(const std::string& path, const std::string& text);

}  // namespace lxvirt::cgroup::detail
