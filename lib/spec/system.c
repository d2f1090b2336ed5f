/* kernel:, services: and network: of the spec: what the booted system runs. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/contract.h>
#include <lethe/core.h>
#include <lethe/hardening.h>

#include "spec-internal.h"

/* kernel.unsafe and kernel.cmdline are checked against the one table of hardening
 * parameters that the build writes and the audit checks (<lethe/hardening.h>). */

static const char *const kernel_keys[] = { "profile", "package", "modules",
					   "cmdline", "unsafe",	 NULL };
static const char *const service_keys[] = { "name", "command", "user", "group", "restart", NULL };
static const char *const network_keys[] = { "hostname", "mac", "interfaces", "dns", "vpn", NULL };
static const char *const interface_keys[] = { "name",	  "addresses", "gateway4",
					      "gateway6", "dhcp",      NULL };

static int parse_unsafe(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_strv *unsafe = &c->spec->kernel.unsafe;
	int r = spec_list(c, node, "kernel.unsafe");

	for (size_t i = 0; r == 0 && i < node->n; i++) {
		const struct lethe_node *item = node->items[i];
		const struct lethe_hardening_param *p;
		const char *def, *hint;

		r = lethe_node_expect(c->file, item, LETHE_NODE_SCALAR, "kernel.unsafe entry");
		if (r < 0)
			break;
		p = lethe_hardening_find(item->value);
		if (!p) {
			const char *cands[LETHE_HARDENING_N_PARAMS + 1] = { NULL };

			for (size_t j = 0, n = 0; j < LETHE_HARDENING_N_PARAMS; j++)
				if (lethe_hardening_params[j].word)
					cands[n++] = lethe_hardening_params[j].word;
			hint = lethe_spell_suggest(item->value, cands);
			if (hint)
				return lethe_node_error(c->file, item,
							"kernel.unsafe '%s' is not a hardening "
							"default (did you mean '%s'?)",
							item->value, hint);
			return lethe_node_error(
				c->file, item,
				"kernel.unsafe '%s' is not a hardening default (see docs/spec.md)",
				item->value);
		}
		def = lethe_hardening_id(p);
		if (lethe_strv_contains(unsafe, def))
			return lethe_node_error(c->file, item, "kernel.unsafe names '%s' twice",
						def);
		r = lethe_strv_push(unsafe, def);
	}
	return r;
}

/* Extra parameters may not sneak a default back out, nor set the root hash. */
static int parse_cmdline(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_strv *cmdline = &c->spec->kernel.cmdline;
	const struct lethe_strv *unsafe = &c->spec->kernel.unsafe;
	const struct lethe_hardening_param *p;
	struct lethe_strv words = { 0 };
	int r;

	if (node->type == LETHE_NODE_SCALAR) {
		char *copy = NULL, *save = NULL;

		r = spec_string(c, node, "kernel.cmdline", &copy);
		for (char *w = r ? NULL : strtok_r(copy, " ", &save); w;
		     w = strtok_r(NULL, " ", &save))
			if ((r = lethe_strv_push(&words, w)) < 0)
				break;
		free(copy);
	} else {
		r = spec_list(c, node, "kernel.cmdline");
		if (r == 0)
			r = lethe_node_strv(c->file, node, "kernel.cmdline", &words);
	}
	for (size_t i = 0; r == 0 && i < words.n; i++) {
		const char *w = words.v[i];

		if (!*w || strpbrk(w, " \t\"") || strlen(w) > 256)
			r = lethe_node_error(c->file, node,
					     "kernel.cmdline parameter '%s' is not a single word",
					     w);
		else if (lethe_cmdline_word_is(w, LETHE_CMDLINE_ROOTHASH))
			r = lethe_node_error(c->file, node,
					     "kernel.cmdline may not set " LETHE_CMDLINE_ROOTHASH
					     ": the build does");
		else if (!strcmp(w, "--"))
			r = lethe_node_error(c->file, node,
					     "kernel.cmdline may not hold '--': what follows it is "
					     "not for the kernel");
		/* Names compare as the kernel's do; the table lists every counter-parameter. */
		else if ((p = lethe_hardening_undone_by(w, (const char *const *)unsafe->v,
							unsafe->n)))
			r = lethe_node_error(
				c->file, node,
				"kernel.cmdline '%s' overrides the hardening default '%s'; "
				"name it in kernel.unsafe instead",
				w, lethe_hardening_id(p));
		if (r == 0)
			r = lethe_strv_push(cmdline, w);
	}
	lethe_strv_release(&words);
	return r;
}

