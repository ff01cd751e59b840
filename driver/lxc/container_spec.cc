#include "driver/lxc/container_spec.h"

#include "driver/cgroup/cgroup.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace lxvirt::lxc {

namespace {

[[noreturn]] void unsupported(const std::string &what)
{
    throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC, what);
}

std::string majMin(const std::string &path, const char *field, char *type = nullptr)
{
    struct stat st;
    if (stat(path.c_str(), &st) < 0)
        throw Error::system(errno, std::string("cannot stat ") + field + " '" + path + "'");
    if (!S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
        throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                          std::string(field) + " '" + path + "' is not a device");
    if (type)
        *type = S_ISBLK(st.st_mode) ? 'b' : 'c';
    return std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
}

// The init pid of another lxvirt container, asked from its controller.
pid_t initPidOf(const std::string &run_dir, const std::string &name)
{
    std::string path = run_dir + "/" + name + ".sock";
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    if (path.size() >= sizeof sa.sun_path)
        unsupported("namespace source '" + name + "': socket path too long");
    memcpy(sa.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC,
                          "cannot share namespace with domain '" + name + "': " + std::strerror(e));
    }
    char buf[256] = "";
    ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
    close(fd);
    long ctrl = 0, init = 0;
    if (n <= 0 || sscanf(buf, "hello %ld %ld", &ctrl, &init) != 2 || init <= 0)
        throw Error::make(VIR_ERR_OPERATION_INVALID, VIR_FROM_LXC, "domain '" + name + "' is not running");
    return pid_t(init);
}

std::string sharePath(const NamespaceShare &s, const char *ns, const Paths &paths)
{
    switch (s.type) {
    case NsShareType::None:
        return "";
    case NsShareType::Pid: {
        char *end = nullptr;
        long pid = strtol(s.value.c_str(), &end, 10);
        if (s.value.empty() || *end || pid <= 0)
            throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC,
                              std::string("share") + ns + " pid '" + s.value + "'");
        return "/proc/" + std::to_string(pid) + "/ns/" + ns;
    }
    case NsShareType::Netns:
        if (std::strcmp(ns, "net") != 0)
            unsupported(std::string("share") + ns + " type 'netns'");
        return "/run/netns/" + s.value;
    case NsShareType::Name:
        return "/proc/" + std::to_string(initPidOf(paths.run_dir, s.value)) + "/ns/" + ns;
    }
    return "";
}

} // namespace

std::string normalizeCpuset(const std::string &text, const char *field)
{
    std::set<unsigned> on, off;
    size_t i = 0;
    auto bad = [&]() -> void {
        throw Error::make(VIR_ERR_INVALID_ARG, VIR_FROM_LXC,
                          std::string("invalid ") + field + " '" + text + "'");
    };
    auto num = [&](unsigned &out) {
        size_t start = i;
        unsigned long v = 0;
        while (i < text.size() && isdigit((unsigned char)text[i]))
            v = v * 10 + unsigned(text[i++] - '0');
        if (i == start || v > 65535)
            bad();
        out = unsigned(v);
    };
    while (i < text.size()) {
        while (i < text.size() && text[i] == ' ')
            ++i;
        bool neg = i < text.size() && text[i] == '^';
        if (neg)
            ++i;
        unsigned a = 0, b = 0;
        num(a);
        b = a;
        if (i < text.size() && text[i] == '-') {
            ++i;
            num(b);
            if (b < a)
                bad();
        }
        for (unsigned k = a; k <= b; ++k)
            (neg ? off : on).insert(k);
        while (i < text.size() && text[i] == ' ')
            ++i;
        if (i < text.size()) {
            if (text[i] != ',')
                bad();
            ++i;
        }
    }
    for (unsigned k : off)
        on.erase(k);
    if (on.empty())
        bad();
    std::string out;
    for (auto it = on.begin(); it != on.end();) {
        unsigned a = *it, b = a;
        ++it;
        while (it != on.end() && *it == b + 1)
            b = *it++;
        if (!out.empty())
            out += ',';
        out += std::to_string(a);
        if (b != a)
            out += "-" + std::to_string(b);
    }
    return out;
}

std::vector<std::string> initEnvironment(const DomainDef &def)
{
    std::string uuid = uuidToString(def.uuid);
    std::vector<std::string> env = {"PATH=/bin:/sbin", "TERM=linux", "container=lxc-libvirt", "HOME=/",
                                    "container_uuid=" + uuid};
    size_t ncons = def.consoles.empty() ? 1 : def.consoles.size();
    if (ncons > 1) {
        std::string ttys = "container_ttys=";
        for (size_t i = 0; i < ncons; ++i)
            ttys += (i ? " pts/" : "pts/") + std::to_string(i);
        env.push_back(ttys);
    }
    env.push_back("LIBVIRT_LXC_UUID=" + uuid);
    env.push_back("LIBVIRT_LXC_NAME=" + def.name);
    if (!def.cmdline.empty())
        env.push_back("LIBVIRT_LXC_CMDLINE=" + def.cmdline);
    for (auto &[k, v] : def.initenv)
        env.push_back(k + "=" + v);
    return env;
}

