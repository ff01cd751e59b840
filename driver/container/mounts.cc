// Root file system assembly in the container child: the staging tmpfs, the
// '/' filesystem (or the read-only host root), <filesystem> mounts, /proc
// and /sys. Everything is mounted under the stage, then pivot_root moves it.
#include "driver/container/child_util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

namespace lxvirt::container::detail {

namespace {

int mountBlock(const Child &c, const char *dev, const char *dst, bool readonly)
{
    unsigned long flags = MS_NOSUID | MS_NODEV | (readonly ? MS_RDONLY : 0);
    int last = EINVAL;
    for (const char *const *t = c.cfg->fstypes; t && *t; ++t) {
        int e = doMount(dev, dst, *t, flags, nullptr);
        if (e == 0)
            return 0;
        // Wrong file system type: try the next one.
        if (e != EINVAL && e != ENODEV)
            return e;
        last = e;
    }
    return last;
}

// Host mounts that must not show through a shared host root: the container
// gets its own /proc, /sys and /dev, and never sees the staging area.
void detachHostPseudoFs(Child &c)
{
    static const char *const hidden[] = {"/proc", "/sys", "/dev"};
    char p[PATH_MAX];
    for (const char *h : hidden) {
        underRoot(c, p, h, Step::RootMount);
        umount2(p, MNT_DETACH);
    }
    underRoot(c, p, c.cfg->stage, Step::RootMount);
    umount2(p, MNT_DETACH);
}

// The mount point for a <filesystem>: a directory, or a file when the
// source is a file.
void prepareTarget(Child &c, const ChildMount &m)
{
    char dst[PATH_MAX];
    underRoot(c, dst, m.target, Step::Mounts);
    bool file = false;
    if (m.kind == MountKind::Mount || m.kind == MountKind::Bind) {
        char srcbuf[PATH_MAX];
        const char *src = m.source;
        if (m.kind == MountKind::Bind) {
            underRoot(c, srcbuf, m.source, Step::Mounts);
            src = srcbuf;
        }
        struct stat st;
        if (stat(src, &st) < 0)
            fail(c, Step::Mounts, errno, m.source);
        file = !S_ISDIR(st.st_mode);
    }
    struct stat st;
    if (lstat(dst, &st) == 0)
        return;
    if (int e = file ? touchAll(dst) : mkdirAll(dst, 0755))
        fail(c, Step::Mounts, e, m.target);
}

// Under one of the private tmpfs a shared host root gets (/tmp, /var/tmp,
// /run)? Plain prefix checks: this runs in the child, no allocation.
bool underScratch(const char *target)
{
    static const char *const scratch[] = {"/tmp", "/var/tmp", "/run"};
    for (const char *dir : scratch) {
        size_t n = strlen(dir);
        if (strncmp(target, dir, n) == 0 && (target[n] == '\0' || target[n] == '/'))
            return true;
    }
    return false;
}

void mountOne(Child &c, const ChildMount &m)
{
    char dst[PATH_MAX];
    underRoot(c, dst, m.target, Step::Mounts);
    int e = 0;
    switch (m.kind) {
    case MountKind::Mount:
        e = bindMount(m.source, dst, m.readonly, true);
        break;
    case MountKind::Bind: {
        char src[PATH_MAX];
        underRoot(c, src, m.source, Step::Mounts);
        e = bindMount(src, dst, m.readonly, true);
        break;
    }
    case MountKind::Block:
        e = mountBlock(c, m.source, dst, m.readonly);
        break;
    case MountKind::Ram:
        e = doMount("tmpfs", dst, "tmpfs", MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0), m.data);
        break;
    }
    if (e)
        fail(c, Step::Mounts, e, m.kind == MountKind::Ram ? m.target : m.source);
}

} // namespace