static bool is_module_name(const char *s)
{
	size_t len = strlen(s);

	return len > 0 && len < 56 && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == len;
}

static int parse_modules(struct spec_ctx *c, const struct lethe_node *node)
{
	int r = spec_list(c, node, "kernel.modules");

	for (size_t i = 0; r == 0 && i < node->n; i++) {
		const struct lethe_node *item = node->items[i];

		r = lethe_node_expect(c->file, item, LETHE_NODE_SCALAR, "a kernel module");
		if (r < 0)
			break;
		if (!is_module_name(item->value))
			return lethe_node_error(c->file, item, "'%s' is not a kernel module name",
						item->value);
		if (lethe_strv_contains(&c->spec->kernel.modules, item->value))
			return lethe_node_error(c->file, item, "kernel module '%s' is listed twice",
						item->value);
		r = lethe_strv_push(&c->spec->kernel.modules, item->value);
	}
	return r;
}

int spec_parse_kernel(struct spec_ctx *c, const struct lethe_node *node)
{
	const struct lethe_node *item;
	int r;

	if (!node)
		return 0;
	r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "kernel");
	if (r == 0)
		r = lethe_node_check_keys(c->file, node, kernel_keys);
	if (r < 0)
		return r;
	item = lethe_node_get(node, "package");
	if (item) {
		r = spec_string(c, item, "kernel.package", &c->spec->kernel.package);
		if (r < 0)
			return r;
		if (strlen(item->value) < 2 ||
		    strspn(item->value, "abcdefghijklmnopqrstuvwxyz0123456789+.-") !=
			    strlen(item->value))
			return lethe_node_error(c->file, item,
						"kernel.package '%s' is not a Debian package name",
						item->value);
	}
	if ((r = spec_parse_kernel_profile(c, node)) < 0)
		return r;
	if ((item = lethe_node_get(node, "modules")) && (r = parse_modules(c, item)) < 0)
		return r;
	if ((item = lethe_node_get(node, "unsafe")) && (r = parse_unsafe(c, item)) < 0)
		return r;
	if ((item = lethe_node_get(node, "cmdline")))
		return parse_cmdline(c, item);
	return 0;
}

static int service_command(struct spec_ctx *c, const struct lethe_node *map,
			   struct lethe_spec_service *s)
{
	const struct lethe_node *node = lethe_node_get(map, "command");
	char *copy = NULL, *save = NULL;
	int r;

	if (!node)
		return lethe_node_error(c->file, map, "service '%s' has no command", s->name);
	if (node->type == LETHE_NODE_SCALAR) {
		r = spec_string(c, node, "command", &copy);
		for (char *w = r ? NULL : strtok_r(copy, " ", &save); w;
		     w = strtok_r(NULL, " ", &save))
			if ((r = lethe_strv_push(&s->command, w)) < 0)
				break;
		free(copy);
	} else {
		r = spec_list(c, node, "command");
		for (size_t i = 0; r == 0 && i < node->n; i++) {
			char *arg = NULL;

			r = spec_string(c, node->items[i], "a command argument", &arg);
			if (r == 0)
				r = lethe_strv_push(&s->command, arg);
			free(arg);
		}
	}
	if (r < 0)
		return r;
	if (s->command.n == 0 || !spec_path_is_absolute_clean(s->command.v[0]))
		return lethe_node_error(c->file, node,
					"command of service '%s' must start with an absolute path",
					s->name);
	return 0;
}

