/* The audit's checks. Each reads the system below ctx->root and gives a verdict with the
 * evidence behind it; none can pass without looking. */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/firewall.h>
#include <lethe/hardening.h>

#include "audit-internal.h"

/* The kernel name (dm-0, sda1) of the block device MAJ:MIN, from its uevent. */
static int kernel_name(const struct audit_ctx *ctx, unsigned major, unsigned minor, char **ret)
{
	char rel[128], *uevent, *p, *end;
	int r;

	snprintf(rel, sizeof(rel), "sys/dev/block/%u:%u/uevent", major, minor);
	r = audit_read(ctx, rel, &uevent);
	if (r < 0)
		return r;
	p = strstr(uevent, "DEVNAME=");
	if (!p) {
		free(uevent);
		return -ENOENT;
	}
	p += strlen("DEVNAME=");
	end = strchrnul(p, '\n');
	*ret = strndup(p, (size_t)(end - p));
	free(uevent);
	return *ret ? 0 : -ENOMEM;
}

/* The mount that holds the root's read-only data: the lower layer of an overlay "/",
 * or "/" itself. */
static const struct lethe_mount *root_data_mount(const struct audit_ctx *ctx, char *why,
						 size_t why_len)
{
	const struct lethe_mount *root = audit_find_mount(ctx, "/"), *lower;
	const char *opt;
	char dir[4096];
	size_t n;

	if (!root) {
		snprintf(why, why_len, "nothing is mounted on /");
		return NULL;
	}
	if (strcmp(root->fstype, "overlay") != 0)
		return root;
	opt = strstr(root->superoptions, "lowerdir=");
	if (!opt) {
		snprintf(why, why_len, "/ is an overlay without a lowerdir");
		return NULL;
	}
	opt += strlen("lowerdir=");
	n = strcspn(opt, ":,");
	if (n >= sizeof(dir)) {
		snprintf(why, why_len, "/ has an overlong lowerdir");
		return NULL;
	}
	memcpy(dir, opt, n);
	dir[n] = '\0';
	lower = audit_find_mount(ctx, dir);
	if (!lower)
		snprintf(why, why_len, "the overlay's lower layer '%.200s' is not a visible mount",
			 dir);
	return lower;
}

/* The dm-verity table of the device under the root, split into its parameters. */
struct root_verity {
	const struct lethe_mount *mount;
	char *kname, *dm_name, *table, *status;
	char *params[16];
	size_t n_params;
};

static void root_verity_release(struct root_verity *v)
{
	free(v->kname);
	free(v->dm_name);
	free(v->table);
	free(v->status);
}

/* 0 when the root data sits on a dm device with one verity target; else a negative errno
 * and a reason in why. */
static int find_root_verity(const struct audit_ctx *ctx, struct root_verity *v, char *why,
			    size_t why_len)
{
	char *save = NULL, *tok;
	size_t i = 0;

	*v = (struct root_verity){ 0 };
	v->mount = root_data_mount(ctx, why, why_len);
	if (!v->mount)
		return -ENOENT;
	if (v->mount->major == 0 ||
	    kernel_name(ctx, v->mount->major, v->mount->minor, &v->kname) < 0) {
		snprintf(why, why_len, "the root (%s from '%s') is not on a block device",
			 v->mount->fstype, v->mount->source);
		return -ENOENT;
	}
	if (strncmp(v->kname, "dm-", 3) != 0 ||
	    audit_dm_query(ctx, v->kname, &v->dm_name, &v->table, &v->status) < 0) {
		snprintf(why, why_len, "the root (%s on %s) is not a device-mapper device",
			 v->mount->fstype, v->kname);
		return -ENOENT;
	}
	/* "START LENGTH verity VERSION DATA HASH DBS HBS BLOCKS HSTART ALG DIGEST SALT ..." */
	for (tok = strtok_r(v->table, " \n", &save); tok && i < LETHE_ARRAY_SIZE(v->params);
	     tok = strtok_r(NULL, " \n", &save))
		v->params[i++] = tok;
	v->n_params = i;
	if (i < 12 || strcmp(v->params[2], "verity") != 0 ||
	    strchr(v->status, '\n') != strrchr(v->status, '\n')) {
		snprintf(why, why_len, "the root device %s ('%s') is %s, not one dm-verity target",
			 v->kname, v->dm_name, i > 2 ? v->params[2] : "empty");
		return -ENOENT;
	}
	return 0;
}

