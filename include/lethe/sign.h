/* Ed25519 signatures in minisign's key and signature formats, so that files signed by
 * Lethe verify with `minisign -V` and files signed by minisign verify with Lethe.
 *
 * Formats (docs/signing.md has the byte layouts): a public key file is an untrusted
 * comment line and the base64 of "Ed" || key id (8) || public key (32); a secret key
 * file is an untrusted comment line and the base64 of "Ed" || kdf ("Sc" scrypt or
 * "\0\0" none) || "B2" || salt (32) || opslimit (le64) || memlimit (le64) || then,
 * XORed with the scrypt stream when encrypted, key id (8) || secret key (64) ||
 * BLAKE2b-256 of "Ed" || key id || secret key. A signature file has four lines:
 * "untrusted comment: ...", base64 of alg ("Ed" legacy: signs the file; "ED"
 * prehashed: signs its BLAKE2b-512) || key id || signature (64), "trusted comment:
 * ...", and base64 of the global signature over signature || trusted comment.
 *
 * Every parser here reads untrusted input: exact decoded lengths, capped lines and
 * files, and errors that name the file, the line and what is wrong. Errors: -EBADMSG
 * (LETHE_E_INVALID) for malformed input, -EKEYREJECTED (LETHE_E_REJECTED) for a
 * signature that does not verify, a key id that does not match, or a wrong password;
 * -ENOKEY when an encrypted secret key is loaded without a password; other -errno for
 * I/O. */
#ifndef LETHE_SIGN_H
#define LETHE_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LETHE_SIGN_KEYID_BYTES	   8
#define LETHE_SIGN_PUBLICKEY_BYTES 32
#define LETHE_SIGN_BYTES	   64
/* Longest untrusted comment (after "untrusted comment: ") and trusted comment (after
 * "trusted comment: "), in bytes: the largest that minisign reads back. */
#define LETHE_SIGN_COMMENT_MAX	       1003
#define LETHE_SIGN_TRUSTED_COMMENT_MAX 8173
#define LETHE_SIGN_PASSWORD_MAX	       1023
/* Largest key or signature file read; largest file a legacy ("Ed") signature covers,
 * since that format signs the whole file in memory. Prehashed signatures have no cap. */
#define LETHE_SIGN_FILE_MAX   (16 * 1024)
#define LETHE_SIGN_LEGACY_MAX ((size_t)1 << 30)
/* The key id as minisign prints it: 16 uppercase hex digits and a NUL. */
#define LETHE_SIGN_KEYID_STRLEN 17

struct lethe_sign_pubkey {
	uint8_t keyid[LETHE_SIGN_KEYID_BYTES];
	uint8_t pk[LETHE_SIGN_PUBLICKEY_BYTES];
};

/* A secret key, kept in locked, guarded memory (sodium_malloc) and wiped when freed. */
struct lethe_sign_seckey;

struct lethe_sign_signature {
	bool prehashed; /* "ED": the signature covers BLAKE2b-512 of the file */
	uint8_t keyid[LETHE_SIGN_KEYID_BYTES];
	uint8_t sig[LETHE_SIGN_BYTES];
	uint8_t global_sig[LETHE_SIGN_BYTES];
	/* Without its "trusted comment: " prefix; NUL-terminated. */
	char trusted_comment[LETHE_SIGN_TRUSTED_COMMENT_MAX + 1];
};

/* Format a key id the way minisign prints it (its little-endian value in hex). */
void lethe_sign_keyid_format(const uint8_t keyid[LETHE_SIGN_KEYID_BYTES],
			     char out[LETHE_SIGN_KEYID_STRLEN]);

/* ---- keys ---- */

struct lethe_sign_keygen_opts {
	bool force;		     /* replace existing key files */
	const char *comment;	     /* secret key's untrusted comment; NULL: minisign's */
	unsigned long long opslimit; /* scrypt limits; 0: minisign's ("sensitive") */
	unsigned long long memlimit;
};

/* Make a key pair and write both files atomically (the secret key with mode 0600).
 * password NULL writes an unencrypted secret key (minisign -W). opts may be NULL.
 * Fails with -EEXIST if a file exists and !opts->force. ret_pub may be NULL. */
int lethe_sign_keygen(const char *pub_path, const char *sec_path, const char *password,
		      const struct lethe_sign_keygen_opts *opts, struct lethe_sign_pubkey *ret_pub);

/* Parse a public key file's text (name is used in messages), or only its base64 line
 * (what `minisign -P` takes), or load one from a file. */
int lethe_sign_pubkey_parse(const char *text, size_t len, const char *name,
			    struct lethe_sign_pubkey *ret);
int lethe_sign_pubkey_from_base64(const char *b64, struct lethe_sign_pubkey *ret);
int lethe_sign_pubkey_load(const char *path, struct lethe_sign_pubkey *ret);

/* Parse or load a secret key, decrypting it with password if it is encrypted. An
 * encrypted key with password NULL fails with -ENOKEY (ask for one and call again);
 * a wrong password with -EKEYREJECTED. The caller frees *ret with
 * lethe_sign_seckey_free(). lethe_sign_seckey_load() forgets the thread's error
 * message on entry, so that its success after a failed attempt leaves none behind. */
int lethe_sign_seckey_parse(const char *text, size_t len, const char *name, const char *password,
			    struct lethe_sign_seckey **ret);
int lethe_sign_seckey_load(const char *path, const char *password, struct lethe_sign_seckey **ret);
void lethe_sign_seckey_free(struct lethe_sign_seckey *key);
/* The public half of a secret key. */
void lethe_sign_seckey_pubkey(const struct lethe_sign_seckey *key, struct lethe_sign_pubkey *ret);

