/* The image spec: reads the YAML, checks every field, fills struct lethe_spec. This
 * file holds the top level and the package and root-tree fields; accounts and files,
 * kernel, services and network have their own files. */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lethe/pkg.h>

#include "spec-internal.h"

int spec_string(struct spec_ctx *c, const struct lethe_node *node, const char *what, char **ret)
{
	int r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, what);

	if (r < 0)
		return r;
	if (strlen(node->value) > SPEC_MAX_STRING)
		return lethe_node_error(c->file, node, "%s is longer than %d bytes", what,
					SPEC_MAX_STRING);
	for (const unsigned char *p = (const unsigned char *)node->value; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return lethe_node_error(c->file, node, "%s contains a control character",
						what);
	*ret = strdup(node->value);
	return *ret ? 0 : -ENOMEM;
}

int spec_required_string(struct spec_ctx *c, const struct lethe_node *map, const char *key,
			 char **ret)
{
	const struct lethe_node *node = lethe_node_get(map, key);
	int r;

	if (!node)
		return lethe_node_error(c->file, map, "missing required key '%s'", key);
	r = spec_string(c, node, key, ret);
	if (r == 0 && !**ret) {
		free(*ret);
		*ret = NULL;
		return lethe_node_error(c->file, node, "%s must not be empty", key);
	}
	return r;
}

int spec_list(struct spec_ctx *c, const struct lethe_node *node, const char *what)
{
	int r = lethe_node_expect(c->file, node, LETHE_NODE_SEQUENCE, what);

	if (r == 0 && node->n > SPEC_MAX_LIST)
		return lethe_node_error(c->file, node, "%s has more than %d entries", what,
					SPEC_MAX_LIST);
	return r;
}

bool spec_scaled(const char *s, const struct spec_unit *units, size_t n_units, uint64_t max,
		 uint64_t *ret)
{
	size_t digits = strspn(s, "0123456789");
	uint64_t n = 0;

	if (digits == 0 || digits > 15 || (s[0] == '0' && digits > 1) ||
	    (s[digits] && s[digits + 1]))
		return false;
	for (size_t i = 0; i < digits; i++)
		n = n * 10 + (unsigned)(s[i] - '0');
	for (size_t i = 0; i < n_units; i++) {
		if (units[i].suffix != s[digits])
			continue;
		if (n > max / units[i].factor)
			return false;
		*ret = n * units[i].factor;
		return true;
	}
	return false;
}

bool spec_bytes(const char *s, uint64_t max, uint64_t *ret)
{
	static const struct spec_unit units[] = {
		{ '\0', 1 },	     { 'k', 1ull << 10 }, { 'K', 1ull << 10 }, { 'm', 1ull << 20 },
		{ 'M', 1ull << 20 }, { 'g', 1ull << 30 }, { 'G', 1ull << 30 },
	};

	return spec_scaled(s, units, LETHE_ARRAY_SIZE(units), max, ret);
}

