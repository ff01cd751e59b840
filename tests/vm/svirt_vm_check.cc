// Runs inside the VM tier (enforcing SELinux, refpolicy + lxvirt.pp): drives
// the real SecurityManager against the real kernel and checks what sVirt
// promises. Two "containers" A and B are processes started the way
// lxvirt-controller starts a container init (ExecLabel::apply() in a forked
// child, then execve of a binary from the container's root file system),
// with root file systems relabelled by setAllLabel().
//
// Prints TAP ("ok N - ...") and a closing "N passed, N failed" line; exit 0
// only if every check passed.
//
//   svirt_vm_check [WORKDIR]     (default /run/svirt-vm, must be a tmpfs
//                                 mounted after the policy load)
#include "driver/security/mcs.h"
#include "driver/security/security_manager.h"
#include "xml/error.h"

#include <selinux/selinux.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <string>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <vector>

using namespace lxvirt;
using namespace lxvirt::security;

namespace {

int passed = 0, failed = 0;

void check(bool ok, const std::string &what, const std::string &detail = "")
{
    ++(ok ? passed : failed);
    printf("%s %d - %s\n", ok ? "ok" : "not ok", passed + failed, what.c_str());
    if (!detail.empty())
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

bool writeFile(const std::string &path, const std::string &text)
{
    std::ofstream out(path);
    out << text;
    return bool(out);
}

bool copyFile(const std::string &from, const std::string &to)
{
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary);
    out << in.rdbuf();
    return bool(out) && chmod(to.c_str(), 0755) == 0;
}

struct Run {
    int status = -1;
    std::string out;
    bool ok() const { return WIFEXITED(status) && WEXITSTATUS(status) == 0; }
};

// Starts `argv` (argv[0] = busybox applet) from `busybox` as a container
// init would start: exec label set right before execve in the child.
Run runAs(const ExecLabel &label, const std::string &busybox, std::vector<std::string> argv,
          pid_t *keep = nullptr)
{
    int fds[2];
    Run r;
    if (pipe(fds) < 0)
        return r;
    std::vector<char *> args;
    for (auto &a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(fds[0]);
        close(fds[1]);
        int rc = label.apply();
        if (rc < 0) {
            dprintf(1, "apply: %s", strerror(-rc));
            _exit(125);
        }
        execv(busybox.c_str(), args.data());
        dprintf(1, "execv %s: %s", busybox.c_str(), strerror(errno));
        _exit(126);
    }
    close(fds[1]);
    if (keep) {
        *keep = pid;
        close(fds[0]);
        return r;
    }
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        r.out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    waitpid(pid, &r.status, 0);
    // /proc/PID/attr/current ends in a NUL; drop it and the newline.
    while (!r.out.empty() && (r.out.back() == '\n' || r.out.back() == '\0'))
        r.out.pop_back();
    return r;
}

std::string describe(const Run &r)
{
    std::string s =
        "status=" + std::to_string(WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1) + " out='" + r.out + "'";
    return s;
}

bool denied(const Run &r)
{
    return !r.ok() && r.out.find("Permission denied") != std::string::npos;
}

struct Container {
    std::string name, root, busybox;
    DomainDef def;
    Labels labels;
    ExecLabel exec;
};

} // namespace

