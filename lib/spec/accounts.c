/* accounts: and files: of the spec. Accounts have fixed ids (an image has no adduser to
 * pick them), and files name their owners by those accounts, so both live here. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec-internal.h"

static const char *const account_keys[] = { "users", "groups", NULL };
static const char *const user_keys[] = { "name", "uid",	  "gid",    "group",
					 "home", "shell", "groups", NULL };
static const char *const group_keys[] = { "name", "gid", NULL };
static const char *const file_keys[] = { "source", "destination", "mode", "owner", NULL };

const struct lethe_spec_user *spec_find_user(const struct lethe_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->n_users; i++)
		if (!strcmp(spec->users[i].name, name))
			return &spec->users[i];
	return NULL;
}

const struct lethe_spec_group *spec_find_group(const struct lethe_spec *spec, const char *name)
{
	for (size_t i = 0; i < spec->n_groups; i++)
		if (!strcmp(spec->groups[i].name, name))
			return &spec->groups[i];
	return NULL;
}

const struct lethe_spec_group *spec_find_gid(const struct lethe_spec *spec, gid_t gid)
{
	for (size_t i = 0; i < spec->n_groups; i++)
		if (spec->groups[i].gid == gid)
			return &spec->groups[i];
	return NULL;
}

/* Debian's adduser default: [a-z_][a-z0-9_-]*, at most 32 characters. */
static bool is_account_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 32 || !((*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

static int account_name(struct spec_ctx *c, const struct lethe_node *map, const char *what,
			char **ret)
{
	int r = spec_required_string(c, map, "name", ret);

	if (r == 0 && !is_account_name(*ret))
		return lethe_node_error(
			c->file, lethe_node_get(map, "name"),
			"%s name '%s' must match [a-z_][a-z0-9_-]* (at most 32 characters)", what,
			*ret);
	return r;
}

/* Insert at index at (0: first, n: last); the array takes ownership of name. */
static int add_group(struct lethe_spec *spec, size_t at, char *name, gid_t gid, unsigned line)
{
	struct lethe_spec_group *g = realloc(spec->groups, (spec->n_groups + 1) * sizeof(*g));

	if (!g) {
		free(name);
		return -ENOMEM;
	}
	spec->groups = g;
	memmove(&g[at + 1], &g[at], (spec->n_groups - at) * sizeof(*g));
	g[at] = (struct lethe_spec_group){ .name = name, .gid = gid, .line = line };
	spec->n_groups++;
	return 0;
}

static int parse_group(struct spec_ctx *c, const struct lethe_node *map)
{
	const struct lethe_spec_group *other;
	uint64_t gid;
	char *name = NULL;
	int r;

	r = lethe_node_expect(c->file, map, LETHE_NODE_MAPPING, "a group");
	if (r == 0)
		r = lethe_node_check_keys(c->file, map, group_keys);
	if (r == 0)
		r = account_name(c, map, "group", &name);
	if (r < 0)
		goto out;
	if (!lethe_node_get(map, "gid")) {
		r = lethe_node_error(c->file, map, "group '%s' needs a fixed gid", name);
		goto out;
	}
	r = lethe_node_uint(c->file, lethe_node_get(map, "gid"), "gid", 0, SPEC_MAX_ID, &gid);
	if (r < 0)
		goto out;
	if ((gid == 0) != !strcmp(name, "root")) {
		r = lethe_node_error(c->file, lethe_node_get(map, "gid"),
				     "gid 0 is root's and only root's (group '%s')", name);
		goto out;
	}
	if ((other = spec_find_group(c->spec, name)))
		r = lethe_node_error(c->file, map,
				     "group '%s' is declared twice (first on line %u)", name,
				     other->line);
	else if ((other = spec_find_gid(c->spec, (gid_t)gid)))
		r = lethe_node_error(
			c->file, lethe_node_get(map, "gid"),
			"gid %llu of group '%s' is already used by group '%s' (line %u)",
			(unsigned long long)gid, name, other->name, other->line);
	if (r == 0)
		return add_group(c->spec, c->spec->n_groups, name, (gid_t)gid, map->line);
out:
	free(name);
	return r;
}

/* The primary group: group: NAME or gid: N name a declared group; with neither, the
 * user gets a group of its own name with gid = uid (declared or made here). */
static int primary_group(struct spec_ctx *c, const struct lethe_node *map,
			 struct lethe_spec_user *u)
{
	const struct lethe_node *gnode = lethe_node_get(map, "group");
	const struct lethe_node *gidnode = lethe_node_get(map, "gid");
	const struct lethe_spec_group *g;
	uint64_t gid;
	char *name;
	int r;

	if (gidnode) {
		r = lethe_node_uint(c->file, gidnode, "gid", 0, SPEC_MAX_ID, &gid);
		if (r < 0)
			return r;
	}
	if (gnode) {
		r = lethe_node_expect(c->file, gnode, LETHE_NODE_SCALAR, "group");
		if (r < 0)
			return r;
		g = spec_find_group(c->spec, gnode->value);
		if (!g)
			return lethe_node_error(c->file, gnode,
						"group '%s' of user '%s' is not in accounts.groups",
						gnode->value, u->name);
		if (gidnode && g->gid != gid)
			return lethe_node_error(
				c->file, gidnode,
				"gid %llu of user '%s' is not the gid of group '%s' (%u)",
				(unsigned long long)gid, u->name, g->name, (unsigned)g->gid);
		u->gid = g->gid;
		return 0;
	}
	if (gidnode) {
		if (!spec_find_gid(c->spec, (gid_t)gid))
			return lethe_node_error(c->file, gidnode,
						"gid %llu of user '%s' is not the gid of a group "
						"in accounts.groups",
						(unsigned long long)gid, u->name);
		u->gid = (gid_t)gid;
		return 0;
	}
	g = spec_find_group(c->spec, u->name);
	if (g) {
		u->gid = g->gid;
		return 0;
	}
	g = spec_find_gid(c->spec, u->uid);
	if (g)
		return lethe_node_error(c->file, map,
					"user '%s' has no group, and gid %u (its uid) is taken by "
					"group '%s'; set group or gid",
					u->name, (unsigned)u->uid, g->name);
	name = strdup(u->name);
	if (!name)
		return -ENOMEM;
	u->gid = u->uid;
	return add_group(c->spec, c->spec->n_groups, name, u->uid, map->line);
}

static int user_path(struct spec_ctx *c, const struct lethe_node *map, const char *key,
		     const char *fallback, char **ret)
{
	const struct lethe_node *node = lethe_node_get(map, key);
	int r;

	if (!node) {
		*ret = strdup(fallback);
		return *ret ? 0 : -ENOMEM;
	}
	r = spec_string(c, node, key, ret);
	if (r == 0 && !spec_path_is_absolute_clean(*ret))
		return lethe_node_error(c->file, node,
					"%s '%s' must be an absolute path without '.', '..' or "
					"empty components",
					key, *ret);
	/* ':' separates the fields of /etc/passwd (newlines are control characters, which
	 * spec_string() refuses). */
	if (r == 0 && strchr(*ret, ':'))
		return lethe_node_error(c->file, node,
					"%s '%s' must not contain ':' (it separates the fields "
					"of /etc/passwd)",
					key, *ret);
	return r;
}

/* Fills u (already in spec->users, so that the error paths free what it holds). */
static int parse_user(struct spec_ctx *c, const struct lethe_node *map, struct lethe_spec_user *u)
{
	const struct lethe_spec_user *other;
	const struct lethe_node *uidnode;
	uint64_t uid;
	int r;

	u->line = map->line;
	r = lethe_node_check_keys(c->file, map, user_keys);
	if (r == 0)
		r = account_name(c, map, "user", &u->name);
	if (r < 0)
		return r;
	uidnode = lethe_node_get(map, "uid");
	if (!uidnode)
		return lethe_node_error(c->file, map, "user '%s' needs a fixed uid", u->name);
	r = lethe_node_uint(c->file, uidnode, "uid", 0, SPEC_MAX_ID, &uid);
	if (r < 0)
		return r;
	u->uid = (uid_t)uid;
	if ((uid == 0) != !strcmp(u->name, "root"))
		return lethe_node_error(c->file, uidnode,
					"uid 0 is root's and only root's (user '%s')", u->name);
	for (other = c->spec->users; other < u; other++) {
		if (!strcmp(other->name, u->name))
			return lethe_node_error(c->file, map,
						"user '%s' is declared twice (first on line %u)",
						u->name, other->line);
		if (other->uid == u->uid)
			return lethe_node_error(
				c->file, uidnode,
				"uid %u of user '%s' is already used by user '%s' (line %u)",
				(unsigned)u->uid, u->name, other->name, other->line);
	}
	r = primary_group(c, map, u);
	if (r == 0)
		r = user_path(c, map, "home", strcmp(u->name, "root") ? "/nonexistent" : "/root",
			      &u->home);
	if (r == 0)
		r = user_path(c, map, "shell", "/usr/sbin/nologin", &u->shell);
	return r;
}

/* Supplementary groups, once every user has made its own group. */
static int parse_supplementary(struct spec_ctx *c, const struct lethe_node *map,
			       struct lethe_spec_user *u)
{
	const struct lethe_node *node = lethe_node_get(map, "groups");
	int r;

	if (!node)
		return 0;
	r = spec_list(c, node, "groups");
	for (size_t i = 0; r == 0 && i < node->n; i++) {
		const struct lethe_node *item = node->items[i];

		r = lethe_node_expect(c->file, item, LETHE_NODE_SCALAR, "a group");
		if (r < 0)
			break;
		if (!spec_find_group(c->spec, item->value))
			return lethe_node_error(c->file, item,
						"group '%s' of user '%s' is not in accounts.groups",
						item->value, u->name);
		if (lethe_strv_contains(&u->groups, item->value))
			return lethe_node_error(c->file, item, "group '%s' is listed twice",
						item->value);
		r = lethe_strv_push(&u->groups, item->value);
	}
	return r;
}

static int parse_users(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	int r = spec_list(c, node, "accounts.users");

	if (r < 0)
		return r;
	spec->users = calloc(node->n + 1, sizeof(*spec->users)); /* + the implicit root */
	if (!spec->users)
		return -ENOMEM;
	for (size_t i = 0; i < node->n; i++) {
		r = lethe_node_expect(c->file, node->items[i], LETHE_NODE_MAPPING, "a user");
		if (r < 0)
			return r;
		spec->n_users++;
		r = parse_user(c, node->items[i], &spec->users[i]);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < node->n; i++) {
		r = parse_supplementary(c, node->items[i], &spec->users[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* root (uid 0, gid 0) exists in every image; a spec may declare it to set its home and
 * shell, otherwise it is added first, with home /root and no login shell. */
static int add_root(struct lethe_spec *spec)
{
	struct lethe_spec_user *u;
	char *name;
	int r;

	if (!spec_find_group(spec, "root")) {
		name = strdup("root");
		if (!name)
			return -ENOMEM;
		r = add_group(spec, 0, name, 0, 0);
		if (r < 0)
			return r;
	}
	if (spec_find_user(spec, "root"))
		return 0;
	if (!spec->users) {
		spec->users = calloc(1, sizeof(*spec->users));
		if (!spec->users)
			return -ENOMEM;
	}
	u = spec->users;
	memmove(&u[1], &u[0], spec->n_users * sizeof(*u));
	u[0] = (struct lethe_spec_user){ .name = strdup("root"),
					 .home = strdup("/root"),
					 .shell = strdup("/usr/sbin/nologin") };
	spec->n_users++;
	if (!u[0].name || !u[0].home || !u[0].shell)
		return -ENOMEM;
	return 0;
}

int spec_parse_accounts(struct spec_ctx *c, const struct lethe_node *node)
{
	const struct lethe_node *groups, *users;
	char *name;
	int r;

	if (node) {
		r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "accounts");
		if (r == 0)
			r = lethe_node_check_keys(c->file, node, account_keys);
		if (r < 0)
			return r;
	}
	groups = lethe_node_get(node, "groups");
	if (groups) {
		r = spec_list(c, groups, "accounts.groups");
		for (size_t i = 0; r == 0 && i < groups->n; i++)
			r = parse_group(c, groups->items[i]);
		if (r < 0)
			return r;
	}
	if (!spec_find_group(c->spec, "root")) {
		name = strdup("root");
		if (!name)
			return -ENOMEM;
		r = add_group(c->spec, 0, name, 0, 0);
		if (r < 0)
			return r;
	}
	users = lethe_node_get(node, "users");
	if (users) {
		r = parse_users(c, users);
		if (r < 0)
			return r;
	}
	return add_root(c->spec);
}

/* Octal, always: "0644", 0644 and 644 all mean rw-r--r--. */
static int parse_mode(struct spec_ctx *c, const struct lethe_node *node, mode_t *ret)
{
	const char *s;
	size_t len;
	mode_t mode = 0;
	int r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "mode");

	if (r < 0)
		return r;
	s = node->value;
	len = strlen(s);
	if (len < 3 || len > 4 || strspn(s, "01234567") != len)
		return lethe_node_error(c->file, node,
					"mode must be 3 or 4 octal digits such as 0644, not '%s'",
					s);
	for (; *s; s++)
		mode = (mode << 3) | (mode_t)(*s - '0');
	*ret = mode;
	return 0;
}

static bool is_number(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* "USER:GROUP", "UID:GID" or "USER" (its primary group); names must be accounts. */
static int parse_owner(struct spec_ctx *c, const struct lethe_node *node, struct lethe_spec_file *f)
{
	const struct lethe_spec_user *u;
	const struct lethe_spec_group *g;
	char user[64], *group;
	unsigned long long id;
	int r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "owner");

	if (r < 0)
		return r;
	if (strlen(node->value) >= sizeof(user))
		goto bad;
	snprintf(user, sizeof(user), "%s", node->value);
	group = strchr(user, ':');
	if (group)
		*group++ = '\0';
	if (!*user || (group && (!*group || strchr(group, ':'))))
		goto bad;
	if (is_number(user)) {
		if (strlen(user) > 5 || (id = strtoull(user, NULL, 10)) > SPEC_MAX_ID)
			goto bad;
		f->uid = (uid_t)id;
		if (!group)
			goto bad; /* a bare uid says nothing about the group */
	} else {
		u = spec_find_user(c->spec, user);
		if (!u)
			return lethe_node_error(c->file, node, "owner user '%s' is not in accounts",
						user);
		f->uid = u->uid;
		f->gid = u->gid;
		if (!group)
			return 0;
	}
	if (is_number(group)) {
		if (strlen(group) > 5 || (id = strtoull(group, NULL, 10)) > SPEC_MAX_ID)
			goto bad;
		f->gid = (gid_t)id;
		return 0;
	}
	g = spec_find_group(c->spec, group);
	if (!g)
		return lethe_node_error(c->file, node, "owner group '%s' is not in accounts",
					group);
	f->gid = g->gid;
	return 0;
bad:
	return lethe_node_error(c->file, node,
				"owner must be USER:GROUP, USER or UID:GID (ids 0-%d), not '%s'",
				SPEC_MAX_ID, node->value);
}

static int file_source(struct spec_ctx *c, const struct lethe_node *map, struct lethe_spec_file *f)
{
	const struct lethe_node *node = lethe_node_get(map, "source");
	struct stat st;
	char *value;
	int r = spec_required_string(c, map, "source", &value);

	if (r < 0)
		return r;
	if (value[0] == '/' || !c->dir) {
		f->source = value;
	} else {
		f->source = lethe_path_join(c->dir, value);
		free(value);
		if (!f->source)
			return -ENOMEM;
	}
	if (!c->dir)
		return 0;
	if (stat(f->source, &st) < 0)
		return lethe_node_error(c->file, node, "file source '%s' does not exist",
					f->source);
	if (!S_ISREG(st.st_mode))
		return lethe_node_error(c->file, node, "file source '%s' is not a regular file",
					f->source);
	return 0;
}

static int parse_file(struct spec_ctx *c, const struct lethe_node *map, struct lethe_spec_file *f)
{
	const struct lethe_node *node;
	int r;

	f->line = map->line;
	f->mode = 0644;
	r = lethe_node_check_keys(c->file, map, file_keys);
	if (r == 0)
		r = file_source(c, map, f);
	if (r == 0)
		r = spec_required_string(c, map, "destination", &f->destination);
	if (r < 0)
		return r;
	node = lethe_node_get(map, "destination");
	if (!spec_path_is_absolute_clean(f->destination))
		return lethe_node_error(
			c->file, node,
			"destination '%s' must be an absolute path without '.', '..' or empty "
			"components",
			f->destination);
	for (const struct lethe_spec_file *o = c->spec->files; o < f; o++)
		if (!strcmp(o->destination, f->destination))
			return lethe_node_error(c->file, node,
						"destination '%s' is already used on line %u",
						f->destination, o->line);
	node = lethe_node_get(map, "mode");
	if (node) {
		r = parse_mode(c, node, &f->mode);
		if (r < 0)
			return r;
	}
	node = lethe_node_get(map, "owner");
	return node ? parse_owner(c, node, f) : 0;
}

int spec_parse_files(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	int r;

	if (!node)
		return 0;
	r = spec_list(c, node, "files");
	if (r < 0)
		return r;
	spec->files = calloc(node->n ? node->n : 1, sizeof(*spec->files));
	if (!spec->files)
		return -ENOMEM;
	for (size_t i = 0; i < node->n; i++) {
		r = lethe_node_expect(c->file, node->items[i], LETHE_NODE_MAPPING, "a file");
		if (r < 0)
			return r;
		spec->n_files++;
		r = parse_file(c, node->items[i], &spec->files[i]);
		if (r < 0)
			return r;
	}
	return 0;
}
