#include "tests/unit/tap.h"
#include "xml/error.h"

#include <cppunit/extensions/HelperMacros.h>

class ErrorTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ErrorTest);
    CPPUNIT_TEST(xmlDetailErrorsCarryLibvirtsPrefix);
    CPPUNIT_TEST(systemErrorsNameTheErrnoText);
    CPPUNIT_TEST_SUITE_END();

public:
    void xmlDetailErrorsCarryLibvirtsPrefix()
    {
        auto e = lxvirt::Error::make(VIR_ERR_XML_ERROR, VIR_FROM_DOMAIN, "missing name");
        CPPUNIT_ASSERT_EQUAL(std::string("XML error: missing name"), std::string(e.what()));
        CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_XML_ERROR), e.code());
    }
    void systemErrorsNameTheErrnoText()
    {
        auto e = lxvirt::Error::system(ENOENT, "cannot open /x");
        CPPUNIT_ASSERT_EQUAL(std::string("cannot open /x: No such file or directory"), std::string(e.what()));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(ErrorTest);
