/* The kernel command line as lethe-init reads it: words split like the kernel splits
 * them (double quotes protect spaces), and the lethe.* parameters checked strictly. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "init.h"

#define WORD_MAX 4096

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* A switch: bare, or =1/=0/=yes/=no. */
static int parse_switch(const char *name, const char *value, bool *ret, char *err,
			size_t errlen)
{
	if (!value || !strcmp(value, "1") || !strcmp(value, "yes")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(value, "0") || !strcmp(value, "no")) {
		*ret = false;
		return 0;
	}
	return fail(err, errlen, "%s='%.32s': expected no value, 1 or 0", name, value);
}

static int parse_roothash(const char *value, struct init_cmdline *c, char *err,
			  size_t errlen)
{
	size_t n = value ? strlen(value) : 0;

	if (c->roothash[0])
		return fail(err, errlen, "lethe.roothash is given more than once");
	if (n != INIT_ROOTHASH_HEX)
		return fail(err, errlen, "lethe.roothash has %zu characters, expected %d hex digits",
			    n, INIT_ROOTHASH_HEX);
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)value[i]))
			return fail(err, errlen, "lethe.roothash: '%c' at position %zu is not a hex digit",
				    isprint((unsigned char)value[i]) ? value[i] : '?', i + 1);
		c->roothash[i] = (char)tolower((unsigned char)value[i]);
	}
	c->roothash[n] = '\0';
	return 0;
}

static int parse_timeout(const char *value, unsigned *ret, char *err, size_t errlen)
{
	unsigned long v = 0;

	if (!value || !*value || strlen(value) > 4)
		goto bad;
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > INIT_TIMEOUT_MAX)
		goto bad;
	*ret = (unsigned)v;
	return 0;
bad:
	return fail(err, errlen, "lethe.timeout='%.32s': expected seconds, 1..%d", value ? value : "",
		    INIT_TIMEOUT_MAX);
}

static int parse_word(char *word, struct init_cmdline *c, char *err, size_t errlen)
{
	char *value = strchr(word, '=');

	if (strncmp(word, "lethe.", 6))
		return 0;
	if (value)
		*value++ = '\0';
	if (!strcmp(word, "lethe.roothash"))
		return parse_roothash(value, c, err, errlen);
	if (!strcmp(word, "lethe.toram"))
		return parse_switch(word, value, &c->toram, err, errlen);
	if (!strcmp(word, "lethe.debug"))
		return parse_switch(word, value, &c->debug, err, errlen);
	if (!strcmp(word, "lethe.timeout"))
		return parse_timeout(value, &c->timeout, err, errlen);
	c->unknown++;
	return 0;
}

int init_cmdline_parse(const char *text, size_t len, struct init_cmdline *ret, char *err,
		       size_t errlen)
{
	char word[WORD_MAX];
	size_t i = 0;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->timeout = INIT_TIMEOUT_DEFAULT;
	if (err && errlen)
		err[0] = '\0';
	if (len > INIT_CMDLINE_MAX)
		return fail(err, errlen, "the command line is longer than %u bytes", INIT_CMDLINE_MAX);

	while (i < len) {
		size_t n = 0;
		bool quoted = false, truncated = false;

		while (i < len && isspace((unsigned char)text[i]))
			i++;
		if (i >= len || !text[i])
			break;
		for (; i < len && text[i] && (quoted || !isspace((unsigned char)text[i])); i++) {
			if (text[i] == '"') {
				quoted = !quoted;
				continue;
			}
			if (n + 1 < sizeof(word))
				word[n++] = text[i];
			else
				truncated = true;
		}
		word[n] = '\0';
		/* Everything after "--" belongs to init's argv, not to the kernel or us. */
		if (!strcmp(word, "--"))
			break;
		if (truncated) {
			if (!strncmp(word, "lethe.", 6))
				return fail(err, errlen, "a lethe.* parameter is longer than %d bytes",
					    WORD_MAX - 1);
			continue;
		}
		r = parse_word(word, ret, err, errlen);
		if (r < 0)
			return r;
		if (i < len && !text[i])
			break;
	}
	return 0;
}
