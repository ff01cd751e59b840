#include "driver/controller/spec.h"

#include <stdexcept>

namespace lxvirt::controller {

namespace {

void put(std::string &out, const char *key, const std::string &value)
{
    out += key;
    out += '\0';
    out += value;
    out += '\0';
}

void putNum(std::string &out, const char *key, long long value)
{
    put(out, key, std::to_string(value));
}

const char *fsKindName(FsKind k)
{
    switch (k) {
    case FsKind::Mount:
        return "mount";
    case FsKind::Bind:
        return "bind";
    case FsKind::Block:
        return "block";
    case FsKind::File:
        return "file";
    case FsKind::Ram:
        return "ram";
    }
    return "mount";
}

uint64_t toU64(const std::string &key, const std::string &v)
{
    size_t pos = 0;
    unsigned long long n = 0;
    try {
        n = std::stoull(v, &pos);
    } catch (...) {
        pos = std::string::npos;
    }
    if (pos != v.size())
        throw std::runtime_error("spec: bad number for " + key + ": '" + v + "'");
    return n;
}

int64_t toI64(const std::string &key, const std::string &v)
{
    size_t pos = 0;
    long long n = 0;
    try {
        n = std::stoll(v, &pos);
    } catch (...) {
        pos = std::string::npos;
    }
    if (pos != v.size())
        throw std::runtime_error("spec: bad number for " + key + ": '" + v + "'");
    return n;
}

} // namespace

std::string encodeSpec(const Spec &s)
{
    std::string o;
    put(o, "name", s.name);
    put(o, "uuid", s.uuid);
    put(o, "hostname", s.hostname);
    put(o, "run_dir", s.run_dir);
    put(o, "cgroup_root", s.cgroup_root);
    put(o, "partition", s.partition);
    put(o, "cgroup_name", s.cgroup_name);
    putNum(o, "mem_hard", (long long)s.mem_hard_kib);
    putNum(o, "mem_soft", (long long)s.mem_soft_kib);
    putNum(o, "mem_swap", (long long)s.mem_swap_kib);
    putNum(o, "cpu_shares", (long long)s.cpu_shares);
    putNum(o, "cpu_period", (long long)s.cpu_period);
    putNum(o, "cpu_quota", s.cpu_quota);
    put(o, "cpuset_cpus", s.cpuset_cpus);
    put(o, "cpuset_mems", s.cpuset_mems);
    putNum(o, "blkio_weight", s.blkio_weight);
    for (auto &d : s.blkio_devices)
        put(o, "blkio_dev", d);
    for (auto &d : s.devices) {
        put(o, "dev.type", std::string(1, d.type));
        putNum(o, "dev.major", d.major);
        putNum(o, "dev.minor", d.minor);
        put(o, "dev.access", d.access);
        put(o, "dev.path", d.path);
    }
    putNum(o, "netns", s.netns);
    putNum(o, "userns", s.userns);
    put(o, "share_net", s.share_net);
    put(o, "share_ipc", s.share_ipc);
    put(o, "share_uts", s.share_uts);
    for (auto &m : s.uid_map)
        put(o, "uid_map", m);
    for (auto &m : s.gid_map)
        put(o, "gid_map", m);
    for (auto &f : s.filesystems) {
        put(o, "fs.type", fsKindName(f.kind));
        put(o, "fs.source", f.source);
        put(o, "fs.target", f.target);
        putNum(o, "fs.readonly", f.readonly);
        putNum(o, "fs.size", (long long)f.size_kib);
    }
    putNum(o, "consoles", s.consoles);
    put(o, "cap_policy", s.cap_policy);
    for (auto &c : s.caps)
        put(o, "cap", c);
    put(o, "init", s.init);
    for (auto &a : s.args)
        put(o, "arg", a);
    for (auto &e : s.env)
        put(o, "env", e);
    put(o, "initdir", s.initdir);
    put(o, "inituser", s.inituser);
    put(o, "initgroup", s.initgroup);
    // Absent for unconfined containers: their spec stays as it was.
    if (!s.exec_label.empty()) {
        put(o, "exec_label", s.exec_label);
        putNum(o, "exec_label_fatal", s.exec_label_fatal);
    }
    if (!s.mount_context.empty())
        put(o, "mount_context", s.mount_context);
    return o;
}

Spec decodeSpec(const std::string &w)
{
    Spec s;
    size_t i = 0;
    auto next = [&](std::string &out) {
        size_t z = w.find('\0', i);
        if (z == std::string::npos)
            return false;
        out.assign(w, i, z - i);
        i = z + 1;
        return true;
    };
    std::string k, v;
    auto fs = [&]() -> FsSpec & {
        if (s.filesystems.empty())
            throw std::runtime_error("spec: " + k + " before fs.type");
        return s.filesystems.back();
    };
    auto dev = [&]() -> DeviceSpec & {
        if (s.devices.empty())
            throw std::runtime_error("spec: " + k + " before dev.type");
        return s.devices.back();
    };
    while (next(k)) {
        if (!next(v))
            throw std::runtime_error("spec: truncated after key " + k);
        if (k == "name")
            s.name = v;
        else if (k == "uuid")
            s.uuid = v;
        else if (k == "hostname")
            s.hostname = v;
        else if (k == "run_dir")
            s.run_dir = v;
        else if (k == "cgroup_root")
            s.cgroup_root = v;
        else if (k == "partition")
            s.partition = v;
        else if (k == "cgroup_name")
            s.cgroup_name = v;
        else if (k == "mem_hard")
            s.mem_hard_kib = toU64(k, v);
        else if (k == "mem_soft")
            s.mem_soft_kib = toU64(k, v);
        else if (k == "mem_swap")
            s.mem_swap_kib = toU64(k, v);
        else if (k == "cpu_shares")
            s.cpu_shares = toU64(k, v);
        else if (k == "cpu_period")
            s.cpu_period = toU64(k, v);
        else if (k == "cpu_quota")
            s.cpu_quota = toI64(k, v);
        else if (k == "cpuset_cpus")
            s.cpuset_cpus = v;
        else if (k == "cpuset_mems")
            s.cpuset_mems = v;
        else if (k == "blkio_weight")
            s.blkio_weight = unsigned(toU64(k, v));
        else if (k == "blkio_dev")
            s.blkio_devices.push_back(v);
        else if (k == "dev.type") {
            s.devices.emplace_back();
            s.devices.back().type = v.empty() ? 'c' : v[0];
        } else if (k == "dev.major")
            dev().major = long(toI64(k, v));
        else if (k == "dev.minor")
            dev().minor = long(toI64(k, v));
        else if (k == "dev.access")
            dev().access = v;
        else if (k == "dev.path")
            dev().path = v;
        else if (k == "netns")
            s.netns = toU64(k, v) != 0;
        else if (k == "userns")
            s.userns = toU64(k, v) != 0;
        else if (k == "share_net")
            s.share_net = v;
        else if (k == "share_ipc")
            s.share_ipc = v;
        else if (k == "share_uts")
            s.share_uts = v;
        else if (k == "uid_map")
            s.uid_map.push_back(v);
        else if (k == "gid_map")
            s.gid_map.push_back(v);
        else if (k == "fs.type") {
            FsSpec f;
            if (v == "mount")
                f.kind = FsKind::Mount;
            else if (v == "bind")
                f.kind = FsKind::Bind;
            else if (v == "block")
                f.kind = FsKind::Block;
            else if (v == "file")
                f.kind = FsKind::File;
            else if (v == "ram")
                f.kind = FsKind::Ram;
            else
                throw std::runtime_error("spec: unknown filesystem type '" + v + "'");
            s.filesystems.push_back(std::move(f));
        } else if (k == "fs.source")
            fs().source = v;
        else if (k == "fs.target")
            fs().target = v;
        else if (k == "fs.readonly")
            fs().readonly = toU64(k, v) != 0;
        else if (k == "fs.size")
            fs().size_kib = toU64(k, v);
        else if (k == "consoles")
            s.consoles = unsigned(toU64(k, v));
        else if (k == "cap_policy")
            s.cap_policy = v;
        else if (k == "cap")
            s.caps.push_back(v);
        else if (k == "init")
            s.init = v;
        else if (k == "arg")
            s.args.push_back(v);
        else if (k == "env")
            s.env.push_back(v);
        else if (k == "initdir")
            s.initdir = v;
        else if (k == "inituser")
            s.inituser = v;
        else if (k == "initgroup")
            s.initgroup = v;
        else if (k == "exec_label")
            s.exec_label = v;
        else if (k == "exec_label_fatal")
            s.exec_label_fatal = toU64(k, v) != 0;
        else if (k == "mount_context")
            s.mount_context = v;
        else
            throw std::runtime_error("spec: unknown key '" + k + "'");
    }
    if (i != w.size())
        throw std::runtime_error("spec: trailing bytes");
    return s;
}

} // namespace lxvirt::controller