bool spec_path_is_absolute_clean(const char *path)
{
	const char *p = path;

	if (path[0] != '/' || !path[1])
		return false;
	for (const unsigned char *c = (const unsigned char *)path; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return false;
	/* Every component: not empty ("//", a trailing '/'), not "." and not "..". */
	while (*p == '/') {
		size_t n = strcspn(++p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
	}
	return true;
}

/* [a-z0-9][a-z0-9-]*, at most 63 characters: usable as a file and host name. */
static bool is_image_name(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 63 || *s == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/* Debian Policy 5.6.1: at least two characters of [a-z0-9+.-], starting alphanumeric. */
static bool is_package_name(const char *s)
{
	size_t len = strlen(s);

	if (len < 2 || len > 128 || !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')))
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+.-") == len;
}

/* A required string section: present (the table says so) and not empty. */
static int nonempty_string(struct spec_ctx *c, const struct lethe_node *node, const char *key,
			   char **ret)
{
	int r = spec_string(c, node, key, ret);

	if (r == 0 && !**ret) {
		free(*ret);
		*ret = NULL;
		return lethe_node_error(c->file, node, "%s must not be empty", key);
	}
	return r;
}

static int parse_name(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	int r = nonempty_string(c, node, "name", &spec->name);

	if (r == 0 && !is_image_name(spec->name))
		return lethe_node_error(
			c->file, node,
			"name '%s' must match [a-z0-9][a-z0-9-]* (at most 63 characters)",
			spec->name);
	return r;
}

static int parse_version(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	int r = nonempty_string(c, node, "version", &spec->version);

	if (r == 0 && (strlen(spec->version) > 64 || strpbrk(spec->version, " \t/")))
		return lethe_node_error(
			c->file, node,
			"version '%s' must be at most 64 characters without spaces or '/'",
			spec->version);
	return r;
}

static int parse_description(struct spec_ctx *c, const struct lethe_node *node)
{
	int r;

	if (!node)
		return 0;
	/* Free text: the one value where newlines and tabs (a YAML block) make sense. */
	r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "description");
	if (r < 0)
		return r;
	if (strlen(node->value) > SPEC_MAX_STRING)
		return lethe_node_error(c->file, node, "description is longer than %d bytes",
					SPEC_MAX_STRING);
	for (const unsigned char *p = (const unsigned char *)node->value; *p; p++)
		if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f)
			return lethe_node_error(c->file, node,
						"description contains a control character");
	c->spec->description = strdup(node->value);
	return c->spec->description ? 0 : -ENOMEM;
}

static bool is_arch_or_suite(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-_.") == len;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

/* A refusal of lethe_pkg_sources_check() as a message about node. */
static int source_error(struct spec_ctx *c, const struct lethe_node *node, int r)
{
	char msg[1024];

	if (r != -EBADMSG || !lethe_error_message_for(r))
		return r;
	snprintf(msg, sizeof(msg), "%s", lethe_error_message_for(r));
	return lethe_node_error(c->file, node, "%s", msg);
}

/* The sources file at path: apt's options are checked here already, so that `lethe spec
 * check` refuses what `lethe lock` would. */
static int check_source_file(struct spec_ctx *c, const struct lethe_node *node, const char *path)
{
	char *text;
	size_t len;
	int r = lethe_file_read(path, LETHE_PKG_SOURCES_MAX_SIZE, &text, &len);

	if (r < 0)
		return lethe_node_error(c->file, node, "apt source file '%s' cannot be read: %s",
					path, strerror(-r));
	r = lethe_pkg_sources_check(path, text, len,
				    has_suffix(path, ".sources") ? LETHE_PKG_SOURCES_DEB822
								 : LETHE_PKG_SOURCES_LIST);
	free(text);
	return source_error(c, node, r);
}

/* A one-line "deb [OPTIONS] URI SUITE [COMPONENT...]" entry, or a .sources or .list
 * file (whose name may start with "deb": Debian's own is debian.sources). */
static int parse_apt_source(struct spec_ctx *c, const struct lethe_node *node)
{
	char *value = NULL, *path = NULL;
	int r;

	r = spec_string(c, node, "apt source", &value);
	if (r < 0)
		return r;
	if (lethe_pkg_source_is_oneline(value)) {
		r = lethe_pkg_sources_check(NULL, value, strlen(value), LETHE_PKG_SOURCES_LIST);
		if (r == -EBADMSG && lethe_error_message_for(r)) {
			char msg[1024];

			snprintf(msg, sizeof(msg), "%s", lethe_error_message());
			r = lethe_node_error(c->file, node, "apt source '%s': %s", value, msg);
		}
		if (r == 0)
			r = lethe_strv_push(&c->spec->sources, value);
		free(value);
		return r;
	}
	if (strchr(value, ' ') || !(has_suffix(value, ".sources") || has_suffix(value, ".list"))) {
		r = lethe_node_error(c->file, node,
				     "apt source '%s' must be a 'deb [OPTIONS] URI SUITE "
				     "[COMPONENT...]' line or a .sources or .list file",
				     value);
		free(value);
		return r;
	}
	if (value[0] == '/' || !c->dir)
		path = strdup(value);
	else
		path = lethe_path_join(c->dir, value);
	/* A relative directory such as "deb x" must not read as a one-line entry later. */
	if (path && lethe_pkg_source_is_oneline(path)) {
		char *dot = lethe_path_join(".", path);

		free(path);
		path = dot;
	}
	free(value);
	if (!path)
		return -ENOMEM;
	r = c->dir ? check_source_file(c, node, path) : 0;
	if (r == 0)
		r = lethe_strv_push(&c->spec->sources, path);
	free(path);
	return r;
}

static int parse_apt(struct spec_ctx *c, const struct lethe_node *apt)
{
	static const char *const keys[] = { "suite", "architecture", "sources", NULL };
	struct lethe_spec *spec = c->spec;
	const struct lethe_node *node;
	int r;

	if (apt) {
		r = lethe_node_expect(c->file, apt, LETHE_NODE_MAPPING, "apt");
		if (r == 0)
			r = lethe_node_check_keys(c->file, apt, keys);
		if (r < 0)
			return r;
	}
	node = lethe_node_get(apt, "suite");
	if (node) {
		r = spec_string(c, node, "apt suite", &spec->suite);
		if (r < 0)
			return r;
		if (!is_arch_or_suite(spec->suite))
			return lethe_node_error(c->file, node, "apt suite '%s' is not a suite name",
						spec->suite);
	}
	node = lethe_node_get(apt, "architecture");
	if (node) {
		r = spec_string(c, node, "apt architecture", &spec->architecture);
		if (r < 0)
			return r;
		if (!is_arch_or_suite(spec->architecture))
			return lethe_node_error(
				c->file, node, "apt architecture '%s' is not a Debian architecture",
				spec->architecture);
	} else {
		spec->architecture = strdup("amd64");
		if (!spec->architecture)
			return -ENOMEM;
	}
	node = lethe_node_get(apt, "sources");
	if (!node)
		return 0;
	r = spec_list(c, node, "apt sources");
	for (size_t i = 0; r == 0 && i < node->n; i++)
		r = parse_apt_source(c, node->items[i]);
	return r;
}

/* A list of package names, each once; required lists must not be empty. */
static int parse_package_list(struct spec_ctx *c, const struct lethe_node *node, const char *what,
			      struct lethe_strv *out)
{
	int r = spec_list(c, node, what);

	for (size_t i = 0; r == 0 && i < node->n; i++) {
		const struct lethe_node *item = node->items[i];

		r = lethe_node_expect(c->file, item, LETHE_NODE_SCALAR, "a package");
		if (r < 0)
			break;
		if (!is_package_name(item->value))
			return lethe_node_error(c->file, item,
						"'%s' is not a Debian package name (lowercase "
						"letters, digits, '+', "
						"'-', '.'; at least 2 characters)",
						item->value);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(node->items[j]->value, item->value))
				return lethe_node_error(
					c->file, item,
					"package '%s' is listed twice (first on line %u)",
					item->value, node->items[j]->line);
		r = lethe_strv_push(out, item->value);
	}
	return r;
}

static int parse_packages(struct spec_ctx *c, const struct lethe_node *node)
{
	int r = parse_package_list(c, node, "packages", &c->spec->packages);

	if (r == 0 && node->n == 0)
		return lethe_node_error(c->file, node, "packages must not be empty");
	return r;
}

/* After packages (the table's order): a name may not be in both. */
static int parse_drop(struct spec_ctx *c, const struct lethe_node *node)
{
	int r;

	if (!node)
		return 0;
	r = parse_package_list(c, node, "drop", &c->spec->drop);
	for (size_t i = 0; r == 0 && i < node->n; i++)
		if (lethe_strv_contains(&c->spec->packages, node->items[i]->value))
			return lethe_node_error(c->file, node->items[i],
						"package '%s' is both in packages and in drop",
						node->items[i]->value);
	return r;
}

/* Path globs of the image root: absolute, no ".." and no control characters. */
static int parse_globs(struct spec_ctx *c, const struct lethe_node *node, const char *what,
		       struct lethe_strv *out)
{
	int r;

	if (!node)
		return 0;
	r = spec_list(c, node, what);
	for (size_t i = 0; r == 0 && i < node->n; i++) {
		char *glob = NULL;

		r = spec_string(c, node->items[i], what, &glob);
		if (r < 0)
			break;
		if (glob[0] != '/' || strstr(glob, "/../") ||
		    (strlen(glob) >= 3 && !strcmp(glob + strlen(glob) - 3, "/..")))
			r = lethe_node_error(
				c->file, node->items[i],
				"%s pattern '%s' must be an absolute path without '..'", what,
				glob);
		else
			r = lethe_strv_push(out, glob);
		free(glob);
	}
	return r;
}

/* mkfs.erofs (1.5) -z values: lz4, lz4hc, lz4hc,LEVEL with LEVEL 0..12; or none. */
static bool is_compression(const char *s)
{
	char *end;
	long level;

	if (!strcmp(s, "lz4") || !strcmp(s, "lz4hc") || !strcmp(s, "none"))
		return true;
	if (strncmp(s, "lz4hc,", 6) || s[6] < '0' || s[6] > '9')
		return false;
	errno = 0;
	level = strtol(s + 6, &end, 10);
	return !errno && !*end && level >= 0 && level <= 12;
}

static int parse_exclude(struct spec_ctx *c, const struct lethe_node *node)
{
	return parse_globs(c, node, "exclude", &c->spec->exclude);
}

static int parse_include(struct spec_ctx *c, const struct lethe_node *node)
{
	return parse_globs(c, node, "include", &c->spec->include);
}

static int parse_profile(struct spec_ctx *c, const struct lethe_node *node)
{
	int r;

	c->spec->minimal = true;
	if (!node)
		return 0;
	r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "profile");
	if (r < 0)
		return r;
	if (strcmp(node->value, "minimal") && strcmp(node->value, "full"))
		return lethe_node_error(c->file, node,
					"profile must be 'minimal' or 'full', not '%s'",
					node->value);
	c->spec->minimal = !strcmp(node->value, "minimal");
	return 0;
}

static int parse_allow_devices(struct spec_ctx *c, const struct lethe_node *node)
{
	return node ? lethe_node_bool(c->file, node, "allow_devices", &c->spec->allow_devices) : 0;
}

static int parse_compression(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	int r;

	if (!node) {
		spec->compression = strdup("lz4hc");
		return spec->compression ? 0 : -ENOMEM;
	}
	r = spec_string(c, node, "compression", &spec->compression);
	if (r == 0 && !is_compression(spec->compression))
		return lethe_node_error(
			c->file, node,
			"compression must be lz4, lz4hc, lz4hc,LEVEL (0-12) or none, not '%s'",
			spec->compression);
	return r;
}

/* boot: how systemd-boot's menu behaves on the medium (loader.conf). */
#define SPEC_BOOT_TIMEOUT_MAX 600
static int parse_boot(struct spec_ctx *c, const struct lethe_node *node)
{
	static const char *const keys[] = { "timeout", "esp_size", "layout", NULL };
	const struct lethe_node *t;
	uint64_t v = 0;
	int r;

	c->spec->boot_timeout = 0;
	c->spec->boot_esp_mib = 0;
	if (!node)
		return 0;
	r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "boot");
	if (r == 0)
		r = lethe_node_check_keys(c->file, node, keys);
	t = r == 0 ? lethe_node_get(node, "timeout") : NULL;
	if (t)
		r = lethe_node_uint(c->file, t, "boot.timeout", 0, SPEC_BOOT_TIMEOUT_MAX, &v);
	if (r < 0)
		return r;
	c->spec->boot_timeout = (unsigned)v;
	/* boot.esp_size: MiB, fixed (room for UKIs added later); 0 or absent: what the
	 * files need. A size they do not fit in fails the build at the ESP. */
	t = lethe_node_get(node, "esp_size");
	v = 0;
	if (t)
		r = lethe_node_uint(c->file, t, "boot.esp_size", 2, 4096, &v);
	if (r < 0)
		return r;
	c->spec->boot_esp_mib = (unsigned)v;
	t = lethe_node_get(node, "layout");
	return t ? spec_parse_boot_layout(c, t) : 0;
}

