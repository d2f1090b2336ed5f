/* Debian control paragraphs (DEBIAN/control of a package) and machine-readable
 * debian/copyright files (DEP-5), read strictly: both come from untrusted packages. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lethe/pkg.h>

#define CONTROL_MAX_FIELDS 128
#define LICENSES_MAX	   64
#define LICENSE_MAX_LEN	   200

/* In the paragraph loop: record the message, free what was parsed, fail. */
#define FAILWITH(...)                                                                              \
	do {                                                                                       \
		r = lethe_error(__VA_ARGS__);                                                      \
		goto fail;                                                                         \
	} while (0)

static bool field_name_ok(const char *s, size_t len)
{
	if (len == 0 || len > 64 || s[0] == '#' || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-')
			return false;
	return true;
}

/* The value of field `name` in the paragraph: its first line, trimmed. */
static char *first_line_value(const char *val, size_t len)
{
	const char *nl = memchr(val, '\n', len);
	size_t l = nl ? (size_t)(nl - val) : len;

	while (l && (val[0] == ' ' || val[0] == '\t')) {
		val++;
		l--;
	}
	while (l && (val[l - 1] == ' ' || val[l - 1] == '\t'))
		l--;
	return strndup(val, l);
}

static int take_field(const char *name, size_t nlen, const char *val, size_t vlen,
		      struct lethe_pkg_control *c)
{
	static const struct {
		const char *name;
		size_t off;
	} fields[] = {
		{ "Package", offsetof(struct lethe_pkg_control, package) },
		{ "Version", offsetof(struct lethe_pkg_control, version) },
		{ "Architecture", offsetof(struct lethe_pkg_control, architecture) },
		{ "Maintainer", offsetof(struct lethe_pkg_control, maintainer) },
		{ "Description", offsetof(struct lethe_pkg_control, summary) },
		{ "Depends", offsetof(struct lethe_pkg_control, depends) },
		{ "Pre-Depends", offsetof(struct lethe_pkg_control, pre_depends) },
		{ "Homepage", offsetof(struct lethe_pkg_control, homepage) },
		{ "Source", offsetof(struct lethe_pkg_control, source) },
	};

	if (nlen == strlen("Installed-Size") && !strncasecmp(name, "Installed-Size", nlen)) {
		char *v = first_line_value(val, vlen), *end;
		unsigned long long n;

		if (!v)
			return -ENOMEM;
		errno = 0;
		n = strtoull(v, &end, 10);
		if (!*v || *end || errno || n > (1ull << 40)) {
			free(v);
			return -EBADMSG;
		}
		free(v);
		c->installed_size = n;
		return 0;
	}
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(fields); i++) {
		char **slot = (char **)((char *)c + fields[i].off);

		if (strlen(fields[i].name) != nlen || strncasecmp(fields[i].name, name, nlen))
			continue;
		*slot = first_line_value(val, vlen);
		return *slot ? 0 : -ENOMEM;
	}
	return 0;
}

int lethe_pkg_control_parse(const char *name, const char *text, size_t len,
			    struct lethe_pkg_control *ret)
{
	struct lethe_pkg_control c = { 0 };
	const char *seen[CONTROL_MAX_FIELDS];
	size_t seen_len[CONTROL_MAX_FIELDS], n_seen = 0, pos = 0;
	unsigned lineno = 0;
	int r;

