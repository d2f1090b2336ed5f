/* minisign key pairs: generation, public and secret key files, secret key encryption
 * with scrypt (minisign's parameters) and its BLAKE2b checksum. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "sign-internal.h"

struct lethe_sign_seckey {
	uint8_t keyid[LETHE_SIGN_KEYID_BYTES];
	uint8_t sk[SECRETKEY_BYTES];
	/* A key in a token (lib/sign/pkcs11.c): sk holds only the public half (sk + 32),
	 * the seed is zero, and ops sign and close. A pointer, not a call, so that what
	 * links only the file keys (lethe-image) does not pull in the PKCS#11 code. */
	const struct sign_token_ops *ops;
	void *token;
};

#define KDF_OPS_DEFAULT crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE
#define KDF_MEM_DEFAULT crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE

/* ---- public keys ---- */

static int pubkey_decode(struct sign_lines *l, const char *b64, size_t b64_len,
			 struct lethe_sign_pubkey *ret)
{
	uint8_t blob[PUB_LEN];
	int r;

	r = sign_b64_decode(l, "public key", b64, b64_len, blob, sizeof(blob));
	if (r < 0)
		return r;
	if (memcmp(blob, SIGALG, 2) != 0)
		return lethe_error(-EBADMSG,
				   "'%s' line %u: unsupported signature algorithm (not Ed25519)",
				   l->name, l->lineno);
	memcpy(ret->keyid, blob + 2, LETHE_SIGN_KEYID_BYTES);
	memcpy(ret->pk, blob + 2 + LETHE_SIGN_KEYID_BYTES, LETHE_SIGN_PUBLICKEY_BYTES);
	return 0;
}

int lethe_sign_pubkey_parse(const char *text, size_t len, const char *name,
			    struct lethe_sign_pubkey *ret)
{
	struct sign_lines l = { .p = text, .left = len, .name = name };
	struct lethe_sign_pubkey pub;
	const char *line, *rest;
	size_t n, rest_len;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	if ((r = sign_lines_next(&l, COMMENT_LINE_MAX, "untrusted comment", &line, &n)) < 0 ||
	    (r = sign_comment(&l, line, n, COMMENT_PREFIX, &rest, &rest_len)) < 0 ||
	    (r = sign_lines_next(&l, 128, "public key", &line, &n)) < 0 ||
	    (r = pubkey_decode(&l, line, n, &pub)) < 0 || (r = sign_lines_end(&l)) < 0)
		return r;
	*ret = pub;
	return 0;
}

int lethe_sign_pubkey_from_base64(const char *b64, struct lethe_sign_pubkey *ret)
{
	struct sign_lines l = { .name = "public key", .lineno = 1 };
	struct lethe_sign_pubkey pub;
	int r = pubkey_decode(&l, b64, strlen(b64), &pub);

	if (r < 0)
		return r;
	*ret = pub;
	return 0;
}

int lethe_sign_pubkey_load(const char *path, struct lethe_sign_pubkey *ret)
{
	char *text;
	size_t len;
	int r = lethe_file_read(path, LETHE_SIGN_FILE_MAX, &text, &len);

	if (r < 0)
		return r;
	r = lethe_sign_pubkey_parse(text, len, path, ret);
	free(text);
	return r;
}

/* ---- secret keys ---- */

/* BLAKE2b-256 of sig_alg || key id || secret key: minisign's checksum. */
static void seckey_checksum(const uint8_t *blob, uint8_t chk[CHK_BYTES])
{
	crypto_generichash_state hs;

	crypto_generichash_init(&hs, NULL, 0, CHK_BYTES);
	crypto_generichash_update(&hs, blob, 2);
	crypto_generichash_update(&hs, blob + SK_OFF_KEYNUM,
				  LETHE_SIGN_KEYID_BYTES + SECRETKEY_BYTES);
	crypto_generichash_final(&hs, chk, CHK_BYTES);
	sodium_memzero(&hs, sizeof(hs));
}

