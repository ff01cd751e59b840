// Capability drop (bounding, effective, permitted, inheritable) and the switch to
// <inituser>/<initgroup>, looked up in the container's own /etc files.
#include "driver/container/child_util.h"

#include <linux/capability.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace lxvirt::container::detail {

namespace {

bool parseId(const char *s, unsigned &out)
{
    if (!*s)
        return false;
    unsigned long v = 0;
    for (const char *p = s; *p; ++p) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + unsigned(*p - '0');
        if (v > 0xfffffffeUL)
            return false;
    }
    out = unsigned(v);
    return true;
}

// Finds `name` in a passwd/group style file; returns fields 3 and 4
// (id, and for passwd the primary gid). 0 or an errno.
int lookup(const char *file, const char *name, unsigned &id, unsigned &gid)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    char buf[4096];
    size_t have = 0;
    size_t nlen = strlen(name);
    bool eof = false;
    int result = ENOENT;
    while (result == ENOENT) {
        if (!eof && have < sizeof buf) {
            ssize_t r = read(fd, buf + have, sizeof buf - have);
            if (r < 0) {
                result = errno;
                break;
            }
            if (r == 0)
                eof = true;
            have += size_t(r);
        }
        char *nl = static_cast<char *>(memchr(buf, '\n', have));
        if (!nl) {
            if (!eof && have < sizeof buf)
                continue;
            if (have == 0)
                break;
            nl = buf + (have < sizeof buf ? have : sizeof buf - 1);
        }
        *nl = '\0';
        size_t len = size_t(nl - buf) + 1;
        if (strncmp(buf, name, nlen) == 0 && buf[nlen] == ':') {
            // name:passwd:id:gid:...
            char *f = buf + nlen + 1;
            char *fields[3] = {};
            for (int i = 0; i < 3 && f; ++i) {
                char *colon = strchr(f, ':');
                if (colon)
                    *colon = '\0';
                fields[i] = f;
                f = colon ? colon + 1 : nullptr;
            }
            if (fields[1] && parseId(fields[1], id)) {
                gid = id;
                if (fields[2])
                    parseId(fields[2], gid);
                result = 0;
            } else {
                result = EINVAL;
            }
        }
        if (len > have)
            len = have;
        memmove(buf, buf + len, have - len);
        have -= len;
        if (eof && have == 0)
            break;
    }
    close(fd);
    return result;
}

} // namespace

// Straight syscalls rather than libcap-ng's capng_apply(), which re-reads
// /proc/PID/status three times per call (a third of this step's time); the
// controller still uses libcap-ng for the capability names of the XML.
// Dropping a capability from permitted and inheritable also clears it from
// the ambient set (kernel rule), so that needs no call of its own.
void dropCaps(Child &c)
{
    uint64_t drop = c.cfg->cap_drop;
    if (!drop)
        return;
    for (unsigned cap = 0; cap < 64; ++cap)
        if (((drop >> cap) & 1) && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            fail(c, Step::Caps, errno, "bounding set");
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (syscall(SYS_capget, &hdr, data) < 0)
        fail(c, Step::Caps, errno, "capget");
    for (int i = 0; i < 2; ++i) {
        uint32_t keep = ~uint32_t(drop >> (32 * i));
        data[i].effective &= keep;
        data[i].permitted &= keep;
        data[i].inheritable &= keep;
    }
    if (syscall(SYS_capset, &hdr, data) < 0)
        fail(c, Step::Caps, errno, "capset");
}

void setupUser(Child &c)
{
    const char *user = c.cfg->inituser;
    const char *group = c.cfg->initgroup;
    bool haveUser = user && *user, haveGroup = group && *group;
    if (!haveUser && !haveGroup)
        return;
    unsigned uid = 0, gid = 0, unused = 0;
    if (haveUser && !parseId(user, uid)) {
        if (int e = lookup("/etc/passwd", user, uid, gid))
            fail(c, Step::User, e, user);
    } else if (haveUser) {
        gid = uid;
    }
    if (haveGroup && !parseId(group, gid)) {
        if (int e = lookup("/etc/group", group, gid, unused))
            fail(c, Step::User, e, group);
    }
    gid_t g = gid;
    if (setgroups(1, &g) < 0)
        fail(c, Step::User, errno, haveGroup ? group : user);
    if (setresgid(gid, gid, gid) < 0)
        fail(c, Step::User, errno, haveGroup ? group : user);
    if (haveUser && setresuid(uid, uid, uid) < 0)
        fail(c, Step::User, errno, user);
}

} // namespace lxvirt::container::detail
