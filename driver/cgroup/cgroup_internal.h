// Private to driver/cgroup: what detection found, shared file helpers and
// the two backend factories. Not for use outside driver/cgroup (and its tests).
#pragma once

#include "driver/cgroup/cgroup.h"
#include "xml/text.h"

#include <atomic>
#include <map>
#include <memory>
#include <set>
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

    // Derived once by finishLayout() and then shared read-only by every
    // Manager and Cgroup made from this layout (a daemon holds one cgroup
    // per running domain, so nothing per-layout is copied into them).
    // v1: the distinct hierarchy directories, in v1Controllers() order.
    std::vector<std::string> v1Dirs;
    // v1 controller names served by the v2 mount on a hybrid host.
    std::set<std::string> v2Serves;
    // The layout a hybrid host's v2 twin cgroup uses (v1 part cleared).
    std::shared_ptr<const Layout> twin;
};
using LayoutPtr = std::shared_ptr<const Layout>;

// The v1 controllers lxvirt drives, in the order hierarchies are set up.
const std::vector<std::string>& v1Controllers();

// Fills the derived fields of a freshly detected layout.
void finishLayout(Layout& layout);

// The layout of `root` as Manager::detect() sees it. Layouts read from the
// mount table are cached per root and re-read only when the mount table
// changed (poll(2) on /proc/self/mountinfo reports every mount and unmount
// in our namespace); fake trees are probed afresh on every call.
LayoutPtr detectLayout(const std::string& root);

std::unique_ptr<Manager> makeV1Manager(LayoutPtr layout);
std::unique_ptr<Manager> makeV2Manager(LayoutPtr layout);

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
// readFile() without the exception: 0, or the errno of open/read. For
// callers to whom a vanished cgroup is an ordinary outcome (a throw costs
// ~2 us and maps the unwinder's tables into the daemon).
int tryReadFile(const std::string& path, std::string& out);
// The errno of a cgroup file that is gone: ENOENT by path, ENODEV through a
// file opened before its cgroup was removed.
bool isGone(int err);
// writeFile() for a backend: on a fake tree it may create the file and it
// appends "PATH-BELOW-ROOT<TAB>VALUE" to ROOT/.writes, so tests can check
// every write and its order (a real kernel keeps command files such as
// devices.allow write-only, a fake file only keeps the last value).
void put(const Layout& layout, const std::string& path, const std::string& value);
// Trimmed content parsed as an unsigned integer.
uint64_t readU64(const std::string& path);
uint64_t parseU64Text(const std::string& path, const std::string& text);  // `text` read from `path`
// Value of `key` in a "key value" per line file (memory.events, cpu.stat,
// memory.oom_control, cpuacct.stat); throws naming the file when missing.
uint64_t readKeyed(const std::string& path, const std::string& key);
uint64_t keyedValue(const std::string& path, const std::string& text, const std::string& key);

// A counter file read over and over (cpuacct.usage, memory.usage_in_bytes,
// cpu.stat, memory.current: what every virDomainGetInfo reads). The file is
// opened on first use and then re-read with pread(2) at offset 0, which
// skips the path walk, open and close of readFile() (5x cheaper on
// cgroupfs: ~2.5 us instead of ~12 us per counter here). Safe to use from several threads at once: the fd is published
// once with a compare-and-swap and closed only by the destructor. When the
// cached fd no longer reads (the kernel answers ENODEV once the cgroup is
// removed; a fake tree's file was unlinked) the read falls back to
// readFile(path), which reads a re-created file or throws naming the path.
// No fd is kept once half of RLIMIT_NOFILE is in use (reads go by path).
class CounterFile {
public:
    CounterFile() = default;
    ~CounterFile();
    CounterFile(const CounterFile&) = delete;
    CounterFile& operator=(const CounterFile&) = delete;

    // The file's whole content; `path` is called only to open the file or
    // to fall back, so the hot path builds no path string.
    template <class PathFn>
    std::string read(PathFn&& path, bool fake) const
    {
        std::string out;
        if (readCached(out, fake))
            return out;
        std::string p = path();
        if (fd_.load(std::memory_order_acquire) < 0 && openAndRead(p, out, fake))
            return out;
        return readFile(p);
    }
    // Whether an fd is held (for tests).
    bool isOpen() const { return fd_.load(std::memory_order_acquire) >= 0; }

private:
    bool readCached(std::string& out, bool fake) const;
    bool openAndRead(const std::string& path, std::string& out, bool fake) const;
    mutable std::atomic<int> fd_{-1};
};
// PIDs listed in DIR/cgroup.procs of DIR and every cgroup below it.
void collectProcs(const std::string& dir, std::vector<pid_t>& out);
// Creates every missing component of `rel` below `base`; returns the
// directories it created, outermost first.
std::vector<std::string> mkdirs(const std::string& base, const std::string& rel);
// rmdir `dir` after its child cgroups (deepest first); retries EBUSY
// briefly because the kernel frees a cgroup a moment after its last task
// exits. ENOENT is not an error. `fake` also unlinks plain files first.
void removeTree(const std::string& dir, bool fake);

// The domain cgroup's name as one path component ("/name"); throws naming
// it otherwise.
std::string singleComponent(const std::string& name);

// Removes, deepest first, the directories a create() made unless it got to
// the end (done = true): a failed create leaves no cgroup behind.
struct DirRollback {
    std::vector<std::string> dirs;
    bool fake;
    bool done = false;
    explicit DirRollback(bool fake_tree) : fake(fake_tree) {}
    DirRollback(const DirRollback&) = delete;
    DirRollback& operator=(const DirRollback&) = delete;
    ~DirRollback();
};
// Normalises a cgroup path: leading '/', no trailing '/', no "." or ".."
// components (throws VIR_ERR_INVALID_ARG for those).
std::string normalisePath(const std::string& path);
// Signals each pid; returns how many signals were delivered.
int signalAll(const std::vector<pid_t>& pids, int sig);

[[noreturn]] void throwParse(const std::string& path, const std::string& text);

// Plain string splitting. driver/cgroup uses no iostreams: the first
// stream a process uses maps ~450 KiB of libstdc++ (locale, num_get) into
// its RSS, and lxvirtd is to stay under 8 MB with 100 domains running.
using lxvirt::splitOn;                                              // xml/text.h: every field, empty ones too
std::vector<std::string> splitWords(const std::string& s);         // on runs of blanks and newlines
// Whole of `w` as a decimal number.
bool parseDecimal(const std::string& w, uint64_t& out);

}  // namespace lxvirt::cgroup::detail
