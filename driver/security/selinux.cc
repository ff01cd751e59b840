// The selinux model: sVirt dynamic MCS labels, as libvirt's
// security_selinux.c does it for LXC, plus recursive relabelling for
// relabel='yes' (libvirt leaves LXC file systems alone).
#include "driver/security/lxc_contexts.h"
#include "driver/security/mcs.h"
#include "driver/security/selinux_model.h"
#include "xml/error.h"

#include <selinux/label.h>
#include <selinux/selinux.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <sys/stat.h>
#include <sys/xattr.h>

namespace lxvirt::security {

namespace {

constexpr const char *kModel = "selinux";

Error secError(int code, const std::string &what)
{
    return Error::make(code, VIR_FROM_SECURITY, what);
}

// Owns a context string handed out by libselinux.
struct Con {
    char *p = nullptr;
    ~Con() { freecon(p); }
    std::string str() const { return p ? std::string(p) : std::string(); }
};

bool contextValid(const std::string &context)
{
    return !context.empty() && security_check_context_raw(context.c_str()) == 0;
}

SeclabelType effectiveType(const SeclabelDef *sec, bool defaultConfined)
{
    SeclabelType t = sec ? sec->type : SeclabelType::Default;
    if (t == SeclabelType::Default)
        t = defaultConfined ? SeclabelType::Dynamic : SeclabelType::None;
    return t;
}

bool relabelWanted(const SeclabelDef &sec)
{
    if (sec.type == SeclabelType::Dynamic)
        return true;
    return sec.type == SeclabelType::Static && sec.relabel.value_or(false);
}

// Sources lxvirt relabels for relabel='yes': the directories the container
// writes to. Read-only mounts keep their host labels (the policy lets the
// container read them or not).
std::vector<std::string> relabelPaths(const DomainDef &def)
{
    std::vector<std::string> out;
    for (const auto &fs : def.filesystems)
        if (fs.type == FsType::Mount && !fs.readonly && !fs.source.empty())
            out.push_back(fs.source);
    return out;
}

// Relabelling these would take the host's own files away from it (a domain
// whose root is "/" shares the host's tree): refused, whatever the XML says.
void refuseHostDirectory(const std::string &path)
{
    std::error_code ec;
    std::string real = std::filesystem::canonical(path, ec).string();
    if (ec)
        throw Error::system(ec.value(), "cannot resolve '" + path + "' to relabel it", VIR_FROM_SECURITY);
    static const char *const host[] = {"/",     "/bin",   "/boot", "/dev",  "/etc",  "/home",
                                       "/lib",  "/lib64", "/opt",  "/proc", "/root", "/run",
                                       "/sbin", "/srv",   "/sys",  "/tmp",  "/usr",  "/var"};
    for (const char *h : host)
        if (real == h)
            throw secError(VIR_ERR_CONFIG_UNSUPPORTED,
                           "refusing to relabel host directory '" + path +
                               "' for relabel='yes': give the container its own root");
}

bool tolerable(int err)
{
    // File systems without labels (NFS, vfat, read-only): the container sees
    // them with their mount's context; libvirt tolerates these too.
    return err == ENOTSUP || err == EOPNOTSUPP || err == EROFS;
}

// Calls fn(path) for `top` and everything below it, without following
// symbolic links; stops at the first error of the walk itself.
template <typename Fn> void walk(const std::string &top, Fn fn)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fn(top);
    if (!fs::is_directory(fs::symlink_status(top, ec)))
        return;
    fs::recursive_directory_iterator it(top, fs::directory_options::none, ec), end;
    if (ec)
        throw Error::system(ec.value(), "cannot walk '" + top + "' to relabel it", VIR_FROM_SECURITY);
    for (; it != end; it.increment(ec)) {
        if (ec)
            throw Error::system(ec.value(), "cannot walk '" + top + "' to relabel it", VIR_FROM_SECURITY);
        fn(it->path().string());
    }
    if (ec)
        throw Error::system(ec.value(), "cannot walk '" + top + "' to relabel it", VIR_FROM_SECURITY);
}

class SelinuxManager : public SecurityManager {
public:
    explicit SelinuxManager(const SecurityConfig &config)
        : config_(config), base_(pickBase(config)), mcs_(McsRange::fromContext(ownContext()))
    {
    }
    ~SelinuxManager() override
    {
        if (labelHandle_)
            selabel_close(labelHandle_);
    }

    std::string model() const override { return kModel; }
    std::string doi() const override { return "0"; }
    std::string baseLabel() const override { return base_.process; }
    std::string baseImageLabel() const override { return base_.file; }
    const BaseContexts &base() const { return base_; }

