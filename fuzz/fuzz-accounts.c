/* Fuzz lib/core's passwd and group reader, which lethe-init runs for every service. The
 * input is both files: a passwd part, a NUL, a group part. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lethe/core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfile(const void *data, size_t size, char path[64])
{
	int fd = memfd_create("fuzz-accounts", MFD_CLOEXEC);

	if (fd < 0)
		return -1;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return -1;
	}
	snprintf(path, 64, "/proc/self/fd/%d", fd);
	return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const users[] = { NULL, "root", "www", "nobody" };
	const uint8_t *nul = memchr(data, '\0', size);
	size_t plen = nul ? (size_t)(nul - data) : size;
	char ppath[64], gpath[64];
	int pfd = memfile(data, plen, ppath);
	int gfd = memfile(nul ? nul + 1 : data, nul ? size - plen - 1 : 0, gpath);

	for (size_t i = 0; pfd >= 0 && gfd >= 0 && i < sizeof(users) / sizeof(users[0]); i++) {
		struct lethe_account a;

		if (lethe_account_resolve(ppath, gpath, users[i], NULL, &a) == 0 &&
		    (a.n_groups < 1 || a.n_groups > LETHE_ACCOUNT_MAX_GROUPS ||
		     a.groups[0] != a.gid))
			abort();
		(void)lethe_account_resolve(ppath, gpath, users[i], "www", &a);
	}
	if (pfd >= 0)
		close(pfd);
	if (gfd >= 0)
		close(gfd);
	return 0;
}
