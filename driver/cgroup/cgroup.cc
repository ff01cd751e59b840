// Host probing (which cgroup generation owns which controller), the naming
// rule for domain cgroups, and the file helpers both backends share.
#include "driver/cgroup/cgroup.h"
#include "driver/cgroup/cgroup_internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <sstream>

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

std::vector<std::string> split(const std::string& s, char sep)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == sep) {
            out.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    out.push_back(cur);
    return out;
}

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
    std::istringstream in(mountinfo);
    std::string line;
    while (std::getline(in, line)) {
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

std::string readFile(const std::string& path)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0)
        throw Error::system(errno, "Unable to read from '" + path + "'", VIR_FROM_CGROUP);
    std::string out;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            throw Error::system(errno, "Unable to read from '" + path + "'", VIR_FROM_CGROUP);
        if (n == 0)
            break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

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

uint64_t readKeyed(const std::string& path, const std::string& key)
{
    std::istringstream in(readFile(path));
    std::string line;
    while (std::getline(in, line)) {
        auto sp = line.find(' ');
        if (sp != std::string::npos && line.compare(0, sp, key) == 0)
            return parseU64(path, trim(line.substr(sp + 1)));
    }
    throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_CGROUP,
                      "Unable to find '" + key + "' in '" + path + "'");
}

void collectProcs(const std::string& dir, std::vector<pid_t>& out)
{
    std::string procs = dir + "/cgroup.procs";
    std::string text;
    try {
        text = readFile(procs);
    } catch (const Error&) {
        // Gone (removed concurrently) or a fake tree without the file.
        if (!exists(procs))
            text.clear();
        else
            throw;
    }
    std::istringstream in(text);
    long pid;
    while (in >> pid) {
        if (std::find(out.begin(), out.end(), pid) == out.end())
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

std::unique_ptr<Manager> Manager::detect(const std::string& rootIn)
{
    using namespace detail;
    std::string root = rootIn.size() > 1 && rootIn.back() == '/' ? rootIn.substr(0, rootIn.size() - 1)
                                                                 : rootIn;
    Layout l;
    if (exists("/proc/self/mountinfo"))
        l = layoutFromMountinfo(readFile("/proc/self/mountinfo"), root);
    if (l.v1.empty() && l.v2.empty())
        l = layoutFromDirectories(root);
    l.root = root;
    if (!l.v2.empty() && exists(l.v2 + "/cgroup.controllers")) {
        std::istringstream in(readFile(l.v2 + "/cgroup.controllers"));
        std::string c;
        while (in >> c)
            l.v2Controllers.push_back(c);
    }
    // Hybrid hosts (v1 controllers plus a near-empty cgroup2 at ROOT/unified)
    // are driven through v1; the v2 mount is left alone.
    if (!l.v1.empty())
        return makeV1Manager(l);
    if (!l.v2.empty())
        return makeV2Manager(l);
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
