// XML text/attribute escaping for the small documents lxvirt writes outside
// the domain formatter (capabilities, the run-dir live state).
#pragma once

#include <string>

namespace lxvirt {

// Escapes & < > ' " so the result is safe in text and in either quote style.
std::string xmlEscape(const std::string& in);

}  // namespace lxvirt
