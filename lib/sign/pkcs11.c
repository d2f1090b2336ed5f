/* Ed25519 keys in a PKCS#11 token: make one, open one, sign with CKM_EDDSA (pure
 * Ed25519, what minisign signs with). p11-kit loads the module and parses the RFC 7512
 * URI; this file only calls the module's standard function list. The private key never
 * leaves the token: every signature is made in it and checked here with its public key. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>
#include <sodium.h>

#include "sign-internal.h"

#define URI_SCHEME    "pkcs11:"
#define KEYID_CONTEXT "lethe pkcs11 key id v1"
#define MAX_SLOTS     64
#define ATTR_MAX      256 /* longest CKA_ID or CKA_LABEL read back */
#define LABEL_MAX     32  /* CK_TOKEN_INFO's label, space padded */

/* CKA_EC_PARAMS for Ed25519: the DER of id-Ed25519 (RFC 8410, 1.3.101.112), or the
 * printable curve name that PKCS#11 3.0 allows too; some tokens know only one. */
static const uint8_t ec_params_oid[] = { 0x06, 0x03, 0x2b, 0x65, 0x70 };
static const uint8_t ec_params_name[] = "\x13\x0c"
					"edwards25519"; /* PrintableString, 12 bytes */
/* What the trial signature of keygen and open signs: proves the public key found in the
 * token belongs to the private key before anything relies on it. */
static const char trial_message[] = "lethe pkcs11 trial signature";

/* p11-kit is loaded the first time a token is used, not linked: so the lean lethe of
 * images can carry sign and keygen, an image without libp11-kit0 still runs it (and
 * is told what to install when a token is asked for), and nothing else changes. */
#define P11_KIT_SONAME "libp11-kit.so.0"
#define P11_FUNCTIONS(X)                                                                           \
	X(p11_kit_be_quiet)                                                                        \
	X(p11_kit_message)                                                                         \
	X(p11_kit_module_finalize)                                                                 \
	X(p11_kit_module_get_name)                                                                 \
	X(p11_kit_module_initialize)                                                               \
	X(p11_kit_module_load)                                                                     \
	X(p11_kit_module_release)                                                                  \
	X(p11_kit_modules_finalize_and_release)                                                    \
	X(p11_kit_modules_load_and_initialize)                                                     \
	X(p11_kit_space_strlen)                                                                    \
	X(p11_kit_strerror)                                                                        \
	X(p11_kit_uri_format)                                                                      \
	X(p11_kit_uri_free)                                                                        \
	X(p11_kit_uri_get_attribute)                                                               \
	X(p11_kit_uri_get_module_name)                                                             \
	X(p11_kit_uri_get_module_path)                                                             \
	X(p11_kit_uri_get_pin_source)                                                              \
	X(p11_kit_uri_get_pin_value)                                                               \
	X(p11_kit_uri_get_slot_id)                                                                 \
	X(p11_kit_uri_match_module_info)                                                           \
	X(p11_kit_uri_match_slot_info)                                                             \
	X(p11_kit_uri_match_token_info)                                                            \
	X(p11_kit_uri_message)                                                                     \
	X(p11_kit_uri_new)                                                                         \
	X(p11_kit_uri_parse)                                                                       \
	X(p11_kit_uri_set_pin_source)                                                              \
	X(p11_kit_uri_set_pin_value)

static struct {
#define X(f) __typeof__(&f) f;
	P11_FUNCTIONS(X)
#undef X
} p11;
static int p11_state; /* 0: not tried, 1: loaded, <0: -errno */
static char p11_missing[64];

