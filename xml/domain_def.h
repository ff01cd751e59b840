// DomainDef: the parsed form of libvirt's <domain type='lxc'> document.
//
// Pure data: no system calls, no global state. xml/domain_xml.h turns text
// into a DomainDef and back; everything else in lxvirt works on DomainDef.
// Sizes are held in KiB (libvirt's canonical unit) unless a field says
// otherwise. std::optional marks "absent in the XML" where libvirt's output
// depends on presence.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lxvirt {

using Uuid = std::array<unsigned char, 16>;

std::string uuidToString(const Uuid& uuid);
// Accepts libvirt's forms (with or without dashes, hex pairs optionally
// separated by spaces/dashes); returns false on malformed input.
bool uuidFromString(const std::string& text, Uuid& out);
Uuid uuidGenerate();

struct IdMapEntry {
    uint32_t start = 0;   // id inside the container
    uint32_t target = 0;  // id on the host
    uint32_t count = 0;
};

struct BlkioDevice {
    std::string path;
    std::optional<unsigned> weight;
    std::optional<uint64_t> read_bytes_sec, write_bytes_sec;
    std::optional<uint64_t> read_iops_sec, write_iops_sec;
};

enum class FsType { Mount, Bind, Block, File, Ram, Template, Volume };
enum class FsAccessMode { Passthrough, Mapped, Squash };

struct FilesystemDef {
    FsType type = FsType::Mount;
    FsAccessMode accessmode = FsAccessMode::Passthrough;
    std::string driver_type;    // <driver type='loop|nbd|path|handle'>
    std::string driver_format;  // <driver format='raw|qcow2|...'>
    // source: dir (mount/bind/template-name), dev (block), file (file),
    // usage in KiB (ram), pool+volume (volume).
    std::string source;
    std::string source_pool;
    uint64_t ram_usage_kib = 0;
    std::string ram_units;      // unit the user wrote, kept for output
    std::string target;         // absolute path in the container
    bool readonly = false;
    std::optional<uint64_t> space_hard_limit_kib, space_soft_limit_kib;
    // libvirt keeps (and prints) the space limits in bytes; when set these
    // win over the *_kib fields above (which the parser fills rounded up).
    std::optional<uint64_t> space_hard_limit_bytes, space_soft_limit_bytes;
};

enum class NetType { Network, Bridge, Ethernet, Direct };

struct NetIp {
    std::string address;
    std::optional<unsigned> prefix;
    std::string family;  // optional attribute
    std::string peer;
};

struct NetRoute {
    std::string family, address, netmask, gateway;
    std::optional<unsigned> prefix;
    std::optional<unsigned> metric;
};

struct InterfaceDef {
    NetType type = NetType::Bridge;
    std::string mac;           // "52:54:00:xx:xx:xx"; generated when absent
    std::string source;        // network name / bridge / direct dev
    std::string source_mode;   // direct: vepa|bridge|private|passthrough
    std::string target_dev;    // host-side name
    std::string guest_dev;     // <guest dev='eth0'/>
    std::vector<NetIp> ips;
    std::vector<NetRoute> routes;
    std::string link_state;    // "up" | "down" | ""
    std::string model;
};

struct ConsoleDef {
    // pty only (libvirt's LXC driver refuses others at start).
    std::string type = "pty";
    std::string target_type = "lxc";  // "lxc" | "serial"
    int port = 0;
    bool is_serial = false;           // <serial> rather than <console>
    // Live only: host-side pty path and alias ("console0").
    std::string tty;
    std::string alias;
};

enum class HostdevMode { Capabilities, Subsystem };

struct HostdevDef {
    HostdevMode mode = HostdevMode::Capabilities;
    std::string caps_type;   // storage | misc | net  (mode=capabilities)
    std::string source;      // block / char path, or interface name
    // caps net only: addresses and routes libvirt sets up on the moved NIC
    // (printed after </source>, as for <interface>).
    std::vector<NetIp> ips;
    std::vector<NetRoute> routes;
    // subsystem usb
    bool managed = false;
    std::optional<unsigned> usb_vendor, usb_product;
    std::optional<unsigned> usb_bus, usb_device;
};

enum class SeclabelType { Default, Dynamic, Static, None };

