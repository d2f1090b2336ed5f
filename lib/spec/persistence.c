/* persistence: and memory: of the spec: which directories an opted-in image keeps on
 * an encrypted store, where the store is, how it is unlocked and what the unlock may
 * cost; memory: is the RAM the image is meant for, which bounds that cost. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec-internal.h"

static const char *const persistence_keys[] = { "device", "directories", "unlock", "keyfile",
						"cipher", "kdf",	 NULL };
static const char *const keyfile_keys[] = { "device", "path", NULL };
static const char *const kdf_keys[] = { "memory", "iterations", "parallel", NULL };

/* The only trees that may persist, and what inside them may not (the spec copy that
 * the audit judges the system by, and the package database the scanners read). */
static const char *const persist_roots[] = { "/home", "/root", "/etc", "/var" };
static const char *const persist_whole[] = { "/home", "/root" }; /* the tree itself too */
static const char *const persist_never[] = { "/etc/lethe", "/var/lib/dpkg" };

#define MIB (1024ull * 1024)

/* "N", "Nk", "Nm" or "Ng" (bytes); false when malformed or above max. */
static int parse_size(struct spec_ctx *c, const struct lethe_node *node, const char *what,
		      uint64_t min, uint64_t max, uint64_t *ret)
{
	int r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, what);

	if (r < 0)
		return r;
	if (!spec_bytes(node->value, max, ret) || *ret < min)
		return lethe_node_error(c->file, node,
					"%s must be %llu MiB to %llu MiB (bytes with k, m or g), "
					"not '%s'",
					what, (unsigned long long)(min / MIB),
					(unsigned long long)(max / MIB), node->value);
	return 0;
}

/* memory: the RAM of the smallest machine the image is for (the default is what
 * `lethe run` gives a guest). */
int spec_parse_memory(struct spec_ctx *c, const struct lethe_node *node)
{
	uint64_t v;
	int r;

	c->spec->memory_mib = LETHE_SPEC_MEMORY_DEFAULT_MIB;
	if (!node)
		return 0;
	r = parse_size(c, node, "memory", LETHE_SPEC_MEMORY_MIN_MIB * MIB,
		       LETHE_SPEC_MEMORY_MAX_MIB * MIB, &v);
	if (r == 0)
		c->spec->memory_mib = v / MIB;
	return r;
}

static bool has_prefix_dir(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

static int check_directory(struct spec_ctx *c, const struct lethe_node *node, const char *d)
{
	bool under = false, whole_ok = false;

	if (!spec_path_is_absolute_clean(d) || strlen(d) > LETHE_SPEC_PERSIST_PATH_MAX)
		return lethe_node_error(c->file, node,
					"persistence directory '%s' must be an absolute path "
					"without '.', '..', '//' or a trailing '/' (at most %d "
					"bytes)",
					d, LETHE_SPEC_PERSIST_PATH_MAX);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(persist_roots); i++)
		under |= has_prefix_dir(d, persist_roots[i]);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(persist_whole); i++)
		whole_ok |= !strcmp(d, persist_whole[i]);
	if (!under)
		return lethe_node_error(c->file, node,
					"persistence directory '%s' is not under /home, /root, "
					"/etc or /var: nothing else may persist",
					d);
	if (!whole_ok && (!strcmp(d, "/etc") || !strcmp(d, "/var")))
		return lethe_node_error(c->file, node,
					"persistence directory '%s' would keep all of %s; name "
					"the directories inside it that must persist",
					d, d);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(persist_never); i++)
		if (has_prefix_dir(d, persist_never[i]) || has_prefix_dir(persist_never[i], d))
			return lethe_node_error(c->file, node,
						"persistence directory '%s' would keep %s, which "
						"must come from the verified image",
						d, persist_never[i]);
	return 0;
}

static int parse_directories(struct spec_ctx *c, const struct lethe_node *map,
			     struct lethe_spec_persistence *p)
{
	const struct lethe_node *node = lethe_node_get(map, "directories");
	int r;

	if (!node)
		return lethe_node_error(c->file, map, "missing required key 'directories'");
	r = spec_list(c, node, "persistence.directories");
	if (r == 0 && (node->n == 0 || node->n > LETHE_SPEC_PERSIST_MAX_DIRS))
		return lethe_node_error(c->file, node,
					"persistence.directories must list 1 to %d directories",
					LETHE_SPEC_PERSIST_MAX_DIRS);
	for (size_t i = 0; r == 0 && i < node->n; i++) {
		const struct lethe_node *item = node->items[i];

		r = lethe_node_expect(c->file, item, LETHE_NODE_SCALAR, "a persistence directory");
		if (r == 0)
			r = check_directory(c, item, item->value);
		/* One inside another would be bound twice: say which one to keep. */
		for (size_t j = 0; r == 0 && j < i; j++)
			if (has_prefix_dir(item->value, node->items[j]->value) ||
			    has_prefix_dir(node->items[j]->value, item->value))
				return lethe_node_error(c->file, item,
							"persistence directory '%s' overlaps "
							"'%s' (line %u); list only the outer one",
							item->value, node->items[j]->value,
							node->items[j]->line);
		if (r == 0)
			r = lethe_strv_push(&p->directories, item->value);
	}
	return r;
}

