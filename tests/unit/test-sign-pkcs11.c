/* Unit tests of lib/sign/pkcs11.c against SoftHSM2, a token of our own in a temporary
 * directory: keys made in the token stay there (their value cannot be read), they sign
 * in minisign's format, a wrong PIN is refused and leaves nothing behind, and the key
 * id is the documented derivation. Skipped (77) when SoftHSM2 is not installed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include <lethe/sign.h>
#include <lethe/util.h>

#include "helpers.h"

#define SOFTHSM "/usr/lib/softhsm/libsofthsm2.so"
#define PIN	"4321"

static char tmpdir[64];
static char uri[512];

static char *tmp(const char *name)
{
	return ut_path(tmpdir, name);
}

/* "pkcs11:token=unit;object=LABEL?module-path=...&PIN_QUERY" */
static const char *key_uri(const char *label, const char *pin_query)
{
	assert_true((size_t)snprintf(uri, sizeof(uri),
				     "pkcs11:token=unit;object=%s?module-path=" SOFTHSM "%s%s",
				     label, pin_query ? "&" : "",
				     pin_query ? pin_query : "") < sizeof(uri));
	return uri;
}

static int setup(void **state)
{
	char cmd[512], *conf, *tokens, text[256];

	ut_mkdtemp_in(tmpdir, sizeof(tmpdir), "sign-pkcs11");
	conf = tmp("softhsm2.conf");
	tokens = tmp("tokens");
	assert_int_equal(mkdir(tokens, 0700), 0);
	snprintf(text, sizeof(text), "directories.tokendir = %s\nobjectstore.backend = file\n",
		 tokens);
	ut_write(conf, text, strlen(text), 0600);
	setenv("SOFTHSM2_CONF", conf, 1);
	snprintf(cmd, sizeof(cmd),
		 "softhsm2-util --init-token --free --label unit --pin " PIN
		 " --so-pin 87654321 >/dev/null");
	assert_int_equal(system(cmd), 0);
	free(conf);
	free(tokens);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- a direct look into the token, with p11-kit and the function list ---- */

struct peek {
	CK_FUNCTION_LIST *m;
	CK_SESSION_HANDLE s;
};

static void peek_open(struct peek *p)
{
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8;

	p->m = p11_kit_module_load(SOFTHSM, 0);
	assert_non_null(p->m);
	assert_int_equal(p11_kit_module_initialize(p->m), CKR_OK);
	assert_int_equal(p->m->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;

		assert_int_equal(p->m->C_GetTokenInfo(slots[i], &ti), CKR_OK);
		if (memcmp(ti.label, "unit ", 5) != 0)
			continue;
		assert_int_equal(p->m->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION,
						     NULL, NULL, &p->s),
				 CKR_OK);
		assert_int_equal(p->m->C_Login(p->s, CKU_USER, (CK_UTF8CHAR *)PIN, strlen(PIN)),
				 CKR_OK);
		return;
	}
	fail_msg("no token 'unit'");
}

static void peek_close(struct peek *p)
{
	p->m->C_Logout(p->s);
	p->m->C_CloseSession(p->s);
	p11_kit_module_finalize(p->m);
	p11_kit_module_release(p->m);
}

/* How many objects of class cls (or any, cls == -1) carry label. */
static CK_ULONG peek_count(struct peek *p, const char *label, CK_OBJECT_CLASS cls,
			   CK_OBJECT_HANDLE *ret)
{
	CK_ATTRIBUTE t[2] = { { CKA_LABEL, (void *)label, strlen(label) },
			      { CKA_CLASS, &cls, sizeof(cls) } };
	CK_OBJECT_HANDLE h[4];
	CK_ULONG n = 0;

	assert_int_equal(p->m->C_FindObjectsInit(p->s, t, cls == (CK_OBJECT_CLASS)-1 ? 1 : 2),
			 CKR_OK);
	assert_int_equal(p->m->C_FindObjects(p->s, h, 4, &n), CKR_OK);
	p->m->C_FindObjectsFinal(p->s);
	if (ret && n)
		*ret = h[0];
	return n;
}

