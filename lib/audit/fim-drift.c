/* The audit's fim.drift: the running root against the image's own signed manifest
 * (lethe fim check with no argument), outside what the image rules expect to change. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/contract.h>
#include <lethe/fim.h>

#include "audit-internal.h"

struct drift_evidence {
	struct lethe_buf first; /* the first few, for the evidence line */
	size_t n;
};

static void drift_seen(const struct lethe_fim_drift *d, void *userdata)
{
	struct drift_evidence *ev = userdata;

	if (ev->n++ < 4)
		(void)lethe_buf_printf(&ev->first, "%s%s %s", ev->first.len ? ", " : "",
				       lethe_fim_drift_kind_name(d->kind), d->path);
}

/* The image rules with every path below root (a fixture tree in tests). */
static int rules_below(const char *root, struct lethe_fim_rules **ret)
{
	const char *t = lethe_fim_rules_builtin_text(LETHE_FIM_RULES_IMAGE);
	struct lethe_buf b = { 0 };
	int r = 0;

	if (!strcmp(root, "/"))
		return lethe_fim_rules_builtin(LETHE_FIM_RULES_IMAGE, ret);
	for (const char *l = t; *l && r >= 0;) {
		size_t n = strcspn(l, "\n");
		const char *sp = memchr(l, ' ', n);

		if (sp && sp[1] == '/' && l[0] != '#')
			r = lethe_buf_printf(&b, "%.*s %s%.*s\n", (int)(sp - l), l, root,
					     (int)(n - (size_t)(sp + 1 - l)), sp + 1);
		else
			r = lethe_buf_printf(&b, "%.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
	if (r >= 0)
		r = lethe_fim_rules_parse(b.data, b.len, "image rules", ret);
	lethe_buf_release(&b);
	return r;
}

int audit_check_fim_drift(struct audit_ctx *ctx, struct lethe_audit_result *res)
{
	struct drift_evidence ev = { 0 };
	struct lethe_fim_manifest m = { 0 };
	struct lethe_fim_scan_opts o = { .threads = 1 };
	struct lethe_fim_rules *rules = NULL;
	struct lethe_fim_stats st = { 0 };
	char *where = NULL, *upper = NULL;
	int r, q;

	r = lethe_fim_image_manifest(ctx->root, &m, &where, &upper);
	if (r == -ENOENT) {
		lethe_error_clear();
		q = audit_set(res, LETHE_AUDIT_NOT_APPLICABLE,
			      "the image carries no manifest (" LETHE_PATH_MANIFEST ")");
		goto out;
	}
	if (r < 0) {
		const char *msg = lethe_error_message_for(r);

		q = audit_set(res, LETHE_AUDIT_FAIL, "cannot read the image manifest: %s",
			      msg ? msg : strerror(-r));
		goto out;
	}
	r = rules_below(ctx->root, &rules);
	o.rules = rules;
	o.overlay_upper = upper;
	if (r >= 0)
		r = lethe_fim_check(&m, &ctx->root, 1, &o, drift_seen, &ev, &st);
	if (r < 0) {
		const char *msg = lethe_error_message_for(r);

		q = audit_set(res, LETHE_AUDIT_FAIL, "the check could not run: %s",
			      msg ? msg : strerror(-r));
	} else if (r == 0) {
		q = audit_set(res, LETHE_AUDIT_PASS,
			      "%llu entries match the image manifest (%s); /run, /tmp and logs "
			      "not compared",
			      (unsigned long long)st.entries, where);
	} else {
		q = audit_set(res, LETHE_AUDIT_FAIL,
			      "%zu entries differ from the image manifest: %s%s (lethe fim check "
			      "lists them)",
			      ev.n, ev.first.data ? ev.first.data : "", ev.n > 4 ? ", ..." : "");
	}
out:
	lethe_buf_release(&ev.first);
	lethe_fim_manifest_release(&m);
	lethe_fim_rules_free(rules);
	free(where);
	free(upper);
	return q;
}
