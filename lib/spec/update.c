/* update: of the spec: the source a running system updates itself from (an HTTPS
 * directory or an OCI repository), the channel (the tag, or a subdirectory), and the
 * rollout waves a fleet takes a new release in (docs/update.md). The key is the one the
 * image carries at /etc/lethe/update.pub, put there with files: as before. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/update.h>

#include "spec-internal.h"

static const char *const update_keys[] = { "source", "channel", "waves", "wait", NULL };

struct lethe_spec_update *lethe_spec_update_free(struct lethe_spec_update *u)
{
	if (!u)
		return NULL;
	free(u->source);
	free(u->channel);
	free(u);
	return NULL;
}

/* "N", "Ns", "Nm", "Nh" or "Nd": seconds. */
static bool parse_duration(const char *s, uint64_t *ret)
{
	static const struct spec_unit units[] = {
		{ '\0', 1 }, { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 },
	};

	return spec_scaled(s, units, LETHE_ARRAY_SIZE(units), LETHE_SPEC_UPDATE_WAIT_MAX, ret);
}

static bool channel_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 128 && s[0] != '.' && s[0] != '-' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

int lethe_spec_update_url(const struct lethe_spec_update *u, char **ret)
{
	const char *src = u->source;
	bool oci = !strncmp(src, "oci://", 6);
	struct lethe_buf b = { 0 };
	int r;

	if (oci)
		r = u->channel ? lethe_buf_printf(&b, "%s:%s", src, u->channel)
			       : lethe_buf_printf(&b, "%s", src);
	else
		r = u->channel ? lethe_buf_printf(&b, "%s%s/", src, u->channel)
			       : lethe_buf_printf(&b, "%s", src);
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}

/* The loopback hosts plain HTTP is allowed to (lethe update checks again, lib/oci). */
static bool is_loopback(const char *host)
{
	return !strncmp(host, "127.", 4) || !strcmp(host, "localhost") ||
	       !strncmp(host, "localhost:", 10) || !strncmp(host, "[::1]", 5);
}

static int parse_source(struct spec_ctx *c, const struct lethe_node *map,
			struct lethe_spec_update *u)
{
	const struct lethe_node *n = lethe_node_get(map, "source");
	int r = spec_required_string(c, map, "source", &u->source);

