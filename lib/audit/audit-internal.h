/* What the audit's files share inside lib/audit. */
#ifndef LETHE_AUDIT_INTERNAL_H
#define LETHE_AUDIT_INTERNAL_H

#include <lethe/audit.h>
#include <lethe/spec.h>

struct audit_ctx {
	const char *root; /* "/" or a fixture tree */
	bool live;	  /* root is "/": device-mapper and nftables are asked */
	char *cmdline;	  /* ROOT/proc/cmdline, or "" */
	struct lethe_strv cmdline_words;
	struct lethe_mounts mounts;
	bool have_mounts;
	struct lethe_spec *spec; /* NULL on a host that is no Lethe system */
	struct lethe_audit_report *report;
	const char *pcr_path; /* --pcr: the release's pcr.json, or NULL (boot-checks.c) */
};

/* Read ROOT/rel into a string (at most 1 MiB); trailing newline stripped. */
int audit_read(const struct audit_ctx *ctx, const char *rel, char **ret);
bool audit_cmdline_has(const struct audit_ctx *ctx, const char *word);

/* The device-mapper device with this kernel name (dm-0): its dm name, and its table and
 * status lines as `dmsetup table` / `dmsetup status` print them. Live from the kernel;
 * for a fixture root from ROOT/dm/NAME.table and ROOT/dm/NAME.status. */
int audit_dm_query(const struct audit_ctx *ctx, const char *kname, char **ret_name,
		   char **ret_table, char **ret_status);

/* The block devices below ROOT/sys/class/block, with their mounts. */
int audit_blockdevs(struct audit_ctx *ctx);

/* The mount of "/" (the last one listed wins, as in the kernel's view), or NULL. */
const struct lethe_mount *audit_find_mount(const struct audit_ctx *ctx, const char *path);

/* A check: fills verdict and evidence of r. */
/* d is the store of the spec's persistence, mounted only where it may be (persist.c). */
bool audit_is_persistent_store(const struct audit_ctx *ctx, const struct lethe_audit_blockdev *d);

typedef int (*audit_check_fn)(struct audit_ctx *ctx, struct lethe_audit_result *r);

/* network.mac (network.c). */
int audit_check_network_mac(struct audit_ctx *ctx, struct lethe_audit_result *r);

struct audit_check {
	struct lethe_audit_check_info info;
	audit_check_fn run;
};
/* boot-checks.c (issue 12) */
int audit_check_secure_boot(struct audit_ctx *ctx, struct lethe_audit_result *r);
int audit_check_measured(struct audit_ctx *ctx, struct lethe_audit_result *r);

extern const struct audit_check audit_checks[];
extern const size_t audit_n_checks;

int audit_check_session(struct audit_ctx *ctx, struct lethe_audit_result *r); /* session.c */
/* fim.drift (fim-drift.c): the root against the image's own manifest. */
int audit_check_fim_drift(struct audit_ctx *ctx, struct lethe_audit_result *r);
/* network.c: network.none, for air-gapped specs. */
int audit_check_network_none(struct audit_ctx *ctx, struct lethe_audit_result *r);

/* Set the verdict and a printf-formatted evidence line. */
int audit_set(struct lethe_audit_result *r, enum lethe_audit_verdict v, const char *fmt, ...)
	LETHE_PRINTF(3, 4);

#endif
