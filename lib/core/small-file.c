/* The one reader of small files for PID 1 and lib/core: /proc files, the cmdline, the
 * image's passwd and group, read into a buffer of the caller's without allocating. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <lethe/core.h>

ssize_t lethe_small_file_read(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd;

	if (size == 0)
		return -ENOBUFS;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* A longer file is read as far as the cap: /proc files are small, and a passwd
	 * file past the cap is cut, as PID 1 always read it. */
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			close(fd);
			return -saved;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}