static void p11_load_once(void)
{
	void *h = dlopen(P11_KIT_SONAME, RTLD_NOW | RTLD_LOCAL);

	p11_state = -ENOENT;
	if (!h)
		return;
#define X(f)                                                                                       \
	if (!(p11.f = (__typeof__(&f))dlsym(h, #f))) {                                             \
		snprintf(p11_missing, sizeof(p11_missing), "%s", #f);                              \
		return;                                                                            \
	}
	P11_FUNCTIONS(X)
#undef X
	p11_state = 1;
}

static int p11_load(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, p11_load_once);
	if (p11_state == 1)
		return 0;
	if (p11_missing[0])
		return lethe_error(-ENOENT, "%s lacks %s: p11-kit 0.24 or newer is needed",
				   P11_KIT_SONAME, p11_missing);
	return lethe_error(-ENOENT,
			   "cannot load p11-kit (" P11_KIT_SONAME ") for PKCS#11 tokens: install "
			   "libp11-kit0");
}

struct token {
	CK_FUNCTION_LIST **modules; /* NULL-terminated */
	bool registered;	    /* p11-kit's registered modules, not one by path */
	CK_FUNCTION_LIST *m;	    /* the module that holds the token */
	CK_SLOT_ID slot;
	CK_FLAGS flags; /* the token's */
	CK_SESSION_HANDLE session;
	bool session_open, logged_in, always_auth;
	CK_OBJECT_HANDLE priv;
	char *pin; /* locked memory; kept only for a key that wants it per signature */
	uint8_t pk[LETHE_SIGN_PUBLICKEY_BYTES];
	char label[LABEL_MAX + 1]; /* the token's, for messages */
	char *what;		   /* the URI without its PIN, for messages */
};

bool lethe_sign_is_pkcs11_uri(const char *s)
{
	return s && strncmp(s, URI_SCHEME, strlen(URI_SCHEME)) == 0;
}

void lethe_sign_pkcs11_keyid(const uint8_t pk[LETHE_SIGN_PUBLICKEY_BYTES],
			     uint8_t ret[LETHE_SIGN_KEYID_BYTES])
{
	crypto_generichash_state hs;
	uint8_t h[32];

	crypto_generichash_init(&hs, NULL, 0, sizeof(h));
	crypto_generichash_update(&hs, (const uint8_t *)KEYID_CONTEXT, strlen(KEYID_CONTEXT));
	crypto_generichash_update(&hs, pk, LETHE_SIGN_PUBLICKEY_BYTES);
	crypto_generichash_final(&hs, h, sizeof(h));
	memcpy(ret, h, LETHE_SIGN_KEYID_BYTES);
}

static int rv_error(CK_RV rv, const struct token *t, const char *call)
{
	return lethe_error(-EIO, "PKCS#11 token '%s': %s failed: %s", t->label[0] ? t->label : "?",
			   call, p11.p11_kit_strerror(rv));
}

/* ---- the module and the token ---- */

static void pin_free(struct token *t)
{
	if (t->pin)
		sodium_free(t->pin); /* wipes */
	t->pin = NULL;
}

static void token_close(void *p)
{
	struct token *t = p;

	if (!t)
		return;
	if (t->logged_in)
		t->m->C_Logout(t->session);
	if (t->session_open)
		t->m->C_CloseSession(t->session);
	if (t->registered) {
		p11.p11_kit_modules_finalize_and_release(t->modules);
	} else if (t->modules) {
		if (t->modules[0]) {
			p11.p11_kit_module_finalize(t->modules[0]);
			p11.p11_kit_module_release(t->modules[0]);
		}
		free(t->modules);
	}
	pin_free(t);
	free(t->what);
	free(t);
}

static int modules_load(struct token *t, P11KitUri *uri, const char *module)
{
	const char *path = module ? module : p11.p11_kit_uri_get_module_path(uri);
	CK_RV rv;

	p11.p11_kit_be_quiet(); /* the library never prints; p11.p11_kit_message() says why */
	if (!path) {
		t->modules = p11.p11_kit_modules_load_and_initialize(0);
		if (!t->modules)
			return lethe_error(-ENOENT,
					   "cannot load the PKCS#11 modules p11-kit knows: %s "
					   "(name one with module-path= in the URI or --module)",
					   p11.p11_kit_message() ? p11.p11_kit_message()
								 : "no module");
		t->registered = true;
		return 0;
	}
	t->modules = calloc(2, sizeof(*t->modules));
	if (!t->modules)
		return -ENOMEM;
	t->modules[0] = p11.p11_kit_module_load(path, 0);
	if (!t->modules[0])
		return lethe_error(-ENOENT, "cannot load the PKCS#11 module '%s': %s", path,
				   p11.p11_kit_message() ? p11.p11_kit_message() : "unknown error");
	rv = p11.p11_kit_module_initialize(t->modules[0]);
	if (rv != CKR_OK) {
		p11.p11_kit_module_release(t->modules[0]);
		t->modules[0] = NULL;
		return lethe_error(-EIO, "cannot initialise the PKCS#11 module '%s': %s", path,
				   p11.p11_kit_strerror(rv));
	}
	return 0;
}

static bool module_matches(const struct token *t, CK_FUNCTION_LIST *m, P11KitUri *uri)
{
	const char *want = p11.p11_kit_uri_get_module_name(uri);
	CK_INFO info;
	bool ok = true;

	if (want && t->registered) {
		char *name = p11.p11_kit_module_get_name(m);

		ok = name && strcmp(name, want) == 0;
		free(name);
	}
	return ok && m->C_GetInfo(&info) == CKR_OK && p11.p11_kit_uri_match_module_info(uri, &info);
}

static bool slot_matches(CK_FUNCTION_LIST *m, CK_SLOT_ID slot, P11KitUri *uri,
			 CK_TOKEN_INFO *ret_info)
{
	CK_SLOT_ID want = p11.p11_kit_uri_get_slot_id(uri);
	CK_SLOT_INFO si;

	if (want != (CK_SLOT_ID)-1 && want != slot)
		return false;
	if (m->C_GetSlotInfo(slot, &si) != CKR_OK || !p11.p11_kit_uri_match_slot_info(uri, &si))
		return false;
	if (m->C_GetTokenInfo(slot, ret_info) != CKR_OK)
		return false;
	/* SoftHSM and others show an empty slot with an uninitialised token in it. */
	return (ret_info->flags & CKF_TOKEN_INITIALIZED) &&
	       p11.p11_kit_uri_match_token_info(uri, ret_info);
}

static void label_copy(char out[LABEL_MAX + 1], const CK_UTF8CHAR *label)
{
	size_t n = p11.p11_kit_space_strlen(label, LABEL_MAX);

	memcpy(out, label, n);
	out[n] = '\0';
}

/* Exactly one initialised token in all modules must match the URI. */
static int token_find(struct token *t, P11KitUri *uri)
{
	unsigned found = 0;

	for (size_t i = 0; t->modules[i]; i++) {
		CK_FUNCTION_LIST *m = t->modules[i];
		CK_SLOT_ID slots[MAX_SLOTS];
		CK_ULONG n = MAX_SLOTS;
		CK_TOKEN_INFO info;
		CK_RV rv;

		if (!module_matches(t, m, uri))
			continue;
		rv = m->C_GetSlotList(CK_TRUE, slots, &n);
		if (rv == CKR_BUFFER_TOO_SMALL)
			return lethe_error(-E2BIG, "a PKCS#11 module has more than %d slots",
					   MAX_SLOTS);
		if (rv != CKR_OK)
			return rv_error(rv, t, "C_GetSlotList");
		for (CK_ULONG s = 0; s < n; s++) {
			if (!slot_matches(m, slots[s], uri, &info))
				continue;
			if (found++) {
				char other[LABEL_MAX + 1];

				label_copy(other, info.label);
				return lethe_error(-EINVAL,
						   "'%s' matches more than one token ('%s' and "
						   "'%s'): name one with token=LABEL",
						   t->what, t->label, other);
			}
			t->m = m;
			t->slot = slots[s];
			t->flags = info.flags;
			label_copy(t->label, info.label);
		}
	}
	if (!found)
		return lethe_error(-ENODEV, "no PKCS#11 token matches '%s'", t->what);
	return 0;
}

/* ---- the PIN ---- */

/* pin-source: a file name (RFC 7512 leaves the form to the application; a "file:" URI
 * is what p11-kit and OpenSSL's engine take too). Its first line is the PIN. */
static int pin_from_source(const char *source, char *pin)
{
	const char *path = source;
	char *data;
	size_t len, n;
	int r;

	if (strncmp(path, "file://", 7) == 0)
		path += 7;
	else if (strncmp(path, "file:", 5) == 0)
		path += 5;
	if (*path == '|' || !*path)
		return lethe_error(-EINVAL,
				   "pin-source '%s': only a file can hold the PIN (file:PATH)",
				   source);
	r = lethe_file_read(path, LETHE_SIGN_PIN_MAX + 2, &data, &len);
	if (r == -EFBIG)
		return lethe_error(-EINVAL,
				   "pin-source '%s' is too long for a PIN (at most %d bytes)", path,
				   LETHE_SIGN_PIN_MAX);
	if (r < 0)
		return r;
	n = strcspn(data, "\r\n");
	if (n > LETHE_SIGN_PIN_MAX)
		r = lethe_error(-EINVAL, "the PIN in '%s' is too long (at most %d bytes)", path,
				LETHE_SIGN_PIN_MAX);
	else
		memcpy(pin, data, n), pin[n] = '\0';
	sodium_memzero(data, len);
	free(data);
	return r;
}

static int pin_copy(const char *from, const char *what, char *pin)
{
	size_t n = strlen(from);

	if (n > LETHE_SIGN_PIN_MAX)
		return lethe_error(-EINVAL, "the PIN from %s is too long (at most %d bytes)", what,
				   LETHE_SIGN_PIN_MAX);
	memcpy(pin, from, n + 1);
	return 0;
}

/* Fill pin from the options, the URI, or the caller's prompt. *ret_have says whether
 * one was found; a token with a PIN pad needs none. */
static int pin_get(struct token *t, const char *pin_value, const char *pin_source,
		   const struct lethe_sign_pkcs11_opts *o, char *pin, bool *ret_have)
{
	int r;

	*ret_have = true;
	if (o && o->pin)
		return pin_copy(o->pin, "the caller", pin);
	if (pin_value)
		return pin_copy(pin_value, "the URI's pin-value", pin);
	if (pin_source)
		return pin_from_source(pin_source, pin);
	*ret_have = false;
	if (t->flags & CKF_PROTECTED_AUTHENTICATION_PATH)
		return 0;
	r = o && o->ask_pin ? o->ask_pin(t->label, pin, LETHE_SIGN_PIN_MAX + 1, o->userdata)
			    : -ENXIO;
	if (r == -ENXIO) /* no one to ask */
		return lethe_error(-ENOKEY,
				   "PKCS#11 token '%s' needs a PIN and there is no terminal to ask "
				   "for it: give pin-source=FILE in the URI",
				   t->label);
	if (r < 0)
		return lethe_error(r, "no PIN for PKCS#11 token '%s'", t->label);
	pin[LETHE_SIGN_PIN_MAX] = '\0';
	*ret_have = true;
	return 0;
}

static int login_error(CK_RV rv, const struct token *t)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_LEN_RANGE:
		return lethe_error(-EKEYREJECTED, "wrong PIN for PKCS#11 token '%s'", t->label);
	case CKR_PIN_LOCKED:
		return lethe_error(-EACCES,
				   "the PIN of PKCS#11 token '%s' is locked (too many wrong PINs)",
				   t->label);
	default:
		return rv_error(rv, t, "C_Login");
	}
}

