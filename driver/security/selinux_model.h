// Internal: the two models behind SecurityManager (see security_manager.h).
#pragma once

#include "driver/security/security_manager.h"

namespace lxvirt::security {

std::unique_ptr<SecurityManager> createNoneManager(const SecurityConfig &config);
// Throws lxvirt::Error when no usable base context exists in the loaded policy.
std::unique_ptr<SecurityManager> createSelinuxManager(const SecurityConfig &config);

// The seclabel a model owns in `def`: the first whose model is `model` or
// empty; nullptr when the domain has none.
const SeclabelDef *findSeclabel(const DomainDef &def, const std::string &model);
SeclabelDef *findSeclabel(DomainDef &def, const std::string &model);

} // namespace lxvirt::security
