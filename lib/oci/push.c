/* lethe_oci_push(): a release as one OCI artifact manifest, each file a layer, and the
 * signature, SBOMs and provenance attached as referrers (issue 18.1). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <lethe/release.h>
#include <lethe/sign.h>
#include <lethe/sums.h>

#include "oci-internal.h"

/* The empty config of the image spec: "{}", and its digest. */
static const char empty_json[] = "{}";

/* One media type per artifact: every artifact of names.c has its own (test-oci checks
 * that none is missing and none repeats, so a new artifact cannot go out unnamed). */
static const char *const media_types[LETHE_ARTIFACT_MAX] = {
	[LETHE_ARTIFACT_ROOTFS] = "application/vnd.lethe.rootfs.erofs.v1",
	[LETHE_ARTIFACT_VERITY] = "application/vnd.lethe.rootfs.verity.v1",
	[LETHE_ARTIFACT_ROOTHASH] = "application/vnd.lethe.root-hash.v1+text",
	[LETHE_ARTIFACT_MANIFEST] = "application/vnd.lethe.manifest.mtree.v1",
	[LETHE_ARTIFACT_SBOM_SPDX] = "application/spdx+json",
	[LETHE_ARTIFACT_SBOM_CDX] = "application/vnd.cyclonedx+json",
	[LETHE_ARTIFACT_LOCK] = "application/vnd.lethe.lock.v1+text",
	[LETHE_ARTIFACT_KERNEL] = "application/vnd.lethe.kernel.v1",
	[LETHE_ARTIFACT_INITRAMFS] = "application/vnd.lethe.initramfs.v1",
	[LETHE_ARTIFACT_CMDLINE] = "application/vnd.lethe.cmdline.v1+text",
	[LETHE_ARTIFACT_DISK] = "application/vnd.lethe.disk.v1",
	[LETHE_ARTIFACT_SUMS] = "application/vnd.lethe.sha256sums.v1+text",
	[LETHE_ARTIFACT_SIG] = "application/vnd.lethe.minisig.v1",
	[LETHE_ARTIFACT_UKI] = "application/vnd.lethe.uki.v1+efi",
	[LETHE_ARTIFACT_PROVENANCE] = "application/vnd.in-toto+json",
	[LETHE_ARTIFACT_PCR] = "application/vnd.lethe.pcr.v1+json",
	[LETHE_ARTIFACT_ISO] = "application/vnd.lethe.iso.v1",
};

const char *lethe_oci_media_type(const char *file_name)
{
	enum lethe_release_artifact a;

	if (lethe_release_artifact_from_name(file_name, &a) == 0 && media_types[a])
		return media_types[a];
	return "application/vnd.lethe.file.v1";
}

/* Attached as referrers too: what a scanner or a policy engine looks for. */
static bool is_referrer(enum lethe_release_artifact a)
{
	return a == LETHE_ARTIFACT_SIG || a == LETHE_ARTIFACT_SBOM_SPDX ||
	       a == LETHE_ARTIFACT_SBOM_CDX || a == LETHE_ARTIFACT_PROVENANCE;
}

struct layer {
	enum lethe_release_artifact a;
	const char *name;
	uint64_t size;
	uint8_t sha256[32];
	struct oci_body body;
};

struct push {
	struct oci_client c;
	struct lethe_oci_ref ref;
	struct layer layers[LETHE_OCI_MAX_LAYERS];
	size_t n;
	char *sums_text, *sig_text;
	size_t sums_len, sig_len;
	uint8_t empty_sha[32];
};

/* ---- blobs ---- */

static int blob_exists(struct push *p, const char *digest, uint64_t size, bool *ret)
{
	struct oci_response resp;
	char path[600];
	int r;

	snprintf(path, sizeof(path), "/v2/%s/blobs/%s", p->ref.repo, digest);
	r = oci_request(&p->c, "HEAD", path, NULL, NULL, NULL, &resp);
	if (r >= 0 && resp.status != 200 && resp.status != 404)
		r = oci_status_error(&p->c, -EIO, "checking a blob", &resp);
	if (r >= 0)
		*ret = resp.status == 200 && (!resp.content_length || resp.content_length == size);
	oci_response_release(&resp);
	return r;
}

