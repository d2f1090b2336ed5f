/* The kernel package is locked and fetched with the others but never extracted into
 * the root: it goes into a scratch directory of its own, for the boot stages. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/build.h>
#include <lethe/rootfs.h>

#include "build-internal.h"

int build_stage_kernel(struct lethe_build_ctx *ctx)
{
	struct lethe_rootfs_options ro = { .epoch = ctx->epoch };
	uint64_t total = 0;
	unsigned count = 0;
	char *dir, size[32];
	int kfd, r = 0;

	dir = lethe_path_join(ctx->work, "kernel");
	if (!dir)
		return -ENOMEM;
	if (mkdir(dir, 0755) < 0) {
		r = lethe_error(-errno, "cannot create '%s': %m", dir);
		free(dir);
		return r;
	}
	kfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (kfd < 0) {
		r = lethe_error(-errno, "cannot open '%s': %m", dir);
		free(dir);
		return r;
	}
	for (size_t i = 0; i < ctx->set->n && r >= 0; i++) {
		struct lethe_pkg *p = &ctx->set->pkgs[i];
		int debfd;

		if (p->role != LETHE_PKG_KERNEL)
			continue;
		debfd = open(p->path, O_RDONLY | O_CLOEXEC);
		if (debfd < 0) {
			r = lethe_error(-errno, "cannot open '%s': %m", p->path);
			break;
		}
		r = lethe_rootfs_extract(kfd, debfd, p->name, p->filename, &ro, &total,
					 &p->licenses);
		close(debfd);
		count++;
	}
	close(kfd);
	if (r < 0 || count == 0) {
		free(dir);
		if (count == 0)
			snprintf(ctx->detail, sizeof(ctx->detail), "no kernel package");
		return r;
	}
	ctx->kernel_dir = dir;
	build_format_size(total, size);
	snprintf(ctx->detail, sizeof(ctx->detail), "%u package%s, %s", count,
		 count == 1 ? "" : "s", size);
	return 0;
}