/* Open a session and log in as the user. The PIN stays in t->pin until the key is
 * found (a key with CKA_ALWAYS_AUTHENTICATE needs it for every signature). */
static int token_login(struct token *t, bool rw, const char *pin_value, const char *pin_source,
		       const struct lethe_sign_pkcs11_opts *o)
{
	CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
	bool have;
	CK_RV rv;
	int r;

	if (rw && (t->flags & CKF_WRITE_PROTECTED))
		return lethe_error(-EROFS, "PKCS#11 token '%s' is write-protected", t->label);
	rv = t->m->C_OpenSession(t->slot, flags, NULL, NULL, &t->session);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_OpenSession");
	t->session_open = true;
	if (!(t->flags & CKF_LOGIN_REQUIRED))
		return 0;
	t->pin = sodium_malloc(LETHE_SIGN_PIN_MAX + 1);
	if (!t->pin)
		return -ENOMEM;
	if ((r = pin_get(t, pin_value, pin_source, o, t->pin, &have)) < 0)
		return r;
	if (have)
		rv = t->m->C_Login(t->session, CKU_USER, (CK_UTF8CHAR *)t->pin, strlen(t->pin));
	else
		rv = t->m->C_Login(t->session, CKU_USER, NULL, 0); /* the PIN pad asks */
	if (!have)
		pin_free(t);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
		return login_error(rv, t);
	t->logged_in = rv == CKR_OK;
	return 0;
}

