/* Keys in PKCS#11 tokens, for the verbs that sign (keygen, sign, build): the PIN asked
 * on the terminal (echo off) when the URI gives none, and opening a token key. */
#ifndef LETHE_CLI_PKCS11_H
#define LETHE_CLI_PKCS11_H

#include <stdio.h>

#include <lethe/sign.h>

#include "cli-password.h"
#include "cli.h"

static inline int cli_pkcs11_ask_pin(const char *token, char *buf, size_t size, void *userdata)
{
	char prompt[96];
	char *pin;
	int tty, r;

	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0)
		return -ENXIO; /* the library says what to do instead */
	pin = sodium_malloc(LETHE_SIGN_PASSWORD_MAX + 2);
	if (!pin) {
		close(tty);
		return -ENOMEM;
	}
	snprintf(prompt, sizeof(prompt), "PIN for token '%.32s': ", token);
	r = cli_password_ask(tty, prompt, pin);
	close(tty);
	if (r == 0 && strlen(pin) >= size)
		r = -EINVAL;
	if (r == 0)
		memcpy(buf, pin, strlen(pin) + 1);
	cli_password_free(pin);
	return r;
}

static inline void cli_pkcs11_opts_init(struct lethe_sign_pkcs11_opts *o, const char *module)
{
	*o = (struct lethe_sign_pkcs11_opts){ .module = module, .ask_pin = cli_pkcs11_ask_pin };
}

/* Open the token key uri names (module: --module, or NULL). Returns 0 or -errno, the
 * detail recorded with lethe_error(). */
static inline int cli_pkcs11_open(const char *uri, const char *module,
				  struct lethe_sign_seckey **ret)
{
	struct lethe_sign_pkcs11_opts o;

	cli_pkcs11_opts_init(&o, module);
	return lethe_sign_pkcs11_open(uri, &o, ret);
}

#endif