static int check_root_verity(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct root_verity v;
	char why[512];
	const char *state;
	int q;

	if (find_root_verity(ctx, &v, why, sizeof(why)) < 0) {
		root_verity_release(&v);
		return audit_set(r, LETHE_AUDIT_FAIL, "%s", why);
	}
	/* The verity status line ends in V (verified so far) or C (corruption seen). */
	state = strrchr(v.status, ' ');
	state = state ? state + 1 : "";
	if (state[0] != 'V')
		q = audit_set(r, LETHE_AUDIT_FAIL,
			      "%s on %s ('%s'): verity state '%.1s', not verified", v.mount->fstype,
			      v.kname, v.dm_name, state);
	else if (!lethe_mount_has_option(v.mount->options, "ro"))
		q = audit_set(r, LETHE_AUDIT_FAIL,
			      "%s on %s ('%s') is verified but mounted read-write", v.mount->fstype,
			      v.kname, v.dm_name);
	else
		q = audit_set(r, LETHE_AUDIT_PASS,
			      "%s on %s ('%s'), dm-verity verified, mounted ro at %s",
			      v.mount->fstype, v.kname, v.dm_name, v.mount->mountpoint);
	root_verity_release(&v);
	return q;
}

static int check_root_hash(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	char want[LETHE_ROOTHASH_HEX + 1];
	struct root_verity v;
	char why[512];
	int q = lethe_cmdline_roothash(ctx->cmdline, strlen(ctx->cmdline), want);

	if (q == -ENOENT)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE,
				 "no " LETHE_CMDLINE_ROOTHASH
				 " on the kernel cmdline: not booted by Lethe");
	if (q < 0)
		return audit_set(r, LETHE_AUDIT_FAIL, "kernel cmdline: %s",
				 lethe_error_message_for(q) ? lethe_error_message_for(q)
							    : strerror(-q));
	if (find_root_verity(ctx, &v, why, sizeof(why)) < 0) {
		root_verity_release(&v);
		return audit_set(r, LETHE_AUDIT_FAIL, "%s", why);
	}
	if (strcasecmp(v.params[11], want) == 0)
		q = audit_set(r, LETHE_AUDIT_PASS,
			      "running root hash %s equals " LETHE_CMDLINE_ROOTHASH, v.params[11]);
	else
		q = audit_set(r, LETHE_AUDIT_FAIL,
			      "running root hash %s differs from " LETHE_CMDLINE_ROOTHASH " %s",
			      v.params[11], want);
	root_verity_release(&v);
	return q;
}

static int check_root_amnesic(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	const struct lethe_mount *root = audit_find_mount(ctx, "/"), *upper;
	const char *opt;
	char dir[4096];
	size_t n;

	if (!root)
		return audit_set(r, LETHE_AUDIT_FAIL, "nothing is mounted on /");
	if (strcmp(root->fstype, "overlay") != 0)
		return audit_set(r, LETHE_AUDIT_FAIL, "/ is %s from '%s', not an overlay on RAM",
				 root->fstype, root->source);
	opt = strstr(root->superoptions, "upperdir=");
	if (!opt)
		return audit_set(r, LETHE_AUDIT_FAIL,
				 "/ is a read-only overlay with no upper layer");
	opt += strlen("upperdir=");
	n = strcspn(opt, ",");
	if (n >= sizeof(dir))
		return audit_set(r, LETHE_AUDIT_FAIL, "/ has an overlong upperdir");
	memcpy(dir, opt, n);
	dir[n] = '\0';
	/* The mount holding the upper dir: the longest mount point that is a prefix. */
	upper = NULL;
	for (size_t i = 0; i < ctx->mounts.n; i++) {
		const struct lethe_mount *m = &ctx->mounts.v[i];
		size_t len = strlen(m->mountpoint);

		if (strncmp(dir, m->mountpoint, len) == 0 &&
		    (dir[len] == '/' || dir[len] == '\0' || len == 1) &&
		    (!upper || len >= strlen(upper->mountpoint)))
			upper = m;
	}
	if (!upper || strcmp(upper->mountpoint, "/") == 0)
		return audit_set(r, LETHE_AUDIT_FAIL,
				 "the overlay's upper dir '%s' is on no visible mount", dir);
	if (strcmp(upper->fstype, "tmpfs") != 0 && strcmp(upper->fstype, "ramfs") != 0)
		return audit_set(r, LETHE_AUDIT_FAIL,
				 "the overlay's upper dir '%s' is on %s (%s), not RAM", dir,
				 upper->fstype, upper->source);
	return audit_set(r, LETHE_AUDIT_PASS, "/ is an overlay whose upper dir '%s' is on %s", dir,
			 upper->fstype);
}