/* Sections that other modules interpret keep their nodes (with positions). */
static int keep_firewall(struct spec_ctx *c, const struct lethe_node *node)
{
	c->spec->firewall = node;
	return 0;
}

/* The top level, in the order the sections are parsed: a section may use what an
 * earlier one filled in (files and services name accounts; drop names packages). Each
 * parser is called with its node, or NULL when the spec leaves the section out (it then
 * sets the defaults); a required section that is absent is an error about the root. */
static const struct section {
	const char *key;
	int (*parse)(struct spec_ctx *c, const struct lethe_node *node);
	bool required;
} sections[] = {
	{ "name", parse_name, true },
	{ "version", parse_version, true },
	{ "description", parse_description, false },
	{ "apt", parse_apt, false },
	{ "packages", parse_packages, true },
	{ "drop", parse_drop, false },
	{ "exclude", parse_exclude, false },
	{ "include", parse_include, false },
	{ "profile", parse_profile, false },
	{ "allow_devices", parse_allow_devices, false },
	{ "compression", parse_compression, false },
	{ "accounts", spec_parse_accounts, false },
	{ "files", spec_parse_files, false },
	{ "kernel", spec_parse_kernel, false },
	{ "services", spec_parse_services, false },
	{ "network", spec_parse_network, false },
	{ "firewall", keep_firewall, false },
	{ "memory", spec_parse_memory, false },
	{ "persistence", spec_parse_persistence, false },
	{ "tmpfs", spec_parse_tmpfs, false },
	{ "boot", parse_boot, false },
	{ "session", spec_parse_session, false },
	{ "health", spec_parse_health, false },
	{ "update", spec_parse_update, false },
};

