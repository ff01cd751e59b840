// Runs inside the VM tier (enforcing SELinux, refpolicy + lxvirt.pp): starts
// two real containers through the LXC driver (real runtime: lxvirt-controller,
// namespaces, pivot_root, cgroups; security_driver=selinux) from a busybox
// root file system, each with <seclabel type='dynamic' model='selinux'/>, and
// checks what sVirt promises for them: the production domain chain
// virtd_t -> virtd_lxc_t -> svirt_lxc_net_t:s0:cA,cB, different dynamic
// labels on the two inits, the controller's monitor socket carrying the
// container's label, root files relabelled to the matching image label, /dev
// mounted with context=, container A denied a file container B created in a
// directory both bind-mount, /etc/shadow-like host files denied, labels
// released and files restored after stop.
//
// Two stages in one program:
//   harness (started as kernel_t by the guest's init): leaves the initramfs,
//     mounts cgroups and labelled tmpfs for lxvirt's installed paths, stages
//     the controller at /usr/libexec/lxvirt/lxvirt-controller and a copy of
//     this program, both labelled as file_contexts says (virtd_lxc_exec_t and
//     lxvirtd's virtd_exec_t), prepares the container roots, then execs the
//     copy with --daemon;
//   daemon (virtd_t by that exec, as lxvirtd): the checks, through the LXC
//     driver; the driver execs the controller, which becomes virtd_lxc_t.
//
// Prints TAP ("ok N - ...") and a closing "N passed, N failed" line; exit 0
// only if every check passed.
//
//   svirt_container_check [CONTROLLER] [WORKDIR]
//       CONTROLLER  default /usr/libexec/lxvirt-vm/lxvirt-controller (copied
//                   to the installed path)
//       WORKDIR     default /var/lib/libvirt/images/svirt-ct (a labelled tmpfs)
#include "driver/lxc/driver.h"
#include "driver/security/socket_label.h"
#include "xml/error.h"

#include <glib.h>
#include <sched.h>
#include <selinux/label.h>
#include <selinux/selinux.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <dirent.h>
#include <string>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <thread>
#include <unistd.h>
#include <vector>

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

// "user:role:type:range" -> type
std::string typeOf(const std::string &ctx)
{
    auto a = ctx.find(':'), b = a == std::string::npos ? a : ctx.find(':', a + 1);
    auto c = b == std::string::npos ? b : ctx.find(':', b + 1);
    return c == std::string::npos ? "" : ctx.substr(b + 1, c - b - 1);
}

// ------------------------------------------------------------ harness stage

// The label file_contexts gives PATH (what restorecon would set), "" if none.
std::string fcLabel(const std::string &path, mode_t mode)
{
    static selabel_handle *h = selabel_open(SELABEL_CTX_FILE, nullptr, 0);
    char *con = nullptr;
    if (!h || selabel_lookup_raw(h, &con, path.c_str(), int(mode)) < 0)
        return "";
    std::string s = con;
    freecon(con);
    return s;
}

// mkdir -p PATH and give it its file_contexts label.
bool makeLabelledDir(const std::string &path)
{
    mkdir(path.c_str(), 0755);
    std::string con = fcLabel(path, S_IFDIR);
    return !con.empty() && lsetfilecon_raw(path.c_str(), con.c_str()) == 0;
}

// A fresh tmpfs on PATH labelled as file_contexts says (the initramfs root
// takes no labels; a booted system has them from its installation).
bool labelledTmpfs(const std::string &path)
{
    for (size_t pos = 1; (pos = path.find('/', pos)) != std::string::npos; ++pos)
        mkdir(path.substr(0, pos).c_str(), 0755);
    mkdir(path.c_str(), 0755);
    return mount("tmpfs", path.c_str(), "tmpfs", 0, "mode=0755") == 0 && makeLabelledDir(path);
}

// Copies an executable to PATH and labels it from file_contexts as LIKE.
std::string stageBinary(const std::string &from, const std::string &path, const std::string &like)
{
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(path, std::ios::binary);
    out << in.rdbuf();
    out.close();
    std::string con = fcLabel(like, S_IFREG);
    if (!out || chmod(path.c_str(), 0755) < 0 || con.empty() || lsetfilecon_raw(path.c_str(), con.c_str()) < 0)
        return "";
    return fileLabel(path);
}

