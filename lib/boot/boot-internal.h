/* What lib/boot's files share: reading the staged kernel package, which is as
 * untrusted as the root tree. */
#ifndef LETHE_BOOT_INTERNAL_H
#define LETHE_BOOT_INTERNAL_H

#include <stddef.h>

/* Open rel (a safe relative path) below kernel_dir without following any symbolic
 * link, in rel's directories or at its end, and without leaving kernel_dir: openat2()
 * with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS, or one O_NOFOLLOW component at a time
 * where openat2() is missing. flags: O_RDONLY or O_RDONLY | O_DIRECTORY. A file opened
 * without O_DIRECTORY must be a regular file. Errors name kernel_dir and rel. */
int boot_kernel_open(const char *kernel_dir, const char *rel, int flags, int *ret_fd);

/* Read the regular file rel below kernel_dir (boot_kernel_open()), at most max bytes,
 * NUL-terminated; the caller frees *ret_data. */
int boot_kernel_read(const char *kernel_dir, const char *rel, size_t max, char **ret_data,
		     size_t *ret_len);

#endif
