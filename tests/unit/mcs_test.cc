// MCS allocator, context helpers and lxc_contexts parsing (no SELinux needed).
#include "driver/security/lxc_contexts.h"
#include "driver/security/mcs.h"
#include "tests/unit/tap.h"
#include "xml/error.h"

#include <cppunit/extensions/HelperMacros.h>

#include <regex>
#include <set>

using namespace lxvirt::security;

namespace {

McsRange range(const std::string &r)
{
    return McsRange::fromRange(r);
}

void parsePair(const std::string &level, unsigned &a, unsigned &b)
{
    static const std::regex re("^s0:c([0-9]+),c([0-9]+)$");
    std::smatch m;
    CPPUNIT_ASSERT_MESSAGE("level '" + level + "' is not s0:cA,cB", std::regex_match(level, m, re));
    a = std::stoul(m[1]);
    b = std::stoul(m[2]);
}

} // namespace

class McsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(McsTest);
    CPPUNIT_TEST(allocatedLevelsAreSensitivityAndTwoCategories);
    CPPUNIT_TEST(firstCategoryIsAlwaysBelowTheSecond);
    CPPUNIT_TEST(categoriesStayInsideTheDaemonsRange);
    CPPUNIT_TEST(tenThousandAllocationsAreUniqueWhileHeld);
    CPPUNIT_TEST(releasedLevelsCanBeAllocatedAgain);
    CPPUNIT_TEST(anExhaustedRangeIsAnError);
    CPPUNIT_TEST(reservingAnExistingLevelHoldsIt);
    CPPUNIT_TEST(reservingALevelTwiceIsAnError);
    CPPUNIT_TEST(daemonRangeDefaultsToAllThousandTwentyFourCategories);
    CPPUNIT_TEST(daemonRangeTakesSensitivityFromLowAndCategoriesFromHigh);
    CPPUNIT_TEST(categoryListsAndSpansAreUnderstood);
    CPPUNIT_TEST(rangesWithFewerThanEightCategoriesAreRefused);
    CPPUNIT_TEST(malformedRangesAreRefused);
    CPPUNIT_TEST(contextHelpersSplitAndReplaceFields);
    CPPUNIT_TEST(lxcContextsOfDebianParse);
    CPPUNIT_TEST(lxcContextsIgnoreCommentsAndAcceptUnquotedValues);
    CPPUNIT_TEST(lxcContextsSyntaxErrorsNameTheLine);
    CPPUNIT_TEST(lxcContextsWithoutAFileKeyAreRefused);
    CPPUNIT_TEST_SUITE_END();

