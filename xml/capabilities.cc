// The <capabilities> document, laid out as libvirt 9.0's LXC driver prints
// it (compared line by line with `virsh capabilities` of the real driver):
// host uuid, cpu arch and page size, topology cells with memory and cpus,
// the security model, and one <guest> per supported arch. The LXC driver
// offers no migration and no host CPU model, so neither appears.
#include "xml/capabilities.h"
#include "xml/escape.h"

#include <sstream>

namespace lxvirt {

namespace {

// The 32-bit arch a 64-bit host also runs (lxcContainerGetAlt32bitArch);
// libvirt advertises it as a second guest.
const char *alt32BitArch(const std::string &arch)
{
    if (arch == "x86_64")
        return "i686";
    if (arch == "aarch64")
        return "armv7l";
    if (arch == "s390x")
        return "s390";
    if (arch == "ppc64")
        return "ppc";
    if (arch == "parisc64")
        return "parisc";
    if (arch == "sparc64")
        return "sparc";
    if (arch == "mips64")
        return "mips";
    if (arch == "mips64el")
        return "mipsel";
    return nullptr;
}

unsigned wordSize(const std::string &arch)
{
    static const char *const k64[] = {"x86_64",      "aarch64", "s390x",  "ppc64",    "ppc64le",
                                      "parisc64",    "sparc64", "mips64", "mips64el", "riscv64",
                                      "loongarch64", "alpha",   "ia64"};
    for (const char *a : k64)
        if (arch == a)
            return 64;
    return 32;
}

void formatGuest(std::ostringstream &os, const std::string &arch, const std::string &emulator)
{
    os << "  <guest>\n"
       << "    <os_type>exe</os_type>\n"
       << "    <arch name='" << xmlEscape(arch) << "'>\n"
       << "      <wordsize>" << wordSize(arch) << "</wordsize>\n"
       << "      <emulator>" << xmlEscape(emulator) << "</emulator>\n"
       << "      <domain type='lxc'/>\n"
       << "    </arch>\n"
       << "  </guest>\n\n";
}

} // namespace

std::string formatCapabilities(const HostCapabilities &caps)
{
    const unsigned threads = caps.threads ? caps.threads : 1;
    const unsigned cores = caps.cores ? caps.cores : 1;
    std::vector<unsigned> perCell = caps.cpus_per_cell;
    if (perCell.empty())
        perCell.push_back((caps.sockets ? caps.sockets : 1) * cores * threads);
    const unsigned cells = static_cast<unsigned>(perCell.size());
    constexpr unsigned kPageKiB = 4;

    std::ostringstream os;
    os << "<capabilities>\n\n"
       << "  <host>\n";
    if (!caps.uuid.empty())
        os << "    <uuid>" << xmlEscape(caps.uuid) << "</uuid>\n";
    os << "    <cpu>\n"
       << "      <arch>" << xmlEscape(caps.arch) << "</arch>\n"
       << "      <pages unit='KiB' size='" << kPageKiB << "'/>\n"
       << "    </cpu>\n"
       // No suspend targets: host power management is not ours to offer.
       << "    <power_management/>\n"
       << "    <topology>\n"
       << "      <cells num='" << cells << "'>\n";
    unsigned cpu = 0;
    for (unsigned cell = 0; cell < cells; ++cell) {
        // memory_kib is the host total; the model has no per-cell sizes.
        const unsigned long long mem = caps.memory_kib / cells;
        os << "        <cell id='" << cell << "'>\n"
           << "          <memory unit='KiB'>" << mem << "</memory>\n"
           << "          <pages unit='KiB' size='" << kPageKiB << "'>" << mem / kPageKiB << "</pages>\n";
        // Distances are only known for the single-cell case (local = 10).
        if (cells == 1)
            os << "          <distances>\n"
               << "            <sibling id='0' value='10'/>\n"
               << "          </distances>\n";
        os << "          <cpus num='" << perCell[cell] << "'>\n";
        for (unsigned i = 0; i < perCell[cell]; ++i, ++cpu) {
            // CPUs are numbered socket-major, then core, then thread.
            const unsigned socket = cpu / (cores * threads);
            const unsigned core = (cpu / threads) % cores;
            const unsigned first = cpu - cpu % threads;
            std::string siblings = std::to_string(first);
            if (threads > 1)
                siblings += "-" + std::to_string(first + threads - 1);
            os << "            <cpu id='" << cpu << "' socket_id='" << socket << "' die_id='0' core_id='"
               << core << "' siblings='" << siblings << "'/>\n";
        }
        os << "          </cpus>\n"
           << "        </cell>\n";
    }
    os << "      </cells>\n"
       << "    </topology>\n"
       << "    <secmodel>\n";
    const bool selinux = caps.secmodel == "selinux";
    os << "      <model>" << (selinux ? "selinux" : "none") << "</model>\n"
       << "      <doi>" << xmlEscape(caps.secmodel_doi.empty() ? "0" : caps.secmodel_doi) << "</doi>\n";
    if (selinux && !caps.baselabel.empty())
        os << "      <baselabel type='lxc'>" << xmlEscape(caps.baselabel) << "</baselabel>\n";
    os << "    </secmodel>\n"
       << "  </host>\n\n";

    formatGuest(os, caps.arch, caps.emulator);
    if (const char *alt = alt32BitArch(caps.arch))
        formatGuest(os, alt, caps.emulator);
    os << "</capabilities>\n";
    return os.str();
}

} // namespace lxvirt
