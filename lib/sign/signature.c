/* minisign signatures: signing a file (legacy "Ed" or prehashed "ED"), parsing a
 * signature file, and verifying a file or bytes in memory against one. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "sign-internal.h"

#define HASH_BYTES     crypto_generichash_BYTES_MAX /* BLAKE2b-512 for "ED" */
#define READ_CHUNK     (256u << 10)
#define GLOBAL_MSG_MAX (LETHE_SIGN_BYTES + LETHE_SIGN_TRUSTED_COMMENT_MAX)

/* ---- the message: a BLAKE2b-512 digest of the file, or the whole file ---- */

static int open_input(const char *path, int *ret_fd, struct stat *st)
{
	/* A disk may be signed and verified; a FIFO or a terminal must not hang us. */
	int fd = lethe_open_input(AT_FDCWD, path, O_RDONLY, true, st);

	if (fd < 0)
		return fd;
	*ret_fd = fd;
	return 0;
}

static int hash_file(const char *path, uint8_t digest[HASH_BYTES])
{
	crypto_generichash_state hs;
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	int fd, r;

	if ((r = open_input(path, &fd, &st)) < 0)
		return r;
	buf = malloc(READ_CHUNK);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	crypto_generichash_init(&hs, NULL, 0, HASH_BYTES);
	while ((n = lethe_read_full(fd, buf, READ_CHUNK)) > 0)
		crypto_generichash_update(&hs, buf, (size_t)n);
	crypto_generichash_final(&hs, digest, HASH_BYTES);
	free(buf);
	close(fd);
	if (n < 0)
		return lethe_error((int)n, "cannot read '%s': %s", path, strerror((int)-n));
	return 0;
}

