// ScopedSocketCreateLabel (driver/security/socket_label.h) driven through the
// LD_PRELOAD libselinux mock: what it writes to /proc/thread-self/attr/sockcreate
// and when, read back from the mock's log. That the kernel then labels the
// socket is shown in the enforcing VM tier (tests/vm, getpeercon on NAME.sock).
#include "driver/security/socket_label.h"
#include "tests/unit/security_mock.h"
#include "tests/unit/tap.h"
#include "xml/error.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

using namespace lxvirt;
using lxvirt::security::ScopedSocketCreateLabel;
using lxvirt::test::mockLoaded;

namespace {

const std::string kLabel = "system_u:system_r:svirt_lxc_net_t:s0:c12,c345";

} // namespace

class SecuritySocketLabelTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SecuritySocketLabelTest);
    CPPUNIT_TEST(theTestRunsUnderTheLibselinuxMock);
    CPPUNIT_TEST(anEmptyLabelWritesNothing);
    CPPUNIT_TEST(theLabelIsSetForTheScopeAndClearedWhenItEnds);
    CPPUNIT_TEST(aSocketCreatedInTheScopeIsCreatedBeforeTheClear);
    CPPUNIT_TEST(theClearHappensAlsoWhenTheScopeIsLeftByAnException);
    CPPUNIT_TEST(aFailureWhileEnforcingThrowsASecurityErrorNamingTheLabel);
    CPPUNIT_TEST(aFailureWhilePermissiveIsToleratedAndNothingIsCleared);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        char tmpl[] = "/tmp/security-socket-label-test-XXXXXX";
        dir_ = mkdtemp(tmpl);
        log_ = dir_ + "/mock.log";
        setenv("SELINUX_MOCK_LOG", log_.c_str(), 1);
        unsetenv("SELINUX_MOCK_SOCKCREATE_ERRNO");
    }
    void tearDown() override
    {
        unlink(log_.c_str());
        rmdir(dir_.c_str());
    }

    void theTestRunsUnderTheLibselinuxMock()
    {
        CPPUNIT_ASSERT_MESSAGE("tests/selinux-mock/libselinux-mock.so was not preloaded", mockLoaded());
    }

    void anEmptyLabelWritesNothing()
    {
        needMock();
        {
            ScopedSocketCreateLabel s("", true);
            CPPUNIT_ASSERT(!s.active());
            CPPUNIT_ASSERT_EQUAL(0, s.error());
        }
        CPPUNIT_ASSERT_EQUAL(std::string(""), log());
    }

    void theLabelIsSetForTheScopeAndClearedWhenItEnds()
    {
        needMock();
        {
            ScopedSocketCreateLabel s(kLabel, true);
            CPPUNIT_ASSERT(s.active());
            CPPUNIT_ASSERT_EQUAL("setsockcreatecon " + kLabel + "\n", log());
        }
        CPPUNIT_ASSERT_EQUAL("setsockcreatecon " + kLabel + "\nsetsockcreatecon (null)\n", log());
    }

    void aSocketCreatedInTheScopeIsCreatedBeforeTheClear()
    {
        needMock();
        int fd = -1;
        std::string during;
        {
            ScopedSocketCreateLabel s(kLabel, true);
            fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
            during = log();
        }
        CPPUNIT_ASSERT(fd >= 0);
        close(fd);
        CPPUNIT_ASSERT_EQUAL("setsockcreatecon " + kLabel + "\n", during);
        CPPUNIT_ASSERT_EQUAL(during + "setsockcreatecon (null)\n", log());
    }

    void theClearHappensAlsoWhenTheScopeIsLeftByAnException()
    {
        needMock();
        try {
            ScopedSocketCreateLabel s(kLabel, true);
            throw std::runtime_error("bind failed");
        } catch (const std::runtime_error &) {
        }
        CPPUNIT_ASSERT_EQUAL("setsockcreatecon " + kLabel + "\nsetsockcreatecon (null)\n", log());
    }

    void aFailureWhileEnforcingThrowsASecurityErrorNamingTheLabel()
    {
        needMock();
        setenv("SELINUX_MOCK_SOCKCREATE_ERRNO", std::to_string(EACCES).c_str(), 1);
        try {
            ScopedSocketCreateLabel s(kLabel, true);
            CPPUNIT_FAIL("no error although the label could not be set while enforcing");
        } catch (const Error &e) {
            CPPUNIT_ASSERT_EQUAL(int(VIR_FROM_SECURITY), e.domain());
            CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_SYSTEM_ERROR), e.code());
            std::string what = e.what();
            CPPUNIT_ASSERT_MESSAGE(what, what.find(kLabel) != std::string::npos);
            CPPUNIT_ASSERT_MESSAGE(what, what.find(strerror(EACCES)) != std::string::npos);
        }
        // Nothing was set, so nothing is cleared.
        CPPUNIT_ASSERT_EQUAL(std::string(""), log());
    }

    void aFailureWhilePermissiveIsToleratedAndNothingIsCleared()
    {
        needMock();
        setenv("SELINUX_MOCK_SOCKCREATE_ERRNO", std::to_string(EINVAL).c_str(), 1);
        {
            ScopedSocketCreateLabel s(kLabel, false);
            CPPUNIT_ASSERT(!s.active());
            CPPUNIT_ASSERT_EQUAL(EINVAL, s.error());
        }
        CPPUNIT_ASSERT_EQUAL(std::string(""), log());
    }

private:
    void needMock()
    {
        if (!mockLoaded())
            throw lxvirt::test::Skip("the libselinux mock is not preloaded");
    }

    std::string log() const
    {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

    std::string dir_;
    std::string log_;
};
CPPUNIT_TEST_SUITE_REGISTRATION(SecuritySocketLabelTest);
