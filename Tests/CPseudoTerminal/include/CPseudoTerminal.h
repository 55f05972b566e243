#ifndef IMAGEGEN_CPSEUDOTERMINAL_H
#define IMAGEGEN_CPSEUDOTERMINAL_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in `directory` on a new pseudo-terminal of `rows` x
/// `columns` (forkpty): the child's stdin, stdout and stderr are the terminal, and it is the
/// session leader with the terminal as its controlling one. Returns the child's pid and puts
/// the terminal's master side in `master`, or returns -1 with errno set.
pid_t imagegen_pty_spawn(const char *path, char *const argv[], char *const envp[], const char *directory,
                         unsigned short rows, unsigned short columns, int *master);

/// Resizes the terminal; the kernel sends SIGWINCH to its foreground process group.
int imagegen_pty_resize(int master, unsigned short rows, unsigned short columns);

#endif
