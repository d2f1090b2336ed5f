/* The provenance stage: provenance.intoto.json over every output written so far (issue
 * 18.4), with the spec, the lock and every package as resolved dependencies. It runs
 * just before SHA256SUMS, which then lists and so signs it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <lethe/provenance.h>
#include <lethe/release.h>
#include <lethe/sbom.h>
#include <lethe/sums.h>

#include "build-internal.h"

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

int build_stage_provenance(struct lethe_build_ctx *ctx)
{
	const char *lock_name = lethe_release_name(LETHE_ARTIFACT_LOCK);
	struct lethe_provenance_build b = {
		.spec_name = base_name(ctx->spec->path),
		.epoch = ctx->epoch,
		.builder_version = build_version,
	};
	struct lethe_provenance_input *in;
	uint8_t spec_sha[32], lock_sha[32];
	char **purls;
	char *lock = NULL;
	size_t n = 0;
	int r;

	in = calloc(ctx->set->n + 2, sizeof(*in));
	purls = calloc(ctx->set->n + 1, sizeof(*purls));
	if (!in || !purls) {
		r = -ENOMEM;
		goto out;
	}
	/* The lock built from: the one given with --locked, else the one resolved. */
	lock = ctx->opts->locked && ctx->opts->lock_path ? strdup(ctx->opts->lock_path)
	       : ctx->opts->locked ? lethe_path_join(ctx->spec->dir, lock_name)
				   : lethe_path_join(ctx->out, lock_name);
	r = lock ? lethe_sums_sha256_file(AT_FDCWD, ctx->spec->path, spec_sha) : -ENOMEM;
	if (r >= 0)
		r = lethe_sums_sha256_file(AT_FDCWD, lock, lock_sha);
	if (r < 0)
		goto out;
	in[n++] = (struct lethe_provenance_input){ .name = b.spec_name,
						   .media_type = "application/yaml",
						   .sha256 = spec_sha };
	in[n++] = (struct lethe_provenance_input){ .name = lock_name, .sha256 = lock_sha };
	for (size_t i = 0; i < ctx->set->n && r >= 0; i++) {
		const struct lethe_pkg *p = &ctx->set->pkgs[i];

		if (!p->have_sha256)
			continue;
		r = lethe_sbom_purl(p->name, p->version, p->arch, &purls[i]);
		if (r >= 0)
			in[n++] = (struct lethe_provenance_input){
				.name = p->filename ? p->filename : p->name,
				.uri = purls[i],
				.media_type = "application/vnd.debian.binary-package",
				.sha256 = p->sha256,
			};
	}
	b.inputs = in;
	b.n_inputs = n;
	if (r >= 0)
		r = lethe_provenance_write(ctx->out, &b);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail), "%s: %zu inputs",
			 lethe_release_name(LETHE_ARTIFACT_PROVENANCE), n);
out:
	for (size_t i = 0; purls && i < ctx->set->n; i++)
		free(purls[i]);
	free(purls);
	free(in);
	free(lock);
	return r;
}