static int service_account(struct spec_ctx *c, const struct lethe_node *map,
			   struct lethe_spec_service *s)
{
	const struct lethe_node *node = lethe_node_get(map, "user");
	const struct lethe_spec_user *u;
	const struct lethe_spec_group *g;
	int r;

	if (node) {
		r = spec_string(c, node, "user", &s->user);
		if (r < 0)
			return r;
	} else if (!(s->user = strdup("root"))) {
		return -ENOMEM;
	}
	u = spec_find_user(c->spec, s->user);
	if (!u)
		return lethe_node_error(c->file, node,
					"user '%s' of service '%s' is not in accounts", s->user,
					s->name);
	node = lethe_node_get(map, "group");
	if (!node) {
		g = spec_find_gid(c->spec, u->gid);
		s->group = strdup(g ? g->name : "root");
		return s->group ? 0 : -ENOMEM;
	}
	r = spec_string(c, node, "group", &s->group);
	if (r == 0 && !spec_find_group(c->spec, s->group))
		return lethe_node_error(c->file, node,
					"group '%s' of service '%s' is not in accounts", s->group,
					s->name);
	return r;
}

static int parse_service(struct spec_ctx *c, const struct lethe_node *map,
			 struct lethe_spec_service *s)
{
	const struct lethe_node *node;
	size_t len;
	int r;

	s->line = map->line;
	s->restart = true;
	r = lethe_node_check_keys(c->file, map, service_keys);
	if (r == 0)
		r = spec_required_string(c, map, "name", &s->name);
	if (r < 0)
		return r;
	len = strlen(s->name);
	if (len > 64 ||
	    !((s->name[0] >= 'a' && s->name[0] <= 'z') ||
	      (s->name[0] >= '0' && s->name[0] <= '9')) ||
	    strspn(s->name, "abcdefghijklmnopqrstuvwxyz0123456789_.-") != len)
		return lethe_node_error(c->file, lethe_node_get(map, "name"),
					"service name '%s' must match [a-z0-9][a-z0-9_.-]*",
					s->name);
	for (const struct lethe_spec_service *o = c->spec->services; o < s; o++)
		if (!strcmp(o->name, s->name))
			return lethe_node_error(c->file, lethe_node_get(map, "name"),
						"service '%s' is declared twice (first on line %u)",
						s->name, o->line);
	r = service_command(c, map, s);
	if (r == 0)
		r = service_account(c, map, s);
	node = lethe_node_get(map, "restart");
	if (r == 0 && node)
		r = lethe_node_bool(c->file, node, "restart", &s->restart);
	return r;
}

