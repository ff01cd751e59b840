// domxml-from-native lxc-tools. The rules follow libvirt 9.0's lxc_native
// (checked key by key against `virsh domxml-from-native` of the real driver):
// the same keys, the same defaults, the same order of checks, the same error
// codes and texts. Where libvirt fails without saying why, we say why, and
// where libvirt produces a definition its own driver cannot start (an
// interface of type "user", an all-zero MAC), we refuse or leave the value
// for the XML parser to fill in instead; see the comments at those places.
#include "xml/native.h"
#include "xml/text.h"

#include "xml/error.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cstdint>
#include <set>
#include <string_view>

namespace lxvirt {

namespace {

struct ConfEntry {
    std::string name;
    std::string value;
};

// libvirt reads the file with virConfReadString(VIR_CONF_FLAG_LXC_FORMAT):
// "name = value" lines where the value runs to the end of the line, trailing
// blanks and '#' included; whole-line comments and blank lines are skipped.
// Errors name libvirt's pseudo file name "memory conf" and the line.
std::vector<ConfEntry> readLxcConf(const std::string &text)
{
    std::vector<ConfEntry> entries;
    size_t pos = 0;
    int line = 1;
    auto syntaxError = [&](const char *what) {
        return Error(VIR_ERR_CONF_SYNTAX, VIR_FROM_CONF,
                     "configuration file syntax error: memory conf:" + std::to_string(line) + ": " + what);
    };
    auto isBlank = [](char c) { return c == ' ' || c == '\t'; };
    auto isEol = [](char c) { return c == '\n' || c == '\r'; };
    while (pos < text.size()) {
        while (pos < text.size() && isBlank(text[pos]))
            ++pos;
        if (pos < text.size() && !isEol(text[pos]) && text[pos] != '#') {
            unsigned char first = text[pos];
            if (!std::isalpha(first) && first != '.')
                throw syntaxError("expecting a name");
            size_t start = pos;
            while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) ||
                                         text[pos] == '_' || text[pos] == '.'))
                ++pos;
            std::string name = text.substr(start, pos - start);
            while (pos < text.size() && isBlank(text[pos]))
                ++pos;
            if (pos >= text.size() || text[pos] != '=')
                throw syntaxError("expecting an assignment");
            ++pos;
            while (pos < text.size() && isBlank(text[pos]))
                ++pos;
            start = pos;
            while (pos < text.size() && !isEol(text[pos]))
                ++pos;
            entries.push_back({std::move(name), text.substr(start, pos - start)});
        }
        while (pos < text.size() && !isEol(text[pos]))
            ++pos; // rest of a comment line
        if (pos < text.size()) {
            if (text[pos] == '\n')
                ++line;
            ++pos;
        }
    }
    return entries;
}

// First value wins, as virConfGetValue returns the first matching entry.
const std::string *confGet(const std::vector<ConfEntry> &conf, std::string_view name)
{
    for (const auto &e : conf)
        if (e.name == name)
            return &e.value;
    return nullptr;
}

Error internal(const std::string &detail)
{
    return Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, detail);
}

// Strict decimal parsers: the whole string must be the number, as libvirt's
// virStrToLong_* with a NULL end pointer. Unsigned values reject a sign:
// libvirt lets "-1" wrap to 2^64-1, which never is what the user meant.
bool parseU64(std::string_view s, uint64_t &out)
{
    if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])))
        return false;
    uint64_t v = 0;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c)))
            return false;
        unsigned d = c - '0';
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    out = v;
    return true;
}

bool parseU32(std::string_view s, unsigned &out)
{
    uint64_t v;
    if (!parseU64(s, v) || v > UINT_MAX)
        return false;
    out = static_cast<unsigned>(v);
    return true;
}

bool parseI64(std::string_view s, int64_t &out)
{
    bool neg = !s.empty() && s[0] == '-';
    uint64_t v;
    if (!parseU64(neg ? s.substr(1) : s, v))
        return false;
    if (neg) {
        if (v > uint64_t(INT64_MAX) + 1)
            return false;
        out = v == uint64_t(INT64_MAX) + 1 ? INT64_MIN : -static_cast<int64_t>(v);
    } else {
        if (v > uint64_t(INT64_MAX))
            return false;
        out = static_cast<int64_t>(v);
    }
    return true;
}