int lethe_spec_persist_device_parse(const char *s, enum lethe_spec_persist_by *ret_by,
				    const char **ret_id)
{
	const char *id;
	size_t n;

	if (!strncmp(s, "UUID=", 5)) {
		id = s + 5;
		n = strlen(id);
		if (n != 36)
			return -EINVAL;
		for (size_t i = 0; i < n; i++) {
			bool dash = i == 8 || i == 13 || i == 18 || i == 23;

			if (dash ? id[i] != '-' : !strchr("0123456789abcdef", id[i]) || !id[i])
				return -EINVAL;
		}
		*ret_by = LETHE_SPEC_PERSIST_BY_UUID;
	} else if (!strncmp(s, "PARTLABEL=", 10)) {
		id = s + 10;
		n = strlen(id);
		/* A GPT name holds 36 UTF-16 units; ASCII keeps it one spelling everywhere. */
		if (n == 0 || n > 36 ||
		    strspn(id,
			   "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
			    n)
			return -EINVAL;
		*ret_by = LETHE_SPEC_PERSIST_BY_PARTLABEL;
	} else {
		return -EINVAL;
	}
	*ret_id = id;
	return 0;
}

static int parse_device(struct spec_ctx *c, const struct lethe_node *map, const char *what,
			char **ret)
{
	const struct lethe_node *node = lethe_node_get(map, "device");
	enum lethe_spec_persist_by by;
	const char *id;
	int r;

	if (!node)
		return lethe_node_error(c->file, map, "missing required key 'device'");
	r = spec_string(c, node, what, ret);
	if (r == 0 && lethe_spec_persist_device_parse(*ret, &by, &id) < 0)
		return lethe_node_error(c->file, node,
					"%s '%s' must be UUID=<LUKS UUID, lowercase> or "
					"PARTLABEL=<1-36 of [A-Za-z0-9._-]>",
					what, *ret);
	return r;
}

static int parse_unlock(struct spec_ctx *c, const struct lethe_node *map,
			struct lethe_spec_persistence *p)
{
	const struct lethe_node *node = lethe_node_get(map, "unlock");
	const struct lethe_node *kf = lethe_node_get(map, "keyfile");
	int r;

	p->unlock = LETHE_SPEC_UNLOCK_PASSPHRASE;
	if (node) {
		r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "persistence.unlock");
		if (r < 0)
			return r;
		if (!strcmp(node->value, "keyfile"))
			p->unlock = LETHE_SPEC_UNLOCK_KEYFILE;
		else if (strcmp(node->value, "passphrase"))
			return lethe_node_error(c->file, node,
						"persistence.unlock must be 'passphrase' or "
						"'keyfile', not '%s'",
						node->value);
	}
	if (p->unlock == LETHE_SPEC_UNLOCK_PASSPHRASE) {
		if (kf)
			return lethe_node_error(c->file, kf,
						"persistence.keyfile needs 'unlock: keyfile'");
		return 0;
	}
	if (!kf)
		return lethe_node_error(c->file, node,
					"'unlock: keyfile' needs persistence.keyfile (device and "
					"path)");
	r = lethe_node_expect(c->file, kf, LETHE_NODE_MAPPING, "persistence.keyfile");
	if (r == 0)
		r = lethe_node_check_keys(c->file, kf, keyfile_keys);
	if (r == 0)
		r = parse_device(c, kf, "persistence.keyfile.device", &p->keyfile_device);
	if (r == 0)
		r = spec_required_string(c, kf, "path", &p->keyfile_path);
	if (r == 0 && (!spec_path_is_absolute_clean(p->keyfile_path) ||
		       strlen(p->keyfile_path) > LETHE_SPEC_PERSIST_PATH_MAX))
		return lethe_node_error(c->file, lethe_node_get(kf, "path"),
					"persistence.keyfile.path '%s' must be an absolute path "
					"on the key device, without '.' or '..'",
					p->keyfile_path);
	if (r == 0 && !strcmp(p->keyfile_device, p->device))
		return lethe_node_error(c->file, kf,
					"persistence.keyfile.device must be a second device, not "
					"the store");
	return r;
}

static int parse_cipher(struct spec_ctx *c, const struct lethe_node *map,
			struct lethe_spec_persistence *p)
{
	const struct lethe_node *node = lethe_node_get(map, "cipher");
	int r;

	p->cipher = LETHE_SPEC_CIPHER_AUTO;
	if (!node)
		return 0;
	r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "persistence.cipher");
	if (r < 0)
		return r;
	if (!strcmp(node->value, "aes-xts"))
		p->cipher = LETHE_SPEC_CIPHER_AES_XTS;
	else if (!strcmp(node->value, "adiantum"))
		p->cipher = LETHE_SPEC_CIPHER_ADIANTUM;
	else if (strcmp(node->value, "auto"))
		return lethe_node_error(c->file, node,
					"persistence.cipher must be auto, aes-xts or adiantum, not "
					"'%s'",
					node->value);
	return 0;
}