static int parse_root(struct spec_ctx *c, const struct lethe_node *root)
{
	const char *keys[LETHE_ARRAY_SIZE(sections) + 1];
	int r;

	if (root->type != LETHE_NODE_MAPPING)
		return lethe_node_expect(c->file, root, LETHE_NODE_MAPPING, "the spec");
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(sections); i++)
		keys[i] = sections[i].key;
	keys[LETHE_ARRAY_SIZE(sections)] = NULL;
	r = lethe_node_check_keys(c->file, root, keys);
	for (size_t i = 0; r == 0 && i < LETHE_ARRAY_SIZE(sections); i++) {
		const struct lethe_node *node = lethe_node_get(root, sections[i].key);

		if (!node && sections[i].required)
			return lethe_node_error(c->file, root, "missing required key '%s'",
						sections[i].key);
		r = sections[i].parse(c, node);
	}
	return r;
}

int lethe_spec_parse(const char *name, const char *dir, const char *text, size_t len,
		     struct lethe_spec **ret)
{
	struct lethe_spec *spec;
	struct spec_ctx c = { .file = name, .dir = dir };
	int r;

	if (len > LETHE_SPEC_MAX_SIZE)
		return lethe_error(-EBADMSG, "spec '%s': larger than %u bytes", name,
				   LETHE_SPEC_MAX_SIZE);
	spec = calloc(1, sizeof(*spec));
	if (!spec)
		return -ENOMEM;
	c.spec = spec;
	spec->path = strdup(name);
	spec->dir = dir ? strdup(dir) : NULL;
	if (!spec->path || (dir && !spec->dir)) {
		r = -ENOMEM;
		goto fail;
	}
	r = lethe_yaml_parse(name, text, len, &spec->root);
	if (r == -EBADMSG && lethe_error_message_for(r)) {
		/* The YAML layer names the input; a spec's messages all start alike. */
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s", lethe_error_message_for(r));
		r = lethe_error(r, "spec %s", msg);
	}
	if (r < 0)
		goto fail;
	r = parse_root(&c, spec->root);
	if (r < 0)
		goto fail;
	*ret = spec;
	return 0;
fail:
	lethe_spec_free(spec);
	return r;
}