const char *const kControllerPath = "/usr/libexec/lxvirt/lxvirt-controller";

// Runs as kernel_t: what an installed, booted system provides before lxvirtd
// starts (mounts, labelled directories and binaries) and what an admin
// prepares (container roots). Then execs the staged copy of this program,
// which the kernel starts in virtd_t.
int harness(const std::string &self, const std::string &controller, const std::string &work)
{
    // The guest runs from the initramfs (rootfs), which pivot_root cannot
    // leave: run from a recursive bind of it in a private mount namespace,
    // as a booted system would run from its real root mount.
    mkdir("/ctroot", 0755);
    if (unshare(CLONE_NEWNS) < 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
        mount("/", "/ctroot", nullptr, MS_BIND | MS_REC, nullptr) < 0 || chdir("/ctroot") < 0 ||
        mount("/ctroot", "/", nullptr, MS_MOVE, nullptr) < 0 || chroot(".") < 0 || chdir("/") < 0)
        printf("# cannot leave the initramfs root: %s\n", strerror(errno));

    // cgroup v1 controllers, as on the development host, under a cgroup_t
    // tmpfs (systemd labels /sys/fs/cgroup so).
    mkdir("/sys/fs/cgroup", 0755);
    if (mount("cgroup_root", "/sys/fs/cgroup", "tmpfs", 0, "mode=755") < 0 && errno != EBUSY)
        perror("mount /sys/fs/cgroup");
    lsetfilecon_raw("/sys/fs/cgroup", "system_u:object_r:cgroup_t:s0");
    for (auto c : {"memory", "cpu,cpuacct", "cpuset", "blkio", "devices", "freezer", "pids"}) {
        std::string dir = std::string("/sys/fs/cgroup/") + c;
        mkdir(dir.c_str(), 0755);
        if (mount("cgroup", dir.c_str(), "cgroup", 0, c) < 0)
            printf("# cgroup %s: %s\n", c, strerror(errno));
    }

    // lxvirt's installed paths with the labels selinux-policy/lxvirt.fc
    // gives them; the container roots under libvirt's image directory.
    bool dirs = labelledTmpfs("/etc/lxvirt") && makeLabelledDir("/etc/lxvirt/lxc") &&
                makeLabelledDir("/run/lxvirt") && makeLabelledDir("/run/lxvirt/lxc") &&
                labelledTmpfs("/var/log") && makeLabelledDir("/var/log/lxvirt") &&
                makeLabelledDir("/var/log/lxvirt/lxc") && labelledTmpfs("/usr/libexec/lxvirt") &&
                labelledTmpfs("/var/lib/libvirt/images") && mkdir(work.c_str(), 0755) == 0;
    dirs = dirs && typeOf(fileLabel("/run/lxvirt/lxc")) == "virtd_lxc_runtime_t" &&
           typeOf(fileLabel("/var/log/lxvirt/lxc")) == "virt_log_t" &&
           typeOf(fileLabel("/etc/lxvirt/lxc")) == "virt_etc_rw_t" &&
           typeOf(fileLabel("/var/lib/libvirt/images")) == "virt_image_t";
    check(dirs, "lxvirt's directories carry their file_contexts labels (lxvirt.fc)",
          fileLabel("/run/lxvirt/lxc") + " " + fileLabel("/var/log/lxvirt/lxc") + " " + fileLabel("/etc/lxvirt/lxc"));
    // The copy of this program sits next to the controller: /usr/sbin is on
    // the initramfs root, which takes no labels.
    std::string staged = "/usr/libexec/lxvirt/svirt_container_check";
    std::string daemonExec = stageBinary(self, staged, "/usr/sbin/lxvirtd");
    std::string controllerExec = stageBinary(controller, kControllerPath, kControllerPath);
    check(daemonExec.find(":virtd_exec_t:") != std::string::npos &&
              controllerExec.find(":virtd_lxc_exec_t:") != std::string::npos,
          "the daemon side is labelled virtd_exec_t, lxvirt-controller virtd_lxc_exec_t (lxvirt.fc)",
          daemonExec + " / " + controllerExec);

    std::string rootA = work + "/rootA", rootB = work + "/rootB", shared = work + "/shared",
                hostetc = work + "/hostetc";
    mkdir(shared.c_str(), 0755);
    mkdir(hostetc.c_str(), 0755);
    writeFile(hostetc + "/shadow", "root:$6$secret:19000:0:99999:7:::\n");
    lsetfilecon_raw(hostetc.c_str(), "system_u:object_r:etc_t:s0");
    lsetfilecon_raw((hostetc + "/shadow").c_str(), "system_u:object_r:shadow_t:s0");
    check(makeRoot(rootA) && makeRoot(rootB), "busybox root file systems for A and B",
          fileLabel(rootA + "/bin/busybox"));

    setenv("SVIRT_CT_PASSED", std::to_string(passed).c_str(), 1);
    setenv("SVIRT_CT_FAILED", std::to_string(failed).c_str(), 1);
    const char *argv[] = {staged.c_str(), "--daemon", kControllerPath, work.c_str(), nullptr};
    execv(staged.c_str(), const_cast<char **>(argv));
    check(false, "the staged check program starts", staged + ": " + strerror(errno));
    printf("%d passed, %d failed\n", passed, failed);
    return 1;
}

