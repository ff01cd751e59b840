#include "driver/security/lxc_contexts.h"

#include "xml/error.h"

#include <cerrno>
#include <fstream>
#include <sstream>

namespace lxvirt::security {

namespace {

std::string trim(const std::string &s)
{
    std::size_t b = s.find_first_not_of(" \t\r");
    if (b == std::string::npos)
        return "";
    std::size_t e = s.find_last_not_of(" \t\r");
    return s.substr(b, e - b + 1);
}

Error parseError(const std::string &origin, int line, const std::string &what)
{
    return Error::make(VIR_ERR_CONF_SYNTAX, VIR_FROM_SECURITY,
                       origin + ":" + std::to_string(line) + ": " + what);
}

} // namespace

std::map<std::string, std::string> parseLxcContexts(const std::string &text, const std::string &origin)
{
    std::map<std::string, std::string> out;
    std::istringstream in(text);
    std::string raw;
    int lineNo = 0;
    while (std::getline(in, raw)) {
        ++lineNo;
        std::string line = trim(raw);
        if (line.empty() || line[0] == '#')
            continue;
        std::size_t eq = line.find('=');
        if (eq == std::string::npos)
            throw parseError(origin, lineNo, "expected 'key = \"value\"', got '" + line + "'");
        std::string key = trim(line.substr(0, eq));
        std::string value = trim(line.substr(eq + 1));
        if (key.empty() || key.find_first_of(" \t\"") != std::string::npos)
            throw parseError(origin, lineNo, "bad key '" + key + "'");
        if (!value.empty() && value[0] == '"') {
            std::size_t close = value.find('"', 1);
            if (close == std::string::npos)
                throw parseError(origin, lineNo, "unterminated string for key '" + key + "'");
            std::string rest = trim(value.substr(close + 1));
            if (!rest.empty() && rest[0] != '#')
                throw parseError(origin, lineNo,
                                 "trailing text '" + rest + "' after the value of '" + key + "'");
            value = value.substr(1, close - 1);
        } else {
            std::size_t hash = value.find('#');
            if (hash != std::string::npos)
                value = trim(value.substr(0, hash));
        }
        if (value.empty())
            throw parseError(origin, lineNo, "empty value for key '" + key + "'");
        out[key] = value;
    }
    return out;
}

BaseContexts readLxcContexts(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw Error::system(errno, "cannot read selinux lxc contexts file '" + path + "'", VIR_FROM_SECURITY);
    std::stringstream ss;
    ss << in.rdbuf();
    auto kv = parseLxcContexts(ss.str(), path);
    BaseContexts b;
    b.source = path;
    for (auto [key, field] : {std::pair{"process", &b.process}, {"file", &b.file}, {"content", &b.content}}) {
        auto it = kv.find(key);
        if (it == kv.end())
            throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_SECURITY,
                              std::string("missing '") + key + "' value in selinux lxc contexts file '" +
                                  path + "'");
        *field = it->second;
    }
    return b;
}

} // namespace lxvirt::security