/* ---- objects ---- */

/* Up to two objects matching tmpl: one is the answer, two is ambiguous. */
static int find_one(struct token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n, const char *what,
		    CK_OBJECT_HANDLE *ret)
{
	CK_OBJECT_HANDLE found[2];
	CK_ULONG count = 0;
	CK_RV rv;

	rv = t->m->C_FindObjectsInit(t->session, tmpl, n);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_FindObjectsInit");
	rv = t->m->C_FindObjects(t->session, found, 2, &count);
	t->m->C_FindObjectsFinal(t->session);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_FindObjects");
	if (count == 0)
		return lethe_error(-ENODEV, "PKCS#11 token '%s' holds no %s matching '%s'",
				   t->label, what, t->what);
	if (count > 1)
		return lethe_error(-EINVAL,
				   "PKCS#11 token '%s' holds more than one %s matching '%s': "
				   "name one with object=LABEL or id=ID",
				   t->label, what, t->what);
	*ret = found[0];
	return 0;
}

static int get_attr(struct token *t, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, void *buf,
		    CK_ULONG *len)
{
	CK_ATTRIBUTE a = { type, buf, *len };
	CK_RV rv = t->m->C_GetAttributeValue(t->session, obj, &a, 1);

	if (rv != CKR_OK)
		return rv;
	*len = a.ulValueLen;
	return CKR_OK;
}

