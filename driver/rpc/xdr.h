// A small XDR (RFC 4506) codec. Wire structs describe their fields once
// (XDR_FIELDS) and the same generic templates encode and decode them, so no
// procedure has a hand-written encoder.
#pragma once

#include "driver/domain_driver.h"

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace lxvirt::rpc {

// Malformed input from a peer. The server answers it with VIR_ERR_RPC.
class DecodeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

constexpr uint32_t kStringMax = 4194304;  // REMOTE_STRING_MAX

class XdrWriter {
public:
    std::vector<uint8_t>& buffer() { return buf_; }
    const std::vector<uint8_t>& buffer() const { return buf_; }
    size_t size() const { return buf_.size(); }

    void u32(uint32_t v)
    {
        uint8_t b[4] = {uint8_t(v >> 24), uint8_t(v >> 16), uint8_t(v >> 8), uint8_t(v)};
        buf_.insert(buf_.end(), b, b + 4);
    }
    void i32(int32_t v) { u32(static_cast<uint32_t>(v)); }
    void u64(uint64_t v)
    {
        u32(static_cast<uint32_t>(v >> 32));
        u32(static_cast<uint32_t>(v));
    }
    void i64(int64_t v) { u64(static_cast<uint64_t>(v)); }
    void f64(double v)
    {
        uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        u64(bits);
    }
    void fixedOpaque(const void* data, size_t n)
    {
        const auto* p = static_cast<const uint8_t*>(data);
        buf_.insert(buf_.end(), p, p + n);
        pad(n);
    }
    void varOpaque(const void* data, size_t n)
    {
        u32(static_cast<uint32_t>(n));
        fixedOpaque(data, n);
    }
    void string(const std::string& s) { varOpaque(s.data(), s.size()); }
    // Overwrites a big-endian word written earlier (the length word).
    void patchU32(size_t offset, uint32_t v)
    {
        buf_[offset] = uint8_t(v >> 24);
        buf_[offset + 1] = uint8_t(v >> 16);
        buf_[offset + 2] = uint8_t(v >> 8);
        buf_[offset + 3] = uint8_t(v);
    }

private:
    void pad(size_t n)
    {
        static const uint8_t zeros[4] = {};
        buf_.insert(buf_.end(), zeros, zeros + ((4 - n % 4) % 4));
    }
    std::vector<uint8_t> buf_;
};

class XdrReader {
public:
    XdrReader(const uint8_t* data, size_t len) : p_(data), len_(len) {}

    size_t remaining() const { return len_ - off_; }
    size_t offset() const { return off_; }
    const uint8_t* current() const { return p_ + off_; }

    uint32_t u32()
    {
        need(4);
        const uint8_t* b = p_ + off_;
        off_ += 4;
        return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    }
    int32_t i32() { return static_cast<int32_t>(u32()); }
    uint64_t u64()
    {
        uint64_t hi = u32();
        return (hi << 32) | u32();
    }
    int64_t i64() { return static_cast<int64_t>(u64()); }
    double f64()
    {
        uint64_t bits = u64();
        double v;
        std::memcpy(&v, &bits, sizeof v);
        return v;
    }
    void fixedOpaque(void* out, size_t n)
    {
        size_t padded = n + (4 - n % 4) % 4;
        need(padded);
        std::memcpy(out, p_ + off_, n);
        off_ += padded;
    }
    std::string string(uint32_t max = kStringMax)
    {
        uint32_t n = u32();
        if (n > max)
            throw DecodeError("string of " + std::to_string(n) + " bytes exceeds " + std::to_string(max));
        std::string s(n, '\0');
        fixedOpaque(s.data(), n);
        return s;
    }
    // A count of elements that each take at least 4 bytes: refuse counts the
    // remaining input cannot hold before anything is allocated.
    uint32_t count(uint32_t max)
    {
        uint32_t n = u32();
        if (n > max || n > remaining() / 4)
            throw DecodeError("array of " + std::to_string(n) + " elements is too long");
        return n;
    }
    void expectEnd() const
    {
        if (off_ != len_)
            throw DecodeError(std::to_string(len_ - off_) + " unexpected trailing bytes");
    }

private:
    void need(size_t n) const
    {
        if (len_ - off_ < n)
            throw DecodeError("message truncated");
    }
    const uint8_t* p_;
    size_t len_;
    size_t off_ = 0;
};

// ---- wire-only types ------------------------------------------------------

struct Void {};

// Variable array with an upper bound (XDR `T x<Max>`).
template <class T, uint32_t Max>
struct Array : std::vector<T> {
    using std::vector<T>::vector;
    Array() = default;
    Array(std::vector<T> v) : std::vector<T>(std::move(v)) {}
};

// rpcgen `char x[N]`: each char is a 4-byte XDR int (NUL padded).
template <uint32_t N>
struct CharFixed {
    std::string value;
};

// rpcgen `char x<Max>`: a count and one 4-byte int per char. libvirtd sends
// the string with its trailing NUL counted.
template <uint32_t Max>
struct CharVar {
    std::string value;  // without the NUL
};

// XDR `opaque x<Max>`.
struct Opaque {
    std::string bytes;
};

#define XDR_FIELDS(...)                                             \
    auto xdrTie() { return std::tie(__VA_ARGS__); }                 \
    auto xdrTie() const { return std::tie(__VA_ARGS__); }

// ---- encode -----------------------------------------------------------------

inline void encode(XdrWriter& w, const Void&) {}
inline void encode(XdrWriter& w, int32_t v) { w.i32(v); }
inline void encode(XdrWriter& w, uint32_t v) { w.u32(v); }
inline void encode(XdrWriter& w, int64_t v) { w.i64(v); }
inline void encode(XdrWriter& w, uint64_t v) { w.u64(v); }
inline void encode(XdrWriter& w, double v) { w.f64(v); }
inline void encode(XdrWriter& w, const std::string& s) { w.string(s); }
inline void encode(XdrWriter& w, const Opaque& o) { w.varOpaque(o.bytes.data(), o.bytes.size()); }
template <size_t N>
void encode(XdrWriter& w, const std::array<unsigned char, N>& a) { w.fixedOpaque(a.data(), N); }
template <uint32_t N>
void encode(XdrWriter& w, const CharFixed<N>& c)
{
    for (uint32_t i = 0; i < N; ++i)
        w.i32(i < c.value.size() ? static_cast<signed char>(c.value[i]) : 0);
}
template <uint32_t Max>
void encode(XdrWriter& w, const CharVar<Max>& c)
{
    w.u32(static_cast<uint32_t>(c.value.size() + 1));
    for (char ch : c.value)
        w.i32(static_cast<signed char>(ch));
    w.i32(0);
}
void encode(XdrWriter& w, const DomainRef& d);
void encode(XdrWriter& w, const TypedParam& p);

template <class T>
void encode(XdrWriter& w, const std::optional<T>& o)
{
    w.u32(o ? 1 : 0);
    if (o)
        encode(w, *o);
}
template <class T, uint32_t Max>
void encode(XdrWriter& w, const Array<T, Max>& a)
{
    w.u32(static_cast<uint32_t>(a.size()));
    for (const auto& e : a)
        encode(w, e);
}
template <class T>
    requires requires(const T& t) { t.xdrTie(); }
void encode(XdrWriter& w, const T& s)
{
    std::apply([&](const auto&... f) { (encode(w, f), ...); }, s.xdrTie());
}

// ---- decode -----------------------------------------------------------------

inline void decode(XdrReader& r, Void&) {}
inline void decode(XdrReader& r, int32_t& v) { v = r.i32(); }
inline void decode(XdrReader& r, uint32_t& v) { v = r.u32(); }
inline void decode(XdrReader& r, int64_t& v) { v = r.i64(); }
inline void decode(XdrReader& r, uint64_t& v) { v = r.u64(); }
inline void decode(XdrReader& r, double& v) { v = r.f64(); }
inline void decode(XdrReader& r, std::string& s) { s = r.string(); }
inline void decode(XdrReader& r, Opaque& o) { o.bytes = r.string(); }
template <size_t N>
void decode(XdrReader& r, std::array<unsigned char, N>& a) { r.fixedOpaque(a.data(), N); }
template <uint32_t N>
void decode(XdrReader& r, CharFixed<N>& c)
{
    c.value.clear();
    bool ended = false;
    for (uint32_t i = 0; i < N; ++i) {
        char ch = static_cast<char>(r.i32());
        if (ch == 0)
            ended = true;
        if (!ended)
            c.value.push_back(ch);
    }
}
template <uint32_t Max>
void decode(XdrReader& r, CharVar<Max>& c)
{
    uint32_t n = r.count(Max);
    c.value.clear();
    for (uint32_t i = 0; i < n; ++i)
        c.value.push_back(static_cast<char>(r.i32()));
    while (!c.value.empty() && c.value.back() == '\0')
        c.value.pop_back();
}
void decode(XdrReader& r, DomainRef& d);
void decode(XdrReader& r, TypedParam& p);

template <class T>
void decode(XdrReader& r, std::optional<T>& o)
{
    uint32_t present = r.u32();
    if (present > 1)
        throw DecodeError("bad optional discriminant " + std::to_string(present));
    if (present) {
        o.emplace();
        decode(r, *o);
    } else {
        o.reset();
    }
}
template <class T, uint32_t Max>
void decode(XdrReader& r, Array<T, Max>& a)
{
    uint32_t n = r.count(Max);
    a.clear();
    a.resize(n);
    for (auto& e : a)
        decode(r, e);
}
template <class T>
    requires requires(T& t) { t.xdrTie(); }
void decode(XdrReader& r, T& s)
{
    std::apply([&](auto&... f) { (decode(r, f), ...); }, s.xdrTie());
}

// Whole-value helpers.
template <class T>
std::vector<uint8_t> encodeToBytes(const T& v)
{
    XdrWriter w;
    encode(w, v);
    return std::move(w.buffer());
}
template <class T>
T decodeAll(const uint8_t* data, size_t len)
{
    XdrReader r(data, len);
    T v{};
    decode(r, v);
    r.expectEnd();
    return v;
}

}  // namespace lxvirt::rpc