std::string parentOf(const std::string &pid)
{
    std::string st = readFile("/proc/" + pid + "/status");
    size_t at = st.find("PPid:\t");
    return at == std::string::npos ? "" : st.substr(at + 6, st.find('\n', at) - at - 6);
}

bool isZygote(const std::string &pid)
{
    std::string cmd = readFile("/proc/" + pid + "/cmdline");
    return cmd.find("lxvirt-controller") != std::string::npos &&
           cmd.find(std::string("\0--zygote-fd\0", 13)) != std::string::npos;
}

// A waiting standby (blank --name) whose parent is the zygote.
bool zygoteStandbyReady()
{
    DIR *d = opendir("/proc");
    bool found = false;
    while (dirent *e = d ? readdir(d) : nullptr) {
        if (!isdigit(static_cast<unsigned char>(e->d_name[0])))
            continue;
        std::string cmd = readFile(std::string("/proc/") + e->d_name + "/cmdline");
        size_t at = cmd.find(std::string("\0--name\0 ", 9));
        if (cmd.find("lxvirt-controller") != std::string::npos && at != std::string::npos &&
            isZygote(parentOf(e->d_name)) && !isZygote(e->d_name)) {
            found = true;
            break;
        }
    }
    if (d)
        closedir(d);
    return found;
}

// The pid of `lxvirt-controller --name NAME`, 0 if none.
pid_t findController(const std::string &name)
{
    DIR *d = opendir("/proc");
    if (!d)
        return 0;
    pid_t found = 0;
    while (dirent *e = readdir(d)) {
        if (!isdigit(static_cast<unsigned char>(e->d_name[0])))
            continue;
        std::string cmd = readFile(std::string("/proc/") + e->d_name + "/cmdline");
        // argv[0] is the full path; somewhere after it comes --name NAME (a
        // controller that was the daemon's standby has NUL padding after NAME).
        std::string want = std::string(1, '\0') + "--name" + '\0' + name + '\0';
        auto slash = cmd.find("lxvirt-controller");
        if (slash != std::string::npos && (cmd + '\0').find(want, slash) != std::string::npos) {
            found = atoi(e->d_name);
            break;
        }
    }
    closedir(d);
    return found;
}

// Connects to a controller's monitor socket and returns the peer's label
// (getpeercon), or "<error>". With `label`, the client socket is created
// with it, as libvirt's daemon does for its connection to the controller:
// the server side of a unix connection takes the listener's type but the
// connecting socket's MCS level.
std::string monitorPeerLabel(const std::string &path, const std::string &label = "")
{
    int fd;
    try {
        security::ScopedSocketCreateLabel scoped(label, true);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    } catch (const std::exception &e) {
        return std::string("<") + e.what() + ">";
    }
    if (fd < 0)
        return std::string("<socket: ") + strerror(errno) + ">";
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    std::string out;
    char *con = nullptr;
    if (connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof sa) < 0)
        out = std::string("<connect: ") + strerror(errno) + ">";
    else if (getpeercon_raw(fd, &con) < 0)
        out = std::string("<getpeercon: ") + strerror(errno) + ">";
    else {
        out = con;
        freecon(con);
    }
    close(fd);
    return out;
}