// lxcConvertSize: a byte count with an optional libvirt unit suffix
// (b, k/KiB = 1024, KB = 1000, m, g, t, p, e); "%" sizes are refused.
uint64_t convertSize(const std::string &size)
{
    size_t i = 0;
    while (i < size.size() && std::isdigit(static_cast<unsigned char>(size[i])))
        ++i;
    uint64_t value;
    if (!parseU64(std::string_view(size).substr(0, i), value))
        throw internal("failed to convert size: '" + size + "'");
    std::string unit = size.substr(i);
    if (unit == "%")
        throw internal("can't convert relative size: '" + size + "'");
    std::string lower;
    for (char c : unit)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    uint64_t scale = 1;
    if (!lower.empty() && lower != "b" && lower != "byte" && lower != "bytes") {
        static constexpr std::string_view kPowers = "kmgtpe";
        size_t power = kPowers.find(lower[0]);
        std::string rest = lower.substr(1);
        if (power == std::string_view::npos || (!rest.empty() && rest != "ib" && rest != "b"))
            throw internal("failed to convert size: '" + size + "'");
        uint64_t base = rest == "b" ? 1000 : 1024;
        for (size_t p = 0; p <= power; ++p)
            scale *= base;
    }
    if (scale != 1 && value > UINT64_MAX / scale)
        throw internal("failed to convert size: '" + size + "'");
    return value * scale;
}

// lxcStringSplit: fields separated by any run of blanks.
std::vector<std::string> splitBlanks(const std::string &s)
{
    std::vector<std::string> out;
    std::string cur;
    for (char c : s) {
        if (c == ' ' || c == '\t') {
            if (!cur.empty())
                out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty())
        out.push_back(std::move(cur));
    return out;
}


// virBitmapParse + virBitmapFormat: "0,2-3,^3,5-6" -> "0,2,5-6".
std::string normaliseBitmap(const std::string &text)
{
    constexpr unsigned kMaxBits = 1024; // VIR_DOMAIN_CPUMASK_LEN
    auto fail = [&]() {
        return Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_NONE, "Failed to parse bitmap '" + text + "'");
    };
    std::vector<bool> bits(kMaxBits, false);
    bool any = false;
    for (std::string part : splitOn(text, ',')) {
        auto trim = [](std::string &s) {
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
                s.erase(s.begin());
            while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
                s.pop_back();
        };
        trim(part);
        bool neg = !part.empty() && part[0] == '^';
        if (neg)
            part.erase(0, 1);
        size_t dash = part.find('-');
        unsigned lo, hi;
        if (dash == std::string::npos) {
            if (!parseU32(part, lo))
                throw fail();
            hi = lo;
        } else {
            if (neg || !parseU32(part.substr(0, dash), lo) || !parseU32(part.substr(dash + 1), hi) || hi < lo)
                throw fail();
        }
        if (hi >= kMaxBits)
            throw fail();
        for (unsigned b = lo; b <= hi; ++b)
            bits[b] = !neg;
        any = any || !neg;
    }
    if (!any)
        throw fail();
    std::string out;
    for (unsigned b = 0; b < kMaxBits;) {
        if (!bits[b]) {
            ++b;
            continue;
        }
        unsigned e = b;
        while (e + 1 < kMaxBits && bits[e + 1])
            ++e;
        if (!out.empty())
            out += ',';
        out += std::to_string(b);
        if (e > b)
            out += '-' + std::to_string(e);
        b = e + 1;
    }
    return out;
}

// virMacAddrParse: six hex bytes of one or two digits separated by ':';
// returns "" when malformed (libvirt keeps an all-zero MAC then; an empty
// one lets the domain parser generate a usable address instead).
std::string normaliseMac(const std::string &text)
{
    auto parts = splitOn(text, ':');
    if (parts.size() != 6)
        return {};
    std::string out;
    static constexpr char kHex[] = "0123456789abcdef";
    for (const auto &p : parts) {
        if (p.empty() || p.size() > 2 || !std::all_of(p.begin(), p.end(), [](char c) {
                return std::isxdigit(static_cast<unsigned char>(c));
            }))
            return {};
        unsigned v = std::stoul(p, nullptr, 16);
        if (!out.empty())
            out += ':';
        out += kHex[v >> 4];
        out += kHex[v & 15];
    }
    return out;
}

