/* Safe file system operations below a staging root: every path is walked component by
 * component from a directory fd with O_NOFOLLOW, so a symbolic link planted by a
 * package can never redirect a write outside the root (or anywhere). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/rootfs.h>

#include "tree.h"

int tree_open_parent(int rootfd, const char *rel, bool create, int *ret_fd, const char **ret_base,
		     const char **why)
{
	const char *p = rel, *slash;
	int fd = dup(rootfd), depth = 0;

	if (fd < 0)
		return -errno;
	while ((slash = strchr(p, '/'))) {
		char comp[256];
		size_t l = (size_t)(slash - p);
		int next;

		if (l == 0 || l >= sizeof(comp) || ++depth > LETHE_ROOTFS_MAX_DEPTH) {
			close(fd);
			*why = "path too deep or a component too long";
			return -EBADMSG;
		}
		memcpy(comp, p, l);
		comp[l] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
				int e = -errno;

				close(fd);
				*why = "cannot create a parent directory";
				return e;
			}
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (next < 0) {
			int e = errno;

			close(fd);
			if (e == ELOOP || e == ENOTDIR) {
				*why = "path goes through a symbolic link or a non-directory";
				return -EBADMSG;
			}
			*why = e == ENOENT ? "parent directory does not exist"
					   : "cannot open a parent "
					     "directory";
			return -e;
		}
		close(fd);
		fd = next;
		p = slash + 1;
	}
	*ret_fd = fd;
	*ret_base = p;
	return 0;
}

int tree_unlink_nondir(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

int tree_write_file(int rootfd, const char *rel, const void *data, size_t len, mode_t mode,
		    uid_t uid, gid_t gid, int64_t epoch)
{
	const struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	const char *base, *why = NULL;
	int dfd, fd, r;

	r = tree_open_parent(rootfd, rel, true, &dfd, &base, &why);
	if (r < 0)
		return lethe_error(r, "cannot write '/%s' in the root: %s", rel, why);
	r = tree_unlink_nondir(dfd, base);
	if (r < 0) {
		close(dfd);
		return lethe_error(r, "cannot replace '/%s' in the root: %s", rel, strerror(-r));
	}
	fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	close(dfd);
	if (fd < 0)
		return lethe_error(-errno, "cannot create '/%s' in the root: %s", rel,
				   strerror(errno));
	r = lethe_write_full(fd, data, len);
	if (r == 0 && geteuid() == 0 && fchown(fd, uid, gid) < 0)
		r = -errno;
	if (r == 0 && fchmod(fd, mode & 07777) < 0)
		r = -errno;
	if (r == 0 && futimens(fd, ts) < 0)
		r = -errno;
	close(fd);
	return r < 0 ? lethe_error(r, "cannot write '/%s' in the root: %s", rel, strerror(-r)) : 0;
}

int tree_symlink(int rootfd, const char *rel, const char *target, int64_t epoch)
{
	const struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	const char *base, *why = NULL;
	int dfd, r;

	r = tree_open_parent(rootfd, rel, true, &dfd, &base, &why);
	if (r < 0)
		return lethe_error(r, "cannot write '/%s' in the root: %s", rel, why);
	r = tree_unlink_nondir(dfd, base);
	if (r == 0 && symlinkat(target, dfd, base) < 0)
		r = -errno;
	if (r == 0)
		utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);
	close(dfd);
	return r < 0 ? lethe_error(r, "cannot link '/%s' in the root: %s", rel, strerror(-r)) : 0;
}

static int clamp_at(int dfd, int64_t epoch, unsigned depth)
{
	DIR *d;
	int r;

	if (depth > 4 * LETHE_ROOTFS_MAX_DEPTH)
		return -ELOOP;
	if ((r = lethe_opendir_fd(dfd, &d)) < 0)
		return r;
	for (struct dirent *e; (e = readdir(d)) && r == 0;) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				r = -errno;
				break;
			}
			r = clamp_at(sub, epoch, depth + 1);
			close(sub);
		}
		if (r == 0 && st.st_mtime > epoch) {
			const struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };

			if (utimensat(dirfd(d), e->d_name, ts, AT_SYMLINK_NOFOLLOW) < 0)
				r = -errno;
		}
	}
	closedir(d);
	return r;
}

int tree_clamp_times(int rootfd, int64_t epoch)
{
	const struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	int r = clamp_at(rootfd, epoch, 0);

	/* Children are done, so the root's own mtime no longer changes. */
	if (r == 0 && futimens(rootfd, ts) < 0)
		r = -errno;
	return r < 0 ? lethe_error(r, "cannot set times in the root: %s", strerror(-r)) : 0;
}
