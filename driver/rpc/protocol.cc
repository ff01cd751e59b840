#include "driver/rpc/protocol.h"

namespace lxvirt::rpc {

void encode(XdrWriter& w, const DomainRef& d)
{
    w.string(d.name);
    w.fixedOpaque(d.uuid.data(), d.uuid.size());
    w.i32(d.id);
}

void decode(XdrReader& r, DomainRef& d)
{
    d.name = r.string();
    r.fixedOpaque(d.uuid.data(), d.uuid.size());
    d.id = r.i32();
}

// remote_typed_param: the union discriminant is VIR_TYPED_PARAM_*, which is
// the variant index + 1 by construction of TypedValue.
void encode(XdrWriter& w, const TypedParam& p)
{
    w.string(p.field);
    w.i32(static_cast<int32_t>(p.value.index() + 1));
    std::visit(
        [&](const auto& v) {
            using V = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<V, bool>)
                w.i32(v ? 1 : 0);
            else
                encode(w, v);
        },
        p.value);
}

void decode(XdrReader& r, TypedParam& p)
{
    p.field = r.string(80);  // VIR_TYPED_PARAM_FIELD_LENGTH
    int32_t type = r.i32();
    switch (type) {
    case 1: p.value = r.i32(); break;
    case 2: p.value = r.u32(); break;
    case 3: p.value = r.i64(); break;
    case 4: p.value = r.u64(); break;
    case 5: p.value = r.f64(); break;
    case 6: p.value = r.i32() != 0; break;
    case 7: p.value = r.string(); break;
    default: throw DecodeError("unknown typed parameter type " + std::to_string(type));
    }
}

void encode(XdrWriter& w, const RemoteError& e)
{
    w.i32(e.code);
    w.i32(e.domain);
    encode(w, e.message);
    w.i32(e.level);
    encode(w, e.dom);
    encode(w, e.str1);
    encode(w, e.str2);
    encode(w, e.str3);
    w.i32(e.int1);
    w.i32(e.int2);
    w.u32(0);  // net: NULL
}

void decode(XdrReader& r, RemoteError& e)
{
    e.code = r.i32();
    e.domain = r.i32();
    decode(r, e.message);
    e.level = r.i32();
    decode(r, e.dom);
    decode(r, e.str1);
    decode(r, e.str2);
    decode(r, e.str3);
    e.int1 = r.i32();
    e.int2 = r.i32();
    if (r.u32() != 0)
        throw DecodeError("remote_error with a network is not supported");
}

uint32_t decodeLength(const uint8_t word[4])
{
    XdrReader r(word, 4);
    uint32_t len = r.u32();
    if (len < kLengthSize + kHeaderSize)
        throw DecodeError("packet length " + std::to_string(len) + " is shorter than a header");
    if (len - kLengthSize > kMessageMax)
        throw DecodeError("packet length " + std::to_string(len) + " exceeds the maximum " +
                          std::to_string(kMessageMax));
    return len;
}

Header decodeHeader(XdrReader& r)
{
    Header h;
    h.prog = r.u32();
    h.vers = r.u32();
    h.proc = r.i32();
    uint32_t type = r.u32();
    h.serial = r.u32();
    uint32_t status = r.u32();
    if (type > static_cast<uint32_t>(MessageType::StreamHole))
        throw DecodeError("unknown message type " + std::to_string(type));
    if (status > static_cast<uint32_t>(MessageStatus::Continue))
        throw DecodeError("unknown message status " + std::to_string(status));
    h.type = static_cast<MessageType>(type);
    h.status = static_cast<MessageStatus>(status);
    return h;
}

PacketBuilder::PacketBuilder(const Header& h, int fdCount)
{
    w_.buffer().reserve(128);
    w_.u32(0);
    w_.u32(h.prog);
    w_.u32(h.vers);
    w_.i32(h.proc);
    w_.u32(static_cast<uint32_t>(h.type));
    w_.u32(h.serial);
    w_.u32(static_cast<uint32_t>(h.status));
    if (fdCount >= 0)
        w_.i32(fdCount);
}

void PacketBuilder::raw(const void* data, size_t n)
{
    const auto* p = static_cast<const uint8_t*>(data);
    w_.buffer().insert(w_.buffer().end(), p, p + n);
}

std::vector<uint8_t> PacketBuilder::finish()
{
    w_.patchU32(0, static_cast<uint32_t>(w_.size()));
    return std::move(w_.buffer());
}

RemoteError errorFrom(int code, int domain, const std::string& message)
{
    RemoteError e;
    e.code = code;
    e.domain = domain;
    e.message = message;
    e.level = 2;
    return e;
}

std::vector<uint8_t> makeErrorReply(const Header& call, const RemoteError& err)
{
    Header h = call;
    h.type = MessageType::Reply;
    h.status = MessageStatus::Error;
    return makePacket(h, err);
}

}  // namespace lxvirt::rpc