/* A dm-crypt device and the spec opted in to persistence: the one allowed writable store,
 * at the spec's directories only (persist.c). */
static bool is_persistent_store(const struct audit_ctx *ctx, const struct lethe_audit_blockdev *d)
{
	return audit_is_persistent_store(ctx, d);
}

static int check_storage(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_buf bad = { 0 };
	size_t n_devices = ctx->report->n_blockdevs, n_mounted = 0;
	int q;

	for (size_t i = 0; i < ctx->report->n_blockdevs; i++) {
		const struct lethe_audit_blockdev *d = &ctx->report->blockdevs[i];

		if (d->mountpoints.n)
			n_mounted++;
		if (!d->mounted_writable || is_persistent_store(ctx, d))
			continue;
		q = lethe_buf_printf(&bad, "%s%s on %s (%s, rw)", bad.len ? "; " : "", d->name,
				     d->mountpoints.v[0], d->fstype ? d->fstype : "?");
		if (q < 0) {
			lethe_buf_release(&bad);
			return q;
		}
	}
	if (bad.len)
		q = audit_set(r, LETHE_AUDIT_FAIL, "block devices mounted writable: %s", bad.data);
	else
		q = audit_set(r, LETHE_AUDIT_PASS, "%zu block devices, %zu mounted, none writable",
			      n_devices, n_mounted);
	lethe_buf_release(&bad);
	return q;
}

/* Lines of ROOT/etc/fstab whose type is swap. */
static int fstab_swaps(const struct audit_ctx *ctx, struct lethe_buf *out)
{
	char *fstab, *save = NULL;
	int q = 0;

	if (audit_read(ctx, "etc/fstab", &fstab) < 0)
		return 0;
	for (char *line = strtok_r(fstab, "\n", &save); line && q >= 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char spec[512], file[512], type[64];

		if (line[0] == '#' || sscanf(line, "%511s %511s %63s", spec, file, type) != 3)
			continue;
		if (!strcmp(type, "swap"))
			q = lethe_buf_printf(out, "%s%s in etc/fstab", out->len ? "; " : "", spec);
	}
	free(fstab);
	return q;
}

static int check_swap(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_buf found = { 0 };
	char *swaps, *save = NULL;
	int q = 0;

	if (audit_read(ctx, "proc/swaps", &swaps) < 0)
		return audit_set(r, LETHE_AUDIT_FAIL, "cannot read proc/swaps");
	/* The first line is the header. */
	strtok_r(swaps, "\n", &save);
	for (char *line = strtok_r(NULL, "\n", &save); line && q >= 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[512];

		if (sscanf(line, "%511s", name) == 1)
			q = lethe_buf_printf(&found, "%s%s active", found.len ? "; " : "", name);
	}
	free(swaps);
	if (q >= 0)
		q = fstab_swaps(ctx, &found);
	if (q >= 0) {
		if (found.len)
			q = audit_set(r, LETHE_AUDIT_FAIL, "swap: %s", found.data);
		else
			q = audit_set(r, LETHE_AUDIT_PASS,
				      "no swap active (proc/swaps) or configured (etc/fstab)");
	}
	lethe_buf_release(&found);
	return q;
}

/* The ruleset's base chains through lib/firewall: live from the kernel, or from
 * ROOT/nft/ruleset.json (`nft -j list ruleset`) for a fixture. */
static int ruleset_hooks(const struct audit_ctx *ctx, struct lethe_firewall_hooks *ret)
{
	char *text = NULL;
	int q;

	if (ctx->live)
		return lethe_firewall_hooks_read(ret);
	q = audit_read(ctx, "nft/ruleset.json", &text);
	if (q < 0)
		return q;
	q = lethe_firewall_hooks_parse(text, ret);
	free(text);
	return q;
}

/* "; refused so far: 9 packets (lethe-drop-out 7, lethe-drop-in 2)": what the drop
 * rules' counters say (lethe firewall stats), or nothing when they cannot be read. */
