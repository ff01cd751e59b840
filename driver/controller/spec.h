// What lxvirt-controller needs to start one container, and the messages it
// exchanges with the daemon. The daemon (driver/lxc/container.cc) builds a
// Spec from the DomainDef and hands it over in a memfd, so that the
// controller never links libxml2 and stays small.
//
// Wire form of a Spec: "key\0value\0" records; repeated keys append. The
// order of the fs.* keys matters: "fs.type" opens a new filesystem record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace lxvirt::controller {

enum class FsKind { Mount, Bind, Block, File, Ram };

struct FsSpec {
    FsKind kind = FsKind::Mount;
    std::string source; // host path (mount, block, file) or path inside the root (bind)
    std::string target; // absolute path in the container
    bool readonly = false;
    uint64_t size_kib = 0; // ram
};

struct DeviceSpec {
    char type = 'c';
    long major = -1, minor = -1; // -1 = '*'
    std::string access = "rwm";
    std::string path; // node to create in the container's /dev ("" = none)
};

struct Spec {
    std::string name;
    std::string uuid;
    std::string hostname;
    std::string run_dir;
    std::string cgroup_root = "/sys/fs/cgroup";
    std::string partition = "/machine";
    std::string cgroup_name; // cgroupNameFor(name)

    // cgroup limits; empty/0 = leave the kernel default
    uint64_t mem_hard_kib = 0, mem_soft_kib = 0, mem_swap_kib = 0;
    uint64_t cpu_shares = 0, cpu_period = 0;
    int64_t cpu_quota = 0; // 0 = unset, -1 = unlimited
    std::string cpuset_cpus, cpuset_mems;
    unsigned blkio_weight = 0;
    std::vector<std::string> blkio_devices; // "maj:min weight rbps wbps riops wiops" (-1 = unset)
    std::vector<DeviceSpec> devices;        // allow-list besides the fixed one

    // namespaces
    bool netns = false, userns = false;
    std::string share_net, share_ipc, share_uts; // paths of ns files to setns() into
    std::vector<std::string> uid_map, gid_map;   // "start target count"

    std::vector<FsSpec> filesystems; // the '/' one, if any, first
    unsigned consoles = 1;

    // capabilities: policy "default" | "allow" | "deny", toggles "name=on|off"
    std::string cap_policy = "default";
    std::vector<std::string> caps;

    std::string init;
    std::vector<std::string> args; // initargs (argv[1..])
    std::vector<std::string> env;  // "K=V", complete (the daemon builds libvirt's set)
    std::string initdir, inituser, initgroup;

    // sVirt (empty = unconfined): the label init is exec'd with, whether a
    // failure to set it aborts the start (the host enforces), and the
    // mount option `context="..."` for the /dev tmpfs, devpts and
    // type='ram' filesystems the child mounts.
    std::string exec_label;
    bool exec_label_fatal = false;
    std::string mount_context;
};

std::string encodeSpec(const Spec &spec);
// Throws std::runtime_error naming the bad record.
Spec decodeSpec(const std::string &wire);

// Monitor protocol: SOCK_SEQPACKET messages of space-separated words, the
// last field may contain spaces (paths, texts). Console fds ride along as
// SCM_RIGHTS on the "console" reply.
//   controller -> daemon
//     started INITPID CGPATH step=us step=us ...     (first message, start only)
//     failed STEP ERRNO PATH                          (start only)
//     hello CTRLPID INITPID CGPATH                   (on each connect to NAME.sock)
//     exit REASON STATUS                             (shutdown|reboot|crashed|destroyed)
//     ok | error TEXT                                (replies)
//   daemon -> controller
//     signal SIG          kill(init, SIG)
//     killall SIG         every task in the cgroup
//     destroy             SIGKILL everything, report exit destroyed
//     console INDEX FORCE reply "ok" + fd (a stream socket relayed to the pty)
constexpr size_t kMaxMessage = 4096;

} // namespace lxvirt::controller