int main(int argc, char **argv)
{
    std::string work = argc > 1 ? argv[1] : "/run/svirt-vm";
    const std::string busyboxHost = "/bin/busybox";

    check(is_selinux_enabled() == 1, "SELinux is enabled in the guest kernel");
    check(security_getenforce() == 1, "SELinux is enforcing");

    std::unique_ptr<SecurityManager> mgr;
    try {
        mgr = createSecurityManager({.driver = "selinux"});
        check(mgr->model() == "selinux", "security_driver=selinux gives the selinux model");
    } catch (const Error &e) {
        check(false, "security_driver=selinux gives the selinux model", e.what());
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }
    // Debian's lxc_contexts names container_t, which the policy lacks.
    check(mgr->baseLabel() == "system_u:system_r:svirt_lxc_net_t:s0",
          "base label falls back to svirt_lxc_net_t (lxc_contexts names undefined container_t)",
          mgr->baseLabel());

    mkdir(work.c_str(), 0755);
    Container c[2];
    for (int i = 0; i < 2; ++i) {
        Container &k = c[i];
        k.name = i == 0 ? "A" : "B";
        k.root = work + "/" + k.name;
        mkdir(k.root.c_str(), 0755);
        mkdir((k.root + "/bin").c_str(), 0755);
        mkdir((k.root + "/dev").c_str(), 0755);
        k.busybox = k.root + "/bin/busybox";
        copyFile(busyboxHost, k.busybox);
        writeFile(k.root + "/secret", "secret-of-" + k.name + "\n");
        k.def.name = "vm-" + k.name;
        SeclabelDef s;
        s.type = SeclabelType::Dynamic;
        s.model = "selinux";
        k.def.seclabels.push_back(s);
        FilesystemDef fs;
        fs.type = FsType::Mount;
        fs.source = k.root;
        fs.target = "/";
        k.def.filesystems.push_back(fs);
        mgr->verify(k.def);
        k.labels = mgr->generate(k.def);
        k.exec = mgr->execLabel(k.def);
    }
    const std::string origLabel = fileLabel(c[0].root + "/secret");
    printf("# A: %s\n# B: %s\n", c[0].labels.label.c_str(), c[1].labels.label.c_str());
    check(c[0].labels.label != c[1].labels.label &&
              contextRange(c[0].labels.label) != contextRange(c[1].labels.label),
          "two containers get different dynamic MCS pairs");
    check(security_check_context_raw(c[0].labels.label.c_str()) == 0 &&
              security_check_context_raw(c[0].labels.imagelabel.c_str()) == 0,
          "generated labels are valid contexts in the loaded policy");

    // relabel='yes' (dynamic): root file systems get the image label.
    for (auto &k : c) {
        try {
            mgr->setAllLabel(k.def);
            check(fileLabel(k.root + "/secret") == k.labels.imagelabel &&
                      fileLabel(k.root) == k.labels.imagelabel,
                  "setAllLabel labels " + k.name + "'s root file system " + k.labels.imagelabel,
                  fileLabel(k.root + "/secret"));
        } catch (const Error &e) {
            check(false, "setAllLabel labels " + k.name + "'s root file system", e.what());
        }
    }
    char remembered[256] = "";
    ssize_t rn =
        lgetxattr((c[0].root + "/secret").c_str(), kRememberXattr, remembered, sizeof remembered - 1);
    check(rn > 0 && std::string(remembered, rn) == origLabel,
          "the original label is remembered in " + std::string(kRememberXattr),
          rn > 0 ? std::string(remembered, rn) : strerror(errno));

    // The /dev tmpfs of a container, mounted with the manager's options.
    std::string devA = c[0].root + "/dev";
    std::string opts = "mode=755," + mgr->mountOptions(c[0].def);
    int mrc = mount("tmpfs", devA.c_str(), "tmpfs", 0, opts.c_str());
    check(mrc == 0 && fileLabel(devA) == c[0].labels.imagelabel,
          "tmpfs mounted with " + mgr->mountOptions(c[0].def) + " carries A's image label",
          mrc == 0 ? fileLabel(devA) : strerror(errno));

    const Container &A = c[0], &B = c[1];
    Run r = runAs(A.exec, A.busybox, {"cat", "/proc/self/attr/current"});
    check(r.ok() && r.out == A.labels.label, "container A's init runs as " + A.labels.label, describe(r));
    r = runAs(B.exec, B.busybox, {"cat", "/proc/self/attr/current"});
    check(r.ok() && r.out == B.labels.label, "container B's init runs as " + B.labels.label, describe(r));

    pid_t sleeper = -1;
    runAs(A.exec, A.busybox, {"sleep", "5"}, &sleeper);
    usleep(200000);
    try {
        ProcessLabel pl = mgr->processLabel(sleeper);
        check(pl.label == A.labels.label && pl.enforcing, "processLabel(pid) reports A's label and enforcing",
              pl.label);
    } catch (const Error &e) {
        check(false, "processLabel(pid) reports A's label and enforcing", e.what());
    }
    kill(sleeper, SIGKILL);
    waitpid(sleeper, nullptr, 0);

    r = runAs(A.exec, A.busybox, {"cat", A.root + "/secret"});
    check(r.ok() && r.out == "secret-of-A", "A reads its own file", describe(r));
    r = runAs(A.exec, A.busybox, {"cat", B.root + "/secret"});
    check(denied(r), "A is denied reading B's file (MCS)", describe(r));
    r = runAs(A.exec, A.busybox, {"sh", "-c", "echo pwned > " + B.root + "/secret"});
    check(denied(r), "A is denied writing B's file (MCS)", describe(r));
    r = runAs(B.exec, B.busybox, {"cat", B.root + "/secret"});
    check(r.ok() && r.out == "secret-of-B", "B reads its own file, unchanged", describe(r));
    r = runAs(A.exec, A.busybox, {"sh", "-c", "echo mine > " + devA + "/x && cat " + devA + "/x"});
    check(r.ok() && r.out == "mine", "A writes in its own context= tmpfs", describe(r));
    r = runAs(B.exec, B.busybox, {"ls", devA});
    check(denied(r), "B is denied listing A's context= tmpfs", describe(r));

    // A shared directory both containers can use (no categories): a file B
    // creates there takes B's level, and A can neither read nor write it.
    std::string shared = work + "/shared";
    mkdir(shared.c_str(), 0777);
    lsetfilecon_raw(shared.c_str(), "system_u:object_r:svirt_sandbox_file_t:s0");
    r = runAs(B.exec, B.busybox, {"sh", "-c", "echo from-B > " + shared + "/fromB"});
    check(r.ok(), "B creates a file in a shared s0 directory", describe(r));
    check(fileLabel(shared + "/fromB") == B.labels.imagelabel, "the file B created carries B's level",
          fileLabel(shared + "/fromB"));
    r = runAs(A.exec, A.busybox, {"cat", shared + "/fromB"});
    check(denied(r), "A is denied reading B's file in the shared directory", describe(r));
    r = runAs(A.exec, A.busybox, {"sh", "-c", "echo x >> " + shared + "/fromB"});
    check(denied(r), "A is denied writing B's file in the shared directory", describe(r));

    // Host files: TE keeps containers away from them whatever the level.
    std::string shadow = work + "/shadow";
    writeFile(shadow, "root:$6$secret:19000:0:99999:7:::\n");
    int src = lsetfilecon_raw(shadow.c_str(), "system_u:object_r:shadow_t:s0");
    bool bound = src == 0 && access("/etc/shadow", F_OK) == 0 &&
                 mount(shadow.c_str(), "/etc/shadow", nullptr, MS_BIND, nullptr) == 0;
    std::string target = bound ? "/etc/shadow" : shadow;
    r = runAs(A.exec, A.busybox, {"cat", target});
    check(denied(r), "A is denied reading " + target + " (" + fileLabel(target) + ")", describe(r));
    std::string etc = work + "/etc-file";
    writeFile(etc, "host config\n");
    lsetfilecon_raw(etc.c_str(), "system_u:object_r:etc_t:s0");
    r = runAs(A.exec, A.busybox, {"sh", "-c", "echo x >> " + etc});
    check(denied(r), "A is denied writing an etc_t file", describe(r));

    // Stop: restore the files, release the pair.
    umount(devA.c_str());
    std::string labelA = A.labels.label;
    try {
        mgr->restoreAllLabel(c[0].def);
        check(fileLabel(A.root + "/secret") == origLabel, "restoreAllLabel puts back " + origLabel,
              fileLabel(A.root + "/secret"));
        check(lgetxattr((A.root + "/secret").c_str(), kRememberXattr, remembered, sizeof remembered) < 0,
              "the remembered label is dropped after restore");
    } catch (const Error &e) {
        check(false, "restoreAllLabel puts back the original label", e.what());
    }
    mgr->release(c[0].def);
    check(c[0].def.seclabels[0].label.empty(), "release clears A's label");
    DomainDef again;
    again.name = "vm-A-again";
    SeclabelDef s;
    s.type = SeclabelType::Dynamic;
    s.model = "selinux";
    s.label = labelA;
    again.seclabels.push_back(s);
    try {
        mgr->reserve(again, 0);
        check(true, "A's released pair can be reserved again");
    } catch (const Error &e) {
        check(false, "A's released pair can be reserved again", e.what());
    }
    DomainDef dup = c[1].def;
    try {
        mgr->reserve(dup, 0);
        check(false, "reserving B's pair while B runs is refused");
    } catch (const Error &e) {
        check(std::string(e.what()).find("already reserved") != std::string::npos,
              "reserving B's pair while B runs is refused", e.what());
    }

    if (bound)
        umount("/etc/shadow");
    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