static CK_BBOOL peek_bool(struct peek *p, CK_OBJECT_HANDLE o, CK_ATTRIBUTE_TYPE type)
{
	CK_BBOOL v = 2;
	CK_ATTRIBUTE a = { type, &v, sizeof(v) };

	assert_int_equal(p->m->C_GetAttributeValue(p->s, o, &a, 1), CKR_OK);
	return v;
}

/* ---- tests ---- */

static void test_keyid_derivation(void **state)
{
	static const uint8_t want[8] = { 0xab, 0x78, 0xe2, 0x11, 0xb3, 0x26, 0xe6, 0x4d };
	uint8_t pk[32], id[8];
	char s[LETHE_SIGN_KEYID_STRLEN];

	for (int i = 0; i < 32; i++)
		pk[i] = (uint8_t)i;
	/* BLAKE2b-256("lethe pkcs11 key id v1" || pk), first 8 bytes (docs/signing.md). */
	lethe_sign_pkcs11_keyid(pk, id);
	assert_memory_equal(id, want, 8);
	lethe_sign_keyid_format(id, s);
	assert_string_equal(s, "4DE626B311E278AB");
	assert_true(lethe_sign_is_pkcs11_uri("pkcs11:token=x"));
	assert_false(lethe_sign_is_pkcs11_uri("/home/k/pkcs11:key"));
	assert_false(lethe_sign_is_pkcs11_uri(NULL));
}

static void test_keygen_sign_verify(void **state)
{
	struct lethe_sign_pubkey pub, file_pub, key_pub;
	struct lethe_sign_seckey *key = NULL;
	char *pub_path = tmp("k.pub"), *data = tmp("data"), *sig = tmp("data.minisig");
	uint8_t id[8];
	char *tc = NULL;

	assert_int_equal(lethe_sign_pkcs11_keygen(key_uri("release", "pin-value=" PIN), pub_path,
						  NULL, &pub),
			 0);
	assert_int_equal(lethe_sign_pubkey_load(pub_path, &file_pub), 0);
	assert_memory_equal(&pub, &file_pub, sizeof(pub));
	lethe_sign_pkcs11_keyid(pub.pk, id);
	assert_memory_equal(pub.keyid, id, 8);

	ut_write(data, "signed in a token\n", 18, 0644);
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("release", "pin-value=" PIN), NULL, &key),
			 0);
	lethe_sign_seckey_pubkey(key, &key_pub);
	assert_memory_equal(&key_pub, &pub, sizeof(pub));
	assert_int_equal(lethe_sign_file(key, data, "by the token", true, sig), 0);
	assert_int_equal(lethe_sign_verify_file(&pub, data, sig, &tc), 0);
	assert_string_equal(tc, "by the token");
	free(tc);
	/* Legacy signatures too, and another key's public key refuses them. */
	assert_int_equal(lethe_sign_file(key, data, "legacy", false, sig), 0);
	assert_int_equal(lethe_sign_verify_file(&pub, data, sig, NULL), 0);
	file_pub.pk[0] ^= 1;
	assert_int_equal(lethe_sign_verify_file(&file_pub, data, sig, NULL), -EKEYREJECTED);
	lethe_sign_seckey_free(key);

	/* The same label again: refused, and the token still holds one pair. */
	char *k2 = tmp("k2.pub");

	assert_int_equal(
		lethe_sign_pkcs11_keygen(key_uri("release", "pin-value=" PIN), k2, NULL, NULL),
		-EEXIST);
	assert_int_equal(access(k2, F_OK), -1);
	free(k2);
	free(pub_path);
	free(data);
	free(sig);
}

