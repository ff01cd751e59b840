// Files the LXC driver keeps: persistent definitions (CONFIG_DIR/NAME.xml),
// autostart links and the live state of a running domain (RUN_DIR/NAME.xml,
// a <domstatus> wrapper around the live definition, like libvirt's status
// XML).
#pragma once

#include "driver/lxc/container.h"
#include "xml/domain_def.h"

#include <string>

namespace lxvirt::lxc {

// Writes PATH.new, fsyncs it, renames it over PATH and fsyncs the directory,
// so a crash leaves either the old or the new content, never a torn file.
// Replaces `path` atomically (write NAME.new, rename). `durable` also fsyncs
// the data and the directory: wanted for persistent definitions, not for
// run-dir state, which describes processes that do not outlive the machine
// (two fsyncs cost ~10 ms on every start where /run is on disk).
void writeFileAtomic(const std::string &path, const std::string &content, mode_t mode = 0600,
                     bool durable = true);
// Reads a whole file; throws VIR_ERR_SYSTEM_ERROR naming the path.
std::string readFile(const std::string &path);
// unlink that ignores ENOENT; throws otherwise.
void removeFile(const std::string &path);
// mkdir -p; throws naming the path.
void makeDirs(const std::string &path, mode_t mode = 0755);

struct LiveState {
    int state = 1;  // virDomainState
    int reason = 0; // per-state reason enum
    RunState run;
    DomainDef def; // the live definition (console ttys/aliases filled in)
};

// The <domstatus> document. `def_xml` is the live definition as formatted by
// formatDomainXml(..., inactive=false).
std::string formatLiveState(int state, int reason, const RunState &run, const std::string &def_xml);
// Parses a <domstatus> document (the inner <domain> with PARSE_LIVE). Throws
// lxvirt::Error (VIR_ERR_XML_ERROR / INTERNAL_ERROR) naming what is wrong.
LiveState parseLiveState(const std::string &text);

} // namespace lxvirt::lxc
