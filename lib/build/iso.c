/* The iso stage of `lethe build`: lethe.iso from the ESP the disk stage left in
 * scratch and the root and verity images (lib/boot/iso.c), when there is a kernel. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/iso.h>
#include <lethe/release.h>

#include "build-internal.h"

/* The volume id from the image name: "lethe-minimal" -> "LETHE_MINIMAL". */
static void volume_id(const char *name, char ret[33])
{
	size_t n = 0;

	for (; name[n] && n < 32; n++)
		ret[n] = isalnum((unsigned char)name[n]) ? (char)toupper((unsigned char)name[n])
							 : '_';
	ret[n] = '\0';
	if (!n)
		snprintf(ret, 33, "LETHE");
}

int build_stage_iso(struct lethe_build_ctx *ctx)
{
	char *iso = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_ISO));
	char *rootfs = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_ROOTFS));
	char *verity = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_VERITY));
	char *esp = lethe_path_join(ctx->work, "esp.img");
	char vol[33], size[32];
	int r = iso && rootfs && verity && esp ? 0 : -ENOMEM;

	if (r >= 0 && !ctx->kernel_dir) {
		snprintf(ctx->detail, sizeof(ctx->detail), "no kernel.package: no ISO");
		goto out;
	}
	volume_id(ctx->spec->name, vol);
	if (r >= 0)
		r = lethe_iso_make(&(struct lethe_iso_options){ .output = iso,
								.esp = esp,
								.rootfs = rootfs,
								.verity = verity,
								.volume_id = vol,
								.roothash = ctx->roothash,
								.roothash_len = ctx->roothash_len,
								.workdir = ctx->work,
								.epoch = ctx->epoch });
	if (r >= 0) {
		build_format_size(build_file_size(iso), size);
		snprintf(ctx->detail, sizeof(ctx->detail),
			 "lethe.iso %s: El Torito UEFI + GPT (ESP, root, root-verity)", size);
	}
out:
	free(iso);
	free(rootfs);
	free(verity);
	free(esp);
	return r;
}
