/* Running the audit: the context the checks read, the selection of checks, the report
 * and its JSON form. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/boot.h>

#include "audit-internal.h"

int audit_read(const struct audit_ctx *ctx, const char *rel, char **ret)
{
	char *path = lethe_path_join(ctx->root, rel), *data;
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = lethe_file_read(path, 1u << 20, &data, &len);
	free(path);
	if (r < 0) {
		lethe_error_clear(); /* a missing file is evidence, not an error of the audit */
		return r;
	}
	while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
		data[--len] = '\0';
	*ret = data;
	return 0;
}

bool audit_cmdline_has(const struct audit_ctx *ctx, const char *word)
{
	return lethe_strv_contains(&ctx->cmdline_words, word);
}

const struct lethe_mount *audit_find_mount(const struct audit_ctx *ctx, const char *path)
{
	const struct lethe_mount *found = NULL;

	for (size_t i = 0; i < ctx->mounts.n; i++)
		if (!strcmp(ctx->mounts.v[i].mountpoint, path))
			found = &ctx->mounts.v[i];
	return found;
}

int audit_set(struct lethe_audit_result *r, enum lethe_audit_verdict v, const char *fmt, ...)
{
	struct lethe_buf b = { 0 };
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	b.data = malloc((size_t)n + 1);
	if (!b.data)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf(b.data, (size_t)n + 1, fmt, ap);
	va_end(ap);
	free(r->evidence);
	r->evidence = b.data;
	r->verdict = v;
	return 0;
}

static bool in_list(const char *const *list, const char *id)
{
	for (; list && *list; list++)
		if (!strcmp(*list, id))
			return true;
	return false;
}

static int validate_ids(const char *const *list, const char *what)
{
	for (; list && *list; list++) {
		bool known = false;

		for (size_t i = 0; i < audit_n_checks; i++)
			known = known || !strcmp(audit_checks[i].info.id, *list);
		if (!known)
			return lethe_error(-EINVAL, "%s: unknown check '%s'", what, *list);
	}
	return 0;
}

/* As the kernel splits it (quotes group and are removed); strtok where it cannot. */
static int split_cmdline(struct audit_ctx *ctx)
{
	char *copy, *save = NULL;
	int r;

	if (lethe_boot_cmdline_split(ctx->cmdline, &ctx->cmdline_words) == 0)
		return 0;
	lethe_error_clear();
	lethe_strv_release(&ctx->cmdline_words);
	copy = strdup(ctx->cmdline);
	r = 0;
	if (!copy)
		return -ENOMEM;
	for (char *w = strtok_r(copy, " \t\n", &save); w && r >= 0;
	     w = strtok_r(NULL, " \t\n", &save))
		r = lethe_strv_push(&ctx->cmdline_words, w);
	free(copy);
	return r;
}

/* The spec the system was built from, if there is one. A spec that does not parse is
 * a failure of the audit: it cannot judge against a spec it cannot read. */
static int load_spec(struct audit_ctx *ctx, const char *spec_path)
{
	char *path = NULL;
	int r;

	if (!spec_path) {
		path = lethe_path_join(ctx->root, LETHE_PATH_SPEC + 1);
		if (!path)
			return -ENOMEM;
		if (access(path, F_OK) < 0) {
			free(path);
			return 0;
		}
		spec_path = path;
	}
	r = lethe_spec_load_flags(spec_path, LETHE_SPEC_LOAD_IN_IMAGE, &ctx->spec);
	free(path);
	return r;
}

static int ctx_init(struct audit_ctx *ctx, const struct lethe_audit_options *opts)
{
	char *mountinfo;
	int r;

	ctx->root = opts->root ? opts->root : "/";
	ctx->pcr_path = opts->pcr_path;
	ctx->live = strcmp(ctx->root, "/") == 0;
	if (audit_read(ctx, "proc/cmdline", &ctx->cmdline) < 0 && !(ctx->cmdline = strdup("")))
		return -ENOMEM;
	r = split_cmdline(ctx);
	if (r < 0)
		return r;
	if (audit_read(ctx, "proc/self/mountinfo", &mountinfo) >= 0) {
		r = lethe_mountinfo_parse("proc/self/mountinfo", mountinfo, &ctx->mounts);
		free(mountinfo);
		if (r < 0)
			return r;
		ctx->have_mounts = true;
	}
	return load_spec(ctx, opts->spec_path);
}

static void ctx_release(struct audit_ctx *ctx)
{
	free(ctx->cmdline);
	lethe_strv_release(&ctx->cmdline_words);
	lethe_mounts_release(&ctx->mounts);
	lethe_spec_free(ctx->spec);
}