/* ---- signing ---- */

struct lethe_sign_opts {
	/* NULL or "": minisign's default, "timestamp:T\tfile:NAME[\thashed]", with T
	 * from SOURCE_DATE_EPOCH when set (reproducible builds), else the time now. */
	const char *trusted_comment;
	const char *untrusted_comment; /* NULL: "signature from lethe secret key" */
	bool legacy;		       /* "Ed": sign the whole file (at most LEGACY_MAX) */
};

/* Sign the file at path and write the signature to sig_path atomically. Comments may
 * hold no control character but tab and must be valid UTF-8 (minisign's rule).
 * Streaming when prehashed: memory does not grow with the file. opts may be NULL
 * (prehashed, default comments). */
int lethe_sign_file(const struct lethe_sign_seckey *key, const char *path,
		    const char *trusted_comment, bool prehashed, const char *sig_path);
int lethe_sign_file_opts(const struct lethe_sign_seckey *key, const char *path,
			 const struct lethe_sign_opts *opts, const char *sig_path);

/* Where minisign puts the signature of path: "PATH.minisig". The caller frees it; NULL
 * on ENOMEM. */
char *lethe_sign_default_sig_path(const char *path);

/* ---- verifying ---- */

int lethe_sign_signature_parse(const char *text, size_t len, const char *name,
			       struct lethe_sign_signature *ret);
int lethe_sign_signature_load(const char *path, struct lethe_sign_signature *ret);

/* Verify the file at path (or data already in memory, named name in messages) against
 * the signature file sig_path: key id, signature over the file, global signature over
 * the trusted comment. On success *ret_trusted_comment (if not NULL) is a copy of the
 * trusted comment that the caller frees with free(). Verifying data in memory lets a
 * caller parse exactly the bytes it verified (no race with the file changing). */
int lethe_sign_verify_file(const struct lethe_sign_pubkey *pub, const char *path,
			   const char *sig_path, char **ret_trusted_comment);
int lethe_sign_verify_data(const struct lethe_sign_pubkey *pub, const void *data, size_t len,
			   const char *name, const char *sig_path, char **ret_trusted_comment);
/* The same against a parsed signature (sig_name names it in messages). */
int lethe_sign_verify_signature(const struct lethe_sign_pubkey *pub,
				const struct lethe_sign_signature *sig, const char *sig_name,
				const char *path, char **ret_trusted_comment);

/* ---- keys in a PKCS#11 token (lib/sign/pkcs11.c) ----
 *
 * An Ed25519 key pair (CKK_EC_EDWARDS, signing with CKM_EDDSA: pure Ed25519, which is
 * what minisign's signatures are) inside a token, named by an RFC 7512 URI such as
 * "pkcs11:token=release;object=lethe-release". p11-kit loads the module and parses the
 * URI. The module is opts->module, else the URI's module-path, else every module that
 * p11-kit has registered (narrowed by the URI's module-name). Exactly one token and one
 * private key must match. The PIN is opts->pin, else the URI's pin-value, else the first
 * line of the file its pin-source names ("file:" prefix allowed), else what
 * opts->ask_pin answers; a token with a PIN pad (protected authentication path) asks
 * itself. The private key never leaves the token: keygen makes it CKA_SENSITIVE and
 * not CKA_EXTRACTABLE, and a key that is not sensitive is refused.
 *
 * A token key has no random minisign key id: it is the first 8 bytes of the BLAKE2b-256
 * of "lethe pkcs11 key id v1" followed by the 32-byte public key, so that the same key
 * always has the same id, wherever it is opened (lethe_sign_pkcs11_keyid()).
 *
 * Errors: -EKEYREJECTED for a wrong PIN, -EACCES for a locked PIN, -ENOKEY when a PIN
 * is needed and none can be had, -ENODEV when no token or key matches, -EINVAL for a
 * malformed or ambiguous URI, -EEXIST when keygen would replace a file or a key. */
#define LETHE_SIGN_PIN_MAX 255

struct lethe_sign_pkcs11_opts {
	const char *module; /* module path, over the URI's module-path */
	const char *pin;    /* over the URI's PIN */
	/* Ask for the PIN of the token labelled token: write it NUL-terminated into buf
	 * (size bytes) and return 0, or -errno. NULL: no one to ask. */
	int (*ask_pin)(const char *token, char *buf, size_t size, void *userdata);
	void *userdata;
	bool force; /* keygen: replace an existing public key file (never a token key) */
};

/* Whether s is a PKCS#11 URI (starts with "pkcs11:"), to tell one from a key file. */
bool lethe_sign_is_pkcs11_uri(const char *s);
void lethe_sign_pkcs11_keyid(const uint8_t pk[LETHE_SIGN_PUBLICKEY_BYTES],
			     uint8_t ret[LETHE_SIGN_KEYID_BYTES]);
/* Generate a key pair in the token, labelled with the URI's object (and id, if given),
 * and write its minisign public key to pub_path. Nothing is left behind on failure: no
 * file, and no key in the token. ret_pub may be NULL. */
int lethe_sign_pkcs11_keygen(const char *uri, const char *pub_path,
			     const struct lethe_sign_pkcs11_opts *opts,
			     struct lethe_sign_pubkey *ret_pub);
/* Open the key the URI names (logging in to its token) as a secret key handle that
 * lethe_sign_file_opts() and lethe_build() sign with; free it with
 * lethe_sign_seckey_free(), which logs out and unloads the module. */
int lethe_sign_pkcs11_open(const char *uri, const struct lethe_sign_pkcs11_opts *opts,
			   struct lethe_sign_seckey **ret);

#endif