static int describe_refused(const struct audit_ctx *ctx, struct lethe_buf *out)
{
	struct lethe_firewall_counters cs = { 0 };
	char *text = NULL;
	int q = ctx->live ? lethe_firewall_counters_read(&cs)
			  : audit_read(ctx, "nft/ruleset.json", &text);

	if (q >= 0 && !ctx->live)
		q = lethe_firewall_counters_parse(text, &cs);
	free(text);
	if (q < 0) {
		lethe_error_clear();
		return 0;
	}
	q = lethe_buf_printf(out, "; refused so far: %" PRIu64 " packets",
			     lethe_firewall_counters_dropped(&cs));
	for (size_t i = 0, n = 0; q >= 0 && i < cs.n; i++)
		if (cs.v[i].packets)
			q = lethe_buf_printf(out, "%s%s %" PRIu64, n++ ? ", " : " (", cs.v[i].name,
					     cs.v[i].packets);
	if (q >= 0 && lethe_firewall_counters_dropped(&cs))
		q = lethe_buf_puts(out, ")");
	lethe_firewall_counters_release(&cs);
	return q;
}

static const char *lethe_policy(const struct lethe_firewall_hooks *h, const char *hook)
{
	for (size_t i = 0; i < h->n; i++)
		if (lethe_firewall_hook_is_lethe(&h->v[i]) && !strcmp(h->v[i].hook, hook))
			return h->v[i].policy;
	return NULL;
}

/* "ip nat prerouting (nat hook prerouting priority -100)", for every foreign hook. */
static int describe_foreign(const struct lethe_firewall_hooks *h, struct lethe_buf *out)
{
	int q = 0;

	for (size_t i = 0; q >= 0 && i < h->n; i++) {
		const struct lethe_firewall_hook *x = &h->v[i];

		if (!lethe_firewall_hook_is_lethe(x))
			q = lethe_buf_printf(out, "%s%s %s %s (%s hook %s priority %d, policy %s)",
					     out->len ? "; " : "", x->family, x->table, x->chain,
					     x->type, x->hook, x->prio, x->policy);
	}
	return q;
}

static int check_firewall_policy(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_firewall_hooks h = { 0 };
	struct lethe_buf foreign = { 0 }, refused = { 0 };
	const char *in, *out;
	int q;

	q = ruleset_hooks(ctx, &h);
	if (q < 0) {
		q = audit_set(r, LETHE_AUDIT_FAIL, "cannot read the nftables ruleset: %s",
			      lethe_error_message_for(q) ? lethe_error_message_for(q)
							 : strerror(-q));
		lethe_error_clear();
		return q;
	}
	in = lethe_policy(&h, "input");
	out = lethe_policy(&h, "output");
	q = describe_foreign(&h, &foreign);
	if (q < 0)
		;
	else if (!h.lethe_table)
		q = audit_set(r, LETHE_AUDIT_FAIL, "no table inet lethe is loaded");
	else if (!in || !out)
		q = audit_set(r, LETHE_AUDIT_FAIL, "table inet lethe has no %s base chain",
			      !in ? "input" : "output");
	else if (strcmp(in, "drop") != 0 || strcmp(out, "drop") != 0)
		q = audit_set(r, LETHE_AUDIT_FAIL,
			      "table inet lethe: input policy %s, output policy %s", in, out);
	else if (foreign.len)
		q = audit_set(r, LETHE_AUDIT_FAIL,
			      "other tables hook into the packet path around table inet lethe: %s",
			      foreign.data);
	else if ((q = describe_refused(ctx, &refused)) >= 0)
		q = audit_set(r, LETHE_AUDIT_PASS,
			      "table inet lethe: input policy drop, output "
			      "policy drop; no other table hooks into the packet path%s",
			      refused.len ? refused.data : "");
	lethe_buf_release(&foreign);
	lethe_buf_release(&refused);
	lethe_firewall_hooks_release(&h);
	return q;
}

/* Up to three differences, for the evidence line. */
static int describe_drift(const struct lethe_firewall_drift *drift, struct lethe_buf *out)
{
	int q = lethe_buf_printf(out, "%zu difference%s from the spec:", drift->n,
				 drift->n == 1 ? "" : "s");

	for (size_t i = 0; i < drift->n && i < 3 && q >= 0; i++) {
		const struct lethe_firewall_diff *d = &drift->diffs[i];
		const char *line = d->live ? d->live : d->expected;

		q = lethe_buf_printf(out, "%s %s%s%s%s%s%s", i ? ";" : "",
				     lethe_firewall_diff_kind_name(d->kind), d->chain ? " in " : "",
				     d->chain ? d->chain : "", line ? " '" : "", line ? line : "",
				     line ? "'" : "");
	}
	return q;
}