	if (len > LETHE_PKG_MAX_CONTROL)
		return lethe_error(-EBADMSG, "%s: control file larger than %u bytes", name,
				   LETHE_PKG_MAX_CONTROL);
	if (memchr(text, '\0', len))
		return lethe_error(-EBADMSG, "%s: control file contains a NUL byte", name);
	while (len && text[len - 1] == '\n')
		len--;
	if (len == 0)
		return lethe_error(-EBADMSG, "%s: empty control file", name);
	while (pos < len) {
		const char *line = text + pos, *colon, *end;
		size_t l;

		end = memchr(line, '\n', len - pos);
		l = end ? (size_t)(end - line) : len - pos;
		lineno++;
		if (l == 0)
			FAILWITH(-EBADMSG,
				 "%s: control line %u: empty line inside the "
				 "paragraph",
				 name, lineno);
		if (line[0] == ' ' || line[0] == '\t') {
			if (n_seen == 0)
				FAILWITH(-EBADMSG,
					 "%s: control line %u: continuation line "
					 "before any field",
					 name, lineno);
			pos += l + 1;
			continue;
		}
		colon = memchr(line, ':', l);
		if (!colon || !field_name_ok(line, (size_t)(colon - line)))
			FAILWITH(-EBADMSG, "%s: control line %u: expected 'Field: value'", name,
				 lineno);
		if (n_seen == CONTROL_MAX_FIELDS)
			FAILWITH(-EBADMSG, "%s: control line %u: more than %d fields", name, lineno,
				 CONTROL_MAX_FIELDS);
		for (size_t i = 0; i < n_seen; i++)
			if (seen_len[i] == (size_t)(colon - line) &&
			    !strncasecmp(seen[i], line, seen_len[i]))
				FAILWITH(-EBADMSG,
					 "%s: control line %u: field '%.*s' "
					 "repeated",
					 name, lineno, (int)seen_len[i], line);
		seen[n_seen] = line;
		seen_len[n_seen++] = (size_t)(colon - line);
		/* The value runs to the end of the field, continuation lines included. */
		size_t vend = pos + l;

		while (vend < len && (text[vend + 1] == ' ' || text[vend + 1] == '\t')) {
			const char *nl = memchr(text + vend + 1, '\n', len - vend - 1);

			vend = nl ? (size_t)(nl - text) : len;
		}
		r = take_field(line, (size_t)(colon - line), colon + 1,
			       vend - (size_t)(colon + 1 - text), &c);
		if (r == -EBADMSG)
			FAILWITH(-EBADMSG, "%s: control line %u: invalid '%.*s'", name, lineno,
				 (int)(colon - line), line);
		if (r < 0)
			goto fail;
		pos += l + 1;
	}
	r = -EBADMSG;
	if (!c.package || !lethe_pkg_name_is_valid(c.package)) {
		lethe_error(r, "%s: control: missing or invalid Package", name);
		goto fail;
	}
	if (!c.version || !lethe_pkg_version_is_valid(c.version)) {
		lethe_error(r, "%s: control: missing or invalid Version", name);
		goto fail;
	}
	if (!c.architecture || !lethe_pkg_arch_is_valid(c.architecture)) {
		lethe_error(r, "%s: control: missing or invalid Architecture", name);
		goto fail;
	}
	c.text = malloc(len + 2);
	if (!c.text) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(c.text, text, len);
	c.text[len] = '\n';
	c.text[len + 1] = '\0';
	*ret = c;
	return 0;
fail:
	lethe_pkg_control_release(&c);
	return r;
}

static int add_license(struct lethe_strv *licenses, const char *val, size_t l)
{
	char buf[LICENSE_MAX_LEN + 1];

	while (l && (*val == ' ' || *val == '\t')) {
		val++;
		l--;
	}
	while (l && (val[l - 1] == ' ' || val[l - 1] == '\t' || val[l - 1] == '\r'))
		l--;
	if (l == 0 || l > LICENSE_MAX_LEN || licenses->n >= LICENSES_MAX)
		return 0;
	for (size_t i = 0; i < l; i++)
		if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
			return 0;
	memcpy(buf, val, l);
	buf[l] = '\0';
	if (lethe_strv_contains(licenses, buf))
		return 0;
	return lethe_strv_push(licenses, buf);
}

/* True when the first paragraph of a copyright file has a Format: field (DEP-5). */
static bool copyright_is_dep5(const char *text, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;

		if (l == 0 || (l == 1 && line[0] == '\r'))
			return false;
		if (l >= 7 && !strncasecmp(line, "Format:", 7))
			return true;
		pos += l + 1;
	}
	return false;
}

int lethe_pkg_parse_copyright(const char *text, size_t len, struct lethe_strv *licenses)
{
	size_t pos = 0;
	int r;

	if (!copyright_is_dep5(text, len))
		return 0;
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;

		pos += l + 1;
		if (l >= 8 && !strncasecmp(line, "License:", 8) &&
		    (r = add_license(licenses, line + 8, l - 8)) < 0)
			return r;
	}
	return 0;
}
