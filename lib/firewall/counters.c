/* The counters of table inet lethe: how many packets each counting rule saw. The drop
 * rules count (`ct state invalid counter drop`, and a last `counter` before each drop
 * policy, which sees every packet the policy then drops), so `lethe firewall stats` and
 * the audit can show that something tried to get out or in. Read from libnftables'
 * JSON (`nft -j list ruleset`), where a rule's counter is an expression
 * {"counter": {"packets": N, "bytes": M}} and its name the rule's comment. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "firewall-internal.h"

#define MAX_COUNTERS 65536

static bool u64_of(struct json_object *o, const char *key, uint64_t *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*ret = json_object_get_uint64(v);
	return true;
}

/* The rule's counter expression, or NULL. */
static struct json_object *rule_counter(struct json_object *rule)
{
	struct json_object *expr, *c;

	if (!json_object_object_get_ex(rule, "expr", &expr) ||
	    !json_object_is_type(expr, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(expr); i++)
		if (json_object_object_get_ex(json_object_array_get_idx(expr, i), "counter", &c) &&
		    json_object_is_type(c, json_type_object))
			return c;
	return NULL;
}

static int push(struct lethe_firewall_counters *cs, struct json_object *rule,
		struct json_object *counter)
{
	const char *chain = fw_json_string(rule, "chain"),
		   *comment = fw_json_string(rule, "comment");
	struct lethe_firewall_counter *v, *x;
	struct json_object *handle;
	char name[64];

	if (!chain)
		return -EBADMSG;
	if (cs->n >= MAX_COUNTERS)
		return -E2BIG;
	if (!comment) {
		/* A counting rule Lethe did not write: named by its handle. */
		int64_t h = json_object_object_get_ex(rule, "handle", &handle)
				    ? json_object_get_int64(handle)
				    : -1;

		snprintf(name, sizeof(name), "handle %" PRId64, h);
		comment = name;
	}
	v = realloc(cs->v, (cs->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cs->v = v;
	x = &v[cs->n++];
	*x = (struct lethe_firewall_counter){ 0 };
	if (!u64_of(counter, "packets", &x->packets) || !u64_of(counter, "bytes", &x->bytes))
		return -EBADMSG;
	x->chain = strdup(chain);
	x->name = strdup(comment);
	return x->chain && x->name ? 0 : -ENOMEM;
}

int lethe_firewall_counters_parse(const char *json, struct lethe_firewall_counters *ret)
{
	struct lethe_firewall_counters cs = { 0 };
	struct json_object *root = json_tokener_parse(json), *items;
	int r = 0;

	if (!root || !json_object_object_get_ex(root, "nftables", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(root);
		return lethe_error(-LETHE_E_INVALID, "the nftables ruleset is not nft's JSON");
	}
	for (size_t i = 0; r >= 0 && i < json_object_array_length(items); i++) {
		struct json_object *rule, *counter;
		const char *family, *table;

		if (!json_object_object_get_ex(json_object_array_get_idx(items, i), "rule", &rule))
			continue;
		family = fw_json_string(rule, "family");
		table = fw_json_string(rule, "table");
		if (!family || !table || strcmp(family, "inet") || strcmp(table, "lethe"))
			continue;
		if ((counter = rule_counter(rule)))
			r = push(&cs, rule, counter);
	}
	json_object_put(root);
	if (r < 0) {
		lethe_firewall_counters_release(&cs);
		return r == -EBADMSG ? lethe_error(r, "a counter of table inet lethe has no chain, "
						      "packets or bytes")
				     : r;
	}
	*ret = cs;
	return 0;
}

int lethe_firewall_counters_read(struct lethe_firewall_counters *ret)
{
	char *json = NULL;
	int r = lethe_firewall_ruleset_json(&json);

	if (r >= 0)
		r = lethe_firewall_counters_parse(json, ret);
	free(json);
	return r;
}

uint64_t lethe_firewall_counters_dropped(const struct lethe_firewall_counters *cs)
{
	uint64_t n = 0;

	for (size_t i = 0; i < cs->n; i++)
		n += cs->v[i].packets;
	return n;
}

void lethe_firewall_counters_release(struct lethe_firewall_counters *cs)
{
	for (size_t i = 0; i < cs->n; i++) {
		free(cs->v[i].chain);
		free(cs->v[i].name);
	}
	free(cs->v);
	*cs = (struct lethe_firewall_counters){ 0 };
}
