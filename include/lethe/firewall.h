/* The firewall: a spec's `firewall:` section as one nftables table, `table inet lethe`,
 * rendered as text, loaded through libnftables in one transaction, and checked against
 * the kernel's live table. docs/firewall.md documents the section and the ruleset. */
#ifndef LETHE_FIREWALL_H
#define LETHE_FIREWALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/spec.h>

/* Caps on what a section may ask for (each fails with a message when exceeded). */
#define LETHE_FIREWALL_MAX_RULES    1024 /* per chain */
#define LETHE_FIREWALL_MAX_ELEMENTS 256	 /* ports or addresses in one rule */

/* The parsed section. Opaque; freed with lethe_firewall_free(). */
struct lethe_firewall;

/* Parse and validate a firewall section. file names the spec in messages ("FILE line L
 * column C: ..."); section may be NULL (no section: everything dropped, drops logged).
 * Users and groups that rules name are looked up among accounts' users and groups
 * (accounts may be NULL: then only numeric ids and root); the spec accounts belongs to
 * also gives the table its network part (network.dns: chain dns, docs/firewall.md).
 * The result keeps no pointer
 * into section or accounts. The caller frees *ret with lethe_firewall_free(). */
int lethe_firewall_parse(const char *file, const struct lethe_node *section,
			 const struct lethe_spec *accounts, struct lethe_firewall **ret);
/* The same for a loaded spec: its firewall section, its accounts, its path. */
int lethe_firewall_from_spec(const struct lethe_spec *spec, struct lethe_firewall **ret);
struct lethe_firewall *lethe_firewall_free(struct lethe_firewall *fw); /* returns NULL */

/* Render the ruleset: "table inet lethe { ... }\n", in the exact form in which
 * `nft list table inet lethe` prints it back, so that text compares with text.
 * Deterministic. With LETHE_FIREWALL_NUMERIC_PROTO, layer 4 protocols are numbers, as
 * libnftables prints them with NFT_CTX_OUTPUT_NUMERIC_PROTO (which is what
 * lethe_firewall_check() asks for, so that /etc/protocols does not matter).
 * The caller frees *ret with free(). */
#define LETHE_FIREWALL_NUMERIC_PROTO (1u << 0)
int lethe_firewall_render(const struct lethe_firewall *fw, unsigned flags, char **ret);

/* Replace the kernel's `table inet lethe` with the rendered one, atomically: one
 * libnftables transaction that adds, deletes and recreates the table. Other tables are
 * left alone. Needs CAP_NET_ADMIN in the current network namespace. */
int lethe_firewall_apply(const struct lethe_firewall *fw);

/* A difference between the expected and the live table. */
enum lethe_firewall_diff_kind {
	LETHE_FIREWALL_TABLE_MISSING,  /* no `table inet lethe` in the kernel */
	LETHE_FIREWALL_CHAIN_MISSING,  /* an expected chain is not there */
	LETHE_FIREWALL_CHAIN_ADDED,    /* a chain (or set, map...) that was not expected */
	LETHE_FIREWALL_POLICY_CHANGED, /* only the chain's policy differs */
	LETHE_FIREWALL_CHAIN_CHANGED,  /* its type, hook or priority differ */
	LETHE_FIREWALL_RULE_MISSING,   /* an expected rule is not there */
	LETHE_FIREWALL_RULE_ADDED,     /* a rule that was not expected */
	LETHE_FIREWALL_FOREIGN_HOOK,   /* a base chain of another table (chain: "FAMILY TABLE
					* CHAIN", live: its type, hook, priority, policy) */
};

struct lethe_firewall_diff {
	enum lethe_firewall_diff_kind kind;
	char *chain;	/* NULL for TABLE_MISSING */
	char *expected; /* the expected line, or NULL (RULE_ADDED, CHAIN_ADDED) */
	char *live;	/* the live line, or NULL (missing) */
};

struct lethe_firewall_drift {
	struct lethe_firewall_diff *diffs;
	size_t n;
};
/* "rule missing", "policy changed"...: a short name of a kind, for reports. */
const char *lethe_firewall_diff_kind_name(enum lethe_firewall_diff_kind kind);
void lethe_firewall_drift_release(struct lethe_firewall_drift *drift);

/* Compare two listings of `table inet lethe` (expected first; live may be NULL: the
 * table is missing). Handles (" # handle N") and blank lines are ignored; rules are
 * compared in order per chain. Fills *ret (empty when they match); the caller releases
 * it with lethe_firewall_drift_release(). Returns 0, or -ENOMEM / -EBADMSG (a listing
 * that is not a table). */
int lethe_firewall_compare(const char *expected, const char *live,
			   struct lethe_firewall_drift *ret);

/* ---- The whole ruleset ---- */

/* A base chain: one hooked into the kernel's packet path. */
struct lethe_firewall_hook {
	char *family, *table, *chain;
	char *type;   /* filter, nat, route */
	char *hook;   /* prerouting, input, forward, output, postrouting, ingress, egress */
	char *device; /* netdev chains, else NULL */
	char *policy;
	int prio;
};

struct lethe_firewall_hooks {
	struct lethe_firewall_hook *v;
	size_t n;
	bool lethe_table; /* the ruleset has a table inet lethe */
};

/* `nft -j list ruleset` through libnftables. The caller frees *ret. */
int lethe_firewall_ruleset_json(char **ret);
/* The base chains of such a listing, or of the live ruleset. Release *ret with
 * lethe_firewall_hooks_release(). */
int lethe_firewall_hooks_parse(const char *json, struct lethe_firewall_hooks *ret);
int lethe_firewall_hooks_read(struct lethe_firewall_hooks *ret);
void lethe_firewall_hooks_release(struct lethe_firewall_hooks *h);
bool lethe_firewall_hook_is_lethe(const struct lethe_firewall_hook *h);
/* A LETHE_FIREWALL_FOREIGN_HOOK difference in drift for every base chain of h outside
 * table inet lethe: each sees Lethe's packets before or after its filter (a nat chain
 * rewrites them, an accept in another input chain does not override Lethe's drop but a
 * drop there, a reroute or a mark does act), so a Lethe system has none. */
int lethe_firewall_foreign_hooks(const struct lethe_firewall_hooks *h,
				 struct lethe_firewall_drift *drift);

/* A counting rule of table inet lethe (every one Lethe writes drops: the invalid
 * packets, and what each drop policy is about to drop), named by its comment
 * ("lethe-drop-out", "lethe-invalid-in", ...; "handle N" for a rule without one). */
struct lethe_firewall_counter {
	char *chain, *name;
	uint64_t packets, bytes;
};
struct lethe_firewall_counters {
	struct lethe_firewall_counter *v; /* in the listing's order */
	size_t n;
};
/* The counters in an `nft -j list ruleset` listing, or the live one. Release *ret with
 * lethe_firewall_counters_release(). */
int lethe_firewall_counters_parse(const char *json, struct lethe_firewall_counters *ret);
int lethe_firewall_counters_read(struct lethe_firewall_counters *ret);
/* The packets of all of them: what the firewall refused so far. */
uint64_t lethe_firewall_counters_dropped(const struct lethe_firewall_counters *cs);
void lethe_firewall_counters_release(struct lethe_firewall_counters *cs);

/* Read the live table through libnftables and compare it with fw's, and list every
 * base chain of another table (lethe_firewall_foreign_hooks()). Returns 0 when it
 * matches, LETHE_E_INVALID with a message counting the differences when it drifted
 * (*ret lists them), another negative errno when the kernel could not be read. */
int lethe_firewall_check(const struct lethe_firewall *fw, struct lethe_firewall_drift *ret);

#endif
