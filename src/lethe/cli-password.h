/* Passwords for secret keys, for the verbs that need one (keygen, sign, build): from a file
 * (--password-file, first line), from $LETHE_PASSWORD, or asked on the terminal with
 * echo off. Kept in locked memory (sodium_malloc); free with cli_password_free(). */
#ifndef LETHE_CLI_PASSWORD_H
#define LETHE_CLI_PASSWORD_H

#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include <lethe/sign.h>

#include "cli.h"

static inline void cli_password_free(char *pw)
{
	if (pw)
		sodium_free(pw); /* wipes */
}

/* Cut at the first line end. */
static inline void cli_password_chomp(char *s)
{
	s[strcspn(s, "\r\n")] = '\0';
}

static inline int cli_password_from_file(const char *path, char *pw)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		int r = -errno;

		cli_error("cannot open password file '%s': %s", path, strerror(-r));
		return r;
	}
	n = lethe_read_full(fd, pw, LETHE_SIGN_PASSWORD_MAX + 1);
	close(fd);
	if (n < 0) {
		cli_error("cannot read password file '%s': %s", path, strerror((int)-n));
		return (int)n;
	}
	pw[n] = '\0';
	cli_password_chomp(pw);
	if (strlen(pw) > LETHE_SIGN_PASSWORD_MAX) {
		cli_error("password in '%s' is too long (at most %d bytes)", path,
			  LETHE_SIGN_PASSWORD_MAX);
		return -EINVAL;
	}
	return 0;
}

/* Prompt on /dev/tty with echo off and read one line into pw. */
static inline int cli_password_ask(int tty, const char *prompt, char *pw)
{
	struct termios old, noecho;
	size_t len = 0;
	bool restore = false;
	int r = 0;

	if (write(tty, prompt, strlen(prompt)) < 0)
		return -errno;
	if (tcgetattr(tty, &old) == 0) {
		noecho = old;
		noecho.c_lflag &= ~(tcflag_t)ECHO;
		restore = tcsetattr(tty, TCSAFLUSH, &noecho) == 0;
	}
	for (;;) {
		char c;
		ssize_t n = read(tty, &c, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (len == LETHE_SIGN_PASSWORD_MAX) {
			r = -EINVAL;
			continue;
		}
		pw[len++] = c;
	}
	pw[len] = '\0';
	if (restore)
		tcsetattr(tty, TCSAFLUSH, &old);
	if (write(tty, "\n", 1) < 0)
		r = r ? r : -errno;
	cli_password_chomp(pw);
	if (r == -EINVAL)
		cli_error("password too long (at most %d bytes)", LETHE_SIGN_PASSWORD_MAX);
	return r;
}

static inline int cli_password_from_tty(bool confirm, char *pw)
{
	char *again = NULL;
	int tty, r;

	tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (tty < 0) {
		cli_error("a password is needed and there is no terminal to ask for it: set "
			  "LETHE_PASSWORD or use --password-file");
		return -ENXIO;
	}
	r = cli_password_ask(tty, "Password: ", pw);
	if (r == 0 && confirm) {
		again = sodium_malloc(LETHE_SIGN_PASSWORD_MAX + 2);
		r = again ? cli_password_ask(tty, "Password (again): ", again) : -ENOMEM;
		if (r == 0 && strcmp(pw, again) != 0) {
			cli_error("the passwords do not match");
			r = -EINVAL;
		}
		cli_password_free(again);
	}
	close(tty);
	return r;
}

/* Get a password: from password_file if not NULL, else $LETHE_PASSWORD, else the
 * terminal (twice when confirm). Errors are reported; returns 0 or -errno. */
static inline int cli_password_get(const char *password_file, bool confirm, char **ret)
{
	const char *env = getenv("LETHE_PASSWORD");
	char *pw;
	int r = 0;

	if (sodium_init() < 0)
		return -EIO;
	pw = sodium_malloc(LETHE_SIGN_PASSWORD_MAX + 2);
	if (!pw)
		return -ENOMEM;
	if (password_file) {
		r = cli_password_from_file(password_file, pw);
	} else if (env) {
		if (strlen(env) > LETHE_SIGN_PASSWORD_MAX) {
			cli_error("LETHE_PASSWORD is too long (at most %d bytes)",
				  LETHE_SIGN_PASSWORD_MAX);
			r = -EINVAL;
		} else {
			memcpy(pw, env, strlen(env) + 1);
		}
	} else {
		r = cli_password_from_tty(confirm, pw);
	}
	if (r == 0 && confirm && !*pw) {
		cli_error("the password is empty (use -W for a key without a password)");
		r = -EINVAL;
	}
	if (r < 0) {
		cli_password_free(pw);
		return r;
	}
	*ret = pw;
	return 0;
}

/* Load the secret key at path, asking for its password (as cli_password_get) only if
 * it is encrypted. Returns 0 or -errno, the detail recorded with lethe_error(). */
static inline int cli_seckey_load(const char *path, const char *password_file,
				  struct lethe_sign_seckey **ret)
{
	char *password = NULL;
	int r = lethe_sign_seckey_load(path, NULL, ret);

	if (r != -ENOKEY)
		return r;
	lethe_error_clear(); /* handled: "is encrypted" must not label a later failure */
	if ((r = cli_password_get(password_file, false, &password)) < 0)
		return lethe_error(r, "no password for '%s'", path);
	r = lethe_sign_seckey_load(path, password, ret);
	cli_password_free(password);
	return r;
}

#endif
