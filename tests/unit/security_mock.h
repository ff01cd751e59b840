// For the security_* tests: re-executes the test program with the LD_PRELOAD
// libselinux mock (tests/selinux-mock/libselinux-mock.so, next to the
// program's directory) unless it already runs under it. Include from exactly
// one source file of a test program.
#pragma once

#include <cstdlib>
#include <dlfcn.h>
#include <link.h>
#include <string>
#include <unistd.h>

namespace lxvirt::test {

// Runs the program again with the mock preloaded, unless it already is. The
// mock sits next to this program's directory: tests/selinux-mock/.
__attribute__((constructor)) static void reexecWithMock(int argc, char **argv, char **)
{
    if (dlsym(RTLD_DEFAULT, "selinux_mock_loaded") || getenv("LXVIRT_SECURITY_TEST_REEXECED"))
        return;
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = 0;
    std::string dir(exe);
    dir = dir.substr(0, dir.rfind('/'));
    std::string mock = dir + "/../selinux-mock/libselinux-mock.so";
    if (access(mock.c_str(), R_OK) != 0)
        return;
    std::string preload = mock;
    // Under --enable-asan the sanitizer runtime must stay first in the list.
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            std::string name = info->dlpi_name ? info->dlpi_name : "";
            if (name.find("/libasan.so") != std::string::npos) {
                auto* list = static_cast<std::string*>(data);
                *list = name + ":" + *list;
                return 1;
            }
            return 0;
        },
        &preload);
    if (const char *old = getenv("LD_PRELOAD"))
        preload += std::string(":") + old;
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv("LXVIRT_SECURITY_TEST_REEXECED", "1", 1);
    (void)argc;
    execv(exe, argv);
}

inline bool mockLoaded()
{
    return dlsym(RTLD_DEFAULT, "selinux_mock_loaded") != nullptr;
}

} // namespace lxvirt::test
