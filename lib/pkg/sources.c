/* apt sources (sources.list(5)), read only to refuse what would weaken apt's checks:
 * one-line entries and deb822 stanzas, names compared without case as apt does. The
 * options are an allow-list: an option Lethe does not know is refused, so that no
 * spelling apt accepts and this file misses can switch a check off. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lethe/pkg.h>

enum rule {
	RULE_ANY,	 /* harmless with any value (the list options take += and -=) */
	RULE_FALSE_ONLY, /* only "no" (and its synonyms) is harmless */
	RULE_TRUE_ONLY,	 /* only "yes" (and its synonyms) is harmless */
	RULE_REFUSED,	 /* any value weakens a check */
	RULE_STRUCTURE,	 /* deb822 only: what a stanza is made of */
};

struct option {
	const char *deb822;  /* the deb822 field name */
	const char *oneline; /* the one-line option name, NULL: none */
	enum rule rule;
	const char *why; /* for the refused ones: what the option does */
};

static const struct option options[] = {
	{ "Types", NULL, RULE_STRUCTURE, NULL },
	{ "URIs", NULL, RULE_STRUCTURE, NULL },
	{ "Suites", NULL, RULE_STRUCTURE, NULL },
	{ "Components", NULL, RULE_STRUCTURE, NULL },
	{ "Enabled", NULL, RULE_STRUCTURE, NULL },
	{ "Architectures", "arch", RULE_ANY, NULL },
	{ "Architectures-Add", NULL, RULE_ANY, NULL },
	{ "Architectures-Remove", NULL, RULE_ANY, NULL },
	{ "Languages", "lang", RULE_ANY, NULL },
	{ "Languages-Add", NULL, RULE_ANY, NULL },
	{ "Languages-Remove", NULL, RULE_ANY, NULL },
	{ "Targets", "target", RULE_ANY, NULL },
	{ "Targets-Add", NULL, RULE_ANY, NULL },
	{ "Targets-Remove", NULL, RULE_ANY, NULL },
	{ "PDiffs", "pdiffs", RULE_ANY, NULL },
	{ "By-Hash", "by-hash", RULE_ANY, NULL },
	/* A narrower set of keys than all trusted ones: still a signature check. */
	{ "Signed-By", "signed-by", RULE_ANY, NULL },
	{ "Trusted", "trusted", RULE_FALSE_ONLY,
	  "makes apt trust the repository without a valid signature" },
	{ "Allow-Insecure", "allow-insecure", RULE_FALSE_ONLY,
	  "lets apt use a repository without a signed Release file" },
	{ "Allow-Weak", "allow-weak", RULE_FALSE_ONLY,
	  "lets apt accept weak signatures and hashes" },
	{ "Allow-Downgrade-To-Insecure", "allow-downgrade-to-insecure", RULE_FALSE_ONLY,
	  "lets a signed repository turn unsigned" },
	{ "Check-Valid-Until", "check-valid-until", RULE_TRUE_ONLY,
	  "switches off apt's replay protection (Valid-Until)" },
	{ "Check-Date", "check-date", RULE_TRUE_ONLY,
	  "switches off apt's date checks (and Valid-Until with them)" },
	{ "Valid-Until-Min", "valid-until-min", RULE_REFUSED,
	  "changes how long apt accepts an old Release file" },
	{ "Valid-Until-Max", "valid-until-max", RULE_REFUSED,
	  "changes how long apt accepts an old Release file" },
	{ "Date-Max-Future", "date-max-future", RULE_REFUSED,
	  "lets a Release file be dated in the future" },
	{ "InRelease-Path", "inrelease-path", RULE_REFUSED,
	  "changes which signed Release file apt reads" },
};

#define WS " \t\r\v\f"

static bool is_ws(char c)
{
	return c && strchr(WS, c);
}

/* The input is not NUL-terminated: bounded strspn and strcspn over [p, end). */
static size_t span_ws(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && is_ws(*q))
		q++;
	return (size_t)(q - p);
}

static size_t span_not(const char *p, const char *end, const char *reject)
{
	const char *q = p;

	while (q < end && (!*q || !strchr(reject, *q)))
		q++;
	return (size_t)(q - p);
}

