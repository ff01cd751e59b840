// Small string helpers shared by the XML layer and the cgroup code (both
// avoid iostreams on the daemon's path).
#pragma once

#include <string>
#include <vector>

namespace lxvirt {

// Every field between the separators, empty ones too ("a,,b" -> a, "", b).
inline std::vector<std::string> splitOn(const std::string& s, char sep)
{
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t end = s.find(sep, start);
        out.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
            return out;
        start = end + 1;
    }
}

}  // namespace lxvirt
