// Test helpers shared by every CppUnit program.
#pragma once

#include <stdexcept>
#include <string>

namespace lxvirt::test {

// Throw from a test to report it as skipped, with the reason printed.
class Skip : public std::runtime_error {
public:
    explicit Skip(const std::string& why) : std::runtime_error(why) {}
};

// Directory of the source tree (for data files), from $srcdir or ".".
std::string srcDir();
// Directory of the build tree (for built helpers), from $builddir or ".".
std::string buildDir();

}  // namespace lxvirt::test
