/* /proc/self/mountinfo, parsed: what the audit and media writing see mounted, and what
 * lethe-init unmounts at shutdown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/core.h>

#define MOUNTINFO_MAX_LINES 100000

/* Decode mountinfo's octal escapes (\040 for a space, ...) in place. */
static void unescape(char *s)
{
	char *out = s;

	for (char *in = s; *in; in++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out++ = (char)((in[1] - '0') << 6 | (in[2] - '0') << 3 | (in[3] - '0'));
			in += 3;
		} else {
			*out++ = *in;
		}
	}
	*out = '\0';
}

static void mount_release(struct lethe_mount *m)
{
	free(m->root);
	free(m->mountpoint);
	free(m->options);
	free(m->fstype);
	free(m->source);
	free(m->superoptions);
}

/* Split line into at most max space-separated fields, in place. */
static size_t split_fields(char *line, char **fields, size_t max)
{
	size_t n = 0;

	for (char *p = line; *p && n < max;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		fields[n++] = p;
		while (*p && *p != ' ')
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static int parse_line(const char *name, unsigned lineno, char *line, struct lethe_mount *m)
{
	char *f[64];
	size_t n = split_fields(line, f, LETHE_ARRAY_SIZE(f)), sep;
	char *colon, *end;
	unsigned long maj, min;

	/* id parent major:minor root mountpoint options [optional...] - fstype source super */
	for (sep = 6; sep < n && strcmp(f[sep], "-") != 0; sep++)
		;
	if (n < 7 || sep + 2 >= n)
		return lethe_error(-EBADMSG, "'%s' line %u: expected at least 10 fields", name,
				   lineno);
	colon = strchr(f[2], ':');
	if (!colon)
		return lethe_error(-EBADMSG, "'%s' line %u: bad device number '%s'", name, lineno,
				   f[2]);
	*colon = '\0';
	errno = 0;
	maj = strtoul(f[2], &end, 10);
	if (errno || *end || end == f[2] || maj > 0xfffff)
		return lethe_error(-EBADMSG, "'%s' line %u: bad major number", name, lineno);
	min = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || min > 0xfffff)
		return lethe_error(-EBADMSG, "'%s' line %u: bad minor number", name, lineno);

	for (size_t i = 3; i < n; i++)
		unescape(f[i]);
	*m = (struct lethe_mount){
		.major = (unsigned)maj,
		.minor = (unsigned)min,
		.root = strdup(f[3]),
		.mountpoint = strdup(f[4]),
		.options = strdup(f[5]),
		.fstype = strdup(f[sep + 1]),
		.source = strdup(f[sep + 2]),
		.superoptions = strdup(sep + 3 < n ? f[sep + 3] : ""),
	};
	if (!m->root || !m->mountpoint || !m->options || !m->fstype || !m->source ||
	    !m->superoptions) {
		mount_release(m);
		return -ENOMEM;
	}
	return 0;
}

int lethe_mountinfo_parse(const char *name, const char *text, struct lethe_mounts *ret)
{
	struct lethe_mounts out = { 0 };
	unsigned lineno = 0;
	const char *p = text;
	int r = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		struct lethe_mount *v;
		char *line;

		lineno++;
		if (lineno > MOUNTINFO_MAX_LINES) {
			r = lethe_error(-EBADMSG, "'%s': more than %u lines", name,
					MOUNTINFO_MAX_LINES);
			break;
		}
		if (len == 0) {
			p += nl ? 1 : 0;
			continue;
		}
		line = strndup(p, len);
		v = realloc(out.v, (out.n + 1) * sizeof(*v));
		if (!line || !v) {
			free(line);
			if (v)
				out.v = v;
			r = -ENOMEM;
			break;
		}
		out.v = v;
		r = parse_line(name, lineno, line, &out.v[out.n]);
		free(line);
		if (r < 0)
			break;
		out.n++;
		p += len + (nl ? 1 : 0);
	}
	if (r < 0) {
		lethe_mounts_release(&out);
		return r;
	}
	*ret = out;
	return 0;
}

void lethe_mounts_release(struct lethe_mounts *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		mount_release(&m->v[i]);
	free(m->v);
	*m = (struct lethe_mounts){ 0 };
}

bool lethe_mount_has_option(const char *options, const char *opt)
{
	size_t len = strlen(opt);

	for (const char *p = options; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (n == len && strncmp(p, opt, len) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}