/* The live table compared with the spec's. On a fixture root the live listing is
 * ROOT/nft/lethe.nft, as `nft list table inet lethe` prints it. */
static int check_firewall_spec(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_firewall_drift drift = { 0 };
	struct lethe_firewall *fw;
	struct lethe_buf ev = { 0 };
	char *expected = NULL, *live = NULL;
	int q;

	if (!ctx->spec)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE,
				 "no image spec (" LETHE_PATH_SPEC ") to compare with");
	q = lethe_firewall_from_spec(ctx->spec, &fw);
	if (q < 0)
		return audit_set(r, LETHE_AUDIT_FAIL, "the spec's firewall section is invalid: %s",
				 lethe_error_message_for(q) ? lethe_error_message_for(q)
							    : strerror(-q));
	if (ctx->live) {
		q = lethe_firewall_check(fw, &drift);
	} else {
		q = lethe_firewall_render(fw, 0, &expected);
		if (q >= 0 && audit_read(ctx, "nft/lethe.nft", &live) < 0)
			live = NULL;
		if (q >= 0)
			q = lethe_firewall_compare(expected, live, &drift);
		if (q >= 0) {
			struct lethe_firewall_hooks h = { 0 };

			if (ruleset_hooks(ctx, &h) >= 0)
				q = lethe_firewall_foreign_hooks(&h, &drift);
			lethe_firewall_hooks_release(&h);
		}
		if (q >= 0 && drift.n)
			q = -LETHE_E_INVALID;
	}
	lethe_firewall_free(fw);
	free(expected);
	free(live);
	if (q == -LETHE_E_INVALID && drift.n) {
		q = describe_drift(&drift, &ev);
		if (q >= 0)
			q = audit_set(r, LETHE_AUDIT_FAIL, "%s", ev.data);
	} else if (q < 0) {
		q = audit_set(r, LETHE_AUDIT_FAIL, "cannot compare with the live ruleset: %s",
			      lethe_error_message_for(q) ? lethe_error_message_for(q)
							 : strerror(-q));
	} else {
		q = audit_set(r, LETHE_AUDIT_PASS,
			      "table inet lethe matches the spec's firewall section");
	}
	lethe_error_clear();
	lethe_firewall_drift_release(&drift);
	lethe_buf_release(&ev);
	return q;
}

static int check_sysctl_value(struct audit_ctx *ctx, struct lethe_audit_result *r, const char *path,
			      const char *want)
{
	char rel[256], *v;
	int q;

	snprintf(rel, sizeof(rel), "proc/sys/%s", path);
	if (audit_read(ctx, rel, &v) < 0)
		return audit_set(r, LETHE_AUDIT_FAIL, "cannot read %s", rel);
	if (strcmp(v, want) == 0)
		q = audit_set(r, LETHE_AUDIT_PASS, "%s = %s", path, v);
	else
		q = audit_set(r, LETHE_AUDIT_FAIL, "%s = %s, expected %s", path, v, want);
	free(v);
	return q;
}

static int check_modules(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	return check_sysctl_value(ctx, r, "kernel/modules_disabled", "1");
}

static int check_lockdown(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	char *v;
	int q;

	if (audit_read(ctx, "sys/kernel/security/lockdown", &v) < 0)
		return audit_set(r, LETHE_AUDIT_FAIL,
				 "the lockdown LSM is not active "
				 "(no sys/kernel/security/lockdown)");
	if (strstr(v, "[integrity]") || strstr(v, "[confidentiality]"))
		q = audit_set(r, LETHE_AUDIT_PASS, "lockdown: %s", v);
	else
		q = audit_set(r, LETHE_AUDIT_FAIL,
			      "lockdown: %s (expected integrity or confidentiality)", v);
	free(v);
	return q;
}

