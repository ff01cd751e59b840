// Small fd helpers shared by lxvirtd and lxvirt-controller: whole-file reads
// without iostreams (the first stream a process uses maps ~450 KiB of
// libstdc++ into it) and one-message sends and receives with SCM_RIGHTS fds.
#pragma once

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace lxvirt {

// What `fd` holds from its current offset to EOF (stops at an error).
inline std::string readFd(int fd)
{
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        out.append(buf, size_t(n));
    }
    return out;
}

// The file's content; "" when it cannot be opened.
inline std::string readWholeFile(const std::string &path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::string();
    std::string out = readFd(fd);
    ::close(fd);
    return out;
}

// One recvmsg() into buf (retried on EINTR); the fds that came with it
// (close-on-exec) are appended to `fds`, which the caller then owns.
// Returns what recvmsg returned.
inline ssize_t recvWithFds(int sock, void *buf, size_t len, std::vector<int> &fds, int flags = 0)
{
    iovec iov{buf, len};
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * 16)];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctl;
    mh.msg_controllen = sizeof ctl;
    ssize_t n;
    do {
        n = ::recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | flags);
    } while (n < 0 && errno == EINTR);
    for (cmsghdr *cm = CMSG_FIRSTHDR(&mh); n >= 0 && cm; cm = CMSG_NXTHDR(&mh, cm)) {
        if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
            continue;
        for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
            int f;
            std::memcpy(&f, CMSG_DATA(cm) + i * sizeof(int), sizeof f);
            fds.push_back(f);
        }
    }
    return n;
}

// One sendmsg() of buf with `fds` (at most 16) as SCM_RIGHTS, retried on
// EINTR, never raising SIGPIPE. Returns what sendmsg returned.
inline ssize_t sendWithFds(int sock, const void *buf, size_t len, const int *fds = nullptr, size_t nfds = 0)
{
    if (nfds > 16) {
        errno = EINVAL;
        return -1;
    }
    iovec iov{const_cast<void *>(buf), len};
    alignas(cmsghdr) char ctl[CMSG_SPACE(sizeof(int) * 16)];
    msghdr mh{};
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    if (nfds > 0) {
        std::memset(ctl, 0, sizeof ctl);
        mh.msg_control = ctl;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        std::memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    ssize_t n;
    do {
        n = ::sendmsg(sock, &mh, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
}

} // namespace lxvirt
