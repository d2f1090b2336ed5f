/* lethe keygen --secure-boot: PK, KEK and db for an organisation, made by the field's
 * tools (openssl for the X.509 certificates, efitools for the signature lists and the
 * time-based authenticated updates), all with one owner GUID and one time stamp. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lethe/run.h>
#include <lethe/secureboot.h>
#include <lethe/util.h>

#include "sb-internal.h"

static const char *const names[LETHE_SB_KEY_MAX] = { "PK", "KEK", "db" };

const char *lethe_sb_key_name(enum lethe_sb_key k)
{
	return (unsigned)k < LETHE_SB_KEY_MAX ? names[k] : "(no key)";
}

int sb_run(const char *const *argv)
{
	struct lethe_run_options o = { .epoch_set = false };

	return lethe_run((char *const *)argv, &o, NULL);
}

int sb_need_program(const char *name, const char *package)
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };
	char p[256];

	if (strchr(name, '/')) {
		if (access(name, X_OK) == 0)
			return 0;
		return lethe_error(-ENOENT, "cannot run '%s' for Secure Boot: %m (install %s)",
				   name, package);
	}
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(dirs); i++) {
		snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
		if (access(p, X_OK) == 0)
			return 0;
	}
	return lethe_error(-ENOENT, "cannot find '%s' for Secure Boot (install %s)", name, package);
}

static bool guid_ok(const char *g)
{
	static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

	if (strlen(g) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == '-' ? g[i] != '-' : !strchr("0123456789abcdef", g[i]))
			return false;
	return true;
}

static int random_guid(char out[37])
{
	uint8_t b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return lethe_error(-EIO, "cannot get random bytes for the owner GUID: %m");
	b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
	return 0;
}

/* One key: certificate and key, DER copy, signature list, and the update signed by
 * signer (the key itself for PK). */
static int make_one(const char *tmp, enum lethe_sb_key k, enum lethe_sb_key signer, const char *cn,
		    const char *days, const char *guid, const char *stamp)
{
	char key[4096], crt[4096], cer[4096], esl[4096], auth[4096], skey[4096], scrt[4096];
	char subj[512];
	int r;

	snprintf(key, sizeof(key), "%s/%s.key", tmp, names[k]);
	snprintf(crt, sizeof(crt), "%s/%s.crt", tmp, names[k]);
	snprintf(cer, sizeof(cer), "%s/%s.cer", tmp, names[k]);
	snprintf(esl, sizeof(esl), "%s/%s.esl", tmp, names[k]);
	snprintf(auth, sizeof(auth), "%s/%s.auth", tmp, names[k]);
	snprintf(skey, sizeof(skey), "%s/%s.key", tmp, names[signer]);
	snprintf(scrt, sizeof(scrt), "%s/%s.crt", tmp, names[signer]);
	snprintf(subj, sizeof(subj), "/CN=%s %s/", cn, names[k]);
	r = sb_run((const char *const[]){ "openssl", "req", "-x509", "-newkey", "rsa:2048",
					  "-nodes", "-sha256", "-days", days, "-subj", subj,
					  "-keyout", key, "-out", crt, NULL });
	if (r >= 0 && chmod(key, 0600) < 0)
		r = lethe_error(-errno, "cannot chmod '%s': %m", key);
	if (r >= 0)
		r = sb_run((const char *const[]){ "openssl", "x509", "-in", crt, "-outform", "DER",
						  "-out", cer, NULL });
	if (r >= 0)
		r = sb_run((const char *const[]){ "cert-to-efi-sig-list", "-g", guid, crt, esl,
						  NULL });
	if (r >= 0)
		r = sb_run((const char *const[]){ "sign-efi-sig-list", "-t", stamp, "-g", guid,
						  "-k", skey, "-c", scrt, names[k], esl, auth,
						  NULL });
	return r;
}

static int check_target(const char *dir, bool force)
{
	struct stat st;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 0 : lethe_error(-errno, "cannot stat '%s': %m", dir);
	if (!force)
		return lethe_error(-EEXIST, "'%s' exists: pass --force to replace it", dir);
	if (!S_ISDIR(st.st_mode))
		return lethe_error(-EEXIST, "'%s' exists and is not a directory", dir);
	return 1;
}

int lethe_sb_keygen(const char *dir, const struct lethe_sb_keygen_options *o)
{
	char guid[37], days[16], stamp[32], *tmp = NULL, *p = NULL, line[64];
	const char *cn = o->common_name ? o->common_name : "Lethe";
	int64_t ts = o->timestamp >= 0 ? o->timestamp : lethe_source_date_epoch(time(NULL));
	struct tm tm;
	time_t t = (time_t)ts;
	int exists, r;

	if (strchr(cn, '/') || strchr(cn, '\n') || strlen(cn) > 64)
		return lethe_error(-EINVAL, "common name '%s': at most 64 characters, no '/'", cn);
	if (o->guid && !guid_ok(o->guid))
		return lethe_error(-EINVAL, "owner GUID '%s' is not a lowercase GUID", o->guid);
	r = sb_need_program("openssl", "openssl");
	if (r >= 0)
		r = sb_need_program("cert-to-efi-sig-list", "efitools");
	if (r >= 0)
		r = sb_need_program("sign-efi-sig-list", "efitools");
	if (r < 0)
		return r;
	exists = check_target(dir, o->force);
	if (exists < 0)
		return exists;
	if (o->guid)
		memcpy(guid, o->guid, sizeof(guid));
	else if ((r = random_guid(guid)) < 0)
		return r;
	snprintf(days, sizeof(days), "%u", o->days ? o->days : 3650);
	if (!gmtime_r(&t, &tm))
		return lethe_error(-EINVAL, "time stamp %" PRId64 " out of range", ts);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	if (asprintf(&tmp, "%s.tmp-XXXXXX", dir) < 0)
		return -ENOMEM;
	if (!mkdtemp(tmp)) {
		r = lethe_error(-errno, "cannot create a directory beside '%s': %m", dir);
		free(tmp);
		return r;
	}
	r = make_one(tmp, LETHE_SB_PK, LETHE_SB_PK, cn, days, guid, stamp);
	if (r >= 0)
		r = make_one(tmp, LETHE_SB_KEK, LETHE_SB_PK, cn, days, guid, stamp);
	if (r >= 0)
		r = make_one(tmp, LETHE_SB_DB, LETHE_SB_KEK, cn, days, guid, stamp);
	for (int i = 0; i < 2 && r >= 0; i++) {
		free(p);
		p = lethe_path_join(tmp, i ? LETHE_SB_TIMESTAMP_FILE : LETHE_SB_GUID_FILE);
		if (i)
			snprintf(line, sizeof(line), "%" PRId64 "\n", ts);
		else
			snprintf(line, sizeof(line), "%s\n", guid);
		r = p ? lethe_file_write_atomic(p, line, strlen(line), 0644) : -ENOMEM;
	}
	if (r >= 0 && exists)
		r = lethe_rm_rf(dir);
	if (r >= 0 && rename(tmp, dir) < 0)
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", tmp, dir);
	if (r < 0)
		lethe_rm_rf(tmp);
	free(tmp);
	free(p);
	return r;
}
