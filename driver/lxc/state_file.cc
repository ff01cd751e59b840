#include "driver/lxc/state_file.h"
#include "xml/escape.h"

#include "xml/domain_xml.h"
#include "xml/error.h"

#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace lxvirt::lxc {

namespace {

struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
};

std::string dirName(const std::string &path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

// libvirt's virDomainState / reason names (virDomainStateTypeToString,
// virDomainRunningReasonTypeToString, virDomainPausedReasonTypeToString):
// a live state file only ever holds running or paused.
const char *const kStateNames[] = {"nostate",  "running", "blocked", "paused",
                                   "shutdown", "shutoff", "crashed", "pmsuspended"};
const char *const kRunningReasons[] = {"unknown",       "booted",   "migrated",           "restored",
                                       "from snapshot", "unpaused", "migration canceled", "save canceled",
                                       "wakeup",        "crashed",  "post-copy"};
const char *const kPausedReasons[] = {
    "unknown",       "user",     "migration", "save",      "dump",        "ioerror",   "watchdog",
    "from snapshot", "shutdown", "snapshot",  "api error", "starting up", "post-copy", "post-copy failed"};

template <size_t N> int indexOf(const char *const (&table)[N], const std::string &name)
{
    for (size_t i = 0; i < N; i++)
        if (name == table[i])
            return int(i);
    return -1;
}

std::string reasonName(int state, int reason)
{
    if (state == VIR_DOMAIN_RUNNING && reason >= 0 && reason < int(std::size(kRunningReasons)))
        return kRunningReasons[reason];
    if (state == VIR_DOMAIN_PAUSED && reason >= 0 && reason < int(std::size(kPausedReasons)))
        return kPausedReasons[reason];
    return std::to_string(reason);
}

int reasonFromName(int state, const std::string &name)
{
    int r = -1;
    if (state == VIR_DOMAIN_RUNNING)
        r = indexOf(kRunningReasons, name);
    else if (state == VIR_DOMAIN_PAUSED)
        r = indexOf(kPausedReasons, name);
    if (r >= 0)
        return r;
    char *end = nullptr;
    long v = std::strtol(name.c_str(), &end, 10);
    if (name.empty() || *end)
        return 0;
    return int(v);
}

Error stateError(const std::string &what)
{
    return Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, "live state file: " + what);
}

std::string prop(xmlNodePtr node, const char *name)
{
    xmlChar *v = xmlGetProp(node, reinterpret_cast<const xmlChar *>(name));
    if (!v)
        return {};
    std::string s(reinterpret_cast<const char *>(v));
    xmlFree(v);
    return s;
}

long parsePid(xmlNodePtr node, const char *what)
{
    std::string text = prop(node, "pid");
    char *end = nullptr;
    errno = 0;
    long v = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || errno || v <= 0)
        throw stateError(std::string("invalid ") + what + " pid '" + text + "'");
    return v;
}

bool named(xmlNodePtr node, const char *name)
{
    return node->type == XML_ELEMENT_NODE &&
           std::strcmp(reinterpret_cast<const char *>(node->name), name) == 0;
}

} // namespace

void writeFileAtomic(const std::string &path, const std::string &content, mode_t mode, bool durable)
{
    std::string tmp = path + ".new";
    {
        Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        if (fd.fd < 0)
            throw Error::system(errno, "cannot create '" + tmp + "'");
        size_t done = 0;
        while (done < content.size()) {
            ssize_t n = ::write(fd.fd, content.data() + done, content.size() - done);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                int err = errno;
                ::unlink(tmp.c_str());
                throw Error::system(err, "cannot write '" + tmp + "'");
            }
            done += size_t(n);
        }
        if (durable && ::fsync(fd.fd) < 0) {
            int err = errno;
            ::unlink(tmp.c_str());
            throw Error::system(err, "cannot fsync '" + tmp + "'");
        }
    }
    if (::rename(tmp.c_str(), path.c_str()) < 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        throw Error::system(err, "cannot rename '" + tmp + "' to '" + path + "'");
    }
    if (!durable)
        return;
    // The rename itself must reach the disk too.
    Fd dir(::open(dirName(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.fd >= 0)
        ::fsync(dir.fd);
}

std::string readFile(const std::string &path)
{
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.fd < 0)
        throw Error::system(errno, "cannot open '" + path + "'");
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(fd.fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error::system(errno, "cannot read '" + path + "'");
        }
        if (n == 0)
            break;
        out.append(buf, size_t(n));
        if (out.size() > kMaxXmlBytes)
            throw Error::make(VIR_ERR_INTERNAL_ERROR, VIR_FROM_LXC, "file '" + path + "' is too large");
    }
    return out;
}

