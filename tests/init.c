/* A static multi-call helper that runs inside test containers and answers
 * questions from there (after crun's tests/init).
 *
 *   init [-o FILE] [-w] COMMAND [ARGS...]
 *
 * -o FILE  write the answer to FILE (atomically: FILE.tmp then rename)
 *          instead of stdout, so a test can wait for it to appear
 * -w       after answering, stay alive (as "sleep") until SIGTERM
 *
 * Commands: hostname, pid, pids, uidmap, caps, mounts, cgroup, env, devices,
 * initctl, netdev, spin, memhog MIB, forkbomb N, open PATH, write PATH TEXT, remount PATH, status,
 * mknod PATH MAJ MIN, count FILE, console-echo, sleep, exit CODE.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

extern char **environ;

static char out[65536];
static size_t outlen;

static void emit(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + outlen, sizeof out - outlen, fmt, ap);
    va_end(ap);
    if (n > 0)
        outlen += (size_t)n < sizeof out - outlen ? (size_t)n : sizeof out - outlen - 1;
}

static void emitFile(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        emit("error: %s: %s\n", path, strerror(errno));
        return;
    }
    ssize_t n;
    while (outlen < sizeof out - 1 && (n = read(fd, out + outlen, sizeof out - 1 - outlen)) > 0)
        outlen += (size_t)n;
    close(fd);
}

static void flushOut(const char *file)
{
    if (!file) {
        (void)!write(1, out, outlen);
        return;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", file);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    (void)!write(fd, out, outlen);
    fsync(fd);
    close(fd);
    rename(tmp, file);
}

static volatile sig_atomic_t term;
static void onTerm(int sig)
{
    (void)sig;
    term = 1;
}

/* SIGHUP asks for a reboot the way a real init would: reboot(2) in a pid
 * namespace ends the namespace with init killed by SIGHUP. */
static void onHup(int sig)
{
    (void)sig;
    reboot(RB_AUTOBOOT);
    _exit(3);
}

/* Installed before the answer is written: a test may signal as soon as it
 * sees the answer, and pid 1 ignores signals it has no handler for. */
static void installHandlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = onTerm;
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = onHup;
    sigaction(SIGHUP, &sa, NULL);
}

static void sleepUntilTerm(void)
{
    installHandlers();
    while (!term)
        pause();
    exit(0);
}

static void caps(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    if (!f) {
        emit("error: %s\n", strerror(errno));
        return;
    }
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "Cap", 3) == 0)
            emit("%s", line);
    fclose(f);
}

static void listDir(const char *path, int numericOnly)
{
    DIR *d = opendir(path);
    if (!d) {
        emit("error: %s\n", strerror(errno));
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (numericOnly && (e->d_name[0] < '0' || e->d_name[0] > '9'))
            continue;
        emit("%s\n", e->d_name);
    }
    closedir(d);
}

static int memhog(long mib)
{
    for (long i = 0; i < mib; ++i) {
        char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            emit("error: mmap after %ld MiB: %s\n", i, strerror(errno));
            return 1;
        }
        memset(p, 0x5a, 1 << 20);
    }
    emit("allocated %ld MiB\n", mib);
    return 0;
}