int spec_parse_services(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	int r;

	if (!node)
		return 0;
	r = spec_list(c, node, "services");
	if (r < 0)
		return r;
	/* lethe-init supervises a fixed table of services (<lethe/contract.h>). */
	if (node->n > LETHE_MAX_SERVICES)
		return lethe_error(-EBADMSG, "spec '%s' line %u: %zu services, at most %d", c->file,
				   node->items[LETHE_MAX_SERVICES]->line, node->n,
				   LETHE_MAX_SERVICES);
	spec->services = calloc(node->n ? node->n : 1, sizeof(*spec->services));
	if (!spec->services)
		return -ENOMEM;
	for (size_t i = 0; i < node->n; i++) {
		r = lethe_node_expect(c->file, node->items[i], LETHE_NODE_MAPPING, "a service");
		if (r < 0)
			return r;
		spec->n_services++;
		r = parse_service(c, node->items[i], &spec->services[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ADDRESS/PREFIX with the prefix in range for the family. */
bool spec_is_cidr(const char *s)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *slash = strchr(s, '/');
	size_t len;
	char *end;
	long prefix;
	int family;

	if (!slash || (len = (size_t)(slash - s)) >= sizeof(addr) || !slash[1] ||
	    strspn(slash + 1, "0123456789") != strlen(slash + 1) || strlen(slash + 1) > 3)
		return false;
	memcpy(addr, s, len);
	addr[len] = '\0';
	family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, addr, buf) != 1)
		return false;
	prefix = strtol(slash + 1, &end, 10);
	return prefix >= 0 && prefix <= (family == AF_INET ? 32 : 128);
}

static int gateway(struct spec_ctx *c, const struct lethe_node *map, const char *key, int family,
		   char **ret)
{
	const struct lethe_node *node = lethe_node_get(map, key);
	unsigned char buf[sizeof(struct in6_addr)];
	int r;

	if (!node)
		return 0;
	r = spec_string(c, node, key, ret);
	if (r == 0 && inet_pton(family, *ret, buf) != 1)
		return lethe_node_error(c->file, node, "%s '%s' is not an IPv%c address", key, *ret,
					family == AF_INET ? '4' : '6');
	return r;
}

static int parse_interface(struct spec_ctx *c, const struct lethe_node *map,
			   struct lethe_spec_interface *iface)
{
	const struct lethe_node *node;
	size_t len;
	int r;

	iface->line = map->line;
	r = lethe_node_check_keys(c->file, map, interface_keys);
	if (r == 0)
		r = spec_required_string(c, map, "name", &iface->name);
	if (r < 0)
		return r;
	len = strlen(iface->name);
	/* IFNAMSIZ is 16 with the NUL. */
	if (len > 15 || !strcmp(iface->name, ".") || !strcmp(iface->name, "..") ||
	    strspn(iface->name,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != len)
		return lethe_node_error(
			c->file, lethe_node_get(map, "name"),
			"interface name '%s' must be 1-15 characters of [A-Za-z0-9_.-]",
			iface->name);
	for (const struct lethe_spec_interface *o = c->spec->interfaces; o < iface; o++)
		if (!strcmp(o->name, iface->name))
			return lethe_node_error(
				c->file, lethe_node_get(map, "name"),
				"interface '%s' is declared twice (first on line %u)", iface->name,
				o->line);
	node = lethe_node_get(map, "addresses");
	if (node) {
		r = spec_list(c, node, "addresses");
		for (size_t i = 0; r == 0 && i < node->n; i++) {
			r = lethe_node_expect(c->file, node->items[i], LETHE_NODE_SCALAR,
					      "an address");
			if (r == 0 && !spec_is_cidr(node->items[i]->value))
				r = lethe_node_error(c->file, node->items[i],
						     "address '%s' must be ADDRESS/PREFIX (IPv4 "
						     "prefix 0-32, IPv6 0-128)",
						     node->items[i]->value);
			if (r == 0)
				r = lethe_strv_push(&iface->addresses, node->items[i]->value);
		}
		if (r < 0)
			return r;
	}
	r = gateway(c, map, "gateway4", AF_INET, &iface->gateway4);
	if (r == 0)
		r = gateway(c, map, "gateway6", AF_INET6, &iface->gateway6);
	if (r == 0)
		r = spec_parse_dhcp(c, map, iface); /* dhcp.c */
	return r;
}

/* RFC 1123 host name: dot-separated labels of [a-z0-9-], not starting or ending in '-'. */
static bool is_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char ch = s[i];

		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-') ||
		    (label == 0 && ch == '-'))
			return false;
		label++;
	}
	return true;
}

/* network.mac: what lethe-init does to each card's address before it goes up. */
static int parse_mac_mode(struct spec_ctx *c, const struct lethe_node *item,
			  enum lethe_mac_mode *ret)
{
	char *word = NULL;
	int r = spec_string(c, item, "network.mac", &word);

	if (r == 0 && lethe_mac_mode_from_name(word, ret) < 0)
		r = lethe_node_error(
			c->file, item,
			"network.mac '%s' is not random, random-keep-vendor or permanent", word);
	free(word);
	return r;
}