static int blob_upload(struct push *p, const char *digest, const struct oci_body *body)
{
	static const char *const octet[] = { "Content-Type: application/octet-stream", NULL };
	struct oci_response resp;
	struct lethe_buf url = { 0 };
	char path[600];
	int r;

	/* POST then PUT: some registries ignore a single-POST monolithic upload. */
	snprintf(path, sizeof(path), "/v2/%s/blobs/uploads/", p->ref.repo);
	r = oci_request(&p->c, "POST", path, NULL, NULL, NULL, &resp);
	if (r >= 0 && (resp.status != 202 || !resp.location))
		r = oci_status_error(&p->c, -EIO, "starting an upload", &resp);
	if (r >= 0)
		r = lethe_buf_printf(&url, "%s%s%sdigest=%s",
				     strstr(resp.location, "://") ? "" : p->c.base, resp.location,
				     strchr(resp.location, '?') ? "&" : "?", digest);
	oci_response_release(&resp);
	if (r < 0)
		goto out;
	r = oci_request(&p->c, "PUT", url.data, octet, body, NULL, &resp);
	if (r >= 0 && resp.status != 201)
		r = oci_status_error(&p->c, -EIO, "uploading a blob", &resp);
	if (r >= 0 && resp.digest && strcmp(resp.digest, digest))
		r = lethe_error(-EPROTO, "'%s' stored blob %s as %s", p->c.host, digest,
				resp.digest);
	oci_response_release(&resp);
out:
	lethe_buf_release(&url);
	return r;
}

static int push_blob(struct push *p, const uint8_t sha256[32], const struct oci_body *body)
{
	uint64_t size = body->fd >= 0 ? body->size : body->len;
	char digest[72];
	bool have = false;
	int r;

	oci_digest_string(sha256, digest);
	r = blob_exists(p, digest, size, &have);
	if (r >= 0 && have) {
		if (p->c.stats)
			p->c.stats->blobs_skipped++;
		return 0;
	}
	if (r >= 0)
		r = blob_upload(p, digest, body);
	if (r >= 0 && p->c.stats)
		p->c.stats->blobs_uploaded++;
	return r;
}

/* ---- manifests ---- */

static struct json_object *descriptor(const char *type, const uint8_t sha256[32], uint64_t size,
				      const char *title)
{
	struct json_object *d = json_object_new_object();
	char digest[72];

	oci_digest_string(sha256, digest);
	json_object_object_add(d, "mediaType", json_object_new_string(type));
	json_object_object_add(d, "digest", json_object_new_string(digest));
	json_object_object_add(d, "size", json_object_new_int64((int64_t)size));
	if (title) {
		struct json_object *ann = json_object_new_object();

		json_object_object_add(ann, LETHE_OCI_TITLE, json_object_new_string(title));
		json_object_object_add(d, "annotations", ann);
	}
	return d;
}

static struct json_object *manifest_head(const char *artifact_type, const uint8_t empty_sha[32])
{
	struct json_object *m = json_object_new_object();

	json_object_object_add(m, "schemaVersion", json_object_new_int(2));
	json_object_object_add(m, "mediaType", json_object_new_string(LETHE_OCI_MANIFEST_TYPE));
	json_object_object_add(m, "artifactType", json_object_new_string(artifact_type));
	json_object_object_add(m, "config", descriptor(LETHE_OCI_EMPTY_TYPE, empty_sha, 2, NULL));
	return m;
}