/* The private key's value cannot be read; the public key's can (the control). */
static void test_key_stays_in_token(void **state)
{
	struct lethe_sign_pubkey pub;
	struct peek p;
	CK_OBJECT_HANDLE priv, pubobj;
	uint8_t value[256];
	CK_ATTRIBUTE a = { CKA_VALUE, value, sizeof(value) };
	CK_ATTRIBUTE ec = { CKA_EC_POINT, value, sizeof(value) };
	char *pub_path = tmp("k.pub");

	assert_int_equal(lethe_sign_pubkey_load(pub_path, &pub), 0);
	peek_open(&p);
	assert_int_equal(peek_count(&p, "release", CKO_PRIVATE_KEY, &priv), 1);
	assert_int_equal(peek_count(&p, "release", CKO_PUBLIC_KEY, &pubobj), 1);
	assert_int_equal(p.m->C_GetAttributeValue(p.s, priv, &a, 1), CKR_ATTRIBUTE_SENSITIVE);
	assert_int_equal(peek_bool(&p, priv, CKA_SENSITIVE), CK_TRUE);
	assert_int_equal(peek_bool(&p, priv, CKA_EXTRACTABLE), CK_FALSE);
	assert_int_equal(peek_bool(&p, priv, CKA_NEVER_EXTRACTABLE), CK_TRUE);
	assert_int_equal(peek_bool(&p, priv, CKA_DECRYPT), CK_FALSE);
	assert_int_equal(p.m->C_GetAttributeValue(p.s, pubobj, &ec, 1), CKR_OK);
	assert_int_equal(ec.ulValueLen, 34);
	assert_memory_equal(value + 2, pub.pk, 32);
	peek_close(&p);
	free(pub_path);
}

/* A key whose value can be read out (not sensitive) is refused for signing. */
static void test_refuses_readable_key(void **state)
{
	static const uint8_t oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
	CK_MECHANISM mech = { CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pubt[] = { { CKA_TOKEN, &yes, 1 },
				{ CKA_EC_PARAMS, (void *)oid, sizeof(oid) },
				{ CKA_LABEL, "readable", 8 } };
	CK_ATTRIBUTE privt[] = { { CKA_TOKEN, &yes, 1 },
				 { CKA_SENSITIVE, &no, 1 },
				 { CKA_EXTRACTABLE, &yes, 1 },
				 { CKA_SIGN, &yes, 1 },
				 { CKA_LABEL, "readable", 8 } };
	struct lethe_sign_seckey *key = NULL;
	CK_OBJECT_HANDLE a, b;
	struct peek p;

	peek_open(&p);
	assert_int_equal(p.m->C_GenerateKeyPair(p.s, &mech, pubt, 3, privt, 5, &a, &b), CKR_OK);
	peek_close(&p);
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("readable", "pin-value=" PIN), NULL, &key),
			 -EPERM);
	assert_non_null(strstr(lethe_error_message(), "not sensitive"));
	assert_null(key);
}

static int ask_wrong(const char *token, char *buf, size_t size, void *userdata)
{
	int *asked = userdata;

	assert_string_equal(token, "unit");
	(*asked)++;
	memcpy(buf, "0000", 5);
	return 0;
}

static int ask_right(const char *token, char *buf, size_t size, void *userdata)
{
	int *asked = userdata;

	(*asked)++;
	assert_true(size > strlen(PIN));
	memcpy(buf, PIN, strlen(PIN) + 1);
	return 0;
}

static int ask_nobody(const char *token, char *buf, size_t size, void *userdata)
{
	return -ENXIO;
}

