/* lethe_build(): run the stages in order into a temporary directory beside the output
 * directory, time each one, and put the result in place only when all succeeded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <lethe/build.h>
#include <lethe/release.h>
#include <lethe/firewall.h>
#include <lethe/elf.h>
#include <lethe/pkg.h>
#include <lethe/rootfs.h>
#include <lethe/sign.h>
#include <lethe/sums.h>
#include <lethe/iso.h>
#include <lethe/uefi.h>

#include "build-internal.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int stage_resolve(struct lethe_build_ctx *ctx)
{
	const struct lethe_build_options *o = ctx->opts;
	size_t kernel = 0;
	int r;

	if (o->locked) {
		char *lock = o->lock_path
				     ? strdup(o->lock_path)
				     : lethe_path_join(ctx->spec->dir,
						       lethe_release_name(LETHE_ARTIFACT_LOCK));

		if (!lock)
			return -ENOMEM;
		r = lethe_lock_load(lock, &ctx->set);
		free(lock);
		if (r >= 0)
			r = lethe_pkg_check_lock(ctx->spec, ctx->set);
	} else {
		r = lethe_pkg_resolve(ctx->spec, o->pkg, &ctx->set);
	}
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->set->n; i++)
		kernel += ctx->set->pkgs[i].role == LETHE_PKG_KERNEL;
	snprintf(ctx->detail, sizeof(ctx->detail), "%zu packages + %zu kernel, %zu dropped%s",
		 ctx->set->n - kernel, kernel, ctx->set->dropped.n, o->locked ? " (locked)" : "");
	return 0;
}

/* The date of a .deb: the mtime of its first ar member (dpkg-deb writes the package's
 * build time, SOURCE_DATE_EPOCH for reproducible packages, into every member). */
static int deb_date(const char *path, int64_t *ret)
{
	char hdr[8 + 60], num[13];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;
	int64_t v = 0;

	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %m", path);
	n = lethe_read_full(fd, hdr, sizeof(hdr));
	close(fd);
	if (n != (ssize_t)sizeof(hdr) || memcmp(hdr, "!<arch>\n", 8))
		return lethe_error(-EBADMSG, "'%s': not an ar archive", path);
	memcpy(num, hdr + 8 + 16, 12);
	num[12] = '\0';
	for (const char *p = num; *p && *p != ' '; p++) {
		if (*p < '0' || *p > '9' || v > INT64_MAX / 10 - 10)
			return lethe_error(-EBADMSG, "'%s' offset 24: bad ar member time", path);
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return 0;
}

static int stage_fetch(struct lethe_build_ctx *ctx)
{
	uint64_t bytes = 0;
	int64_t newest = 0;
	char size[32];
	int r;

	r = lethe_pkg_fetch(ctx->spec, ctx->opts->pkg, ctx->set);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->set->n; i++) {
		int64_t d = 0;

		bytes += ctx->set->pkgs[i].size;
		r = deb_date(ctx->set->pkgs[i].path, &d);
		if (r < 0)
			return r;
		if (d > newest)
			newest = d;
	}
	/* SOURCE_DATE_EPOCH wins; else the newest package: a function of the lock. */
	ctx->epoch = lethe_source_date_epoch(newest);
	build_format_size(bytes, size);
	snprintf(ctx->detail, sizeof(ctx->detail), "%zu .debs, %s; epoch %" PRId64 "%s",
		 ctx->set->n, size, ctx->epoch,
		 ctx->epoch == newest ? " (newest package)" : " (SOURCE_DATE_EPOCH)");
	return 0;
}

static int stage_extract(struct lethe_build_ctx *ctx)
{
	struct lethe_rootfs_options ro = { .epoch = ctx->epoch,
					   .allow_devices = ctx->spec->allow_devices };
	size_t n = 0;
	int r;

	r = lethe_rootfs_populate(ctx->spec, ctx->set, ctx->root, &ro);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ctx->set->n; i++)
		n += ctx->set->pkgs[i].role == LETHE_PKG_ROOT;
	snprintf(ctx->detail, sizeof(ctx->detail), "%zu packages into the root", n);
	return 0;
}

/* After the tools went in: lethe (lethe-image) must find its libraries in the root. */
static int stage_elf(struct lethe_build_ctx *ctx)
{
	struct lethe_elf_report rep = { 0 };
	int r = lethe_elf_check_closure(ctx->root, &rep);

	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail),
			 "%u ELF objects, every interpreter and library found", rep.objects);
	return r;
}

static int stage_lock(struct lethe_build_ctx *ctx)
{
	char *path = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_LOCK));
	int r;

	if (!path)
		return -ENOMEM;
	r = lethe_lock_save(path, ctx->set);
	free(path);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail), "lethe.lock: %zu packages", ctx->set->n);
	return r;
}