    void verify(const DomainDef &def) const override
    {
        for (const auto &s : def.seclabels)
            if (!s.model.empty() && s.model != kModel && s.model != "none")
                throw secError(VIR_ERR_CONFIG_UNSUPPORTED,
                               "security driver model '" + s.model +
                                   "' is not available on this host (lxvirtd uses 'selinux')");
        const SeclabelDef *sec = findSeclabel(def, kModel);
        switch (effectiveType(sec, config_.defaultConfined)) {
        case SeclabelType::Dynamic:
            if (sec && sec->relabel && !*sec->relabel)
                throw secError(VIR_ERR_CONFIG_UNSUPPORTED,
                               "dynamic label type must use resource relabeling (relabel='no' given)");
            if (sec && !sec->baselabel.empty() && !contextValid(sec->baselabel))
                throw secError(VIR_ERR_INVALID_ARG, "Invalid security baselabel '" + sec->baselabel +
                                                        "': not a valid context in the loaded policy");
            break;
        case SeclabelType::Static:
            if (sec->label.empty())
                throw secError(VIR_ERR_XML_ERROR, "security label is missing for static security type");
            if (!contextValid(sec->label))
                throw secError(VIR_ERR_INVALID_ARG, "Invalid security label '" + sec->label +
                                                        "': not a valid context in the loaded policy");
            break;
        default:
            if (config_.requireConfined)
                throw secError(VIR_ERR_CONFIG_UNSUPPORTED, "Unconfined guests are not allowed on this host");
            break;
        }
    }

    Labels generate(DomainDef &def) override
    {
        std::lock_guard lock(mu_);
        SeclabelDef *sec = findSeclabel(def, kModel);
        if (!sec) {
            def.seclabels.push_back({});
            sec = &def.seclabels.back();
            sec->type = SeclabelType::Default;
        }
        sec->model = kModel;
        sec->type = effectiveType(sec, config_.defaultConfined);
        switch (sec->type) {
        case SeclabelType::Dynamic: {
            std::string base = sec->baselabel.empty() ? base_.process : sec->baselabel;
            std::string level = mcs_.allocate();
            std::string label = contextWithRange(base, level);
            std::string image = contextWithRange(base_.file, level);
            if (!contextValid(label) || !contextValid(image)) {
                mcs_.release(level);
                throw secError(VIR_ERR_INTERNAL_ERROR, "generated security label '" + label + "' / '" +
                                                           image + "' is not valid in the loaded policy");
            }
            sec->label = label;
            sec->imagelabel = image;
            sec->relabel = true;
            break;
        }
        case SeclabelType::Static:
            if (sec->label.empty())
                throw secError(VIR_ERR_XML_ERROR, "security label is missing for static security type");
            sec->imagelabel = contextWithRange(base_.file, contextRange(sec->label));
            if (!sec->relabel)
                sec->relabel = false;
            break;
        default:
            sec->label.clear();
            sec->imagelabel.clear();
            sec->relabel = false;
            break;
        }
        return {sec->label, sec->imagelabel};
    }

    Labels reserve(DomainDef &def, pid_t pid) override
    {
        std::lock_guard lock(mu_);
        SeclabelDef *sec = findSeclabel(def, kModel);
        if (!sec || sec->type != SeclabelType::Dynamic)
            return sec ? Labels{sec->label, sec->imagelabel} : Labels{};
        std::string label = sec->label;
        if (pid > 0) {
            Con c;
            if (getpidcon_raw(pid, &c.p) < 0)
                throw Error::system(errno, "unable to get security context of process " + std::to_string(pid),
                                    VIR_FROM_SECURITY);
            label = c.str();
        }
        std::string level = contextRange(label);
        if (level.empty())
            throw secError(VIR_ERR_INTERNAL_ERROR, "cannot reserve the MCS level of label '" + label +
                                                       "' of domain '" + def.name + "': it has no level");
        mcs_.reserve(level);
        sec->model = kModel;
        sec->label = label;
        sec->imagelabel = contextWithRange(base_.file, level);
        return {sec->label, sec->imagelabel};
    }

    void release(DomainDef &def) override
    {
        std::lock_guard lock(mu_);
        SeclabelDef *sec = findSeclabel(def, kModel);
        if (!sec)
            return;
        if (sec->type == SeclabelType::Dynamic) {
            if (!sec->label.empty())
                mcs_.release(contextRange(sec->label));
            sec->label.clear();
        }
        sec->imagelabel.clear();
    }

    std::string mountOptions(const DomainDef &def) const override
    {
        const SeclabelDef *sec = findSeclabel(def, kModel);
        if (!sec || sec->type == SeclabelType::None || sec->imagelabel.empty())
            return "";
        return "context=\"" + sec->imagelabel + "\"";
    }

    ExecLabel execLabel(const DomainDef &def) const override
    {
        const SeclabelDef *sec = findSeclabel(def, kModel);
        if (!sec || sec->type == SeclabelType::None || sec->label.empty())
            return {};
        return ExecLabel(sec->label, security_getenforce() == 1);
    }

    void setAllLabel(const DomainDef &def) override
    {
        const SeclabelDef *sec = findSeclabel(def, kModel);
        if (!sec || !relabelWanted(*sec) || sec->imagelabel.empty())
            return;
        auto paths = relabelPaths(def);
        for (const auto &top : paths)
            refuseHostDirectory(top);
        for (const auto &top : paths)
            walk(top, [&](const std::string &path) { labelOne(path, sec->imagelabel); });
    }

