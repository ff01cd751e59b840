#include "driver/host/host_probe.h"

#include "xml/error.h"

#include <sys/utsname.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <vector>

namespace lxvirt::host {

namespace {

std::string joinRoot(const std::string &root, const std::string &path)
{
    if (root.empty() || root == "/")
        return path;
    return (root.back() == '/' ? root.substr(0, root.size() - 1) : root) + path;
}

std::optional<std::string> readFile(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    size_t i = 0;
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])))
        ++i;
    return s.substr(i);
}

// The kernel's cpu list format: "0-3,8,10-11".
std::vector<unsigned> parseCpuList(const std::string &text)
{
    std::vector<unsigned> out;
    std::stringstream ss(trim(text));
    std::string part;
    while (std::getline(ss, part, ',')) {
        if (part.empty())
            continue;
        size_t dash = part.find('-');
        try {
            unsigned lo = std::stoul(part.substr(0, dash));
            unsigned hi = dash == std::string::npos ? lo : std::stoul(part.substr(dash + 1));
            // A bogus range must not make us loop for ever.
            if (hi < lo || hi - lo > 65536)
                throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, "invalid cpu list '" + text + "'");
            for (unsigned c = lo; c <= hi; ++c)
                out.push_back(c);
        } catch (const std::logic_error &) {
            throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, "invalid cpu list '" + text + "'");
        }
    }
    return out;
}

std::optional<unsigned> readUnsigned(const std::string &path)
{
    auto text = readFile(path);
    if (!text)
        return std::nullopt;
    try {
        return static_cast<unsigned>(std::stoul(trim(*text)));
    } catch (const std::logic_error &) {
        return std::nullopt;
    }
}

std::vector<unsigned> onlineCpus(const std::string &root)
{
    if (auto online = readFile(joinRoot(root, "/sys/devices/system/cpu/online")))
        return parseCpuList(*online);
    // No sysfs: count the processors /proc/cpuinfo lists.
    auto cpuinfo = readFile(joinRoot(root, "/proc/cpuinfo"));
    if (!cpuinfo)
        throw Error::system(errno ? errno : ENOENT, "cannot read the list of online CPUs", VIR_FROM_NONE);
    std::vector<unsigned> out;
    std::stringstream ss(*cpuinfo);
    std::string line;
    while (std::getline(ss, line))
        if (line.starts_with("processor"))
            out.push_back(static_cast<unsigned>(out.size()));
    if (out.empty())
        throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE, "no processor found in /proc/cpuinfo");
    return out;
}

// "MemTotal:  123 kB" as found in /proc/meminfo and node*/meminfo.
std::optional<unsigned long long> memTotalKiB(const std::string &path)
{
    auto text = readFile(path);
    if (!text)
        return std::nullopt;
    std::stringstream ss(*text);
    std::string line;
    while (std::getline(ss, line)) {
        size_t at = line.find("MemTotal:");
        if (at == std::string::npos)
            continue;
        try {
            return std::stoull(line.substr(at + 9));
        } catch (const std::logic_error &) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

bool isUuidText(const std::string &s)
{
    if (s.size() != 36)
        return false;
    for (size_t i = 0; i < s.size(); ++i) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i])))
            return false;
    }
    // Firmware placeholders (all 0 or all F) are not a host identity;
    // libvirt refuses uuids whose hex digits are all the same.
    std::set<char> digits;
    for (char c : s)
        if (c != '-')
            digits.insert(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    return digits.size() > 1;
}