static bool get_bool(struct token *t, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE type, bool dflt)
{
	CK_BBOOL v = CK_FALSE;
	CK_ULONG len = sizeof(v);

	if (get_attr(t, obj, type, &v, &len) != CKR_OK || len != sizeof(v))
		return dflt;
	return v == CK_TRUE;
}

/* CKA_EC_POINT of an Ed25519 key: the DER OCTET STRING of the 32 bytes (PKCS#11 3.0),
 * or the bare 32 bytes that some tokens return. */
static int read_public_key(struct token *t, CK_OBJECT_HANDLE pub)
{
	uint8_t point[ATTR_MAX];
	CK_ULONG len = sizeof(point);
	CK_RV rv = get_attr(t, pub, CKA_EC_POINT, point, &len);

	if (rv != CKR_OK)
		return rv_error(rv, t, "reading the public key (CKA_EC_POINT)");
	if (len == 34 && point[0] == 0x04 && point[1] == 32)
		memcpy(t->pk, point + 2, 32);
	else if (len == 32)
		memcpy(t->pk, point, 32);
	else
		return lethe_error(-EBADMSG,
				   "PKCS#11 token '%s': the public key of '%s' is not an Ed25519 "
				   "point (%lu bytes)",
				   t->label, t->what, (unsigned long)len);
	return 0;
}

/* The URI's object= and id= as a template (tmpl has room for two more). */
static CK_ULONG uri_template(P11KitUri *uri, CK_ATTRIBUTE *tmpl)
{
	static const CK_ATTRIBUTE_TYPE types[] = { CKA_LABEL, CKA_ID };
	CK_ULONG n = 0;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(types); i++) {
		CK_ATTRIBUTE *a = p11.p11_kit_uri_get_attribute(uri, types[i]);

		if (a)
			tmpl[n++] = *a;
	}
	return n;
}

/* The private key the URI names, and the public key beside it (same CKA_ID, else the
 * same CKA_LABEL). */
