// The one error type of the daemon side: a libvirt error number, error domain
// and the message exactly as a libvirt client should print it. It crosses the
// RPC layer unchanged into remote_error.
#pragma once

#include <libvirt/virterror.h>

#include <stdexcept>
#include <string>

namespace lxvirt {

class Error : public std::runtime_error {
public:
    // `message` is the complete text (already prefixed, see make()).
    Error(int code, int domain, const std::string& message)
        : std::runtime_error(message), code_(code), domain_(domain) {}

    int code() const { return code_; }
    int domain() const { return domain_; }

    // Builds an error whose text is libvirt's standard prefix for `code`
    // followed by `detail`, e.g. make(VIR_ERR_XML_DETAIL, VIR_FROM_DOMAIN,
    // "missing name") -> "XML error: missing name".
    static Error make(int code, int domain, const std::string& detail);

    // errno-based system error: "<what>: <strerror(err)>", VIR_ERR_SYSTEM_ERROR.
    static Error system(int err, const std::string& what, int domain = VIR_FROM_LXC);

private:
    int code_;
    int domain_;
};

// libvirt's prefix for an error code with a detail string (virErrorMsg()).
std::string errorPrefix(int code);

}  // namespace lxvirt
