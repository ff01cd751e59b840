#include "driver/security/security_manager.h"

#include "driver/security/selinux_model.h"
#include "xml/error.h"

#include <selinux/selinux.h>

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace lxvirt::security {

// ExecLabel::apply() is in exec_label.cc: the container child links it
// without libselinux.

const SeclabelDef *findSeclabel(const DomainDef &def, const std::string &model)
{
    for (const auto &s : def.seclabels)
        if (s.model.empty() || s.model == model)
            return &s;
    return nullptr;
}

SeclabelDef *findSeclabel(DomainDef &def, const std::string &model)
{
    return const_cast<SeclabelDef *>(findSeclabel(static_cast<const DomainDef &>(def), model));
}

namespace {

class NoneManager : public SecurityManager {
public:
    explicit NoneManager(const SecurityConfig &config) : config_(config) {}

    std::string model() const override { return "none"; }
    std::string doi() const override { return "0"; }
    std::string baseLabel() const override { return ""; }
    std::string baseImageLabel() const override { return ""; }

    void verify(const DomainDef &def) const override
    {
        for (const auto &s : def.seclabels) {
            if (!s.model.empty() && s.model != "selinux" && s.model != "none")
                throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_SECURITY,
                                  "security driver model '" + s.model + "' is not available on this host");
            // An unconfined request is honoured by any model; a label is not.
            if (s.model != "none" && (s.type == SeclabelType::Dynamic || s.type == SeclabelType::Static))
                throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_SECURITY,
                                  "security model 'selinux' requested by <seclabel> is not available: "
                                  "lxvirtd runs with security_driver 'none'");
        }
        if (config_.requireConfined)
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_SECURITY,
                              "Unconfined guests are not allowed on this host");
    }
    Labels generate(DomainDef &) override { return {}; }
    Labels reserve(DomainDef &, pid_t) override { return {}; }
    void release(DomainDef &) override {}
    std::string mountOptions(const DomainDef &) const override { return ""; }
    ExecLabel execLabel(const DomainDef &) const override { return {}; }
    void setAllLabel(const DomainDef &) override {}
    void restoreAllLabel(const DomainDef &) override {}
    ProcessLabel processLabel(pid_t) const override { return {}; }

private:
    SecurityConfig config_;
};

} // namespace

std::unique_ptr<SecurityManager> createNoneManager(const SecurityConfig &config)
{
    return std::make_unique<NoneManager>(config);
}

std::unique_ptr<SecurityManager> createSecurityManager(const SecurityConfig &config)
{
    if (config.driver == "none")
        return createNoneManager(config);
    bool enabled = is_selinux_enabled() > 0;
    if (config.driver == "selinux") {
        if (!enabled)
            throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_SECURITY,
                              "security_driver 'selinux' is configured but SELinux is not enabled on this "
                              "host (boot with security=selinux and load a policy, or set security_driver "
                              "to \"none\" or \"auto\")");
        return createSelinuxManager(config);
    }
    if (config.driver == "auto" || config.driver.empty())
        return enabled ? createSelinuxManager(config) : createNoneManager(config);
    throw Error::make(VIR_ERR_CONFIG_UNSUPPORTED, VIR_FROM_SECURITY,
                      "unknown security_driver '" + config.driver +
                          "' (expected \"selinux\", \"none\" or \"auto\")");
}

} // namespace lxvirt::security
