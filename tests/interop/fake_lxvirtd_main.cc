// fake-lxvirtd: lxvirtd's server code over the in-memory test driver, so the
// protocol can be tested with real clients without containers.
// [fake] create_delay_ms in the config slows down domain starts.
#include "driver/daemon/daemon.h"
#include "tests/unit/fake_driver.h"

using namespace lxvirt;

int main(int argc, char** argv)
{
    return daemon::runDaemon(argc, argv, [](const daemon::DaemonPaths&, GKeyFile* conf) {
        test::FakeDriverOptions o;
        o.create_delay_ms = static_cast<unsigned>(daemon::confInt(conf, "fake", "create_delay_ms", 0));
        return test::makeFakeDriver(o);
    });
}
