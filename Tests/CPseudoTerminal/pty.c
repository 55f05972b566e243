#define _GNU_SOURCE
#include <errno.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "CPseudoTerminal.h"

pid_t imagegen_pty_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                         unsigned short rows, unsigned short columns, int *master) {
    struct winsize size = {0};
    size.ws_row = rows;
    size.ws_col = columns;
    pid_t pid = forkpty(master, NULL, NULL, &size);
    if (pid == 0) {
        /* Only async-signal-safe calls between fork and exec. */
        if (directory != NULL && chdir(directory) != 0) _exit(126);
        execve(path, argv, envp);
        _exit(127);
    }
    return pid;
}

int imagegen_pty_resize(int master, unsigned short rows, unsigned short columns) {
    struct winsize size = {0};
    size.ws_row = rows;
    size.ws_col = columns;
    return ioctl(master, TIOCSWINSZ, &size);
}