/* XOR the key id, secret key and checksum with the scrypt stream of password. */
static int seckey_crypt(uint8_t *blob, const char *password, unsigned long long ops, size_t mem)
{
	uint8_t *stream = sodium_malloc(SK_KEYNUM_LEN);

	if (!stream)
		return -ENOMEM;
	if (crypto_pwhash_scryptsalsa208sha256(stream, SK_KEYNUM_LEN, password, strlen(password),
					       blob + SK_OFF_SALT, ops, mem) != 0) {
		sodium_free(stream);
		return lethe_error(-ENOMEM,
				   "cannot derive a key from the password: "
				   "scrypt needs %zu MiB of memory",
				   mem >> 20);
	}
	for (size_t i = 0; i < SK_KEYNUM_LEN; i++)
		blob[SK_OFF_KEYNUM + i] ^= stream[i];
	sodium_free(stream);
	return 0;
}

/* The scrypt limits we accept, read or written: at most what minisign ever writes. */
static bool kdf_limits_ok(uint64_t ops, uint64_t mem)
{
	return ops >= crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN && ops <= KDF_OPS_DEFAULT &&
	       mem >= crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN && mem <= KDF_MEM_DEFAULT;
}

static int seckey_decrypt(const char *name, uint8_t *blob, const char *password)
{
	uint64_t ops = sign_le64_load(blob + SK_OFF_OPS);
	uint64_t mem = sign_le64_load(blob + SK_OFF_MEM);

	if (!password)
		return lethe_error(-ENOKEY, "'%s' is encrypted: a password is needed", name);
	/* The limits come from the file: cap them at what minisign ever writes, so that
	 * a forged key cannot make us spend unbounded time or memory. */
	if (!kdf_limits_ok(ops, mem))
		return lethe_error(-EBADMSG,
				   "'%s' line 2: scrypt limits out of range (opslimit %llu, "
				   "memlimit %llu)",
				   name, (unsigned long long)ops, (unsigned long long)mem);
	if (strlen(password) > LETHE_SIGN_PASSWORD_MAX)
		return lethe_error(-EINVAL, "password too long (at most %d bytes)",
				   LETHE_SIGN_PASSWORD_MAX);
	return seckey_crypt(blob, password, ops, (size_t)mem);
}

static int seckey_check(const char *name, const uint8_t *blob, bool encrypted)
{
	uint8_t chk[CHK_BYTES], zero[CHK_BYTES] = { 0 };
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], *sk2;
	const uint8_t *sk = blob + SK_OFF_KEYNUM + LETHE_SIGN_KEYID_BYTES;
	const uint8_t *stored = sk + SECRETKEY_BYTES;
	bool ok;

	seckey_checksum(blob, chk);
	ok = lethe_memeq_consttime(chk, stored, CHK_BYTES);
	sodium_memzero(chk, sizeof(chk));
	if (!ok && encrypted)
		return lethe_error(-EKEYREJECTED, "wrong password for '%s' (or the key is corrupt)",
				   name);
	/* minisign -W leaves the checksum of an unencrypted key zero. */
	if (!ok && !lethe_memeq_consttime(stored, zero, CHK_BYTES))
		return lethe_error(-EBADMSG,
				   "'%s' line 2: the checksum does not match: the "
				   "secret key is corrupt",
				   name);
	/* An Ed25519 secret key is seed || public key: the halves must agree. */
	sk2 = sodium_malloc(SECRETKEY_BYTES);
	if (!sk2)
		return -ENOMEM;
	crypto_sign_seed_keypair(pk, sk2, sk);
	sodium_free(sk2);
	if (!lethe_memeq_consttime(pk, sk + 32, sizeof(pk)))
		return lethe_error(-EBADMSG,
				   "'%s' line 2: the secret key is corrupt (its public "
				   "half does not match its seed)",
				   name);
	return 0;
}

