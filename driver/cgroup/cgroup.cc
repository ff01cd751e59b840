// Host probing (which cgroup generation owns which controller), the naming
// rule for domain cgroups, and the file helpers both backends share.
#include "driver/cgroup/cgroup.h"
#include "driver/cgroup/cgroup_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>

namespace lxvirt::cgroup {

namespace detail {

namespace {

// Closes the fd on every path out.
class Fd {
public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

class Dir {
public:
    explicit Dir(const std::string& path) : d_(::opendir(path.c_str())) {}
    ~Dir()
    {
        if (d_)
            ::closedir(d_);
    }
    Dir(const Dir&) = delete;
    Dir& operator=(const Dir&) = delete;
    DIR* get() const { return d_; }

private:
    DIR* d_;
};

std::vector<std::string> split(const std::string& s, char sep) { return splitOn(s, sep); }

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescapeOctal(const std::string& s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() &&
            std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isdigit(static_cast<unsigned char>(s[i + 2])) &&
            std::isdigit(static_cast<unsigned char>(s[i + 3]))) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

std::string stripTrailingSlash(std::string s)
{
    while (s.size() > 1 && s.back() == '/')
        s.pop_back();
    return s;
}

std::vector<std::string> subdirs(const std::string& dir)
{
    std::vector<std::string> out;
    Dir d(dir);
    if (!d.get())
        return out;
    while (struct dirent* e = ::readdir(d.get())) {
        std::string n = e->d_name;
        if (n == "." || n == "..")
            continue;
        if (e->d_type == DT_DIR || (e->d_type == DT_UNKNOWN && isDir(dir + "/" + n)))
            out.push_back(n);
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string trim(const std::string& s)
{
    size_t b = s.find_first_not_of(" \t\n");
    if (b == std::string::npos)
        return "";
    size_t e = s.find_last_not_of(" \t\n");
    return s.substr(b, e - b + 1);
}

Layout layoutFromDirectories(const std::string& root)
{
    // A fake tree stands in for the mount table: ROOT/cgroup.controllers
    // means a v2 mount at ROOT; ROOT/<ctrl>[,<ctrl>...] directories are v1
    // hierarchies; a v1 tree may carry a v2 "unified" directory as well.
    Layout l;
    l.root = root;
    l.fake = true;
    if (exists(root + "/cgroup.controllers")) {
        l.v2 = root;
        return l;
    }
    const auto& known = v1Controllers();
    for (const auto& sub : subdirs(root)) {
        std::string dir = root + "/" + sub;
        if (exists(dir + "/cgroup.controllers")) {
            if (l.v2.empty())
                l.v2 = dir;
            continue;
        }
        for (const auto& c : split(sub, ',')) {
            if (std::find(known.begin(), known.end(), c) != known.end() && !l.v1.count(c))
                l.v1[c] = dir;
        }
    }
    return l;
}

void sleepMs(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

}  // namespace


std::vector<std::string> splitWords(const std::string& s)
{
    std::vector<std::string> out;
    size_t i = 0;
    for (;;) {
        i = s.find_first_not_of(" \t\n", i);
        if (i == std::string::npos)
            return out;
        size_t end = s.find_first_of(" \t\n", i);
        out.push_back(s.substr(i, end == std::string::npos ? std::string::npos : end - i));
        if (end == std::string::npos)
            return out;
        i = end;
    }
}

bool parseDecimal(const std::string& w, uint64_t& out)
{
    if (w.empty() || w.find_first_not_of("0123456789") != std::string::npos)
        return false;
    errno = 0;
    out = std::strtoull(w.c_str(), nullptr, 10);
    return errno == 0;
}

const std::vector<std::string>& v1Controllers()
{
    static const std::vector<std::string> list = {"cpu", "cpuacct", "cpuset", "memory",
                                                  "devices", "freezer", "blkio"};
    return list;
}

Layout layoutFromMountinfo(const std::string& mountinfo, const std::string& rootIn)
{
    Layout l;
    l.root = stripTrailingSlash(rootIn);
    const auto& known = v1Controllers();
    for (const auto& line : splitOn(mountinfo, '\n')) {
        // id parent maj:min root mountpoint opts [optional...] - fstype source superopts
        auto f = split(line, ' ');
        auto dash = std::find(f.begin(), f.end(), "-");
        if (f.size() < 5 || dash == f.end() || std::distance(dash, f.end()) < 4)
            continue;
        std::string mp = stripTrailingSlash(unescapeOctal(f[4]));
        if (mp != l.root && mp.rfind(l.root + "/", 0) != 0)
            continue;
        const std::string& fstype = *(dash + 1);
        const std::string& superOpts = *(dash + 3);
        if (fstype == "cgroup") {
            for (const auto& opt : split(superOpts, ',')) {
                if (std::find(known.begin(), known.end(), opt) != known.end() && !l.v1.count(opt))
                    l.v1[opt] = mp;
            }
        } else if (fstype == "cgroup2") {
            // A v2 mount at the root itself wins over one further down.
            if (l.v2.empty() || mp == l.root)
                l.v2 = mp;
        }
    }
    return l;
}

bool exists(const std::string& path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0;
}

bool isDir(const std::string& path)
{
    struct stat st;
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void writeFile(const std::string& path, const std::string& value, bool create)
{
    int flags = O_WRONLY | O_TRUNC | O_CLOEXEC | (create ? O_CREAT : 0);
    Fd fd(::open(path.c_str(), flags, 0644));
    if (fd.get() < 0)
        throw Error::system(errno, "Unable to write to '" + path + "'", VIR_FROM_CGROUP);
    ssize_t n;
    do {
        n = ::write(fd.get(), value.data(), value.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        throw Error::system(errno, "Unable to write to '" + path + "'", VIR_FROM_CGROUP);
    if (static_cast<size_t>(n) != value.size())
        throw Error::system(EIO, "Unable to write to '" + path + "'", VIR_FROM_CGROUP);
}

void put(const Layout& layout, const std::string& path, const std::string& value)
{
    writeFile(path, value, layout.fake);
    if (!layout.fake)
        return;
    std::string rel = path.rfind(layout.root + "/", 0) == 0 ? path.substr(layout.root.size()) : path;
    Fd fd(::open((layout.root + "/.writes").c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
    std::string line = rel + "\t" + value + "\n";
    if (fd.get() < 0 || ::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        throw Error::system(errno, "Unable to write to '" + layout.root + "/.writes'", VIR_FROM_CGROUP);
}

int tryReadFile(const std::string& path, std::string& out)
{
    out.clear();
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        return errno;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno;
        if (n == 0)
            return 0;
        out.append(buf, static_cast<size_t>(n));
    }
}

std::string readFile(const std::string& path)
{
    std::string out;
    if (int err = tryReadFile(path, out))
        throw Error::system(err, "Unable to read from '" + path + "'", VIR_FROM_CGROUP);
    return out;
}

bool isGone(int err) { return err == ENOENT || err == ENODEV; }

void throwParse(const std::string& path, const std::string& text)
{
    throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_CGROUP,
                      "Unable to parse '" + text + "' from '" + path + "'");
}

namespace {
uint64_t parseU64(const std::string& path, const std::string& text)
{
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
        throwParse(path, text);
    errno = 0;
    char* end = nullptr;
    unsigned long long v = std::strtoull(text.c_str(), &end, 10);
    if (errno != 0 || *end != '\0')
        throwParse(path, text);
    return v;
}
}  // namespace

uint64_t readU64(const std::string& path)
{
    return parseU64(path, trim(readFile(path)));
}

uint64_t parseU64Text(const std::string& path, const std::string& text)
{
    return parseU64(path, trim(text));
}

uint64_t readKeyed(const std::string& path, const std::string& key)
{
    return keyedValue(path, readFile(path), key);
}

uint64_t keyedValue(const std::string& path, const std::string& text, const std::string& key)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string::npos)
            eol = text.size();
        size_t sp = text.find(' ', pos);
        if (sp < eol && sp - pos == key.size() && text.compare(pos, key.size(), key) == 0)
            return parseU64(path, trim(text.substr(sp + 1, eol - sp - 1)));
        pos = eol + 1;
    }
    throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_CGROUP,
                      "Unable to find '" + key + "' in '" + path + "'");
}

CounterFile::~CounterFile()
{
    int fd = fd_.load(std::memory_order_acquire);
    if (fd >= 0)
        ::close(fd);
}

bool CounterFile::readCached(std::string& out, bool fake) const
{
    int fd = fd_.load(std::memory_order_acquire);
    if (fd < 0)
        return false;
    // Counter files are short (cpu.stat, the longest, is ~250 bytes); a
    // longer one is read by path instead.
    char buf[1024];
    size_t len = 0;
    for (;;) {
        ssize_t n = ::pread(fd, buf + len, sizeof buf - len, static_cast<off_t>(len));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        len += static_cast<size_t>(n);
        if (len == sizeof buf)
            return false;
        // A read shorter than asked is the whole file: a cgroup file is one
        // seq_file show() handed out at once, and a plain file ended. This
        // saves the pread that would only return 0.
        if (n == 0 || static_cast<size_t>(n) < sizeof buf - (len - static_cast<size_t>(n)))
            break;
    }
    if (fake) {
        // An unlinked plain file keeps reading its old content, where a
        // removed kernel cgroup file answers ENODEV.
        struct stat st;
        if (::fstat(fd, &st) != 0 || st.st_nlink == 0)
            return false;
    }
    out.assign(buf, len);
    return true;
}

bool CounterFile::openAndRead(const std::string& path, std::string& out, bool fake) const
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    // Kept fds must not starve clients and consoles: past half the fd limit
    // the counter is read by path each time instead.
    struct rlimit rl;
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        static_cast<rlim_t>(fd) >= rl.rlim_cur / 2) {
        ::close(fd);
        return false;
    }
    int expected = -1;
    if (!fd_.compare_exchange_strong(expected, fd, std::memory_order_acq_rel))
        ::close(fd);  // another thread published its fd first
    return readCached(out, fake);
}

void collectProcs(const std::string& dir, std::vector<pid_t>& out)
{
    std::string procs = dir + "/cgroup.procs";
    std::string text;
    // Gone (removed concurrently: ENOENT, or ENODEV once open) or a fake
    // tree without the file. Not an exception: every destroy gets here.
    int err = tryReadFile(procs, text);
    if (err && !isGone(err))
        throw Error::system(err, "Unable to read from '" + procs + "'", VIR_FROM_CGROUP);
    if (err)
        text.clear();
    for (const auto& w : splitWords(text)) {
        uint64_t pid;
        if (!parseDecimal(w, pid) || pid == 0 || pid > INT32_MAX)
            break;  // as a stream read stops at the first non-number
        if (std::find(out.begin(), out.end(), static_cast<pid_t>(pid)) == out.end())
            out.push_back(static_cast<pid_t>(pid));
    }
    for (const auto& sub : subdirs(dir))
        collectProcs(dir + "/" + sub, out);
}

std::vector<std::string> mkdirs(const std::string& base, const std::string& rel)
{
    std::vector<std::string> created;
    std::string cur = base;
    for (const auto& comp : split(rel, '/')) {
        if (comp.empty())
            continue;
        cur += "/" + comp;
        if (::mkdir(cur.c_str(), 0755) == 0) {
            created.push_back(cur);
        } else if (errno != EEXIST) {
            int err = errno;
            for (auto it = created.rbegin(); it != created.rend(); ++it)
                ::rmdir(it->c_str());
            throw Error::system(err, "Unable to create cgroup '" + cur + "'", VIR_FROM_CGROUP);
        }
    }
    return created;
}

void removeTree(const std::string& dir, bool fake)
{
    if (!exists(dir))
        return;
    for (const auto& sub : subdirs(dir))
        removeTree(dir + "/" + sub, fake);
    if (fake) {
        // A fake tree's "kernel files" are ordinary files that block rmdir.
        Dir d(dir);
        while (struct dirent* e = d.get() ? ::readdir(d.get()) : nullptr) {
            std::string p = dir + "/" + e->d_name;
            if (!isDir(p))
                ::unlink(p.c_str());
        }
    }
    for (int attempt = 0;; ++attempt) {
        if (::rmdir(dir.c_str()) == 0 || errno == ENOENT)
            return;
        if (errno != EBUSY || attempt >= 100)
            throw Error::system(errno, "Unable to remove cgroup '" + dir + "'", VIR_FROM_CGROUP);
        sleepMs(10);
    }
}

std::string singleComponent(const std::string& name)
{
    std::string leaf = normalisePath(name);
    if (leaf.empty() || leaf.find('/', 1) != std::string::npos)
        throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                          "cgroup name '" + name + "' must be a single path component");
    return leaf;
}

DirRollback::~DirRollback()
{
    if (done)
        return;
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
        try {
            removeTree(*it, fake);
        } catch (const Error&) {
            // best effort: the original error is what matters
        }
    }
}

std::string normalisePath(const std::string& path)
{
    std::string out;
    for (const auto& comp : split(path, '/')) {
        if (comp.empty())
            continue;
        if (comp == "." || comp == "..")
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_CGROUP,
                              "cgroup path '" + path + "' must not contain '.' or '..'");
        out += "/" + comp;
    }
    return out;
}

int signalAll(const std::vector<pid_t>& pids, int sig)
{
    int n = 0;
    for (pid_t p : pids) {
        if (p > 0 && ::kill(p, sig) == 0)
            ++n;
    }
    return n;
}

}  // namespace detail