controller::Spec buildSpec(const DomainDef &def, const Paths &paths)
{
    using namespace controller;
    Spec s;
    s.name = def.name;
    s.uuid = uuidToString(def.uuid);
    s.hostname = def.name;
    s.run_dir = paths.run_dir;
    s.cgroup_root = paths.cgroup_root;
    s.partition = def.resource_partition.empty() ? "/machine" : def.resource_partition;
    s.cgroup_name = cgroup::cgroupNameFor(def.name);

    // libvirt sets the memory limit to the current allocation, then memtune.
    uint64_t cur = def.current_memory_kib ? def.current_memory_kib : def.memory_kib;
    s.mem_hard_kib = def.mem_hard_limit_kib.value_or(cur);
    s.mem_soft_kib = def.mem_soft_limit_kib.value_or(0);
    s.mem_swap_kib = def.mem_swap_hard_limit_kib.value_or(0);
    s.cpu_shares = def.cpu_shares.value_or(0);
    s.cpu_period = def.cpu_period.value_or(0);
    s.cpu_quota = def.cpu_quota.value_or(0);
    if (!def.vcpu_cpuset.empty() && def.vcpu_placement != "auto")
        s.cpuset_cpus = normalizeCpuset(def.vcpu_cpuset, "vcpu cpuset");
    if (!def.numa_nodeset.empty())
        s.cpuset_mems = normalizeCpuset(def.numa_nodeset, "numatune nodeset");
    s.blkio_weight = def.blkio_weight.value_or(0);
    for (const BlkioDevice &d : def.blkio_devices) {
        auto v = [](auto o) { return o ? std::to_string(*o) : std::string("-1"); };
        s.blkio_devices.push_back(majMin(d.path, "blkiotune device") + " " + v(d.weight) + " " +
                                  v(d.read_bytes_sec) + " " + v(d.write_bytes_sec) + " " +
                                  v(d.read_iops_sec) + " " + v(d.write_iops_sec));
    }
    for (const HostdevDef &h : def.hostdevs) {
        std::string path;
        if (h.mode == HostdevMode::Capabilities) {
            if (h.caps_type == "net")
                continue; // moved by the network code, not a device node
            path = h.source;
        } else if (h.usb_bus && h.usb_device) {
            char buf[64];
            snprintf(buf, sizeof buf, "/dev/bus/usb/%03u/%03u", *h.usb_bus, *h.usb_device);
            path = buf;
        } else {
            unsupported("hostdev without a bus/device address");
        }
        char type = 'c';
        std::string mm = majMin(path, "hostdev", &type);
        DeviceSpec d;
        d.type = type;
        sscanf(mm.c_str(), "%ld:%ld", &d.major, &d.minor);
        d.access = "rwm";
        d.path = path;
        s.devices.push_back(d);
    }

    s.netns = def.needsNetNamespace();
    s.userns = def.needsUserNamespace();
    if (def.share_net.type != NsShareType::None && !def.interfaces.empty())
        unsupported("sharenet cannot be combined with <interface>");
    // Network devices come with the networking issue; until then a start must
    // not silently give the container a network namespace without its NIC.
    if (!def.interfaces.empty())
        unsupported("interface '" + (def.interfaces[0].target_dev.empty() ? def.interfaces[0].mac
                                                                            : def.interfaces[0].target_dev) +
                    "': network interfaces are not supported by lxvirt yet");
    s.share_net = sharePath(def.share_net, "net", paths);
    s.share_ipc = sharePath(def.share_ipc, "ipc", paths);
    s.share_uts = sharePath(def.share_uts, "uts", paths);
    if (s.userns) {
        if (def.idmap_uid.size() > 340 || def.idmap_gid.size() > 340)
            unsupported("too many idmap entries (max 340)");
        for (auto &m : def.idmap_uid)
            s.uid_map.push_back(std::to_string(m.start) + " " + std::to_string(m.target) + " " +
                                std::to_string(m.count));
        for (auto &m : def.idmap_gid)
            s.gid_map.push_back(std::to_string(m.start) + " " + std::to_string(m.target) + " " +
                                std::to_string(m.count));
    }

    const FilesystemDef *root = def.rootFilesystem();
    auto addFs = [&](const FilesystemDef &f) {
        FsSpec o;
        switch (f.type) {
        case FsType::Mount:
            o.kind = FsKind::Mount;
            break;
        case FsType::Bind:
            o.kind = FsKind::Bind;
            break;
        case FsType::Block:
            o.kind = FsKind::Block;
            break;
        case FsType::File:
            if (!f.driver_type.empty() && f.driver_type != "loop")
                unsupported("filesystem driver '" + f.driver_type + "' for '" + f.source + "'");
            if (!f.driver_format.empty() && f.driver_format != "raw")
                unsupported("filesystem format '" + f.driver_format + "' for '" + f.source + "'");
            o.kind = FsKind::File;
            break;
        case FsType::Ram:
            o.kind = FsKind::Ram;
            break;
        default:
            unsupported("Cannot mount filesystem type for target '" + f.target + "'");
        }
        if (f.target.empty() || f.target[0] != '/')
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_LXC,
                              "filesystem target '" + f.target + "' is not absolute");
        o.source = f.source;
        o.target = f.target;
        o.readonly = f.readonly;
        o.size_kib = f.ram_usage_kib;
        s.filesystems.push_back(o);
    };
    if (root)
        addFs(*root);
    for (const FilesystemDef &f : def.filesystems)
        if (&f != root)
            addFs(f);

    for (const ConsoleDef &c : def.consoles)
        if (c.type != "pty")
            unsupported("Expected exactly one console, got type '" + c.type + "'");
    s.consoles = def.consoles.empty() ? 1 : unsigned(def.consoles.size());

    s.cap_policy = def.cap_policy == CapPolicy::Allow  ? "allow"
                   : def.cap_policy == CapPolicy::Deny ? "deny"
                                                       : "default";
    for (auto &t : def.caps)
        s.caps.push_back(t.name + (t.on ? "=on" : "=off"));

    s.init = def.init.empty() ? "/sbin/init" : def.init;
    s.args = def.initargs;
    s.env = initEnvironment(def);
    s.initdir = def.initdir;
    s.inituser = def.inituser;
    s.initgroup = def.initgroup;
    return s;
}

} // namespace lxvirt::lxc