static int seckey_decode(struct sign_lines *l, const char *b64, size_t b64_len,
			 const char *password, struct lethe_sign_seckey **ret)
{
	struct lethe_sign_seckey *key;
	uint8_t *blob = sodium_malloc(SK_LEN);
	bool encrypted;
	int r;

	if (!blob)
		return -ENOMEM;
	r = sign_b64_decode(l, "secret key", b64, b64_len, blob, SK_LEN);
	if (r < 0)
		goto out;
	r = -EBADMSG;
	if (memcmp(blob, SIGALG, 2) != 0) {
		lethe_error(r, "'%s' line 2: unsupported signature algorithm (not Ed25519)",
			    l->name);
		goto out;
	}
	if (memcmp(blob + SK_OFF_CHKALG, CHKALG, 2) != 0) {
		lethe_error(r, "'%s' line 2: unsupported checksum algorithm (not BLAKE2b)",
			    l->name);
		goto out;
	}
	encrypted = memcmp(blob + SK_OFF_KDF, KDFALG, 2) == 0;
	if (!encrypted && memcmp(blob + SK_OFF_KDF, KDFNONE, 2) != 0) {
		lethe_error(r, "'%s' line 2: unsupported key derivation (not scrypt, not none)",
			    l->name);
		goto out;
	}
	if (encrypted && (r = seckey_decrypt(l->name, blob, password)) < 0)
		goto out;
	if ((r = seckey_check(l->name, blob, encrypted)) < 0)
		goto out;
	key = sodium_malloc(sizeof(*key));
	if (!key) {
		r = -ENOMEM;
		goto out;
	}
	memset(key, 0, sizeof(*key)); /* sodium_malloc fills with garbage; no ops */
	memcpy(key->keyid, blob + SK_OFF_KEYNUM, LETHE_SIGN_KEYID_BYTES);
	memcpy(key->sk, blob + SK_OFF_KEYNUM + LETHE_SIGN_KEYID_BYTES, SECRETKEY_BYTES);
	*ret = key;
	r = 0;
out:
	sodium_free(blob);
	return r;
}

int lethe_sign_seckey_parse(const char *text, size_t len, const char *name, const char *password,
			    struct lethe_sign_seckey **ret)
{
	struct sign_lines l = { .p = text, .left = len, .name = name };
	struct lethe_sign_seckey *key = NULL;
	const char *line, *b64, *rest;
	size_t n, b64_len, rest_len;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	if ((r = sign_lines_next(&l, COMMENT_LINE_MAX, "untrusted comment", &line, &n)) < 0 ||
	    (r = sign_comment(&l, line, n, COMMENT_PREFIX, &rest, &rest_len)) < 0 ||
	    (r = sign_lines_next(&l, 512, "secret key", &b64, &b64_len)) < 0 ||
	    (r = sign_lines_end(&l)) < 0 ||
	    (r = seckey_decode(&l, b64, b64_len, password, &key)) < 0)
		return r;
	*ret = key;
	return 0;
}

/* Read a secret key file into locked memory (its text is the key when unencrypted). */
static int read_secret_file(const char *path, char **ret, size_t *ret_len)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd, r;

	fd = lethe_open_input(AT_FDCWD, path, O_RDONLY, false, &st);
	if (fd < 0)
		return fd;
	if (st.st_size > LETHE_SIGN_FILE_MAX) {
		close(fd);
		return lethe_error(-EBADMSG, "'%s' is too large for a secret key (%jd bytes)", path,
				   (intmax_t)st.st_size);
	}
	buf = sodium_malloc(LETHE_SIGN_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = lethe_read_full(fd, buf, LETHE_SIGN_FILE_MAX + 1);
	close(fd);
	if (n < 0 || n > LETHE_SIGN_FILE_MAX) {
		sodium_free(buf);
		r = n < 0 ? (int)n : -EBADMSG;
		return lethe_error(r, "cannot read '%s': %s", path,
				   n < 0 ? strerror(-r) : "it grew while being read");
	}
	*ret = buf;
	*ret_len = (size_t)n;
	return 0;
}

int lethe_sign_seckey_load(const char *path, const char *password, struct lethe_sign_seckey **ret)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	/* Callers retry this (without, then with a password): a success must leave no
	 * message of an earlier attempt behind. */
	lethe_error_clear();
	if (sign_sodium_init() < 0)
		return -EIO;
	r = read_secret_file(path, &text, &len);
	if (r < 0)
		return r;
	r = lethe_sign_seckey_parse(text, len, path, password, ret);
	sodium_free(text); /* sodium_free wipes */
	return r;
}

