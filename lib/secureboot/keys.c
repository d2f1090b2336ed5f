/* A Secure Boot key directory, checked before a build does any work: the db key must be
 * its certificate's, the certificate valid now, the signer tools there. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <lethe/secureboot.h>
#include <lethe/util.h>

#include "sb-internal.h"

#define PEM_MAX (64u * 1024)

void lethe_sb_keys_release(struct lethe_sb_keys *k)
{
	if (!k)
		return;
	free(k->dir);
	for (int i = 0; i < LETHE_SB_KEY_MAX; i++) {
		free(k->key[i]);
		free(k->crt[i]);
		free(k->auth[i]);
	}
	memset(k, 0, sizeof(*k));
}

static int need_file(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return lethe_error(-errno, "cannot read '%s': %m", path);
	if (!S_ISREG(st.st_mode) || access(path, R_OK) < 0)
		return lethe_error(-EACCES, "cannot read '%s': not a readable regular file", path);
	return 0;
}

/* The PEM file at path as a certificate (ret_cert) or as an unencrypted private key
 * (ret_key): one of the two is NULL. The file's bytes are wiped either way. */
static int load_pem(const char *path, X509 **ret_cert, EVP_PKEY **ret_key)
{
	char *data = NULL;
	size_t len = 0;
	BIO *b;
	void *obj = NULL;
	int r = lethe_file_read(path, PEM_MAX, &data, &len);

	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	b = BIO_new_mem_buf(data, (int)len);
	/* no passphrase callback: sbsign cannot ask for one either */
	if (b && ret_cert)
		obj = PEM_read_bio_X509(b, NULL, NULL, NULL);
	else if (b)
		obj = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
	BIO_free(b);
	OPENSSL_cleanse(data, len);
	free(data);
	ERR_clear_error();
	if (!obj && ret_cert)
		return lethe_error(-LETHE_E_INVALID, "'%s' is not a PEM X.509 certificate", path);
	if (!obj)
		return lethe_error(-LETHE_E_INVALID,
				   "'%s' is not an unencrypted PEM private key (sbsign needs one)",
				   path);
	if (ret_cert)
		*ret_cert = obj;
	else
		*ret_key = obj;
	return 0;
}

/* The db key is its certificate's, and the certificate is valid now. */
static int check_db(const char *key_path, const char *crt_path)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	int r = load_pem(crt_path, &x, NULL);

	if (r >= 0)
		r = load_pem(key_path, NULL, &k);
	if (r >= 0 && X509_check_private_key(x, k) != 1)
		r = lethe_error(-LETHE_E_REJECTED, "'%s' is not the key of the certificate '%s'",
				key_path, crt_path);
	if (r >= 0 && X509_cmp_current_time(X509_get0_notAfter(x)) <= 0)
		r = lethe_error(-LETHE_E_REJECTED,
				"the certificate '%s' has expired: make new keys (lethe keygen "
				"--secure-boot) and enrol them",
				crt_path);
	if (r >= 0 && X509_cmp_current_time(X509_get0_notBefore(x)) >= 0)
		r = lethe_error(-LETHE_E_REJECTED, "the certificate '%s' is not valid yet",
				crt_path);
	ERR_clear_error();
	EVP_PKEY_free(k);
	X509_free(x);
	return r;
}

int lethe_sb_keys_open(const char *dir, bool enroll, struct lethe_sb_keys *ret)
{
	struct lethe_sb_keys k = { 0 };
	int r = (k.dir = strdup(dir)) ? 0 : -ENOMEM;

	for (int i = 0; i < LETHE_SB_KEY_MAX && r >= 0; i++) {
		const char *n = lethe_sb_key_name((enum lethe_sb_key)i);

		if (asprintf(&k.key[i], "%s/%s.key", dir, n) < 0 ||
		    asprintf(&k.crt[i], "%s/%s.crt", dir, n) < 0 ||
		    asprintf(&k.auth[i], "%s/%s.auth", dir, n) < 0)
			r = -ENOMEM;
	}
	if (r >= 0)
		r = need_file(k.key[LETHE_SB_DB]);
	if (r >= 0)
		r = need_file(k.crt[LETHE_SB_DB]);
	for (int i = 0; i < LETHE_SB_KEY_MAX && r >= 0 && enroll; i++)
		r = need_file(k.auth[i]);
	if (r >= 0)
		r = check_db(k.key[LETHE_SB_DB], k.crt[LETHE_SB_DB]);
	if (r >= 0)
		r = sb_need_program(sb_tool(SB_TOOL_SIGN), "sbsigntool");
	if (r >= 0)
		r = sb_need_program(sb_tool(SB_TOOL_VERIFY), "sbsigntool");
	if (r < 0) {
		lethe_sb_keys_release(&k);
		return r;
	}
	*ret = k;
	return 0;
}
