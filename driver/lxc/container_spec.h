// DomainDef -> the controller's Spec (driver/controller/spec.h). Private to
// the daemon-side runtime (driver/libruntime.a).
#pragma once

#include "driver/controller/spec.h"
#include "driver/lxc/container.h"
#include "xml/domain_def.h"

namespace lxvirt::lxc {

// Throws Error (VIR_ERR_CONFIG_UNSUPPORTED / VIR_ERR_INVALID_ARG ...) for
// definitions the runtime cannot start, naming the field.
controller::Spec buildSpec(const DomainDef &def, const Paths &paths);

// libvirt's cpuset syntax ("0-3,^2,8") -> the kernel's list ("0-1,3,8").
std::string normalizeCpuset(const std::string &text, const char *field);

// The libvirt init environment followed by <initenv>.
std::vector<std::string> initEnvironment(const DomainDef &def);

} // namespace lxvirt::lxc