struct SeclabelDef {
    SeclabelType type = SeclabelType::Dynamic;
    std::string model;          // "selinux" or "none"
    std::optional<bool> relabel;
    std::string label;
    std::string imagelabel;
    std::string baselabel;
};

enum class LifecycleAction { Destroy, Restart, Preserve, RenameRestart, CoredumpDestroy, CoredumpRestart };

enum class CapPolicy { Default, Allow, Deny };

struct CapabilityToggle {
    std::string name;  // lower case, without CAP_: "mknod", "sys_admin", ...
    bool on = false;
};

enum class NsShareType { None, Name, Pid, Netns };

struct NamespaceShare {
    NsShareType type = NsShareType::None;
    std::string value;
};

struct DomainDef {
    std::string name;
    Uuid uuid{};
    std::string title;
    std::string description;
    // The whole <metadata> element exactly as libvirt prints it (children
    // with namespaces, re-indented for nesting level 1), or "" when absent.
    std::string metadata_xml;

    // memory, KiB
    uint64_t memory_kib = 0;          // <memory>
    uint64_t current_memory_kib = 0;  // <currentMemory> (defaults to memory)
    std::optional<uint64_t> max_memory_kib;
    unsigned max_memory_slots = 0;

    // vcpu
    unsigned vcpus = 1;
    std::optional<unsigned> vcpus_current;
    std::string vcpu_placement;  // "static" (default) | "auto"
    std::string vcpu_cpuset;     // normalised as libvirt prints it: "0-1,^1" -> "0"

    // cputune
    std::optional<uint64_t> cpu_shares;
    std::optional<uint64_t> cpu_period, cpu_global_period, cpu_emulator_period;
    std::optional<int64_t> cpu_quota, cpu_global_quota, cpu_emulator_quota;

    // memtune, KiB
    std::optional<uint64_t> mem_hard_limit_kib, mem_soft_limit_kib;
    std::optional<uint64_t> mem_swap_hard_limit_kib, mem_min_guarantee_kib;

    // blkiotune
    std::optional<unsigned> blkio_weight;
    std::vector<BlkioDevice> blkio_devices;

    // numatune
    std::string numa_mode;     // strict | preferred | interleave | restrictive
    std::string numa_nodeset;
    std::string numa_placement;

    std::string resource_partition;  // "/machine" by default

    // os
    std::string os_type = "exe";
    std::string os_arch;
    std::string os_machine;
    std::string init;
    std::vector<std::string> initargs;
    std::vector<std::pair<std::string, std::string>> initenv;
    std::string initdir;
    std::string inituser;
    std::string initgroup;
    std::string cmdline;

    std::vector<IdMapEntry> idmap_uid;
    std::vector<IdMapEntry> idmap_gid;

    // features
    bool privnet = false;
    bool has_capabilities = false;
    CapPolicy cap_policy = CapPolicy::Default;
    std::vector<CapabilityToggle> caps;

    std::string clock_offset = "utc";
    std::string clock_timezone;
    std::string clock_adjustment;  // for offset='variable' (or 'reset' for localtime/utc)
    std::string clock_basis;       // offset='variable': utc | localtime
    std::vector<std::pair<std::string, std::string>> clock_timers;  // name, present

    LifecycleAction on_poweroff = LifecycleAction::Destroy;
    LifecycleAction on_reboot = LifecycleAction::Restart;
    LifecycleAction on_crash = LifecycleAction::Destroy;

    // devices
    std::string emulator;
    std::vector<FilesystemDef> filesystems;
    std::vector<InterfaceDef> interfaces;
    std::vector<ConsoleDef> consoles;  // <console> and <serial>, in document order
    std::vector<HostdevDef> hostdevs;

    std::vector<SeclabelDef> seclabels;

    // <lxc:namespace>
    NamespaceShare share_net, share_ipc, share_uts;

    // Helpers used by the runtime.
    const FilesystemDef* rootFilesystem() const;   // target "/" or nullptr
    bool needsNetNamespace() const;                 // privnet, interfaces, hostdev net
    bool needsUserNamespace() const { return !idmap_uid.empty() && !idmap_gid.empty(); }
};

}  // namespace lxvirt
