// Helpers for the container child: fixed buffers, no allocation, no
// exceptions. Private to driver/container.
#pragma once

#include "driver/container/child.h"

#include <limits.h>

namespace lxvirt::container::detail {

struct Child {
    const ChildConfig *cfg;
    ChildMsg msg;
    char root[PATH_MAX]; // where the new root is assembled (stage/root)
    int console_fd = -1; // slave of console 0, becomes init's stdio
};

[[noreturn]] void fail(Child &c, Step step, int err, const char *path);
void stamp(Child &c, Stamp s);

// dst = a + b (b absolute or relative); false if it does not fit.
bool join(char *dst, size_t size, const char *a, const char *b);
// Like join, into a PATH_MAX buffer, failing the step on overflow.
void underRoot(Child &c, char (&dst)[PATH_MAX], const char *path, Step step);

// mkdir -p; 0 or an errno.
int mkdirAll(const char *path, mode_t mode);
// Creates an empty file (and its parents) to bind a file onto.
int touchAll(const char *path);
// mount(2) returning 0 or errno.
int doMount(const char *src, const char *dst, const char *type, unsigned long flags, const void *data);
// Bind (recursively) and make read-only if asked; 0 or errno.
int bindMount(const char *src, const char *dst, bool readonly, bool recursive);

void setupRoot(Child &c);    // Stage, RootMount, Mounts
void setupProcSys(Child &c); // Proc, Sys
void setupDev(Child &c);     // Dev, Devpts, Console
void dropCaps(Child &c);     // Caps
void setupUser(Child &c);    // User

} // namespace lxvirt::container::detail
