/* The whole ruleset, not only table inet lethe: every base chain hooked into the
 * kernel's packet path. A chain of another table can accept, rewrite (nat) or reroute
 * packets before or after Lethe's filter, so `lethe firewall check` and the audit
 * report each one. Read through libnftables as JSON (`nft -j list ruleset`). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <nftables/libnftables.h>

#include "firewall-internal.h"

#define MAX_HOOKS 4096

const char *fw_json_string(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int push_hook(struct lethe_firewall_hooks *h, struct json_object *chain)
{
	const char *family = fw_json_string(chain, "family"),
		   *table = fw_json_string(chain, "table");
	const char *name = fw_json_string(chain, "name"), *hook = fw_json_string(chain, "hook");
	const char *type = fw_json_string(chain, "type"), *policy = fw_json_string(chain, "policy");
	const char *dev = fw_json_string(chain, "dev");
	struct lethe_firewall_hook *v, *x;
	struct json_object *prio;

	if (!family || !table || !name || !hook)
		return -EBADMSG;
	if (h->n >= MAX_HOOKS)
		return -E2BIG;
	v = realloc(h->v, (h->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	h->v = v;
	x = &v[h->n++];
	*x = (struct lethe_firewall_hook){ 0 };
	x->family = strdup(family);
	x->table = strdup(table);
	x->chain = strdup(name);
	x->hook = strdup(hook);
	x->type = strdup(type ? type : "filter");
	x->policy = strdup(policy ? policy : "accept");
	x->device = dev ? strdup(dev) : NULL;
	if (json_object_object_get_ex(chain, "prio", &prio))
		x->prio = json_object_get_int(prio);
	if (!x->family || !x->table || !x->chain || !x->hook || !x->type || !x->policy ||
	    (dev && !x->device))
		return -ENOMEM;
	return 0;
}

int lethe_firewall_hooks_parse(const char *json, struct lethe_firewall_hooks *ret)
{
	struct lethe_firewall_hooks h = { 0 };
	struct json_object *root = json_tokener_parse(json), *items;
	int r = 0;

	if (!root || !json_object_object_get_ex(root, "nftables", &items) ||
	    !json_object_is_type(items, json_type_array)) {
		json_object_put(root);
		return lethe_error(-LETHE_E_INVALID, "the nftables ruleset is not nft's JSON");
	}
	for (size_t i = 0; r >= 0 && i < json_object_array_length(items); i++) {
		struct json_object *item = json_object_array_get_idx(items, i), *o;

		if (json_object_object_get_ex(item, "table", &o)) {
			const char *f = fw_json_string(o, "family"), *n = fw_json_string(o, "name");

			if (f && n && !strcmp(f, "inet") && !strcmp(n, "lethe"))
				h.lethe_table = true;
		} else if (json_object_object_get_ex(item, "chain", &o) &&
			   json_object_object_get_ex(o, "hook", NULL)) {
			r = push_hook(&h, o);
		}
	}
	json_object_put(root);
	if (r < 0) {
		lethe_firewall_hooks_release(&h);
		return r == -EBADMSG ? lethe_error(r, "the nftables ruleset has a base chain "
						      "without family, table, name or hook")
				     : r;
	}
	*ret = h;
	return 0;
}

int lethe_firewall_ruleset_json(char **ret)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		nft_ctx_free(ctx);
		return -ENOMEM;
	}
	nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
	if (nft_run_cmd_from_buffer(ctx, "list ruleset") != 0) {
		const char *msg = nft_ctx_get_error_buffer(ctx);

		r = lethe_error(msg && strstr(msg, "Operation not permitted") ? -EPERM : -EIO,
				"cannot list the nftables ruleset: %.*s",
				msg ? (int)strcspn(msg, "\n") : 0, msg ? msg : "");
	} else {
		*ret = strdup(nft_ctx_get_output_buffer(ctx));
		if (!*ret)
			r = -ENOMEM;
	}
	nft_ctx_free(ctx);
	return r;
}

int lethe_firewall_hooks_read(struct lethe_firewall_hooks *ret)
{
	char *json = NULL;
	int r = lethe_firewall_ruleset_json(&json);

	if (r >= 0)
		r = lethe_firewall_hooks_parse(*json ? json : "{\"nftables\": []}", ret);
	free(json);
	return r;
}

void lethe_firewall_hooks_release(struct lethe_firewall_hooks *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].family);
		free(h->v[i].table);
		free(h->v[i].chain);
		free(h->v[i].hook);
		free(h->v[i].type);
		free(h->v[i].policy);
		free(h->v[i].device);
	}
	free(h->v);
	memset(h, 0, sizeof(*h));
}

bool lethe_firewall_hook_is_lethe(const struct lethe_firewall_hook *h)
{
	return !strcmp(h->family, "inet") && !strcmp(h->table, "lethe");
}

int lethe_firewall_foreign_hooks(const struct lethe_firewall_hooks *h,
				 struct lethe_firewall_drift *drift)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < h->n; i++) {
		const struct lethe_firewall_hook *x = &h->v[i];
		struct lethe_buf name = { 0 }, what = { 0 };

		if (lethe_firewall_hook_is_lethe(x))
			continue;
		r = lethe_buf_printf(&name, "%s %s %s", x->family, x->table, x->chain);
		if (r >= 0)
			r = lethe_buf_printf(&what, "type %s hook %s%s%s priority %d; policy %s;",
					     x->type, x->hook, x->device ? " device " : "",
					     x->device ? x->device : "", x->prio, x->policy);
		if (r >= 0)
			r = fw_push_diff(drift, LETHE_FIREWALL_FOREIGN_HOOK, name.data, NULL,
					 what.data);
		lethe_buf_release(&name);
		lethe_buf_release(&what);
	}
	return r;
}