static int key_find(struct token *t, P11KitUri *uri)
{
	CK_OBJECT_CLASS priv_class = CKO_PRIVATE_KEY, pub_class = CKO_PUBLIC_KEY;
	CK_KEY_TYPE type = CKK_EC_EDWARDS;
	uint8_t id[ATTR_MAX], label[ATTR_MAX];
	CK_ULONG id_len = sizeof(id), label_len = sizeof(label);
	CK_ATTRIBUTE tmpl[4] = {
		{ CKA_CLASS, &priv_class, sizeof(priv_class) },
		{ CKA_KEY_TYPE, &type, sizeof(type) },
	};
	CK_ULONG n = 2 + uri_template(uri, tmpl + 2);
	CK_OBJECT_HANDLE pub;
	int r;

	if ((r = find_one(t, tmpl, n, "Ed25519 private key", &t->priv)) < 0)
		return r;
	if (!get_bool(t, t->priv, CKA_SENSITIVE, false))
		return lethe_error(-EPERM,
				   "PKCS#11 token '%s': the key '%s' is not sensitive (its value "
				   "can be read out of the token); lethe signs only with keys "
				   "that stay in it",
				   t->label, t->what);
	t->always_auth = get_bool(t, t->priv, CKA_ALWAYS_AUTHENTICATE, false);
	tmpl[0].pValue = &pub_class;
	n = 2;
	if (get_attr(t, t->priv, CKA_ID, id, &id_len) == CKR_OK && id_len > 0 &&
	    id_len <= sizeof(id))
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_ID, id, id_len };
	else if (get_attr(t, t->priv, CKA_LABEL, label, &label_len) == CKR_OK && label_len > 0 &&
		 label_len <= sizeof(label))
		tmpl[n++] = (CK_ATTRIBUTE){ CKA_LABEL, label, label_len };
	else
		n += uri_template(uri, tmpl + 2);
	if ((r = find_one(t, tmpl, n, "Ed25519 public key", &pub)) < 0)
		return r;
	return read_public_key(t, pub);
}

/* ---- signing ---- */

static int token_sign(void *p, const uint8_t *msg, size_t len, uint8_t sig[LETHE_SIGN_BYTES])
{
	struct token *t = p;
	CK_MECHANISM mech = { CKM_EDDSA, NULL, 0 };
	CK_ULONG sig_len = LETHE_SIGN_BYTES;
	CK_RV rv;

	rv = t->m->C_SignInit(t->session, &mech, t->priv);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_SignInit (EdDSA)");
	if (t->always_auth && t->pin) {
		rv = t->m->C_Login(t->session, CKU_CONTEXT_SPECIFIC, (CK_UTF8CHAR *)t->pin,
				   strlen(t->pin));
		if (rv != CKR_OK)
			return login_error(rv, t);
	}
	rv = t->m->C_Sign(t->session, (CK_BYTE *)msg, len, sig, &sig_len);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_Sign (EdDSA)");
	if (sig_len != LETHE_SIGN_BYTES)
		return lethe_error(-EBADMSG,
				   "PKCS#11 token '%s' made a %lu-byte signature, not an "
				   "Ed25519 one",
				   t->label, (unsigned long)sig_len);
	if (crypto_sign_verify_detached(sig, msg, len, t->pk) != 0)
		return lethe_error(-EKEYREJECTED,
				   "PKCS#11 token '%s': the signature of '%s' does not verify with "
				   "its public key (the public key object is another key's)",
				   t->label, t->what);
	return 0;
}

static const struct sign_token_ops token_ops = { .sign = token_sign, .close = token_close };

static int trial_sign(struct token *t)
{
	uint8_t sig[LETHE_SIGN_BYTES];

	return token_sign(t, (const uint8_t *)trial_message, strlen(trial_message), sig);
}

/* ---- entry points ---- */

/* Parse the URI and take its PIN out of it, so that messages never show a PIN. */
struct uri_parts {
	P11KitUri *uri;
	char *pin_value, *pin_source; /* pin_value in locked memory */
};

static void uri_parts_release(struct uri_parts *u)
{
	if (u->pin_value)
		sodium_free(u->pin_value);
	free(u->pin_source);
	if (u->uri)
		p11.p11_kit_uri_free(u->uri);
}

static int uri_open(const char *s, struct token *t, struct uri_parts *u)
{
	const char *pv, *ps;
	int rc;

	if (!lethe_sign_is_pkcs11_uri(s))
		return lethe_error(-EINVAL, "not a PKCS#11 URI (it must start with '%s')",
				   URI_SCHEME);
	u->uri = p11.p11_kit_uri_new();
	if (!u->uri)
		return -ENOMEM;
	rc = p11.p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, u->uri);
	if (rc != P11_KIT_URI_OK)
		return lethe_error(-EINVAL, "invalid PKCS#11 URI: %s", p11.p11_kit_uri_message(rc));
	pv = p11.p11_kit_uri_get_pin_value(u->uri);
	ps = p11.p11_kit_uri_get_pin_source(u->uri);
	if (pv) {
		u->pin_value = sodium_malloc(strlen(pv) + 1);
		if (!u->pin_value)
			return -ENOMEM;
		memcpy(u->pin_value, pv, strlen(pv) + 1);
	}
	if (ps && !(u->pin_source = strdup(ps)))
		return -ENOMEM;
	p11.p11_kit_uri_set_pin_value(u->uri, NULL);
	p11.p11_kit_uri_set_pin_source(u->uri, NULL);
	if (p11.p11_kit_uri_format(u->uri, P11_KIT_URI_FOR_OBJECT_ON_TOKEN, &t->what) !=
	    P11_KIT_URI_OK)
		return -ENOMEM;
	return 0;
}

