/* Compare two listings of `table inet lethe` chain by chain and rule by rule, and say
 * what differs: chains missing or added, a chain's policy changed, rules missing or
 * added (in order: a rule moved shows as missing at one place and added at another). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firewall-internal.h"

#define MAX_LINES     200000u	 /* a listing with more is refused */
#define MAX_LCS_CELLS (4u << 20) /* beyond, rules are compared position by position */

struct listed_chain {
	char *name; /* "input"; for other objects "set NAME" and the like */
	bool is_chain;
	char *header; /* "type filter hook ... policy drop;" or NULL */
	char **rules;
	size_t n_rules;
};

struct listing {
	char *text; /* a modified copy of the listing; the strings point into it */
	struct listed_chain *chains;
	size_t n_chains;
};

static void listing_release(struct listing *l)
{
	for (size_t i = 0; i < l->n_chains; i++)
		free(l->chains[i].rules);
	free(l->chains);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

/* Strip leading tabs and spaces, trailing spaces and a " # handle N" comment. */
static char *trim(char *s)
{
	char *hash, *end;

	while (*s == '\t' || *s == ' ')
		s++;
	hash = strstr(s, " # handle ");
	if (hash)
		*hash = '\0';
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static bool ends_with_brace(const char *s)
{
	size_t len = strlen(s);

	return len >= 2 && !strcmp(s + len - 2, " {");
}

static int push_rule(struct listed_chain *c, char *line)
{
	char **v;

	if (c->n_rules >= MAX_LINES)
		return -E2BIG;
	v = realloc(c->rules, (c->n_rules + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[c->n_rules++] = line;
	c->rules = v;
	return 0;
}

static int push_chain(struct listing *l, char *name, bool is_chain)
{
	struct listed_chain *v;

	if (l->n_chains >= MAX_LINES)
		return -E2BIG;
	v = realloc(l->chains, (l->n_chains + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(&v[l->n_chains], 0, sizeof(*v));
	v[l->n_chains].name = name;
	v[l->n_chains].is_chain = is_chain;
	l->chains = v;
	l->n_chains++;
	return 0;
}

/* Split a listing into chains and their lines. Objects other than chains (sets, maps,
 * flowtables) are kept by name only: they are never expected. */
static int listing_parse(const char *text, struct listing *l)
{
	char *save = NULL, *line;
	unsigned depth = 0, lines = 0;
	int r = 0;

	memset(l, 0, sizeof(*l));
	l->text = strdup(text);
	if (!l->text)
		return -ENOMEM;
	for (line = strtok_r(l->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct listed_chain *cur = l->n_chains ? &l->chains[l->n_chains - 1] : NULL;

		line = trim(line);
		if (!*line)
			continue;
		if (++lines > MAX_LINES)
			return -E2BIG;
		if (depth == 0) {
			if (strcmp(line, "table inet lethe {"))
				return lethe_error(-LETHE_E_INVALID,
						   "listing of table inet lethe: unexpected '%s'",
						   line);
			depth = 1;
		} else if (!strcmp(line, "}")) {
			depth--;
		} else if (depth == 1 && ends_with_brace(line)) {
			line[strlen(line) - 2] = '\0';
			if (!strncmp(line, "chain ", 6))
				r = push_chain(l, line + 6, true);
			else
				r = push_chain(l, line, false);
			depth = 2;
		} else if (depth == 1) {
			/* A table-level attribute (flags, comment): kept as a pseudo object. */
			r = push_chain(l, line, false);
		} else if (ends_with_brace(line)) {
			depth++; /* inside a set's elements and the like */
		} else if (depth == 2 && cur && cur->is_chain && !cur->header && !cur->n_rules &&
			   !strncmp(line, "type ", 5)) {
			cur->header = line;
		} else if (depth == 2 && cur && cur->is_chain) {
			r = push_rule(cur, line);
		}
		if (r < 0)
			return r;
	}
	if (depth != 0 || !lines)
		return lethe_error(-LETHE_E_INVALID, "listing of table inet lethe is incomplete");
	return 0;
}

int fw_push_diff(struct lethe_firewall_drift *d, enum lethe_firewall_diff_kind kind,
		 const char *chain, const char *expected, const char *live)
{
	struct lethe_firewall_diff *v, *x;

	v = realloc(d->diffs, (d->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	d->diffs = v;
	x = &v[d->n];
	memset(x, 0, sizeof(*x));
	x->kind = kind;
	x->chain = chain ? strdup(chain) : NULL;
	x->expected = expected ? strdup(expected) : NULL;
	x->live = live ? strdup(live) : NULL;
	d->n++;
	if ((chain && !x->chain) || (expected && !x->expected) || (live && !x->live))
		return -ENOMEM;
	return 0;
}

/* Fill the longest common subsequence table, then walk it in order. */
static int diff_rules_lcs(const struct listed_chain *e, const struct listed_chain *l,
			  struct lethe_firewall_drift *d)
{
	size_t n = e->n_rules, m = l->n_rules, i = 0, j = 0;
	uint32_t *t = calloc((n + 1) * (m + 1), sizeof(*t));
	int r = 0;

	if (!t)
		return -ENOMEM;
#define T(a, b) t[(a) * (m + 1) + (b)]
	for (size_t a = n; a-- > 0;)
		for (size_t b = m; b-- > 0;)
			T(a, b) = !strcmp(e->rules[a], l->rules[b])
					  ? T(a + 1, b + 1) + 1
					  : (T(a + 1, b) > T(a, b + 1) ? T(a + 1, b) : T(a, b + 1));
	while (r >= 0 && (i < n || j < m)) {
		if (i < n && j < m && !strcmp(e->rules[i], l->rules[j])) {
			i++, j++;
		} else if (j < m && (i == n || T(i, j + 1) >= T(i + 1, j))) {
			r = fw_push_diff(d, LETHE_FIREWALL_RULE_ADDED, e->name, NULL,
					 l->rules[j++]);
		} else {
			r = fw_push_diff(d, LETHE_FIREWALL_RULE_MISSING, e->name, e->rules[i++],
					 NULL);
		}
	}
#undef T
	free(t);
	return r;
}

static int diff_rules(const struct listed_chain *e, const struct listed_chain *l,
		      struct lethe_firewall_drift *d)
{
	size_t n = e->n_rules, m = l->n_rules;
	int r = 0;

	if ((n + 1) <= MAX_LCS_CELLS / (m + 1))
		return diff_rules_lcs(e, l, d);
	/* Too many for the table: position by position, which still finds every drift. */
	for (size_t i = 0; r >= 0 && i < (n > m ? n : m); i++) {
		if (i < n && i < m && !strcmp(e->rules[i], l->rules[i]))
			continue;
		if (i < n)
			r = fw_push_diff(d, LETHE_FIREWALL_RULE_MISSING, e->name, e->rules[i],
					 NULL);
		if (r >= 0 && i < m)
			r = fw_push_diff(d, LETHE_FIREWALL_RULE_ADDED, e->name, NULL, l->rules[i]);
	}
	return r;
}

static const struct listed_chain *find_chain(const struct listing *l, const struct listed_chain *c)
{
	for (size_t i = 0; i < l->n_chains; i++)
		if (l->chains[i].is_chain == c->is_chain && !strcmp(l->chains[i].name, c->name))
			return &l->chains[i];
	return NULL;
}

/* "type filter hook input priority filter; policy drop;": the same up to "policy"? */
static enum lethe_firewall_diff_kind header_change(const char *e, const char *l)
{
	const char *pe = e ? strstr(e, "; policy ") : NULL, *pl = l ? strstr(l, "; policy ") : NULL;

	if (pe && pl && pe - e == pl - l && !strncmp(e, l, (size_t)(pe - e)))
		return LETHE_FIREWALL_POLICY_CHANGED;
	return LETHE_FIREWALL_CHAIN_CHANGED;
}

static int compare_listings(const struct listing *exp, const struct listing *live,
			    struct lethe_firewall_drift *d)
{
	int r = 0;

	for (size_t i = 0; r >= 0 && i < exp->n_chains; i++) {
		const struct listed_chain *e = &exp->chains[i], *l = find_chain(live, e);

		if (!l) {
			r = fw_push_diff(d, LETHE_FIREWALL_CHAIN_MISSING, e->name, e->header, NULL);
			continue;
		}
		if ((e->header || l->header) &&
		    (!e->header || !l->header || strcmp(e->header, l->header)))
			r = fw_push_diff(d, header_change(e->header, l->header), e->name, e->header,
					 l->header);
		if (r >= 0)
			r = diff_rules(e, l, d);
	}
	for (size_t i = 0; r >= 0 && i < live->n_chains; i++) {
		const struct listed_chain *l = &live->chains[i];

		if (!find_chain(exp, l))
			r = fw_push_diff(d, LETHE_FIREWALL_CHAIN_ADDED, l->name, NULL, l->header);
	}
	return r;
}

int lethe_firewall_compare(const char *expected, const char *live, struct lethe_firewall_drift *ret)
{
	struct listing e, l = { 0 };
	struct lethe_firewall_drift d = { 0 };
	int r;

	r = listing_parse(expected, &e);
	if (r >= 0 && !live)
		r = fw_push_diff(&d, LETHE_FIREWALL_TABLE_MISSING, NULL, NULL, NULL);
	else if (r >= 0)
		r = listing_parse(live, &l);
	if (r >= 0 && live)
		r = compare_listings(&e, &l, &d);
	listing_release(&e);
	listing_release(&l);
	if (r < 0) {
		lethe_firewall_drift_release(&d);
		return r;
	}
	*ret = d;
	return 0;
}

const char *lethe_firewall_diff_kind_name(enum lethe_firewall_diff_kind kind)
{
	switch (kind) {
	case LETHE_FIREWALL_TABLE_MISSING:
		return "table missing";
	case LETHE_FIREWALL_CHAIN_MISSING:
		return "chain missing";
	case LETHE_FIREWALL_CHAIN_ADDED:
		return "chain added";
	case LETHE_FIREWALL_POLICY_CHANGED:
		return "policy changed";
	case LETHE_FIREWALL_CHAIN_CHANGED:
		return "chain changed";
	case LETHE_FIREWALL_RULE_MISSING:
		return "rule missing";
	case LETHE_FIREWALL_FOREIGN_HOOK:
		return "foreign hook";
	case LETHE_FIREWALL_RULE_ADDED:
		return "rule added";
	}
	return "difference";
}

void lethe_firewall_drift_release(struct lethe_firewall_drift *drift)
{
	if (!drift)
		return;
	for (size_t i = 0; i < drift->n; i++) {
		free(drift->diffs[i].chain);
		free(drift->diffs[i].expected);
		free(drift->diffs[i].live);
	}
	free(drift->diffs);
	drift->diffs = NULL;
	drift->n = 0;
}