// Canonical text of an address (libvirt prints what getnameinfo returns).
bool canonicalAddress(const std::string &text, int family, std::string &out)
{
    std::array<unsigned char, 16> buf{};
    if (inet_pton(family, text.c_str(), buf.data()) != 1)
        return false;
    char str[INET6_ADDRSTRLEN];
    if (!inet_ntop(family, buf.data(), str, sizeof(str)))
        return false;
    out = str;
    return true;
}

NetRoute defaultRoute(const std::string &gateway, int family)
{
    NetRoute route;
    route.family = family == AF_INET ? "ipv4" : "ipv6";
    route.address = family == AF_INET ? "0.0.0.0" : "::";
    std::string canonical;
    if (!canonicalAddress(gateway, family, canonical))
        throw Error::make(VIR_ERR_XML_ERROR, VIR_FROM_NONE,
                          "Domain interface: Bad gateway address '" + gateway + "' in route definition");
    route.gateway = canonical;
    return route;
}

// libvirt's lxcIsBasicMountLocation: targets the container setup mounts
// itself, so lxc.mount.entry lines for them are dropped silently.
bool isBasicMountLocation(const std::string &dst)
{
    static const std::set<std::string> kBasic = {
        "/proc",
        "/proc/sys",
        "/proc/sys/net/ipv4",
        "/proc/sys/net/ipv6",
        "/sys",
        "/sys/kernel/security",
        "/sys/fs/selinux",
    };
    return kBasic.count(dst) != 0;
}

void addMountEntry(DomainDef &def, const std::string &line)
{
    auto fields = splitBlanks(line);
    if (fields.size() < 4)
        throw internal("invalid lxc.mount.entry: '" + line + "' (expected: source target type options)");
    const std::string &src = fields[0];
    std::string dst = fields[1].starts_with('/') ? fields[1] : "/" + fields[1];
    if (isBasicMountLocation(dst))
        return;
    auto options = splitOn(fields[3], ',');

    FilesystemDef fs;
    fs.type = FsType::Mount;
    fs.accessmode = FsAccessMode::Passthrough;
    if (fields[2] == "tmpfs") {
        fs.type = FsType::Ram;
        auto size = std::find_if(options.begin(), options.end(),
                                 [](const std::string &o) { return o.starts_with("size="); });
        if (size == options.end())
            throw internal("missing tmpfs size, set the size option");
        fs.ram_usage_kib = convertSize(size->substr(5)) / 1024;
        fs.ram_units = "KiB";
    } else {
        fs.source = src;
    }
    if (src.starts_with("/dev/"))
        fs.type = FsType::Block;
    fs.readonly = std::find(options.begin(), options.end(), "ro") != options.end();
    fs.target = std::move(dst);
    def.filesystems.push_back(std::move(fs));
}

// One NIC being collected from lxc.net.N.* or legacy lxc.network.* keys.
struct NetData {
    size_t index = 0;
    const std::string *type = nullptr;
    const std::string *link = nullptr;
    const std::string *mac = nullptr;
    const std::string *flags = nullptr;
    const std::string *macvlan_mode = nullptr;
    const std::string *vlan_id = nullptr;
    const std::string *name = nullptr;
    std::vector<NetIp> ips;
    const std::string *gateway4 = nullptr;
    const std::string *gateway6 = nullptr;
};

