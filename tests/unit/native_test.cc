// domxml-from-native lxc-tools. Data-driven: tests/native/NAME.config (and
// NAME-v3.config with LXC 3.x keys) must format to tests/native/NAME.xml,
// which is what libvirt 9.0's LXC driver printed for the same file (its
// random uuid replaced by kFixedUuid). Error cases check libvirt's code and
// message; field checks pin the conversion rules one by one.
#include "tests/unit/tap.h"
#include "xml/domain_xml.h"
#include "xml/error.h"
#include "xml/native.h"

#include <cppunit/extensions/HelperMacros.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

using lxvirt::DomainDef;
using lxvirt::domainDefFromLxcConfig;

namespace {

constexpr const char *kFixedUuid = "8f2c3a4e-5b6d-4e7f-9a0b-1c2d3e4f5a6b";
// libvirt's post-parse fills in its own controller; ours names lxvirt's.
constexpr const char *kLibvirtEmulator = "/usr/lib/libvirt/libvirt_lxc";

std::string nativeDir()
{
    return lxvirt::test::srcDir() + "/tests/native/";
}

std::string readText(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

DomainDef convertFile(const std::string &name)
{
    return domainDefFromLxcConfig(readText(nativeDir() + name + ".config"));
}

// NAME-v3 shares NAME.xml unless it has its own expected file.
std::string expectedFile(const std::string &name)
{
    std::string own = nativeDir() + name + ".xml";
    if (std::filesystem::exists(own) || !name.ends_with("-v3"))
        return own;
    return nativeDir() + name.substr(0, name.size() - 3) + ".xml";
}

// Exact comparison with libvirt's output.
void assertMatchesLibvirt(const std::string &name)
{
    DomainDef def = convertFile(name);
    CPPUNIT_ASSERT(lxvirt::uuidFromString(kFixedUuid, def.uuid));
    def.emulator = kLibvirtEmulator;
    CPPUNIT_ASSERT_EQUAL_MESSAGE(name, readText(expectedFile(name)), lxvirt::formatDomainXml(def));
}

struct ExpectedError {
    int code;
    std::string message;
};

ExpectedError errorOf(const std::string &config)
{
    try {
        domainDefFromLxcConfig(config);
    } catch (const lxvirt::Error &e) {
        return {e.code(), e.what()};
    }
    CPPUNIT_FAIL("conversion succeeded, expected an error, for:\n" + config);
    return {};
}

void assertError(const std::string &config, int code, const std::string &message)
{
    ExpectedError e = errorOf(config);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(config, message, e.message);
    CPPUNIT_ASSERT_EQUAL_MESSAGE(config, code, e.code);
}

const std::string kBase = "lxc.uts.name = t\nlxc.rootfs.path = /srv/t\n";

} // namespace

#define LIBVIRT_CASE(method, name)                                                                           \
    void method()                                                                                            \
    {                                                                                                        \
        assertMatchesLibvirt(name);                                                                          \
    }

class NativeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(NativeTest);
    CPPUNIT_TEST(simpleLegacyConfigMatchesLibvirt);
    CPPUNIT_TEST(simpleV3ConfigMatchesLibvirt);
    CPPUNIT_TEST(noNetworkLegacyConfigGetsPrivnet);
    CPPUNIT_TEST(noNetworkV3ConfigGetsPrivnet);
    CPPUNIT_TEST(noneNetworkLegacyConfigSharesHostNetwork);
    CPPUNIT_TEST(noneNetworkV3ConfigSharesHostNetwork);
    CPPUNIT_TEST(physNetworkLegacyConfigBecomesHostdev);
    CPPUNIT_TEST(physNetworkV3ConfigBecomesHostdev);
    CPPUNIT_TEST(macvlanLegacyConfigBecomesDirectInterfaces);
    CPPUNIT_TEST(macvlanV3ConfigBecomesDirectInterfaces);
    CPPUNIT_TEST(vlanLegacyConfigBecomesHostdevOfVlanDevice);
    CPPUNIT_TEST(vlanV3ConfigBecomesHostdevOfVlanDevice);
    CPPUNIT_TEST(vethWithoutLinkLegacyConfigBecomesEthernet);
    CPPUNIT_TEST(vethWithoutLinkV3ConfigBecomesEthernet);
    CPPUNIT_TEST(idmapLegacyConfigMatchesLibvirt);
    CPPUNIT_TEST(idmapV3ConfigMatchesLibvirt);
    CPPUNIT_TEST(memtuneLegacyConfigMatchesLibvirt);
    CPPUNIT_TEST(memtuneV3ConfigMatchesLibvirt);
    CPPUNIT_TEST(cputuneLegacyConfigMatchesLibvirt);
    CPPUNIT_TEST(cputuneV3ConfigMatchesLibvirt);
    CPPUNIT_TEST(cpusettuneLegacyConfigMatchesLibvirt);
    CPPUNIT_TEST(cpusettuneV3ConfigMatchesLibvirt);
    CPPUNIT_TEST(blkiotuneLegacyConfigMatchesLibvirt);
    CPPUNIT_TEST(blkiotuneV3ConfigMatchesLibvirt);
    CPPUNIT_TEST(blockRootfsAndMountEntriesMatchLibvirt);
    CPPUNIT_TEST(everyConfigFileInTheDataDirectoryHasACase);
    CPPUNIT_TEST(convertedDefinitionsAreAcceptedByTheDomainParser);
    CPPUNIT_TEST(fstabKeysAreRefusedInBothSyntaxes);
    CPPUNIT_TEST(defaultsAreLibvirts);
    CPPUNIT_TEST(idmapKeepsLxcsMeaningSoTheResultCanBeDefined);
    CPPUNIT_TEST(memoryLimitSetsMemoryAndHardLimit);
    CPPUNIT_TEST(cpusetListsAreNormalised);
    CPPUNIT_TEST(blkioValuesAreGroupedPerDevice);
    CPPUNIT_TEST(droppedCapabilitiesComeInLibvirtsOrder);
    CPPUNIT_TEST(mountEntriesForBasicLocationsAreSkipped);
    CPPUNIT_TEST(tmpfsSizesAcceptLibvirtUnits);
    CPPUNIT_TEST(networksKeepTheirOrderAndSettings);
    CPPUNIT_TEST(legacyAndV3NetworkSyntaxGiveTheSameDefinition);
    CPPUNIT_TEST(macAddressesAreNormalisedOrLeftForGeneration);
    CPPUNIT_TEST(archAliasesAreMappedAndUnknownArchesDropped);
    CPPUNIT_TEST(theFirstOfDuplicateKeysWins);
    CPPUNIT_TEST(valuesKeepTrailingBlanksAsInLibvirt);
    CPPUNIT_TEST(consolesFollowTtyCount);
    CPPUNIT_TEST(eachUuidIsFresh);
    CPPUNIT_TEST(missingNameOrRootfsIsAnError);
    CPPUNIT_TEST(syntaxErrorsNameTheLine);
    CPPUNIT_TEST(badSizesAreRefusedWithLibvirtsMessages);
    CPPUNIT_TEST(badNetworkSettingsAreRefused);
    CPPUNIT_TEST(badNumbersAreRefusedWithLibvirtsMessages);
    CPPUNIT_TEST(badIdmapAndBlkioLinesAreRefused);
    CPPUNIT_TEST(arbitraryInputFailsOnlyWithLibvirtErrors);
    CPPUNIT_TEST_SUITE_END();

public:
    LIBVIRT_CASE(simpleLegacyConfigMatchesLibvirt, "simple")
    LIBVIRT_CASE(simpleV3ConfigMatchesLibvirt, "simple-v3")
    LIBVIRT_CASE(noNetworkLegacyConfigGetsPrivnet, "nonetwork")
    LIBVIRT_CASE(noNetworkV3ConfigGetsPrivnet, "nonetwork-v3")
    LIBVIRT_CASE(noneNetworkLegacyConfigSharesHostNetwork, "nonenetwork")
    LIBVIRT_CASE(noneNetworkV3ConfigSharesHostNetwork, "nonenetwork-v3")
    LIBVIRT_CASE(physNetworkLegacyConfigBecomesHostdev, "physnetwork")
    LIBVIRT_CASE(physNetworkV3ConfigBecomesHostdev, "physnetwork-v3")
    LIBVIRT_CASE(macvlanLegacyConfigBecomesDirectInterfaces, "macvlannetwork")
    LIBVIRT_CASE(macvlanV3ConfigBecomesDirectInterfaces, "macvlannetwork-v3")
    LIBVIRT_CASE(vlanLegacyConfigBecomesHostdevOfVlanDevice, "vlannetwork")
    LIBVIRT_CASE(vlanV3ConfigBecomesHostdevOfVlanDevice, "vlannetwork-v3")
    LIBVIRT_CASE(vethWithoutLinkLegacyConfigBecomesEthernet, "ethernet")
    LIBVIRT_CASE(vethWithoutLinkV3ConfigBecomesEthernet, "ethernet-v3")
    LIBVIRT_CASE(idmapLegacyConfigMatchesLibvirt, "idmap")
    LIBVIRT_CASE(idmapV3ConfigMatchesLibvirt, "idmap-v3")
    LIBVIRT_CASE(memtuneLegacyConfigMatchesLibvirt, "memtune")
    LIBVIRT_CASE(memtuneV3ConfigMatchesLibvirt, "memtune-v3")
    LIBVIRT_CASE(cputuneLegacyConfigMatchesLibvirt, "cputune")
    LIBVIRT_CASE(cputuneV3ConfigMatchesLibvirt, "cputune-v3")
    LIBVIRT_CASE(cpusettuneLegacyConfigMatchesLibvirt, "cpusettune")
    LIBVIRT_CASE(cpusettuneV3ConfigMatchesLibvirt, "cpusettune-v3")
    LIBVIRT_CASE(blkiotuneLegacyConfigMatchesLibvirt, "blkiotune")
    LIBVIRT_CASE(blkiotuneV3ConfigMatchesLibvirt, "blkiotune-v3")
    LIBVIRT_CASE(blockRootfsAndMountEntriesMatchLibvirt, "blockrootfs")