static int forkbomb(long n)
{
    long made = 0;
    for (long i = 0; i < n; ++i) {
        pid_t p = fork();
        if (p == 0) {
            for (;;)
                pause();
        }
        if (p < 0) {
            emit("forked %ld, then: %s\n", made, strerror(errno));
            return 1;
        }
        ++made;
    }
    emit("forked %ld\n", made);
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    int stay = 0;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            file = argv[++i];
        else if (strcmp(argv[i], "-w") == 0)
            stay = 1;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: init [-o FILE] [-w] COMMAND [ARGS...]\n");
        return 2;
    }
    const char *cmd = argv[i];
    if (stay || strcmp(cmd, "sleep") == 0)
        installHandlers();
    char **args = argv + i + 1;
    int nargs = argc - i - 1;
    int rc = 0;
    if (strcmp(cmd, "hostname") == 0) {
        char h[256] = "";
        gethostname(h, sizeof h);
        emit("%s\n", h);
    } else if (strcmp(cmd, "pid") == 0) {
        emit("%d\n", (int)getpid());
    } else if (strcmp(cmd, "pids") == 0) {
        listDir("/proc", 1);
    } else if (strcmp(cmd, "uidmap") == 0) {
        emitFile("/proc/self/uid_map");
    } else if (strcmp(cmd, "caps") == 0) {
        caps();
    } else if (strcmp(cmd, "mounts") == 0) {
        emitFile("/proc/self/mounts");
    } else if (strcmp(cmd, "cgroup") == 0) {
        emitFile("/proc/self/cgroup");
    } else if (strcmp(cmd, "env") == 0) {
        for (char **e = environ; *e; ++e)
            emit("%s\n", *e);
    } else if (strcmp(cmd, "devices") == 0) {
        listDir("/dev", 0);
    } else if (strcmp(cmd, "memhog") == 0 && nargs >= 1) {
        rc = memhog(atol(args[0]));
    } else if (strcmp(cmd, "forkbomb") == 0 && nargs >= 1) {
        rc = forkbomb(atol(args[0]));
    } else if (strcmp(cmd, "open") == 0 && nargs >= 1) {
        int fd = open(args[0], O_RDWR);
        if (fd < 0 && (errno == EACCES || errno == EROFS))
            fd = open(args[0], O_RDONLY);
        if (fd < 0) {
            emit("error: %s\n", strerror(errno));
            rc = 1;
        } else {
            emit("ok\n");
            close(fd);
        }
    } else if (strcmp(cmd, "write") == 0 && nargs >= 2) {
        int fd = open(args[0], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, args[1], strlen(args[1])) < 0) {
            emit("error: %s\n", strerror(errno));
            rc = 1;
        } else {
            emit("ok\n");
        }
        if (fd >= 0)
            close(fd);
    } else if (strcmp(cmd, "remount") == 0 && nargs >= 1) {
        if (mount(NULL, args[0], NULL, MS_REMOUNT | MS_BIND, NULL) < 0 &&
            mount(NULL, args[0], NULL, MS_REMOUNT, NULL) < 0) {
            emit("error: %s\n", strerror(errno));
            rc = 1;
        } else {
            int fd = open("/.remount-probe", O_WRONLY | O_CREAT, 0644);
            emit(fd < 0 ? "remounted, still not writable\n" : "ok\n");
            if (fd >= 0) {
                close(fd);
                unlink("/.remount-probe");
            }
        }
    } else if (strcmp(cmd, "spin") == 0) {
        flushOut(file);
        for (volatile unsigned long n = 0;; ++n) {
        }
    } else if (strcmp(cmd, "initctl") == 0) {
        /* A SysV init's control pipe: runlevel 0 exits, 6 reboots. */
        if (mkfifo("/dev/initctl", 0600) < 0) {
            emit("error: mkfifo: %s\n", strerror(errno));
            rc = 1;
        } else {
            emit("listening\n");
            flushOut(file);
            for (;;) {
                int fd = open("/dev/initctl", O_RDONLY);
                unsigned char req[384];
                int magic = 0, cmdno = 0, level = 0;
                if (fd >= 0 && read(fd, req, sizeof req) == (ssize_t)sizeof req) {
                    memcpy(&magic, req, 4);
                    memcpy(&cmdno, req + 4, 4);
                    memcpy(&level, req + 8, 4);
                }
                if (fd >= 0)
                    close(fd);
                if (magic == 0x03091969 && cmdno == 1 && level == '0')
                    return 0;
                if (magic == 0x03091969 && cmdno == 1 && level == '6') {
                    reboot(RB_AUTOBOOT);
                    return 3;
                }
            }
        }
    } else if (strcmp(cmd, "netdev") == 0) {
        emitFile("/proc/net/dev");
    } else if (strcmp(cmd, "status") == 0) {
        emitFile("/proc/self/status");
    } else if (strcmp(cmd, "mknod") == 0 && nargs >= 3) {
        if (mknod(args[0], S_IFCHR | 0600, makedev(atoi(args[1]), atoi(args[2]))) < 0) {
            emit("error: mknod: %s\n", strerror(errno));
            rc = 1;
        } else {
            int fd = open(args[0], O_RDWR);
            emit(fd < 0 ? "error: open: %s\n" : "ok%s\n", fd < 0 ? strerror(errno) : "");
            rc = fd < 0;
            if (fd >= 0)
                close(fd);
        }
    } else if (strcmp(cmd, "count") == 0 && nargs >= 1) {
        /* Rewrites a counter every 5 ms: a frozen container stops counting. */
        for (unsigned long n = 0;; ++n) {
            char tmp[4096], buf[32];
            snprintf(tmp, sizeof tmp, "%s.tmp", args[0]);
            int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                int len = snprintf(buf, sizeof buf, "%lu\n", n);
                (void)!write(fd, buf, (size_t)len);
                close(fd);
                rename(tmp, args[0]);
            }
            usleep(5000);
        }
    } else if (strcmp(cmd, "console-echo") == 0) {
        char line[256];
        if (fgets(line, sizeof line, stdin)) {
            line[strcspn(line, "\r\n")] = 0;
            printf("echo: %s\n", line);
            fflush(stdout);
        }
    } else if (strcmp(cmd, "sleep") == 0) {
        stay = 1;
    } else if (strcmp(cmd, "exit") == 0 && nargs >= 1) {
        return atoi(args[0]);
    } else {
        fprintf(stderr, "init: unknown command '%s'\n", cmd);
        return 2;
    }
    flushOut(file);
    if (stay)
        sleepUntilTerm();
    return rc;
}
