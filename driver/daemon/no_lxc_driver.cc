// Linked into lxvirtd only while driver/lxc/liblxcdriver.a is not part of
// the build: the daemon then refuses to start with a clear message.
#include "driver/lxc/driver.h"

namespace lxvirt::lxc {

std::unique_ptr<DomainDriver> createDriver(const DriverConfig&)
{
    throw Error::make(VIR_ERR_NO_SUPPORT, VIR_FROM_LXC,
                      "lxvirtd was built without the LXC driver (driver/lxc/liblxcdriver.a)");
}

}  // namespace lxvirt::lxc
