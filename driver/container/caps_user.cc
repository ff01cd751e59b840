// Capability drop (libcap-ng, bounding set included) and the switch to
// <inituser>/<initgroup>, looked up in the container's own /etc files.
#include "driver/container/child_util.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
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

void dropCaps(Child &c)
{
    uint64_t drop = c.cfg->cap_drop;
    if (!drop)
        return;
    // The capability state was read by the controller before clone();
    // here it is only edited and applied. It still names the controller's
    // pid, which capset() would refuse from inside the new pid namespace.
    capng_setpid(getpid());
    for (unsigned cap = 0; cap < 64; ++cap)
        if (drop & (uint64_t(1) << cap))
            capng_update(
                CAPNG_DROP,
                capng_type_t(CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE | CAPNG_BOUNDING_SET),
                cap);
    if (capng_apply(CAPNG_SELECT_BOTH) < 0)
        fail(c, Step::Caps, errno ? errno : EPERM, "capng_apply");
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
