/* Path helpers: safety of relative paths from untrusted input, join, mkdir -p, rm -rf,
 * directory streams over a directory fd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/util.h>

bool lethe_path_is_safe_relative(const char *path)
{
	const char *p = path, *start;

	if (!*path || *path == '/')
		return false;
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	while (*p) {
		size_t n;

		start = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - start);
		if (n == 2 && start[0] == '.' && start[1] == '.')
			return false;
		if (*p == '/')
			p++;
	}
	return true;
}

char *lethe_path_join(const char *a, const char *b)
{
	struct lethe_buf out = { 0 };
	size_t alen = strlen(a);

	while (alen > 1 && a[alen - 1] == '/')
		alen--;
	while (*b == '/')
		b++;
	if (lethe_buf_append(&out, a, alen) < 0 ||
	    (!(alen == 1 && a[0] == '/') && lethe_buf_puts(&out, "/") < 0) ||
	    lethe_buf_puts(&out, b) < 0) {
		lethe_buf_release(&out);
		return NULL;
	}
	return out.data;
}

int lethe_mkdir_p(const char *path, mode_t mode)
{
	char *copy = strdup(path);
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			r = -errno;
			lethe_error(r, "cannot create directory '%s': %s", copy, strerror(-r));
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return r;
}

static int rm_rf_at(int parent, const char *name, dev_t dev)
{
	struct stat st;
	DIR *d;
	int fd, r = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(parent, name, 0) < 0 ? -errno : 0;
	if (st.st_dev != dev)
		return -EXDEV;
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		int q = rm_rf_at(dirfd(d), e->d_name, dev);

		if (q < 0 && r == 0)
			r = q;
	}
	closedir(d);
	if (r == 0 && unlinkat(parent, name, AT_REMOVEDIR) < 0)
		r = -errno;
	return r;
}

int lethe_rm_rf(const char *path)
{
	struct stat st;
	int r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	r = rm_rf_at(AT_FDCWD, path, st.st_dev);
	if (r < 0)
		return lethe_error(r, "cannot remove '%s': %s", path, strerror(-r));
	return 0;
}

int lethe_opendir_fd(int dfd, DIR **ret)
{
	/* Not fdopendir(dup(dfd)): a dup shares the offset, so reading would move it. */
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		int r = -errno;

		close(fd);
		return r;
	}
	*ret = d;
	return 0;
}

int lethe_dir_names(int dfd, size_t max, struct lethe_strv *names)
{
	struct dirent *de;
	DIR *d;
	int r = lethe_opendir_fd(dfd, &d);

	if (r < 0)
		return r;
	/* readdir() says an error only through errno: a listing must not silently miss
	 * entries of a directory that could not be read to the end. */
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		r = names->n >= max ? -E2BIG : lethe_strv_push(names, de->d_name);
		if (r < 0) {
			closedir(d);
			return r;
		}
	}
	r = -errno;
	closedir(d);
	if (r >= 0)
		lethe_strv_sort(names);
	return r;
}