int lethe_sign_pkcs11_open(const char *uri, const struct lethe_sign_pkcs11_opts *opts,
			   struct lethe_sign_seckey **ret)
{
	struct uri_parts u = { 0 };
	struct lethe_sign_pubkey pub;
	struct token *t;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	if ((r = p11_load()) < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if ((r = uri_open(uri, t, &u)) < 0 ||
	    (r = modules_load(t, u.uri, opts ? opts->module : NULL)) < 0 ||
	    (r = token_find(t, u.uri)) < 0 ||
	    (r = token_login(t, false, u.pin_value, u.pin_source, opts)) < 0 ||
	    (r = key_find(t, u.uri)) < 0)
		goto fail;
	if (!t->always_auth)
		pin_free(t);
	if ((r = trial_sign(t)) < 0)
		goto fail;
	lethe_sign_pkcs11_keyid(t->pk, pub.keyid);
	memcpy(pub.pk, t->pk, sizeof(pub.pk));
	if ((r = sign_seckey_new_token(&pub, &token_ops, t, ret)) < 0)
		goto fail;
	uri_parts_release(&u);
	return 0;
fail:
	token_close(t);
	uri_parts_release(&u);
	return r;
}

/* Keygen never replaces a key: no object of the token may carry the label or id. */
static int refuse_existing_object(struct token *t, CK_ATTRIBUTE *a, const char *what)
{
	CK_OBJECT_HANDLE obj;
	CK_ULONG count = 0;
	CK_RV rv;

	rv = t->m->C_FindObjectsInit(t->session, a, 1);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_FindObjectsInit");
	rv = t->m->C_FindObjects(t->session, &obj, 1, &count);
	t->m->C_FindObjectsFinal(t->session);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_FindObjects");
	if (count)
		return lethe_error(
			-EEXIST,
			"PKCS#11 token '%s' already holds an object with the %s of '%s': "
			"lethe never replaces a key in a token",
			t->label, what, t->what);
	return 0;
}

static CK_RV generate(struct token *t, CK_ATTRIBUTE *label, CK_ATTRIBUTE *id,
		      CK_OBJECT_HANDLE *ret_pub, CK_OBJECT_HANDLE *ret_priv)
{
	static const struct {
		const uint8_t *p;
		size_t len;
	} params[] = { { ec_params_oid, sizeof(ec_params_oid) },
		       { ec_params_name, sizeof(ec_params_name) - 1 } };
	CK_MECHANISM mech = { CKM_EC_EDWARDS_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE pub[8] = {
		{ CKA_EC_PARAMS, NULL, 0 },
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &no, sizeof(no) },
		{ CKA_VERIFY, &yes, sizeof(yes) },
		{ CKA_ENCRYPT, &no, sizeof(no) },
		{ CKA_WRAP, &no, sizeof(no) },
		*label,
	};
	/* Only signing: a signing key that also decrypts or unwraps can be talked into
	 * other work. */
	CK_ATTRIBUTE priv[10] = {
		{ CKA_TOKEN, &yes, sizeof(yes) },
		{ CKA_PRIVATE, &yes, sizeof(yes) },
		{ CKA_SENSITIVE, &yes, sizeof(yes) },
		{ CKA_EXTRACTABLE, &no, sizeof(no) },
		{ CKA_SIGN, &yes, sizeof(yes) },
		{ CKA_DERIVE, &no, sizeof(no) },
		{ CKA_DECRYPT, &no, sizeof(no) },
		{ CKA_UNWRAP, &no, sizeof(no) },
		*label,
	};
	CK_ULONG n_pub = 7, n_priv = 9;
	CK_RV rv = CKR_GENERAL_ERROR;

	if (id) {
		pub[n_pub++] = *id;
		priv[n_priv++] = *id;
	}
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(params); i++) {
		pub[0].pValue = (void *)params[i].p;
		pub[0].ulValueLen = params[i].len;
		rv = t->m->C_GenerateKeyPair(t->session, &mech, pub, n_pub, priv, n_priv, ret_pub,
					     ret_priv);
		if (rv != CKR_ATTRIBUTE_VALUE_INVALID && rv != CKR_DOMAIN_PARAMS_INVALID &&
		    rv != CKR_CURVE_NOT_SUPPORTED && rv != CKR_TEMPLATE_INCONSISTENT)
			break;
	}
	return rv;
}

