// Parse + format throughput of a typical LXC domain definition on one core.
// A benchmark, not a test: prints domains/s (the target is >= 20,000/s).
//
//   bench/xml_bench [SECONDS] [FILE]
#include "xml/domain_xml.h"
#include "xml/error.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>

namespace {

const char* kTypical = R"(<domain type='lxc'>
  <name>bench-typical</name>
  <uuid>7d2b5e1a-0001-4c3e-9a1b-000000000001</uuid>
  <title>A typical container</title>
  <memory unit='MiB'>512</memory>
  <currentMemory unit='MiB'>256</currentMemory>
  <vcpu placement='static' cpuset='0-1'>2</vcpu>
  <cputune>
    <shares>1024</shares>
    <period>100000</period>
    <quota>50000</quota>
  </cputune>
  <memtune>
    <hard_limit unit='MiB'>512</hard_limit>
    <swap_hard_limit unit='MiB'>1024</swap_hard_limit>
  </memtune>
  <resource>
    <partition>/machine</partition>
  </resource>
  <os>
    <type arch='x86_64'>exe</type>
    <init>/sbin/init</init>
    <initarg>--log-level=info</initarg>
    <initenv name='LANG'>C.UTF-8</initenv>
  </os>
  <idmap>
    <uid start='0' target='100000' count='65536'/>
    <gid start='0' target='100000' count='65536'/>
  </idmap>
  <features>
    <privnet/>
    <capabilities policy='default'>
      <sys_module state='off'/>
    </capabilities>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/libexec/lxvirt/lxvirt-controller</emulator>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/var/lib/lxvirt/rootfs/typical'/>
      <target dir='/'/>
    </filesystem>
    <filesystem type='bind'>
      <source dir='/srv/shared'/>
      <target dir='/shared'/>
      <readonly/>
    </filesystem>
    <filesystem type='ram'>
      <source usage='65536'/>
      <target dir='/tmp'/>
    </filesystem>
    <interface type='bridge'>
      <mac address='52:54:00:12:34:56'/>
      <source bridge='virbr0'/>
      <ip address='192.168.122.10' prefix='24'/>
      <route address='0.0.0.0' prefix='0' gateway='192.168.122.1'/>
      <guest dev='eth0'/>
    </interface>
    <console type='pty'/>
  </devices>
  <seclabel type='dynamic' model='selinux'/>
</domain>
)";

} // namespace

int main(int argc, char** argv)
{
    double seconds = argc > 1 ? std::atof(argv[1]) : 2.0;
    std::string xml = kTypical;
    if (argc > 2) {
        std::ifstream in(argv[2]);
        std::ostringstream ss;
        ss << in.rdbuf();
        xml = ss.str();
    }
    try {
        // Warm up, and make sure the document is accepted at all.
        std::string out = lxvirt::formatDomainXml(lxvirt::parseDomainXml(xml));
        size_t bytes = 0;
        long n = 0;
        timespec c0{}, c1{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        auto t0 = std::chrono::steady_clock::now();
        auto deadline = t0 + std::chrono::duration<double>(seconds);
        std::chrono::steady_clock::time_point now;
        do {
            for (int i = 0; i < 256; i++) {
                out = lxvirt::formatDomainXml(lxvirt::parseDomainXml(xml));
                bytes += out.size();
            }
            n += 256;
            now = std::chrono::steady_clock::now();
        } while (now < deadline);
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        double secs = std::chrono::duration<double>(now - t0).count();
        double cpu = double(c1.tv_sec - c0.tv_sec) + double(c1.tv_nsec - c0.tv_nsec) / 1e9;
        // CPU time is what one core delivers; wall time also counts the time
        // other processes on a busy machine took the core away.
        std::printf("xml_bench: %ld parse+format round trips of a %zu-byte domain (%zu bytes out)\n", n,
                    xml.size(), bytes / n);
        std::printf("xml_bench: %.0f domains/s per CPU second (%.1f us each); %.0f domains/s wall clock\n",
                    n / cpu, cpu * 1e6 / n, n / secs);
    } catch (const lxvirt::Error& e) {
        std::fprintf(stderr, "xml_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
