/* Debian's DEP-5 licence short names as SPDX licence expressions. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <lethe/sbom.h>

#define LICENSE_NAME_MAX 128u

/* DEP-5 short names (https://dep-team.pages.debian.net/deps/dep5/, "License
 * specification") and their SPDX identifiers. Compared without case. */
static const struct {
	const char *debian, *spdx;
} known[] = {
	{ "AGPL-3", "AGPL-3.0-only" },
	{ "AGPL-3+", "AGPL-3.0-or-later" },
	{ "Apache-2", "Apache-2.0" },
	{ "Apache-2.0", "Apache-2.0" },
	{ "Artistic", "Artistic-1.0-Perl" },
	{ "Artistic-1.0", "Artistic-1.0" },
	{ "Artistic-2.0", "Artistic-2.0" },
	{ "BSD-2-clause", "BSD-2-Clause" },
	{ "BSD-3-clause", "BSD-3-Clause" },
	{ "BSD-4-clause", "BSD-4-Clause" },
	{ "BSL-1.0", "BSL-1.0" },
	{ "CC0", "CC0-1.0" },
	{ "CC0-1.0", "CC0-1.0" },
	{ "curl", "curl" },
	{ "Expat", "MIT" },
	{ "GFDL-1.2", "GFDL-1.2-only" },
	{ "GFDL-1.2+", "GFDL-1.2-or-later" },
	{ "GFDL-1.3", "GFDL-1.3-only" },
	{ "GFDL-1.3+", "GFDL-1.3-or-later" },
	{ "GPL", "GPL-1.0-or-later" },
	{ "GPL-1", "GPL-1.0-only" },
	{ "GPL-1+", "GPL-1.0-or-later" },
	{ "GPL-2", "GPL-2.0-only" },
	{ "GPL-2+", "GPL-2.0-or-later" },
	{ "GPL-2.0", "GPL-2.0-only" },
	{ "GPL-2.0+", "GPL-2.0-or-later" },
	{ "GPL-3", "GPL-3.0-only" },
	{ "GPL-3+", "GPL-3.0-or-later" },
	{ "GPL-3.0", "GPL-3.0-only" },
	{ "GPL-3.0+", "GPL-3.0-or-later" },
	{ "ISC", "ISC" },
	{ "LGPL-2", "LGPL-2.0-only" },
	{ "LGPL-2+", "LGPL-2.0-or-later" },
	{ "LGPL-2.1", "LGPL-2.1-only" },
	{ "LGPL-2.1+", "LGPL-2.1-or-later" },
	{ "LGPL-3", "LGPL-3.0-only" },
	{ "LGPL-3+", "LGPL-3.0-or-later" },
	{ "LGPL-3.0", "LGPL-3.0-only" },
	{ "LGPL-3.0+", "LGPL-3.0-or-later" },
	{ "MIT", "MIT" },
	{ "MPL-1.1", "MPL-1.1" },
	{ "MPL-2.0", "MPL-2.0" },
	{ "OpenSSL", "OpenSSL" },
	{ "PSF-2", "PSF-2.0" },
	{ "Python-2.0", "Python-2.0" },
	{ "Unicode-DFS-2016", "Unicode-DFS-2016" },
	{ "X11", "X11" },
	{ "Zlib", "Zlib" },
	{ "Zope-2.1", "ZPL-2.1" },
	{ "bzip2-1.0.6", "bzip2-1.0.6" },
	{ "0BSD", "0BSD" },
	{ "BSD-1-clause", "BSD-1-Clause" },
	{ "CC-BY-3.0", "CC-BY-3.0" },
	{ "CC-BY-4.0", "CC-BY-4.0" },
	{ "CC-BY-SA-3.0", "CC-BY-SA-3.0" },
	{ "CC-BY-SA-4.0", "CC-BY-SA-4.0" },
	{ "LGPL-2.0", "LGPL-2.0-only" },
	{ "LGPL-2.0+", "LGPL-2.0-or-later" },
	{ "LGPL-2.1-only", "LGPL-2.1-only" },
	{ "LGPL-2.1-or-later", "LGPL-2.1-or-later" },
	{ "GPL-2.0-only", "GPL-2.0-only" },
	{ "GPL-2.0-or-later", "GPL-2.0-or-later" },
	{ "GPL-3.0-only", "GPL-3.0-only" },
	{ "GPL-3.0-or-later", "GPL-3.0-or-later" },
	{ "OFL-1.1", "OFL-1.1" },
	{ "Unlicense", "Unlicense" },
	{ "WTFPL", "WTFPL" },
	{ "MIT-0", "MIT-0" },
};

