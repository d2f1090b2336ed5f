/* The stages that turn the staged root into the release: manifest.mtree, rootfs.erofs,
 * rootfs.verity and roothash, the SBOMs, SHA256SUMS and its signature. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <lethe/build.h>
#include <lethe/contract.h>
#include <lethe/release.h>
#include <lethe/image.h>
#include <lethe/manifest.h>
#include <lethe/sbom.h>
#include <lethe/sign.h>
#include <lethe/sums.h>
#include <lethe/verity.h>

#include "build-internal.h"

void build_format_size(uint64_t bytes, char out[32])
{
	if (bytes >= 10ull << 20)
		snprintf(out, 32, "%.1f MB", (double)bytes / 1e6);
	else if (bytes >= 10000)
		snprintf(out, 32, "%.1f kB", (double)bytes / 1e3);
	else
		snprintf(out, 32, "%" PRIu64 " bytes", bytes);
}

static int out_path(struct lethe_build_ctx *ctx, const char *name, char **ret)
{
	*ret = lethe_path_join(ctx->out, name);
	return *ret ? 0 : -ENOMEM;
}

uint64_t build_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* The image carries its own manifest for `lethe fim check` (LETHE_PATH_MANIFEST), put
 * in after the root was described, so that it does not list itself. */
static int build_manifest_into_root(struct lethe_build_ctx *ctx, const char *manifest)
{
	char *text = NULL, *dest = lethe_path_join(ctx->root, LETHE_PATH_MANIFEST + 1);
	size_t len;
	int r = dest ? lethe_file_read(manifest, 1u << 30, &text, &len) : -ENOMEM;

	if (r >= 0)
		r = lethe_file_write_atomic(dest, text, len, 0644);
	if (r < 0 && dest)
		r = lethe_error(r, "cannot write '%s': %s", dest, strerror(-r));
	free(text);
	free(dest);
	return r;
}

int build_stage_manifest(struct lethe_build_ctx *ctx)
{
	char *path, size[32];
	int r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_MANIFEST), &path);

	if (r < 0)
		return r;
	r = lethe_manifest_write(ctx->root, path, &ctx->manifest);
	if (r >= 0)
		r = build_manifest_into_root(ctx, path);
	if (r >= 0) {
		build_format_size(ctx->manifest.bytes, size);
		snprintf(ctx->detail, sizeof(ctx->detail),
			 "%" PRIu64 " files, %" PRIu64 " directories, %" PRIu64 " links, %s",
			 ctx->manifest.files, ctx->manifest.dirs, ctx->manifest.links, size);
	}
	free(path);
	return r;
}

int build_stage_image(struct lethe_build_ctx *ctx)
{
	struct lethe_image_options o = { .compression = ctx->spec->compression,
					 .epoch = ctx->epoch };
	char *path = NULL, *mpath = NULL, uuid[37], size[32];
	uint8_t mdigest[32];
	int r;

	/* The file system UUID derives from the manifest: the tree's whole content. */
	r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_ROOTFS), &path);
	if (r >= 0)
		r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_MANIFEST), &mpath);
	if (r >= 0)
		r = lethe_sums_sha256_file(AT_FDCWD, mpath, mdigest);
	if (r < 0)
		goto out;
	lethe_image_uuid(mdigest, uuid);
	o.uuid = uuid;
	r = lethe_image_erofs(ctx->root, path, &o);
	if (r >= 0)
		r = lethe_sums_sha256_file(AT_FDCWD, path, ctx->rootfs_sha256);
	if (r >= 0) {
		build_format_size(build_file_size(path), size);
		snprintf(ctx->detail, sizeof(ctx->detail), "rootfs.erofs %s, %s, UUID %s", size,
			 o.compression ? o.compression : LETHE_IMAGE_DEFAULT_COMPRESSION, uuid);
	}
out:
	free(path);
	free(mpath);
	return r;
}

int build_stage_verity(struct lethe_build_ctx *ctx)
{
	struct lethe_verity_params p;
	char *data = NULL, *hash = NULL, *rh = NULL, seed[65], size[32], line[140];
	size_t dsize;
	int r;

	lethe_verity_params_init(&p);
	/* The salt derives from the image (no random salt may leak into a release). */
	lethe_hex_encode(ctx->rootfs_sha256, 32, seed);
	r = lethe_verity_salt_from_seed(&p, seed);
	if (r >= 0)
		r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_ROOTFS), &data);
	if (r >= 0)
		r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_VERITY), &hash);
	if (r >= 0)
		r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_ROOTHASH), &rh);
	if (r < 0)
		goto out;
	dsize = lethe_verity_digest_size(p.hash_name);
	r = lethe_verity_format(data, hash, &p, ctx->roothash, sizeof(ctx->roothash));
	if (r < 0)
		goto out;
	ctx->roothash_len = dsize;
	lethe_hex_encode(ctx->roothash, dsize, ctx->roothash_hex);
	snprintf(line, sizeof(line), "%s\n", ctx->roothash_hex);
	r = lethe_file_write_atomic(rh, line, strlen(line), 0644);
	if (r < 0) {
		r = lethe_error(r, "cannot write '%s': %s", rh, strerror(-r));
		goto out;
	}
	build_format_size(build_file_size(hash), size);
	snprintf(ctx->detail, sizeof(ctx->detail), "rootfs.verity %s, root hash %s", size,
		 ctx->roothash_hex);
