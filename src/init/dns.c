/* /etc/resolv.conf from the spec's network.dns, and nothing else: a resolver that
 * reads it asks only the servers the spec names (the firewall drops DNS to any other,
 * lib/firewall/egress.c). Written before any interface is up. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stage2.h"

int init_dns_render(const char *const *servers, size_t n, char *buf, size_t size)
{
	size_t len;
	int w = snprintf(buf, size, "# written by lethe-init from the spec's network.dns%s\n",
			 n ? "" : ", which names no server");

	if (w < 0 || (size_t)w >= size)
		return -ENOBUFS;
	len = (size_t)w;
	for (size_t i = 0; i < n; i++) {
		w = snprintf(buf + len, size - len, "nameserver %s\n", servers[i]);
		if (w < 0 || (size_t)w >= size - len)
			return -ENOBUFS;
		len += (size_t)w;
	}
	return (int)len;
}

int init_dns_write(const char *path, const char *const *servers, size_t n)
{
	char text[1024], tmp[256];
	int len = init_dns_render(servers, n, text, sizeof(text)), fd, r = 0;

	if (len < 0)
		return len;
	if (snprintf(tmp, sizeof(tmp), "%s.lethe-init", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	(void)unlink(tmp);
	/* A file of its own, renamed over whatever the image had (a link into /run as
	 * well): no writer of the old target can change what the resolver reads. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len)
		r = errno ? -errno : -EIO;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		(void)unlink(tmp);
	return r;
}
