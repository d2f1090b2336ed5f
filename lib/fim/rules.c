/* lethe fim's rules: what is scanned, what is excluded, which attributes count where
 * (docs/fim.md). One directive per line; the last matching attrs rule wins. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/contract.h>
#include <lethe/fim.h>

struct rule {
	char *pattern;
	bool glob;
	unsigned attrs;
};

struct lethe_fim_rules {
	struct lethe_strv scan;
	struct rule *excludes, *attrs;
	size_t n_excludes, n_attrs;
};

/* A Debian host: the system's trees, without what the system rewrites as it runs. */
static const char rules_host[] =
	"# lethe fim: built-in rules for a Debian host (docs/fim.md)\n"
	"scan /etc\n"
	"scan /usr\n"
	"scan /boot\n"
	"scan /var/lib/dpkg\n"
	"# rewritten as the system runs\n"
	"exclude /etc/adjtime\n"
	"exclude " LETHE_PATH_RESOLV_CONF "\n"
	"exclude /etc/.pwd.lock\n"
	"exclude /etc/ld.so.cache\n"
	"exclude /var/lib/dpkg/lock*\n"
	"exclude /var/lib/dpkg/triggers/Lock\n"
	"exclude */__pycache__\n"
	"# package databases change with every update: their content is not the point\n"
	"attrs /var/lib/dpkg type,mode,uid,gid\n"
	"attrs /etc/ssl/certs type,mode,uid,gid,link\n";

/* A booted Lethe system against its image's manifest: the RAM file systems, the logs
 * and the manifest itself are expected to differ from the image. */
static const char rules_image[] = "# lethe fim: built-in rules for a booted Lethe system\n"
				  "scan /\n"
				  "exclude /proc\n"
				  "exclude /sys\n"
				  "exclude /dev\n"
				  "exclude /run\n"
				  "exclude /tmp\n"
				  "exclude /var/log\n"
				  "exclude /var/tmp\n"
				  "exclude " LETHE_PATH_MANIFEST "\n";

const char *lethe_fim_rules_builtin_text(enum lethe_fim_rules_builtin which)
{
	return which == LETHE_FIM_RULES_IMAGE ? rules_image : rules_host;
}

int lethe_fim_rules_builtin(enum lethe_fim_rules_builtin which, struct lethe_fim_rules **ret)
{
	const char *t = lethe_fim_rules_builtin_text(which);

	return lethe_fim_rules_parse(t, strlen(t), "built-in rules", ret);
}

struct lethe_fim_rules *lethe_fim_rules_free(struct lethe_fim_rules *rules)
{
	if (!rules)
		return NULL;
	lethe_strv_release(&rules->scan);
	for (size_t i = 0; i < rules->n_excludes; i++)
		free(rules->excludes[i].pattern);
	for (size_t i = 0; i < rules->n_attrs; i++)
		free(rules->attrs[i].pattern);
	free(rules->excludes);
	free(rules->attrs);
	free(rules);
	return NULL;
}

const struct lethe_strv *lethe_fim_rules_scan_paths(const struct lethe_fim_rules *rules)
{
	return &rules->scan;
}

static bool matches(const struct rule *r, const char *path)
{
	size_t n;

	if (r->glob)
		return fnmatch(r->pattern, path, 0) == 0;
	n = strlen(r->pattern);
	if (n == 1) /* "/" */
		return true;
	return !strncmp(path, r->pattern, n) && (path[n] == '\0' || path[n] == '/');
}

bool lethe_fim_rules_excluded(const struct lethe_fim_rules *rules, const char *abspath)
{
	if (!rules)
		return false;
	for (size_t i = 0; i < rules->n_excludes; i++)
		if (matches(&rules->excludes[i], abspath))
			return true;
	return false;
}

unsigned lethe_fim_rules_attrs(const struct lethe_fim_rules *rules, const char *abspath)
{
	if (!rules)
		return LETHE_FIM_ALL;
	for (size_t i = rules->n_attrs; i-- > 0;)
		if (matches(&rules->attrs[i], abspath))
			return rules->attrs[i].attrs;
	return LETHE_FIM_DEFAULT;
}