int spec_parse_network(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	const struct lethe_node *item;
	int r;

	if (node && node->type == LETHE_NODE_SCALAR && node->value &&
	    strcmp(node->value, "none") == 0) {
		spec->network_none = true; /* air-gapped: no interface at all */
		node = NULL;
	}
	if (node) {
		r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "network");
		if (r == 0)
			r = lethe_node_check_keys(c->file, node, network_keys);
		if (r < 0)
			return r;
	}
	item = lethe_node_get(node, "hostname");
	if (item) {
		r = spec_string(c, item, "hostname", &spec->hostname);
		if (r == 0 && !is_hostname(spec->hostname))
			return lethe_node_error(c->file, item,
						"hostname '%s' is not a valid host name",
						spec->hostname);
		if (r < 0)
			return r;
	} else if (!(spec->hostname = strdup(spec->name))) {
		return -ENOMEM;
	}
	item = lethe_node_get(node, "mac");
	if (item && (r = parse_mac_mode(c, item, &spec->mac)) < 0)
		return r;
	item = lethe_node_get(node, "interfaces");
	if (!item) {
		r = spec_parse_dns(c, lethe_node_get(node, "dns"));
		if (r == 0)
			r = spec_parse_vpn(c, lethe_node_get(node, "vpn")); /* vpn.c */
		return r;
	}
	r = spec_list(c, item, "network.interfaces");
	if (r < 0)
		return r;
	spec->interfaces = calloc(item->n ? item->n : 1, sizeof(*spec->interfaces));
	if (!spec->interfaces)
		return -ENOMEM;
	for (size_t i = 0; i < item->n; i++) {
		r = lethe_node_expect(c->file, item->items[i], LETHE_NODE_MAPPING, "an interface");
		if (r < 0)
			return r;
		spec->n_interfaces++;
		r = parse_interface(c, item->items[i], &spec->interfaces[i]);
		if (r < 0)
			return r;
	}
	r = spec_parse_dns(c, lethe_node_get(node, "dns"));
	if (r == 0)
		r = spec_parse_vpn(c, lethe_node_get(node, "vpn")); /* vpn.c */
	return r;
}

/* tmpfs: the bounds of the RAM file systems lethe-init mounts; defaults from the
 * contract. */
static const struct {
	const char *key, *size, *inodes;
} tmpfs_mounts[LETHE_SPEC_TMPFS_N] = {
	[LETHE_SPEC_TMPFS_ROOT] = { "root", LETHE_TMPFS_ROOT_SIZE, LETHE_TMPFS_ROOT_INODES },
	[LETHE_SPEC_TMPFS_TMP] = { "tmp", LETHE_TMPFS_TMP_SIZE, LETHE_TMPFS_TMP_INODES },
	[LETHE_SPEC_TMPFS_SHM] = { "shm", LETHE_TMPFS_SHM_SIZE, LETHE_TMPFS_SHM_INODES },
	[LETHE_SPEC_TMPFS_RUN] = { "run", LETHE_TMPFS_RUN_SIZE, LETHE_TMPFS_RUN_INODES },
};
static const char *const tmpfs_keys[] = { "root", "tmp", "shm", "run", NULL };
static const char *const tmpfs_bound_keys[] = { "size", "inodes", NULL };
#define TMPFS_MIN_BYTES	 (1ull << 20)
#define TMPFS_MAX_BYTES	 (1ull << 50)
#define TMPFS_MIN_INODES 64
#define TMPFS_MAX_INODES (1ull << 24)

/* "N%" (1-LETHE_TMPFS_MAX_PERCENT; its percentage in *percent) or "N", "Nk", "Nm", "Ng"
 * of at least 1 MiB (*percent 0). */