static int check_sysctls(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_buf bad = { 0 };
	int q = 0;

	for (size_t i = 0; i < LETHE_HARDENING_N_SYSCTLS && q >= 0; i++) {
		const struct lethe_hardening_sysctl *s = &lethe_hardening_sysctls[i];
		char rel[256], *v;

		snprintf(rel, sizeof(rel), "proc/sys/%s", s->path);
		if (audit_read(ctx, rel, &v) < 0) {
			q = lethe_buf_printf(&bad, "%s%s absent", bad.len ? ", " : "", s->path);
			continue;
		}
		if (strcmp(v, s->value) != 0)
			q = lethe_buf_printf(&bad, "%s%s=%s (want %s)", bad.len ? ", " : "",
					     s->path, v, s->value);
		free(v);
	}
	if (q >= 0) {
		if (bad.len)
			q = audit_set(r, LETHE_AUDIT_FAIL, "%s", bad.data);
		else
			q = audit_set(r, LETHE_AUDIT_PASS, "all %zu hardening sysctls set",
				      (size_t)LETHE_HARDENING_N_SYSCTLS);
	}
	lethe_buf_release(&bad);
	return q;
}

static bool spec_waives(const struct audit_ctx *ctx, const struct lethe_hardening_param *p)
{
	return ctx->spec &&
	       lethe_hardening_waived(p, (const char *const *)ctx->spec->kernel.unsafe.v,
				      ctx->spec->kernel.unsafe.n);
}

/* What the cmdline puts in force for p, as the kernel reads it: the words before "--"
 * (the rest is init's), names compared with '-' == '_', the last of p's key winning.
 * NULL when p is in force; else the word that undoes it, or "" when p's word is absent. */
static const char *cmdline_undoes(const struct audit_ctx *ctx,
				  const struct lethe_hardening_param *p)
{
	const char *last = NULL, *counter = NULL;
	size_t wk = p->word ? lethe_hardening_key_len(p->word) : 0;

	for (size_t i = 0; i < ctx->cmdline_words.n; i++) {
		const char *w = ctx->cmdline_words.v[i];

		if (!strcmp(w, "--"))
			break;
		if (p->word && lethe_hardening_name_eq(w, lethe_hardening_key_len(w), p->word, wk))
			last = w;
		else if (!counter && lethe_hardening_undoes(p, w))
			counter = w;
	}
	if (counter)
		return counter;
	if (!p->word)
		return NULL;
	if (!last)
		return "";
	return lethe_hardening_undoes(p, last) ? last : NULL;
}

/* The kernel's log: /dev/kmsg (the audit runs as root, so dmesg_restrict does not stop
 * it), or ROOT/dev/kmsg on a fixture. NULL when it cannot be read. */
static char *kernel_log(const struct audit_ctx *ctx)
{
	struct lethe_buf b = { 0 };
	char rec[8192], *text = NULL;
	int fd;

	if (!ctx->live)
		return audit_read(ctx, "dev/kmsg", &text) < 0 ? NULL : text;
	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	for (size_t n = 0; n < 100000; n++) {
		ssize_t got = read(fd, rec, sizeof(rec) - 1);

		if (got < 0 && errno == EPIPE) /* overwritten while reading: go on */
			continue;
		if (got <= 0 || lethe_buf_append(&b, rec, (size_t)got) < 0)
			break;
	}
	close(fd);
	return b.data;
}

/* What the kernel reports it applied for p: 1 it agrees, 0 it says nothing, -1 it
 * disagrees (what it says in what). */
static int kernel_reports(const struct audit_ctx *ctx, const struct lethe_hardening_param *p,
			  const char *kmsg, char *what, size_t len)
{
	static const struct {
		const char *name, *file, *want;
	} files[] = {
		{ "module.sig_enforce", "sys/module/module/parameters/sig_enforce", "Y" },
		{ "page_alloc.shuffle", "sys/module/page_alloc/parameters/shuffle", "Y" },
	};
	const char *line = NULL, *key = NULL;
	char *v = NULL;
	int q = 0;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(files); i++) {
		if (strcmp(p->name, files[i].name) || audit_read(ctx, files[i].file, &v) < 0)
			continue;
		q = strcmp(v, files[i].want) ? -1 : 1;
		if (q < 0)
			snprintf(what, len, "%s = %s", files[i].file, v);
		free(v);
		return q;
	}
	if (!strcmp(p->name, "lockdown") && audit_read(ctx, "sys/kernel/security/lsm", &v) == 0) {
		q = lethe_hardening_list_has(v, "lockdown") ? 1 : -1;
		if (q < 0)
			snprintf(what, len, "sys/kernel/security/lsm = %s", v);
		free(v);
		return q;
	}
	if (!strcmp(p->name, "init_on_free"))
		key = "heap free:";
	else if (!strcmp(p->name, "init_on_alloc"))
		key = "heap alloc:";
	if (!key || !kmsg)
		return 0;
	/* Page poisoning, when asked for, takes the zeroing's place (mm/mm_init.c). */
	if (strstr(kmsg, key[5] == 'f' ? "precedence over init_on_free"
				       : "precedence over init_on_alloc")) {
		snprintf(what, len, "the kernel logs that page poisoning takes precedence over %s",
			 p->name);
		return -1;
	}
	/* "mem auto-init: stack:off, heap alloc:on, heap free:on": the last one counts. */
	for (const char *s = kmsg; (s = strstr(s, "mem auto-init: ")); s++)
		if (strstr(s, key) && strstr(s, key) < strchrnul(s, '\n'))
			line = s;
	if (!line)
		return 0;
	line = strstr(line, key) + strlen(key);
	if (!strncmp(line, "on", 2))
		return 1;
	snprintf(what, len, "the kernel logs 'mem auto-init: ... %s%.*s'", key,
		 (int)strcspn(line, ",\n"), line);
	return -1;
}