int lethe_spec_load(const char *path, struct lethe_spec **ret)
{
	return lethe_spec_load_flags(path, 0, ret);
}

int lethe_spec_load_flags(const char *path, unsigned flags, struct lethe_spec **ret)
{
	char *text = NULL, *copy = NULL;
	size_t len;
	int r;

	r = lethe_file_read(path, LETHE_SPEC_MAX_SIZE, &text, &len);
	if (r == -EFBIG) /* bad input, as the same text given to lethe_spec_parse() */
		return lethe_error(-EBADMSG, "spec '%s': larger than %u bytes", path,
				   LETHE_SPEC_MAX_SIZE);
	if (r < 0)
		return lethe_error(r, "cannot read spec '%s': %s", path,
				   r == -EINVAL ? "not a regular file" : strerror(-r));
	copy = strdup(path);
	if (!copy) {
		free(text);
		return -ENOMEM;
	}
	r = lethe_spec_parse(path, flags & LETHE_SPEC_LOAD_IN_IMAGE ? NULL : dirname(copy), text,
			     len, ret);
	free(copy);
	free(text);
	return r;
}

static void free_users(struct lethe_spec *spec)
{
	for (size_t i = 0; i < spec->n_users; i++) {
		free(spec->users[i].name);
		free(spec->users[i].home);
		free(spec->users[i].shell);
		lethe_strv_release(&spec->users[i].groups);
	}
	free(spec->users);
	for (size_t i = 0; i < spec->n_groups; i++)
		free(spec->groups[i].name);
	free(spec->groups);
}