void setNetKey(NetData &nd, const std::string &key, const ConfEntry &entry)
{
    if (key == "type")
        nd.type = &entry.value;
    else if (key == "link")
        nd.link = &entry.value;
    else if (key == "hwaddr")
        nd.mac = &entry.value;
    else if (key == "flags")
        nd.flags = &entry.value;
    else if (key == "macvlan.mode")
        nd.macvlan_mode = &entry.value;
    else if (key == "vlan.id")
        nd.vlan_id = &entry.value;
    else if (key == "name")
        nd.name = &entry.value;
    else if (key == "ipv4.gateway")
        nd.gateway4 = &entry.value;
    else if (key == "ipv6.gateway")
        nd.gateway6 = &entry.value;
    else if (key == "ipv4" || key == "ipv4.address" || key == "ipv6" || key == "ipv6.address") {
        int family = key.starts_with("ipv6") ? AF_INET6 : AF_INET;
        size_t slash = entry.value.find('/');
        NetIp ip;
        unsigned prefix;
        if (slash == std::string::npos ||
            !canonicalAddress(entry.value.substr(0, slash), family, ip.address) ||
            !parseU32(entry.value.substr(slash + 1), prefix))
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC,
                              "Invalid CIDR address: '" + entry.value + "'");
        ip.prefix = prefix;
        ip.family = family == AF_INET ? "ipv4" : "ipv6";
        nd.ips.push_back(std::move(ip));
    } else {
        // libvirt fails here too, but without any message.
        throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                          "unhandled network property '" + entry.name + "'");
    }
}

void addNetwork(DomainDef &def, NetData &nd)
{
    const std::string type = nd.type ? *nd.type : "";
    if (type.empty() || type == "empty" || type == "none")
        return;

    std::vector<NetRoute> routes;
    if (nd.gateway4)
        routes.push_back(defaultRoute(*nd.gateway4, AF_INET));
    if (nd.gateway6)
        routes.push_back(defaultRoute(*nd.gateway6, AF_INET6));

    if (type == "phys" || type == "vlan") {
        if (!nd.link)
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC, "Missing 'link' attribute for NIC");
        HostdevDef hostdev;
        hostdev.mode = HostdevMode::Capabilities;
        hostdev.caps_type = "net";
        hostdev.source = *nd.link;
        // The vlan interface itself must already exist on the host.
        if (type == "vlan" && nd.vlan_id)
            hostdev.source += "." + *nd.vlan_id;
        // libvirt prints these under <hostdev type='net'>, after </source>.
        hostdev.ips = std::move(nd.ips);
        hostdev.routes = std::move(routes);
        def.hostdevs.push_back(std::move(hostdev));
        return;
    }

    InterfaceDef net;
    net.link_state = nd.flags && *nd.flags == "up" ? "up" : "down";
    if (nd.name)
        net.guest_dev = *nd.name;
    if (nd.mac)
        net.mac = normaliseMac(*nd.mac);
    if (type == "veth") {
        if (nd.link) {
            net.type = NetType::Bridge;
            net.source = *nd.link;
        } else {
            net.type = NetType::Ethernet;
        }
    } else if (type == "macvlan") {
        if (!nd.link)
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC, "Missing 'link' attribute for NIC");
        net.type = NetType::Direct;
        net.source = *nd.link;
        const std::string mode = nd.macvlan_mode ? *nd.macvlan_mode : "private";
        // libvirt falls back to its first macvlan mode (vepa) for unknown ones.
        net.source_mode = mode == "private" || mode == "bridge" ? mode : "vepa";
    } else {
        // libvirt turns any other type into an <interface type='user'>,
        // which its LXC driver then refuses to start.
        throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                          "unsupported network type '" + type + "'");
    }
    net.ips = std::move(nd.ips);
    net.routes = std::move(routes);
    def.interfaces.push_back(std::move(net));
}

void convertNetworks(DomainDef &def, const std::vector<ConfEntry> &conf)
{
    std::vector<NetData> nets;
    for (const auto &e : conf) {
        if (e.name.starts_with("lxc.network.")) {
            std::string key = e.name.substr(12);
            if (key == "type") {
                nets.emplace_back();
                nets.back().index = nets.size();
            } else if (nets.empty()) {
                throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                                  "'" + e.name + "' comes before any lxc.network.type");
            }
            setNetKey(nets.back(), key, e);
        } else if (e.name.starts_with("lxc.net.")) {
            std::string rest = e.name.substr(8);
            size_t dot = rest.find('.');
            uint64_t index;
            if (dot == std::string::npos || !parseU64(rest.substr(0, dot), index))
                throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                                  "invalid network key '" + e.name +
                                      "': expected lxc.net.<index>.<property>");
            auto it =
                std::find_if(nets.begin(), nets.end(), [&](const NetData &n) { return n.index == index; });
            if (it == nets.end()) {
                nets.emplace_back();
                nets.back().index = index;
                it = nets.end() - 1;
            }
            setNetKey(*it, rest.substr(dot + 1), e);
        }
    }
    for (auto &nd : nets)
        addNetwork(def, nd);
    // No NIC at all: LXC gives the container a private netns with only lo.
    if (nets.empty())
        def.privnet = true;
}