    void restoreAllLabel(const DomainDef &def) override
    {
        const SeclabelDef *sec = findSeclabel(def, kModel);
        if (!sec || !relabelWanted(*sec))
            return;
        std::optional<Error> first;
        for (const auto &top : relabelPaths(def)) {
            try {
                walk(top, [&](const std::string &path) {
                    try {
                        restoreOne(path);
                    } catch (const Error &e) {
                        if (!first)
                            first = e;
                    }
                });
            } catch (const Error &e) {
                if (!first)
                    first = e;
            }
        }
        if (first)
            throw *first;
    }

    ProcessLabel processLabel(pid_t pid) const override
    {
        Con c;
        if (getpidcon_raw(pid, &c.p) < 0)
            throw Error::system(errno, "unable to get security context of process " + std::to_string(pid),
                                VIR_FROM_SECURITY);
        return {c.str(), security_getenforce() == 1};
    }

private:
    static std::string ownContext()
    {
        Con c;
        if (getcon_raw(&c.p) < 0)
            throw Error::system(errno, "unable to get the daemon's own security context", VIR_FROM_SECURITY);
        return c.str();
    }

    static BaseContexts pickBase(const SecurityConfig &config)
    {
        std::string path = config.lxcContextsPath;
        if (path.empty()) {
            const char *p = selinux_lxc_contexts_path();
            path = p ? p : "";
        }
        std::string why;
        if (!path.empty()) {
            try {
                BaseContexts b = readLxcContexts(path);
                if (contextValid(b.process) && contextValid(b.file)) {
                    if (!contextValid(b.content))
                        b.content = config.contentContext;
                    return b;
                }
                why = path + " names '" + b.process + "' / '" + b.file + "', unknown to the loaded policy";
            } catch (const Error &e) {
                why = e.what();
            }
        }
        BaseContexts own{config.processContext, config.fileContext, config.contentContext,
                         "lxvirtd configuration"};
        if (contextValid(own.process) && contextValid(own.file))
            return own;
        throw secError(
            VIR_ERR_CONFIG_UNSUPPORTED,
            "no usable SELinux base context for containers: " + why + "; lxvirtd's own '" + own.process +
                "' / '" + own.file +
                "' are not valid either (load the lxvirt policy module, selinux-policy/lxvirt.pp)");
    }

    static void labelOne(const std::string &path, const std::string &label)
    {
        Con old;
        if (lgetfilecon_raw(path.c_str(), &old.p) < 0) {
            if (tolerable(errno))
                return;
            throw Error::system(errno, "unable to get the SELinux label of '" + path + "'",
                                VIR_FROM_SECURITY);
        }
        if (old.str() == label)
            return;
        // Remember only the first original: a second setAllLabel (daemon
        // restart during a start) must not record our own label as original.
        std::string orig = old.str();
        if (lgetxattr(path.c_str(), kRememberXattr, nullptr, 0) < 0 && errno == ENODATA) {
            if (lsetxattr(path.c_str(), kRememberXattr, orig.c_str(), orig.size(), XATTR_CREATE) < 0 &&
                !tolerable(errno) && errno != EEXIST)
                throw Error::system(errno, "unable to remember the SELinux label of '" + path + "'",
                                    VIR_FROM_SECURITY);
        }
        if (lsetfilecon_raw(path.c_str(), label.c_str()) < 0 && !tolerable(errno))
            throw Error::system(errno, "unable to set SELinux label '" + label + "' on '" + path + "'",
                                VIR_FROM_SECURITY);
    }

    void restoreOne(const std::string &path)
    {
        std::string label;
        char buf[4096];
        ssize_t n = lgetxattr(path.c_str(), kRememberXattr, buf, sizeof buf - 1);
        if (n > 0) {
            label.assign(buf, static_cast<std::size_t>(n));
        } else {
            struct stat st;
            if (lstat(path.c_str(), &st) < 0)
                throw Error::system(errno, "cannot stat '" + path + "' to restore its label",
                                    VIR_FROM_SECURITY);
            std::lock_guard lock(mu_);
            if (!labelHandle_)
                labelHandle_ = selabel_open(SELABEL_CTX_FILE, nullptr, 0);
            Con def;
            if (!labelHandle_ || selabel_lookup_raw(labelHandle_, &def.p, path.c_str(), st.st_mode) < 0)
                return; // no default for this path: keep the label (libvirt warns and goes on)
            label = def.str();
        }
        if (lsetfilecon_raw(path.c_str(), label.c_str()) < 0 && !tolerable(errno))
            throw Error::system(errno, "unable to restore SELinux label '" + label + "' on '" + path + "'",
                                VIR_FROM_SECURITY);
        if (n > 0)
            lremovexattr(path.c_str(), kRememberXattr);
    }

    SecurityConfig config_;
    BaseContexts base_;
    mutable std::mutex mu_;
    McsAllocator mcs_;
    selabel_handle *labelHandle_ = nullptr;
};

} // namespace

std::unique_ptr<SecurityManager> createSelinuxManager(const SecurityConfig &config)
{
    return std::make_unique<SelinuxManager>(config);
}

} // namespace lxvirt::security
