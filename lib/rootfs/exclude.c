/* Excludes: path globs removed from the staged root (docs, man pages, locales for the
 * minimal profile), with includes that keep what must stay (copyright files). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/rootfs.h>

const char *const lethe_rootfs_minimal_exclude[] = {
	"/usr/share/doc/*",
	"/usr/share/man",
	"/usr/share/info",
	"/usr/share/locale",
	"/usr/share/i18n",
	"/usr/share/lintian",
	"/usr/share/linda",
	"/usr/share/bug",
	"/usr/share/menu",
	"/usr/share/groff",
	"/usr/share/bash-completion",
	"/usr/share/zsh",
	NULL,
};

/* Licences must travel with the binaries: every package's copyright file stays. */
const char *const lethe_rootfs_minimal_include[] = {
	"/usr/share/doc/*/copyright",
	NULL,
};

static bool matches(const struct lethe_strv *globs, const char *path)
{
	for (size_t i = 0; globs && i < globs->n; i++)
		if (fnmatch(globs->v[i], path, FNM_PATHNAME | FNM_PERIOD) == 0)
			return true;
	return false;
}

/* Walk the directory dfd whose absolute path is path (in buf, modified and restored).
 * Returns >0 when something inside stays, 0 when the directory is now empty. */
static int exclude_at(int dfd, struct lethe_buf *path, const struct lethe_strv *exclude,
		      const struct lethe_strv *include, bool anc_ex, bool anc_in, unsigned depth,
		      uint64_t *removed)
{
	DIR *d;
	int kept = 0, r;
	size_t len = path->len;

	if (depth > 4 * LETHE_ROOTFS_MAX_DEPTH)
		return -ELOOP;
	if ((r = lethe_opendir_fd(dfd, &d)) < 0)
		return r;
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		bool ex, in;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		path->len = len;
		path->data[len] = '\0';
		if ((r = lethe_buf_printf(path, "%s%s", len > 1 ? "/" : "", e->d_name)) < 0)
			break;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		ex = anc_ex || matches(exclude, path->data);
		in = anc_in || matches(include, path->data);
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), e->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int k;

			if (sub < 0) {
				r = -errno;
				break;
			}
			k = exclude_at(sub, path, exclude, include, ex, in, depth + 1, removed);
			close(sub);
			if (k < 0) {
				r = k;
				break;
			}
			if (ex && !in && k == 0) {
				if (unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0) {
					r = -errno;
					break;
				}
				(*removed)++;
			} else {
				kept = 1;
			}
		} else if (ex && !in) {
			if (unlinkat(dirfd(d), e->d_name, 0) < 0) {
				r = -errno;
				break;
			}
			(*removed)++;
		} else {
			kept = 1;
		}
	}
	path->len = len;
	path->data[len] = '\0';
	closedir(d);
	return r < 0 ? r : kept;
}

int lethe_rootfs_exclude(int rootfd, const struct lethe_strv *exclude,
			 const struct lethe_strv *include, uint64_t *ret_removed)
{
	struct lethe_buf path = { 0 };
	uint64_t removed = 0;
	int r;

	if (lethe_buf_puts(&path, "/") < 0)
		return -ENOMEM;
	r = exclude_at(rootfd, &path, exclude, include, false, false, 0, &removed);
	lethe_buf_release(&path);
	if (r < 0)
		return lethe_error(r, "cannot apply excludes to the root: %s", strerror(-r));
	if (ret_removed)
		*ret_removed = removed;
	return 0;
}
