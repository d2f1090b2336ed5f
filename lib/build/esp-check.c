/* The esp-check stage of `lethe build` (issue 11, bad input): a boot.esp_size that
 * cannot hold systemd-boot and the UKI is refused as soon as the kernel package is
 * fetched, before it is unpacked and before the root is staged and imaged (the UKI
 * itself exists only once the root hash is known, near the end). What is counted is
 * exact or less than the real need: systemd-boot twice, the stub and the package's
 * vmlinuz (read from the .deb's data.tar, which holds boot/ before lib/); the
 * initramfs and the sections come on top, so a size just short of the need is still
 * refused at the disk stage, by lethe_esp_make(), with the exact figure. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/pkg.h>
#include <lethe/uefi.h>

#include "build-internal.h"

struct vmlinuz {
	uint64_t size;
	char name[128];
};

static int vmlinuz_entry(struct archive *a, struct archive_entry *e, void *userdata)
{
	struct vmlinuz *v = userdata;
	const char *p = archive_entry_pathname(e);

	(void)a;
	if (!p)
		return 0;
	if (!strncmp(p, "./", 2))
		p += 2;
	if (strncmp(p, "boot/vmlinuz-", 13) || strchr(p + 5, '/') ||
	    archive_entry_filetype(e) != AE_IFREG || archive_entry_size(e) < 0)
		return 0;
	v->size = (uint64_t)archive_entry_size(e);
	snprintf(v->name, sizeof(v->name), "%s", p + 5);
	return 1;
}

static int host_size(enum lethe_uefi_file f, uint64_t *ret)
{
	const char *path = lethe_uefi_tool_path(f);
	struct stat st;

	if (stat(path, &st) < 0)
		return lethe_error(-errno, "cannot read '%s': %m", path);
	*ret = (uint64_t)st.st_size;
	return 0;
}

int build_stage_esp_check(struct lethe_build_ctx *ctx)
{
	struct vmlinuz v = { 0 };
	uint64_t boot = 0, stub = 0;
	unsigned need = 0, have = ctx->spec->boot_esp_mib;
	int r = 0;

	if (!ctx->spec->kernel.package || !have) {
		snprintf(ctx->detail, sizeof(ctx->detail), "%s",
			 have ? "no kernel.package: no ESP" : "no boot.esp_size: the ESP fits");
		return 0;
	}
	for (size_t i = 0; i < ctx->set->n && r == 0; i++) {
		const struct lethe_pkg *p = &ctx->set->pkgs[i];
		int fd;

		if (p->role != LETHE_PKG_KERNEL)
			continue;
		fd = open(p->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return lethe_error(-errno, "cannot open '%s': %m", p->path);
		r = lethe_deb_walk(fd, p->filename, LETHE_DEB_DATA, vmlinuz_entry, &v);
		close(fd);
	}
	if (r < 0)
		return r;
	r = host_size(LETHE_UEFI_FILE_SYSTEMD_BOOT, &boot);
	if (r >= 0)
		r = host_size(LETHE_UEFI_FILE_STUB, &stub);
	if (r >= 0)
		r = lethe_esp_size_needed(2 * boot + stub + v.size, &need);
	if (r < 0)
		return r;
	if (have < need)
		return lethe_error(
			-ENOSPC,
			"spec '%s': boot.esp_size %u MiB cannot hold the ESP: systemd-boot "
			"(twice), the UKI's stub and %s (%" PRIu64 " KiB) alone need %u "
			"MiB, the initramfs more; raise boot.esp_size or leave it out",
			ctx->opts->spec_path, have, v.size ? v.name : "no vmlinuz", v.size >> 10,
			need);
	snprintf(ctx->detail, sizeof(ctx->detail),
		 "boot.esp_size %u MiB: at least %u MiB for systemd-boot, the stub and %s", have,
		 need, v.size ? v.name : "no vmlinuz");
	return 0;
}
