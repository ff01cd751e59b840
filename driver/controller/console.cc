#include "driver/controller/controller.h"
#include "driver/fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

namespace lxvirt::controller {

void Fd::reset(int fd)
{
    if (fd_ >= 0)
        close(fd_);
    fd_ = fd;
}

bool sendMessage(int sock, const std::string &text, int fd)
{
    return sendWithFds(sock, text.data(), text.size(), &fd, fd >= 0 ? 1 : 0) == ssize_t(text.size());
}

ConsoleRelay::ConsoleRelay(Fd master) : master_(std::move(master))
{
    fcntl(master_.get(), F_SETFL, fcntl(master_.get(), F_GETFL) | O_NONBLOCK);
    peer_ = Fd(ioctl(master_.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
}

int ConsoleRelay::attach(bool force)
{
    if (client_ && !force) {
        errno = EBUSY;
        return -1;
    }
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
        return -1;
    client_ = Fd(sv[0]);
    toClientLen_ = toPtyLen_ = 0;
    int theirs = sv[1];
    // The daemon's end blocks like a pty would.
    fcntl(theirs, F_SETFL, fcntl(theirs, F_GETFL) & ~O_NONBLOCK);
    return theirs;
}

void ConsoleRelay::detach()
{
    client_.reset();
    toClientLen_ = toPtyLen_ = 0;
}

void ConsoleRelay::flush()
{
    if (!client_)
        return;
    for (int rounds = 0; rounds < 64; ++rounds) {
        if (toClientLen_ < sizeof toClient_) {
            ssize_t n = read(master_.get(), toClient_ + toClientLen_, sizeof toClient_ - toClientLen_);
            if (n > 0)
                toClientLen_ += size_t(n);
        }
        if (!toClientLen_)
            return;
        pollfd p{client_.get(), POLLOUT, 0};
        if (poll(&p, 1, 100) <= 0)
            return;
        ssize_t n = send(client_.get(), toClient_, toClientLen_, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        memmove(toClient_, toClient_ + n, toClientLen_ - size_t(n));
        toClientLen_ -= size_t(n);
    }
}

void ConsoleRelay::addPollFds(std::vector<pollfd> &fds)
{
    short m = 0;
    if (toClientLen_ < sizeof toClient_)
        m |= POLLIN;
    if (toPtyLen_)
        m |= POLLOUT;
    fds.push_back({master_.get(), m, 0});
    short c = 0;
    if (client_) {
        if (toPtyLen_ < sizeof toPty_)
            c |= POLLIN;
        if (toClientLen_)
            c |= POLLOUT;
    }
    fds.push_back({client_ ? client_.get() : -1, c, 0});
}

void ConsoleRelay::handle(const std::vector<pollfd> &fds, size_t &index)
{
    const pollfd &pm = fds[index++];
    const pollfd &pc = fds[index++];
    if (pm.revents & POLLIN) {
        ssize_t n = read(master_.get(), toClient_ + toClientLen_, sizeof toClient_ - toClientLen_);
        // Nobody listening: the output is dropped, the container goes on.
        if (n > 0 && client_)
            toClientLen_ += size_t(n);
    }
    if (pm.revents & POLLOUT && toPtyLen_) {
        ssize_t n = write(master_.get(), toPty_, toPtyLen_);
        if (n > 0) {
            memmove(toPty_, toPty_ + n, toPtyLen_ - size_t(n));
            toPtyLen_ -= size_t(n);
        }
    }
    if (!client_)
        return;
    if (pc.revents & POLLOUT && toClientLen_) {
        ssize_t n = send(client_.get(), toClient_, toClientLen_, MSG_NOSIGNAL);
        if (n > 0) {
            memmove(toClient_, toClient_ + n, toClientLen_ - size_t(n));
            toClientLen_ -= size_t(n);
        } else if (n < 0 && errno != EAGAIN) {
            detach();
            return;
        }
    }
    if (pc.revents & POLLIN) {
        ssize_t n = read(client_.get(), toPty_ + toPtyLen_, sizeof toPty_ - toPtyLen_);
        if (n > 0)
            toPtyLen_ += size_t(n);
        else if (n == 0 || errno != EAGAIN) {
            detach();
            return;
        }
    } else if (pc.revents & (POLLHUP | POLLERR)) {
        detach();
    }
}

} // namespace lxvirt::controller