static void test_pins(void **state)
{
	struct lethe_sign_pkcs11_opts o = { 0 };
	struct lethe_sign_seckey *key = NULL;
	char *pin_file = tmp("pin"), query[300], *pub_path = tmp("wrong.pub");
	int asked = 0;
	struct peek p;

	/* A wrong PIN: rejected, once asked; keygen writes no file and makes no key. */
	o.ask_pin = ask_wrong;
	o.userdata = &asked;
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("release", NULL), &o, &key), -EKEYREJECTED);
	assert_non_null(strstr(lethe_error_message(), "wrong PIN for PKCS#11 token 'unit'"));
	assert_int_equal(asked, 1);
	assert_int_equal(
		lethe_sign_pkcs11_keygen(key_uri("new", "pin-value=0000"), pub_path, NULL, NULL),
		-EKEYREJECTED);
	assert_int_equal(access(pub_path, F_OK), -1);
	peek_open(&p);
	assert_int_equal(peek_count(&p, "new", (CK_OBJECT_CLASS)-1, NULL), 0);
	peek_close(&p);

	/* The right PIN asked for; from a pin-source file (first line); from the caller. */
	o.ask_pin = ask_right;
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("release", NULL), &o, &key), 0);
	assert_int_equal(asked, 2);
	lethe_sign_seckey_free(key);
	ut_write(pin_file, PIN "\nnot the pin\n", strlen(PIN) + 13, 0600);
	snprintf(query, sizeof(query), "pin-source=file:%s", pin_file);
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("release", query), NULL, &key), 0);
	lethe_sign_seckey_free(key);
	o = (struct lethe_sign_pkcs11_opts){ .pin = PIN };
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("release", NULL), &o, &key), 0);
	lethe_sign_seckey_free(key);

	/* No PIN and no one to ask: a message that says what to do. */
	o = (struct lethe_sign_pkcs11_opts){ .ask_pin = ask_nobody };
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("release", NULL), &o, &key), -ENOKEY);
	assert_non_null(strstr(lethe_error_message(), "pin-source"));
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("release", NULL), NULL, &key), -ENOKEY);
	/* A program as pin-source is not run. */
	assert_int_equal(
		lethe_sign_pkcs11_open(key_uri("release", "pin-source=%7C/bin/true"), NULL, &key),
		-EINVAL);
	free(pin_file);
	free(pub_path);
}

static void test_errors_name_things(void **state)
{
	struct lethe_sign_seckey *key = NULL;
	const char *msg;

	/* No such key, no such token, no such module, a malformed URI, no object= for
	 * keygen; a message never shows the PIN. */
	assert_int_equal(lethe_sign_pkcs11_open(key_uri("nothing", "pin-value=" PIN), NULL, &key),
			 -ENODEV);
	msg = lethe_error_message();
	assert_non_null(strstr(msg, "no Ed25519 private key matching"));
	assert_null(strstr(msg, PIN));
	assert_int_equal(lethe_sign_pkcs11_open("pkcs11:token=other?module-path=" SOFTHSM
						"&pin-value=" PIN,
						NULL, &key),
			 -ENODEV);
	assert_non_null(strstr(lethe_error_message(), "no PKCS#11 token matches"));
	assert_int_equal(
		lethe_sign_pkcs11_open("pkcs11:token=unit?module-path=/nonexistent.so", NULL, &key),
		-ENOENT);
	assert_non_null(strstr(lethe_error_message(), "/nonexistent.so"));
	assert_int_equal(lethe_sign_pkcs11_open("pkcs11:token=unit;bogus", NULL, &key), -EINVAL);
	assert_int_equal(lethe_sign_pkcs11_open("/some/key", NULL, &key), -EINVAL);
	char *x = tmp("x.pub");

	assert_int_equal(
		lethe_sign_pkcs11_keygen("pkcs11:token=unit?module-path=" SOFTHSM, x, NULL, NULL),
		-EINVAL);
	free(x);
	assert_non_null(strstr(lethe_error_message(), "object=LABEL"));
	assert_null(key);
}

/* Under AddressSanitizer: no leak report for this program. SoftHSM, loaded into it as
 * the token, leaks OpenSSL objects of its own (ASN1 strings of its EC keys), and once
 * p11-kit has unloaded it their stacks end in libcrypto with nothing to tell them from
 * ours. Memory errors are still reported; Lethe's PKCS#11 code keeps no allocation of
 * its own across calls (lib/sign/pkcs11.c frees each in the function that made it). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyid_derivation),
		cmocka_unit_test(test_keygen_sign_verify),
		cmocka_unit_test(test_key_stays_in_token),
		cmocka_unit_test(test_refuses_readable_key),
		cmocka_unit_test(test_pins),
		cmocka_unit_test(test_errors_name_things),
	};

	if (access(SOFTHSM, R_OK) != 0 || system("command -v softhsm2-util >/dev/null") != 0) {
		fprintf(stderr, "SKIP: SoftHSM2 is not installed (" SOFTHSM ")\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