void lethe_sign_seckey_free(struct lethe_sign_seckey *key)
{
	if (!key)
		return;
	if (key->ops)
		key->ops->close(key->token);
	sodium_free(key);
}

int sign_seckey_new_token(const struct lethe_sign_pubkey *pub, const struct sign_token_ops *ops,
			  void *token, struct lethe_sign_seckey **ret)
{
	struct lethe_sign_seckey *key = sodium_malloc(sizeof(*key));

	if (!key)
		return -ENOMEM;
	memset(key, 0, sizeof(*key));
	memcpy(key->keyid, pub->keyid, LETHE_SIGN_KEYID_BYTES);
	memcpy(key->sk + 32, pub->pk, LETHE_SIGN_PUBLICKEY_BYTES);
	key->ops = ops;
	key->token = token;
	*ret = key;
	return 0;
}

int sign_seckey_sign(const struct lethe_sign_seckey *key, const uint8_t *msg, size_t len,
		     uint8_t sig[LETHE_SIGN_BYTES])
{
	if (key->ops)
		return key->ops->sign(key->token, msg, len, sig);
	crypto_sign_detached(sig, NULL, msg, len, key->sk);
	return 0;
}

void lethe_sign_seckey_pubkey(const struct lethe_sign_seckey *key, struct lethe_sign_pubkey *ret)
{
	memcpy(ret->keyid, key->keyid, LETHE_SIGN_KEYID_BYTES);
	memcpy(ret->pk, key->sk + 32, LETHE_SIGN_PUBLICKEY_BYTES);
}

const uint8_t *sign_seckey_pk(const struct lethe_sign_seckey *key)
{
	return key->sk + 32;
}

const uint8_t *sign_seckey_keyid(const struct lethe_sign_seckey *key)
{
	return key->keyid;
}

/* ---- key generation ---- */

int sign_check_comment(const char *comment, size_t max, const char *what)
{
	size_t n = strlen(comment);

	if (n > max)
		return lethe_error(-EINVAL, "%s too long: %zu bytes, at most %zu", what, n, max);
	if (!sign_comment_is_printable(comment, n))
		return lethe_error(-EINVAL, "%s holds a control character or invalid UTF-8", what);
	return 0;
}

int sign_refuse_existing(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return lethe_error(-EEXIST,
				   "'%s' already exists; refusing to replace a key "
				   "(force to replace it)",
				   path);
	return 0;
}

