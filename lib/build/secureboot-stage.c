/* Secure Boot in `lethe build` (--sb-key DIR): the key directory checked before any
 * work, and the sb-sign stage, which signs lethe.efi in the output and a copy of
 * systemd-boot for the ESP with db. Each signature is checked by sbverify before it
 * replaces the unsigned file. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/release.h>
#include <lethe/secureboot.h>
#include <lethe/uefi.h>

#include "build-internal.h"

int build_sb_prepare(struct lethe_build_ctx *ctx)
{
	const struct lethe_build_options *o = ctx->opts;
	int r;

	if (!o->sb_key_dir) {
		if (o->sb_enroll)
			return lethe_error(-EINVAL, "key enrolment needs the keys: pass --sb-key");
		return 0;
	}
	if (!ctx->spec->kernel.package)
		return lethe_error(-EINVAL,
				   "'%s' has no kernel.package: nothing boots, nothing to sign "
				   "for Secure Boot",
				   o->spec_path);
	ctx->sb_keys = calloc(1, sizeof(*ctx->sb_keys));
	if (!ctx->sb_keys)
		return -ENOMEM;
	r = lethe_sb_keys_open(o->sb_key_dir, o->sb_enroll, ctx->sb_keys);
	if (r < 0) {
		free(ctx->sb_keys);
		ctx->sb_keys = NULL;
	}
	return r;
}

void build_sb_release(struct lethe_build_ctx *ctx)
{
	lethe_sb_keys_release(ctx->sb_keys);
	free(ctx->sb_keys);
	ctx->sb_keys = NULL;
	free(ctx->sb_systemd_boot);
	ctx->sb_systemd_boot = NULL;
}

int build_stage_sb_sign(struct lethe_build_ctx *ctx)
{
	char *uki = NULL, *boot = NULL;
	int r;

	if (!ctx->sb_keys) {
		snprintf(ctx->detail, sizeof(ctx->detail),
			 "not signed for Secure Boot (no --sb-key)");
		return 0;
	}
	uki = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_UKI));
	boot = lethe_path_join(ctx->work, "systemd-bootx64.signed.efi");
	r = uki && boot ? 0 : -ENOMEM;
	if (r >= 0)
		r = lethe_sb_sign(ctx->sb_keys, uki, uki);
	if (r >= 0)
		r = lethe_sb_sign(ctx->sb_keys, lethe_uefi_tool_path(LETHE_UEFI_FILE_SYSTEMD_BOOT),
				  boot);
	if (r >= 0) {
		ctx->sb_systemd_boot = boot;
		boot = NULL;
		snprintf(ctx->detail, sizeof(ctx->detail),
			 "lethe.efi and systemd-boot signed with '%s'%s",
			 ctx->sb_keys->crt[LETHE_SB_DB],
			 ctx->opts->sb_enroll ? "; enrolment keys on the ESP" : "");
	}
	free(uki);
	free(boot);
	return r;
}
