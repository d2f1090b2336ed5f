/* The boot.* checks of the audit (issue 12): what the firmware says of Secure Boot and
 * which certificates its db holds, and whether the TPM's PCRs equal the values the
 * release predicted (pcr.json, given from outside the image: an image cannot vouch for
 * its own measurement). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lethe/measure.h>
#include <lethe/secureboot.h>

#include "audit-internal.h"

#define TPM_PCRS "sys/class/tpm/tpm0/pcr-sha256"

/* An efivarfs variable's value (after its 4 attribute bytes); -ENOENT when absent. */
static int efivar(const struct audit_ctx *ctx, const char *name, const char *guid, char **ret,
		  size_t *ret_len)
{
	char rel[256], *path, *data = NULL;
	size_t len = 0;
	int r;

	snprintf(rel, sizeof(rel), "%s/%s-%s", LETHE_SB_EFIVARS, name, guid);
	path = lethe_path_join(ctx->root, rel);
	if (!path)
		return -ENOMEM;
	r = lethe_file_read(path, LETHE_SB_ESL_MAX + 4, &data, &len);
	free(path);
	lethe_error_clear();
	if (r < 0)
		return r;
	if (len < 4) {
		free(data);
		return -LETHE_E_INVALID;
	}
	memmove(data, data + 4, len - 4);
	*ret = data;
	*ret_len = len - 4;
	return 0;
}

static int flag(const struct audit_ctx *ctx, const char *name)
{
	char *v = NULL;
	size_t len = 0;
	int r = efivar(ctx, name, LETHE_SB_GLOBAL_GUID, &v, &len);

	if (r < 0)
		return r;
	r = len >= 1 && v[0] == 1;
	free(v);
	return r;
}

/* "db: CN=a; CN=b (+ 2 hashes)" */
static void db_text(const struct audit_ctx *ctx, char *out, size_t size)
{
	struct lethe_strv subj = { 0 };
	struct lethe_buf b = { 0 };
	size_t n_sha = 0, len = 0;
	char *db = NULL;
	int r = efivar(ctx, "db", LETHE_SB_DB_GUID, &db, &len);

	if (r == -ENOENT) {
		snprintf(out, size, "db is empty");
		return;
	}
	if (r >= 0)
		r = lethe_sb_esl_parse(db, len, "db", &subj, &n_sha);
	lethe_error_clear();
	if (r < 0) {
		snprintf(out, size, "db cannot be read");
	} else {
		lethe_buf_printf(&b, "db: ");
		for (size_t i = 0; i < subj.n; i++)
			lethe_buf_printf(&b, "%s%s", i ? "; " : "", subj.v[i]);
		if (!subj.n)
			lethe_buf_printf(&b, "no certificate");
		if (n_sha)
			lethe_buf_printf(&b, " (+ %zu hashes)", n_sha);
		snprintf(out, size, "%s", b.data ? b.data : "db");
	}
	lethe_buf_release(&b);
	lethe_strv_release(&subj);
	free(db);
}

int audit_check_secure_boot(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	char *dir = lethe_path_join(ctx->root, "sys/firmware/efi"), db[400];
	bool efi;
	int sb, setup;

	if (!dir)
		return -ENOMEM;
	efi = access(dir, F_OK) == 0;
	free(dir);
	if (!efi)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE, "not booted through UEFI");
	sb = flag(ctx, "SecureBoot");
	setup = flag(ctx, "SetupMode");
	if (sb < 0)
		return audit_set(r, LETHE_AUDIT_FAIL,
				 "UEFI firmware does not report Secure Boot (efivarfs not "
				 "mounted or no SecureBoot variable)");
	db_text(ctx, db, sizeof(db));
	return audit_set(r, sb ? LETHE_AUDIT_PASS : LETHE_AUDIT_FAIL,
			 "UEFI Secure Boot is %s (%s mode); %s", sb ? "enabled" : "disabled",
			 setup > 0 ? "setup" : "user", db);
}

/* PCR n of the TPM (sysfs: upper-case hex, a newline). */
static int read_pcr(const struct audit_ctx *ctx, unsigned n, uint8_t out[32])
{
	char rel[64], *v = NULL;
	int r;

	snprintf(rel, sizeof(rel), TPM_PCRS "/%u", n);
	r = audit_read(ctx, rel, &v);
	lethe_error_clear();
	if (r < 0)
		return r;
	for (char *p = v; *p; p++)
		if (*p >= 'A' && *p <= 'F')
			*p = (char)(*p - 'A' + 'a');
	r = strlen(v) == 64 ? lethe_hex_decode(v, out, 32) : -LETHE_E_INVALID;
	free(v);
	return r;
}

int audit_check_measured(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_measure_pcrs want;
	char *dir = lethe_path_join(ctx->root, TPM_PCRS), *json = NULL;
	char got_hex[65], want_hex[65];
	size_t len = 0, n = 0;
	bool tpm;
	int q;

	if (!dir)
		return -ENOMEM;
	tpm = access(dir, F_OK) == 0;
	free(dir);
	if (!tpm)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE, "no TPM 2.0 with a SHA-256 bank");
	if (!ctx->pcr_path)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE,
				 "no prediction given (lethe audit --pcr the release's pcr.json)");
	q = lethe_file_read(ctx->pcr_path, LETHE_MEASURE_JSON_MAX, &json, &len);
	if (q >= 0)
		q = lethe_measure_json_parse(json, len, ctx->pcr_path, &want);
	free(json);
	if (q < 0) {
		const char *m = lethe_error_message_for(q);

		q = audit_set(r, LETHE_AUDIT_FAIL, "cannot read the prediction: %s",
			      m ? m : strerror(-q));
		lethe_error_clear();
		return q;
	}
	for (unsigned i = 0; i < LETHE_MEASURE_PCRS; i++) {
		uint8_t got[32];

		if (!want.has[i])
			continue;
		lethe_hex_encode(want.sha256[i], 32, want_hex);
		if (read_pcr(ctx, i, got) < 0)
			return audit_set(r, LETHE_AUDIT_FAIL, "cannot read PCR %u of the TPM", i);
		lethe_hex_encode(got, 32, got_hex);
		if (memcmp(got, want.sha256[i], 32))
			return audit_set(r, LETHE_AUDIT_FAIL,
					 "PCR %u is %.16s..., the release predicts %.16s...", i,
					 got_hex, want_hex);
		n++;
	}
	if (!n)
		return audit_set(r, LETHE_AUDIT_FAIL, "'%s' predicts no PCR", ctx->pcr_path);
	return audit_set(r, LETHE_AUDIT_PASS,
			 "%zu PCR%s equal the release's prediction (PCR 11 %.16s...)", n,
			 n == 1 ? "" : "s", want.has[11] ? got_hex : "-");
}
