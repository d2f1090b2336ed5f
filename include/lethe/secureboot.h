/* UEFI Secure Boot with an organisation's own keys: the key directory `lethe keygen
 * --secure-boot` makes (PK, KEK, db as X.509 certificates and RSA keys, EFI signature
 * lists and time-based authenticated updates for enrolment), the checks a build makes
 * before any work, and signing and verifying PE images with db (sbsigntool).
 * docs/secure-boot.md describes the files, enrolment and what is reproducible. */
#ifndef LETHE_SECUREBOOT_H
#define LETHE_SECUREBOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The key directory. Each of PK, KEK, db has NAME.key (PEM, 0600), NAME.crt (PEM),
 * NAME.cer (DER, for firmware menus), NAME.esl (EFI_SIGNATURE_LIST) and NAME.auth (the
 * signed update: PK by PK, KEK by PK, db by KEK). GUID holds the owner GUID of every
 * list; TIMESTAMP the one time stamp of the .auth files (seconds since the epoch). */
#define LETHE_SB_GUID_FILE	"GUID"
#define LETHE_SB_TIMESTAMP_FILE "TIMESTAMP"
#define LETHE_SB_ENROLL_ESP_DIR "loader/keys/auto" /* systemd-boot's enrolment keys */

enum lethe_sb_key { LETHE_SB_PK, LETHE_SB_KEK, LETHE_SB_DB, LETHE_SB_KEY_MAX };

/* "PK", "KEK", "db": the variable names, also the file stems. */
const char *lethe_sb_key_name(enum lethe_sb_key k);

struct lethe_sb_keygen_options {
	const char *common_name; /* prefix of each certificate's CN; NULL: "Lethe" */
	unsigned days;		 /* validity; 0: 3650 */
	int64_t timestamp;	 /* of the .auth updates; < 0: now (or SOURCE_DATE_EPOCH) */
	const char *guid;	 /* owner GUID; NULL: a random one */
	bool force;		 /* replace existing files in dir */
};

/* Create dir (mode 0700; an existing dir must be empty unless force) and every file of
 * the key directory with openssl, cert-to-efi-sig-list and sign-efi-sig-list (efitools).
 * Written into a temporary directory beside dir, renamed into place at the end. */
int lethe_sb_keygen(const char *dir, const struct lethe_sb_keygen_options *o);

/* A key directory, checked: paths of its files (owned by the handle). */
struct lethe_sb_keys {
	char *dir;
	char *key[LETHE_SB_KEY_MAX], *crt[LETHE_SB_KEY_MAX], *auth[LETHE_SB_KEY_MAX];
};

/* Check dir before any work: db.key and db.crt readable, the key is the certificate's
 * (X509_check_private_key), the certificate is valid now (not expired, not before its
 * start); sbsign and sbverify runnable. With enroll, also the three .auth files. One
 * message naming the file and the reason. Release *ret with lethe_sb_keys_release(). */
int lethe_sb_keys_open(const char *dir, bool enroll, struct lethe_sb_keys *ret);
void lethe_sb_keys_release(struct lethe_sb_keys *k);

/* Sign the PE image in with db into out (atomically: sbsign into a temporary file,
 * checked with sbverify against db.crt, renamed). in and out may be the same path. */
int lethe_sb_sign(const struct lethe_sb_keys *k, const char *in, const char *out);

/* Does sbverify accept path's signature against the certificate cert (PEM)? 0 yes,
 * -LETHE_E_REJECTED with sbverify's last line when not (unsigned, another key). */
int lethe_sb_verify(const char *path, const char *cert);

/* ---- What the firmware holds (the audit reads efivarfs) ---- */

#define LETHE_SB_EFIVARS	 "sys/firmware/efi/efivars"
#define LETHE_SB_GLOBAL_GUID	 "8be4df61-93ca-11d2-aa0d-00e098032b8c" /* SecureBoot, SetupMode */
#define LETHE_SB_DB_GUID	 "d719b2cb-3d3a-4596-a3bc-dad00e67656f" /* db, dbx */
#define LETHE_SB_ESL_MAX	 (1u << 20)
#define LETHE_SB_ESL_MAX_ENTRIES 256

/* What an EFI signature database holds (the content of db, untrusted bytes: a series of
 * EFI_SIGNATURE_LISTs): the subject of each X.509 certificate ("CN=..., O=..." as
 * OpenSSL prints it one-line) appended to ret_subjects, and the number of SHA-256
 * entries. Every list's sizes are checked against the data and each other;
 * -LETHE_E_INVALID with the offset otherwise. */
struct lethe_strv;
int lethe_sb_esl_parse(const void *data, size_t len, const char *what,
		       struct lethe_strv *ret_subjects, size_t *ret_n_sha256);

#endif