void createConsoles(DomainDef &def, const std::vector<ConfEntry> &conf)
{
    const std::string *value = confGet(conf, "lxc.tty.max");
    if (!value)
        value = confGet(conf, "lxc.tty");
    if (!value)
        return;
    int64_t n;
    // A bound keeps a typo from allocating millions of consoles.
    if (!parseI64(*value, n) || n < 0 || n > 4096)
        throw internal("failed to parse int: '" + *value + "'");
    for (int i = 0; i < n; ++i) {
        ConsoleDef console;
        console.type = "pty";
        console.target_type = "lxc";
        console.port = i;
        def.consoles.push_back(console);
    }
}

void addIdmap(DomainDef &def, const ConfEntry &e)
{
    // lxc writes "u|g <container id> <host id> <count>". libvirt 9.0 reads
    // the fields as type, target, start, count, i.e. swapped: its output
    // maps host id 0 and fails its own `virsh define` with "You must map
    // the root user of container" (checked against the real driver). We
    // keep lxc's meaning so the converted definition can be defined.
    auto fail = [&]() { return internal("invalid " + e.name + ": '" + e.value + "'"); };
    if (e.value.empty())
        throw fail();
    char type = e.value[0];
    auto fields = splitBlanks(e.value.substr(1));
    if (fields.size() < 3)
        throw fail();
    unsigned start, target, count;
    if (!parseU32(fields[0], start) || !parseU32(fields[1], target) || !parseU32(fields[2], count))
        throw fail();
    IdMapEntry entry{start, target, count};
    if (type == 'u')
        def.idmap_uid.push_back(entry);
    else if (type == 'g')
        def.idmap_gid.push_back(entry);
    else
        throw fail();
}

// KiB values at or above libvirt's VIR_DOMAIN_MEMORY_PARAM_UNLIMITED mean
// "no limit", which the model expresses as an absent value.
constexpr uint64_t kMemoryUnlimitedKiB = 9007199254740991ULL;

std::optional<uint64_t> memoryLimit(uint64_t kib)
{
    if (kib >= kMemoryUnlimitedKiB)
        return std::nullopt;
    return kib;
}

void setMemTune(DomainDef &def, const std::vector<ConfEntry> &conf)
{
    if (const std::string *v = confGet(conf, "lxc.cgroup.memory.limit_in_bytes")) {
        uint64_t kib = convertSize(*v) / 1024;
        def.memory_kib = kib;
        def.current_memory_kib = kib;
        def.mem_hard_limit_kib = memoryLimit(kib);
    }
    if (const std::string *v = confGet(conf, "lxc.cgroup.memory.soft_limit_in_bytes"))
        def.mem_soft_limit_kib = memoryLimit(convertSize(*v) / 1024);
    if (const std::string *v = confGet(conf, "lxc.cgroup.memory.memsw.limit_in_bytes"))
        def.mem_swap_hard_limit_kib = memoryLimit(convertSize(*v) / 1024);
}

void setCpuTune(DomainDef &def, const std::vector<ConfEntry> &conf)
{
    auto fail = [](const std::string &v) { return internal("failed to parse integer: '" + v + "'"); };
    if (const std::string *v = confGet(conf, "lxc.cgroup.cpu.shares")) {
        uint64_t shares;
        if (!parseU64(*v, shares))
            throw fail(*v);
        def.cpu_shares = shares;
    }
    // libvirt prints quota and period only when they are not 0.
    if (const std::string *v = confGet(conf, "lxc.cgroup.cpu.cfs_quota_us")) {
        int64_t quota;
        if (!parseI64(*v, quota))
            throw fail(*v);
        if (quota != 0)
            def.cpu_quota = quota;
    }
    if (const std::string *v = confGet(conf, "lxc.cgroup.cpu.cfs_period_us")) {
        uint64_t period;
        if (!parseU64(*v, period))
            throw fail(*v);
        if (period != 0)
            def.cpu_period = period;
    }
}