public:
    void allocatedLevelsAreSensitivityAndTwoCategories()
    {
        McsAllocator a(range(""), 1);
        unsigned x, y;
        for (int i = 0; i < 100; ++i)
            parsePair(a.allocate(), x, y);
    }

    void firstCategoryIsAlwaysBelowTheSecond()
    {
        McsAllocator a(range("s0-s0:c0.c1023"), 2);
        for (int i = 0; i < 2000; ++i) {
            unsigned x, y;
            parsePair(a.allocate(), x, y);
            CPPUNIT_ASSERT(x < y);
        }
    }

    void categoriesStayInsideTheDaemonsRange()
    {
        McsAllocator a(McsRange::fromContext("system_u:system_r:virtd_t:s0-s0:c100.c119"), 3);
        std::set<unsigned> seen;
        for (int i = 0; i < 150; ++i) {
            unsigned x, y;
            parsePair(a.allocate(), x, y);
            CPPUNIT_ASSERT(x >= 100 && y <= 119);
            seen.insert(x);
            seen.insert(y);
        }
        // 150 of the 190 pairs: every category of the range shows up.
        CPPUNIT_ASSERT_EQUAL(std::size_t(20), seen.size());
    }

    void tenThousandAllocationsAreUniqueWhileHeld()
    {
        McsAllocator a(range(""));
        std::set<std::string> levels;
        for (int i = 0; i < 10000; ++i)
            levels.insert(a.allocate());
        CPPUNIT_ASSERT_EQUAL(std::size_t(10000), levels.size());
        CPPUNIT_ASSERT_EQUAL(std::size_t(10000), a.heldCount());
    }

    void releasedLevelsCanBeAllocatedAgain()
    {
        // c0.c7: 28 pairs. Hold all, give one back: it is the only one left.
        McsAllocator a(range("s0-s0:c0.c7"), 4);
        std::vector<std::string> all;
        for (int i = 0; i < 28; ++i)
            all.push_back(a.allocate());
        a.release(all[13]);
        CPPUNIT_ASSERT(!a.isHeld(all[13]));
        CPPUNIT_ASSERT_EQUAL(all[13], a.allocate());
    }

    void anExhaustedRangeIsAnError()
    {
        McsAllocator a(range("s0-s0:c0.c7"), 5);
        for (int i = 0; i < 28; ++i)
            a.allocate();
        CPPUNIT_ASSERT_THROW(a.allocate(), lxvirt::Error);
    }

    void reservingAnExistingLevelHoldsIt()
    {
        McsAllocator a(range("s0-s0:c0.c7"), 6);
        a.reserve("s0:c3,c1"); // written in either order: the same pair
        CPPUNIT_ASSERT(a.isHeld("s0:c1,c3"));
        for (int i = 0; i < 27; ++i)
            CPPUNIT_ASSERT(a.allocate() != "s0:c1,c3");
        CPPUNIT_ASSERT_THROW(a.allocate(), lxvirt::Error);
    }

    void reservingALevelTwiceIsAnError()
    {
        McsAllocator a(range(""), 7);
        std::string level = a.allocate();
        try {
            a.reserve(level);
            CPPUNIT_FAIL("duplicate reservation accepted");
        } catch (const lxvirt::Error &e) {
            CPPUNIT_ASSERT(std::string(e.what()).find("already reserved") != std::string::npos);
            CPPUNIT_ASSERT_EQUAL(int(VIR_FROM_SECURITY), e.domain());
        }
    }

    void daemonRangeDefaultsToAllThousandTwentyFourCategories()
    {
        for (const char *ctx : {"system_u:system_r:virtd_t", "system_u:system_r:virtd_t:s0"}) {
            McsRange r = McsRange::fromContext(ctx);
            CPPUNIT_ASSERT_EQUAL(std::string("s0"), r.sensitivity);
            CPPUNIT_ASSERT_EQUAL(std::size_t(1024), r.categories.size());
            CPPUNIT_ASSERT_EQUAL(1023u, r.categories.back());
        }
    }

    void daemonRangeTakesSensitivityFromLowAndCategoriesFromHigh()
    {
        McsRange r = McsRange::fromContext("system_u:system_r:virtd_t:s0-s0:c10.c29");
        CPPUNIT_ASSERT_EQUAL(std::string("s0"), r.sensitivity);
        CPPUNIT_ASSERT_EQUAL(std::size_t(20), r.categories.size());
        CPPUNIT_ASSERT_EQUAL(10u, r.categories.front());
        CPPUNIT_ASSERT_EQUAL(29u, r.categories.back());
    }

    void categoryListsAndSpansAreUnderstood()
    {
        McsRange r = range("s0-s0:c1,c5.c9,c20,c3");
        std::vector<unsigned> want{1, 3, 5, 6, 7, 8, 9, 20};
        CPPUNIT_ASSERT(want == r.categories);
    }

    void rangesWithFewerThanEightCategoriesAreRefused()
    {
        try {
            range("s0-s0:c0.c6");
            CPPUNIT_FAIL("7 categories accepted");
        } catch (const lxvirt::Error &e) {
            CPPUNIT_ASSERT(std::string(e.what()).find("too small") != std::string::npos);
        }
    }

    void malformedRangesAreRefused()
    {
        for (const char *bad : {"x0", "s0-s0:c9.c2", "s0-s0:cX", "s0-s0:c1,,c2", "s-s0"})
            CPPUNIT_ASSERT_THROW_MESSAGE(bad, range(bad), lxvirt::Error);
    }

    void contextHelpersSplitAndReplaceFields()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("s0-s0:c0.c1023"), contextRange("u:r:t:s0-s0:c0.c1023"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), contextRange("u:r:t"));
        CPPUNIT_ASSERT_EQUAL(std::string("u:r:t:s0:c1,c2"), contextWithRange("u:r:t:s0", "s0:c1,c2"));
        CPPUNIT_ASSERT_EQUAL(std::string("u:r:t:s0:c1,c2"), contextWithRange("u:r:t", "s0:c1,c2"));
        CPPUNIT_ASSERT_EQUAL(std::string("svirt_lxc_net_t"),
                             contextType("system_u:system_r:svirt_lxc_net_t:s0:c1,c2"));
    }

    void lxcContextsOfDebianParse()
    {
        // Debian 12's /etc/selinux/default/contexts/lxc_contexts.
        const char *text = "process = \"system_u:system_r:container_t:s0\"\n"
                           "content = \"system_u:object_r:virt_var_lib_t:s0\"\n"
                           "file = \"system_u:object_r:container_file_t:s0\"\n"
                           "ro_file = \"system_u:object_r:container_ro_file_t:s0\"\n"
                           "sandbox_lxc_process = \"system_u:system_r:container_t:s0\"\n";
        auto kv = parseLxcContexts(text, "lxc_contexts");
        CPPUNIT_ASSERT_EQUAL(std::size_t(5), kv.size());
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:system_r:container_t:s0"), kv["process"]);
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:object_r:container_file_t:s0"), kv["file"]);
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:object_r:virt_var_lib_t:s0"), kv["content"]);
    }

    void lxcContextsIgnoreCommentsAndAcceptUnquotedValues()
    {
        auto kv =
            parseLxcContexts("# header\n\n  process=a:b:c:s0  # trailing\nfile = \"x:y:z:s0\" # c\n", "f");
        CPPUNIT_ASSERT_EQUAL(std::size_t(2), kv.size());
        CPPUNIT_ASSERT_EQUAL(std::string("a:b:c:s0"), kv["process"]);
        CPPUNIT_ASSERT_EQUAL(std::string("x:y:z:s0"), kv["file"]);
    }

    void lxcContextsSyntaxErrorsNameTheLine()
    {
        for (const char *bad : {"process = \"a:b:c:s0\"\njunk line\n", "process = \"a:b:c:s0\"\nfile = \"x\n",
                                "process = \"a:b:c:s0\"\nfile = \n"}) {
            try {
                parseLxcContexts(bad, "/etc/lxc_contexts");
                CPPUNIT_FAIL(std::string("accepted: ") + bad);
            } catch (const lxvirt::Error &e) {
                CPPUNIT_ASSERT_MESSAGE(e.what(), std::string(e.what()).find("/etc/lxc_contexts:2:") !=
                                                     std::string::npos);
            }
        }
    }

    void lxcContextsWithoutAFileKeyAreRefused()
    {
        char path[] = "/tmp/security-mcs-test-XXXXXX";
        int fd = mkstemp(path);
        CPPUNIT_ASSERT(fd >= 0);
        std::string text = "process = \"a:b:c:s0\"\ncontent = \"a:b:d:s0\"\n";
        CPPUNIT_ASSERT(write(fd, text.data(), text.size()) == ssize_t(text.size()));
        close(fd);
        try {
            readLxcContexts(path);
            unlink(path);
            CPPUNIT_FAIL("missing 'file' accepted");
        } catch (const lxvirt::Error &e) {
            unlink(path);
            CPPUNIT_ASSERT_MESSAGE(e.what(),
                                   std::string(e.what()).find("missing 'file' value") != std::string::npos);
        }
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(McsTest);
