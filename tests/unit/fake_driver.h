// An in-memory DomainDriver test double: definitions are kept in a map,
// start/stop only flip state, every change emits the lifecycle event libvirt
// would, and a console is a socketpair whose far end echoes what it gets.
// Namespace fds are the calling process' own. Used by the RPC unit tests and
// by tests/interop/fake-lxvirtd.
#pragma once

#include "driver/domain_driver.h"

#include <memory>

namespace lxvirt::test {

struct FakeDriverOptions {
    // Extra time create() spends outside the driver lock (to observe how
    // the RPC layer serialises and parallelises calls).
    unsigned create_delay_ms = 0;
};

std::unique_ptr<DomainDriver> makeFakeDriver(const FakeDriverOptions& opts = {});

}  // namespace lxvirt::test