/* PUT a manifest (or index) of type under reference (a tag or a digest). */
static int put_manifest(struct push *p, struct json_object *m, const char *type,
			const char *reference, uint8_t ret_sha[32], uint64_t *ret_size,
			bool *ret_subject)
{
	const char *text = json_object_to_json_string_ext(
		m, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	struct oci_body body = { .data = text, .len = text ? strlen(text) : 0, .fd = -1 };
	struct oci_response resp;
	char ct[128], path[700], digest[72];
	const char *headers[] = { ct, NULL };
	uint8_t sha[32];
	int r;

	if (!text)
		return -ENOMEM;
	r = lethe_sha256(text, body.len, sha);
	if (r < 0)
		return r;
	oci_digest_string(sha, digest);
	snprintf(ct, sizeof(ct), "Content-Type: %s", type);
	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", p->ref.repo,
		 reference ? reference : digest);
	r = oci_request(&p->c, "PUT", path, headers, &body, NULL, &resp);
	if (r >= 0 && resp.status != 201)
		r = oci_status_error(&p->c, -EIO, "putting a manifest", &resp);
	if (r >= 0 && resp.digest && strcmp(resp.digest, digest))
		r = lethe_error(-EPROTO, "'%s' stored manifest %s as %s", p->c.host, digest,
				resp.digest);
	if (r >= 0) {
		if (ret_sha)
			memcpy(ret_sha, sha, 32);
		if (ret_size)
			*ret_size = body.len;
		if (ret_subject)
			*ret_subject = resp.oci_subject;
	}
	oci_response_release(&resp);
	return r;
}

static struct json_object *layer_desc(const struct layer *l)
{
	return descriptor(lethe_oci_media_type(l->name), l->sha256, l->size, l->name);
}

