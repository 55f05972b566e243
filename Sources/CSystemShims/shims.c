#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include "CSystemShims.h"
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void imagegen_release_free_memory(void) {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
}

int imagegen_exchange_paths(const char *first, const char *second) {
#if defined(__linux__) && defined(SYS_renameat2)
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
    return (int)syscall(SYS_renameat2, AT_FDCWD, first, AT_FDCWD, second, RENAME_EXCHANGE);
#else
    errno = ENOSYS;
    return -1;
#endif
}

int imagegen_terminal_columns(int fd) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
    return (int)size.ws_col;
}

int imagegen_overlay_opaque(int fd) {
    char value[4];
#if defined(__APPLE__)
    ssize_t count = fgetxattr(fd, "trusted.overlay.opaque", value, sizeof value, 0, 0);
#else
    ssize_t count = fgetxattr(fd, "trusted.overlay.opaque", value, sizeof value);
#endif
    return count == 1 && value[0] == 'y';
}
