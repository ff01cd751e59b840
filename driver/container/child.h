// The code that runs in the cloned container child, between clone() and the
// exec of <init>. The controller prepares a ChildConfig (all allocation
// happens there, before clone); the child only makes system calls, and on
// failure reports {step, errno, path} over the sync socket and _exits.
#pragma once

#include <signal.h>

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace lxvirt::container {

// Order = order of execution; names in stepName().
enum class Step : int {
    Ok = 0,
    Wait,      // waiting for the controller's "continue"
    Setns,     // joining shared namespaces
    Identity,  // setresuid/gid(0) in a user namespace
    Rprivate,  // making / rprivate
    Stage,     // the staging tmpfs the new root is assembled under
    RootMount, // mounting the '/' filesystem (or the read-only host root)
    Mounts,    // <filesystem> mounts
    Proc,
    Sys,
    Dev,
    Devpts,
    Console,
    Hostname,
    Network, // loopback up in a private netns
    Pivot,
    Init, // looking up <init>, <inituser>, <initgroup>, <initdir>
    Caps,
    User, // setgroups/setgid/setuid for inituser
    Stdio,
    SecLabel, // the sVirt exec label (fatal only when the host enforces)
    Exec,
};
const char *stepName(Step s);

// Start latency stamps (CLOCK_MONOTONIC, ns), filled by the child.
enum Stamp {
    StampStart,
    StampMapped,   // id maps written (user namespace only; else = StampStart)
    StampMounts,
    StampDev,
    StampPivot,
    StampCaps,
    StampAttached, // the controller placed us in the cgroup
    StampReady,
    StampCount
};

// Messages child -> controller on the sync socket (SOCK_SEQPACKET).
enum class MsgType : int { Consoles = 1, Ready = 2, Failed = 3 };
struct ChildMsg {
    MsgType type;
    int step;
    int err;
    int nfds;
    int64_t stamps[StampCount];
    char path[512];
};
// Controller -> child: "continue". With a user namespace the child waits
// for it once at the start (its id maps are written); every child waits for
// it before exec (it has been placed in the container's cgroup). The
// controller builds the cgroup while the child mounts, so the two overlap.
constexpr char kContinue = 'c';
// Controller -> a child cloned ahead of need: its config is ready.
constexpr char kGo = 'g';

// The signals lxvirt-controller ignores; its child restores their default
// before exec (ignored dispositions survive exec, caught ones do not).
constexpr int kControllerIgnores[] = {SIGPIPE, SIGHUP};

enum class MountKind { Mount, Bind, Block, Ram };

struct ChildMount {
    MountKind kind;
    const char *source; // host path; for Bind relative to the new root; for Block a device
    const char *target; // absolute, in the container
    bool readonly;
    const char *data; // tmpfs "size=..k" or nullptr
};

struct ChildDevice {
    const char *path; // absolute in the container's /dev
    mode_t mode;      // S_IFCHR/S_IFBLK | 0600..
    dev_t dev;
};

struct ChildConfig {
    int sync_fd = -1;            // our end of the sync socketpair
    const char *stage = nullptr; // an existing host directory to mount the staging tmpfs on
    const char *hostname = nullptr;
    bool own_uts = true, netns = false, userns = false;
    int share_fds[3] = {-1, -1, -1}; // net, ipc, uts
    int share_types[3] = {0, 0, 0};  // CLONE_NEW* for setns

    // root: if root_source is null the host root is used, read-only
    const char *root_source = nullptr;
    MountKind root_kind = MountKind::Mount;
    bool root_readonly = false;
    const char *run_dir = nullptr; // detached from a shared host root

    const ChildMount *mounts = nullptr;
    size_t nmounts = 0;
    const ChildDevice *devices = nullptr; // extra nodes (<hostdev>)
    size_t ndevices = 0;
    const char *const *fstypes = nullptr; // block filesystem types to try, null-terminated
    unsigned consoles = 1;

    // capabilities: bit i set => drop capability i (effective/permitted/inheritable/bounding)
    uint64_t cap_drop = 0;

    const char *init = nullptr;
    char *const *argv = nullptr;
    char *const *envp = nullptr;
    const char *initdir = nullptr;
    const char *inituser = nullptr;
    const char *initgroup = nullptr;

    // sVirt. The exec label (null = unconfined) is written right before
    // execve(). The mount data strings of the file systems the child
    // creates carry `context="<imagelabel>"` when confined; the controller
    // builds them so that the child does not allocate.
    const char *exec_label = nullptr; // security::applyExecLabel()
    bool exec_label_fatal = false;
    const char *dev_data = "mode=755,size=65536";
    const char *devpts_data = "newinstance,ptmxmode=0666,mode=0620,gid=5";
    const char *devpts_data_nogid = "newinstance,ptmxmode=0666,mode=0620"; // gid 5 unmapped (userns)
    const char *shm_data = "mode=1777";
    const char *tmp_data = "mode=1777";   // /tmp, /var/tmp over a shared host root
    const char *run_data = "mode=0755";   // /run over a shared host root
    const char *ram_root_data = nullptr;  // a type='ram' root
};

// clone() entry point; `arg` is a ChildConfig*.
int childMain(void *arg);

int64_t monotonicNs();

} // namespace lxvirt::container