std::string lower(std::string s)
{
    for (auto &c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

} // namespace

std::string probeArch()
{
    struct utsname u {};
    if (uname(&u) < 0)
        throw Error::system(errno, "cannot get the host machine type", VIR_FROM_NONE);
    std::string m = u.machine;
    // libvirt's virArchFromHost names every 32-bit x86 "i686".
    if (m == "i386" || m == "i486" || m == "i586")
        return "i686";
    if (m == "amd64")
        return "x86_64";
    if (m == "arm64")
        return "aarch64";
    return m;
}

std::string probeHostUuid(const std::string &root)
{
    for (const char *path : {"/sys/class/dmi/id/product_uuid", "/sys/devices/virtual/dmi/id/product_uuid"}) {
        if (auto text = readFile(joinRoot(root, path))) {
            std::string uuid = lower(trim(*text));
            if (isUuidText(uuid))
                return uuid;
        }
    }
    if (auto id = readFile(joinRoot(root, "/etc/machine-id"))) {
        std::string hex = lower(trim(*id));
        if (hex.size() == 32 && std::all_of(hex.begin(), hex.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c));
            })) {
            std::string uuid = hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
                               hex.substr(16, 4) + "-" + hex.substr(20);
            if (isUuidText(uuid))
                return uuid;
        }
    }
    return {};
}

HostCapabilities probeHostCapabilities(const ProbeOptions &opts)
{
    HostCapabilities caps;
    caps.arch = probeArch();
    caps.uuid = opts.host_uuid.empty() ? probeHostUuid(opts.root) : opts.host_uuid;
    caps.emulator = opts.emulator;
    caps.secmodel = opts.secmodel.empty() ? "none" : opts.secmodel;
    caps.secmodel_doi = "0";
    caps.baselabel = opts.baselabel;

    const std::vector<unsigned> online = onlineCpus(opts.root);
    const std::set<unsigned> onlineSet(online.begin(), online.end());

    // Topology from the first online CPU's package; cores counted per package.
    const std::string cpuDir = joinRoot(opts.root, "/sys/devices/system/cpu/cpu");
    std::set<unsigned> packages;
    std::map<unsigned, std::set<unsigned>> coresPerPackage;
    for (unsigned cpu : online) {
        const std::string topo = cpuDir + std::to_string(cpu) + "/topology/";
        auto pkg = readUnsigned(topo + "physical_package_id");
        auto core = readUnsigned(topo + "core_id");
        if (!pkg || !core)
            continue;
        packages.insert(*pkg);
        coresPerPackage[*pkg].insert(*core);
    }
    if (packages.empty()) {
        caps.sockets = 1;
        caps.cores = static_cast<unsigned>(online.size());
        caps.threads = 1;
    } else {
        caps.sockets = static_cast<unsigned>(packages.size());
        caps.cores = static_cast<unsigned>(coresPerPackage.begin()->second.size());
        auto siblings = readFile(cpuDir + std::to_string(online.front()) + "/topology/thread_siblings_list");
        caps.threads = siblings ? std::max<unsigned>(1, parseCpuList(*siblings).size()) : 1;
    }

    // NUMA cells: node directories in id order, counting their online CPUs.
    std::map<unsigned, std::string> nodes;
    std::error_code ec;
    const std::string nodeRoot = joinRoot(opts.root, "/sys/devices/system/node");
    for (const auto &entry : std::filesystem::directory_iterator(nodeRoot, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > 4 && name.starts_with("node") &&
            std::all_of(name.begin() + 4, name.end(),
                        [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            nodes[std::stoul(name.substr(4))] = entry.path().string();
    }
    unsigned long long memory = 0;
    for (const auto &[id, dir] : nodes) {
        auto cpulist = readFile(dir + "/cpulist");
        auto mem = memTotalKiB(dir + "/meminfo");
        if (!cpulist || !mem)
            continue;
        unsigned count = 0;
        for (unsigned c : parseCpuList(*cpulist))
            count += onlineSet.count(c);
        caps.cpus_per_cell.push_back(count);
        memory += *mem;
    }
    if (caps.cpus_per_cell.empty()) {
        auto mem = memTotalKiB(joinRoot(opts.root, "/proc/meminfo"));
        if (!mem)
            throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_NONE,
                              "cannot read MemTotal from /proc/meminfo");
        memory = *mem;
        caps.cpus_per_cell = {static_cast<unsigned>(online.size())};
    }
    caps.cells = static_cast<unsigned>(caps.cpus_per_cell.size());
    caps.memory_kib = memory;
    return caps;
}

} // namespace lxvirt::host
