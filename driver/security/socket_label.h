// ScopedSocketCreateLabel: sVirt for sockets. While it lives, every socket
// the calling thread creates carries the given SELinux context (libvirt's
// virSecurityManagerSetSocketLabel / ClearSocketLabel around the LXC
// controller's monitor socket, so the socket carries the container's MCS
// pair and a peer's getpeercon() sees the container's label).
//
// Header-only and libselinux-free on purpose: lxvirt-controller is linked
// statically without libselinux. It does what setsockcreatecon_raw() does,
// a write to /proc/thread-self/attr/sockcreate (the setting is per thread,
// so create the socket on the same thread).
#pragma once

#include "xml/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <unistd.h>

namespace lxvirt::security {

class ScopedSocketCreateLabel {
public:
    // No-op for an empty label (SELinux disabled or the container
    // unconfined: the daemon's security manager produced no label). Else
    // sets `label` as the thread's socket creation context. If that fails,
    // throws lxvirt::Error (VIR_ERR_SYSTEM_ERROR, VIR_FROM_SECURITY) when
    // `fatal` (the host enforces: pass ExecLabel::failureIsFatal()), and
    // otherwise carries on with the default label, as libvirt does on a
    // permissive host; error() then tells why.
    ScopedSocketCreateLabel(const std::string &label, bool fatal)
    {
        if (label.empty())
            return;
        int err = write(label.c_str(), label.size() + 1); // with the NUL, as libselinux
        if (err == 0) {
            active_ = true;
            return;
        }
        if (fatal)
            throw Error::system(err, "unable to set socket creation context '" + label + "'", VIR_FROM_SECURITY);
        error_ = err;
    }

    // Back to the default (the creating process' own label): an empty write,
    // what setsockcreatecon_raw(NULL) does. A failure cannot be reported
    // from here; the next socket would then keep the label, so the thread
    // should not create unrelated sockets after an error (lxvirt-controller
    // creates its later sockets in the same domain anyway).
    ~ScopedSocketCreateLabel()
    {
        if (active_)
            (void)write("", 0);
    }

    ScopedSocketCreateLabel(const ScopedSocketCreateLabel &) = delete;
    ScopedSocketCreateLabel &operator=(const ScopedSocketCreateLabel &) = delete;

    // True while the label is in effect.
    bool active() const { return active_; }
    // errno of a tolerated failure (not fatal), else 0.
    int error() const { return error_; }

private:
    // Returns 0 or the errno.
    static int write(const char *data, std::size_t size)
    {
        int fd = ::open("/proc/thread-self/attr/sockcreate", O_WRONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) // kernels before 3.17
            fd = ::open(("/proc/self/task/" + std::to_string(::gettid()) + "/attr/sockcreate").c_str(),
                        O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return errno;
        ssize_t n;
        do
            n = ::write(fd, data, size);
        while (n < 0 && errno == EINTR);
        int err = n < 0 ? errno : (std::size_t(n) != size ? EIO : 0);
        ::close(fd);
        return err;
    }

    bool active_ = false;
    int error_ = 0;
};

} // namespace lxvirt::security
