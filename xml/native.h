// domxml-from-native lxc-tools: an LXC 1.x/2.x (legacy keys) or 3.x+ config
// file converted into a DomainDef, as libvirt's lxc_native does.
#pragma once

#include "xml/domain_def.h"

#include <string>

namespace lxvirt {

constexpr const char* kLxcToolsFormat = "lxc-tools";

// Throws lxvirt::Error (VIR_ERR_INTERNAL_ERROR / CONFIG_UNSUPPORTED /
// INVALID_ARG with VIR_FROM_LXC) on unsupported or malformed input.
DomainDef domainDefFromLxcConfig(const std::string& config_text);

}  // namespace lxvirt