static void free_system(struct lethe_spec *spec)
{
	for (size_t i = 0; i < spec->n_files; i++) {
		free(spec->files[i].source);
		free(spec->files[i].destination);
	}
	free(spec->files);
	free(spec->kernel.package);
	lethe_strv_release(&spec->kernel.modules);
	lethe_strv_release(&spec->kernel.cmdline);
	lethe_strv_release(&spec->health_command);
	lethe_strv_release(&spec->health_audit_skip);
	lethe_strv_release(&spec->kernel.unsafe);
	for (size_t i = 0; i < spec->n_services; i++) {
		free(spec->services[i].name);
		lethe_strv_release(&spec->services[i].command);
		free(spec->services[i].user);
		free(spec->services[i].group);
	}
	free(spec->services);
	for (size_t i = 0; i < spec->n_interfaces; i++) {
		free(spec->interfaces[i].name);
		lethe_strv_release(&spec->interfaces[i].addresses);
		free(spec->interfaces[i].gateway4);
		free(spec->interfaces[i].gateway6);
	}
	free(spec->interfaces);
	lethe_strv_release(&spec->dns);
	lethe_spec_vpn_free(spec->vpn);
}

struct lethe_spec *lethe_spec_free(struct lethe_spec *spec)
{
	if (!spec)
		return NULL;
	free(spec->path);
	free(spec->dir);
	free(spec->name);
	free(spec->version);
	free(spec->description);
	free(spec->suite);
	free(spec->architecture);
	lethe_strv_release(&spec->sources);
	lethe_strv_release(&spec->packages);
	lethe_strv_release(&spec->drop);
	lethe_strv_release(&spec->exclude);
	lethe_strv_release(&spec->include);
	free(spec->compression);
	free_users(spec);
	free_system(spec);
	free(spec->hostname);
	free(spec->session.user);
	lethe_strv_release(&spec->session.graphical);
	lethe_spec_persistence_free(spec->persistence);
	lethe_spec_update_free(spec->update);
	lethe_node_free(spec->root);
	free(spec);
	return NULL;
}
