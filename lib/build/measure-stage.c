/* The pcr stage of `lethe build`: pcr.json, the PCR values the boot of this release
 * leaves (lib/measure). It reads lethe.efi as the release holds it, so that the
 * prediction is of the file SHA256SUMS covers and not of what went into it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/measure.h>
#include <lethe/release.h>
#include <lethe/uefi.h>

#include "build-internal.h"

static int read_digest(const char *path, uint8_t ret[32])
{
	char *data = NULL;
	size_t len = 0;
	int r = lethe_file_read(path, LETHE_PE_MAX_SIZE, &data, &len);

	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	r = lethe_measure_authenticode(data, len, path, ret);
	free(data);
	return r;
}

int build_stage_pcr(struct lethe_build_ctx *ctx)
{
	struct lethe_measure_pcrs p = { 0 };
	char *uki = NULL, *out = NULL, *json = NULL, *data = NULL, hex[65];
	size_t len = 0;
	int r;

	if (!ctx->kernel_dir) {
		snprintf(ctx->detail, sizeof(ctx->detail), "no kernel.package: no UKI to measure");
		return 0;
	}
	uki = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_UKI));
	out = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_PCR));
	r = uki && out ? 0 : -ENOMEM;
	if (r >= 0) {
		r = lethe_file_read(uki, LETHE_PE_MAX_SIZE, &data, &len);
		if (r < 0)
			r = lethe_error(r, "cannot read '%s': %s", uki, strerror(-r));
	}
	if (r >= 0)
		r = lethe_measure_pcr11(data, len, uki, p.sha256[LETHE_MEASURE_PCR_KERNEL_UKI]);
	p.has[LETHE_MEASURE_PCR_KERNEL_UKI] = true;
	/* Under Secure Boot the firmware measures exactly systemd-boot and the UKI. */
	if (r >= 0 && ctx->sb_systemd_boot) {
		uint8_t apps[2][32];

		r = read_digest(ctx->sb_systemd_boot, apps[0]);
		if (r >= 0)
			r = lethe_measure_authenticode(data, len, uki, apps[1]);
		if (r >= 0) {
			lethe_measure_pcr4((const uint8_t(*)[32])apps, 2,
					   p.sha256[LETHE_MEASURE_PCR_BOOT_APPS]);
			p.has[LETHE_MEASURE_PCR_BOOT_APPS] = true;
		}
	}
	if (r >= 0)
		r = lethe_measure_json_format(&p, &json);
	if (r >= 0) {
		r = lethe_file_write_atomic(out, json, strlen(json), 0644);
		if (r < 0)
			r = lethe_error(r, "cannot write '%s': %s", out, strerror(-r));
	}
	if (r >= 0) {
		lethe_hex_encode(p.sha256[LETHE_MEASURE_PCR_KERNEL_UKI], 32, hex);
		snprintf(ctx->detail, sizeof(ctx->detail), "pcr.json: PCR 11 %.16s…%s", hex,
			 ctx->sb_systemd_boot ? ", PCR 4" : "");
	}
	free(uki);
	free(out);
	free(json);
	free(data);
	return r;
}