static bool tmpfs_size(const char *s, unsigned *percent)
{
	size_t digits = strspn(s, "0123456789");
	unsigned long long n = 0, unit = 1;

	if (digits == 0 || digits > 15 || (s[0] == '0' && digits > 1))
		return false;
	for (size_t i = 0; i < digits; i++)
		n = n * 10 + (unsigned)(s[i] - '0');
	*percent = 0;
	if (s[digits] == '%' && !s[digits + 1]) {
		*percent = (unsigned)n;
		return n >= 1 && n <= LETHE_TMPFS_MAX_PERCENT;
	}
	if (s[digits] && s[digits + 1])
		return false;
	switch (s[digits]) {
	case '\0':
		break;
	case 'k':
	case 'K':
		unit = 1ull << 10;
		break;
	case 'm':
	case 'M':
		unit = 1ull << 20;
		break;
	case 'g':
	case 'G':
		unit = 1ull << 30;
		break;
	default:
		return false;
	}
	return n <= TMPFS_MAX_BYTES / unit && n * unit >= TMPFS_MIN_BYTES;
}

static int parse_tmpfs_bound(struct spec_ctx *c, const struct lethe_node *map, size_t i,
			     unsigned *percent)
{
	struct lethe_spec_tmpfs *t = &c->spec->tmpfs[i];
	const struct lethe_node *node;
	char what[32];
	uint64_t inodes;
	int r;

	r = lethe_node_expect(c->file, map, LETHE_NODE_MAPPING, "a tmpfs bound");
	if (r == 0)
		r = lethe_node_check_keys(c->file, map, tmpfs_bound_keys);
	if (r < 0)
		return r;
	node = lethe_node_get(map, "size");
	if (node) {
		snprintf(what, sizeof(what), "tmpfs.%s.size", tmpfs_mounts[i].key);
		r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, what);
		if (r < 0)
			return r;
		if (strlen(node->value) >= sizeof(t->size) || !tmpfs_size(node->value, percent))
			return lethe_node_error(c->file, node,
						"%s must be 1%%-%d%% of RAM or at least 1m "
						"(bytes with k, m or g), not '%s'",
						what, LETHE_TMPFS_MAX_PERCENT, node->value);
		snprintf(t->size, sizeof(t->size), "%s", node->value);
	}
	node = lethe_node_get(map, "inodes");
	if (node) {
		snprintf(what, sizeof(what), "tmpfs.%s.inodes", tmpfs_mounts[i].key);
		r = lethe_node_uint(c->file, node, what, TMPFS_MIN_INODES, TMPFS_MAX_INODES,
				    &inodes);
		if (r < 0)
			return r;
		snprintf(t->inodes, sizeof(t->inodes), "%llu", (unsigned long long)inodes);
	}
	return 0;
}

int spec_parse_tmpfs(struct spec_ctx *c, const struct lethe_node *node)
{
	unsigned total = 0, percent;
	int r;

	for (size_t i = 0; i < LETHE_SPEC_TMPFS_N; i++) {
		snprintf(c->spec->tmpfs[i].size, sizeof(c->spec->tmpfs[i].size), "%s",
			 tmpfs_mounts[i].size);
		snprintf(c->spec->tmpfs[i].inodes, sizeof(c->spec->tmpfs[i].inodes), "%s",
			 tmpfs_mounts[i].inodes);
	}
	if (node) {
		r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "tmpfs");
		if (r == 0)
			r = lethe_node_check_keys(c->file, node, tmpfs_keys);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < LETHE_SPEC_TMPFS_N; i++) {
		const struct lethe_node *map = lethe_node_get(node, tmpfs_mounts[i].key);

		if (map && (r = parse_tmpfs_bound(c, map, i, &percent)) < 0)
			return r;
		if (!tmpfs_size(c->spec->tmpfs[i].size, &percent))
			return -EINVAL; /* a default the contract got wrong */
		total += percent;
	}
	if (total > LETHE_TMPFS_MAX_PERCENT)
		return lethe_node_error(c->file, node,
					"the tmpfs sizes add up to %u%% of RAM, at most %d%% (the "
					"rest is for the kernel and PID 1)",
					total, LETHE_TMPFS_MAX_PERCENT);
	return 0;
}
