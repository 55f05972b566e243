#ifndef IMAGEGEN_CSYSTEMSHIMS_H
#define IMAGEGEN_CSYSTEMSHIMS_H

/// Atomically exchanges two paths (Linux renameat2 with RENAME_EXCHANGE).
/// Returns 0 on success, -1 with errno set (ENOSYS/EINVAL where the kernel or file system lacks it).
int imagegen_exchange_paths(const char *first, const char *second);

/// The width in columns of the terminal `fd` is open on (TIOCGWINSZ), or 0 when it is not a
/// terminal or does not say.
int imagegen_terminal_columns(int fd);

/// Whether the directory open on `fd` is opaque in overlayfs (`trusted.overlay.opaque` = "y"):
/// 1 if so, 0 if not (or the attribute cannot be read).
int imagegen_overlay_opaque(int fd);

/// Gives the memory malloc holds free back to the system (glibc's malloc_trim), after a phase
/// that made and dropped many small allocations; does nothing elsewhere.
void imagegen_release_free_memory(void);

#endif
