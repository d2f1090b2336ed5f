/* Typed access to lethe_node trees for section interpreters, with one-line errors
 * that name the file, line and column, and a "did you mean" for misspelt keys. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/spec.h>

int lethe_node_error(const char *file, const struct lethe_node *node, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!node)
		return lethe_error(-EBADMSG, "spec '%s': %s", file, msg);
	return lethe_error(-EBADMSG, "spec '%s' line %u column %u: %s", file, node->line,
			   node->column, msg);
}

struct lethe_node *lethe_node_get(const struct lethe_node *map, const char *key)
{
	if (!map || map->type != LETHE_NODE_MAPPING)
		return NULL;
	for (size_t i = 0; i < map->n; i++)
		if (strcmp(map->pairs[i].key->value, key) == 0)
			return map->pairs[i].value;
	return NULL;
}

static const char *type_name(enum lethe_node_type type)
{
	switch (type) {
	case LETHE_NODE_SCALAR:
		return "a scalar";
	case LETHE_NODE_SEQUENCE:
		return "a list";
	case LETHE_NODE_MAPPING:
		return "a mapping";
	}
	return "?";
}

int lethe_node_expect(const char *file, const struct lethe_node *node, enum lethe_node_type type,
		      const char *what)
{
	if (node && node->type == type)
		return 0;
	if (!node)
		return lethe_node_error(file, NULL, "%s is missing", what);
	return lethe_node_error(file, node, "%s must be %s, not %s", what, type_name(type),
				type_name(node->type));
}

int lethe_node_check_keys(const char *file, const struct lethe_node *map,
			  const char *const *allowed)
{
	for (size_t i = 0; map && map->type == LETHE_NODE_MAPPING && i < map->n; i++) {
		const struct lethe_node *key = map->pairs[i].key;
		const char *hint;
		bool known = false;

		for (size_t j = 0; allowed[j] && !known; j++)
			known = strcmp(key->value, allowed[j]) == 0;
		if (known)
			continue;
		hint = lethe_spell_suggest(key->value, allowed);
		if (hint)
			return lethe_node_error(file, key, "unknown key '%s' (did you mean '%s'?)",
						key->value, hint);
		return lethe_node_error(file, key, "unknown key '%s'", key->value);
	}
	return 0;
}

int lethe_node_bool(const char *file, const struct lethe_node *node, const char *what, bool *ret)
{
	int r = lethe_node_expect(file, node, LETHE_NODE_SCALAR, what);

	if (r < 0)
		return r;
	if (!strcmp(node->value, "true")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(node->value, "false")) {
		*ret = false;
		return 0;
	}
	return lethe_node_error(file, node, "%s must be true or false, not '%s'", what,
				node->value);
}

int lethe_node_uint(const char *file, const struct lethe_node *node, const char *what, uint64_t min,
		    uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;
	const char *p;
	int r = lethe_node_expect(file, node, LETHE_NODE_SCALAR, what);

	if (r < 0)
		return r;
	p = node->value;
	if (!*p)
		goto bad;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			goto bad;
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min || v > max)
		goto bad;
	*ret = v;
	return 0;
bad:
	return lethe_node_error(file, node, "%s must be a number from %llu to %llu, not '%s'", what,
				(unsigned long long)min, (unsigned long long)max, node->value);
}

int lethe_node_strv(const char *file, const struct lethe_node *node, const char *what,
		    struct lethe_strv *strv)
{
	if (!node)
		return lethe_node_error(file, NULL, "%s is missing", what);
	if (node->type == LETHE_NODE_SCALAR)
		return lethe_strv_push(strv, node->value);
	if (node->type != LETHE_NODE_SEQUENCE)
		return lethe_node_error(file, node, "%s must be a string or a list of strings",
					what);
	for (size_t i = 0; i < node->n; i++) {
		int r;

		if (node->items[i]->type != LETHE_NODE_SCALAR)
			return lethe_node_error(file, node->items[i],
						"%s must be a string or a list of strings", what);
		r = lethe_strv_push(strv, node->items[i]->value);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Levenshtein distance, counting a swap of two neighbours as one edit (the optimal
 * string alignment variant), in three rows; longer words are never suggested. */
#define SPELL_MAX 64

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t rows[3][SPELL_MAX + 1], *prev2 = rows[0], *prev = rows[1], *cur = rows[2];

	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
		t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

const char *lethe_spell_suggest(const char *word, const char *const *candidates)
{
	size_t len = strlen(word), best = SIZE_MAX, limit;
	const char *hint = NULL;

	if (len == 0 || len > SPELL_MAX)
		return NULL;
	/* About one edit in three characters, and never a word that shares nothing with
	 * this one: "pakages" finds "packages", "n" does not find "b". */
	limit = len / 3 < 1 ? 1 : len / 3;
	for (size_t i = 0; candidates[i]; i++) {
		size_t d;

		if (strlen(candidates[i]) > SPELL_MAX)
			continue;
		d = edit_distance(word, candidates[i]);
		if (d <= limit && d < len && d < best) {
			best = d;
			hint = candidates[i];
		}
	}
	return hint;
}
