/* What the files of lib/spec share while they fill a struct lethe_spec. */
#ifndef LETHE_SPEC_INTERNAL_H
#define LETHE_SPEC_INTERNAL_H

#include <lethe/spec.h>

/* Caps on what one spec may declare; each is far above any real image. */
#define SPEC_MAX_LIST	10000 /* packages, files, accounts, services, ... */
#define SPEC_MAX_STRING 4096  /* any one value */
#define SPEC_MAX_ID	65534 /* uids and gids; 65535 is (uid_t)-1 in 16 bits */

struct spec_ctx {
	const char *file; /* what messages call the spec */
	const char *dir;  /* for relative file sources; NULL: sources are not checked */
	struct lethe_spec *spec;
};

/* A scalar of at most SPEC_MAX_STRING bytes without control characters, copied. */
int spec_string(struct spec_ctx *c, const struct lethe_node *node, const char *what, char **ret);
/* The same, required: node NULL is "missing required key" about map. */
int spec_required_string(struct spec_ctx *c, const struct lethe_node *map, const char *key,
			 char **ret);
/* A sequence (at most SPEC_MAX_LIST items) as node, or an error naming what. */
int spec_list(struct spec_ctx *c, const struct lethe_node *node, const char *what);
/* A number with at most one unit suffix: "N" (no leading zero, at most 15 digits) then
 * one of units' suffixes ('\0': none), times its factor, at most max, into *ret; false
 * for anything else. */
struct spec_unit {
	char suffix;
	uint64_t factor;
};
bool spec_scaled(const char *s, const struct spec_unit *units, size_t n_units, uint64_t max,
		 uint64_t *ret);
/* A byte count "N", "Nk", "Nm" or "Ng" (either case) of at most max. */
bool spec_bytes(const char *s, uint64_t max, uint64_t *ret);
/* An absolute, normalised path: no "//", ".", ".." components, no trailing '/'. */
bool spec_path_is_absolute_clean(const char *path);

int spec_parse_accounts(struct spec_ctx *c, const struct lethe_node *node);
int spec_parse_files(struct spec_ctx *c, const struct lethe_node *node);
int spec_parse_kernel(struct spec_ctx *c, const struct lethe_node *node);
/* kernel.profile, once kernel.package is read (lib/spec/kernel-profile.c). */
int spec_parse_kernel_profile(struct spec_ctx *c, const struct lethe_node *kernel);
int spec_parse_services(struct spec_ctx *c, const struct lethe_node *node);
int spec_parse_network(struct spec_ctx *c, const struct lethe_node *node);
/* network.dns (dns.c) */
int spec_parse_dns(struct spec_ctx *c, const struct lethe_node *node);
/* network.vpn, after the interfaces and dns (vpn.c). */
int spec_parse_vpn(struct spec_ctx *c, const struct lethe_node *node);
/* ADDRESS/PREFIX, the prefix in range for the family (system.c). */
bool spec_is_cidr(const char *s);
/* An interface's dhcp key, once its addresses are read (dhcp.c). */
int spec_parse_dhcp(struct spec_ctx *c, const struct lethe_node *map,
		    struct lethe_spec_interface *iface);
int spec_parse_tmpfs(struct spec_ctx *c, const struct lethe_node *node);
int spec_parse_session(struct spec_ctx *c, const struct lethe_node *node);   /* session.c */
int spec_parse_graphical(struct spec_ctx *c, const struct lethe_node *node); /* graphical.c */
int spec_parse_memory(struct spec_ctx *c, const struct lethe_node *node);
int spec_parse_persistence(struct spec_ctx *c, const struct lethe_node *node);
/* boot.layout and health: (health.c) */
int spec_parse_boot_layout(struct spec_ctx *c, const struct lethe_node *node);
int spec_parse_health(struct spec_ctx *c, const struct lethe_node *node);
/* update: (update.c), once files: and boot: are read */
int spec_parse_update(struct spec_ctx *c, const struct lethe_node *node);

/* Accounts by name, once spec_parse_accounts() has run; NULL when absent. */
const struct lethe_spec_user *spec_find_user(const struct lethe_spec *spec, const char *name);
const struct lethe_spec_group *spec_find_group(const struct lethe_spec *spec, const char *name);
const struct lethe_spec_group *spec_find_gid(const struct lethe_spec *spec, gid_t gid);

#endif