void setupRoot(Child &c)
{
    const ChildConfig &cfg = *c.cfg;
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        fail(c, Step::Rprivate, errno, "/");

    if (int e = doMount("lxvirt-stage", cfg.stage, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                        "mode=0700,size=16k"))
        fail(c, Step::Stage, e, cfg.stage);
    if (!join(c.root, sizeof c.root, cfg.stage, "root"))
        fail(c, Step::Stage, ENAMETOOLONG, cfg.stage);
    if (mkdir(c.root, 0755) < 0)
        fail(c, Step::Stage, errno, c.root);

    bool host = cfg.root_source == nullptr;
    const char *src = host ? "/" : cfg.root_source;
    int e = 0;
    switch (cfg.root_kind) {
    case MountKind::Mount:
    case MountKind::Bind:
        e = doMount(src, c.root, nullptr, MS_BIND | MS_REC, nullptr);
        break;
    case MountKind::Block:
        e = mountBlock(c, src, c.root, false);
        break;
    case MountKind::Ram:
        e = doMount("tmpfs", c.root, "tmpfs", MS_NOSUID | MS_NODEV, cfg.ram_root_data);
        break;
    }
    if (e)
        fail(c, Step::RootMount, e, src);
    if (strcmp(src, "/") == 0)
        detachHostPseudoFs(c);

    // Mount points first: once the root is read-only nothing can be created.
    static const char *const basic[] = {"/proc", "/sys", "/dev"};
    char p[PATH_MAX];
    for (const char *b : basic) {
        underRoot(c, p, b, Step::RootMount);
        struct stat st;
        if (lstat(p, &st) < 0 && mkdir(p, 0755) < 0)
            fail(c, Step::RootMount, errno, b);
    }
    // Targets under the private scratch tmpfs of a shared host root are made
    // inside that tmpfs below, never on the host's own /tmp.
    for (size_t i = 0; i < cfg.nmounts; ++i)
        if (!(host && underScratch(cfg.mounts[i].target)))
            prepareTarget(c, cfg.mounts[i]);

    if (host || cfg.root_readonly) {
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        if (mount_setattr(AT_FDCWD, c.root, AT_RECURSIVE, &attr, sizeof attr) < 0)
            fail(c, Step::RootMount, errno, src);
    }
    if (host) {
        // The host root is shared read-only; the places programs expect to
        // write get private tmpfs instances.
        const struct {
            const char *path;
            const char *data;
        } scratch[] = {{"/tmp", cfg.tmp_data}, {"/var/tmp", cfg.tmp_data}, {"/run", cfg.run_data}};
        for (auto &s : scratch) {
            underRoot(c, p, s.path, Step::RootMount);
            int r = doMount("tmpfs", p, "tmpfs", MS_NOSUID | MS_NODEV, s.data);
            if (r && r != ENOENT)
                fail(c, Step::RootMount, r, s.path);
        }
        for (size_t i = 0; i < cfg.nmounts; ++i)
            if (underScratch(cfg.mounts[i].target))
                prepareTarget(c, cfg.mounts[i]);
    }
    for (size_t i = 0; i < cfg.nmounts; ++i)
        mountOne(c, cfg.mounts[i]);
}

void setupProcSys(Child &c)
{
    char p[PATH_MAX];
    underRoot(c, p, "/proc", Step::Proc);
    if (int e = doMount("proc", p, "proc", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr))
        fail(c, Step::Proc, e, "/proc");
    underRoot(c, p, "/proc/sys", Step::Proc);
    if (int e = bindMount(p, p, true, false))
        fail(c, Step::Proc, e, "/proc/sys");

    underRoot(c, p, "/sys", Step::Sys);
    int e = doMount("sysfs", p, "sysfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, nullptr);
    if ((e == EPERM || e == EACCES) && c.cfg->userns) {
        // A user namespace without its own network namespace may not mount
        // sysfs: show the host's, read-only.
        e = bindMount("/sys", p, true, true);
    } else if (e == 0) {
        mount_attr attr{};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        if (mount_setattr(AT_FDCWD, p, AT_RECURSIVE, &attr, sizeof attr) < 0)
            e = errno;
    }
    if (e)
        fail(c, Step::Sys, e, "/sys");
}

} // namespace lxvirt::container::detail
