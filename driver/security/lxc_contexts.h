// The policy's lxc_contexts file (/etc/selinux/<type>/contexts/lxc_contexts):
// which process, file and content contexts an LXC driver should start from.
#pragma once

#include <map>
#include <string>

namespace lxvirt::security {

// Parses the file's text: one `key = "value"` per line (quotes optional),
// blank lines and `#` comments ignored. `origin` names the file in errors.
// Throws lxvirt::Error naming the line for anything else.
std::map<std::string, std::string> parseLxcContexts(const std::string &text, const std::string &origin);

// The three base contexts of the selinux model, and where they came from.
struct BaseContexts {
    std::string process; // container init, e.g. system_u:system_r:svirt_lxc_net_t:s0
    std::string file;    // container files / mounts, e.g. ...:svirt_sandbox_file_t:s0
    std::string content; // read-only content, e.g. ...:virt_var_lib_t:s0
    std::string source;  // the lxc_contexts path, or "lxvirtd configuration"
};

// Reads `path` and returns its process/file/content entries; throws
// lxvirt::Error when the file cannot be read, is malformed or lacks one of
// the three keys (libvirt requires all three).
BaseContexts readLxcContexts(const std::string &path);

} // namespace lxvirt::security