/* What is at the output path before the build: nothing, an empty directory (kept as it
 * is until the finished build is renamed over it), or a Lethe release by its layout
 * (lethe_release_probe(): only artifact names, a SHA256SUMS listing exactly the other
 * files), replaced whole. Anything else is refused before any work, so that a
 * directory with a file named SHA256SUMS among others (a downloads folder) is never
 * removed (issue 10.4). */
enum outdir_kind { OUTDIR_NEW, OUTDIR_EMPTY, OUTDIR_RELEASE };

static int dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int r = 1;

	if (!d)
		return lethe_error(-errno, "cannot list '%s': %m", path);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			r = 0;
			break;
		}
	closedir(d);
	return r;
}

static int check_outdir(const char *outdir, enum outdir_kind *ret_kind)
{
	struct stat st;
	char *why;
	int r;

	*ret_kind = OUTDIR_NEW;
	if (lstat(outdir, &st) < 0)
		return errno == ENOENT ? 0 : lethe_error(-errno, "cannot stat '%s': %m", outdir);
	if (!S_ISDIR(st.st_mode))
		return lethe_error(-EEXIST, "'%s' exists and is not a directory", outdir);
	r = dir_is_empty(outdir);
	if (r < 0)
		return r;
	if (r) {
		*ret_kind = OUTDIR_EMPTY;
		return 0;
	}
	r = lethe_release_probe(outdir);
	if (r >= 0) {
		*ret_kind = OUTDIR_RELEASE;
		return 0;
	}
	why = lethe_error_message_for(r) ? strdup(lethe_error_message_for(r)) : NULL;
	r = lethe_error(-EEXIST,
			"'%s' exists and does not hold a Lethe build (%s); remove it "
			"or choose another output directory",
			outdir, why ? why : strerror(-r));
	free(why);
	return r;
}

static int make_dirs(struct lethe_build_ctx *ctx)
{
	char *copy = strdup(ctx->outdir), *slash, *base, *parent;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		parent = slash == copy ? "/" : copy;
		base = slash + 1;
	} else {
		parent = ".";
		base = copy;
	}
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		r = lethe_error(-EINVAL, "output directory '%s' must name a directory",
				ctx->outdir);
		goto out;
	}
	r = lethe_mkdir_p(parent, 0755);
	if (r < 0) {
		r = lethe_error(r, "cannot create '%s': %s", parent, strerror(-r));
		goto out;
	}
	if (asprintf(&ctx->out, "%s/.%s.tmp-XXXXXX", parent, base) < 0 ||
	    asprintf(&ctx->work, "%s/.%s.work-XXXXXX", parent, base) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (!mkdtemp(ctx->out) || !mkdtemp(ctx->work)) {
		r = lethe_error(-errno, "cannot create a directory beside '%s': %m", ctx->outdir);
		goto out;
	}
	chmod(ctx->out, 0755);
	ctx->root = lethe_path_join(ctx->work, "root");
	if (!ctx->root)
		r = -ENOMEM;
	else if (mkdir(ctx->root, 0755) < 0)
		r = lethe_error(-errno, "cannot create '%s': %m", ctx->root);
out:
	free(copy);
	return r;
}

/* Put the finished output in place: rename (over an empty directory too, which
 * rename(2) replaces only while it is empty), or exchange with an earlier build, which
 * is removed only if it still is one. */