/* apt's StringToBool words (compared without case), and its numbers 0 and 1. */
static const char *const false_words[] = { "no", "false", "without", "off", "disable", "0" };
static const char *const true_words[] = { "yes", "true", "with", "on", "enable", "1" };

static bool is_word_of(const char *const words[], size_t n_words, const char *s, size_t n)
{
	for (size_t i = 0; i < n_words; i++)
		if (strlen(words[i]) == n && !strncasecmp(s, words[i], n))
			return true;
	return false;
}

static bool is_false_word(const char *s, size_t n)
{
	return is_word_of(false_words, LETHE_ARRAY_SIZE(false_words), s, n);
}

static bool is_true_word(const char *s, size_t n)
{
	return is_word_of(true_words, LETHE_ARRAY_SIZE(true_words), s, n);
}

static const struct option *find_option(const char *name, size_t n)
{
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(options); i++) {
		const struct option *o = &options[i];

		if ((strlen(o->deb822) == n && !strncasecmp(name, o->deb822, n)) ||
		    (o->oneline && strlen(o->oneline) == n && !strncasecmp(name, o->oneline, n)))
			return o;
	}
	return NULL;
}

struct where {
	const char *name; /* NULL: messages carry no "apt source 'NAME' line N: " */
	unsigned line;
};

static int refuse(const struct where *w, const char *fmt, ...) LETHE_PRINTF(2, 3);

static int refuse(const struct where *w, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!w->name)
		return lethe_error(-EBADMSG, "%s", why);
	return lethe_error(-EBADMSG, "apt source '%s' line %u: %s", w->name, w->line, why);
}

/* One option or field: name (n bytes) with value (vn bytes); modifier is '+' or '-'
 * for a one-line NAME+=VALUE or NAME-=VALUE, else 0. */
static int check_option(const struct where *w, bool deb822, const char *name, size_t n,
			char modifier, const char *value, size_t vn)
{
	const struct option *o = find_option(name, n);
	const char *sep = deb822 ? ": " : "=";

	if (!o) {
		if (deb822 && n > 2 && !strncasecmp(name, "X-", 2))
			return 0; /* apt ignores X- fields (repolib's names, say) */
		return refuse(w,
			      "unknown option '%.*s': Lethe accepts only the options of "
			      "sources.list(5) that keep apt's checks on",
			      (int)n, name);
	}
	if (o->rule == RULE_STRUCTURE && !deb822)
		return refuse(w, "'%.*s' is not a one-line option", (int)n, name);
	if (modifier && o->rule != RULE_ANY)
		return refuse(w, "option '%.*s' takes no '%c='", (int)n, name, modifier);
	switch (o->rule) {
	case RULE_FALSE_ONLY:
		if (is_false_word(value, vn))
			return 0;
		break;
	case RULE_TRUE_ONLY:
		if (is_true_word(value, vn))
			return 0;
		break;
	case RULE_REFUSED:
		break;
	default:
		return 0;
	}
	return refuse(w, "'%.*s%s%.*s' %s; Lethe keeps apt's signature and freshness checks on",
		      (int)n, name, sep, (int)vn, value, o->why);
}

/* "deb [ OPTION=VALUE ... ] URI SUITE [COMPONENT...]", a comment already cut off. */
static int check_oneline(const struct where *w, const char *s, size_t len)
{
	const char *end = s + len, *p = s, *close;
	size_t n, words = 0;

	n = span_not(p, end, WS "[");
	if (!((n == 3 && !strncmp(p, "deb", 3)) || (n == 7 && !strncmp(p, "deb-src", 7))))
		return refuse(w, "'%.*s' is not 'deb' or 'deb-src'", (int)n, p);
	p += n;
	p += span_ws(p, end);
	if (p < end && *p == '[') {
		close = memchr(p, ']', (size_t)(end - p));
		if (!close)
			return refuse(w, "'[' without ']'");
		for (p++; p < close;) {
			const char *opt, *eq;
			char modifier = 0;
			size_t on, name_len;
			int r;

			p += span_ws(p, close);
			if (p >= close)
				break;
			opt = p;
			on = span_not(opt, close, WS);
			p = opt + on;
			eq = memchr(opt, '=', on);
			if (!eq || eq == opt)
				return refuse(w, "option '%.*s' is not NAME=VALUE", (int)on, opt);
			name_len = (size_t)(eq - opt);
			if (opt[name_len - 1] == '+' || opt[name_len - 1] == '-')
				modifier = opt[--name_len];
			if (name_len == 0)
				return refuse(w, "option '%.*s' is not NAME=VALUE", (int)on, opt);
			r = check_option(w, false, opt, name_len, modifier, eq + 1,
					 on - (size_t)(eq + 1 - opt));
			if (r < 0)
				return r;
		}
		p = close + 1;
	}
	while (p < end) {
		p += span_ws(p, end);
		if (p >= end)
			break;
		if (*p == '[' || *p == ']')
			return refuse(w, "options must follow the type, in one '[ ... ]'");
		p += span_not(p, end, WS);
		words++;
	}
	if (words < 2)
		return refuse(w, "expected 'URI SUITE [COMPONENT...]' after the type");
	return 0;
}