static int check_cmdline(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_buf missing = { 0 }, undone = { 0 }, waived = { 0 }, kernel = { 0 };
	char *kmsg = kernel_log(ctx);
	size_t reported = 0;
	int q = 0;

	for (size_t i = 0; i < LETHE_HARDENING_N_PARAMS && q >= 0; i++) {
		const struct lethe_hardening_param *p = &lethe_hardening_params[i];
		const char *w = cmdline_undoes(ctx, p);
		char what[256];
		int k;

		if (spec_waives(ctx, p)) {
			q = lethe_buf_printf(&waived, "%s%s", waived.len ? " " : "",
					     lethe_hardening_id(p));
			continue;
		}
		if (w && !*w)
			q = lethe_buf_printf(&missing, "%s%s", missing.len ? " " : "", p->word);
		else if (w)
			q = lethe_buf_printf(&undone, "%s'%s' undoes %s", undone.len ? "; " : "", w,
					     lethe_hardening_id(p));
		k = kernel_reports(ctx, p, kmsg, what, sizeof(what));
		if (k > 0)
			reported++;
		if (q >= 0 && k < 0)
			q = lethe_buf_printf(&kernel, "%s%s (for %s)", kernel.len ? "; " : "", what,
					     lethe_hardening_id(p));
	}
	free(kmsg);
	if (q >= 0) {
		if (missing.len || undone.len || kernel.len)
			q = audit_set(
				r, LETHE_AUDIT_FAIL, "%s%s%s%s%s%s%s",
				missing.len ? "missing from the cmdline: " : "",
				missing.len ? missing.data : "",
				missing.len && (undone.len || kernel.len) ? "; " : "",
				undone.len ? undone.data : "", undone.len && kernel.len ? "; " : "",
				kernel.len ? "not in force: " : "", kernel.len ? kernel.data : "");
		else if (waived.len)
			q = audit_set(r, LETHE_AUDIT_PASS,
				      "all hardening flags in force but %s, "
				      "removed by the spec's kernel.unsafe",
				      waived.data);
		else
			q = audit_set(
				r, LETHE_AUDIT_PASS,
				"all hardening flags on the cmdline and in force (%zu confirmed "
				"by the kernel)",
				reported);
	}
	lethe_buf_release(&missing);
	lethe_buf_release(&undone);
	lethe_buf_release(&waived);
	lethe_buf_release(&kernel);
	return q;
}

static int check_persistence(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	const char *found = NULL;

	for (size_t i = 0; i < ctx->cmdline_words.n && !found; i++) {
		const char *w = ctx->cmdline_words.v[i];

		if (!strcmp(w, "persistence") || !strncmp(w, "persistence=", 12) ||
		    lethe_cmdline_word_is(w, LETHE_CMDLINE_PERSISTENCE))
			found = w;
	}
	if (!found)
		return audit_set(r, LETHE_AUDIT_PASS, "no persistence parameter on the cmdline");
	if (ctx->spec && ctx->spec->persistence)
		return audit_set(r, LETHE_AUDIT_PASS, "'%s' on the cmdline; the spec opted in",
				 found);
	return audit_set(r, LETHE_AUDIT_FAIL, "'%s' on the cmdline, but the spec did not opt in",
			 found);
}