/* The secret key file's text, in locked memory. */
static int seckey_text(const uint8_t *blob, const char *comment, char **ret, size_t *ret_len)
{
	size_t b64_len = sodium_base64_encoded_len(SK_LEN, sodium_base64_VARIANT_ORIGINAL);
	size_t clen = strlen(comment), plen = strlen(COMMENT_PREFIX);
	size_t len = plen + clen + 1 + (b64_len - 1) + 1;
	char *text = sodium_malloc(len + 1);

	if (!text)
		return -ENOMEM;
	memcpy(text, COMMENT_PREFIX, plen);
	memcpy(text + plen, comment, clen);
	text[plen + clen] = '\n';
	sodium_bin2base64(text + plen + clen + 1, b64_len, blob, SK_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	text[len - 1] = '\n';
	text[len] = '\0';
	*ret = text;
	*ret_len = len;
	return 0;
}

static int seckey_blob(uint8_t *blob, const uint8_t keyid[8], const uint8_t *sk,
		       const char *password, const struct lethe_sign_keygen_opts *o)
{
	unsigned long long ops = o && o->opslimit ? o->opslimit : KDF_OPS_DEFAULT;
	unsigned long long mem = o && o->memlimit ? o->memlimit : KDF_MEM_DEFAULT;

	memset(blob, 0, SK_LEN);
	memcpy(blob, SIGALG, 2);
	memcpy(blob + SK_OFF_KDF, password ? KDFALG : KDFNONE, 2);
	memcpy(blob + SK_OFF_CHKALG, CHKALG, 2);
	memcpy(blob + SK_OFF_KEYNUM, keyid, LETHE_SIGN_KEYID_BYTES);
	memcpy(blob + SK_OFF_KEYNUM + LETHE_SIGN_KEYID_BYTES, sk, SECRETKEY_BYTES);
	seckey_checksum(blob, blob + SK_OFF_KEYNUM + LETHE_SIGN_KEYID_BYTES + SECRETKEY_BYTES);
	if (!password)
		return 0;
	if (strlen(password) > LETHE_SIGN_PASSWORD_MAX)
		return lethe_error(-EINVAL, "password too long (at most %d bytes)",
				   LETHE_SIGN_PASSWORD_MAX);
	if (!kdf_limits_ok(ops, mem))
		return lethe_error(-EINVAL, "scrypt limits out of range");
	randombytes_buf(blob + SK_OFF_SALT, SALT_BYTES);
	sign_le64_store(blob + SK_OFF_OPS, ops);
	sign_le64_store(blob + SK_OFF_MEM, mem);
	return seckey_crypt(blob, password, ops, (size_t)mem);
}

int sign_pubkey_text(const struct lethe_sign_pubkey *pub, struct lethe_buf *b)
{
	char id[LETHE_SIGN_KEYID_STRLEN];
	uint8_t blob[PUB_LEN];
	int r;

	lethe_sign_keyid_format(pub->keyid, id);
	memcpy(blob, SIGALG, 2);
	memcpy(blob + 2, pub->keyid, LETHE_SIGN_KEYID_BYTES);
	memcpy(blob + 2 + LETHE_SIGN_KEYID_BYTES, pub->pk, LETHE_SIGN_PUBLICKEY_BYTES);
	r = lethe_buf_printf(b, COMMENT_PREFIX "minisign public key %s\n", id);
	return r < 0 ? r : sign_b64_append(b, blob, sizeof(blob));
}

int lethe_sign_keygen(const char *pub_path, const char *sec_path, const char *password,
		      const struct lethe_sign_keygen_opts *opts, struct lethe_sign_pubkey *ret_pub)
{
	const char *comment = opts && opts->comment ? opts->comment
			      : password	    ? "minisign encrypted secret key"
						    : "minisign unencrypted secret key";
	struct lethe_sign_pubkey pub;
	struct lethe_buf pub_text = { 0 };
	uint8_t *sk = NULL, *blob = NULL;
	char *sec_text = NULL;
	size_t sec_len;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	if ((r = sign_check_comment(comment, LETHE_SIGN_COMMENT_MAX, "untrusted comment")) < 0)
		return r;
	if (!(opts && opts->force) &&
	    ((r = sign_refuse_existing(sec_path)) < 0 || (r = sign_refuse_existing(pub_path)) < 0))
		return r;
	sk = sodium_malloc(SECRETKEY_BYTES);
	blob = sodium_malloc(SK_LEN);
	r = -ENOMEM;
	if (!sk || !blob)
		goto out;
	randombytes_buf(pub.keyid, sizeof(pub.keyid));
	crypto_sign_keypair(pub.pk, sk);
	if ((r = seckey_blob(blob, pub.keyid, sk, password, opts)) < 0 ||
	    (r = seckey_text(blob, comment, &sec_text, &sec_len)) < 0 ||
	    (r = sign_pubkey_text(&pub, &pub_text)) < 0)
		goto out;
	r = lethe_file_write_atomic(sec_path, sec_text, sec_len, 0600);
	if (r < 0)
		goto out;
	r = lethe_file_write_atomic(pub_path, pub_text.data, pub_text.len, 0644);
	if (r < 0) {
		unlink(sec_path); /* no half key pair */
		goto out;
	}
	if (ret_pub)
		*ret_pub = pub;
out:
	if (sec_text)
		sodium_free(sec_text);
	if (blob)
		sodium_free(blob);
	if (sk)
		sodium_free(sk);
	lethe_buf_release(&pub_text);
	return r;
}
