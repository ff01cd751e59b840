// The container child: one flat chain of setup steps from clone() to exec.
#include "driver/container/child.h"
#include "driver/container/child_util.h"
#include "driver/security/security_manager.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace lxvirt::container {

const char *stepName(Step s)
{
    switch (s) {
    case Step::Ok:
        return "ok";
    case Step::Wait:
        return "wait for controller";
    case Step::Setns:
        return "join namespace";
    case Step::Identity:
        return "user namespace identity";
    case Step::Rprivate:
        return "make mounts private";
    case Step::Stage:
        return "staging mount";
    case Step::RootMount:
        return "root filesystem";
    case Step::Mounts:
        return "filesystem mount";
    case Step::Proc:
        return "mount /proc";
    case Step::Sys:
        return "mount /sys";
    case Step::Dev:
        return "populate /dev";
    case Step::Devpts:
        return "mount /dev/pts";
    case Step::Console:
        return "console";
    case Step::Hostname:
        return "set hostname";
    case Step::Network:
        return "loopback";
    case Step::Pivot:
        return "pivot_root";
    case Step::Init:
        return "init";
    case Step::Caps:
        return "drop capabilities";
    case Step::User:
        return "set init user";
    case Step::Stdio:
        return "console stdio";
    case Step::SecLabel:
        return "set security label";
    case Step::Exec:
        return "exec init";
    }
    return "unknown";
}

int64_t monotonicNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

namespace detail {

void stamp(Child &c, Stamp s)
{
    c.msg.stamps[s] = monotonicNs();
}

[[noreturn]] void fail(Child &c, Step step, int err, const char *path)
{
    c.msg.type = MsgType::Failed;
    c.msg.step = int(step);
    c.msg.err = err;
    c.msg.nfds = 0;
    size_t i = 0;
    if (path)
        for (; path[i] && i + 1 < sizeof c.msg.path; ++i)
            c.msg.path[i] = path[i];
    c.msg.path[i] = '\0';
    (void)!send(c.cfg->sync_fd, &c.msg, sizeof c.msg, MSG_NOSIGNAL);
    _exit(127);
}

bool join(char *dst, size_t size, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    while (la > 0 && a[la - 1] == '/')
        --la;
    bool slash = lb == 0 || b[0] != '/';
    if (la + slash + lb + 1 > size)
        return false;
    memcpy(dst, a, la);
    if (slash)
        dst[la++] = '/';
    memcpy(dst + la, b, lb + 1);
    return true;
}

void underRoot(Child &c, char (&dst)[PATH_MAX], const char *path, Step step)
{
    if (!join(dst, sizeof dst, c.root, path))
        fail(c, step, ENAMETOOLONG, path);
}

// The directory `path` is in (trailing slashes ignored): 0, ENOENT at the
// top, or ENAMETOOLONG.
int parentOf(const char *path, char (&out)[PATH_MAX])
{
    size_t n = strlen(path);
    if (n + 1 > sizeof out)
        return ENAMETOOLONG;
    memcpy(out, path, n + 1);
    char *slash = strrchr(out, '/');
    while (slash && slash != out && slash[1] == '\0') {
        *slash = '\0';
        slash = strrchr(out, '/');
    }
    if (!slash || slash == out)
        return ENOENT;
    *slash = '\0';
    return 0;
}

// Both try the leaf first: mount targets and /dev entries almost always
// have their parents already, and every syscall counts on the start path.
int mkdirAll(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0)
        return 0;
    int e = errno;
    if (e == ENOENT) {
        char parent[PATH_MAX];
        if (int pe = parentOf(path, parent))
            return pe;
        if (int pe = mkdirAll(parent, mode))
            return pe;
        if (mkdir(path, mode) == 0)
            return 0;
        e = errno;
    }
    if (e != EEXIST)
        return e;
    struct stat st;
    if (stat(path, &st) < 0)
        return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int touchAll(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && errno == ENOENT) {
        char dir[PATH_MAX];
        if (int e = parentOf(path, dir))
            return e;
        if (int e = mkdirAll(dir, 0755))
            return e;
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    }
    if (fd < 0)
        return errno;
    close(fd);
    return 0;
}

int doMount(const char *src, const char *dst, const char *type, unsigned long flags, const void *data)
{
    return mount(src, dst, type, flags, data) < 0 ? errno : 0;
}

int bindMount(const char *src, const char *dst, bool readonly, bool recursive)
{
    if (int e = doMount(src, dst, nullptr, MS_BIND | (recursive ? MS_REC : 0), nullptr))
        return e;
    if (!readonly)
        return 0;
    // Read-only on the bind, never on the superblock: a read-only first
    // mount could turn the host's own mount read-only.
    mount_attr attr{};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (mount_setattr(AT_FDCWD, dst, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) < 0)
        return errno;
    return 0;
}

} // namespace detail

