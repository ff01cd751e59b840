// The procedure tables of the REMOTE and LXC programs: number -> argument
// and return wire types -> DomainDriver call. The server decodes a call,
// looks it up here, and runs the prepared job inline or on a worker.
#pragma once

#include "driver/domain_driver.h"
#include "driver/rpc/protocol.h"

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace lxvirt::rpc {

// Per-connection state that procedures read and change. Only touched on the
// main loop thread (procedures that change it are Inline).
struct Session {
    bool readonly_socket = false;  // accepted on the -ro socket
    bool open = false;
    bool readonly = false;         // socket ro or VIR_CONNECT_RO
    bool keepalive_requested = false;
    bool close_callback = false;

    struct EventRegistration {
        int callback_id;
        int event_id;
        std::optional<std::array<unsigned char, 16>> dom_uuid;
    };
    std::vector<EventRegistration> callbacks;  // REMOTE_EVENT_CALLBACK style (316)
    bool legacy_lifecycle = false;             // 105 or 167 with event 0
};

// What a finished call hands back to the connection.
struct CallResult {
    std::vector<uint8_t> packet;  // the complete reply packet
    std::vector<int> fds;         // sent after the packet (REPLY_WITH_FDS); owned
    int stream_fd = -1;           // OPEN_CONSOLE: relay this fd as the call's stream; owned
};

struct CallContext {
    DomainDriver& driver;
    Session& session;  // only valid for Inline procedures
    const Header& header;
};

enum ProcFlags : unsigned {
    kInline = 1u << 0,   // runs on the main loop: touches the Session, never blocks
    kWrites = 1u << 1,   // changes something: refused on read-only connections
    kNoOpen = 1u << 2,   // allowed before CONNECT_OPEN
    kQuery = 1u << 3,    // cheap in-memory read: may run inline when its domain is idle
};

using Job = std::function<CallResult()>;

struct Prepared {
    std::string key;  // serialisation key: the domain uuid, or empty
    Job job;
};

struct Procedure {
    int number = 0;
    const char* api = "";  // libvirt API name, for messages
    unsigned flags = 0;
    // Decodes the arguments (throws DecodeError) and binds them to a job.
    std::function<Prepared(CallContext&, XdrReader&)> prepare;
};

class ProcedureTable {
public:
    void add(Procedure p) { procs_[p.number] = std::move(p); }
    const Procedure* find(int number) const
    {
        auto it = procs_.find(number);
        return it == procs_.end() ? nullptr : &it->second;
    }
    size_t size() const { return procs_.size(); }

private:
    std::map<int, Procedure> procs_;
};

// Assigns callback ids unique in this process.
int nextCallbackId();

const ProcedureTable& remoteProcedures();
const ProcedureTable& lxcProcedures();

// For procedures not in the table: the libvirt API name and error domain
// to report VIR_ERR_NO_SUPPORT with, as libvirt's LXC driver does.
RemoteError unsupportedProcedure(uint32_t program, int number);

// A REPLY/OK packet for `call` carrying `ret`.
template <class R>
std::vector<uint8_t> makeReply(const Header& call, const R& ret)
{
    Header h = call;
    h.type = MessageType::Reply;
    h.status = MessageStatus::Ok;
    return makePacket(h, ret);
}

std::vector<uint8_t> errorReplyFor(const Header& call, const Error& e);

// Event messages (type MESSAGE, serial 0) built for one client's session.
std::vector<std::vector<uint8_t>> eventPackets(const Session& s, const DomainEvent& ev);

// Procedure numbers the server itself needs.
namespace proc {
constexpr int kConnectOpen = 1;
constexpr int kConnectClose = 2;
constexpr int kSupportsFeature = 60;
constexpr int kAuthList = 66;
constexpr int kOpenConsole = 201;
constexpr int kEventLifecycle = 107;
constexpr int kEventCallbackLifecycle = 318;
constexpr int kEventCallbackReboot = 319;
}  // namespace proc

}  // namespace lxvirt::rpc
