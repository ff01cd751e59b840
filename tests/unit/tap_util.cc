#include "tests/unit/tap.h"

#include <cstdlib>

namespace lxvirt::test {

std::string srcDir()
{
    const char* s = std::getenv("srcdir");
    return s && *s ? s : ".";
}

std::string buildDir()
{
    const char* s = std::getenv("builddir");
    return s && *s ? s : ".";
}

}  // namespace lxvirt::test