int lethe_audit_run(const struct lethe_audit_options *opts, struct lethe_audit_report **ret)
{
	struct audit_ctx ctx = { 0 };
	struct lethe_audit_report *rep;
	char hex[LETHE_ROOTHASH_HEX + 1];
	int r;

	r = validate_ids(opts->only, "--only");
	if (r >= 0)
		r = validate_ids(opts->skip, "--skip");
	if (r < 0)
		return r;
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	ctx.report = rep;
	rep->results = calloc(audit_n_checks, sizeof(*rep->results));
	if (!rep->results) {
		r = -ENOMEM;
		goto fail;
	}
	r = ctx_init(&ctx, opts);
	if (r < 0)
		goto fail;
	rep->lethe_system =
		lethe_cmdline_roothash(ctx.cmdline, strlen(ctx.cmdline), hex) != -ENOENT;
	r = audit_blockdevs(&ctx);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < audit_n_checks; i++) {
		const struct audit_check *c = &audit_checks[i];
		struct lethe_audit_result *res = &rep->results[rep->n_results];

		if ((opts->only && !in_list(opts->only, c->info.id)) ||
		    in_list(opts->skip, c->info.id))
			continue;
		res->id = c->info.id;
		res->title = c->info.title;
		res->controls = c->info.controls;
		rep->n_results++;
		r = c->run(&ctx, res);
		if (r < 0)
			goto fail;
	}
	ctx_release(&ctx);
	*ret = rep;
	return 0;
fail:
	ctx_release(&ctx);
	lethe_audit_report_free(rep);
	return r;
}

struct lethe_audit_report *lethe_audit_report_free(struct lethe_audit_report *rep)
{
	if (!rep)
		return NULL;
	for (size_t i = 0; i < rep->n_results; i++)
		free(rep->results[i].evidence);
	free(rep->results);
	for (size_t i = 0; i < rep->n_blockdevs; i++) {
		free(rep->blockdevs[i].name);
		free(rep->blockdevs[i].type);
		free(rep->blockdevs[i].fstype);
		lethe_strv_release(&rep->blockdevs[i].mountpoints);
	}
	free(rep->blockdevs);
	free(rep);
	return NULL;
}

bool lethe_audit_passed(const struct lethe_audit_report *rep)
{
	for (size_t i = 0; i < rep->n_results; i++)
		if (rep->results[i].verdict == LETHE_AUDIT_FAIL)
			return false;
	return true;
}

const char *lethe_audit_verdict_name(enum lethe_audit_verdict v)
{
	switch (v) {
	case LETHE_AUDIT_PASS:
		return "pass";
	case LETHE_AUDIT_FAIL:
		return "fail";
	case LETHE_AUDIT_NOT_APPLICABLE:
		return "not-applicable";
	}
	return "?";
}

static struct json_object *blockdev_json(const struct lethe_audit_blockdev *d)
{
	struct json_object *o = json_object_new_object(), *mps = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(d->name));
	json_object_object_add(o, "type", json_object_new_string(d->type));
	json_object_object_add(
		o, "size",
		json_object_new_int64((int64_t)(d->size > INT64_MAX ? INT64_MAX : d->size)));
	json_object_object_add(o, "removable", json_object_new_boolean(d->removable));
	json_object_object_add(o, "read_only", json_object_new_boolean(d->read_only));
	json_object_object_add(o, "fstype", d->fstype ? json_object_new_string(d->fstype) : NULL);
	for (size_t i = 0; i < d->mountpoints.n; i++)
		json_object_array_add(mps, json_object_new_string(d->mountpoints.v[i]));
	json_object_object_add(o, "mountpoints", mps);
	json_object_object_add(o, "mounted_writable", json_object_new_boolean(d->mounted_writable));
	return o;
}

struct json_object *lethe_audit_report_json(const struct lethe_audit_report *rep)
{
	struct json_object *o = json_object_new_object(), *checks = json_object_new_array(),
			   *devs = json_object_new_array(), *sum = json_object_new_object();
	int64_t counts[3] = { 0 };

	for (size_t i = 0; i < rep->n_results; i++) {
		const struct lethe_audit_result *r = &rep->results[i];
		struct json_object *c = json_object_new_object();

		counts[r->verdict]++;
		json_object_object_add(c, "id", json_object_new_string(r->id));
		json_object_object_add(c, "title", json_object_new_string(r->title));
		json_object_object_add(
			c, "verdict", json_object_new_string(lethe_audit_verdict_name(r->verdict)));
		json_object_object_add(c, "evidence",
				       json_object_new_string(r->evidence ? r->evidence : ""));
		json_object_object_add(c, "controls", json_object_new_string(r->controls));
		json_object_array_add(checks, c);
	}
	for (size_t i = 0; i < rep->n_blockdevs; i++)
		json_object_array_add(devs, blockdev_json(&rep->blockdevs[i]));
	json_object_object_add(sum, "pass", json_object_new_int64(counts[LETHE_AUDIT_PASS]));
	json_object_object_add(sum, "fail", json_object_new_int64(counts[LETHE_AUDIT_FAIL]));
	json_object_object_add(sum, "not_applicable",
			       json_object_new_int64(counts[LETHE_AUDIT_NOT_APPLICABLE]));

	json_object_object_add(o, "schema", json_object_new_string("lethe-audit"));
	json_object_object_add(o, "version", json_object_new_int(LETHE_AUDIT_SCHEMA_VERSION));
	json_object_object_add(o, "lethe_system", json_object_new_boolean(rep->lethe_system));
	json_object_object_add(o, "passed", json_object_new_boolean(lethe_audit_passed(rep)));
	json_object_object_add(o, "summary", sum);
	json_object_object_add(o, "checks", checks);
	json_object_object_add(o, "block_devices", devs);
	return o;
}
