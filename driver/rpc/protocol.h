// libvirt's RPC framing: the length word, the 24-byte header, the error
// payload and the program numbers (src/rpc/virnetprotocol.x).
#pragma once

#include "driver/rpc/xdr.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lxvirt::rpc {

constexpr uint32_t kRemoteProgram = 0x20008086;
constexpr uint32_t kLxcProgram = 0x00068000;
constexpr uint32_t kQemuProgram = 0x20008087;
constexpr uint32_t kKeepaliveProgram = 0x6b656570;
constexpr uint32_t kProtocolVersion = 1;

constexpr uint32_t kKeepalivePing = 1;
constexpr uint32_t kKeepalivePong = 2;

constexpr uint32_t kMessageMax = 33554432;      // VIR_NET_MESSAGE_MAX, length word not counted
constexpr uint32_t kHeaderSize = 24;
constexpr uint32_t kLengthSize = 4;
constexpr uint32_t kStreamChunkMax = 262120;    // VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX
constexpr uint32_t kMaxFds = 32;                // VIR_NET_MESSAGE_NUM_FDS_MAX

enum class MessageType : uint32_t {
    Call = 0,
    Reply = 1,
    Message = 2,
    Stream = 3,
    CallWithFds = 4,
    ReplyWithFds = 5,
    StreamHole = 6,
};

enum class MessageStatus : uint32_t { Ok = 0, Error = 1, Continue = 2 };

struct Header {
    uint32_t prog = 0;
    uint32_t vers = kProtocolVersion;
    int32_t proc = 0;
    MessageType type = MessageType::Call;
    uint32_t serial = 0;
    MessageStatus status = MessageStatus::Ok;
};

// remote_error / virNetMessageError.
struct RemoteError {
    int32_t code = 0;
    int32_t domain = 0;
    std::optional<std::string> message;
    int32_t level = 2;  // VIR_ERR_ERROR
    std::optional<DomainRef> dom;
    std::optional<std::string> str1, str2, str3;
    int32_t int1 = 0, int2 = 0;
    // `remote_network net` is always sent as NULL; decoding refuses a
    // non-NULL one rather than guessing its layout.
};

void encode(XdrWriter& w, const RemoteError& e);
void decode(XdrReader& r, RemoteError& e);

// Decodes the length word. Returns the total packet length (counting the
// word itself) or throws DecodeError when it is below 28 or above the max.
uint32_t decodeLength(const uint8_t word[4]);

// Parses the 24 header bytes that follow the length word.
Header decodeHeader(XdrReader& r);

// Builds one whole packet: length word, header, payload. `fdCount` >= 0
// inserts the fd-count word of *_WITH_FDS messages.
class PacketBuilder {
public:
    explicit PacketBuilder(const Header& h, int fdCount = -1);
    XdrWriter& payload() { return w_; }
    // Appends raw bytes (stream data is not XDR encoded).
    void raw(const void* data, size_t n);
    // Patches the length word and hands the bytes out.
    std::vector<uint8_t> finish();

private:
    XdrWriter w_;
};

// Convenience: a whole packet whose payload is the XDR of `body`.
template <class T>
std::vector<uint8_t> makePacket(const Header& h, const T& body, int fdCount = -1)
{
    PacketBuilder b(h, fdCount);
    encode(b.payload(), body);
    return b.finish();
}

// An error reply packet for `call` (REPLY, status ERROR, remote_error body).
std::vector<uint8_t> makeErrorReply(const Header& call, const RemoteError& err);
RemoteError errorFrom(int code, int domain, const std::string& message);

}  // namespace lxvirt::rpc
