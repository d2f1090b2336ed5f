/* Users and groups of services, read from the image's passwd and group files directly:
 * a static PID 1 has no NSS. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/core.h>

/* A passwd or group file into a malloc'd, NUL-terminated buffer of at most
 * LETHE_ACCOUNT_FILE_MAX bytes. */
static int read_text(const char *path, char **ret)
{
	char *text = malloc(LETHE_ACCOUNT_FILE_MAX);
	ssize_t n;

	if (!text)
		return -ENOMEM;
	n = lethe_small_file_read(path, text, LETHE_ACCOUNT_FILE_MAX);
	if (n < 0) {
		free(text);
		return (int)n;
	}
	*ret = text;
	return 0;
}

/* Field n (0-based) of a colon-separated line, copied to out. */
static bool field(const char *line, unsigned n, char *out, size_t size)
{
	const char *p = line, *end;

	for (unsigned i = 0; i < n; i++) {
		p = strchr(p, ':');
		if (!p)
			return false;
		p++;
	}
	end = strchrnul(p, ':');
	if ((size_t)(end - p) >= size)
		return false;
	memcpy(out, p, (size_t)(end - p));
	out[end - p] = '\0';
	return true;
}

static bool parse_id(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > 0xfffffffeUL)
		return false;
	*ret = (unsigned)v;
	return true;
}

/* Find name in a colon file's text; fill the id (field 2) and, for passwd, the primary
 * group (field 3). */
static int lookup(char *text, const char *name, unsigned *id, unsigned *gid)
{
	char f0[256], f2[32], f3[32];
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!field(line, 0, f0, sizeof(f0)) || strcmp(f0, name) ||
		    !field(line, 2, f2, sizeof(f2)))
			continue;
		if (!parse_id(f2, id))
			return -EBADMSG;
		if (gid && (!field(line, 3, f3, sizeof(f3)) || !parse_id(f3, gid)))
			return -EBADMSG;
		return 0;
	}
	return -ENOENT;
}

static int lookup_file(const char *path, const char *name, unsigned *id, unsigned *gid)
{
	char *text = NULL;
	int r = read_text(path, &text);

	if (r < 0)
		return r;
	r = lookup(text, name, id, gid);
	free(text);
	return r;
}

/* Supplementary groups: every group that lists the user. */
static void add_members(char *text, const char *user, struct lethe_account *a)
{
	char f0[256], f2[32], f3[4096];
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned g;
		char *m, *msave = NULL;

		if (!field(line, 0, f0, sizeof(f0)) || !field(line, 2, f2, sizeof(f2)) ||
		    !field(line, 3, f3, sizeof(f3)) || !parse_id(f2, &g))
			continue;
		for (m = strtok_r(f3, ",", &msave); m; m = strtok_r(NULL, ",", &msave))
			if (!strcmp(m, user) && g != a->gid &&
			    a->n_groups < LETHE_ACCOUNT_MAX_GROUPS)
				a->groups[a->n_groups++] = g;
	}
}

int lethe_account_resolve(const char *passwd, const char *group_file, const char *user,
			  const char *group, struct lethe_account *ret)
{
	struct lethe_account a = { 0 };
	unsigned uid = 0, gid = 0;
	char *text = NULL;
	int r;

	if (user && strcmp(user, "root") && (r = lookup_file(passwd, user, &uid, &gid)) < 0)
		return r;
	if (group && (r = lookup_file(group_file, group, &gid, NULL)) < 0)
		return r;
	a.uid = uid;
	a.gid = gid;
	a.groups[a.n_groups++] = gid;
	if (user && read_text(group_file, &text) == 0) {
		add_members(text, user, &a);
		free(text);
	}
	*ret = a;
	return 0;
}
