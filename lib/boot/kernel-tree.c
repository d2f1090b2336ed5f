/* Reads from the staged kernel package. A hostile package may hold symbolic links to
 * the build host's files (an absolute boot/vmlinuz-*, a module, a directory); no read
 * may leave the package, so no link is followed, and where a file is expected only a
 * regular file will do. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <lethe/util.h>

#include "boot-internal.h"

#define MAX_DEPTH 32

/* The fallback: one component at a time, each with O_NOFOLLOW. */
static int open_walk(int dfd, const char *rel, int flags)
{
	const char *p = rel;
	int fd = dup(dfd), depth = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		size_t l = strcspn(p, "/");
		char comp[256];
		bool last = !p[l];
		int next;

		if (l == 0 || l >= sizeof(comp) || ++depth > MAX_DEPTH) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(comp, p, l);
		comp[l] = '\0';
		next = openat(fd, comp,
			      (last ? flags : O_RDONLY | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -errno;
		fd = next;
		if (last)
			return fd;
		p += l + 1;
	}
}

int boot_kernel_open(const char *kernel_dir, const char *rel, int flags, int *ret_fd)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	struct stat st;
	int dfd, fd, e;

	if (!lethe_path_is_safe_relative(rel))
		return lethe_error(-LETHE_E_INVALID, "kernel package '%s': unsafe path '%s'",
				   kernel_dir, rel);
	dfd = open(kernel_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		e = -errno;
		return lethe_error(e, "cannot open '%s': %s", kernel_dir, strerror(-e));
	}
	fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
	if (fd < 0 && (errno == ENOSYS || errno == EPERM))
		fd = open_walk(dfd, rel, flags);
	else if (fd < 0)
		fd = -errno;
	close(dfd);
	if (fd == -ELOOP || fd == -EXDEV)
		return lethe_error(-LETHE_E_INVALID,
				   "kernel package '%s': '%s' is a symbolic link or goes through "
				   "one; a link out of the package is never followed",
				   kernel_dir, rel);
	if (fd == -ENOTDIR)
		return lethe_error(
			-LETHE_E_INVALID,
			"kernel package '%s': '%s' is a symbolic link or not a directory, "
			"or goes through one; a link is never followed",
			kernel_dir, rel);
	if (fd < 0)
		return lethe_error(fd, "kernel package '%s': cannot open '%s': %s", kernel_dir, rel,
				   strerror(-fd));
	if (fstat(fd, &st) < 0) {
		e = -errno;
		close(fd);
		return lethe_error(e, "kernel package '%s': cannot stat '%s': %s", kernel_dir, rel,
				   strerror(-e));
	}
	if (!(flags & O_DIRECTORY) && !S_ISREG(st.st_mode)) {
		close(fd);
		return lethe_error(-LETHE_E_INVALID,
				   "kernel package '%s': '%s' is not a regular file", kernel_dir,
				   rel);
	}
	*ret_fd = fd;
	return 0;
}

int boot_kernel_read(const char *kernel_dir, const char *rel, size_t max, char **ret_data,
		     size_t *ret_len)
{
	char *name = lethe_path_join(kernel_dir, rel);
	int fd, r;

	if (!name)
		return -ENOMEM;
	r = boot_kernel_open(kernel_dir, rel, O_RDONLY, &fd);
	if (r >= 0) {
		r = lethe_fd_read(fd, name, max, ret_data, ret_len);
		close(fd);
	}
	free(name);
	return r;
}
