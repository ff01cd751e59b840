// SecurityManager: the sVirt face of the driver. One interface, two models:
//   "none"    - containers run with the daemon's own label; every call is a no-op.
//   "selinux" - each container init runs as system_u:system_r:svirt_lxc_net_t:s0:cA,cB
//               with a category pair unique among running containers, and its
//               file systems carry svirt_sandbox_file_t:s0:cA,cB.
//
// Call sequence for the LXC driver (def = the domain's DomainDef; the
// selinux model reads and writes def.seclabels, the entry whose model is
// "selinux" or empty, exactly like libvirt's live XML):
//
//   define      verify(def)                    rejects labels this host cannot honour
//   start       labels = generate(def)         reserves the pair, fills label/imagelabel
//               opts = mountOptions(def)       append ","+opts to the data of every
//                                              filesystem lxvirt mounts for the container
//                                              (/dev tmpfs, devpts, type='ram') when not empty
//               setAllLabel(def)               relabel='yes': label the root and writable
//                                              <filesystem type='mount'> sources
//               exec = execLabel(def)          BEFORE clone(): precomputes the exec label
//     child:    exec.apply()                   right before execve() of the container init;
//                                              no allocation, no exceptions (open/write/close)
//               persist def (live state keeps label + imagelabel)
//   stop        restoreAllLabel(def); release(def)
//   reconnect   reserve(def, initPid)          after a daemon restart, for every running
//                                              container: re-holds its pair (duplicate -> error)
//   dominfo / virDomainGetSecurityLabel        processLabel(initPid)
//   capabilities / nodeGetSecurityModel       model(), doi(), baseLabel()
//
// Every method except ExecLabel::apply() throws lxvirt::Error (VIR_FROM_SECURITY)
// with a message naming the label or path at fault. The selinux model is
// thread-safe (one mutex); one manager per daemon keeps the pairs unique.
#pragma once

#include "driver/security/socket_label.h" // ScopedSocketCreateLabel, part of this face
#include "xml/domain_def.h"

#include <sys/types.h>

#include <memory>
#include <string>

namespace lxvirt::security {

// The `security_*` keys of lxvirtd.conf.
struct SecurityConfig {
    // "selinux", "none" or "auto" (selinux when is_selinux_enabled(), else
    // none). An explicit "selinux" on a host without SELinux is an error.
    std::string driver = "auto";
    // A domain without <seclabel> (or type='default') is confined with a
    // dynamic label when true; libvirt's LXC driver runs it unconfined.
    bool defaultConfined = false;
    // Refuse domains that would run unconfined (type='none').
    bool requireConfined = false;
    // Base contexts used when the policy's lxc_contexts is missing or names
    // types the loaded policy lacks (Debian's names container_t, undefined
    // there). They match selinux-policy/lxvirt.te.
    std::string processContext = "system_u:system_r:svirt_lxc_net_t:s0";
    std::string fileContext = "system_u:object_r:svirt_sandbox_file_t:s0";
    std::string contentContext = "system_u:object_r:virt_var_lib_t:s0";
    // lxc_contexts to read; empty = selinux_lxc_contexts_path().
    std::string lxcContextsPath;
};

// What a start produced: the process label the init runs with and the label
// of its files. Empty strings for an unconfined domain.
struct Labels {
    std::string label;
    std::string imagelabel;
};

// virDomainGetSecurityLabel's answer.
struct ProcessLabel {
    std::string label; // empty when the model is none
    bool enforcing = false;
};

// The exec label, computed before clone() so the container child only has to
// copy bytes into /proc/thread-self/attr/exec.
class ExecLabel {
public:
    ExecLabel() = default;
    ExecLabel(std::string label, bool fatal) : label_(std::move(label)), fatal_(fatal) {}

    bool empty() const { return label_.empty(); }
    const std::string &label() const { return label_; }
    // True when the host enforces: then a failed apply() must abort the start
    // (libvirt tolerates the failure only in permissive mode).
    bool failureIsFatal() const { return fatal_; }

    // Sets the label for the next execve() of the calling thread. Uses only
    // open/write/close (async-signal-safe, no allocation), so it may run in
    // a child after clone(). Returns 0, or -errno. No-op when empty().
    int apply() const noexcept;

private:
    std::string label_;
    bool fatal_ = false;
};

// ExecLabel::apply() for a bare string (a child that cannot hold a
// std::string of its parent's heap). 0, or -errno; no-op for null or "".
int applyExecLabel(const char *label) noexcept;

class SecurityManager {
public:
    virtual ~SecurityManager() = default;

    virtual std::string model() const = 0; // "selinux" | "none"
    virtual std::string doi() const = 0;   // "0", as libvirt reports
    // Capabilities' <baselabel type='lxc'>: the base process context ("" for none).
    virtual std::string baseLabel() const = 0;
    // The image (file) base context ("" for none).
    virtual std::string baseImageLabel() const = 0;

    // At define: throws when the domain's <seclabel> cannot be honoured
    // (unknown model, static without a valid label, invalid baselabel,
    // relabel='no' with dynamic, unconfined while security_require_confined).
    virtual void verify(const DomainDef &def) const = 0;

    // At start: resolves type='default', for dynamic allocates a fresh pair
    // and writes model/label/imagelabel into def's seclabel (adding one if
    // the domain had none). Static labels are used as given.
    virtual Labels generate(DomainDef &def) = 0;

    // On reconnect: holds the pair of a running container again. With
    // pid > 0 the label is read from that process (getpidcon), else the
    // label recorded in def (live state) is used. Throws if the pair is
    // already held by another container.
    virtual Labels reserve(DomainDef &def, pid_t pid) = 0;

    // At stop: gives a dynamic pair back and clears the generated
    // label/imagelabel so the next start draws a new pair.
    virtual void release(DomainDef &def) = 0;

    // `context="<imagelabel>"` for the mounts lxvirt makes inside the
    // container, or "" when nothing is to be added. Call after generate().
    virtual std::string mountOptions(const DomainDef &def) const = 0;

    // The label the container init must exec with (empty for none).
    virtual ExecLabel execLabel(const DomainDef &def) const = 0;

    // relabel='yes': recursively sets the image label on the root file system
    // and every writable <filesystem type='mount'> source, remembering each
    // file's previous label in the trusted.lxvirt.selinux xattr. Refuses host
    // directories ("/", "/usr", ...). On an error some files may already be
    // labelled: call restoreAllLabel() on that failure path too.
    virtual void setAllLabel(const DomainDef &def) = 0;
    // Undoes setAllLabel: the remembered label, else the policy's default
    // (matchpathcon); drops the xattr. Best effort: keeps going past errors
    // and throws the first one at the end.
    virtual void restoreAllLabel(const DomainDef &def) = 0;

    // The label a running process carries (for the container init's pid).
    virtual ProcessLabel processLabel(pid_t pid) const = 0;
};

// Picks and initialises the model named by config.driver. Throws
// lxvirt::Error (VIR_ERR_CONFIG_UNSUPPORTED) for "selinux" on a host without
// SELinux, for an unknown driver name, and when no usable base context
// exists in the loaded policy.
std::unique_ptr<SecurityManager> createSecurityManager(const SecurityConfig &config);

// Name of the xattr that remembers a file's label before relabelling.
inline constexpr const char *kRememberXattr = "trusted.lxvirt.selinux";

} // namespace lxvirt::security