static int install_outdir(struct lethe_build_ctx *ctx, enum outdir_kind kind)
{
	int fd = open(ctx->out, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	if (kind != OUTDIR_RELEASE) {
		if (rename(ctx->out, ctx->outdir) < 0)
			return lethe_error(-errno, "cannot rename '%s' to '%s': %m", ctx->out,
					   ctx->outdir);
		return 0;
	}
	if (renameat2(AT_FDCWD, ctx->out, AT_FDCWD, ctx->outdir, RENAME_EXCHANGE) < 0)
		return lethe_error(-errno, "cannot replace '%s': %m", ctx->outdir);
	/* ctx->out is now the earlier build: something may have been put in it since. */
	if (lethe_release_probe(ctx->out) < 0) {
		lethe_log(LETHE_LOG_WARNING,
			  "the earlier build of '%s' changed during the build; "
			  "kept as '%s'",
			  ctx->outdir, ctx->out);
		free(ctx->out);
		ctx->out = NULL;
		return 0;
	}
	lethe_rm_rf(ctx->out);
	return 0;
}

static int collect_artifacts(struct lethe_build_ctx *ctx, struct lethe_build_result *res)
{
	struct lethe_sums sums = { 0 };
	char *path = lethe_path_join(ctx->out, lethe_release_name(LETHE_ARTIFACT_SUMS));
	const char *const extra[] = { lethe_release_names[LETHE_ARTIFACT_SUMS],
				      lethe_release_names[LETHE_ARTIFACT_SIG] };
	int r;

	if (!path)
		return -ENOMEM;
	r = lethe_sums_load(path, &sums);
	free(path);
	if (r < 0)
		return r;
	res->artifacts = calloc(sums.n + 2, sizeof(*res->artifacts));
	if (!res->artifacts) {
		lethe_sums_release(&sums);
		return -ENOMEM;
	}
	for (size_t i = 0; i < sums.n + 2 && r >= 0; i++) {
		struct lethe_build_artifact *a = &res->artifacts[res->n_artifacts];
		const char *name = i < sums.n ? sums.v[i].name : extra[i - sums.n];
		char *p = lethe_path_join(ctx->out, name);
		struct stat st;

		a->name = strdup(name);
		if (!p || !a->name || stat(p, &st) < 0) {
			r = p && a->name ? -errno : -ENOMEM;
			free(p);
			break;
		}
		a->size = (uint64_t)st.st_size;
		if (i < sums.n)
			memcpy(a->sha256, sums.v[i].sha256, 32);
		else
			r = lethe_sums_sha256_file(AT_FDCWD, p, a->sha256);
		free(p);
		res->n_artifacts++;
	}
	lethe_sums_release(&sums);
	return r;
}

static int run_stage(struct lethe_build_ctx *ctx, struct lethe_build_result *res,
		     const struct build_stage *s, size_t index, size_t total)
{
	double t = now(), dt;
	int r;

	lethe_log(LETHE_LOG_PROGRESS, "[%zu/%zu] %s ...", index + 1, total, s->name);
	ctx->detail[0] = '\0';
	r = s->run(ctx);
	dt = now() - t;
	if (res->n_stages < LETHE_BUILD_MAX_STAGES) {
		res->stages[res->n_stages].name = s->name;
		res->stages[res->n_stages].seconds = dt;
		res->n_stages++;
	}
	if (r < 0) {
		if (!lethe_error_message_for(r))
			lethe_error(r, "stage '%s' failed: %s", s->name, strerror(-r));
		return r;
	}
	lethe_log(LETHE_LOG_INFO, "%-11s %6.2f s  %s", s->name, dt, ctx->detail);
	return 0;
}

static void ctx_release(struct lethe_build_ctx *ctx)
{
	build_kernel_release(ctx); /* before its directory goes */
	if (ctx->out)
		lethe_rm_rf(ctx->out);
	if (ctx->work)
		lethe_rm_rf(ctx->work);
	free(ctx->out);
	free(ctx->work);
	free(ctx->root);
	free(ctx->kernel_dir);
	free(ctx->outdir);
	free(ctx->image_tool);
	free(ctx->init);
	build_sb_release(ctx);
	lethe_pkgset_free(ctx->set);
	lethe_spec_free(ctx->spec);
}

static int prepare(struct lethe_build_ctx *ctx, struct lethe_build_result *res,
		   struct lethe_sign_seckey **devkey, enum outdir_kind *kind)
{
	const struct lethe_build_options *o = ctx->opts;
	int r;

	r = lethe_spec_load(o->spec_path, &ctx->spec);
	if (r < 0)
		return r;
	/* The firewall section is interpreted only at boot: check it before any work. */
	struct lethe_firewall *fw = NULL;

	r = lethe_firewall_from_spec(ctx->spec, &fw);
	lethe_firewall_free(fw);
	if (r < 0)
		return r;
	/* A kernel means a UKI and an ESP: their tools must be there before any work. */
	if (ctx->spec->kernel.package) {
		r = lethe_uefi_check_tools();
		if (r >= 0)
			r = lethe_iso_check_tools();
		if (r < 0)
			return r;
	}
	r = build_sb_prepare(ctx);
	if (r < 0)
		return r;
	ctx->outdir = strdup(o->outdir);
	if (!ctx->outdir)
		return -ENOMEM;
	while (strlen(ctx->outdir) > 1 && ctx->outdir[strlen(ctx->outdir) - 1] == '/')
		ctx->outdir[strlen(ctx->outdir) - 1] = '\0';
	r = check_outdir(ctx->outdir, kind);
	if (r >= 0)
		r = o->image_tool ? ((ctx->image_tool = strdup(o->image_tool)) ? 0 : -ENOMEM)
				  : lethe_build_find_tool("lethe-image", "LETHE_IMAGE_TOOL",
							  &ctx->image_tool);
	if (r >= 0)
		r = o->init ? ((ctx->init = strdup(o->init)) ? 0 : -ENOMEM)
			    : lethe_build_find_tool("lethe-init", "LETHE_INIT", &ctx->init);
	if (r < 0)
		return r;
	ctx->key = o->key;
	if (!ctx->key) {
		r = lethe_build_dev_key(&res->dev_key_path);
		if (r >= 0)
			r = lethe_sign_seckey_load(res->dev_key_path, NULL, devkey);
		if (r < 0)
			return r;
		ctx->key = *devkey;
	}
	return make_dirs(ctx);
}

/* The pipeline, in order: the one place the order is written (docs/build.md describes
 * each stage). The boot stages run once the root hash is known; every file a stage
 * writes into ctx->out is covered by the sums stage. */
static const struct build_stage stages[] = {
	{ "resolve", stage_resolve },
	{ "fetch", stage_fetch },
	{ "esp-check", build_stage_esp_check }, /* esp-check.c: before any unpacking */
	{ "kernel", build_stage_kernel }, /* a thread, joined by kernel-wait */
	{ "extract", stage_extract },
	{ "tools", build_stage_tools },
	{ "elf", stage_elf },
	{ "manifest", build_stage_manifest },
	{ "image", build_stage_image },
	{ "verity", build_stage_verity },
	{ "kernel-wait", build_stage_kernel_wait },
	{ "airgap", build_stage_airgap }, /* airgap.c: network: none */
	{ "boot", build_stage_boot },
	{ "uki", build_stage_uki },
	{ "sb-sign", build_stage_sb_sign },
	{ "pcr", build_stage_pcr },
	{ "disk", build_stage_disk },
	{ "iso", build_stage_iso },
	{ "sbom", build_stage_sbom },
	{ "lock", stage_lock },
	{ "provenance", build_stage_provenance }, /* after every output but the sums */
	{ "sums", build_stage_sums },
	{ "sign", build_stage_sign },
};
_Static_assert(LETHE_ARRAY_SIZE(stages) <= LETHE_BUILD_MAX_STAGES, "too many build stages");

int lethe_build(const struct lethe_build_options *opts, struct lethe_build_result *ret)
{
	struct lethe_build_ctx ctx = { .opts = opts };
	struct lethe_build_result res = { 0 };
	struct lethe_sign_seckey *devkey = NULL;
	struct build_watch watch = { .fd = -1 };
	double t0 = now();
	enum outdir_kind kind = OUTDIR_NEW;
	mode_t old_umask;
	int r;

	/* Modes of what the build creates must not depend on the caller's umask. */
	old_umask = umask(022);
	r = build_watch_start(&watch);
	if (r >= 0)
		r = prepare(&ctx, &res, &devkey, &kind);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(stages) && r >= 0 && !build_cancelled(); i++)
		r = run_stage(&ctx, &res, &stages[i], i, LETHE_ARRAY_SIZE(stages));
	if (r >= 0 && !build_cancelled())
		r = collect_artifacts(&ctx, &res);
	/* Interrupted: whatever failed because its tool was stopped, the cause is this. */
	if (build_cancelled())
		r = lethe_error(-ECANCELED, "the build was interrupted; '%s' is as it was",
				opts->outdir);
	if (r >= 0)
		r = install_outdir(&ctx, kind);
	if (r >= 0) {
		free(ctx.out);
		ctx.out = NULL; /* in place now: not to be removed */
		memcpy(res.roothash_hex, ctx.roothash_hex, sizeof(res.roothash_hex));
		res.epoch = ctx.epoch;
		res.manifest = ctx.manifest;
		for (size_t i = 0; i < ctx.set->n; i++) {
			if (ctx.set->pkgs[i].role == LETHE_PKG_KERNEL)
				res.n_kernel_packages++;
			else
				res.n_packages++;
		}
		for (size_t i = 0; i < ctx.set->dropped.n && r >= 0; i++)
			r = lethe_strv_push(&res.dropped, ctx.set->dropped.v[i]);
	}
	ctx_release(&ctx);
	build_watch_stop(&watch); /* after ctx_release: the kernel thread's tools too */
	lethe_sign_seckey_free(devkey);
	umask(old_umask);
	res.seconds = now() - t0;
	if (r < 0 || !ret)
		lethe_build_result_release(&res);
	else
		*ret = res;
	return r;
}

void lethe_build_result_release(struct lethe_build_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_artifacts; i++)
		free(r->artifacts[i].name);
	free(r->artifacts);
	free(r->dev_key_path);
	lethe_strv_release(&r->dropped);
	memset(r, 0, sizeof(*r));
}