const struct audit_check audit_checks[] = {
	{ { "root.verity", "root file system is dm-verity verified and read-only",
	    "NIST CSF PR.DS-01, PR.PS-05; CIS 2.5; ISO 27001 A.8.19" },
	  check_root_verity },
	{ { "root.hash", "running root hash equals the signed cmdline's " LETHE_CMDLINE_ROOTHASH,
	    "NIST CSF PR.DS-01; CIS 2.5; ISO 27001 A.8.19, A.8.24" },
	  check_root_hash },
	{ { "root.amnesic", "every write to / lands in RAM (overlay on tmpfs)",
	    "NIST CSF PR.DS-01; CIS 3.5; ISO 27001 A.8.10" },
	  check_root_amnesic },
	{ { "storage.no-writable", "no block device is mounted writable",
	    "NIST CSF PR.DS-01; CIS 3.5; ISO 27001 A.7.10, A.8.10" },
	  check_storage },
	{ { "swap.none", "no swap active or configured",
	    "NIST CSF PR.DS-01; CIS 3.5; ISO 27001 A.8.10" },
	  check_swap },
	{ { "firewall.policy",
	    "firewall loaded, input and output policies drop, no other table hooked",
	    "NIST CSF PR.IR-01; CIS 4.4, 4.5; ISO 27001 A.8.20" },
	  check_firewall_policy },
	{ { "firewall.spec", "live firewall ruleset matches the spec",
	    "NIST CSF PR.PS-01, PR.IR-01; CIS 4.4; ISO 27001 A.8.9, A.8.20" },
	  check_firewall_spec },
	{ { "kernel.modules-locked", "kernel module loading is disabled",
	    "NIST CSF PR.PS-05; CIS 4.1; ISO 27001 A.8.19" },
	  check_modules },
	{ { "kernel.lockdown", "kernel lockdown is integrity or confidentiality",
	    "NIST CSF PR.PS-01; CIS 4.1; ISO 27001 A.8.9" },
	  check_lockdown },
	{ { "kernel.sysctl", "hardening sysctls are in force",
	    "NIST CSF PR.PS-01; CIS 4.1; ISO 27001 A.8.9" },
	  check_sysctls },
	{ { "kernel.cmdline", "hardening flags are on the kernel cmdline and in force",
	    "NIST CSF PR.PS-01, PR.DS-10; CIS 4.1; ISO 27001 A.8.9" },
	  check_cmdline },
	{ { "persistence.opt-in", "no persistence unless the spec opted in",
	    "NIST CSF PR.DS-01; CIS 3.5; ISO 27001 A.8.10" },
	  check_persistence },
	{ { "session.unprivileged", "the console session runs as session.user, not root",
	    "NIST CSF PR.AA-05; CIS 5.4; ISO 27001 A.8.2" },
	  audit_check_session }, /* session.c */
	{ { "boot.secure-boot", "UEFI Secure Boot is enabled",
	    "NIST CSF PR.PS-01; CIS 4.1; ISO 27001 A.8.9" },
	  audit_check_secure_boot },
	{ { "boot.measured", "TPM PCRs equal the release's prediction (pcr.json)",
	    "NIST CSF PR.PS-01, DE.CM-09; ISO 27001 A.8.9" },
	  audit_check_measured },
	{ { "network.mac", "no network card shows its permanent MAC address",
	    "NIST CSF PR.AA-05, PR.DS-02; ISO 27001 A.5.34, A.8.20" },
	  audit_check_network_mac },
	{ { "fim.drift", "the running root matches the image's signed manifest outside the rules",
	    "NIST CSF PR.DS-01, DE.CM-09; CIS 6.1; ISO 27001 A.8.9, A.8.16" },
	  audit_check_fim_drift },
	{ { "network.none", "air-gapped: no interface but lo, no network driver loaded",
	    "NIST CSF PR.IR-01, PR.AA-06; CIS 4.4; ISO 27001 A.8.20, A.8.22" },
	  audit_check_network_none },
};
const size_t audit_n_checks = LETHE_ARRAY_SIZE(audit_checks);

size_t lethe_audit_checks(const struct lethe_audit_check_info **ret)
{
	static struct lethe_audit_check_info infos[LETHE_ARRAY_SIZE(audit_checks)];

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(audit_checks); i++)
		infos[i] = audit_checks[i].info;
	*ret = infos;
	return LETHE_ARRAY_SIZE(audit_checks);
}
