#include "xml/domain_def.h"

#include <cctype>
#include <random>

namespace lxvirt {

std::string uuidToString(const Uuid& uuid)
{
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < uuid.size(); i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out += '-';
        out += hex[uuid[i] >> 4];
        out += hex[uuid[i] & 0xf];
    }
    return out;
}

namespace {

int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace

bool uuidFromString(const std::string& text, Uuid& out)
{
    // Same leniency as libvirt's virUUIDParse: leading/trailing blanks, and
    // '-' or ' ' allowed between any two hex pairs.
    size_t pos = 0;
    while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
        pos++;
    Uuid tmp{};
    for (size_t i = 0; i < tmp.size();) {
        if (pos >= text.size())
            return false;
        if (text[pos] == '-' || text[pos] == ' ') {
            pos++;
            continue;
        }
        int hi = hexValue(text[pos]);
        if (hi < 0 || pos + 1 >= text.size())
            return false;
        int lo = hexValue(text[pos + 1]);
        if (lo < 0)
            return false;
        tmp[i++] = static_cast<unsigned char>(hi * 16 + lo);
        pos += 2;
    }
    for (; pos < text.size(); pos++)
        if (!std::isspace(static_cast<unsigned char>(text[pos])))
            return false;
    out = tmp;
    return true;
}

Uuid uuidGenerate()
{
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    Uuid u;
    for (size_t i = 0; i < u.size(); i += 8) {
        uint64_t r = rng();
        for (size_t j = 0; j < 8; j++)
            u[i + j] = static_cast<unsigned char>(r >> (8 * j));
    }
    // RFC 4122 version 4, variant 1, as libvirt's virUUIDGenerate.
    u[6] = static_cast<unsigned char>((u[6] & 0x0f) | 0x40);
    u[8] = static_cast<unsigned char>((u[8] & 0x3f) | 0x80);
    return u;
}

const FilesystemDef* DomainDef::rootFilesystem() const
{
    for (const auto& fs : filesystems)
        if (fs.target == "/")
            return &fs;
    return nullptr;
}

bool DomainDef::needsNetNamespace() const
{
    if (privnet || !interfaces.empty())
        return true;
    for (const auto& h : hostdevs)
        if (h.mode == HostdevMode::Capabilities && h.caps_type == "net")
            return true;
    return false;
}

} // namespace lxvirt