namespace detail {

namespace {

// Layouts read from the mount table, per root, while the table is unchanged.
struct LayoutCache {
    std::mutex mu;
    int fd = -1;      // /proc/self/mountinfo, kept open for poll(2)
    ino_t mntns = 0;  // the mount namespace that fd shows
    pid_t pid = 0;    // who opened it: a forked child must not share its poll state
    std::map<std::string, LayoutPtr> byRoot;
};

LayoutCache& layoutCache()
{
    static LayoutCache* cache = new LayoutCache;  // never destroyed: used by any thread until exit
    return *cache;
}

// Drops every cached layout if the mount table changed since the last call.
// Returns false if the mount table cannot be read. Cache lock held.
bool checkMountTable(LayoutCache& c)
{
    // An open mountinfo keeps showing the namespace it was opened in: a
    // process that moved to another one (unshare, setns) starts afresh, as
    // does a forked child (the "changed" flag lives in the open file, which
    // it shares with its parent).
    struct stat ns;
    ino_t mntns = ::stat("/proc/self/ns/mnt", &ns) == 0 ? ns.st_ino : 0;
    pid_t pid = ::getpid();
    if (c.fd >= 0 && pid != c.pid)
        c.fd = -1;  // the parent's; the child may have closed or reused the number (O_CLOEXEC anyway)
    if (c.fd >= 0 && mntns != c.mntns) {
        ::close(c.fd);
        c.fd = -1;
    }
    if (c.fd < 0) {
        c.fd = ::open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        c.mntns = mntns;
        c.pid = pid;
        c.byRoot.clear();
        return c.fd >= 0;
    }
    // The kernel flags POLLPRI|POLLERR on an open mountinfo once a mount or
    // unmount happened in our namespace since the last poll (and clears it).
    struct pollfd p = {c.fd, POLLPRI, 0};
    int n;
    do {
        n = ::poll(&p, 1, 0);
    } while (n < 0 && errno == EINTR);
    if (n != 0)
        c.byRoot.clear();
    return true;
}

bool readMountTable(LayoutCache& c, std::string& text)
{
    char buf[8192];
    off_t off = 0;
    for (;;) {
        ssize_t n = ::pread(c.fd, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        text.append(buf, static_cast<size_t>(n));
        off += n;
    }
}

void readV2Controllers(Layout& l)
{
    if (!l.v2.empty() && exists(l.v2 + "/cgroup.controllers"))
        l.v2Controllers = splitWords(readFile(l.v2 + "/cgroup.controllers"));
}

}  // namespace

void finishLayout(Layout& l)
{
    l.v1Dirs.clear();
    for (const auto& c : v1Controllers()) {
        auto it = l.v1.find(c);
        if (it != l.v1.end() && std::find(l.v1Dirs.begin(), l.v1Dirs.end(), it->second) == l.v1Dirs.end())
            l.v1Dirs.push_back(it->second);
    }

    // On a hybrid host the v2 mount is used only for what v1 lacks: a
    // controller that has no v1 mount but is in the v2 root's
    // cgroup.controllers, or freezing / device control (part of cgroup2's
    // core) when v1 has no freezer / devices hierarchy.
    l.v2Serves.clear();
    l.twin.reset();
    if (l.v1.empty() || l.v2.empty())
        return;
    const auto& v2 = l.v2Controllers;
    auto inV2 = [&](const char* c) { return std::find(v2.begin(), v2.end(), c) != v2.end(); };
    static const std::pair<const char*, const char*> names[] = {
        {"memory", "memory"}, {"cpu", "cpu"}, {"cpuacct", "cpu"}, {"cpuset", "cpuset"}, {"blkio", "io"}};
    for (const auto& [v1name, v2name] : names)
        if (!l.v1.count(v1name) && inV2(v2name))
            l.v2Serves.insert(v1name);
    for (const char* core : {"freezer", "devices"})
        if (!l.v1.count(core))
            l.v2Serves.insert(core);
    if (!l.v2Serves.empty()) {
        auto t = std::make_shared<Layout>(l);
        t->v1.clear();
        t->v1Dirs.clear();
        t->v2Serves.clear();
        l.twin = std::move(t);
    }
}

LayoutPtr detectLayout(const std::string& root)
{
    LayoutCache& c = layoutCache();
    {
        std::lock_guard<std::mutex> lk(c.mu);
        std::string mountinfo;
        if (checkMountTable(c)) {
            auto it = c.byRoot.find(root);
            if (it != c.byRoot.end())
                return it->second;
        }
        if (c.fd >= 0 && readMountTable(c, mountinfo)) {
            Layout l = layoutFromMountinfo(mountinfo, root);
            if (!l.v1.empty() || !l.v2.empty()) {
                l.root = root;
                readV2Controllers(l);
                finishLayout(l);
                auto p = std::make_shared<const Layout>(std::move(l));
                c.byRoot.emplace(root, p);
                return p;
            }
        }
    }
    // Not a mount (a fake tree in tests): its shape is read every time, as
    // a test may reshape it between calls.
    Layout l = layoutFromDirectories(root);
    l.root = root;
    readV2Controllers(l);
    finishLayout(l);
    return std::make_shared<const Layout>(std::move(l));
}

}  // namespace detail

std::unique_ptr<Manager> Manager::detect(const std::string& rootIn)
{
    using namespace detail;
    std::string root = rootIn.size() > 1 && rootIn.back() == '/' ? rootIn.substr(0, rootIn.size() - 1)
                                                                 : rootIn;
    LayoutPtr l = detectLayout(root);
    // Hybrid hosts (v1 controllers plus a near-empty cgroup2 at ROOT/unified)
    // are driven through v1; the v2 mount is left alone.
    if (!l->v1.empty())
        return makeV1Manager(std::move(l));
    if (!l->v2.empty())
        return makeV2Manager(std::move(l));
    throw Error::make(VIR_ERR_OPERATION_FAILED, VIR_FROM_CGROUP,
                      "no cgroup hierarchy found under '" + root + "'");
}

std::string cgroupNameFor(const std::string& domain_name)
{
    // Every byte that could split or hide the name ('/', control chars, '\')
    // becomes \xHH, so distinct names stay distinct.
    std::string esc;
    static const char hex[] = "0123456789abcdef";
    for (unsigned char c : domain_name) {
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f) {
            esc += "\\x";
            esc += hex[c >> 4];
            esc += hex[c & 15];
        } else {
            esc += static_cast<char>(c);
        }
    }
    std::string name = esc + ".lxc";
    // As libvirt: names the kernel or a controller could read as its own
    // ("cgroup.*", "cpu.*", hidden or '_'-prefixed) get a '_' in front.
    bool clash = name[0] == '.' || name[0] == '_' || name.rfind("cgroup.", 0) == 0;
    static const char* const prefixes[] = {"cpu.", "cpuacct.", "cpuset.", "memory.", "devices.",
                                           "freezer.", "blkio.", "io.", "pids.", "net_cls.",
                                           "net_prio.", "perf_event.", "hugetlb.", "rdma.", "misc.",
                                           "notify_on_release", "release_agent", "tasks"};
    for (const char* p : prefixes)
        clash = clash || name.rfind(p, 0) == 0;
    return clash ? "_" + name : name;
}

}  // namespace lxvirt::cgroup
