// Text <-> DomainDef for libvirt's <domain type='lxc'>.
//
// The parser accepts what libvirt 9.x accepts for LXC and rejects the rest
// with lxvirt::Error (VIR_ERR_XML_ERROR / XML_DETAIL / CONFIG_UNSUPPORTED /
// INVALID_ARG, message naming the element or attribute and the bad value).
// libxml2 runs with network access and entity expansion off; oversized or
// too deeply nested documents are refused.
#pragma once

#include "xml/domain_def.h"

#include <string>

namespace lxvirt {

enum ParseFlags : unsigned {
    PARSE_INACTIVE = 0,
    // Keep live-only data (console tty/alias, dynamic seclabel label and
    // imagelabel, domain id) as written; used to read the run-dir state.
    PARSE_LIVE = 1u << 0,
};

DomainDef parseDomainXml(const std::string& xml, unsigned flags = PARSE_INACTIVE);

struct FormatOptions {
    // Inactive output omits live data, as `virsh dumpxml --inactive`.
    bool inactive = true;
    // Domain id printed as <domain type='lxc' id='N'> when >= 0 and !inactive.
    int id = -1;
    // VIR_DOMAIN_XML_SECURE: nothing secret in LXC defs today, kept for parity.
    bool secure = false;
};

std::string formatDomainXml(const DomainDef& def, const FormatOptions& opts = {});

// Maximum accepted document size (bytes) and element depth.
constexpr size_t kMaxXmlBytes = 10 * 1024 * 1024;
constexpr int kMaxXmlDepth = 256;

}  // namespace lxvirt
