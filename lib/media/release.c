/* A signed release as a whole: the signature over SHA256SUMS, every file it lists, and
 * the dm-verity tree of the root file system against the signed root hash. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <lethe/boot.h>
#include <lethe/contract.h>
#include <lethe/core.h>
#include <lethe/media.h>
#include <lethe/verity.h>

int lethe_media_signed_sums(const char *outdir, const struct lethe_sign_pubkey *pub,
			    struct lethe_sums *ret)
{
	char *path = lethe_path_join(outdir, "SHA256SUMS");
	char *sig = lethe_path_join(outdir, "SHA256SUMS.minisig");
	char *text = NULL;
	size_t len;
	int r = -ENOMEM;

	if (!path || !sig)
		goto out;
	r = lethe_file_read(path, LETHE_SUMS_FILE_MAX, &text, &len);
	if (r < 0) {
		r = lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
		goto out;
	}
	/* The bytes verified are the bytes parsed: no window for the file to change. */
	r = lethe_sign_verify_data(pub, text, len, path, sig, NULL);
	if (r >= 0)
		r = lethe_sums_parse(text, len, path, ret);
out:
	free(text);
	free(path);
	free(sig);
	return r;
}

int lethe_media_sums_digest(const struct lethe_sums *sums, const char *name,
			    uint8_t digest[32])
{
	for (size_t i = 0; i < sums->n; i++)
		if (!strcmp(sums->v[i].name, name)) {
			memcpy(digest, sums->v[i].sha256, 32);
			return 0;
		}
	return lethe_error(-LETHE_E_INVALID, "the signed SHA256SUMS does not list '%s'", name);
}

/* The root hash in the cmdline file (one line), as hex; -ENOENT when no such file. */
static int roothash_from_cmdline(const char *outdir, char **ret_hex)
{
	char *path = lethe_path_join(outdir, "cmdline"), *text = NULL;
	char hex[LETHE_ROOTHASH_HEX + 1];
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = lethe_file_read(path, LETHE_BOOT_CMDLINE_MAX + 2, &text, &len);
	if (r == -ENOENT)
		goto out;
	if (r < 0) {
		r = lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
		goto out;
	}
	r = lethe_cmdline_roothash(text, len, hex);
	if (r < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "%s", lethe_error_message());
		r = lethe_error(r == -ENOENT ? -LETHE_E_INVALID : r, "'%s': %s", path, msg);
	} else if (!(*ret_hex = strdup(hex)))
		r = -ENOMEM;
out:
	free(text);
	free(path);
	return r;
}

static int roothash_from_file(const char *outdir, char **ret_hex)
{
	char *path = lethe_path_join(outdir, "roothash"), *text = NULL;
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = lethe_file_read(path, 256, &text, &len);
	if (r == 0) {
		text[strcspn(text, "\r\n")] = '\0';
		*ret_hex = text;
		text = NULL;
	} else if (r != -ENOENT) {
		r = lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	}
	free(text);
	free(path);
	return r;
}

/* Is name listed (so that its content was just checked against the signature)? */
static bool listed(const struct lethe_sums *s, const char *name)
{
	uint8_t d[32];

	return lethe_media_sums_digest(s, name, d) == 0;
}

static int check_verity(const char *outdir, const struct lethe_sums *sums)
{
	char *from_cmdline = NULL, *from_file = NULL, *data = NULL, *hash = NULL;
	uint8_t rh[LETHE_VERITY_MAX_DIGEST_SIZE];
	size_t hlen;
	int r, rc, rf;

	rc = listed(sums, "cmdline") ? roothash_from_cmdline(outdir, &from_cmdline) : -ENOENT;
	rf = listed(sums, "roothash") ? roothash_from_file(outdir, &from_file) : -ENOENT;
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (rf < 0 && rf != -ENOENT) {
		r = rf;
		goto out;
	}
	if (!from_cmdline && !from_file) {
		r = lethe_error(-LETHE_E_INVALID, "'%s': the signed files give no root hash "
				"(neither cmdline nor roothash)", outdir);
		goto out;
	}
	if (from_cmdline && from_file && strcmp(from_cmdline, from_file)) {
		r = lethe_error(-LETHE_E_INVALID, "'%s': cmdline's " LETHE_CMDLINE_ROOTHASH "=%s and "
				"roothash %s differ", outdir, from_cmdline, from_file);
		goto out;
	}
	{
		const char *hex = from_cmdline ? from_cmdline : from_file;

		hlen = strlen(hex) / 2;
		if (hlen > sizeof(rh) || lethe_hex_decode(hex, rh, hlen) < 0) {
			r = lethe_error(-LETHE_E_INVALID, "'%s': root hash '%s' is not hex", outdir, hex);
			goto out;
		}
	}
	data = lethe_path_join(outdir, "rootfs.erofs");
	hash = lethe_path_join(outdir, "rootfs.verity");
	r = data && hash ? lethe_verity_verify(data, hash, rh, hlen, NULL) : -ENOMEM;
out:
	free(data);
	free(hash);
	free(from_cmdline);
	free(from_file);
	return r;
}

int lethe_media_verify_release(const char *outdir, const struct lethe_sign_pubkey *pub,
			       lethe_sums_check_fn fn, void *userdata)
{
	struct lethe_sums sums = { 0 };
	char *name = lethe_path_join(outdir, "SHA256SUMS");
	int r;

	if (!name)
		return -ENOMEM;
	r = lethe_media_signed_sums(outdir, pub, &sums);
	if (r >= 0)
		r = lethe_sums_check(&sums, name, outdir, fn, userdata);
	if (r >= 0 && (!listed(&sums, "rootfs.erofs") || !listed(&sums, "rootfs.verity")))
		r = lethe_error(-LETHE_E_INVALID, "'%s' does not list rootfs.erofs and rootfs.verity",
				name);
	if (r >= 0)
		r = check_verity(outdir, &sums);
	lethe_sums_release(&sums);
	free(name);
	return r;
}
