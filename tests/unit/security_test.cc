// SecurityManager (none and selinux models) driven through the LD_PRELOAD
// libselinux mock (tests/selinux-mock): the exact labels lxvirt would hand to
// the kernel, read back from the mock's log.
#include "driver/security/mcs.h"
#include "driver/security/security_manager.h"
#include "tests/unit/security_mock.h"
#include "tests/unit/tap.h"
#include "xml/error.h"

#include <cppunit/extensions/HelperMacros.h>

#include <cstring>
#include <dlfcn.h>
#include <link.h>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

using namespace lxvirt;
using namespace lxvirt::security;
using lxvirt::test::mockLoaded;

namespace {

const char *kMockVars[] = {"SELINUX_MOCK_ENABLED", "SELINUX_MOCK_ENFORCE",        "SELINUX_MOCK_CON",
                           "SELINUX_MOCK_PIDCON",  "SELINUX_MOCK_TYPES",          "SELINUX_MOCK_LXC_CONTEXTS",
                           "SELINUX_MOCK_FILECON", "SELINUX_MOCK_DEFAULT_FILECON"};

const std::regex kDynamicLabel("^system_u:system_r:svirt_lxc_net_t:s0:c([0-9]+),c([0-9]+)$");

bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

DomainDef domainWith(SeclabelType type, const std::string &label = "")
{
    DomainDef def;
    def.name = "security-test";
    SeclabelDef s;
    s.type = type;
    s.model = "selinux";
    s.label = label;
    def.seclabels.push_back(s);
    return def;
}

} // namespace

class SecurityTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SecurityTest);
    CPPUNIT_TEST(theTestRunsUnderTheLibselinuxMock);
    CPPUNIT_TEST(noneModelLeavesDomainsUnlabelled);
    CPPUNIT_TEST(noneModelRejectsSelinuxLabels);
    CPPUNIT_TEST(explicitSelinuxOnAHostWithoutSelinuxIsAClearError);
    CPPUNIT_TEST(autoPicksSelinuxOnlyWhenItIsEnabled);
    CPPUNIT_TEST(unknownDriverNamesAreRefused);
    CPPUNIT_TEST(dynamicLabelIsSvirtLxcNetWithAnOrderedPair);
    CPPUNIT_TEST(imageLabelIsSandboxFileWithTheSamePair);
    CPPUNIT_TEST(dynamicPairsComeFromTheDaemonsOwnRange);
    CPPUNIT_TEST(execLabelReachesProcAttrExecFromAForkedChild);
    CPPUNIT_TEST(execLabelFailureIsFatalOnlyWhenEnforcing);
    CPPUNIT_TEST(mountOptionsCarryTheImageLabel);
    CPPUNIT_TEST(lxcContextsWithTypesUnknownToThePolicyFallBackToTheConfig);
    CPPUNIT_TEST(lxcContextsWithKnownTypesAreUsed);
    CPPUNIT_TEST(aPolicyWithoutAnyUsableBaseContextIsAnError);
    CPPUNIT_TEST(twoRunningDomainsNeverShareAPair);
    CPPUNIT_TEST(releaseClearsTheLabelAndFreesThePair);
    CPPUNIT_TEST(reserveReadsTheRunningInitsLabel);
    CPPUNIT_TEST(reservingAPairHeldByAnotherDomainIsAnError);
    CPPUNIT_TEST(reserveFromLiveStateWithoutAPidUsesTheRecordedLabel);
    CPPUNIT_TEST(staticLabelIsUsedVerbatimAndNotRelabelledByDefault);
    CPPUNIT_TEST(baselabelChoosesTheTypeAndKeepsDynamicCategories);
    CPPUNIT_TEST(defaultTypeIsUnconfinedUnlessDefaultConfined);
    CPPUNIT_TEST(verifyRejectsWhatCannotBeHonoured);
    CPPUNIT_TEST(setAllLabelRelabelsTheTreeAndRemembersTheOriginal);
    CPPUNIT_TEST(restoreAllLabelFallsBackToThePolicyDefault);
    CPPUNIT_TEST(readOnlyFilesystemsAreNotRelabelled);
    CPPUNIT_TEST(hostDirectoriesAreNeverRelabelled);
    CPPUNIT_TEST(processLabelReportsTheInitsContextAndEnforcement);
    CPPUNIT_TEST_SUITE_END();

