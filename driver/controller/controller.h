// Internals of lxvirt-controller shared by its files.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace lxvirt::controller {

// An owned fd.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    Fd(Fd &&o) noexcept : fd_(o.release()) {}
    Fd &operator=(Fd &&o) noexcept
    {
        reset(o.release());
        return *this;
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
    ~Fd() { reset(); }
    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }
    int release()
    {
        int f = fd_;
        fd_ = -1;
        return f;
    }
    void reset(int fd = -1);

private:
    int fd_ = -1;
};

// Relays one console pty master to at most one attached client socket and
// drains the pty while nobody is attached, so init never blocks on output.
class ConsoleRelay {
public:
    explicit ConsoleRelay(Fd master);
    // Returns the client's end of a new stream socket; -1 with errno EBUSY
    // when a session exists and !force.
    int attach(bool force);
    void detach();
    // Hands what the pty still holds to the client (init has exited).
    void flush();
    // poll() integration: adds its fds, then handles their events.
    void addPollFds(std::vector<pollfd> &fds);
    void handle(const std::vector<pollfd> &fds, size_t &index);

private:
    Fd master_;
    Fd peer_; // a slave fd held open so the master never reports a hangup
    Fd client_;
    char toClient_[1024];
    size_t toClientLen_ = 0;
    char toPty_[1024];
    size_t toPtyLen_ = 0;
};

// Sends one message, with an optional fd; false on error.
bool sendMessage(int sock, const std::string &text, int fd = -1);

} // namespace lxvirt::controller