void setCpusetTune(DomainDef &def, const std::vector<ConfEntry> &conf)
{
    if (const std::string *v = confGet(conf, "lxc.cgroup.cpuset.cpus")) {
        def.vcpu_cpuset = normaliseBitmap(*v);
        def.vcpu_placement = "static";
    }
    if (const std::string *v = confGet(conf, "lxc.cgroup.cpuset.mems")) {
        def.numa_nodeset = normaliseBitmap(*v);
        def.numa_mode = "strict";
    }
}

void setBlkioTune(DomainDef &def, const std::vector<ConfEntry> &conf)
{
    if (const std::string *v = confGet(conf, "lxc.cgroup.blkio.weight")) {
        unsigned weight;
        if (!parseU32(*v, weight))
            throw internal("failed to parse integer: '" + *v + "'");
        if (weight != 0)
            def.blkio_weight = weight;
    }
    for (const auto &e : conf) {
        if (!e.name.starts_with("lxc.cgroup.blkio.") || e.name == "lxc.cgroup.blkio.weight")
            continue;
        auto parts = splitBlanks(e.value);
        if (parts.size() < 2)
            throw internal("invalid " + e.name + " value: '" + e.value + "'");
        const std::string key = e.name.substr(17);
        // libvirt keeps 0 as "not set" for every per-device value.
        auto u64 = [&](const char *what, std::optional<uint64_t> &field) {
            uint64_t v;
            if (!parseU64(parts[1], v))
                throw internal(std::string("failed to parse ") + what + ": '" + parts[1] + "'");
            field = v ? std::optional<uint64_t>(v) : std::nullopt;
        };
        auto device = [&]() -> BlkioDevice & {
            std::string path = "/dev/block/" + parts[0];
            for (auto &d : def.blkio_devices)
                if (d.path == path)
                    return d;
            def.blkio_devices.push_back(BlkioDevice{path, {}, {}, {}, {}, {}});
            return def.blkio_devices.back();
        };
        if (key == "device_weight") {
            unsigned w;
            if (!parseU32(parts[1], w))
                throw internal("failed to parse device weight: '" + parts[1] + "'");
            BlkioDevice &d = device();
            d.weight = w ? std::optional<unsigned>(w) : std::nullopt;
        } else if (key == "throttle.read_bps_device") {
            u64("read_bps_device", device().read_bytes_sec);
        } else if (key == "throttle.write_bps_device") {
            u64("write_bps_device", device().write_bytes_sec);
        } else if (key == "throttle.read_iops_device") {
            uint64_t v;
            if (!parseU64(parts[1], v) || v > UINT_MAX)
                throw internal("failed to parse read_iops_device: '" + parts[1] + "'");
            device().read_iops_sec = v ? std::optional<uint64_t>(v) : std::nullopt;
        } else if (key == "throttle.write_iops_device") {
            uint64_t v;
            if (!parseU64(parts[1], v) || v > UINT_MAX)
                throw internal("failed to parse write_iops_device: '" + parts[1] + "'");
            device().write_iops_sec = v ? std::optional<uint64_t>(v) : std::nullopt;
        }
        // Other blkio keys have no libvirt equivalent; libvirt ignores them.
    }
}

// libvirt's process capability names, in the order it prints them.
constexpr std::array<const char *, 37> kCapNames = {
    "audit_control",   "audit_write", "block_suspend", "chown",      "dac_override",   "dac_read_search",
    "fowner",          "fsetid",      "ipc_lock",      "ipc_owner",  "kill",           "lease",
    "linux_immutable", "mac_admin",   "mac_override",  "mknod",      "net_admin",      "net_bind_service",
    "net_broadcast",   "net_raw",     "setgid",        "setfcap",    "setpcap",        "setuid",
    "sys_admin",       "sys_boot",    "sys_chroot",    "sys_module", "sys_nice",       "sys_pacct",
    "sys_ptrace",      "sys_rawio",   "sys_resource",  "sys_time",   "sys_tty_config", "syslog",
    "wake_alarm",
};