/* The existing referrers index of the tag scheme, minus entries we are replacing. */
static int old_referrers(struct push *p, const char *tag, struct json_object *keep_into,
			 struct json_object *ours)
{
	static const char *const accept[] = { "Accept: " LETHE_OCI_INDEX_TYPE, NULL };
	struct oci_response resp;
	struct json_object *doc = NULL, *arr;
	char path[600];
	int r;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", p->ref.repo, tag);
	r = oci_request(&p->c, "GET", path, accept, NULL, NULL, &resp);
	if (r < 0 || resp.status == 404) {
		oci_response_release(&resp);
		lethe_error_clear();
		return r < 0 ? r : 0;
	}
	if (resp.status == 200 && resp.body.data)
		doc = json_tokener_parse(resp.body.data);
	if (json_object_object_get_ex(doc, "manifests", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(arr) && i < 256; i++) {
			struct json_object *d = json_object_array_get_idx(arr, i), *dig;
			bool dup = false;

			if (!json_object_object_get_ex(d, "digest", &dig))
				continue;
			for (size_t j = 0; j < json_object_array_length(ours); j++) {
				struct json_object *o;

				json_object_object_get_ex(json_object_array_get_idx(ours, j),
							  "digest", &o);
				dup |= !strcmp(json_object_get_string(o),
					       json_object_get_string(dig));
			}
			if (!dup)
				json_object_array_add(keep_into, json_object_get(d));
		}
	json_object_put(doc);
	oci_response_release(&resp);
	return 0;
}

static int push_referrers(struct push *p, const uint8_t main_sha[32], uint64_t main_size)
{
	struct json_object *ours = json_object_new_array(), *all = NULL, *index = NULL;
	bool api = true;
	char tag[80];
	int r = 0;

	for (size_t i = 0; i < p->n && r >= 0; i++) {
		const struct layer *l = &p->layers[i];
		const char *type = lethe_oci_media_type(l->name);
		struct json_object *m, *layers, *d;
		uint8_t sha[32];
		uint64_t size;
		bool subject = false;

		if (!is_referrer(l->a))
			continue;
		m = manifest_head(type, p->empty_sha);
		layers = json_object_new_array();
		json_object_array_add(layers, layer_desc(l));
		json_object_object_add(m, "layers", layers);
		json_object_object_add(
			m, "subject",
			descriptor(LETHE_OCI_MANIFEST_TYPE, main_sha, main_size, NULL));
		r = put_manifest(p, m, LETHE_OCI_MANIFEST_TYPE, NULL, sha, &size, &subject);
		json_object_put(m);
		api &= subject;
		if (r >= 0) {
			d = descriptor(LETHE_OCI_MANIFEST_TYPE, sha, size, NULL);
			json_object_object_add(d, "artifactType", json_object_new_string(type));
			json_object_array_add(ours, d);
		}
	}
	if (p->c.stats)
		p->c.stats->referrers_api = api && r >= 0;
	if (r < 0 || api)
		goto out;
	/* No referrers API: the sha256-HEX tag holds an index of them. */
	memcpy(tag, "sha256-", 7);
	lethe_hex_encode(main_sha, 32, tag + 7);
	all = json_object_new_array();
	r = old_referrers(p, tag, all, ours);
	for (size_t j = 0; r >= 0 && j < json_object_array_length(ours); j++)
		json_object_array_add(all, json_object_get(json_object_array_get_idx(ours, j)));
	if (r >= 0) {
		index = json_object_new_object();
		json_object_object_add(index, "schemaVersion", json_object_new_int(2));
		json_object_object_add(index, "mediaType",
				       json_object_new_string(LETHE_OCI_INDEX_TYPE));
		json_object_object_add(index, "manifests", json_object_get(all));
		r = put_manifest(p, index, LETHE_OCI_INDEX_TYPE, tag, NULL, NULL, NULL);
	}
out:
	json_object_put(index);
	json_object_put(all);
	json_object_put(ours);
	return r;
}

static int push_all(struct push *p)
{
	struct oci_body empty = { .data = empty_json, .len = 2, .fd = -1 };
	struct json_object *m, *layers;
	uint8_t main_sha[32];
	uint64_t main_size;
	int r;

	r = push_blob(p, p->empty_sha, &empty);
	for (size_t i = 0; i < p->n && r >= 0; i++) {
		lethe_log(LETHE_LOG_PROGRESS, "push: %s", p->layers[i].name);
		r = push_blob(p, p->layers[i].sha256, &p->layers[i].body);
	}
	if (r < 0)
		return r;
	m = manifest_head(LETHE_OCI_ARTIFACT_TYPE, p->empty_sha);
	layers = json_object_new_array();
	for (size_t i = 0; i < p->n; i++)
		json_object_array_add(layers, layer_desc(&p->layers[i]));
	json_object_object_add(m, "layers", layers);
	r = put_manifest(p, m, LETHE_OCI_MANIFEST_TYPE, p->ref.tag, main_sha, &main_size, NULL);
	json_object_put(m);
	if (r >= 0 && p->c.stats)
		oci_digest_string(main_sha, p->c.stats->manifest_digest);
	if (r >= 0)
		r = push_referrers(p, main_sha, main_size);
	return r;
}

/* ---- the release: what was checked is what is sent ---- */

static int read_small_file(const char *dir, enum lethe_release_artifact a, size_t max, char **ret,
			   size_t *ret_len)
{
	char *path = lethe_path_join(dir, lethe_release_name(a));
	int fd, r;

	if (!path)
		return -ENOMEM;
	fd = lethe_open_input(AT_FDCWD, path, O_NOFOLLOW, false, NULL);
	r = fd < 0 ? fd : lethe_fd_read(fd, path, max, ret, ret_len);
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

static int cmp_layer(const void *a, const void *b)
{
	return strcmp(((const struct layer *)a)->name, ((const struct layer *)b)->name);
}

static int collect(struct push *p, const char *dir, const struct lethe_release *rel,
		   const struct lethe_sign_pubkey *pub)
{
	struct lethe_sums sums = { 0 };
	char *label = lethe_path_join(dir, lethe_release_name(LETHE_ARTIFACT_SUMS));
	char *sig = lethe_path_join(dir, lethe_release_name(LETHE_ARTIFACT_SIG));
	int r;

	r = label && sig ? read_small_file(dir, LETHE_ARTIFACT_SUMS, LETHE_SUMS_FILE_MAX,
					   &p->sums_text, &p->sums_len)
			 : -ENOMEM;
	if (r >= 0)
		r = read_small_file(dir, LETHE_ARTIFACT_SIG, 4096, &p->sig_text, &p->sig_len);
	if (r >= 0 && pub)
		r = lethe_sign_verify_data(pub, p->sums_text, p->sums_len, label, sig, NULL);
	if (r >= 0)
		r = lethe_sums_parse(p->sums_text, p->sums_len, label, &sums);
	/* The list read now must be the one the handle checked. */
	if (r >= 0 && sums.n != lethe_release_n_listed(rel))
		r = lethe_error(-LETHE_E_INVALID, "'%s' changed while it was pushed", label);
	for (size_t i = 0; i < sums.n && r >= 0; i++) {
		struct layer *l = &p->layers[p->n];
		enum lethe_release_artifact a;

		if (lethe_release_artifact_from_name(sums.v[i].name, &a) < 0 ||
		    lethe_release_info(rel, a, &l->size, l->sha256) < 0 ||
		    memcmp(l->sha256, sums.v[i].sha256, 32) || p->n + 2 >= LETHE_OCI_MAX_LAYERS) {
			r = lethe_error(-LETHE_E_INVALID, "'%s' changed while it was pushed",
					label);
			break;
		}
		l->a = a;
		l->name = lethe_release_name(a);
		l->body = (struct oci_body){ .fd = lethe_release_fd(rel, a), .size = l->size };
		p->n++;
	}
	for (int k = 0; k < 2 && r >= 0; k++) {
		struct layer *l = &p->layers[p->n++];

		l->a = k ? LETHE_ARTIFACT_SIG : LETHE_ARTIFACT_SUMS;
		l->name = lethe_release_name(l->a);
		l->body = (struct oci_body){ .data = k ? p->sig_text : p->sums_text,
					     .len = k ? p->sig_len : p->sums_len,
					     .fd = -1 };
		l->size = l->body.len;
		r = lethe_sha256(l->body.data, l->body.len, l->sha256);
	}
	if (r >= 0)
		qsort(p->layers, p->n, sizeof(p->layers[0]), cmp_layer);
	lethe_sums_release(&sums);
	free(label);
	free(sig);
	return r;
}

int lethe_oci_push(const char *dir, const struct lethe_sign_pubkey *pub, const char *ref,
		   const struct lethe_oci_options *opts, struct lethe_oci_stats *ret_stats)
{
	struct lethe_release_options ro = { .flags = pub ? 0 : LETHE_RELEASE_OPEN_UNSIGNED };
	struct lethe_release *rel = NULL;
	struct lethe_oci_stats stats = { 0 };
	struct push *p = calloc(1, sizeof(*p));
	int r;

	if (!p)
		return -ENOMEM;
	r = lethe_oci_ref_parse(ref, &p->ref);
	if (r >= 0 && !p->ref.tag[0])
		r = lethe_error(-EINVAL,
				"push to '%s': give a tag (REGISTRY/REPO:TAG), not a digest", ref);
	if (r >= 0)
		r = lethe_sha256(empty_json, 2, p->empty_sha);
	if (r >= 0)
		r = lethe_release_open_opts(dir, pub, &ro, &rel);
	if (r >= 0)
		r = collect(p, dir, rel, pub);
	if (r >= 0)
		r = oci_client_init(&p->c, p->ref.registry, p->ref.repo, true, opts, &stats);
	if (r >= 0) {
		r = push_all(p);
		oci_client_release(&p->c);
	}
	lethe_release_free(rel);
	free(p->sums_text);
	free(p->sig_text);
	free(p);
	if (r >= 0 && ret_stats)
		*ret_stats = stats;
	return r;
}