static int keygen_in_token(struct token *t, P11KitUri *uri, const char *pub_path,
			   struct lethe_sign_pubkey *ret_pub)
{
	CK_ATTRIBUTE *label = p11.p11_kit_uri_get_attribute(uri, CKA_LABEL);
	CK_ATTRIBUTE *id = p11.p11_kit_uri_get_attribute(uri, CKA_ID);
	struct lethe_buf text = { 0 };
	CK_OBJECT_HANDLE pub_obj, priv_obj;
	struct lethe_sign_pubkey pub;
	CK_RV rv;
	int r;

	if ((r = refuse_existing_object(t, label, "label")) < 0 ||
	    (id && (r = refuse_existing_object(t, id, "id")) < 0))
		return r;
	rv = generate(t, label, id, &pub_obj, &priv_obj);
	if (rv == CKR_MECHANISM_INVALID)
		return lethe_error(-EOPNOTSUPP, "PKCS#11 token '%s' cannot make Ed25519 keys",
				   t->label);
	if (rv != CKR_OK)
		return rv_error(rv, t, "C_GenerateKeyPair (Ed25519)");
	t->priv = priv_obj;
	/* The token must have kept its promise: the key stays inside it. */
	if (!get_bool(t, priv_obj, CKA_SENSITIVE, false) ||
	    get_bool(t, priv_obj, CKA_EXTRACTABLE, true)) {
		r = lethe_error(-EPERM,
				"PKCS#11 token '%s' made the key extractable or not sensitive; "
				"it was removed",
				t->label);
		goto destroy;
	}
	if ((r = read_public_key(t, pub_obj)) < 0 || (r = trial_sign(t)) < 0)
		goto destroy;
	lethe_sign_pkcs11_keyid(t->pk, pub.keyid);
	memcpy(pub.pk, t->pk, sizeof(pub.pk));
	if ((r = sign_pubkey_text(&pub, &text)) < 0 ||
	    (r = lethe_file_write_atomic(pub_path, text.data, text.len, 0644)) < 0)
		goto destroy;
	lethe_buf_release(&text);
	if (ret_pub)
		*ret_pub = pub;
	return 0;
destroy:
	lethe_buf_release(&text);
	t->m->C_DestroyObject(t->session, priv_obj);
	t->m->C_DestroyObject(t->session, pub_obj);
	return r;
}

int lethe_sign_pkcs11_keygen(const char *uri, const char *pub_path,
			     const struct lethe_sign_pkcs11_opts *opts,
			     struct lethe_sign_pubkey *ret_pub)
{
	struct uri_parts u = { 0 };
	struct token *t;
	int r;

	if (sign_sodium_init() < 0)
		return -EIO;
	if (!(opts && opts->force) && (r = sign_refuse_existing(pub_path)) < 0)
		return r;
	if ((r = p11_load()) < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	if ((r = uri_open(uri, t, &u)) < 0)
		goto out;
	if (!p11.p11_kit_uri_get_attribute(u.uri, CKA_LABEL)) {
		r = lethe_error(-EINVAL, "'%s' names no key to make: add object=LABEL", t->what);
		goto out;
	}
	if ((r = modules_load(t, u.uri, opts ? opts->module : NULL)) < 0 ||
	    (r = token_find(t, u.uri)) < 0 ||
	    (r = token_login(t, true, u.pin_value, u.pin_source, opts)) < 0)
		goto out;
	pin_free(t);
	r = keygen_in_token(t, u.uri, pub_path, ret_pub);
out:
	token_close(t);
	uri_parts_release(&u);
	return r;
}