using namespace detail;

namespace {

void waitContinue(Child &c)
{
    char ch = 0;
    ssize_t n;
    do {
        n = read(c.cfg->sync_fd, &ch, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1 || ch != kContinue)
        fail(c, Step::Wait, n < 0 ? errno : EPIPE, nullptr);
}

void becomeRoot(Child &c)
{
    if (!c.cfg->userns)
        return;
    if (setresgid(0, 0, 0) < 0)
        fail(c, Step::Identity, errno, "gid 0");
    if (setresuid(0, 0, 0) < 0)
        fail(c, Step::Identity, errno, "uid 0");
}

void loopbackUp(Child &c)
{
    if (!c.cfg->netns)
        return;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        fail(c, Step::Network, errno, "lo");
    ifreq ifr{};
    memcpy(ifr.ifr_name, "lo", 3);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        fail(c, Step::Network, errno, "lo");
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        fail(c, Step::Network, errno, "lo");
    close(s);
}

void pivot(Child &c)
{
    if (chdir(c.root) < 0)
        fail(c, Step::Pivot, errno, c.root);
    // pivot_root(".", ".") stacks the old root on top of the new one, so a
    // read-only root needs no put_old directory; the old root is then
    // detached with everything the host had mounted.
    if (syscall(SYS_pivot_root, ".", ".") < 0)
        fail(c, Step::Pivot, errno, c.root);
    if (umount2(".", MNT_DETACH) < 0)
        fail(c, Step::Pivot, errno, "old root");
    if (chdir("/") < 0)
        fail(c, Step::Pivot, errno, "/");
}

void checkInit(Child &c)
{
    const ChildConfig &cfg = *c.cfg;
    if (access(cfg.init, X_OK) < 0)
        fail(c, Step::Init, errno, cfg.init);
    if (cfg.initdir && *cfg.initdir && chdir(cfg.initdir) < 0)
        fail(c, Step::Init, errno, cfg.initdir);
}

void stdio(Child &c)
{
    if (setsid() < 0)
        fail(c, Step::Stdio, errno, "setsid");
    for (int fd = 0; fd < 3; ++fd)
        if (dup2(c.console_fd, fd) < 0)
            fail(c, Step::Stdio, errno, "/dev/console");
    if (ioctl(0, TIOCSCTTY, 0) < 0)
        fail(c, Step::Stdio, errno, "/dev/console");
    if (c.console_fd > 2)
        close(c.console_fd);
    // Everything the controller had open (inherited by clone) must not reach
    // init; the sync socket is close-on-exec already.
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
        fail(c, Step::Stdio, errno, "close_range");
}

} // namespace

int childMain(void *arg)
{
    Child c;
    memset(&c.msg, 0, sizeof c.msg);
    c.cfg = static_cast<const ChildConfig *>(arg);
    stamp(c, StampStart);
    // The controller blocks and ignores signals for itself; init starts
    // with a clean slate.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    // exec resets caught signals but keeps ignored ones: undo the
    // controller's SIG_IGNs (and only those: each call is a syscall).
    for (int sig : kControllerIgnores)
        signal(sig, SIG_DFL);
    if (c.cfg->userns)
        waitContinue(c);
    stamp(c, StampMapped);
    becomeRoot(c);
    setupRoot(c);
    setupProcSys(c);
    stamp(c, StampMounts);
    setupDev(c);
    stamp(c, StampDev);
    if (c.cfg->own_uts && c.cfg->hostname && sethostname(c.cfg->hostname, strlen(c.cfg->hostname)) < 0)
        fail(c, Step::Hostname, errno, c.cfg->hostname);
    loopbackUp(c);
    pivot(c);
    stamp(c, StampPivot);
    checkInit(c);
    dropCaps(c);
    setupUser(c);
    stamp(c, StampCaps);
    // Nothing of the user's runs before the cgroup holds us.
    waitContinue(c);
    stamp(c, StampAttached);
    stdio(c);
    if (c.cfg->exec_label) {
        // Last before exec: every earlier step runs with the controller's
        // label, which may mount and mknod; init's label may not.
        int r = security::applyExecLabel(c.cfg->exec_label);
        if (r < 0 && c.cfg->exec_label_fatal)
            fail(c, Step::SecLabel, -r, c.cfg->exec_label);
    }
    stamp(c, StampReady);
    c.msg.type = MsgType::Ready;
    if (send(c.cfg->sync_fd, &c.msg, sizeof c.msg, MSG_NOSIGNAL) < 0)
        _exit(127);
    execve(c.cfg->init, c.cfg->argv, c.cfg->envp);
    fail(c, Step::Exec, errno, c.cfg->init);
}

} // namespace lxvirt::container