static int check_list(struct where *w, const char *text, size_t len)
{
	for (const char *p = text, *end = text + len; p < end; w->line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p, *hash;
		size_t n = (size_t)((nl ? nl : end) - p), skip;
		int r;

		p = nl ? nl + 1 : end;
		/* sources.list(5): '#' anywhere starts a comment. */
		hash = memchr(line, '#', n);
		if (hash)
			n = (size_t)(hash - line);
		skip = span_ws(line, line + n);
		line += skip;
		n -= skip;
		while (n && is_ws(line[n - 1]))
			n--;
		if (n && (r = check_oneline(w, line, n)) < 0)
			return r;
	}
	return 0;
}

/* Stanzas of "Name: value" fields with continuation lines, '#' comment lines, blank
 * lines between stanzas. Every field of every stanza is checked (enabled or not). */
static int check_deb822(struct where *w, const char *text, size_t len)
{
	bool in_field = false, single = false;

	for (const char *p = text, *end = text + len; p < end; w->line++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *line = p, *colon, *v;
		size_t n = (size_t)((nl ? nl : end) - p), name_len, vn;
		int r;

		p = nl ? nl + 1 : end;
		if (span_ws(line, line + n) == n) {
			in_field = false; /* the end of a stanza */
			continue;
		}
		if (line[0] == '#')
			continue;
		if (is_ws(line[0])) {
			if (!in_field)
				return refuse(w, "a continuation line outside a field");
			if (single)
				return refuse(w, "the value of this option must be one line");
			continue;
		}
		colon = memchr(line, ':', n);
		if (!colon)
			return refuse(w, "expected 'Field: value'");
		name_len = (size_t)(colon - line);
		while (name_len && is_ws(line[name_len - 1]))
			name_len--;
		if (name_len == 0 || span_not(line, line + name_len, WS) < name_len)
			return refuse(w, "'%.*s' is not a field name", (int)(colon - line), line);
		v = colon + 1;
		vn = n - (size_t)(v - line);
		while (vn && is_ws(v[0])) {
			v++;
			vn--;
		}
		while (vn && is_ws(v[vn - 1]))
			vn--;
		r = check_option(w, true, line, name_len, 0, v, vn);
		if (r < 0)
			return r;
		const struct option *o = find_option(line, name_len);

		in_field = true;
		single = o && o->rule != RULE_ANY && o->rule != RULE_STRUCTURE;
	}
	return 0;
}

bool lethe_pkg_source_is_oneline(const char *entry)
{
	size_t n = strcspn(entry, WS "[");

	return ((n == 3 && !strncmp(entry, "deb", 3)) ||
		(n == 7 && !strncmp(entry, "deb-src", 7))) &&
	       entry[n] != '\0';
}

int lethe_pkg_sources_check(const char *name, const char *text, size_t len,
			    enum lethe_pkg_sources_format format)
{
	struct where w = { .name = name, .line = 1 };

	if (len > LETHE_PKG_SOURCES_MAX_SIZE)
		return lethe_error(-EFBIG, "apt source '%s': larger than %u bytes",
				   name ? name : "?", LETHE_PKG_SOURCES_MAX_SIZE);
	if (memchr(text, '\0', len))
		return refuse(&w, "a NUL byte");
	return format == LETHE_PKG_SOURCES_DEB822 ? check_deb822(&w, text, len)
						  : check_list(&w, text, len);
}