	if (r < 0)
		return r;
	if (!strncmp(u->source, "oci://", 6)) {
		const char *last = strrchr(u->source + 6, '/');
		/* A tag follows the last '/' (a registry's port comes before it). */
		bool tagged = (last && strchr(last, ':')) || strchr(u->source, '@');

		if (tagged && u->channel)
			return lethe_node_error(c->file, n,
						"update.source '%s' names a tag or digest and "
						"update.channel names another: give one",
						u->source);
		if (!tagged && !u->channel)
			return lethe_node_error(c->file, n,
						"update.source '%s' names no tag: give "
						"update.channel (the tag a fleet follows)",
						u->source);
		/* lethe update parses the reference itself (lib/oci); here only its shape,
		 * so that the spec does not link the HTTP client. */
		if (!last || last == u->source + 6 || !last[1] ||
		    strspn(u->source + 6, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789.-_/:@[]") != strlen(u->source + 6))
			return lethe_node_error(c->file, n,
						"update.source '%s' is not oci://REGISTRY/REPO",
						u->source);
		return 0;
	}
	bool https = !strncmp(u->source, "https://", 8), http = !strncmp(u->source, "http://", 7);

	if (!https && !http)
		return lethe_node_error(c->file, n,
					"update.source must be https://HOST/PATH/ or "
					"oci://REGISTRY/REPO, not '%s'",
					u->source);
	const char *host = u->source + (https ? 8 : 7);
	size_t hl = strcspn(host, "/");
	char h[256];

	if (hl == 0 || hl >= sizeof(h) || strpbrk(u->source, " ?#\\"))
		return lethe_node_error(c->file, n, "update.source '%s' is not a release URL",
					u->source);
	memcpy(h, host, hl);
	h[hl] = '\0';
	if (http && !is_loopback(h))
		return lethe_node_error(c->file, n,
					"update.source '%s' is plain HTTP: use https:// (plain "
					"HTTP only to a loopback host, for tests)",
					u->source);
	if (u->source[strlen(u->source) - 1] != '/')
		return lethe_node_error(c->file, n,
					"update.source '%s' names a release directory: end it "
					"with '/'",
					u->source);
	return 0;
}

static int parse_waves(struct spec_ctx *c, const struct lethe_node *map,
		       struct lethe_spec_update *u)
{
	const struct lethe_node *n = lethe_node_get(map, "waves"), *w = lethe_node_get(map, "wait");
	int r;

	if (!n) {
		if (w)
			return lethe_node_error(c->file, w, "update.wait without update.waves");
		return 0;
	}
	r = lethe_node_expect(c->file, n, LETHE_NODE_SEQUENCE, "update.waves");
	if (r < 0)
		return r;
	if (n->n == 0 || n->n > LETHE_SPEC_UPDATE_MAX_WAVES)
		return lethe_node_error(c->file, n, "update.waves: 1 to %d percentages",
					LETHE_SPEC_UPDATE_MAX_WAVES);
	for (size_t i = 0; i < n->n; i++) {
		uint64_t v;

		r = lethe_node_uint(c->file, n->items[i], "update.waves", 1, 100, &v);
		if (r < 0)
			return r;
		if (i && v <= u->waves[i - 1])
			return lethe_node_error(c->file, n->items[i],
						"update.waves must rise: %llu after %u",
						(unsigned long long)v, u->waves[i - 1]);
		u->waves[i] = (unsigned)v;
	}
	u->n_waves = n->n;
	if (u->waves[n->n - 1] != 100)
		return lethe_node_error(c->file, n,
					"update.waves: the last wave is the whole fleet, 100 "
					"(not %u)",
					u->waves[n->n - 1]);
	if (n->n > 1 && !w)
		return lethe_node_error(c->file, n,
					"update.waves: give update.wait, the time from one wave "
					"to the next");
	if (w) {
		r = lethe_node_expect(c->file, w, LETHE_NODE_SCALAR, "update.wait");
		if (r < 0)
			return r;
		if (!parse_duration(w->value, &u->wait))
			return lethe_node_error(c->file, w,
						"update.wait must be a duration (N, Ns, Nm, Nh or "
						"Nd, at most 366d), not '%s'",
						w->value);
	}
	return 0;
}

/* What lethe-update links, from the image's own packages. */
static int add_packages(struct spec_ctx *c, const struct lethe_node *map)
{
	static const char *const need[] = { LETHE_SPEC_UPDATE_PACKAGES };
	int r = 0;

	for (size_t i = 0; r == 0 && i < LETHE_ARRAY_SIZE(need); i++) {
		if (lethe_strv_contains(&c->spec->drop, need[i]))
			return lethe_node_error(c->file, map,
						"update needs package '%s', which drop removes",
						need[i]);
		if (!lethe_strv_contains(&c->spec->packages, need[i]))
			r = lethe_strv_push(&c->spec->packages, need[i]);
	}
	return r;
}

int spec_parse_update(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec_update *u;
	const struct lethe_node *ch;
	bool has_key = false;
	int r;

	if (!node)
		return 0;
	r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "update");
	if (r == 0)
		r = lethe_node_check_keys(c->file, node, update_keys);
	if (r < 0)
		return r;
	if (!c->spec->boot_ab)
		return lethe_node_error(c->file, node,
					"update needs boot.layout ab: a system updates the slot "
					"it does not run from");
	for (size_t i = 0; i < c->spec->n_files; i++)
		has_key |= !strcmp(c->spec->files[i].destination, LETHE_UPDATE_KEY);
	if (!has_key)
		return lethe_node_error(c->file, node,
					"update needs the key releases are signed with: a files: "
					"entry with destination " LETHE_UPDATE_KEY);
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->line = node->line;
	ch = lethe_node_get(node, "channel");
	if (ch) {
		r = spec_string(c, ch, "update.channel", &u->channel);
		if (r == 0 && !channel_ok(u->channel))
			r = lethe_node_error(c->file, ch,
					     "update.channel '%s': 1-128 of A-Z a-z 0-9 . _ - "
					     "(not first . or -)",
					     u->channel);
	}
	if (r == 0)
		r = parse_source(c, node, u);
	if (r == 0)
		r = parse_waves(c, node, u);
	if (r == 0)
		r = add_packages(c, node);
	if (r < 0) {
		lethe_spec_update_free(u);
		return r;
	}
	c->spec->update = u;
	return 0;
}
