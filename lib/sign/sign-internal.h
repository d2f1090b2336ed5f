/* What the files of lib/sign share: minisign's constants, line reading and base64. */
#ifndef LETHE_SIGN_INTERNAL_H
#define LETHE_SIGN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/sign.h>
#include <lethe/util.h>

#define SIGALG		"Ed"
#define SIGALG_HASHED	"ED"
#define KDFALG		"Sc"
#define KDFNONE		"\0\0"
#define CHKALG		"B2"
#define COMMENT_PREFIX	"untrusted comment: "
#define TRUSTED_PREFIX	"trusted comment: "
#define SALT_BYTES	32
#define CHK_BYTES	32
#define SECRETKEY_BYTES 64

/* Byte layouts, as offsets, so that nothing depends on struct padding. */
#define PUB_LEN	      (2 + LETHE_SIGN_KEYID_BYTES + LETHE_SIGN_PUBLICKEY_BYTES)
#define SIGBLOB_LEN   (2 + LETHE_SIGN_KEYID_BYTES + LETHE_SIGN_BYTES)
#define SK_KEYNUM_LEN (LETHE_SIGN_KEYID_BYTES + SECRETKEY_BYTES + CHK_BYTES)
#define SK_OFF_KDF    2
#define SK_OFF_CHKALG 4
#define SK_OFF_SALT   6
#define SK_OFF_OPS    (SK_OFF_SALT + SALT_BYTES)
#define SK_OFF_MEM    (SK_OFF_OPS + 8)
#define SK_OFF_KEYNUM (SK_OFF_MEM + 8)
#define SK_LEN	      (SK_OFF_KEYNUM + SK_KEYNUM_LEN)

/* Longest line read: a whole comment line (prefix included, newline excluded). */
#define COMMENT_LINE_MAX (sizeof(COMMENT_PREFIX) - 1 + LETHE_SIGN_COMMENT_MAX)
#define TRUSTED_LINE_MAX (sizeof(TRUSTED_PREFIX) - 1 + LETHE_SIGN_TRUSTED_COMMENT_MAX)

struct sign_lines {
	const char *p;
	size_t left;
	const char *name; /* for messages */
	unsigned lineno;  /* of the line last returned */
};

/* The next line, without "\n" or "\r\n"; the last line may lack its newline. Fails
 * with -EBADMSG naming what was expected when the text ends, the line is longer than
 * max, or it holds a NUL or a stray CR. */
int sign_lines_next(struct sign_lines *l, size_t max, const char *what, const char **ret,
		    size_t *ret_len);
/* Nothing but the end may follow. */
int sign_lines_end(struct sign_lines *l);
/* A comment line: must start with prefix; returns what follows it. */
int sign_comment(struct sign_lines *l, const char *line, size_t len, const char *prefix,
		 const char **ret, size_t *ret_len);
/* Decode base64 (original alphabet, padded) of exactly out_len bytes. */
int sign_b64_decode(struct sign_lines *l, const char *what, const char *b64, size_t b64_len,
		    void *out, size_t out_len);
/* Append base64 of bin and a newline. */
int sign_b64_append(struct lethe_buf *b, const void *bin, size_t len);
/* minisign's rule for comments: printable, tab allowed, valid UTF-8, no C1 controls. */
bool sign_comment_is_printable(const char *s, size_t len);

/* For signature.c: sign with a key (in memory or in a token), its public half, its key
 * id. */
int sign_seckey_sign(const struct lethe_sign_seckey *key, const uint8_t *msg, size_t len,
		     uint8_t sig[LETHE_SIGN_BYTES]);
const uint8_t *sign_seckey_pk(const struct lethe_sign_seckey *key);
const uint8_t *sign_seckey_keyid(const struct lethe_sign_seckey *key);

/* A key that lives in a token: sign() returns 0 or -errno with a message; close() frees
 * the token handle (called by lethe_sign_seckey_free()). */
struct sign_token_ops {
	int (*sign)(void *token, const uint8_t *msg, size_t len, uint8_t sig[LETHE_SIGN_BYTES]);
	void (*close)(void *token);
};
/* A secret key handle for a token key; takes token over only on success. */
int sign_seckey_new_token(const struct lethe_sign_pubkey *pub, const struct sign_token_ops *ops,
			  void *token, struct lethe_sign_seckey **ret);
/* The public key file's text; -EEXIST with a message if path exists. */
int sign_pubkey_text(const struct lethe_sign_pubkey *pub, struct lethe_buf *b);
int sign_refuse_existing(const char *path);
/* minisign's rule for comments, and a length cap; -EINVAL names what. */
int sign_check_comment(const char *comment, size_t max, const char *what);

/* sodium_init(), once; every entry point that uses libsodium calls it first. */
int sign_sodium_init(void);

uint64_t sign_le64_load(const uint8_t *p);
void sign_le64_store(uint8_t *p, uint64_t x);

#endif
