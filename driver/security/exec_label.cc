// ExecLabel::apply(), on its own so that lxvirt-controller (static, no
// libselinux) can link it into the container child.
#include "driver/security/security_manager.h"

#include <cerrno>
#include <cstddef>
#include <fcntl.h>
#include <unistd.h>

namespace lxvirt::security {

int ExecLabel::apply() const noexcept
{
    return applyExecLabel(label_.c_str());
}

int applyExecLabel(const char *label) noexcept
{
    if (!label || !*label)
        return 0;
    // What setexeccon_raw() does, minus its asprintf() and thread-local cache:
    // this runs in a child after clone() where malloc is off limits.
    int fd = ::open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        fd = ::open("/proc/self/attr/exec", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    const char *p = label;
    std::size_t left = 1; // with the NUL, as libselinux writes it
    while (label[left - 1])
        ++left;
    while (left > 0) {
        ssize_t n = ::write(fd, p, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int err = errno;
            ::close(fd);
            return -err;
        }
        p += n;
        left -= static_cast<std::size_t>(n);
    }
    if (::close(fd) < 0 && errno != EINTR)
        return -errno;
    return 0;
}

} // namespace lxvirt::security
