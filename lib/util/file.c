/* Whole-or-nothing file writes, bounded reads, and full reads and writes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <lethe/util.h>

/* Read len bytes, at off (pread) or, with off < 0, at the file position (read). */
static ssize_t read_full_at(int fd, void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = off < 0 ? read(fd, (char *)buf + done, len - done)
				    : pread(fd, (char *)buf + done, len - done, off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

ssize_t lethe_read_full(int fd, void *buf, size_t len)
{
	return read_full_at(fd, buf, len, -1);
}

ssize_t lethe_pread_full(int fd, void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	return read_full_at(fd, buf, len, off);
}

/* Write len bytes, at off (pwrite) or, with off < 0, at the file position (write). */
static int write_full_at(int fd, const void *buf, size_t len, off_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = off < 0 ? write(fd, (const char *)buf + done, len - done)
				    : pwrite(fd, (const char *)buf + done, len - done,
					     off + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

int lethe_write_full(int fd, const void *buf, size_t len)
{
	return write_full_at(fd, buf, len, -1);
}

int lethe_pwrite_full(int fd, const void *buf, size_t len, off_t off)
{
	if (off < 0)
		return -EINVAL;
	return write_full_at(fd, buf, len, off);
}

int lethe_atomic_open(struct lethe_atomic_file *f, const char *path, mode_t mode)
{
	struct lethe_buf tmp = { 0 };
	int fd, r;

	*f = (struct lethe_atomic_file){ .fd = -1 };
	r = lethe_buf_printf(&tmp, "%s.tmp.XXXXXX", path);
	if (r < 0)
		return r;
	fd = mkostemp(tmp.data, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		lethe_buf_release(&tmp);
		return lethe_error(r, "cannot create a temporary file beside '%s': %s", path,
				   strerror(-r));
	}
	if (fchmod(fd, mode) < 0) {
		r = -errno;
		unlink(tmp.data);
		close(fd);
		lethe_buf_release(&tmp);
		return lethe_error(r, "cannot set the mode of '%s': %s", path, strerror(-r));
	}
	f->path = strdup(path);
	if (!f->path) {
		unlink(tmp.data);
		close(fd);
		lethe_buf_release(&tmp);
		return -ENOMEM;
	}
	f->fd = fd;
	f->tmp_path = tmp.data;
	return 0;
}

int lethe_atomic_commit(struct lethe_atomic_file *f)
{
	int r = 0;

	if (fsync(f->fd) < 0)
		r = -errno;
	if (close(f->fd) < 0 && r == 0)
		r = -errno;
	f->fd = -1;
	if (r == 0 && rename(f->tmp_path, f->path) < 0)
		r = -errno;
	if (r < 0) {
		lethe_error(r, "cannot write '%s': %s", f->path, strerror(-r));
		lethe_atomic_abort(f);
		return r;
	}
	free(f->tmp_path);
	free(f->path);
	f->tmp_path = f->path = NULL;
	return 0;
}

void lethe_atomic_abort(struct lethe_atomic_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	if (f->tmp_path)
		unlink(f->tmp_path);
	free(f->tmp_path);
	free(f->path);
	*f = (struct lethe_atomic_file){ .fd = -1 };
}

int lethe_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	struct lethe_atomic_file f;
	int r;

	r = lethe_atomic_open(&f, path, mode);
	if (r < 0)
		return r;
	r = lethe_write_full(f.fd, data, len);
	if (r < 0) {
		lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
		lethe_atomic_abort(&f);
		return r;
	}
	return lethe_atomic_commit(&f);
}

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return "a directory";
	case S_IFIFO:
		return "a FIFO";
	case S_IFSOCK:
		return "a socket";
	case S_IFCHR:
		return "a character device";
	case S_IFBLK:
		return "a block device";
	default:
		return "a special file";
	}
}

int lethe_open_input(int dirfd, const char *path, int flags, bool allow_blockdev,
		     struct stat *ret_st)
{
	struct stat st;
	int fd, fl, r;

	/* Without O_NONBLOCK, open() of a FIFO waits for a writer for ever. */
	fd = openat(dirfd, path, flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		return lethe_error(r, "cannot open '%s': %s", path, strerror(-r));
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return lethe_error(r, "cannot stat '%s': %s", path, strerror(-r));
	}
	if (!S_ISREG(st.st_mode) && !(allow_blockdev && S_ISBLK(st.st_mode))) {
		close(fd);
		return lethe_error(-EINVAL, "'%s' is not a regular file%s (it is %s)", path,
				   allow_blockdev ? " or a block device" : "",
				   file_kind(st.st_mode));
	}
	/* Reads of a regular file or a disk block anyway; clear the flag all the same. */
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		r = -errno;
		close(fd);
		return lethe_error(r, "cannot use '%s': %s", path, strerror(-r));
	}
	if (ret_st)
		*ret_st = st;
	return fd;
}

/* Read until end of file rather than trusting st_size: files of /proc and /sys say 0
 * or 4096 whatever they hold. name labels the messages. */
int lethe_fd_read(int fd, const char *name, size_t max_size, char **ret_data, size_t *ret_len)
{
	struct lethe_buf b = { 0 };
	char chunk[16384];
	int r = 0;

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			lethe_error(r, "cannot read '%s': %s", name, strerror(-r));
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > max_size - b.len || b.len > max_size) {
			r = lethe_error(-EFBIG, "'%s' is too large: more than %zu bytes", name,
					max_size);
			break;
		}
		r = lethe_buf_append(&b, chunk, (size_t)n);
		if (r < 0)
			break;
	}
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	if (!b.data && lethe_buf_append(&b, "", 0) < 0)
		return -ENOMEM;
	*ret_data = b.data;
	if (ret_len)
		*ret_len = b.len;
	return 0;
}

int lethe_file_read(const char *path, size_t max_size, char **ret_data, size_t *ret_len)
{
	int fd = lethe_open_input(AT_FDCWD, path, O_RDONLY, false, NULL), r;

	if (fd < 0)
		return fd;
	r = lethe_fd_read(fd, path, max_size, ret_data, ret_len);
	close(fd);
	return r;
}

int64_t lethe_source_date_epoch(int64_t fallback)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	char *end;
	long long v;

	if (!s || !*s)
		return fallback;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < 0)
		return fallback;
	return v;
}

void lethe_memzero(void *p, size_t len)
{
	sodium_memzero(p, len);
}

bool lethe_memeq_consttime(const void *a, const void *b, size_t len)
{
	return sodium_memcmp(a, b, len) == 0;
}