// The labels of the sockets process PID holds (security.selinux of the
// socket inodes behind /proc/PID/fd/N).
std::vector<std::string> socketLabels(pid_t pid)
{
    std::vector<std::string> out;
    std::string dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR *d = opendir(dir.c_str());
    if (!d)
        return out;
    while (dirent *e = readdir(d)) {
        std::string fd = dir + "/" + e->d_name;
        char target[64] = {};
        if (readlink(fd.c_str(), target, sizeof target - 1) <= 0 || strncmp(target, "socket:", 7) != 0)
            continue;
        char *con = nullptr;
        if (getfilecon_raw(fd.c_str(), &con) < 0) {
            out.push_back(std::string("<") + strerror(errno) + ">");
            continue;
        }
        out.push_back(con);
        freecon(con);
    }
    closedir(d);
    return out;
}

} // namespace

int main(int argc, char **argv)
{
    bool daemon = argc > 1 && std::string(argv[1]) == "--daemon";
    int arg = daemon ? 2 : 1;
    std::string controller = argc > arg ? argv[arg] : "/usr/libexec/lxvirt-vm/lxvirt-controller";
    std::string work = argc > arg + 1 ? argv[arg + 1] : "/var/lib/libvirt/images/svirt-ct";
    if (!daemon)
        return harness("/proc/self/exe", controller, work);
    if (const char *p = getenv("SVIRT_CT_PASSED"))
        passed = atoi(p);
    if (const char *f = getenv("SVIRT_CT_FAILED"))
        failed = atoi(f);
    auto t0 = std::chrono::steady_clock::now();

    char *self = nullptr;
    std::string selfCon = getcon_raw(&self) == 0 ? self : "<getcon failed>";
    freecon(self);
    // The range is inherited (s0 on Debian, where init runs at s0; the
    // security manager then assumes c0.c1023, like libvirt).
    check(typeOf(selfCon) == "virtd_t" && selfCon.rfind("system_u:system_r:", 0) == 0,
          "the daemon side runs as virtd_t (exec of virtd_exec_t)", selfCon);

    std::string rootA = work + "/rootA", rootB = work + "/rootB", shared = work + "/shared",
                hostetc = work + "/hostetc";
    std::string origLabel = fileLabel(rootA + "/bin/busybox");

    // The driver delivers container exits on the thread-default main context.
    std::atomic<bool> stop{false};
    GMainContext *ctx = g_main_context_default();
    std::thread loop([&] {
        while (!stop)
            g_main_context_iteration(ctx, TRUE);
    });

    // lxvirtd's installed paths (lxvirt.fc labels them).
    lxc::DriverConfig cfg;
    cfg.config_dir = "/etc/lxvirt/lxc";
    cfg.paths.run_dir = "/run/lxvirt/lxc";
    cfg.paths.log_dir = "/var/log/lxvirt/lxc";
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
    // B's start is to be handed to a standby forked by the zygote: wait
    // (briefly) until the pool has one.
    for (int i = 0; i < 200 && !zygoteStandbyReady(); ++i)
        usleep(10000);
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
    // The domain chain: this program (virtd_t) -> the controller, by its
    // virtd_lxc_exec_t label (virtd_lxc_t) -> the init, by setexeccon
    // (svirt_lxc_net_t with the pair).
    pid_t ctlA = findController("svirt-a"), ctlB = findController("svirt-b");
    check(ctlA > 0 && ctlB > 0 && ctlA == drv->lookupByName("svirt-a").id && ctlB == drv->lookupByName("svirt-b").id,
          "the domain ids are the pids of `lxvirt-controller --name NAME`",
          std::to_string(ctlA) + " " + std::to_string(ctlB));
    std::string conA = readFile("/proc/" + std::to_string(ctlA) + "/attr/current"),
                conB = readFile("/proc/" + std::to_string(ctlB) + "/attr/current");
    check(typeOf(conA) == "virtd_lxc_t" && conA.rfind("system_u:system_r:", 0) == 0 && conB == conA,
          "both controllers run as virtd_lxc_t (virtd_t exec'd virtd_lxc_exec_t)", conA + " / " + conB);
    std::string zyg = parentOf(std::to_string(ctlB));
    check(isZygote(zyg) && readFile("/proc/" + zyg + "/attr/current") == conA &&
              parentOf(zyg) == std::to_string(getpid()),
          "B's controller was forked by the zygote controller (virtd_lxc_t, our child), whose pidfd lxvirtd received",
          "parent " + zyg + ": " + readFile("/proc/" + zyg + "/cmdline"));
    check(typeOf(readFile("/proc/" + initA + "/attr/current")) == "svirt_lxc_net_t" &&
              readFile("/proc/" + initA + "/status").find("PPid:\t" + std::to_string(ctlA) + "\n") != std::string::npos,
          "A's init is the controller's child, in svirt_lxc_net_t (virtd_lxc_t -> svirt_lxc_net_t)");
    // Standby controllers are spawned at nice 19; a start returns them (and
    // the child they cloned ahead, which becomes init) to the daemon's 0,
    // which needs sys_nice in virtd_lxc_t.
    auto niceOf = [](const std::string &pid) {
        std::string st = readFile("/proc/" + pid + "/stat");
        size_t rp = st.rfind(')');
        std::istringstream in(rp == std::string::npos ? "" : st.substr(rp + 2));
        std::string f;
        for (int i = 3; i <= 19 && in >> f; ++i)
            if (i == 19)
                return f;
        return std::string("?");
    };
    check(niceOf(std::to_string(ctlA)) == "0" && niceOf(initA) == "0" && niceOf(std::to_string(ctlB)) == "0" &&
              niceOf(initB) == "0",
          "controllers and inits run at the daemon's priority (nice 0), not the standby's 19",
          niceOf(std::to_string(ctlA)) + " " + niceOf(initA) + " " + niceOf(std::to_string(ctlB)) + " " +
              niceOf(initB));

    // The monitor socket: created under setsockcreatecon(container label),
    // so a peer sees the container's label; the setting is dropped after.
    std::string sockA = cfg.paths.run_dir + "/svirt-a.sock", sockB = cfg.paths.run_dir + "/svirt-b.sock";
    std::vector<std::string> socksA = socketLabels(ctlA), socksB = socketLabels(ctlB);
    auto holds = [](const std::vector<std::string> &v, const std::string &l) {
        return std::find(v.begin(), v.end(), l) != v.end();
    };
    std::string allA;
    for (auto &l : socksA)
        allA += " " + l;
    check(holds(socksA, la) && holds(socksB, lb) && !holds(socksA, lb),
          "each controller's listening socket carries its container's label (setsockcreatecon)", allA);
    std::string peerA = monitorPeerLabel(sockA, la), peerB = monitorPeerLabel(sockB, lb);
    check(peerA == la && peerB == lb,
          "getpeercon() on NAME.sock, connecting as libvirt's daemon does, is the container's label",
          peerA + " / " + peerB);
    std::string plain = monitorPeerLabel(sockA);
    check(typeOf(plain) == "svirt_lxc_net_t",
          "an unlabelled client of NAME.sock sees svirt_lxc_net_t (with its own level)", plain);
    std::string scA = readFile("/proc/" + std::to_string(ctlA) + "/attr/sockcreate"),
                scB = readFile("/proc/" + std::to_string(ctlB) + "/attr/sockcreate");
    check(access(("/proc/" + std::to_string(ctlA) + "/attr/sockcreate").c_str(), R_OK) == 0 && scA.empty() &&
              scB.empty(),
          "the controllers cleared their socket creation label after the monitor socket", scA + " / " + scB);
    check(typeOf(fileLabel(sockA)) == "virtd_lxc_runtime_t",
          "NAME.sock (the file) is virtd_lxc_runtime_t, as lxvirt.fc says for /run/lxvirt/lxc", fileLabel(sockA));
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