    void everyConfigFileInTheDataDirectoryHasACase()
    {
        // Adding a file without a case would silently test nothing.
        const std::set<std::string> covered = {
            "simple",         "simple-v3",      "nonetwork",      "nonetwork-v3",   "nonenetwork",
            "nonenetwork-v3", "physnetwork",    "physnetwork-v3", "macvlannetwork", "macvlannetwork-v3",
            "vlannetwork",    "vlannetwork-v3", "ethernet",       "ethernet-v3",    "idmap",
            "idmap-v3",       "memtune",        "memtune-v3",     "cputune",        "cputune-v3",
            "cpusettune",     "cpusettune-v3",  "blkiotune",      "blkiotune-v3",   "blockrootfs",
            "fstab",          "fstab-v3",
        };
        size_t seen = 0;
        for (const auto &entry : std::filesystem::directory_iterator(nativeDir())) {
            if (entry.path().extension() != ".config")
                continue;
            ++seen;
            CPPUNIT_ASSERT_MESSAGE(entry.path().string(), covered.count(entry.path().stem().string()));
        }
        CPPUNIT_ASSERT_EQUAL(covered.size(), seen);
    }

    void convertedDefinitionsAreAcceptedByTheDomainParser()
    {
        // What `virsh define` will do with our output next.
        for (const auto &entry : std::filesystem::directory_iterator(nativeDir())) {
            const std::string name = entry.path().stem().string();
            if (entry.path().extension() != ".config" || name.starts_with("fstab"))
                continue;
            DomainDef def = convertFile(name);
            // libvirt 9.0 defines (and starts) a block-device root as well.
            DomainDef back = lxvirt::parseDomainXml(lxvirt::formatDomainXml(def));
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, def.name, back.name);
            CPPUNIT_ASSERT_MESSAGE(name, def.uuid == back.uuid);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, def.filesystems.size(), back.filesystems.size());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, def.interfaces.size(), back.interfaces.size());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, def.hostdevs.size(), back.hostdevs.size());
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, def.memory_kib, back.memory_kib);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(name, def.privnet, back.privnet);
            for (size_t i = 0; i < def.interfaces.size(); ++i)
                CPPUNIT_ASSERT_EQUAL_MESSAGE(name, def.interfaces[i].mac, back.interfaces[i].mac);
        }
        // An interface converted without hwaddr gets its MAC from the parser.
        DomainDef noMac = domainDefFromLxcConfig(kBase + "lxc.net.0.type = veth\nlxc.net.0.link = br0\n");
        CPPUNIT_ASSERT(noMac.interfaces.at(0).mac.empty());
        DomainDef parsed = lxvirt::parseDomainXml(lxvirt::formatDomainXml(noMac));
        CPPUNIT_ASSERT_EQUAL(size_t(17), parsed.interfaces.at(0).mac.size());
    }

    void fstabKeysAreRefusedInBothSyntaxes()
    {
        for (const char *name : {"fstab", "fstab-v3"}) {
            ExpectedError e = errorOf(readText(nativeDir() + name + ".config"));
            CPPUNIT_ASSERT_EQUAL(int(VIR_ERR_ARGUMENT_UNSUPPORTED), e.code);
            CPPUNIT_ASSERT_EQUAL(std::string("argument unsupported: lxc.mount.fstab or lxc.mount found, "
                                             "use lxc.mount.entry lines instead"),
                                 e.message);
        }
    }

    void defaultsAreLibvirts()
    {
        DomainDef def = domainDefFromLxcConfig(kBase);
        CPPUNIT_ASSERT_EQUAL(std::string("t"), def.name);
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), def.memory_kib);
        CPPUNIT_ASSERT_EQUAL(uint64_t(65536), def.current_memory_kib);
        CPPUNIT_ASSERT_EQUAL(1u, def.vcpus);
        CPPUNIT_ASSERT_EQUAL(std::string("exe"), def.os_type);
        CPPUNIT_ASSERT_EQUAL(std::string("/sbin/init"), def.init);
        CPPUNIT_ASSERT(def.os_arch.empty());
        CPPUNIT_ASSERT(def.on_reboot == lxvirt::LifecycleAction::Restart);
        CPPUNIT_ASSERT(def.on_poweroff == lxvirt::LifecycleAction::Destroy);
        CPPUNIT_ASSERT(def.on_crash == lxvirt::LifecycleAction::Destroy);
        CPPUNIT_ASSERT(def.privnet);
        CPPUNIT_ASSERT(def.has_capabilities);
        CPPUNIT_ASSERT(def.cap_policy == lxvirt::CapPolicy::Allow);
        CPPUNIT_ASSERT(def.caps.empty());
        CPPUNIT_ASSERT_EQUAL(size_t(1), def.filesystems.size());
        const lxvirt::FilesystemDef *root = def.rootFilesystem();
        CPPUNIT_ASSERT(root != nullptr);
        CPPUNIT_ASSERT(root->type == lxvirt::FsType::Mount);
        CPPUNIT_ASSERT(root->accessmode == lxvirt::FsAccessMode::Passthrough);
        CPPUNIT_ASSERT_EQUAL(std::string("/srv/t"), root->source);
        CPPUNIT_ASSERT(def.interfaces.empty() && def.hostdevs.empty() && def.consoles.empty());
        CPPUNIT_ASSERT(!def.mem_hard_limit_kib && !def.cpu_shares && !def.blkio_weight);
        CPPUNIT_ASSERT(def.emulator.empty());
    }

    void idmapKeepsLxcsMeaningSoTheResultCanBeDefined()
    {
        // "u 0 100000 65536": container uid 0 is host uid 100000.
        DomainDef def = convertFile("idmap");
        CPPUNIT_ASSERT_EQUAL(size_t(2), def.idmap_uid.size());
        CPPUNIT_ASSERT_EQUAL(size_t(1), def.idmap_gid.size());
        CPPUNIT_ASSERT_EQUAL(0u, def.idmap_uid[0].start);
        CPPUNIT_ASSERT_EQUAL(100000u, def.idmap_uid[0].target);
        CPPUNIT_ASSERT_EQUAL(65536u, def.idmap_uid[0].count);
        CPPUNIT_ASSERT_EQUAL(65536u, def.idmap_uid[1].start);
        CPPUNIT_ASSERT_EQUAL(300000u, def.idmap_uid[1].target);
        CPPUNIT_ASSERT_EQUAL(10u, def.idmap_uid[1].count);
        CPPUNIT_ASSERT_EQUAL(0u, def.idmap_gid[0].start);
        CPPUNIT_ASSERT(def.needsUserNamespace());
        // Our one deliberate difference from libvirt 9.0, which swaps start
        // and target (idmap.libvirt.xml is its verbatim output) and so
        // produces a definition its own define refuses.
        std::string libvirt = readText(nativeDir() + "idmap.libvirt.xml");
        std::string ours = readText(nativeDir() + "idmap.xml");
        CPPUNIT_ASSERT(libvirt != ours);
        for (auto [from, to] : {std::pair{"start='100000' target='0'", "start='0' target='100000'"},
                                std::pair{"start='300000' target='65536'", "start='65536' target='300000'"}})
            for (size_t at; (at = libvirt.find(from)) != std::string::npos;)
                libvirt.replace(at, std::string(from).size(), to);
        CPPUNIT_ASSERT_EQUAL(ours, libvirt);
        lxvirt::parseDomainXml(lxvirt::formatDomainXml(def));
    }

    void memoryLimitSetsMemoryAndHardLimit()
    {
        DomainDef def = convertFile("memtune-v3");
        CPPUNIT_ASSERT_EQUAL(uint64_t(1048576), def.memory_kib);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1048576), def.current_memory_kib);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1048576), def.mem_hard_limit_kib.value_or(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t(786432), def.mem_soft_limit_kib.value_or(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2097152), def.mem_swap_hard_limit_kib.value_or(0));

        // A limit beyond libvirt's "unlimited" is no limit.
        DomainDef big = domainDefFromLxcConfig(kBase + "lxc.cgroup.memory.memsw.limit_in_bytes = 8E\n");
        CPPUNIT_ASSERT(!big.mem_swap_hard_limit_kib);
    }

    void cpusetListsAreNormalised()
    {
        DomainDef def = convertFile("cpusettune");
        CPPUNIT_ASSERT_EQUAL(std::string("0,2-3,5-6"), def.vcpu_cpuset);
        CPPUNIT_ASSERT_EQUAL(std::string("static"), def.vcpu_placement);
        CPPUNIT_ASSERT_EQUAL(std::string("0-2"), def.numa_nodeset);
        CPPUNIT_ASSERT_EQUAL(std::string("strict"), def.numa_mode);
        DomainDef neg = domainDefFromLxcConfig(kBase + "lxc.cgroup.cpuset.cpus = 0-7,^3, 5\n");
        CPPUNIT_ASSERT_EQUAL(std::string("0-2,4-7"), neg.vcpu_cpuset);
    }

    void blkioValuesAreGroupedPerDevice()
    {
        DomainDef def = convertFile("blkiotune");
        CPPUNIT_ASSERT_EQUAL(600u, def.blkio_weight.value_or(0));
        CPPUNIT_ASSERT_EQUAL(size_t(2), def.blkio_devices.size());
        const auto &a = def.blkio_devices[0];
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/block/8:0"), a.path);
        CPPUNIT_ASSERT_EQUAL(300u, a.weight.value_or(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t(10485760), a.read_bytes_sec.value_or(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t(200), a.write_iops_sec.value_or(0));
        CPPUNIT_ASSERT(!a.write_bytes_sec && !a.read_iops_sec);
        const auto &b = def.blkio_devices[1];
        CPPUNIT_ASSERT_EQUAL(std::string("/dev/block/253:1"), b.path);
        CPPUNIT_ASSERT_EQUAL(uint64_t(5242880), b.write_bytes_sec.value_or(0));
        CPPUNIT_ASSERT_EQUAL(uint64_t(150), b.read_iops_sec.value_or(0));
        CPPUNIT_ASSERT(!b.weight);
    }

    void droppedCapabilitiesComeInLibvirtsOrder()
    {
        DomainDef def =
            domainDefFromLxcConfig(kBase + "lxc.cap.drop = sys_time  mknod bogus sys_admin mknod\n");
        CPPUNIT_ASSERT_EQUAL(size_t(3), def.caps.size());
        CPPUNIT_ASSERT_EQUAL(std::string("mknod"), def.caps[0].name);
        CPPUNIT_ASSERT_EQUAL(std::string("sys_admin"), def.caps[1].name);
        CPPUNIT_ASSERT_EQUAL(std::string("sys_time"), def.caps[2].name);
        for (const auto &c : def.caps)
            CPPUNIT_ASSERT(!c.on);
    }

    void mountEntriesForBasicLocationsAreSkipped()
    {
        DomainDef def = domainDefFromLxcConfig(
            kBase + "lxc.mount.entry = proc proc proc nodev 0 0\n"
                    "lxc.mount.entry = /proc/sys /proc/sys none bind,ro 0 0\n"
                    "lxc.mount.entry = sysfs /sys sysfs ro 0 0\n"
                    "lxc.mount.entry = securityfs sys/kernel/security securityfs ro 0 0\n"
                    "lxc.mount.entry = /home\thome none\tbind 0 0\n");
        CPPUNIT_ASSERT_EQUAL(size_t(2), def.filesystems.size());
        CPPUNIT_ASSERT_EQUAL(std::string("/home"), def.filesystems[1].source);
        CPPUNIT_ASSERT_EQUAL(std::string("/home"), def.filesystems[1].target);
        CPPUNIT_ASSERT(!def.filesystems[1].readonly);
    }

    void tmpfsSizesAcceptLibvirtUnits()
    {
        struct {
            const char *size;
            uint64_t kib;
        } cases[] = {{"1048576", 1024}, {"4k", 4},       {"2KiB", 2},        {"1000KB", 976}, {"3M", 3072},
                     {"1g", 1048576},   {"1GB", 976562}, {"1T", 1073741824}, {"512b", 0}};
        for (const auto &c : cases) {
            DomainDef def = domainDefFromLxcConfig(
                kBase + "lxc.mount.entry = tmpfs /tmp tmpfs mode=1777,size=" + c.size + " 0 0\n");
            CPPUNIT_ASSERT_EQUAL(size_t(2), def.filesystems.size());
            CPPUNIT_ASSERT(def.filesystems[1].type == lxvirt::FsType::Ram);
            CPPUNIT_ASSERT_EQUAL_MESSAGE(c.size, c.kib, def.filesystems[1].ram_usage_kib);
            CPPUNIT_ASSERT_EQUAL(std::string("KiB"), def.filesystems[1].ram_units);
            CPPUNIT_ASSERT(def.filesystems[1].source.empty());
        }
    }

    void networksKeepTheirOrderAndSettings()
    {
        DomainDef def = convertFile("macvlannetwork-v3");
        CPPUNIT_ASSERT(!def.privnet);
        CPPUNIT_ASSERT_EQUAL(size_t(2), def.interfaces.size());
        const auto &a = def.interfaces[0];
        CPPUNIT_ASSERT(a.type == lxvirt::NetType::Direct);
        CPPUNIT_ASSERT_EQUAL(std::string("enp3s0"), a.source);
        CPPUNIT_ASSERT_EQUAL(std::string("private"), a.source_mode);
        CPPUNIT_ASSERT_EQUAL(std::string("down"), a.link_state);
        const auto &b = def.interfaces[1];
        CPPUNIT_ASSERT_EQUAL(std::string("bridge"), b.source_mode);
        CPPUNIT_ASSERT_EQUAL(std::string("up"), b.link_state);
        CPPUNIT_ASSERT_EQUAL(std::string("02:00:5e:10:00:22"), b.mac);

        DomainDef eth = convertFile("ethernet");
        CPPUNIT_ASSERT_EQUAL(size_t(1), eth.interfaces.size());
        const auto &e = eth.interfaces[0];
        CPPUNIT_ASSERT(e.type == lxvirt::NetType::Ethernet);
        CPPUNIT_ASSERT_EQUAL(std::string("eth1"), e.guest_dev);
        CPPUNIT_ASSERT_EQUAL(size_t(1), e.ips.size());
        CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.20"), e.ips[0].address);
        CPPUNIT_ASSERT_EQUAL(28u, e.ips[0].prefix.value_or(0));
        CPPUNIT_ASSERT_EQUAL(std::string("ipv4"), e.ips[0].family);
        CPPUNIT_ASSERT_EQUAL(size_t(1), e.routes.size());
        CPPUNIT_ASSERT_EQUAL(std::string("0.0.0.0"), e.routes[0].address);
        CPPUNIT_ASSERT_EQUAL(std::string("203.0.113.17"), e.routes[0].gateway);

        DomainDef vlan = convertFile("vlannetwork");
        CPPUNIT_ASSERT_EQUAL(size_t(1), vlan.hostdevs.size());
        CPPUNIT_ASSERT_EQUAL(std::string("bond0.42"), vlan.hostdevs[0].source);
        CPPUNIT_ASSERT_EQUAL(std::string("net"), vlan.hostdevs[0].caps_type);
        CPPUNIT_ASSERT(vlan.needsNetNamespace());

        DomainDef none = convertFile("nonenetwork");
        CPPUNIT_ASSERT(!none.privnet && none.interfaces.empty() && none.hostdevs.empty());

        // v3 indexes need not be dense or ordered: first appearance wins.
        DomainDef idx = domainDefFromLxcConfig(kBase + "lxc.net.7.type = veth\nlxc.net.2.type = veth\n"
                                                       "lxc.net.2.link = br2\nlxc.net.7.link = br7\n"
                                                       "lxc.net.7.ipv6.address = 2001:DB8:0:0::9/64\n");
        CPPUNIT_ASSERT_EQUAL(size_t(2), idx.interfaces.size());
        CPPUNIT_ASSERT_EQUAL(std::string("br7"), idx.interfaces[0].source);
        CPPUNIT_ASSERT_EQUAL(std::string("br2"), idx.interfaces[1].source);
        CPPUNIT_ASSERT_EQUAL(std::string("2001:db8::9"), idx.interfaces[0].ips.at(0).address);
    }

    void legacyAndV3NetworkSyntaxGiveTheSameDefinition()
    {
        for (const char *name : {"physnetwork", "ethernet", "simple"}) {
            DomainDef legacy = convertFile(name);
            DomainDef v3 = convertFile(std::string(name) + "-v3");
            CPPUNIT_ASSERT_EQUAL(legacy.interfaces.size(), v3.interfaces.size());
            CPPUNIT_ASSERT_EQUAL(legacy.hostdevs.size(), v3.hostdevs.size());
            for (size_t i = 0; i < legacy.interfaces.size(); ++i) {
                CPPUNIT_ASSERT_EQUAL(legacy.interfaces[i].source, v3.interfaces[i].source);
                CPPUNIT_ASSERT_EQUAL(legacy.interfaces[i].mac, v3.interfaces[i].mac);
                CPPUNIT_ASSERT_EQUAL(legacy.interfaces[i].ips.size(), v3.interfaces[i].ips.size());
            }
            for (size_t i = 0; i < legacy.hostdevs.size(); ++i)
                CPPUNIT_ASSERT_EQUAL(legacy.hostdevs[i].source, v3.hostdevs[i].source);
            CPPUNIT_ASSERT_EQUAL(legacy.consoles.size(), v3.consoles.size());
        }
    }

    void macAddressesAreNormalisedOrLeftForGeneration()
    {
        DomainDef def =
            domainDefFromLxcConfig(kBase + "lxc.net.0.type = veth\nlxc.net.0.hwaddr = 2:0:5E:a:B:c\n"
                                           "lxc.net.1.type = veth\nlxc.net.1.hwaddr = 00:16:3e:xx:xx:xx\n"
                                           "lxc.net.2.type = veth\n");
        CPPUNIT_ASSERT_EQUAL(size_t(3), def.interfaces.size());
        CPPUNIT_ASSERT_EQUAL(std::string("02:00:5e:0a:0b:0c"), def.interfaces[0].mac);
        // lxc's template MAC and a missing one: the domain parser generates one.
        CPPUNIT_ASSERT(def.interfaces[1].mac.empty());
        CPPUNIT_ASSERT(def.interfaces[2].mac.empty());
    }

    void archAliasesAreMappedAndUnknownArchesDropped()
    {
        CPPUNIT_ASSERT_EQUAL(std::string("x86_64"),
                             domainDefFromLxcConfig(kBase + "lxc.arch = amd64\n").os_arch);
        CPPUNIT_ASSERT_EQUAL(std::string("i686"), domainDefFromLxcConfig(kBase + "lxc.arch = x86\n").os_arch);
        CPPUNIT_ASSERT_EQUAL(std::string("aarch64"),
                             domainDefFromLxcConfig(kBase + "lxc.arch = aarch64\n").os_arch);
        CPPUNIT_ASSERT_EQUAL(std::string(), domainDefFromLxcConfig(kBase + "lxc.arch = sparc99\n").os_arch);
    }

    void theFirstOfDuplicateKeysWins()
    {
        DomainDef def =
            domainDefFromLxcConfig("lxc.utsname = legacy\nlxc.uts.name = first\n"
                                   "lxc.uts.name = second\nlxc.rootfs = /a\nlxc.rootfs.path = /b\n"
                                   "lxc.cap.drop = mknod\nlxc.cap.drop = sys_admin\n");
        CPPUNIT_ASSERT_EQUAL(std::string("first"), def.name);
        CPPUNIT_ASSERT_EQUAL(std::string("/b"), def.filesystems[0].source);
        CPPUNIT_ASSERT_EQUAL(size_t(1), def.caps.size());
        CPPUNIT_ASSERT_EQUAL(std::string("mknod"), def.caps[0].name);
    }

    void valuesKeepTrailingBlanksAsInLibvirt()
    {
        DomainDef def = domainDefFromLxcConfig("  # comment\n\nlxc.rootfs.path=/r  \r\n"
                                               "lxc.uts.name =\t nm # not a comment\n");
        CPPUNIT_ASSERT_EQUAL(std::string("nm # not a comment"), def.name);
        CPPUNIT_ASSERT_EQUAL(std::string("/r  "), def.filesystems[0].source);
    }

    void consolesFollowTtyCount()
    {
        DomainDef def = domainDefFromLxcConfig(kBase + "lxc.tty.max = 3\nlxc.tty = 1\n");
        CPPUNIT_ASSERT_EQUAL(size_t(3), def.consoles.size());
        for (int i = 0; i < 3; ++i) {
            CPPUNIT_ASSERT_EQUAL(i, def.consoles[i].port);
            CPPUNIT_ASSERT_EQUAL(std::string("pty"), def.consoles[i].type);
            CPPUNIT_ASSERT_EQUAL(std::string("lxc"), def.consoles[i].target_type);
            CPPUNIT_ASSERT(!def.consoles[i].is_serial);
        }
        CPPUNIT_ASSERT_EQUAL(size_t(1), domainDefFromLxcConfig(kBase + "lxc.tty = 1\n").consoles.size());
        CPPUNIT_ASSERT(domainDefFromLxcConfig(kBase + "lxc.tty.max = 0\n").consoles.empty());
    }

    void eachUuidIsFresh()
    {
        DomainDef a = domainDefFromLxcConfig(kBase);
        DomainDef b = domainDefFromLxcConfig(kBase);
        CPPUNIT_ASSERT(a.uuid != b.uuid);
        CPPUNIT_ASSERT(a.uuid != lxvirt::Uuid{});
    }

    void missingNameOrRootfsIsAnError()
    {
        // libvirt fails here without a message; we say what is missing.
        assertError("lxc.rootfs.path = /r\n", VIR_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: Missing lxc.uts.name (or legacy lxc.utsname) configuration");
        assertError(
            "lxc.utsname = n\n", VIR_ERR_CONFIG_UNSUPPORTED,
            "unsupported configuration: Missing lxc.rootfs.path (or legacy lxc.rootfs) configuration");
    }

    void syntaxErrorsNameTheLine()
    {
        assertError(kBase + "junk line here\n", VIR_ERR_CONF_SYNTAX,
                    "configuration file syntax error: memory conf:3: expecting an assignment");
        assertError(kBase + "\n# c\n9lxc.foo = 1\n", VIR_ERR_CONF_SYNTAX,
                    "configuration file syntax error: memory conf:5: expecting a name");
        assertError("lxc.foo-bar = 1\n", VIR_ERR_CONF_SYNTAX,
                    "configuration file syntax error: memory conf:1: expecting an assignment");
    }

    void badSizesAreRefusedWithLibvirtsMessages()
    {
        assertError(kBase + "lxc.mount.entry = tmpfs tmp tmpfs mode=1777 0 0\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: missing tmpfs size, set the size option");
        assertError(kBase + "lxc.mount.entry = tmpfs tmp tmpfs size=50% 0 0\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: can't convert relative size: '50%'");
        assertError(kBase + "lxc.mount.entry = tmpfs tmp tmpfs size=5Q 0 0\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to convert size: '5Q'");
        assertError(kBase + "lxc.cgroup.memory.limit_in_bytes = -1\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to convert size: '-1'");
        assertError(kBase + "lxc.cgroup.memory.limit_in_bytes = 99999999999E\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to convert size: '99999999999E'");
        assertError(kBase + "lxc.mount.entry = tmpfs tmp tmpfs\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: invalid lxc.mount.entry: 'tmpfs tmp tmpfs' "
                    "(expected: source target type options)");
    }

    void badNetworkSettingsAreRefused()
    {
        assertError(kBase + "lxc.net.0.type = veth\nlxc.net.0.ipv4.address = 10.0.0.1\n", VIR_ERR_INVALID_ARG,
                    "invalid argument: Invalid CIDR address: '10.0.0.1'");
        assertError(kBase + "lxc.network.type = veth\nlxc.network.ipv6 = zz::1/64\n", VIR_ERR_INVALID_ARG,
                    "invalid argument: Invalid CIDR address: 'zz::1/64'");
        assertError(kBase + "lxc.net.0.type = phys\n", VIR_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: Missing 'link' attribute for NIC");
        assertError(kBase + "lxc.net.0.type = macvlan\n", VIR_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: Missing 'link' attribute for NIC");
        assertError(kBase + "lxc.net.0.type = bogus\n", VIR_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: unsupported network type 'bogus'");
        assertError(kBase + "lxc.net.0.type = veth\nlxc.net.0.mtu = 1500\n", VIR_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: unhandled network property 'lxc.net.0.mtu'");
        assertError(kBase + "lxc.net.x.type = veth\n", VIR_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: invalid network key 'lxc.net.x.type': "
                    "expected lxc.net.<index>.<property>");
        assertError(kBase + "lxc.network.link = br0\n", VIR_ERR_CONFIG_UNSUPPORTED,
                    "unsupported configuration: 'lxc.network.link' comes before any lxc.network.type");
        assertError(kBase + "lxc.net.0.type = veth\nlxc.net.0.ipv4.gateway = 10.0.0.300\n", VIR_ERR_XML_ERROR,
                    "XML error: Domain interface: Bad gateway address '10.0.0.300' in route definition");
    }

    void badNumbersAreRefusedWithLibvirtsMessages()
    {
        assertError(kBase + "lxc.cgroup.cpu.shares = lots\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to parse integer: 'lots'");
        assertError(kBase + "lxc.cgroup.cpu.cfs_period_us = 100 \n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to parse integer: '100 '");
        assertError(kBase + "lxc.tty.max = two\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to parse int: 'two'");
        assertError(kBase + "lxc.cgroup.cpuset.cpus = 1-x\n", VIR_ERR_INVALID_ARG,
                    "invalid argument: Failed to parse bitmap '1-x'");
        assertError(kBase + "lxc.cgroup.cpuset.mems = 3-1\n", VIR_ERR_INVALID_ARG,
                    "invalid argument: Failed to parse bitmap '3-1'");
        assertError(kBase + "lxc.cgroup.blkio.weight = heavy\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to parse integer: 'heavy'");
    }

    void badIdmapAndBlkioLinesAreRefused()
    {
        assertError(kBase + "lxc.idmap = u 0 100000\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: invalid lxc.idmap: 'u 0 100000'");
        assertError(kBase + "lxc.id_map = x 0 100000 5\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: invalid lxc.id_map: 'x 0 100000 5'");
        assertError(kBase + "lxc.cgroup.blkio.device_weight = 8:0\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: invalid lxc.cgroup.blkio.device_weight value: '8:0'");
        assertError(kBase + "lxc.cgroup.blkio.device_weight = 8:0 x\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to parse device weight: 'x'");
        assertError(kBase + "lxc.cgroup.blkio.throttle.read_bps_device = 8:0 fast\n", VIR_ERR_INTERNAL_ERROR,
                    "internal error: failed to parse read_bps_device: 'fast'");
    }

    void arbitraryInputFailsOnlyWithLibvirtErrors()
    {
        // Mutations of the data files: every outcome is a definition or an
        // lxvirt::Error, never another exception, a crash or a hang.
        std::vector<std::string> seeds;
        for (const auto &entry : std::filesystem::directory_iterator(nativeDir()))
            if (entry.path().extension() == ".config")
                seeds.push_back(readText(entry.path().string()));
        std::sort(seeds.begin(), seeds.end());
        const std::string alphabet = " \t\n\r=#./-:%0123456789abcxyzKMGlxc.net.0.type";
        uint64_t state = 0x9e3779b97f4a7c15ULL;
        auto next = [&state]() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            return state;
        };
        size_t converted = 0, refused = 0;
        for (int round = 0; round < 3000; ++round) {
            std::string text = seeds[next() % seeds.size()];
            for (int m = 0, n = 1 + int(next() % 6); m < n && !text.empty(); ++m) {
                size_t at = next() % text.size();
                switch (next() % 3) {
                case 0:
                    text[at] = alphabet[next() % alphabet.size()];
                    break;
                case 1:
                    text.erase(at, 1 + next() % 8);
                    break;
                default:
                    text.insert(at, 1, alphabet[next() % alphabet.size()]);
                }
            }
            try {
                domainDefFromLxcConfig(text);
                ++converted;
            } catch (const lxvirt::Error &) {
                ++refused;
            }
        }
        CPPUNIT_ASSERT(converted > 0 && refused > 0);
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(NativeTest);