/* An absolute path without empty, "." or ".." components (a trailing '/' dropped). */
static bool pattern_ok(char *s)
{
	size_t n = strlen(s);

	if (s[0] != '/' && s[0] != '*')
		return false;
	while (n > 1 && s[n - 1] == '/')
		s[--n] = '\0';
	for (const char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return false;
	return !strstr(s, "//") && !strstr(s, "/./") && !strstr(s, "/../") &&
	       (n < 2 || (strcmp(s + n - 2, "/.") && (n < 3 || strcmp(s + n - 3, "/.."))));
}

static int push_rule(struct rule **v, size_t *n, const char *pattern, unsigned attrs)
{
	struct rule *nv = reallocarray(*v, *n + 1, sizeof(**v));

	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n].pattern = strdup(pattern);
	if (!nv[*n].pattern)
		return -ENOMEM;
	nv[*n].glob = strpbrk(pattern, "*?[") != NULL;
	nv[*n].attrs = attrs;
	(*n)++;
	return 0;
}

static int parse_line(struct lethe_fim_rules *rules, char *line, const char *name, unsigned no)
{
	char *w[4];
	size_t n = 0;
	unsigned attrs = 0;

	for (char *s = line; n < LETHE_ARRAY_SIZE(w);) {
		s += strspn(s, " \t");
		if (!*s || *s == '#')
			break;
		w[n++] = s;
		s += strcspn(s, " \t");
		if (*s)
			*s++ = '\0';
	}
	if (!n)
		return 0;
	if (n == LETHE_ARRAY_SIZE(w))
		return lethe_error(-EBADMSG, "'%s' line %u: too many words", name, no);
	if (n >= 2 && !pattern_ok(w[1]))
		return lethe_error(-EBADMSG,
				   "'%s' line %u: '%s' is not an absolute path or pattern "
				   "(no '.', '..' or empty component)",
				   name, no, w[1]);
	if (!strcmp(w[0], "scan") && n == 2) {
		if (strpbrk(w[1], "*?["))
			return lethe_error(-EBADMSG,
					   "'%s' line %u: scan takes a path, not a pattern", name,
					   no);
		return lethe_strv_push(&rules->scan, w[1]);
	}
	if (!strcmp(w[0], "exclude") && n == 2)
		return push_rule(&rules->excludes, &rules->n_excludes, w[1], 0);
	if (!strcmp(w[0], "attrs") && n == 3) {
		if (lethe_fim_attrs_parse(w[2], &attrs) < 0)
			return lethe_error(
				-EBADMSG,
				"'%s' line %u: bad attribute list '%s' (of type, mode, "
				"uid, gid, size, link, sha256, mtime, xattrs, nlink, all, "
				"default)",
				name, no, w[2]);
		return push_rule(&rules->attrs, &rules->n_attrs, w[1], attrs | LETHE_FIM_TYPE);
	}
	return lethe_error(-EBADMSG,
			   "'%s' line %u: expected 'scan PATH', 'exclude PATTERN' or "
			   "'attrs PATTERN LIST'",
			   name, no);
}

int lethe_fim_rules_parse(const char *text, size_t len, const char *name,
			  struct lethe_fim_rules **ret)
{
	struct lethe_fim_rules *rules = calloc(1, sizeof(*rules));
	const char *s = text, *end = text + len;
	unsigned no = 0;
	int r = 0;

	if (!rules)
		return -ENOMEM;
	if (memchr(text, '\0', len))
		r = lethe_error(-EBADMSG, "'%s': NUL byte in the text", name);
	while (r >= 0 && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char line[4096];

		if (++no > LETHE_FIM_MAX_RULES)
			r = lethe_error(-EBADMSG, "'%s': more than %u lines", name,
					LETHE_FIM_MAX_RULES);
		else if (n >= sizeof(line))
			r = lethe_error(-EBADMSG, "'%s' line %u: longer than %zu bytes", name, no,
					sizeof(line) - 1);
		if (r < 0)
			break;
		memcpy(line, s, n);
		line[n] = '\0';
		r = parse_line(rules, line, name, no);
		s += n + (nl != NULL);
	}
	if (r < 0) {
		lethe_fim_rules_free(rules);
		return r;
	}
	*ret = rules;
	return 0;
}

int lethe_fim_rules_load(const char *path, struct lethe_fim_rules **ret)
{
	char *text;
	size_t len;
	int r = lethe_file_read(path, 1 << 20, &text, &len);

	if (r < 0)
		return r;
	r = lethe_fim_rules_parse(text, len, path, ret);
	free(text);
	return r;
}