void removeFile(const std::string &path)
{
    if (::unlink(path.c_str()) < 0 && errno != ENOENT)
        throw Error::system(errno, "cannot remove '" + path + "'");
}

void makeDirs(const std::string &path, mode_t mode)
{
    if (path.empty())
        return;
    std::string cur;
    size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        cur = path.substr(0, pos);
        if (cur.empty())
            continue;
        if (::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST)
            throw Error::system(errno, "cannot create directory '" + cur + "'");
    }
}

std::string formatLiveState(int state, int reason, const RunState &run, const std::string &def_xml)
{
    std::string out = "<domstatus state='";
    out += (state >= 0 && state < int(std::size(kStateNames))) ? kStateNames[state] : "nostate";
    out += "' reason='" + xmlEscape(reasonName(state, reason)) + "' pid='" +
           std::to_string(run.controller_pid) + "'>\n";
    out += "  <init pid='" + std::to_string(run.init_pid) + "'/>\n";
    out += "  <cgroup path='" + xmlEscape(run.cgroup_path) + "'/>\n";
    for (const auto &tty : run.console_ttys)
        out += "  <console tty='" + xmlEscape(tty) + "'/>\n";
    out += def_xml;
    if (!def_xml.empty() && def_xml.back() != '\n')
        out += '\n';
    out += "</domstatus>\n";
    return out;
}

LiveState parseLiveState(const std::string &text)
{
    if (text.size() > kMaxXmlBytes)
        throw stateError("document too large");
    std::unique_ptr<xmlDoc, void (*)(xmlDocPtr)> doc(
        xmlReadMemory(text.data(), int(text.size()), "domstatus.xml", nullptr,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING),
        xmlFreeDoc);
    if (!doc)
        throw Error::make(VIR_ERR_XML_ERROR, VIR_FROM_LXC, "live state file is not well-formed XML");
    xmlNodePtr root = xmlDocGetRootElement(doc.get());
    if (!root || !named(root, "domstatus"))
        throw stateError("root element is not <domstatus>");

    LiveState st;
    std::string state = prop(root, "state");
    st.state = indexOf(kStateNames, state);
    if (st.state < 0)
        throw stateError("unknown state '" + state + "'");
    st.reason = reasonFromName(st.state, prop(root, "reason"));
    st.run.controller_pid = pid_t(parsePid(root, "controller"));

    xmlNodePtr domain = nullptr;
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (named(n, "init"))
            st.run.init_pid = pid_t(parsePid(n, "init"));
        else if (named(n, "cgroup"))
            st.run.cgroup_path = prop(n, "path");
        else if (named(n, "console"))
            st.run.console_ttys.push_back(prop(n, "tty"));
        else if (named(n, "domain"))
            domain = n;
    }
    if (!domain)
        throw stateError("no <domain> element");

    std::unique_ptr<xmlBuffer, void (*)(xmlBufferPtr)> buf(xmlBufferCreate(), xmlBufferFree);
    if (!buf || xmlNodeDump(buf.get(), doc.get(), domain, 0, 0) < 0)
        throw stateError("cannot extract <domain>");
    std::string def_xml(reinterpret_cast<const char *>(xmlBufferContent(buf.get())),
                        size_t(xmlBufferLength(buf.get())));
    st.def = parseDomainXml(def_xml, PARSE_LIVE);
    return st;
}

} // namespace lxvirt::lxc