/* The Argon2id cost, checked against memory: (parsed before this section). */
static int parse_kdf(struct spec_ctx *c, const struct lethe_node *map,
		     struct lethe_spec_persistence *p)
{
	const struct lethe_node *kdf = lethe_node_get(map, "kdf"), *node;
	uint64_t v, limit;
	int r = 0;

	p->kdf_memory_kib = LETHE_SPEC_KDF_MEMORY_DEFAULT_MIB * 1024;
	p->kdf_iterations = LETHE_SPEC_KDF_ITERATIONS_DEFAULT;
	p->kdf_parallel = 1;
	if (kdf) {
		r = lethe_node_expect(c->file, kdf, LETHE_NODE_MAPPING, "persistence.kdf");
		if (r == 0)
			r = lethe_node_check_keys(c->file, kdf, kdf_keys);
		if (r < 0)
			return r;
	}
	node = lethe_node_get(kdf, "memory");
	if (node) {
		r = parse_size(c, node, "persistence.kdf.memory",
			       LETHE_SPEC_KDF_MEMORY_MIN_MIB * MIB,
			       LETHE_SPEC_KDF_MEMORY_MAX_MIB * MIB, &v);
		if (r < 0)
			return r;
		p->kdf_memory_kib = (uint32_t)(v / 1024);
	}
	node = lethe_node_get(kdf, "iterations");
	if (node) {
		r = lethe_node_uint(c->file, node, "persistence.kdf.iterations",
				    LETHE_SPEC_KDF_ITERATIONS_MIN, LETHE_SPEC_KDF_ITERATIONS_MAX,
				    &v);
		if (r < 0)
			return r;
		p->kdf_iterations = (uint32_t)v;
	}
	node = lethe_node_get(kdf, "parallel");
	if (node) {
		r = lethe_node_uint(c->file, node, "persistence.kdf.parallel", 1,
				    LETHE_SPEC_KDF_PARALLEL_MAX, &v);
		if (r < 0)
			return r;
		p->kdf_parallel = (uint32_t)v;
	}
	limit = lethe_spec_kdf_memory_limit_kib(c->spec->memory_mib);
	if (p->kdf_memory_kib > limit)
		return lethe_node_error(
			c->file, kdf ? kdf : map,
			"persistence.kdf.memory %u MiB cannot be met by memory %llu "
			"MiB: Argon2id may use at most half of the image's RAM "
			"(%llu MiB) to unlock; lower kdf.memory or raise memory",
			p->kdf_memory_kib / 1024, (unsigned long long)c->spec->memory_mib,
			(unsigned long long)(limit / 1024));
	return 0;
}

uint64_t lethe_spec_kdf_memory_limit_kib(uint64_t memory_mib)
{
	return memory_mib * 1024 / 2;
}

/* The programs the boot needs for the store come from the image's own packages, the
 * kernel modules from its kernel. */
static int add_packages(struct spec_ctx *c, const struct lethe_node *map)
{
	static const char *const need[] = { LETHE_SPEC_PERSIST_PACKAGES };
	int r = 0;

	/* dm-crypt and the ciphers, loaded in stage 1 before the module lock; ecb is a
	 * softdep of xts that a modules.dep closure misses. */
	static const char *const modules[] = { LETHE_SPEC_PERSIST_MODULES };

	for (size_t i = 0; r == 0 && c->spec->kernel.package && i < LETHE_ARRAY_SIZE(modules); i++)
		if (!lethe_strv_contains(&c->spec->kernel.modules, modules[i]))
			r = lethe_strv_push(&c->spec->kernel.modules, modules[i]);
	for (size_t i = 0; r == 0 && i < LETHE_ARRAY_SIZE(need); i++) {
		if (lethe_strv_contains(&c->spec->drop, need[i]))
			return lethe_node_error(c->file, map,
						"persistence needs package '%s', which drop "
						"removes",
						need[i]);
		if (!lethe_strv_contains(&c->spec->packages, need[i]))
			r = lethe_strv_push(&c->spec->packages, need[i]);
	}
	return r;
}

struct lethe_spec_persistence *lethe_spec_persistence_free(struct lethe_spec_persistence *p)
{
	if (!p)
		return NULL;
	free(p->device);
	free(p->keyfile_device);
	free(p->keyfile_path);
	lethe_strv_release(&p->directories);
	free(p);
	return NULL;
}

int spec_parse_persistence(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec_persistence *p;
	int r;

	if (!node)
		return 0; /* off: nothing persists */
	r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "persistence");
	if (r == 0)
		r = lethe_node_check_keys(c->file, node, persistence_keys);
	if (r < 0)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->line = node->line;
	r = parse_device(c, node, "persistence.device", &p->device);
	if (r == 0)
		r = parse_directories(c, node, p);
	if (r == 0)
		r = parse_unlock(c, node, p);
	if (r == 0)
		r = parse_cipher(c, node, p);
	if (r == 0)
		r = parse_kdf(c, node, p);
	if (r == 0)
		r = add_packages(c, node);
	if (r < 0) {
		lethe_spec_persistence_free(p);
		return r;
	}
	c->spec->persistence = p;
	return 0;
}
