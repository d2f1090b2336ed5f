/* The kernel command line: words split as the kernel splits them (double quotes protect
 * spaces), the one reader of the root hash, and the lethe.* parameters as PID 1 checks
 * them. Everything here reads untrusted text (fuzz/fuzz-cmdline*.c). */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <lethe/contract.h>
#include <lethe/core.h>

#define PREFIX_LEN (sizeof(LETHE_CMDLINE_PREFIX) - 1)

int lethe_cmdline_next_word(const char *text, size_t len, size_t *pos, char *word, size_t size,
			    bool *ret_truncated)
{
	size_t i = *pos, n = 0;
	bool quoted = false, truncated = false;

	while (i < len && isspace((unsigned char)text[i]))
		i++;
	if (i >= len || !text[i]) {
		*pos = i;
		return 0;
	}
	for (; i < len && text[i] && (quoted || !isspace((unsigned char)text[i])); i++) {
		if (text[i] == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < size)
			word[n++] = text[i];
		else
			truncated = true;
	}
	if (size)
		word[n] = '\0';
	*pos = i;
	if (!strcmp(word, "--")) {
		*pos = len;
		return 0;
	}
	*ret_truncated = truncated;
	return 1;
}

bool lethe_cmdline_word_is(const char *word, const char *key)
{
	size_t n = strlen(key);

	return !strncmp(word, key, n) && (word[n] == '\0' || word[n] == '=');
}

/* The value of a word "key=value", NULL for a bare "key". */
static const char *word_value(const char *word)
{
	const char *eq = strchr(word, '=');

	return eq ? eq + 1 : NULL;
}

/* The root hash check, once for every reader: given once, LETHE_ROOTHASH_HEX hex
 * digits, folded to lowercase into out. */
static int roothash_value(const char *value, bool *seen, char out[LETHE_ROOTHASH_HEX + 1])
{
	size_t n = value ? strlen(value) : 0;

	if (*seen)
		return lethe_error(-EBADMSG, LETHE_CMDLINE_ROOTHASH " is given more than once");
	*seen = true;
	if (n != LETHE_ROOTHASH_HEX)
		return lethe_error(-EBADMSG,
				   LETHE_CMDLINE_ROOTHASH " has %zu characters, expected "
							  "%d hex digits",
				   n, LETHE_ROOTHASH_HEX);
	for (size_t i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)value[i]))
			return lethe_error(-EBADMSG,
					   LETHE_CMDLINE_ROOTHASH ": '%c' at position %zu "
								  "is not a hex digit",
					   isprint((unsigned char)value[i]) ? value[i] : '?',
					   i + 1);
		out[i] = (char)tolower((unsigned char)value[i]);
	}
	out[n] = '\0';
	return 0;
}

static int check_length(size_t len)
{
	if (len > LETHE_CMDLINE_MAX)
		return lethe_error(-EBADMSG, "the command line is longer than %u bytes",
				   LETHE_CMDLINE_MAX);
	return 0;
}

int lethe_cmdline_roothash(const char *text, size_t len, char ret_hex[LETHE_ROOTHASH_HEX + 1])
{
	char word[LETHE_CMDLINE_WORD_MAX], hex[LETHE_ROOTHASH_HEX + 1];
	size_t pos = 0;
	bool seen = false, truncated;
	int r = check_length(len);

	while (r >= 0 && lethe_cmdline_next_word(text, len, &pos, word, sizeof(word), &truncated)) {
		if (!lethe_cmdline_word_is(word, LETHE_CMDLINE_ROOTHASH))
			continue;
		if (truncated)
			r = lethe_error(-EBADMSG, LETHE_CMDLINE_ROOTHASH " is longer than %d bytes",
					LETHE_CMDLINE_WORD_MAX - 1);
		else
			r = roothash_value(word_value(word), &seen, hex);
	}
	if (r < 0)
		return r;
	if (!seen)
		return -ENOENT; /* absent is an answer, not a failure: no message */
	memcpy(ret_hex, hex, sizeof(hex));
	return 0;
}

/* A switch: bare, or =1/=0/=yes/=no. */
static int parse_switch(const char *name, const char *value, bool *ret)
{
	if (!value || !strcmp(value, "1") || !strcmp(value, "yes")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(value, "0") || !strcmp(value, "no")) {
		*ret = false;
		return 0;
	}
	return lethe_error(-EBADMSG, "%s='%.32s': expected no value, 1 or 0", name, value);
}

static int parse_timeout(const char *value, unsigned *ret)
{
	unsigned long v = 0;

	if (!value || !*value || strlen(value) > 4)
		goto bad;
	for (const char *p = value; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < 1 || v > LETHE_CMDLINE_TIMEOUT_MAX)
		goto bad;
	*ret = (unsigned)v;
	return 0;
bad:
	return lethe_error(-EBADMSG, LETHE_CMDLINE_TIMEOUT "='%.32s': expected seconds, 1..%d",
			   value ? value : "", LETHE_CMDLINE_TIMEOUT_MAX);
}

static int parse_word(char *word, struct lethe_cmdline *c, bool *seen_roothash)
{
	const char *value = word_value(word);
	char *eq = strchr(word, '=');

	if (eq)
		*eq = '\0'; /* word is the key from here on */
	if (!strcmp(word, LETHE_CMDLINE_ROOTHASH))
		return roothash_value(value, seen_roothash, c->roothash);
	if (!strcmp(word, LETHE_CMDLINE_TORAM))
		return parse_switch(word, value, &c->toram);
	if (!strcmp(word, LETHE_CMDLINE_DEBUG))
		return parse_switch(word, value, &c->debug);
	if (!strcmp(word, LETHE_CMDLINE_TIMEOUT))
		return parse_timeout(value, &c->timeout);
	if (!strcmp(word, LETHE_CMDLINE_PERSISTENCE))
		return parse_switch(word, value, &c->persistence);
	c->unknown++;
	return 0;
}

int lethe_cmdline_parse(const char *text, size_t len, struct lethe_cmdline *ret)
{
	char word[LETHE_CMDLINE_WORD_MAX];
	size_t pos = 0;
	bool seen_roothash = false, truncated;
	int r;

	memset(ret, 0, sizeof(*ret));
	ret->timeout = LETHE_CMDLINE_TIMEOUT_DEFAULT;
	r = check_length(len);
	if (r < 0)
		return r;
	while (lethe_cmdline_next_word(text, len, &pos, word, sizeof(word), &truncated)) {
		if (strncmp(word, LETHE_CMDLINE_PREFIX, PREFIX_LEN))
			continue;
		if (truncated)
			return lethe_error(-EBADMSG,
					   "a " LETHE_CMDLINE_PREFIX "* parameter is longer "
					   "than %d bytes",
					   LETHE_CMDLINE_WORD_MAX - 1);
		r = parse_word(word, ret, &seen_roothash);
		if (r < 0)
			return r;
	}
	return 0;
}