/* One licence name to an SPDX identifier, or LicenseRef-NAME with every character
 * outside [A-Za-z0-9.-] turned into '-' (the only ones a LicenseRef may hold). */
static int append_one(struct lethe_buf *b, const char *name, size_t len)
{
	char tmp[LICENSE_NAME_MAX + 1];

	if (len == 0 || len > LICENSE_NAME_MAX)
		return -EINVAL;
	memcpy(tmp, name, len);
	tmp[len] = '\0';
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(known); i++)
		if (!strcasecmp(tmp, known[i].debian))
			return lethe_buf_puts(b, known[i].spdx);
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)tmp[i]) && tmp[i] != '.' && tmp[i] != '-')
			tmp[i] = tmp[i] == '+' ? 'p' : '-';
	return lethe_buf_printf(b, "LicenseRef-%s", tmp);
}

static bool is_word(const char *p, size_t len, const char *word)
{
	return len == strlen(word) && !strncasecmp(p, word, len);
}

/* One DEP-5 License: value, e.g. "GPL-2+ or Artistic". A "with ... exception" clause
 * has no SPDX form we can trust, so the whole value becomes one LicenseRef. Returns the
 * number of licences in it (more than one: the caller adds parentheses). */
static int append_value(struct lethe_buf *b, const char *value)
{
	const char *p = value;
	int count = 0, r;
	bool want_license = true;

	if (strcasestr(value, " with "))
		return append_one(b, value, strlen(value)) < 0 ? -EINVAL : 1;
	while (*p) {
		size_t len;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			break;
		len = strcspn(p, " \t,");
		if (!want_license && (is_word(p, len, "or") || is_word(p, len, "and"))) {
			r = lethe_buf_puts(b, is_word(p, len, "or") ? " OR " : " AND ");
			want_license = true;
		} else if (want_license) {
			r = append_one(b, p, len);
			count++;
			want_license = false;
		} else {
			return -EINVAL; /* two names without an operator */
		}
		if (r < 0)
			return r;
		p += len;
	}
	return want_license ? -EINVAL : count;
}

int lethe_sbom_license_expression(const struct lethe_strv *licenses, char **ret)
{
	struct lethe_buf b = { 0 };
	int r = 0;

	if (!licenses || licenses->n == 0) {
		*ret = NULL;
		return 0;
	}
	for (size_t i = 0; i < licenses->n; i++) {
		struct lethe_buf one = { 0 };
		int count = append_value(&one, licenses->v[i]);

		if (count < 0) { /* not an expression we understand: keep it as one name */
			lethe_buf_release(&one);
			r = append_one(&one, licenses->v[i], strlen(licenses->v[i]));
			if (r < 0) {
				lethe_buf_release(&one);
				r = lethe_buf_puts(&one, "LicenseRef-unparsed");
			}
			count = 1;
		}
		if (r >= 0 && i > 0)
			r = lethe_buf_puts(&b, " AND ");
		if (r >= 0)
			r = lethe_buf_printf(&b, count > 1 && licenses->n > 1 ? "(%s)" : "%s",
					     one.data);
		lethe_buf_release(&one);
		if (r < 0) {
			lethe_buf_release(&b);
			return r;
		}
	}
	*ret = b.data;
	return 0;
}