public:
    void setUp() override
    {
        char tmpl[] = "/tmp/security-test-XXXXXX";
        dir_ = mkdtemp(tmpl);
        log_ = dir_ + "/mock.log";
        for (const char *v : kMockVars)
            unsetenv(v);
        setenv("SELINUX_MOCK_LOG", log_.c_str(), 1);
        if (auto reset = reinterpret_cast<void (*)()>(dlsym(RTLD_DEFAULT, "selinux_mock_reset")))
            reset();
    }
    void tearDown() override
    {
        std::string cmd = "rm -rf '" + dir_ + "'";
        if (system(cmd.c_str()) != 0)
            fprintf(stderr, "cannot remove %s\n", dir_.c_str());
    }

    void theTestRunsUnderTheLibselinuxMock()
    {
        CPPUNIT_ASSERT_MESSAGE("tests/selinux-mock/libselinux-mock.so was not preloaded", mockLoaded());
    }

    void noneModelLeavesDomainsUnlabelled()
    {
        auto m = createSecurityManager({.driver = "none"});
        CPPUNIT_ASSERT_EQUAL(std::string("none"), m->model());
        DomainDef def;
        m->verify(def);
        Labels l = m->generate(def);
        CPPUNIT_ASSERT(l.label.empty() && l.imagelabel.empty());
        CPPUNIT_ASSERT(def.seclabels.empty());
        CPPUNIT_ASSERT_EQUAL(std::string(""), m->mountOptions(def));
        CPPUNIT_ASSERT(m->execLabel(def).empty());
        CPPUNIT_ASSERT_EQUAL(0, m->execLabel(def).apply());
    }

    void noneModelRejectsSelinuxLabels()
    {
        auto m = createSecurityManager({.driver = "none"});
        m->verify(domainWith(SeclabelType::None));
        CPPUNIT_ASSERT_THROW(m->verify(domainWith(SeclabelType::Dynamic)), Error);
        CPPUNIT_ASSERT_THROW(
            m->verify(domainWith(SeclabelType::Static, "system_u:system_r:svirt_lxc_net_t:s0:c1,c2")), Error);
    }

    void explicitSelinuxOnAHostWithoutSelinuxIsAClearError()
    {
        needMock();
        setenv("SELINUX_MOCK_ENABLED", "0", 1);
        try {
            createSecurityManager({.driver = "selinux"});
            CPPUNIT_FAIL("selinux model created on a host without SELinux");
        } catch (const Error &e) {
            CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_CONFIG_UNSUPPORTED), e.code());
            CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "SELinux is not enabled on this host"));
        }
    }

    void autoPicksSelinuxOnlyWhenItIsEnabled()
    {
        needMock();
        setenv("SELINUX_MOCK_ENABLED", "0", 1);
        CPPUNIT_ASSERT_EQUAL(std::string("none"), createSecurityManager({.driver = "auto"})->model());
        setenv("SELINUX_MOCK_ENABLED", "1", 1);
        auto m = createSecurityManager({.driver = "auto"});
        CPPUNIT_ASSERT_EQUAL(std::string("selinux"), m->model());
        CPPUNIT_ASSERT_EQUAL(std::string("0"), m->doi());
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:system_r:svirt_lxc_net_t:s0"), m->baseLabel());
    }

    void unknownDriverNamesAreRefused()
    {
        try {
            createSecurityManager({.driver = "apparmor"});
            CPPUNIT_FAIL("apparmor accepted");
        } catch (const Error &e) {
            CPPUNIT_ASSERT(contains(e.what(), "'apparmor'"));
        }
    }

    void dynamicLabelIsSvirtLxcNetWithAnOrderedPair()
    {
        auto m = selinux();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        Labels l = m->generate(def);
        std::smatch match;
        CPPUNIT_ASSERT_MESSAGE(l.label, std::regex_match(l.label, match, kDynamicLabel));
        CPPUNIT_ASSERT(std::stoul(match[1]) < std::stoul(match[2]));
        CPPUNIT_ASSERT_EQUAL(l.label, def.seclabels[0].label);
        CPPUNIT_ASSERT_EQUAL(std::string("selinux"), def.seclabels[0].model);
        CPPUNIT_ASSERT(def.seclabels[0].relabel.value_or(false));
    }

    void imageLabelIsSandboxFileWithTheSamePair()
    {
        auto m = selinux();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        Labels l = m->generate(def);
        CPPUNIT_ASSERT_EQUAL("system_u:object_r:svirt_sandbox_file_t:" + contextRange(l.label), l.imagelabel);
        CPPUNIT_ASSERT_EQUAL(l.imagelabel, def.seclabels[0].imagelabel);
    }

    void dynamicPairsComeFromTheDaemonsOwnRange()
    {
        needMock();
        setenv("SELINUX_MOCK_CON", "system_u:system_r:virtd_t:s0-s0:c500.c507", 1);
        auto m = createSecurityManager({.driver = "selinux"});
        for (int i = 0; i < 28; ++i) {
            DomainDef def = domainWith(SeclabelType::Dynamic);
            std::smatch match;
            Labels l = m->generate(def);
            CPPUNIT_ASSERT(std::regex_match(l.label, match, kDynamicLabel));
            CPPUNIT_ASSERT(std::stoul(match[1]) >= 500 && std::stoul(match[2]) <= 507);
        }
        DomainDef oneTooMany = domainWith(SeclabelType::Dynamic);
        CPPUNIT_ASSERT_THROW(m->generate(oneTooMany), Error);
    }

    void execLabelReachesProcAttrExecFromAForkedChild()
    {
        auto m = selinux();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        Labels l = m->generate(def);
        ExecLabel exec = m->execLabel(def); // before the fork, as before clone()
        CPPUNIT_ASSERT_EQUAL(l.label, exec.label());
        pid_t pid = fork();
        if (pid == 0)
            _exit(exec.apply() == 0 ? 0 : 1);
        int status = 0;
        CPPUNIT_ASSERT_EQUAL(pid, waitpid(pid, &status, 0));
        CPPUNIT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CPPUNIT_ASSERT_MESSAGE(readLog(), contains(readLog(), "setexeccon " + l.label + "\n"));
    }

    void execLabelFailureIsFatalOnlyWhenEnforcing()
    {
        auto m = selinux();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        m->generate(def);
        CPPUNIT_ASSERT(m->execLabel(def).failureIsFatal());
        setenv("SELINUX_MOCK_ENFORCE", "0", 1);
        CPPUNIT_ASSERT(!m->execLabel(def).failureIsFatal());
    }

    void mountOptionsCarryTheImageLabel()
    {
        auto m = selinux();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        Labels l = m->generate(def);
        CPPUNIT_ASSERT_EQUAL("context=\"" + l.imagelabel + "\"", m->mountOptions(def));
        DomainDef none = domainWith(SeclabelType::None);
        m->generate(none);
        CPPUNIT_ASSERT_EQUAL(std::string(""), m->mountOptions(none));
    }

    void lxcContextsWithTypesUnknownToThePolicyFallBackToTheConfig()
    {
        needMock();
        setenv("SELINUX_MOCK_LXC_CONTEXTS", writeDebianLxcContexts().c_str(), 1);
        auto m = createSecurityManager({.driver = "selinux"});
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:system_r:svirt_lxc_net_t:s0"), m->baseLabel());
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:object_r:svirt_sandbox_file_t:s0"), m->baseImageLabel());
    }

    void lxcContextsWithKnownTypesAreUsed()
    {
        needMock();
        setenv("SELINUX_MOCK_LXC_CONTEXTS", writeDebianLxcContexts().c_str(), 1);
        setenv("SELINUX_MOCK_TYPES", "container_t container_file_t virt_var_lib_t", 1);
        auto m = createSecurityManager({.driver = "selinux"});
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:system_r:container_t:s0"), m->baseLabel());
        DomainDef def = domainWith(SeclabelType::Dynamic);
        Labels l = m->generate(def);
        CPPUNIT_ASSERT_EQUAL(std::string("container_t"), contextType(l.label));
        CPPUNIT_ASSERT_EQUAL(std::string("container_file_t"), contextType(l.imagelabel));
    }

    void aPolicyWithoutAnyUsableBaseContextIsAnError()
    {
        needMock();
        setenv("SELINUX_MOCK_LXC_CONTEXTS", writeDebianLxcContexts().c_str(), 1);
        setenv("SELINUX_MOCK_TYPES", "tmp_t", 1);
        try {
            createSecurityManager({.driver = "selinux"});
            CPPUNIT_FAIL("no valid base context, yet a manager");
        } catch (const Error &e) {
            CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "container_t"));
            CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "lxvirt.pp"));
        }
    }

    void twoRunningDomainsNeverShareAPair()
    {
        needMock();
        // 8 categories, 28 pairs: 28 domains take every pair exactly once.
        setenv("SELINUX_MOCK_CON", "system_u:system_r:virtd_t:s0-s0:c0.c7", 1);
        auto m = createSecurityManager({.driver = "selinux"});
        std::set<std::string> seen;
        for (int i = 0; i < 28; ++i) {
            DomainDef def = domainWith(SeclabelType::Dynamic);
            seen.insert(m->generate(def).label);
        }
        CPPUNIT_ASSERT_EQUAL(std::size_t(28), seen.size());
    }

    void releaseClearsTheLabelAndFreesThePair()
    {
        needMock();
        setenv("SELINUX_MOCK_CON", "system_u:system_r:virtd_t:s0-s0:c0.c7", 1);
        auto m = createSecurityManager({.driver = "selinux"});
        std::vector<DomainDef> defs(28, domainWith(SeclabelType::Dynamic));
        for (auto &d : defs)
            m->generate(d);
        std::string freed = defs[5].seclabels[0].label;
        m->release(defs[5]);
        CPPUNIT_ASSERT(defs[5].seclabels[0].label.empty());
        CPPUNIT_ASSERT(defs[5].seclabels[0].imagelabel.empty());
        DomainDef next = domainWith(SeclabelType::Dynamic);
        CPPUNIT_ASSERT_EQUAL(freed, m->generate(next).label);
    }

    void reserveReadsTheRunningInitsLabel()
    {
        auto m = selinux();
        setenv("SELINUX_MOCK_PIDCON_4242", "system_u:system_r:svirt_lxc_net_t:s0:c7,c9", 1);
        DomainDef def = domainWith(SeclabelType::Dynamic);
        Labels l = m->reserve(def, 4242);
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:system_r:svirt_lxc_net_t:s0:c7,c9"), l.label);
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:object_r:svirt_sandbox_file_t:s0:c7,c9"), l.imagelabel);
        CPPUNIT_ASSERT_EQUAL(l.label, def.seclabels[0].label);
        CPPUNIT_ASSERT(contains(readLog(), "getpidcon 4242\n"));
        unsetenv("SELINUX_MOCK_PIDCON_4242");
    }

    void reservingAPairHeldByAnotherDomainIsAnError()
    {
        auto m = selinux();
        DomainDef a = domainWith(SeclabelType::Dynamic);
        Labels l = m->generate(a);
        DomainDef b = domainWith(SeclabelType::Dynamic, l.label);
        try {
            m->reserve(b, 0);
            CPPUNIT_FAIL("a held pair was reserved twice");
        } catch (const Error &e) {
            CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "already reserved"));
        }
    }

    void reserveFromLiveStateWithoutAPidUsesTheRecordedLabel()
    {
        needMock();
        setenv("SELINUX_MOCK_CON", "system_u:system_r:virtd_t:s0-s0:c0.c7", 1);
        auto m = createSecurityManager({.driver = "selinux"});
        DomainDef live = domainWith(SeclabelType::Dynamic, "system_u:system_r:svirt_lxc_net_t:s0:c2,c3");
        m->reserve(live, 0);
        // The other 27 pairs are still free, this one is not.
        for (int i = 0; i < 27; ++i) {
            DomainDef d = domainWith(SeclabelType::Dynamic);
            CPPUNIT_ASSERT(m->generate(d).label != live.seclabels[0].label);
        }
    }

    void staticLabelIsUsedVerbatimAndNotRelabelledByDefault()
    {
        auto m = selinux();
        std::string label = "system_u:system_r:svirt_lxc_net_t:s0:c5,c6";
        DomainDef def = domainWith(SeclabelType::Static, label);
        def.filesystems.push_back({.type = FsType::Mount, .source = dir_, .target = "/"});
        m->verify(def);
        Labels l = m->generate(def);
        CPPUNIT_ASSERT_EQUAL(label, l.label);
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:object_r:svirt_sandbox_file_t:s0:c5,c6"), l.imagelabel);
        CPPUNIT_ASSERT(!def.seclabels[0].relabel.value_or(true));
        m->setAllLabel(def);
        CPPUNIT_ASSERT(!contains(readLog(), "setfilecon"));
        // Static labels are not reserved: a dynamic one may not collide, but
        // a second static domain with the same label is the admin's choice.
        DomainDef twin = domainWith(SeclabelType::Static, label);
        CPPUNIT_ASSERT_EQUAL(label, m->generate(twin).label);
        m->release(def);
        CPPUNIT_ASSERT_EQUAL(label, def.seclabels[0].label);
    }

    void baselabelChoosesTheTypeAndKeepsDynamicCategories()
    {
        auto m = selinux();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        def.seclabels[0].baselabel = "system_u:system_r:virtd_t:s0";
        m->verify(def);
        Labels l = m->generate(def);
        CPPUNIT_ASSERT_MESSAGE(
            l.label, std::regex_match(l.label, std::regex("^system_u:system_r:virtd_t:s0:c[0-9]+,c[0-9]+$")));
        CPPUNIT_ASSERT_EQUAL("system_u:object_r:svirt_sandbox_file_t:" + contextRange(l.label), l.imagelabel);
    }

    void defaultTypeIsUnconfinedUnlessDefaultConfined()
    {
        needMock();
        auto plain = createSecurityManager({.driver = "selinux"});
        DomainDef def;
        Labels l = plain->generate(def);
        CPPUNIT_ASSERT(l.label.empty());
        CPPUNIT_ASSERT_EQUAL(std::size_t(1), def.seclabels.size());
        CPPUNIT_ASSERT(def.seclabels[0].type == SeclabelType::None);
        CPPUNIT_ASSERT(plain->execLabel(def).empty());

        auto confined = createSecurityManager({.driver = "selinux", .defaultConfined = true});
        DomainDef def2;
        CPPUNIT_ASSERT(std::regex_match(confined->generate(def2).label, kDynamicLabel));
        CPPUNIT_ASSERT(def2.seclabels[0].type == SeclabelType::Dynamic);
    }

    void verifyRejectsWhatCannotBeHonoured()
    {
        auto m = selinux();
        expectVerifyError(*m, domainWith(SeclabelType::Static), "security label is missing");
        expectVerifyError(*m, domainWith(SeclabelType::Static, "system_u:system_r:nonexistent_t:s0:c1,c2"),
                          "Invalid security label 'system_u:system_r:nonexistent_t:s0:c1,c2'");
        DomainDef noRelabel = domainWith(SeclabelType::Dynamic);
        noRelabel.seclabels[0].relabel = false;
        expectVerifyError(*m, noRelabel, "relabel");
        DomainDef badBase = domainWith(SeclabelType::Dynamic);
        badBase.seclabels[0].baselabel = "system_u:system_r:nope_t:s0";
        expectVerifyError(*m, badBase, "baselabel 'system_u:system_r:nope_t:s0'");
        DomainDef apparmor = domainWith(SeclabelType::Dynamic);
        apparmor.seclabels[0].model = "apparmor";
        expectVerifyError(*m, apparmor, "'apparmor'");

        auto strict = createSecurityManager({.driver = "selinux", .requireConfined = true});
        expectVerifyError(*strict, domainWith(SeclabelType::None), "Unconfined guests are not allowed");
        expectVerifyError(*strict, DomainDef{}, "Unconfined guests are not allowed");
        strict->verify(domainWith(SeclabelType::Dynamic));
    }

    void setAllLabelRelabelsTheTreeAndRemembersTheOriginal()
    {
        auto m = selinux();
        std::string root = makeTree();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        def.filesystems.push_back({.type = FsType::Mount, .source = root, .target = "/"});
        Labels l = m->generate(def);
        m->setAllLabel(def);
        std::string log = readLog();
        for (const char *p : {"", "/etc", "/etc/passwd", "/bin"})
            CPPUNIT_ASSERT_MESSAGE(log, contains(log, "setfilecon " + root + p + " " + l.imagelabel + "\n"));
        char buf[256];
        ssize_t n = lgetxattr((root + "/etc/passwd").c_str(), kRememberXattr, buf, sizeof buf);
        if (n < 0 && (errno == ENOTSUP || errno == EPERM))
            throw test::Skip("trusted.* xattrs not supported here: " + std::string(strerror(errno)));
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:object_r:tmp_t:s0"), std::string(buf, n > 0 ? n : 0));

        truncateLog();
        m->restoreAllLabel(def);
        log = readLog();
        CPPUNIT_ASSERT_MESSAGE(
            log, contains(log, "setfilecon " + root + "/etc/passwd system_u:object_r:tmp_t:s0\n"));
        CPPUNIT_ASSERT_MESSAGE(log, contains(log, "setfilecon " + root + " system_u:object_r:tmp_t:s0\n"));
        CPPUNIT_ASSERT(lgetxattr((root + "/etc/passwd").c_str(), kRememberXattr, buf, sizeof buf) < 0);
        CPPUNIT_ASSERT_EQUAL(ENODATA, errno);
    }

    void restoreAllLabelFallsBackToThePolicyDefault()
    {
        auto m = selinux();
        std::string root = makeTree();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        def.filesystems.push_back({.type = FsType::Mount, .source = root, .target = "/"});
        m->generate(def);
        m->setAllLabel(def);
        // A file the container created: no remembered label.
        std::ofstream(root + "/new-file") << "x";
        setenv("SELINUX_MOCK_DEFAULT_FILECON", "system_u:object_r:default_t:s0", 1);
        truncateLog();
        m->restoreAllLabel(def);
        std::string log = readLog();
        CPPUNIT_ASSERT_MESSAGE(log, contains(log, "selabel_lookup " + root + "/new-file\n"));
        CPPUNIT_ASSERT_MESSAGE(
            log, contains(log, "setfilecon " + root + "/new-file system_u:object_r:default_t:s0\n"));
    }

    void readOnlyFilesystemsAreNotRelabelled()
    {
        auto m = selinux();
        std::string root = makeTree();
        DomainDef def = domainWith(SeclabelType::Dynamic);
        def.filesystems.push_back({.type = FsType::Mount, .source = root, .target = "/", .readonly = true});
        m->generate(def);
        m->setAllLabel(def);
        CPPUNIT_ASSERT(!contains(readLog(), "setfilecon"));
    }

    void hostDirectoriesAreNeverRelabelled()
    {
        auto m = selinux();
        for (const char *host : {"/", "/usr", "/etc/../etc"}) {
            DomainDef def = domainWith(SeclabelType::Dynamic);
            def.filesystems.push_back({.type = FsType::Mount, .source = host, .target = "/"});
            m->generate(def);
            try {
                m->setAllLabel(def);
                CPPUNIT_FAIL(std::string("relabelled host directory ") + host);
            } catch (const Error &e) {
                CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), "refusing to relabel host directory"));
            }
        }
        CPPUNIT_ASSERT(!contains(readLog(), "setfilecon"));
    }

    void processLabelReportsTheInitsContextAndEnforcement()
    {
        auto m = selinux();
        setenv("SELINUX_MOCK_PIDCON_777", "system_u:system_r:svirt_lxc_net_t:s0:c1,c2", 1);
        ProcessLabel p = m->processLabel(777);
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:system_r:svirt_lxc_net_t:s0:c1,c2"), p.label);
        CPPUNIT_ASSERT(p.enforcing);
        setenv("SELINUX_MOCK_ENFORCE", "0", 1);
        CPPUNIT_ASSERT(!m->processLabel(777).enforcing);
        CPPUNIT_ASSERT_THROW(m->processLabel(778), Error);
        unsetenv("SELINUX_MOCK_PIDCON_777");
    }

