/* Fuzz target: bytes as a .deb through the whole reader: the ar layout, the control
 * paragraph, and extraction of data.tar into a scratch root (removed after each input),
 * with small caps so that no input can fill the disk. */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/pkg.h>
#include <lethe/rootfs.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char scratch[64];

static void remove_scratch(void)
{
	lethe_rm_rf(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_rootfs_options o = { .epoch = 1700000000,
					  .max_entry_size = 1u << 20,
					  .max_total_size = 8u << 20 };
	struct lethe_pkg_control c;
	struct lethe_strv licenses = { 0 };
	char *deb, *root;
	uint64_t total = 0;
	int fd, rootfd;

	if (size > (16u << 20))
		return 0;
	if (!scratch[0]) {
		snprintf(scratch, sizeof(scratch), "/tmp/lethe-fuzz-deb.XXXXXX");
		if (!mkdtemp(scratch))
			abort();
		atexit(remove_scratch);
	}
	deb = lethe_path_join(scratch, "in.deb");
	root = lethe_path_join(scratch, "root");
	if (!deb || !root || lethe_file_write_atomic(deb, data, size, 0644) < 0 ||
	    mkdir(root, 0755) < 0)
		abort();
	if (lethe_deb_read_control(deb, "fuzz", &c) == 0)
		lethe_pkg_control_release(&c);
	fd = open(deb, O_RDONLY | O_CLOEXEC);
	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || rootfd < 0)
		abort();
	lethe_rootfs_extract(rootfd, fd, "pkg", "fuzz.deb", &o, &total, &licenses);
	close(fd);
	close(rootfd);
	lethe_strv_release(&licenses);
	if (lethe_rm_rf(root) < 0)
		abort();
	free(deb);
	free(root);
	return 0;
}
