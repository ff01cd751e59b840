// Runs inside the VM tier (enforcing SELinux, refpolicy + lxvirt.pp): starts
// two real containers through the LXC driver (real runtime: lxvirt-controller,
// namespaces, pivot_root, cgroups; security_driver=selinux) from a busybox
// root file system, each with <seclabel type='dynamic' model='selinux'/>, and
// checks what sVirt promises for them: different dynamic labels on the two
// inits, root files relabelled to the matching image label, /dev mounted with
// context=, container A denied a file container B created in a directory both
// bind-mount, /etc/shadow-like host files denied, labels released and files
// restored after stop.
//
// Prints TAP ("ok N - ...") and a closing "N passed, N failed" line; exit 0
// only if every check passed.
//
//   svirt_container_check [CONTROLLER] [WORKDIR]
//       CONTROLLER  default /usr/libexec/lxvirt-vm/lxvirt-controller
//       WORKDIR     default /run/svirt-ct (a tmpfs mounted after the policy load)
#include "driver/lxc/driver.h"
#include "xml/error.h"

#include <glib.h>
#include <sched.h>
#include <selinux/selinux.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>

using namespace lxvirt;

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string &what, const std::string &detail = "")
{
    ++(ok ? passed : failed);
    printf("%s %d - %s\n", ok ? "ok" : "not ok", passed + failed, what.c_str());
    if (!detail.empty() && !ok)
        printf("# %s\n", detail.c_str());
    fflush(stdout);
}

std::string fileLabel(const std::string &path)
{
    char *con = nullptr;
    if (lgetfilecon_raw(path.c_str(), &con) < 0)
        return std::string("<") + strerror(errno) + ">";
    std::string s = con;
    freecon(con);
    return s;
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    while (!s.empty() && (s.back() == '\n' || s.back() == '\0'))
        s.pop_back();
    return s;
}

bool writeFile(const std::string &path, const std::string &text)
{
    std::ofstream out(path);
    out << text;
    return bool(out);
}

std::string xmlEscape(const std::string &s)
{
    std::string o;
    for (char c : s) {
        switch (c) {
        case '<': o += "&lt;"; break;
        case '>': o += "&gt;"; break;
        case '&': o += "&amp;"; break;
        case '\'': o += "&apos;"; break;
        default: o += c;
        }
    }
    return o;
}

// <label>X</label> from a live XML, "" if absent.
std::string element(const std::string &xml, const std::string &name)
{
    auto a = xml.find("<" + name + ">");
    if (a == std::string::npos)
        return "";
    a += name.size() + 2;
    auto b = xml.find("</" + name + ">", a);
    return b == std::string::npos ? "" : xml.substr(a, b - a);
}

// "...:s0:c1,c2" -> "s0:c1,c2"
std::string level(const std::string &ctx)
{
    size_t n = 0, pos = 0;
    while (n < 3 && (pos = ctx.find(':', pos)) != std::string::npos) {
        ++pos;
        ++n;
    }
    return n == 3 ? ctx.substr(pos) : "";
}

bool waitFor(const std::string &path, int seconds)
{
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < end) {
        if (access(path.c_str(), F_OK) == 0)
            return true;
        usleep(100000);
    }
    return false;
}

// Makes a busybox root: /bin/busybox + applet links, /etc/hostname.
bool makeRoot(const std::string &root)
{
    for (auto d : {"", "/bin", "/etc", "/proc", "/sys", "/dev", "/tmp", "/shared", "/hostetc"})
        mkdir((root + d).c_str(), 0755);
    std::ifstream in("/bin/busybox", std::ios::binary);
    std::ofstream out(root + "/bin/busybox", std::ios::binary);
    out << in.rdbuf();
    out.close();
    if (!out || chmod((root + "/bin/busybox").c_str(), 0755) < 0)
        return false;
    for (auto a : {"sh", "cat", "echo", "sleep", "touch", "test", "["})
        symlink("busybox", (root + "/bin/" + a).c_str());
    return writeFile(root + "/etc/hostname", "svirt\n");
}