private:
    void needMock()
    {
        if (!mockLoaded())
            throw test::Skip("tests/selinux-mock/libselinux-mock.so not loaded (build it: make check)");
    }

    std::unique_ptr<SecurityManager> selinux()
    {
        needMock();
        return createSecurityManager({.driver = "selinux"});
    }

    std::string readLog()
    {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
    void truncateLog() { std::ofstream(log_, std::ios::trunc); }

    std::string writeDebianLxcContexts()
    {
        std::string path = dir_ + "/lxc_contexts";
        std::ofstream(path) << "process = \"system_u:system_r:container_t:s0\"\n"
                               "content = \"system_u:object_r:virt_var_lib_t:s0\"\n"
                               "file = \"system_u:object_r:container_file_t:s0\"\n";
        return path;
    }

    std::string makeTree()
    {
        std::string root = dir_ + "/rootfs";
        CPPUNIT_ASSERT(mkdir(root.c_str(), 0755) == 0);
        CPPUNIT_ASSERT(mkdir((root + "/etc").c_str(), 0755) == 0);
        CPPUNIT_ASSERT(mkdir((root + "/bin").c_str(), 0755) == 0);
        std::ofstream(root + "/etc/passwd") << "root:x:0:0::/:/bin/sh\n";
        return root;
    }

    static void expectVerifyError(const SecurityManager &m, const DomainDef &def, const std::string &words)
    {
        try {
            m.verify(def);
            CPPUNIT_FAIL("verify accepted a domain that should fail with: " + words);
        } catch (const Error &e) {
            CPPUNIT_ASSERT_MESSAGE(e.what(), contains(e.what(), words));
            CPPUNIT_ASSERT_EQUAL(int(VIR_FROM_SECURITY), e.domain());
        }
    }

    std::string dir_;
    std::string log_;
};
CPPUNIT_TEST_SUITE_REGISTRATION(SecurityTest);
