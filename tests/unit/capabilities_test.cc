// <capabilities>: exact layout against documents taken from libvirt's LXC
// driver, libvirt's RelaxNG schema, what virt-manager looks up, and the
// live host probe (real host and a fake sysfs tree).
#include "driver/host/host_probe.h"
#include "tests/unit/tap.h"
#include "xml/capabilities.h"
#include "xml/error.h"

#include <cppunit/extensions/HelperMacros.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace fs = std::filesystem;
using lxvirt::HostCapabilities;

namespace {

std::string readText(const std::string &path)
{
    std::ifstream in(path);
    if (!in)
        throw std::runtime_error("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string dataFile(const std::string &name)
{
    return lxvirt::test::srcDir() + "/tests/capabilities/" + name;
}

// The host the peer libvirt (9.0, LXC driver) described; its document is
// tests/capabilities/x86_64-none.xml with the uuid fixed and the 2 MiB
// hugepage and <iommu> lines removed (we do not probe either).
HostCapabilities peerHost()
{
    HostCapabilities caps;
    caps.uuid = "5d3c8b1e-7f42-4a9e-b1c6-2e8f0a7d9c31";
    caps.arch = "x86_64";
    caps.sockets = 1;
    caps.cores = 2;
    caps.threads = 1;
    caps.cells = 1;
    caps.cpus_per_cell = {2};
    caps.memory_kib = 5072672;
    caps.secmodel = "none";
    caps.secmodel_doi = "0";
    caps.emulator = "/usr/lib/libvirt/libvirt_lxc";
    return caps;
}

HostCapabilities selinuxNumaHost()
{
    HostCapabilities caps;
    caps.uuid = "0f6e2d4c-1a3b-4c5d-8e7f-9a0b1c2d3e4f";
    caps.arch = "aarch64";
    caps.sockets = 2;
    caps.cores = 2;
    caps.threads = 2;
    caps.cells = 2;
    caps.cpus_per_cell = {4, 4};
    caps.memory_kib = 16777216;
    caps.secmodel = "selinux";
    caps.secmodel_doi = "0";
    caps.baselabel = "system_u:system_r:svirt_lxc_net_t:s0";
    caps.emulator = "/usr/libexec/lxvirt/lxvirt-controller";
    return caps;
}

struct TempDir {
    std::string path;
    TempDir()
    {
        char tmpl[] = "/tmp/xmlextra-caps-XXXXXX";
        if (!mkdtemp(tmpl))
            throw std::runtime_error("mkdtemp failed");
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    void write(const std::string &rel, const std::string &text) const
    {
        fs::path p = fs::path(path) / rel;
        fs::create_directories(p.parent_path());
        std::ofstream(p) << text;
    }
};

bool haveValidator()
{
    return std::system("command -v virt-xml-validate >/dev/null 2>&1") == 0;
}

void assertValidates(const std::string &xml)
{
    TempDir dir;
    dir.write("caps.xml", xml);
    std::string cmd = "virt-xml-validate " + dir.path + "/caps.xml capability >" + dir.path + "/out 2>&1";
    int rc = std::system(cmd.c_str());
    CPPUNIT_ASSERT_MESSAGE("virt-xml-validate rejected:\n" + readText(dir.path + "/out") + "\n" + xml,
                           rc == 0);
}

// XPath string value of `expr` in `xml`, the way virt-manager's
// capabilities parser reads it.
std::string xpath(const std::string &xml, const std::string &expr)
{
    std::unique_ptr<xmlDoc, decltype(&xmlFreeDoc)> doc(
        xmlReadMemory(xml.data(), static_cast<int>(xml.size()), "caps.xml", nullptr, XML_PARSE_NONET),
        xmlFreeDoc);
    CPPUNIT_ASSERT_MESSAGE("document does not parse", doc != nullptr);
    std::unique_ptr<xmlXPathContext, decltype(&xmlXPathFreeContext)> ctx(xmlXPathNewContext(doc.get()),
                                                                         xmlXPathFreeContext);
    std::unique_ptr<xmlXPathObject, decltype(&xmlXPathFreeObject)> res(
        xmlXPathEvalExpression(reinterpret_cast<const xmlChar *>(("string(" + expr + ")").c_str()),
                               ctx.get()),
        xmlXPathFreeObject);
    CPPUNIT_ASSERT(res != nullptr);
    return res->stringval ? reinterpret_cast<const char *>(res->stringval) : "";
}

} // namespace

class CapabilitiesTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CapabilitiesTest);
    CPPUNIT_TEST(aFixedHostFormatsExactlyAsLibvirtsLxcDriver);
    CPPUNIT_TEST(anSelinuxNumaHostFormatsItsBaseLabelAndEveryCell);
    CPPUNIT_TEST(formattedDocumentsValidateWithLibvirtsSchema);
    CPPUNIT_TEST(virtManagerFindsTheGuestsItLooksFor);
    CPPUNIT_TEST(textIsEscaped);
    CPPUNIT_TEST(theLiveProbeFillsSaneValues);
    CPPUNIT_TEST(theLiveProbeDocumentValidates);
    CPPUNIT_TEST(theProbeReadsTopologyCellsAndMemoryFromSysfs);
    CPPUNIT_TEST(theProbeFallsBackToCpuinfoAndMeminfoWithoutSysfs);
    CPPUNIT_TEST(theHostUuidPrefersRealFirmwareUuidOverMachineId);
    CPPUNIT_TEST_SUITE_END();

public:
    void aFixedHostFormatsExactlyAsLibvirtsLxcDriver()
    {
        CPPUNIT_ASSERT_EQUAL(readText(dataFile("x86_64-none.xml")), lxvirt::formatCapabilities(peerHost()));
    }

    void anSelinuxNumaHostFormatsItsBaseLabelAndEveryCell()
    {
        CPPUNIT_ASSERT_EQUAL(readText(dataFile("aarch64-selinux-numa.xml")),
                             lxvirt::formatCapabilities(selinuxNumaHost()));
    }

    void formattedDocumentsValidateWithLibvirtsSchema()
    {
        if (!haveValidator())
            throw lxvirt::test::Skip("virt-xml-validate not installed (Debian package libvirt-clients)");
        assertValidates(lxvirt::formatCapabilities(peerHost()));
        assertValidates(lxvirt::formatCapabilities(selinuxNumaHost()));
    }

    void virtManagerFindsTheGuestsItLooksFor()
    {
        std::string xml = lxvirt::formatCapabilities(peerHost());
        CPPUNIT_ASSERT_EQUAL(std::string("x86_64"), xpath(xml, "/capabilities/host/cpu/arch"));
        CPPUNIT_ASSERT_EQUAL(std::string("none"), xpath(xml, "/capabilities/host/secmodel/model"));
        CPPUNIT_ASSERT_EQUAL(std::string("/usr/lib/libvirt/libvirt_lxc"),
                             xpath(xml, "/capabilities/guest[os_type='exe']/arch[@name='x86_64']/emulator"));
        CPPUNIT_ASSERT_EQUAL(
            std::string("lxc"),
            xpath(xml, "/capabilities/guest[os_type='exe']/arch[@name='i686']/domain/@type"));
        CPPUNIT_ASSERT_EQUAL(std::string("2"), xpath(xml, "count(/capabilities/guest)"));
        CPPUNIT_ASSERT_EQUAL(std::string("2"),
                             xpath(xml, "/capabilities/host/topology/cells/cell/cpus/@num"));

        std::string se = lxvirt::formatCapabilities(selinuxNumaHost());
        CPPUNIT_ASSERT_EQUAL(std::string("system_u:system_r:svirt_lxc_net_t:s0"),
                             xpath(se, "/capabilities/host/secmodel/baselabel[@type='lxc']"));
    }

    void textIsEscaped()
    {
        HostCapabilities caps = peerHost();
        caps.emulator = "/opt/a&b/<ctl>";
        std::string xml = lxvirt::formatCapabilities(caps);
        CPPUNIT_ASSERT(xml.find("<emulator>/opt/a&amp;b/&lt;ctl&gt;</emulator>") != std::string::npos);
        CPPUNIT_ASSERT_EQUAL(caps.emulator, xpath(xml, "/capabilities/guest[1]/arch/emulator"));
    }

    void theLiveProbeFillsSaneValues()
    {
        lxvirt::host::ProbeOptions opts;
        opts.emulator = "/usr/libexec/lxvirt/lxvirt-controller";
        HostCapabilities caps = lxvirt::host::probeHostCapabilities(opts);

        struct utsname u {};
        CPPUNIT_ASSERT_EQUAL(0, uname(&u));
        std::string machine = u.machine;
        if (machine == "x86_64" || machine == "aarch64")
            CPPUNIT_ASSERT_EQUAL(machine, caps.arch);
        CPPUNIT_ASSERT(!caps.arch.empty());

        CPPUNIT_ASSERT(caps.cells >= 1);
        CPPUNIT_ASSERT_EQUAL(size_t(caps.cells), caps.cpus_per_cell.size());
        unsigned total = 0;
        for (unsigned n : caps.cpus_per_cell)
            total += n;
        CPPUNIT_ASSERT_EQUAL(static_cast<long>(total), sysconf(_SC_NPROCESSORS_ONLN));
        CPPUNIT_ASSERT(caps.sockets >= 1 && caps.cores >= 1 && caps.threads >= 1);
        CPPUNIT_ASSERT(caps.sockets * caps.cores * caps.threads >= total);

        // Between 16 MiB and what the kernel reports as physical memory.
        const unsigned long long physKiB =
            static_cast<unsigned long long>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 1024;
        CPPUNIT_ASSERT(caps.memory_kib > 16 * 1024);
        CPPUNIT_ASSERT(caps.memory_kib <= physKiB + 1024);

        if (!caps.uuid.empty())
            CPPUNIT_ASSERT_EQUAL(size_t(36), caps.uuid.size());
        CPPUNIT_ASSERT_EQUAL(std::string("none"), caps.secmodel);
        CPPUNIT_ASSERT_EQUAL(opts.emulator, caps.emulator);
    }

    void theLiveProbeDocumentValidates()
    {
        if (!haveValidator())
            throw lxvirt::test::Skip("virt-xml-validate not installed (Debian package libvirt-clients)");
        lxvirt::host::ProbeOptions opts;
        opts.emulator = "/usr/libexec/lxvirt/lxvirt-controller";
        assertValidates(lxvirt::formatCapabilities(lxvirt::host::probeHostCapabilities(opts)));
    }

    void theProbeReadsTopologyCellsAndMemoryFromSysfs()
    {
        // 2 packages x 2 cores x 2 threads, one NUMA node per package,
        // cpu 7 offline.
        TempDir root;
        root.write("sys/devices/system/cpu/online", "0-6\n");
        for (int cpu = 0; cpu < 8; ++cpu) {
            std::string t = "sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
            root.write(t + "physical_package_id", std::to_string(cpu / 4) + "\n");
            root.write(t + "core_id", std::to_string((cpu / 2) % 2) + "\n");
            int first = cpu - cpu % 2;
            root.write(t + "thread_siblings_list",
                       std::to_string(first) + "-" + std::to_string(first + 1) + "\n");
        }
        root.write("sys/devices/system/node/node0/cpulist", "0-3\n");
        root.write("sys/devices/system/node/node0/meminfo",
                   "Node 0 MemTotal:        4194304 kB\nNode 0 MemFree: 1 kB\n");
        root.write("sys/devices/system/node/node1/cpulist", "4-7\n");
        root.write("sys/devices/system/node/node1/meminfo", "Node 1 MemTotal:        2097152 kB\n");
        root.write("sys/devices/system/node/online", "0-1\n"); // not a node dir
        root.write("etc/machine-id", "3D1219C7C4C5404AAA1F6D2A48ADFDA4\n");

        lxvirt::host::ProbeOptions opts;
        opts.root = root.path;
        opts.emulator = "/x/ctl";
        HostCapabilities caps = lxvirt::host::probeHostCapabilities(opts);
        CPPUNIT_ASSERT_EQUAL(2u, caps.sockets);
        CPPUNIT_ASSERT_EQUAL(2u, caps.cores);
        CPPUNIT_ASSERT_EQUAL(2u, caps.threads);
        CPPUNIT_ASSERT_EQUAL(2u, caps.cells);
        CPPUNIT_ASSERT(caps.cpus_per_cell == std::vector<unsigned>({4, 3}));
        CPPUNIT_ASSERT_EQUAL(6291456ULL, caps.memory_kib);
        CPPUNIT_ASSERT_EQUAL(std::string("3d1219c7-c4c5-404a-aa1f-6d2a48adfda4"), caps.uuid);
    }

    void theProbeFallsBackToCpuinfoAndMeminfoWithoutSysfs()
    {
        TempDir root;
        root.write("proc/cpuinfo", "processor\t: 0\nmodel name\t: X\n\nprocessor\t: 1\n\nprocessor\t: 2\n");
        root.write("proc/meminfo", "MemTotal:       1048576 kB\nMemFree:  5 kB\n");
        lxvirt::host::ProbeOptions opts;
        opts.root = root.path;
        opts.host_uuid = "8e9f2a6b-3c4d-4e5f-a6b7-c8d9e0f1a2b3";
        HostCapabilities caps = lxvirt::host::probeHostCapabilities(opts);
        CPPUNIT_ASSERT_EQUAL(1u, caps.cells);
        CPPUNIT_ASSERT(caps.cpus_per_cell == std::vector<unsigned>({3}));
        CPPUNIT_ASSERT_EQUAL(1048576ULL, caps.memory_kib);
        CPPUNIT_ASSERT_EQUAL(1u, caps.sockets);
        CPPUNIT_ASSERT_EQUAL(3u, caps.cores);
        CPPUNIT_ASSERT_EQUAL(opts.host_uuid, caps.uuid);

        TempDir empty;
        opts.root = empty.path;
        CPPUNIT_ASSERT_THROW(lxvirt::host::probeHostCapabilities(opts), lxvirt::Error);
    }

    void theHostUuidPrefersRealFirmwareUuidOverMachineId()
    {
        TempDir root;
        root.write("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        root.write("sys/class/dmi/id/product_uuid", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF\n");
        // A firmware placeholder is no identity: machine-id wins.
        CPPUNIT_ASSERT_EQUAL(std::string("01234567-89ab-cdef-0123-456789abcdef"),
                             lxvirt::host::probeHostUuid(root.path));
        root.write("sys/class/dmi/id/product_uuid", "4C4C4544-0042-3510-8052-B4C04F4E3632\n");
        CPPUNIT_ASSERT_EQUAL(std::string("4c4c4544-0042-3510-8052-b4c04f4e3632"),
                             lxvirt::host::probeHostUuid(root.path));
        TempDir empty;
        CPPUNIT_ASSERT_EQUAL(std::string(), lxvirt::host::probeHostUuid(empty.path));
    }
};
CPPUNIT_TEST_SUITE_REGISTRATION(CapabilitiesTest);