std::string domainXml(const std::string &name, const std::string &root, const std::string &shared,
                      const std::string &hostetc, const std::string &script)
{
    return "<domain type='lxc'>\n"
           "  <name>" + name + "</name>\n"
           "  <memory unit='KiB'>65536</memory>\n"
           "  <os>\n    <type>exe</type>\n    <init>/bin/busybox</init>\n"
           "    <initarg>sh</initarg>\n    <initarg>-c</initarg>\n"
           "    <initarg>" + xmlEscape(script) + "</initarg>\n"
           "    <initenv name='PATH'>/bin</initenv>\n"
           "  </os>\n"
           "  <devices>\n"
           "    <filesystem type='mount'><source dir='" + root + "'/><target dir='/'/></filesystem>\n"
           "    <filesystem type='mount'><source dir='" + shared + "'/><target dir='/shared'/></filesystem>\n"
           "    <filesystem type='mount'><source dir='" + hostetc + "'/><target dir='/hostetc'/><readonly/></filesystem>\n"
           "    <console type='pty'/>\n"
           "  </devices>\n"
           "  <seclabel type='dynamic' model='selinux'/>\n"
           "</domain>\n";
}

} // namespace

int main(int argc, char **argv)
{
    std::string controller = argc > 1 ? argv[1] : "/usr/libexec/lxvirt-vm/lxvirt-controller";
    std::string work = argc > 2 ? argv[2] : "/run/svirt-ct";
    auto t0 = std::chrono::steady_clock::now();

    // The guest runs from the initramfs (rootfs), which pivot_root cannot
    // leave: run from a recursive bind of it in a private mount namespace,
    // as a booted system would run from its real root mount.
    mkdir("/ctroot", 0755);
    if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
        mount("/", "/ctroot", nullptr, MS_BIND | MS_REC, nullptr) < 0 || chdir("/ctroot") < 0 ||
        mount("/ctroot", "/", nullptr, MS_MOVE, nullptr) < 0 || chroot(".") < 0 || chdir("/") < 0)
        printf("# cannot leave the initramfs root: %s\n", strerror(errno));

    mkdir(work.c_str(), 0755);
    // cgroup v1 controllers, as on the development host.
    mkdir("/sys/fs/cgroup", 0755);
    if (mount("cgroup_root", "/sys/fs/cgroup", "tmpfs", 0, "mode=755") < 0 && errno != EBUSY)
        perror("mount /sys/fs/cgroup");
    for (auto c : {"memory", "cpu,cpuacct", "cpuset", "blkio", "devices", "freezer", "pids"}) {
        std::string dir = std::string("/sys/fs/cgroup/") + c;
        mkdir(dir.c_str(), 0755);
        if (mount("cgroup", dir.c_str(), "cgroup", 0, c) < 0)
            printf("# cgroup %s: %s\n", c, strerror(errno));
    }

    std::string rootA = work + "/rootA", rootB = work + "/rootB", shared = work + "/shared",
                hostetc = work + "/hostetc";
    mkdir(shared.c_str(), 0755);
    mkdir(hostetc.c_str(), 0755);
    writeFile(hostetc + "/shadow", "root:$6$secret:19000:0:99999:7:::\n");
    lsetfilecon_raw(hostetc.c_str(), "system_u:object_r:etc_t:s0");
    lsetfilecon_raw((hostetc + "/shadow").c_str(), "system_u:object_r:shadow_t:s0");
    check(makeRoot(rootA) && makeRoot(rootB), "busybox root file systems for A and B");
    std::string origLabel = fileLabel(rootA + "/bin/busybox");

    // The driver delivers container exits on the thread-default main context.
    std::atomic<bool> stop{false};
    GMainContext *ctx = g_main_context_default();
    std::thread loop([&] {
        while (!stop)
            g_main_context_iteration(ctx, TRUE);
    });

    lxc::DriverConfig cfg;
    cfg.config_dir = work + "/etc";
    cfg.paths.run_dir = work + "/run";
    cfg.paths.log_dir = work + "/log";
    cfg.paths.controller_binary = controller;
    cfg.paths.cgroup_root = "/sys/fs/cgroup";
    cfg.cgroup_partition = "/lxvirt-vm";
    cfg.security_driver = "selinux";
    cfg.run_autostart = false;

    auto finish = [&](int rc) {
        stop = true;
        g_main_context_wakeup(ctx);
        loop.join();
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        printf("# svirt_container_check: %.1fs\n", s);
        printf("%d passed, %d failed\n", passed, failed);
        return rc ? rc : (failed ? 1 : 0);
    };
    auto showLog = [&](const std::string &name) {
        std::string log = readFile(cfg.paths.log_dir + "/" + name + ".log");
        std::istringstream in(log);
        for (std::string line; std::getline(in, line);)
            printf("# log %s: %s\n", name.c_str(), line.c_str());
    };

    std::unique_ptr<DomainDriver> drv;
    try {
        drv = lxc::createDriver(cfg);
        check(drv->securityModel().model == "selinux" && drv->securityModel().doi == "0",
              "the driver reports security model selinux, doi 0");
        std::string caps = drv->capabilities();
        check(caps.find("<model>selinux</model>") != std::string::npos &&
                  caps.find("svirt_lxc_net_t") != std::string::npos,
              "capabilities carry the selinux secmodel and the svirt_lxc_net_t base label");
    } catch (const std::exception &e) {
        check(false, "the driver starts with security_driver=selinux", e.what());
        return finish(1);
    }

    // B writes a file into the shared directory; A waits for the go file,
    // then tries B's file, a shadow_t file and its own files.
    std::string scriptB = "echo secret-b > /shared/bfile; cat /proc/self/attr/current > /label; "
                          "touch /ready; exec sleep 100000";
    std::string scriptA = "while [ ! -e /go ]; do sleep 0.1; done; "
                          "cat /proc/self/attr/current > /label; "
                          "cat /etc/hostname > /own.out 2>&1; echo rc=$? >> /own.out; "
                          "cat /shared/bfile > /read.out 2>&1; echo rc=$? >> /read.out; "
                          "echo x 2> /write.out >> /shared/bfile; echo rc=$? >> /write.out; "
                          "cat /hostetc/shadow > /shadow.out 2>&1; echo rc=$? >> /shadow.out; "
                          "touch /done; exec sleep 100000";
    DomainRef a, b;
    try {
        a = drv->defineXml(domainXml("svirt-a", rootA, shared, hostetc, scriptA), 0);
        b = drv->defineXml(domainXml("svirt-b", rootB, shared, hostetc, scriptB), 0);
        check(true, "two domains with <seclabel type='dynamic' model='selinux'/> define");
    } catch (const std::exception &e) {
        check(false, "two domains with <seclabel type='dynamic' model='selinux'/> define", e.what());
        return finish(1);
    }
    try {
        drv->create(a, 0);
        check(true, "container A starts");
    } catch (const std::exception &e) {
        check(false, "container A starts", e.what());
        showLog("svirt-a");
        return finish(1);
    }
    try {
        drv->create(b, 0);
        check(true, "container B starts");
    } catch (const std::exception &e) {
        check(false, "container B starts", e.what());
        showLog("svirt-b");
        drv->destroy(a, 0);
        return finish(1);
    }

    std::string xa = drv->getXmlDesc(a, 0), xb = drv->getXmlDesc(b, 0);
    std::string la = element(xa, "label"), lb = element(xb, "label");
    std::string ia = element(xa, "imagelabel"), ib = element(xb, "imagelabel");
    check(la.find(":svirt_lxc_net_t:s0:c") != std::string::npos && lb.find(":svirt_lxc_net_t:s0:c") != std::string::npos,
          "the live XML of A and B shows dynamic svirt_lxc_net_t labels", la + " / " + lb);
    check(!la.empty() && level(la) != level(lb), "A and B got different category pairs", la + " / " + lb);
    check(ia.find(":svirt_sandbox_file_t:") != std::string::npos && level(ia) == level(la) && level(ib) == level(lb),
          "each image label carries its process label's pair", ia + " / " + ib);

    SecurityLabel sa = drv->getSecurityLabel(a), sb = drv->getSecurityLabel(b);
    check(sa.label == la && sb.label == lb && sa.enforcing == 1,
          "getSecurityLabel reports each init's label, enforcing", sa.label + " / " + sb.label);
    // The inits seen from the host: the controller's child.
    std::string initA = readFile("/proc/" + std::to_string(drv->lookupByName("svirt-a").id) + "/task/" +
                                 std::to_string(drv->lookupByName("svirt-a").id) + "/children");
    std::string initB = readFile("/proc/" + std::to_string(drv->lookupByName("svirt-b").id) + "/task/" +
                                 std::to_string(drv->lookupByName("svirt-b").id) + "/children");
    while (!initA.empty() && initA.back() == ' ')
        initA.pop_back();
    while (!initB.empty() && initB.back() == ' ')
        initB.pop_back();
    check(readFile("/proc/" + initA + "/attr/current") == la && readFile("/proc/" + initB + "/attr/current") == lb,
          "/proc/INITPID/attr/current of A and B are their labels",
          initA + ":" + readFile("/proc/" + initA + "/attr/current") + " " + initB + ":" +
              readFile("/proc/" + initB + "/attr/current"));
    check(fileLabel("/proc/" + initA + "/root/dev") == ia && fileLabel("/proc/" + initA + "/root/dev/pts") == ia,
          "A's /dev tmpfs and devpts are mounted with context=<imagelabel>",
          fileLabel("/proc/" + initA + "/root/dev") + " / " + fileLabel("/proc/" + initA + "/root/dev/pts"));
    check(waitFor(rootB + "/ready", 30), "container B ran its script");
    check(readFile(rootB + "/label") == lb, "B's init runs as its label (/proc/self/attr/current)",
          readFile(rootB + "/label"));
    check(fileLabel(rootA + "/bin/busybox") == ia && fileLabel(rootB + "/etc/hostname") == ib,
          "relabel: the root files carry the matching image labels",
          fileLabel(rootA + "/bin/busybox") + " / " + fileLabel(rootB + "/etc/hostname"));
    check(getxattr((rootA + "/bin/busybox").c_str(), "trusted.lxvirt.selinux", nullptr, 0) > 0,
          "relabel remembers the original label in trusted.lxvirt.selinux");
    check(fileLabel(shared + "/bfile") == ib, "the file B created in the shared directory carries B's label",
          fileLabel(shared + "/bfile"));

    writeFile(rootA + "/go", "");
    check(waitFor(rootA + "/done", 30), "container A ran its script");
    check(readFile(rootA + "/label") == la, "A's init runs as its label (/proc/self/attr/current)",
          readFile(rootA + "/label"));
    std::string own = readFile(rootA + "/own.out");
    check(own.find("svirt") != std::string::npos && own.find("rc=0") != std::string::npos,
          "A reads its own files", own);
    std::string rd = readFile(rootA + "/read.out"), wr = readFile(rootA + "/write.out"),
                sh = readFile(rootA + "/shadow.out");
    check(rd.find("Permission denied") != std::string::npos && rd.find("rc=0") == std::string::npos,
          "A cannot read the file B created in the shared directory (EACCES)", rd);
    check(wr.find("Permission denied") != std::string::npos && wr.find("rc=0") == std::string::npos,
          "A cannot write the file B created in the shared directory (EACCES)", wr);
    check(readFile(shared + "/bfile") == "secret-b", "B's file is unchanged");
    check(sh.find("Permission denied") != std::string::npos && sh.find("rc=0") == std::string::npos,
          "A cannot read a shadow_t file (EACCES)", sh);

    try {
        drv->destroy(a, 0);
        drv->destroy(b, 0);
        check(true, "A and B stop");
    } catch (const std::exception &e) {
        check(false, "A and B stop", e.what());
    }
    std::string xa2 = drv->getXmlDesc(a, 0);
    check(element(xa2, "label").empty() && element(xa2, "imagelabel").empty(),
          "after stop the generated labels are gone from the definition");
    check(fileLabel(rootA + "/bin/busybox") == origLabel &&
              getxattr((rootA + "/bin/busybox").c_str(), "trusted.lxvirt.selinux", nullptr, 0) < 0,
          "after stop the root files have their original label back and no xattr",
          fileLabel(rootA + "/bin/busybox") + " vs " + origLabel);
    // The released pair can be drawn again: restart A, it runs confined.
    try {
        unlink((rootA + "/done").c_str());
        drv->create(a, 0);
        std::string l2 = element(drv->getXmlDesc(a, 0), "label");
        check(!l2.empty() && drv->getSecurityLabel(a).label == l2, "A starts again with a dynamic label after the release", l2);
        drv->destroy(a, 0);
    } catch (const std::exception &e) {
        check(false, "A starts again with a dynamic label after the release", e.what());
    }
    drv->undefine(a, 0);
    drv->undefine(b, 0);
    drv.reset();
    return finish(0);
}
