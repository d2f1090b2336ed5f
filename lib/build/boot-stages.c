/* The boot stages of `lethe build`, run once the root hash is known: the seam where
 * lib/boot (vmlinuz, initramfs.img, cmdline, lethe.efi, the ESP) and lib/disk
 * (disk.img) join the pipeline. Whatever a stage writes into ctx->out is covered by
 * SHA256SUMS. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lethe/boot.h>
#include <lethe/build.h>
#include <lethe/release.h>
#include <lethe/disk.h>
#include <lethe/uefi.h>

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

/* lethe.efi: systemd-stub with the image's os-release, the cmdline (the root hash in
 * it), the kernel version, initramfs.img and vmlinuz. */
int build_stage_uki(struct lethe_build_ctx *ctx)
{
	char *version = NULL, *cmdline = NULL, *osrel = NULL, *osrel_path = NULL;
	char *linux_path = NULL, *initrd = NULL, *out = NULL, size[32];
	size_t len;
	int r;

	if (!ctx->kernel_dir) {
		snprintf(ctx->detail, sizeof(ctx->detail), "no kernel.package: no UKI");
		return 0;
	}
	osrel_path = lethe_path_join(ctx->root, "usr/lib/os-release");
	linux_path = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_KERNEL));
	initrd = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_INITRAMFS));
	out = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_UKI));
	r = osrel_path && linux_path && initrd && out ? 0 : -ENOMEM;
	if (r >= 0)
		r = lethe_boot_kernel_version(ctx->kernel_dir, &version);
	if (r >= 0)
		r = lethe_boot_cmdline_make(&ctx->spec->kernel, ctx->roothash_hex, &cmdline);
	if (r >= 0) {
		r = lethe_file_read(osrel_path, 64 * 1024, &osrel, &len);
		if (r < 0)
			r = lethe_error(r, "cannot read '%s': %s", osrel_path, strerror(-r));
	}
	if (r >= 0)
		r = lethe_uki_make(&(struct lethe_uki_options){ .linux_path = linux_path,
								.initrd_path = initrd,
								.osrel = osrel,
								.cmdline = cmdline,
								.uname = version,
								.workdir = ctx->work,
								.output = out });
	if (r >= 0) {
		build_format_size(build_file_size(out), size);
		snprintf(ctx->detail, sizeof(ctx->detail), "lethe.efi %s: systemd-stub, kernel %s",
			 size, version);
	}
	free(version);
	free(cmdline);
	free(osrel);
	free(osrel_path);
	free(linux_path);
	free(initrd);
	free(out);
	return r;
}

/* The ESP (when there is a UKI) into scratch: it lives only inside disk.img. */
static int make_esp(struct lethe_build_ctx *ctx, char **ret)
{
	char *uki = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_UKI));
	char *esp = lethe_path_join(ctx->work, "esp.img");
	char uuid[LETHE_DISK_UUID_STR], volid[9];
	struct build_menu menu = { 0 };
	int r = uki && esp ? 0 : -ENOMEM;

	if (r >= 0)
		r = build_menu_titles(ctx, &menu); /* menu.c: the boot menu (issue 11.3) */
	if (r >= 0)
		r = lethe_disk_esp_uuid(ctx->roothash, ctx->roothash_len, uuid);
	if (r >= 0) {
		memcpy(volid, uuid, 8); /* the FAT serial: as reproducible as the UUID */
		volid[8] = '\0';
		r = lethe_esp_make(&(struct lethe_esp_options){
			.output = esp,
			.uki = uki,
			.uki_name = lethe_release_name(LETHE_ARTIFACT_UKI),
			.systemd_boot = ctx->sb_systemd_boot, /* NULL: Debian's, unsigned */
			.sb_enroll_dir = ctx->opts->sb_enroll ? ctx->opts->sb_key_dir : NULL,
			.timeout = ctx->spec->boot_timeout,
			.size_mib = ctx->spec->boot_esp_mib,
			.volume_id = volid,
			.workdir = ctx->work,
			.epoch = ctx->epoch,
			.menu_title = menu.title,
			.menu_version = menu.version,
			.menu_persistence = ctx->spec->persistence != NULL });
	}
	free(uki);
	if (r < 0) {
		free(esp);
		return r;
	}
	*ret = esp;
	return 0;
}

int build_stage_disk(struct lethe_build_ctx *ctx)
{
	char *disk = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_DISK));
	char *rootfs = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_ROOTFS));
	char *verity = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_VERITY));
	char *esp = NULL, size[32];
	int r = disk && rootfs && verity ? 0 : -ENOMEM;

	if (r >= 0 && ctx->kernel_dir)
		r = make_esp(ctx, &esp);
	if (r >= 0)
		r = lethe_disk_make_image_esp(disk, rootfs, verity, esp, ctx->roothash,
					      ctx->roothash_len);
	if (r >= 0) {
		build_format_size(build_file_size(disk), size);
		snprintf(ctx->detail, sizeof(ctx->detail), "disk.img %s: GPT root + root-verity%s",
			 size, esp ? " + ESP (systemd-boot, lethe.efi)" : "");
	}
	/* esp.img stays in scratch for the iso stage (the scratch goes with the build). */
	free(esp);
	free(disk);
	free(rootfs);
	free(verity);
	return r;
}