void setCapDrop(DomainDef &def, const std::vector<ConfEntry> &conf)
{
    std::vector<std::string> drop;
    if (const std::string *v = confGet(conf, "lxc.cap.drop"))
        drop = splitOn(*v, ' ');
    for (const char *cap : kCapNames)
        if (std::find(drop.begin(), drop.end(), cap) != drop.end())
            def.caps.push_back(CapabilityToggle{cap, false});
    // Everything not dropped stays allowed, as under lxc-start.
    def.has_capabilities = true;
    def.cap_policy = CapPolicy::Allow;
}

std::string archFromLxc(const std::string &value)
{
    static const std::set<std::string> kArches = {
        "aarch64",  "alpha",       "armv6l",  "armv7l",     "armv7b",       "cris",  "i686",   "ia64",
        "lm32",     "loongarch64", "m68k",    "microblaze", "microblazeel", "mips",  "mipsel", "mips64",
        "mips64el", "openrisc",    "parisc",  "parisc64",   "ppc",          "ppcle", "ppc64",  "ppc64le",
        "ppcemb",   "riscv32",     "riscv64", "s390",       "s390x",        "sh4",   "sh4eb",  "sparc",
        "sparc64",  "unicore32",   "x86_64",  "xtensa",     "xtensaeb",
    };
    if (kArches.count(value))
        return value;
    if (value == "x86")
        return "i686";
    if (value == "amd64")
        return "x86_64";
    return {}; // unknown: libvirt leaves the arch unset
}

} // namespace

DomainDef domainDefFromLxcConfig(const std::string &config_text)
{
    const std::vector<ConfEntry> conf = readLxcConf(config_text);

    DomainDef def;
    def.uuid = uuidGenerate();
    def.memory_kib = 64 * 1024;
    def.current_memory_kib = def.memory_kib;
    def.vcpus = 1;
    def.vcpu_placement = "static";
    def.os_type = "exe";
    def.on_poweroff = LifecycleAction::Destroy;
    def.on_reboot = LifecycleAction::Restart;
    def.on_crash = LifecycleAction::Destroy;

    if (const std::string *arch = confGet(conf, "lxc.arch"))
        def.os_arch = archFromLxc(*arch);
    def.init = "/sbin/init";

    const std::string *name = confGet(conf, "lxc.uts.name");
    if (!name)
        name = confGet(conf, "lxc.utsname");
    if (!name)
        throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                          "Missing lxc.uts.name (or legacy lxc.utsname) configuration");
    def.name = *name;

    const std::string *rootfs = confGet(conf, "lxc.rootfs.path");
    if (!rootfs)
        rootfs = confGet(conf, "lxc.rootfs");
    if (!rootfs)
        throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                          "Missing lxc.rootfs.path (or legacy lxc.rootfs) configuration");
    FilesystemDef root;
    root.type = rootfs->starts_with("/dev/") ? FsType::Block : FsType::Mount;
    root.accessmode = FsAccessMode::Passthrough;
    root.source = *rootfs;
    root.target = "/";
    def.filesystems.push_back(std::move(root));

    if (confGet(conf, "lxc.mount.fstab") || confGet(conf, "lxc.mount"))
        throw Error::make(VIR_ERR_ARGUMENT_UNSUPPORTED, VIR_FROM_LXC,
                          "lxc.mount.fstab or lxc.mount found, use lxc.mount.entry lines instead");
    for (const auto &e : conf)
        if (e.name == "lxc.mount.entry")
            addMountEntry(def, e.value);

    convertNetworks(def, conf);
    createConsoles(def, conf);
    for (const auto &e : conf)
        if (e.name == "lxc.idmap" || e.name == "lxc.id_map")
            addIdmap(def, e);
    setMemTune(def, conf);
    setCpuTune(def, conf);
    setCpusetTune(def, conf);
    setBlkioTune(def, conf);
    setCapDrop(def, conf);
    return def;
}

} // namespace lxvirt