out:
	free(data);
	free(hash);
	free(rh);
	return r;
}

int build_stage_sbom(struct lethe_build_ctx *ctx)
{
	struct lethe_sbom_package *pkgs;
	struct lethe_sbom_image img = {
		.name = ctx->spec->name,
		.version = ctx->spec->version,
		.rootfs_sha256 = ctx->rootfs_sha256,
		.epoch = ctx->epoch,
		.tool_version = build_version,
	};
	size_t n = ctx->set->n;
	int r;

	pkgs = calloc(n ? n : 1, sizeof(*pkgs));
	if (!pkgs)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct lethe_pkg *p = &ctx->set->pkgs[i];

		pkgs[i] = (struct lethe_sbom_package){
			.name = p->name,
			.version = p->version,
			.arch = p->arch,
			.sha256 = p->have_sha256 ? p->sha256 : NULL,
			.maintainer = p->control.maintainer,
			.summary = p->control.summary,
			.depends = p->control.depends,
			.pre_depends = p->control.pre_depends,
			.licenses = &p->licenses,
			.kernel = p->role == LETHE_PKG_KERNEL,
		};
	}
	r = lethe_sbom_write(ctx->out, &img, pkgs, n);
	free(pkgs);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail),
			 "sbom.spdx.json, sbom.cdx.json: %zu packages", n);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int build_stage_sums(struct lethe_build_ctx *ctx)
{
	struct lethe_strv names = { 0 };
	char *path = NULL;
	DIR *d;
	struct dirent *de;
	int r = 0;

	/* Every regular file of the output, whoever made it; none but the sums. */
	d = opendir(ctx->out);
	if (!d)
		return lethe_error(-errno, "cannot list '%s': %m", ctx->out);
	while ((de = readdir(d)) && r >= 0) {
		struct stat st;

		if (de->d_name[0] == '.' ||
		    !strcmp(de->d_name, lethe_release_name(LETHE_ARTIFACT_SUMS)) ||
		    !strcmp(de->d_name, lethe_release_name(LETHE_ARTIFACT_SIG)))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = -errno;
			break;
		}
		if (!S_ISREG(st.st_mode)) {
			r = lethe_error(-EBADMSG, "'%s/%s' is not a regular file", ctx->out,
					de->d_name);
			break;
		}
		r = lethe_strv_push(&names, de->d_name);
	}
	closedir(d);
	if (r >= 0 && names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	if (r >= 0)
		r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_SUMS), &path);
	if (r >= 0)
		r = lethe_sums_write(path, ctx->out, (const char *const *)names.v, names.n);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail), "SHA256SUMS: %zu files", names.n);
	free(path);
	lethe_strv_release(&names);
	return r;
}

int build_stage_sign(struct lethe_build_ctx *ctx)
{
	struct lethe_sign_opts so = { 0 };
	struct lethe_sign_pubkey pub;
	char *path = NULL, *sig = NULL, tc[128], keyid[LETHE_SIGN_KEYID_STRLEN];
	int r;

	/* The trusted comment carries the build's epoch, not the time of signing: the
	 * signature (Ed25519 is deterministic) is then as reproducible as the rest. */
	snprintf(tc, sizeof(tc), "timestamp:%" PRId64 "\tfile:%s\thashed", ctx->epoch,
		 lethe_release_name(LETHE_ARTIFACT_SUMS));
	so.trusted_comment = tc;
	r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_SUMS), &path);
	if (r >= 0)
		r = out_path(ctx, lethe_release_name(LETHE_ARTIFACT_SIG), &sig);
	if (r >= 0)
		r = lethe_sign_file_opts(ctx->key, path, &so, sig);
	if (r >= 0) {
		lethe_sign_seckey_pubkey(ctx->key, &pub);
		lethe_sign_keyid_format(pub.keyid, keyid);
		snprintf(ctx->detail, sizeof(ctx->detail), "SHA256SUMS.minisig, key %s", keyid);
	}
	free(path);
	free(sig);
	return r;
}
