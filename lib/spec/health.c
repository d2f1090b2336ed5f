/* boot.layout (single or ab) and the health: section, the gate lethe-init passes
 * before it blesses a counted boot (docs/update.md). */
#include <errno.h>
#include <string.h>

#include "spec-internal.h"

#define HEALTH_SETTLE_DEFAULT  30
#define HEALTH_TIMEOUT_DEFAULT 300
#define HEALTH_MAX	       86400

/* What bless needs before the module lock: efivarfs for the loader's variables, and
 * vfat with both code pages to rename the UKI on the ESP (LAB.md, "Boot counting"). */
static const char *const ab_modules[] = {
	"efivarfs", "fat", "vfat", "nls_cp437", "nls_ascii", NULL
};

int spec_parse_boot_layout(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec *spec = c->spec;
	int r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "boot.layout");

	if (r < 0)
		return r;
	if (!strcmp(node->value, "single"))
		return 0;
	if (strcmp(node->value, "ab"))
		return lethe_node_error(c->file, node, "boot.layout must be single or ab, not '%s'",
					node->value);
	if (!spec->kernel.package)
		return lethe_node_error(c->file, node,
					"boot.layout ab needs kernel.package: a slot boots a UKI");
	spec->boot_ab = true;
	for (const char *const *m = ab_modules; *m; m++)
		if (!lethe_strv_contains(&spec->kernel.modules, *m)) {
			r = lethe_strv_push(&spec->kernel.modules, *m);
			if (r < 0)
				return r;
		}
	return 0;
}

int spec_parse_health(struct spec_ctx *c, const struct lethe_node *node)
{
	static const char *const keys[] = { "settle", "timeout", "command", "audit_skip", NULL };
	struct lethe_spec *spec = c->spec;
	const struct lethe_node *n;
	uint64_t v;
	int r;

	spec->health_settle = HEALTH_SETTLE_DEFAULT;
	spec->health_timeout = HEALTH_TIMEOUT_DEFAULT;
	if (!node)
		return 0;
	r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "health");
	if (r == 0)
		r = lethe_node_check_keys(c->file, node, keys);
	if (r == 0 && (n = lethe_node_get(node, "settle"))) {
		r = lethe_node_uint(c->file, n, "health.settle", 0, HEALTH_MAX, &v);
		spec->health_settle = (unsigned)v;
	}
	if (r == 0 && (n = lethe_node_get(node, "timeout"))) {
		r = lethe_node_uint(c->file, n, "health.timeout", 1, HEALTH_MAX, &v);
		spec->health_timeout = (unsigned)v;
	}
	if (r == 0 && (n = lethe_node_get(node, "command"))) {
		r = lethe_node_strv(c->file, n, "health.command", &spec->health_command);
		if (r == 0 && (spec->health_command.n == 0 || spec->health_command.v[0][0] != '/'))
			r = lethe_node_error(c->file, n,
					     "health.command: an absolute path and its arguments");
	}
	if (r == 0 && (n = lethe_node_get(node, "audit_skip"))) {
		r = lethe_node_strv(c->file, n, "health.audit_skip", &spec->health_audit_skip);
		for (size_t i = 0; r == 0 && i < spec->health_audit_skip.n; i++)
			if (strspn(spec->health_audit_skip.v[i],
				   "abcdefghijklmnopqrstuvwxyz0123456789.-") !=
				    strlen(spec->health_audit_skip.v[i]) ||
			    !spec->health_audit_skip.v[i][0])
				r = lethe_node_error(
					c->file, n,
					"health.audit_skip: '%s' is not an audit check id",
					spec->health_audit_skip.v[i]);
	}
	if (r == 0 && spec->health_settle >= spec->health_timeout)
		r = lethe_node_error(
			c->file, node,
			"health.settle (%u s) must be shorter than health.timeout (%u s)",
			spec->health_settle, spec->health_timeout);
	return r;
}
