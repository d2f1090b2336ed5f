/* The boot stages of `lethe build`, run once the root hash is known: the seam where
 * lib/boot (vmlinuz, initramfs.img, cmdline) and lib/disk (disk.img) join the
 * pipeline. Whatever a stage writes into ctx->out is covered by SHA256SUMS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/boot.h>
#include <lethe/build.h>
#include <lethe/release.h>
#include <lethe/disk.h>

#include "build-internal.h"

int build_stage_boot(struct lethe_build_ctx *ctx)
{
	struct lethe_boot_artifacts a = {
		.outdir = ctx->out,
		.kernel = &ctx->spec->kernel,
		.kernel_dir = ctx->kernel_dir,
		.init = ctx->init,
		.roothash_hex = ctx->roothash_hex,
		.mtime = ctx->epoch,
	};
	int r;

	if (!ctx->kernel_dir) {
		snprintf(ctx->detail, sizeof(ctx->detail), "no kernel.package: nothing to boot");
		return 0;
	}
	r = lethe_boot_make_artifacts(&a);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail), "vmlinuz, initramfs.img, cmdline");
	return r;
}

int build_stage_disk(struct lethe_build_ctx *ctx)
{
	char *disk = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_DISK));
	char *rootfs = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_ROOTFS));
	char *verity = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_VERITY));
	int r = -ENOMEM;

	if (disk && rootfs && verity)
		r = lethe_disk_make_image(disk, rootfs, verity, ctx->roothash, ctx->roothash_len);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail), "disk.img: GPT root + root-verity");
	free(disk);
	free(rootfs);
	free(verity);
	return r;
}
