// The RPC server: unix listeners, client connections, dispatch of calls to
// the worker pool, console streams, keepalive and event delivery. All socket
// I/O happens on one GLib main context; only driver calls run on workers.
#pragma once

#include "driver/domain_driver.h"

#include <glib.h>
#include <sys/types.h>

#include <memory>
#include <string>

namespace lxvirt::daemon {

struct Client;

struct ServerConfig {
    unsigned workers = 4;             // threads for driver calls
    unsigned max_clients = 5000;
    unsigned max_client_requests = 16;  // calls in flight per client before reading pauses
    int keepalive_interval = 5;       // seconds; <= 0 disables our pings
    int keepalive_count = 5;
    bool inline_queries = true;       // cheap reads on an idle domain skip the pool
    int busy_poll_us = 50;            // main loop polls without sleeping this long after busy traffic
};

class Server {
public:
    // The driver must outlive the server. `ctx` is the main context the
    // server attaches to (nullptr: the global default context).
    Server(DomainDriver& driver, const ServerConfig& config, GMainContext* ctx = nullptr);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Creates the socket (replacing a stale one), chmods it to `mode` and
    // starts accepting. Throws lxvirt::Error.
    void listen(const std::string& path, mode_t mode, bool readonly);
    // Adds an already-listening socket (systemd socket activation).
    void adopt(int fd, bool readonly);
    // Applies new limits (SIGHUP). Listeners are not changed.
    void reconfigure(const ServerConfig& config);

    size_t clientCount() const;

private:
    struct Impl;
    friend struct Client;
    std::shared_ptr<Impl> impl_;
};

}  // namespace lxvirt::daemon