static int read_whole(const char *path, uint8_t **ret, size_t *ret_len)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	int fd, r;

	if ((r = open_input(path, &fd, &st)) < 0)
		return r;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return lethe_error(-EINVAL,
				   "'%s' is not a regular file: a legacy signature "
				   "needs one; use a prehashed one",
				   path);
	}
	if ((uintmax_t)st.st_size > LETHE_SIGN_LEGACY_MAX) {
		close(fd);
		return lethe_error(-EFBIG,
				   "'%s' is too large for a legacy signature (at most "
				   "%zu bytes); use a prehashed one",
				   path, LETHE_SIGN_LEGACY_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = lethe_read_full(fd, buf, (size_t)st.st_size + 1);
	close(fd);
	if (n < 0 || (size_t)n != (size_t)st.st_size) {
		free(buf);
		r = n < 0 ? (int)n : -EAGAIN;
		return lethe_error(r, "cannot read '%s': %s", path,
				   n < 0 ? strerror(-r) : "it changed while being read");
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

/* The message that the signature covers. *ret_buf is what to free (NULL for a
 * digest, which goes to digest). */
static int load_message(const char *path, bool prehashed, uint8_t digest[HASH_BYTES],
			const uint8_t **ret_msg, size_t *ret_len, uint8_t **ret_buf)
{
	int r;

	*ret_buf = NULL;
	if (prehashed) {
		r = hash_file(path, digest);
		*ret_msg = digest;
		*ret_len = HASH_BYTES;
		return r;
	}
	r = read_whole(path, ret_buf, ret_len);
	*ret_msg = *ret_buf;
	return r;
}

/* ---- signing ---- */

static int default_trusted_comment(const char *path, bool prehashed, struct lethe_buf *b)
{
	const char *base = strrchr(path, '/');
	int64_t ts = lethe_source_date_epoch((int64_t)time(NULL));

	return lethe_buf_printf(b, "timestamp:%" PRId64 "\tfile:%s%s", ts, base ? base + 1 : path,
				prehashed ? "\thashed" : "");
}

static int sign_text(const struct lethe_sign_seckey *key, bool prehashed,
		     const uint8_t sig[LETHE_SIGN_BYTES], const char *untrusted,
		     const char *trusted, struct lethe_buf *out)
{
	const uint8_t *pk = sign_seckey_pk(key);
	uint8_t blob[SIGBLOB_LEN], global[LETHE_SIGN_BYTES];
	struct lethe_buf gmsg = { 0 };
	int r;

	if ((r = lethe_buf_append(&gmsg, sig, LETHE_SIGN_BYTES)) < 0 ||
	    (r = lethe_buf_puts(&gmsg, trusted)) < 0 ||
	    (r = sign_seckey_sign(key, (const uint8_t *)gmsg.data, gmsg.len, global)) < 0)
		goto out;
	/* Check what we made with the public half, a guard against a faulty key (or a
	 * token whose public key object is not the private key's). */
	if (crypto_sign_verify_detached(global, (const uint8_t *)gmsg.data, gmsg.len, pk)) {
		r = lethe_error(-EKEYREJECTED, "the signature just made does not verify");
		goto out;
	}
	memcpy(blob, prehashed ? SIGALG_HASHED : SIGALG, 2);
	memcpy(blob + 2, sign_seckey_keyid(key), LETHE_SIGN_KEYID_BYTES);
	memcpy(blob + 2 + LETHE_SIGN_KEYID_BYTES, sig, LETHE_SIGN_BYTES);
	if ((r = lethe_buf_printf(out, COMMENT_PREFIX "%s\n", untrusted)) < 0 ||
	    (r = sign_b64_append(out, blob, sizeof(blob))) < 0 ||
	    (r = lethe_buf_printf(out, TRUSTED_PREFIX "%s\n", trusted)) < 0 ||
	    (r = sign_b64_append(out, global, sizeof(global))) < 0)
		goto out;
out:
	lethe_buf_release(&gmsg);
	return r;
}

int lethe_sign_file_opts(const struct lethe_sign_seckey *key, const char *path,
			 const struct lethe_sign_opts *opts, const char *sig_path)
{
	static const struct lethe_sign_opts defaults = { 0 };
	const struct lethe_sign_opts *o = opts ? opts : &defaults;
	bool prehashed = !o->legacy;
	const char *untrusted =
		o->untrusted_comment ? o->untrusted_comment : "signature from lethe secret key";
	struct lethe_buf trusted = { 0 }, text = { 0 };
	uint8_t digest[HASH_BYTES], sig[LETHE_SIGN_BYTES], *buf = NULL;
	const uint8_t *msg;
	size_t msg_len;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	if (o->trusted_comment && *o->trusted_comment)
		r = lethe_buf_puts(&trusted, o->trusted_comment);
	else
		r = default_trusted_comment(path, prehashed, &trusted);
	if (r < 0 ||
	    (r = sign_check_comment(trusted.data, LETHE_SIGN_TRUSTED_COMMENT_MAX,
				    "trusted comment")) < 0 ||
	    (r = sign_check_comment(untrusted, LETHE_SIGN_COMMENT_MAX, "untrusted comment")) < 0)
		goto out;
	if ((r = load_message(path, prehashed, digest, &msg, &msg_len, &buf)) < 0)
		goto out;
	if ((r = sign_seckey_sign(key, msg, msg_len, sig)) < 0 ||
	    (r = sign_text(key, prehashed, sig, untrusted, trusted.data, &text)) < 0)
		goto out;
	r = lethe_file_write_atomic(sig_path, text.data, text.len, 0644);
out:
	free(buf);
	lethe_buf_release(&trusted);
	lethe_buf_release(&text);
	return r;
}

char *lethe_sign_default_sig_path(const char *path)
{
	struct lethe_buf b = { 0 };

	if (lethe_buf_printf(&b, "%s.minisig", path) < 0)
		return NULL;
	return b.data;
}

int lethe_sign_file(const struct lethe_sign_seckey *key, const char *path,
		    const char *trusted_comment, bool prehashed, const char *sig_path)
{
	struct lethe_sign_opts opts = { .trusted_comment = trusted_comment, .legacy = !prehashed };

	return lethe_sign_file_opts(key, path, &opts, sig_path);
}

/* ---- parsing ---- */

int lethe_sign_signature_parse(const char *text, size_t len, const char *name,
			       struct lethe_sign_signature *ret)
{
	struct sign_lines l = { .p = text, .left = len, .name = name };
	struct lethe_sign_signature *sig;
	uint8_t blob[SIGBLOB_LEN];
	const char *line, *rest;
	size_t n, rest_len;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	sig = calloc(1, sizeof(*sig));
	if (!sig)
		return -ENOMEM;
	if ((r = sign_lines_next(&l, COMMENT_LINE_MAX, "untrusted comment", &line, &n)) < 0 ||
	    (r = sign_comment(&l, line, n, COMMENT_PREFIX, &rest, &rest_len)) < 0 ||
	    (r = sign_lines_next(&l, 128, "signature", &line, &n)) < 0 ||
	    (r = sign_b64_decode(&l, "signature", line, n, blob, sizeof(blob))) < 0)
		goto out;
	if (memcmp(blob, SIGALG, 2) == 0) {
		sig->prehashed = false;
	} else if (memcmp(blob, SIGALG_HASHED, 2) == 0) {
		sig->prehashed = true;
	} else {
		r = lethe_error(-EBADMSG, "'%s' line 2: unsupported signature algorithm", name);
		goto out;
	}
	memcpy(sig->keyid, blob + 2, LETHE_SIGN_KEYID_BYTES);
	memcpy(sig->sig, blob + 2 + LETHE_SIGN_KEYID_BYTES, LETHE_SIGN_BYTES);
	if ((r = sign_lines_next(&l, TRUSTED_LINE_MAX, "trusted comment", &line, &n)) < 0 ||
	    (r = sign_comment(&l, line, n, TRUSTED_PREFIX, &rest, &rest_len)) < 0)
		goto out;
	if (!sign_comment_is_printable(rest, rest_len)) {
		r = lethe_error(-EBADMSG,
				"'%s' line 3: the trusted comment holds a control "
				"character or invalid UTF-8",
				name);
		goto out;
	}
	memcpy(sig->trusted_comment, rest, rest_len);
	sig->trusted_comment[rest_len] = '\0';
	if ((r = sign_lines_next(&l, 128, "global signature", &line, &n)) < 0 ||
	    (r = sign_b64_decode(&l, "global signature", line, n, sig->global_sig,
				 LETHE_SIGN_BYTES)) < 0 ||
	    (r = sign_lines_end(&l)) < 0)
		goto out;
	*ret = *sig;
out:
	free(sig);
	return r;
}

int lethe_sign_signature_load(const char *path, struct lethe_sign_signature *ret)
{
	char *text;
	size_t len;
	int r = lethe_file_read(path, LETHE_SIGN_FILE_MAX, &text, &len);

	if (r == -EFBIG)
		r = lethe_error(-EBADMSG,
				"'%s' is too large for a signature file (at most %d "
				"bytes)",
				path, LETHE_SIGN_FILE_MAX);
	if (r < 0)
		return r;
	r = lethe_sign_signature_parse(text, len, path, ret);
	free(text);
	return r;
}

/* ---- verifying ---- */

static int check_keyid(const struct lethe_sign_pubkey *pub, const struct lethe_sign_signature *sig,
		       const char *sig_name)
{
	char sid[LETHE_SIGN_KEYID_STRLEN], pid[LETHE_SIGN_KEYID_STRLEN];

	if (memcmp(pub->keyid, sig->keyid, LETHE_SIGN_KEYID_BYTES) == 0)
		return 0;
	lethe_sign_keyid_format(sig->keyid, sid);
	lethe_sign_keyid_format(pub->keyid, pid);
	return lethe_error(-EKEYREJECTED, "'%s' was made by key %s, but the public key is %s",
			   sig_name, sid, pid);
}

static int verify_message(const struct lethe_sign_pubkey *pub,
			  const struct lethe_sign_signature *sig, const char *sig_name,
			  const char *subject, const uint8_t *msg, size_t msg_len,
			  char **ret_trusted_comment)
{
	uint8_t gmsg[GLOBAL_MSG_MAX];
	size_t tc_len = strlen(sig->trusted_comment);
	char *tc = NULL;

	if (crypto_sign_verify_detached(sig->sig, msg, msg_len, pub->pk) != 0)
		return lethe_error(-EKEYREJECTED,
				   "'%s' does not match its signature '%s' (the "
				   "file or the signature was changed)",
				   subject, sig_name);
	memcpy(gmsg, sig->sig, LETHE_SIGN_BYTES);
	memcpy(gmsg + LETHE_SIGN_BYTES, sig->trusted_comment, tc_len);
	if (crypto_sign_verify_detached(sig->global_sig, gmsg, LETHE_SIGN_BYTES + tc_len,
					pub->pk) != 0)
		return lethe_error(-EKEYREJECTED,
				   "'%s' line 3: the trusted comment does not "
				   "match the global signature (it was changed)",
				   sig_name);
	if (ret_trusted_comment) {
		tc = strdup(sig->trusted_comment);
		if (!tc)
			return -ENOMEM;
		*ret_trusted_comment = tc;
	}
	return 0;
}

int lethe_sign_verify_signature(const struct lethe_sign_pubkey *pub,
				const struct lethe_sign_signature *sig, const char *sig_name,
				const char *path, char **ret_trusted_comment)
{
	uint8_t digest[HASH_BYTES], *buf = NULL;
	const uint8_t *msg;
	size_t msg_len;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	if ((r = check_keyid(pub, sig, sig_name)) < 0 ||
	    (r = load_message(path, sig->prehashed, digest, &msg, &msg_len, &buf)) < 0)
		return r;
	r = verify_message(pub, sig, sig_name, path, msg, msg_len, ret_trusted_comment);
	free(buf);
	return r;
}

int lethe_sign_verify_file(const struct lethe_sign_pubkey *pub, const char *path,
			   const char *sig_path, char **ret_trusted_comment)
{
	struct lethe_sign_signature *sig = malloc(sizeof(*sig));
	int r;

	if (!sig)
		return -ENOMEM;
	r = lethe_sign_signature_load(sig_path, sig);
	if (r == 0)
		r = lethe_sign_verify_signature(pub, sig, sig_path, path, ret_trusted_comment);
	free(sig);
	return r;
}

int lethe_sign_verify_data(const struct lethe_sign_pubkey *pub, const void *data, size_t len,
			   const char *name, const char *sig_path, char **ret_trusted_comment)
{
	struct lethe_sign_signature *sig;
	uint8_t digest[HASH_BYTES];
	const uint8_t *msg = data;
	size_t msg_len = len;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	sig = malloc(sizeof(*sig));
	if (!sig)
		return -ENOMEM;
	if ((r = lethe_sign_signature_load(sig_path, sig)) < 0 ||
	    (r = check_keyid(pub, sig, sig_path)) < 0)
		goto out;
	if (sig->prehashed) {
		crypto_generichash(digest, HASH_BYTES, data, len, NULL, 0);
		msg = digest;
		msg_len = HASH_BYTES;
	}
	r = verify_message(pub, sig, sig_path, name, msg, msg_len, ret_trusted_comment);
out:
	free(sig);
	return r;
}
