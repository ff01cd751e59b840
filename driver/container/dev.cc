// The container's /dev: a small tmpfs with the nodes the device cgroup
// allows, a private devpts instance, and the console ptys allocated in it.
#include "driver/container/child_util.h"
#include "driver/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

namespace lxvirt::container::detail {

namespace {

constexpr unsigned kMaxConsoles = 16;

// mknod is not allowed in a user namespace: bind the host's node instead.
int makeNode(Child &c, const char *hostPath, const char *dst, mode_t mode, dev_t dev)
{
    if (!c.cfg->userns)
        return mknod(dst, mode, dev) < 0 && errno != EEXIST ? errno : 0;
    if (int e = touchAll(dst))
        return e;
    return doMount(hostPath, dst, nullptr, MS_BIND, nullptr);
}

void itoa(unsigned v, char *out)
{
    char tmp[16];
    int n = 0;
    do {
        tmp[n++] = char('0' + v % 10);
        v /= 10;
    } while (v);
    for (int i = 0; i < n; ++i)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
}

void sendConsoles(Child &c, const int *fds, unsigned n)
{
    c.msg.type = MsgType::Consoles;
    c.msg.nfds = int(n);
    if (sendWithFds(c.cfg->sync_fd, &c.msg, sizeof c.msg, fds, n) < 0)
        fail(c, Step::Console, errno, "send console");
}

void setupConsoles(Child &c, const char *dev)
{
    unsigned n = c.cfg->consoles;
    if (n == 0)
        n = 1;
    if (n > kMaxConsoles)
        fail(c, Step::Console, E2BIG, "consoles");
    int masters[kMaxConsoles];
    char ptmx[PATH_MAX], slave[PATH_MAX], link[PATH_MAX];
    if (!join(ptmx, sizeof ptmx, dev, "pts/ptmx"))
        fail(c, Step::Console, ENAMETOOLONG, dev);
    for (unsigned i = 0; i < n; ++i) {
        int m = open(ptmx, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (m < 0)
            fail(c, Step::Console, errno, "/dev/pts/ptmx");
        int unlock = 0;
        unsigned ptn = 0;
        if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &ptn) < 0)
            fail(c, Step::Console, errno, "/dev/pts/ptmx");
        masters[i] = m;
        char name[32] = "pts/";
        itoa(ptn, name + 4);
        if (!join(slave, sizeof slave, dev, name))
            fail(c, Step::Console, ENAMETOOLONG, name);
        // /dev/console is the first console, /dev/ttyN the N-th.
        char tty[32] = "tty";
        itoa(i + 1, tty + 3);
        const char *names[2] = {tty, i == 0 ? "console" : nullptr};
        for (const char *nm : names) {
            if (!nm)
                continue;
            if (!join(link, sizeof link, dev, nm))
                fail(c, Step::Console, ENAMETOOLONG, nm);
            if (int e = touchAll(link))
                fail(c, Step::Console, e, nm);
            if (int e = doMount(slave, link, nullptr, MS_BIND, nullptr))
                fail(c, Step::Console, e, nm);
        }
        if (i == 0) {
            c.console_fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
            if (c.console_fd < 0)
                fail(c, Step::Console, errno, "/dev/console");
        }
    }
    sendConsoles(c, masters, n);
    for (unsigned i = 0; i < n; ++i)
        close(masters[i]);
}

} // namespace

void setupDev(Child &c)
{
    char dev[PATH_MAX], p[PATH_MAX];
    underRoot(c, dev, "/dev", Step::Dev);
    if (int e = doMount("devfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, c.cfg->dev_data))
        fail(c, Step::Dev, e, "/dev");

    // mknod honours the umask; these nodes must be usable by everyone.
    mode_t old_umask = umask(0);
    static const struct {
        const char *name;
        unsigned maj, min;
    } nodes[] = {{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
                 {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0}};
    for (auto &n : nodes) {
        char host[64] = "/dev/";
        memcpy(host + 5, n.name, strlen(n.name) + 1);
        if (!join(p, sizeof p, dev, n.name))
            fail(c, Step::Dev, ENAMETOOLONG, n.name);
        if (int e = makeNode(c, host, p, S_IFCHR | 0666, makedev(n.maj, n.min)))
            fail(c, Step::Dev, e, host);
    }
    umask(old_umask);
    for (size_t i = 0; i < c.cfg->ndevices; ++i) {
        const ChildDevice &d = c.cfg->devices[i];
        underRoot(c, p, d.path, Step::Dev);
        char parent[PATH_MAX];
        memcpy(parent, p, strlen(p) + 1);
        if (char *s = strrchr(parent, '/'); s && s != parent) {
            *s = '\0';
            mkdirAll(parent, 0755);
        }
        if (int e = makeNode(c, d.path, p, d.mode, d.dev))
            fail(c, Step::Dev, e, d.path);
    }

    static const struct {
        const char *name;
        const char *target;
    } links[] = {{"fd", "/proc/self/fd"},
                 {"stdin", "/proc/self/fd/0"},
                 {"stdout", "/proc/self/fd/1"},
                 {"stderr", "/proc/self/fd/2"},
                 {"ptmx", "pts/ptmx"}};
    for (auto &l : links) {
        if (!join(p, sizeof p, dev, l.name) || symlink(l.target, p) < 0)
            fail(c, Step::Dev, errno, l.name);
    }

    static const char *const dirs[] = {"pts", "shm", "mqueue"};
    for (const char *d : dirs)
        if (!join(p, sizeof p, dev, d) || mkdir(p, 0755) < 0)
            fail(c, Step::Dev, errno, d);

    if (!join(p, sizeof p, dev, "pts"))
        fail(c, Step::Devpts, ENAMETOOLONG, "pts");
    int e =
        doMount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, c.cfg->devpts_data);
    if (e == EINVAL && c.cfg->userns) // gid 5 not mapped into the namespace
        e = doMount("devpts", p, "devpts", MS_NOSUID | MS_NOEXEC, c.cfg->devpts_data_nogid);
    if (e)
        fail(c, Step::Devpts, e, "/dev/pts");

    if (!join(p, sizeof p, dev, "shm"))
        fail(c, Step::Dev, ENAMETOOLONG, "shm");
    if (int e2 = doMount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV, c.cfg->shm_data))
        fail(c, Step::Dev, e2, "/dev/shm");
    if (!join(p, sizeof p, dev, "mqueue"))
        fail(c, Step::Dev, ENAMETOOLONG, "mqueue");
    if (int e2 = doMount("mqueue", p, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr))
        fail(c, Step::Dev, e2, "/dev/mqueue");

    setupConsoles(c, dev);
}

} // namespace lxvirt::container::detail
