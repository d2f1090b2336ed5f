/* Users and groups of services, read from the image's /etc/passwd and /etc/group
 * directly: a static PID 1 has no NSS. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage2.h"

#define ACCOUNTS_MAX_SIZE (1u << 20)

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
	end = strchr(p, ':');
	if (!end)
		end = p + strlen(p);
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

/* Find name (or a number) in a colon file; fill the id (field 2) and, for passwd,
 * the primary group (field 3). */
static int lookup(const char *file, const char *name, unsigned *id, unsigned *gid)
{
	static char text[ACCOUNTS_MAX_SIZE];
	char f0[256], f2[32], f3[32];
	ssize_t n = init_read_file(file, text, sizeof(text));
	char *line, *save = NULL;

	if (n < 0)
		return (int)n;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!field(line, 0, f0, sizeof(f0)) || strcmp(f0, name) || !field(line, 2, f2, sizeof(f2)))
			continue;
		if (!parse_id(f2, id))
			return -EBADMSG;
		if (gid && (!field(line, 3, f3, sizeof(f3)) || !parse_id(f3, gid)))
			return -EBADMSG;
		return 0;
	}
	return -ENOENT;
}

int init_account_resolve(const char *user, const char *group, struct init_account *ret)
{
	return init_account_resolve_at("/etc/passwd", "/etc/group", user, group, ret);
}

int init_account_resolve_at(const char *passwd, const char *groupfile, const char *user,
			    const char *group, struct init_account *ret)
{
	static char text[ACCOUNTS_MAX_SIZE];
	char f0[256], f2[32], f3[4096];
	unsigned uid = 0, gid = 0;
	ssize_t n;
	char *line, *save = NULL;
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!user || !strcmp(user, "root")) {
		uid = 0;
		gid = 0;
	} else if ((r = lookup(passwd, user, &uid, &gid)) < 0) {
		return r;
	}
	if (group && (r = lookup(groupfile, group, &gid, NULL)) < 0)
		return r;
	ret->uid = uid;
	ret->gid = gid;
	ret->groups[ret->n_groups++] = gid;
	/* Supplementary groups: every group that lists the user. */
	n = init_read_file(groupfile, text, sizeof(text));
	if (n < 0 || !user)
		return 0;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned g;
		char *m, *msave = NULL;

		if (!field(line, 0, f0, sizeof(f0)) || !field(line, 2, f2, sizeof(f2)) ||
		    !field(line, 3, f3, sizeof(f3)) || !parse_id(f2, &g))
			continue;
		for (m = strtok_r(f3, ",", &msave); m; m = strtok_r(NULL, ",", &msave))
			if (!strcmp(m, user) && g != gid && ret->n_groups < INIT_MAX_GROUPS)
				ret->groups[ret->n_groups++] = g;
	}
	return 0;
}
