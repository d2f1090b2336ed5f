/* lethe_fetch_release(): a release from an OCI registry (the manifest lethe_oci_push()
 * wrote) or from an HTTP(S) directory, every blob checked as it streams, the whole
 * verified before it is renamed into place (issue 18.2). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include <lethe/release.h>
#include <lethe/sign.h>
#include <unistd.h>

#include "oci-internal.h"

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int lethe_oci_manifest_parse(const char *text, size_t len, const char *label,
			     struct lethe_oci_layer *blobs, size_t *ret_n)
{
	struct json_object *doc, *layers;
	const char *s;
	size_t n;
	int r = 0;

	struct json_tokener *tok;

	if (len > LETHE_OCI_MANIFEST_MAX || memchr(text, '\0', len))
		return lethe_error(-LETHE_E_INVALID, "%s: the manifest is not JSON text", label);
	tok = json_tokener_new_ex(16);
	if (!tok)
		return -ENOMEM;
	doc = json_tokener_parse_ex(tok, text, (int)len);
	if (!doc || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len) {
		json_tokener_free(tok);
		json_object_put(doc);
		return lethe_error(-LETHE_E_INVALID, "%s: the manifest is not one JSON document",
				   label);
	}
	json_tokener_free(tok);
	s = get_str(doc, "mediaType");
	if (!s || strcmp(s, LETHE_OCI_MANIFEST_TYPE)) {
		r = lethe_error(-LETHE_E_INVALID, "%s: not an OCI image manifest (mediaType '%s')",
				label, s ? s : "");
		goto out;
	}
	s = get_str(doc, "artifactType");
	if (!s || strcmp(s, LETHE_OCI_ARTIFACT_TYPE)) {
		r = lethe_error(-LETHE_E_INVALID, "%s: artifactType '%s' is not a Lethe release's",
				label, s ? s : "");
		goto out;
	}
	if (!json_object_object_get_ex(doc, "layers", &layers) ||
	    !json_object_is_type(layers, json_type_array) ||
	    (n = json_object_array_length(layers)) == 0 || n > LETHE_OCI_MAX_LAYERS) {
		r = lethe_error(-LETHE_E_INVALID, "%s: no layers, or more than %u", label,
				LETHE_OCI_MAX_LAYERS);
		goto out;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct json_object *l = json_object_array_get_idx(layers, i), *ann, *sz;
		enum lethe_release_artifact a;
		const char *title = NULL, *dig = get_str(l, "digest");
		int64_t size;

		if (json_object_object_get_ex(l, "annotations", &ann))
			title = get_str(ann, LETHE_OCI_TITLE);
		if (!title || lethe_release_artifact_from_name(title, &a) < 0) {
			r = lethe_error(-LETHE_E_INVALID,
					"%s: layer %zu is titled '%s', which is no release file",
					label, i, title ? title : "(none)");
			break;
		}
		if (!dig || oci_digest_parse(dig, blobs[i].sha256) < 0 ||
		    !json_object_object_get_ex(l, "size", &sz) ||
		    !json_object_is_type(sz, json_type_int) ||
		    (size = json_object_get_int64(sz)) < 0 || (uint64_t)size > LETHE_OCI_BLOB_MAX) {
			r = lethe_error(-LETHE_E_INVALID,
					"%s: layer '%s' has no sha256 digest or a bad size", label,
					title);
			break;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(blobs[j].name, title))
				r = lethe_error(-LETHE_E_INVALID, "%s: two layers are titled '%s'",
						label, title);
		snprintf(blobs[i].name, sizeof(blobs[i].name), "%s", title);
		snprintf(blobs[i].digest, sizeof(blobs[i].digest), "%s", dig);
		blobs[i].size = (uint64_t)size;
	}
	if (r >= 0)
		*ret_n = n;
out:
	json_object_put(doc);
	return r;
}

static int get_manifest(struct oci_client *c, const struct lethe_oci_ref *ref, const char *label,
			struct oci_response *resp, uint8_t ret_sha[32])
{
	static const char *const accept[] = { "Accept: " LETHE_OCI_MANIFEST_TYPE, NULL };
	char path[700];
	uint8_t want[32];
	int r;

	snprintf(path, sizeof(path), "/v2/%s/manifests/%s", ref->repo,
		 ref->digest[0] ? ref->digest : ref->tag);
	r = oci_request(c, "GET", path, accept, NULL, NULL, resp);
	if (r >= 0 && resp->status != 200)
		r = oci_status_error(c, resp->status == 404 ? -ENOENT : -EIO, label, resp);
	if (r >= 0 && !resp->body.data)
		r = lethe_error(-LETHE_E_INVALID, "%s: empty manifest", label);
	if (r >= 0)
		r = lethe_sha256(resp->body.data, resp->body.len, ret_sha);
	if (r >= 0 && ref->digest[0] &&
	    (oci_digest_parse(ref->digest, want) < 0 || !lethe_memeq_consttime(want, ret_sha, 32)))
		r = lethe_error(-LETHE_E_INVALID, "%s: the manifest served is not %s", label,
				ref->digest);
	return r;
}

static bool is_sums(const char *name)
{
	return !strcmp(name, lethe_release_name(LETHE_ARTIFACT_SUMS)) ||
	       !strcmp(name, lethe_release_name(LETHE_ARTIFACT_SIG));
}

/* The signature over the SHA256SUMS just fetched, then opts->on_signed. */
static int verify_sums(const char *stage, const struct lethe_sign_pubkey *pub,
		       const struct lethe_oci_options *opts, bool *ret_stopped)
{
	char *sums = lethe_path_join(stage, lethe_release_name(LETHE_ARTIFACT_SUMS));
	char *sig = lethe_path_join(stage, lethe_release_name(LETHE_ARTIFACT_SIG));
	char *tc = NULL;
	int r = sums && sig ? 0 : -ENOMEM;

	if (r >= 0 && (access(sums, F_OK) < 0 || access(sig, F_OK) < 0))
		r = lethe_error(-LETHE_E_INVALID, "the release has no %s or no %s",
				lethe_release_name(LETHE_ARTIFACT_SUMS),
				lethe_release_name(LETHE_ARTIFACT_SIG));
	if (r >= 0)
		r = lethe_sign_verify_file(pub, sums, sig, &tc);
	if (r >= 0) {
		r = oci_signed(opts, tc, stage);
		*ret_stopped = r != 0;
	}
	free(tc);
	free(sums);
	free(sig);
	return r;
}

static int pull_oci(const char *source, const char *outdir, const struct lethe_sign_pubkey *pub,
		    const struct lethe_oci_options *opts, struct lethe_oci_stats *stats)
{
	struct lethe_oci_ref ref;
	struct oci_client c = { 0 };
	struct oci_response resp = { 0 };
	struct lethe_oci_layer *blobs = NULL;
	struct oci_item *items = NULL;
	char *stage = NULL, key[17], label[800];
	uint8_t msha[32];
	size_t n = 0;
	int r;

	r = lethe_oci_ref_parse(source, &ref);
	if (r < 0)
		return r;
	snprintf(label, sizeof(label), "%s/%s%s%s", ref.registry, ref.repo,
		 ref.digest[0] ? "@" : ":", ref.digest[0] ? ref.digest : ref.tag);
	blobs = calloc(LETHE_OCI_MAX_LAYERS, sizeof(*blobs));
	if (!blobs)
		return -ENOMEM;
	r = oci_client_init(&c, ref.registry, ref.repo, false, opts, stats);
	if (r < 0)
		goto out;
	r = get_manifest(&c, &ref, label, &resp, msha);
	if (r >= 0)
		r = lethe_oci_manifest_parse(resp.body.data, resp.body.len, label, blobs, &n);
	if (r < 0)
		goto out;
	oci_digest_string(msha, stats->manifest_digest);
	lethe_hex_encode(msha, 8, key);
	items = calloc(n, sizeof(*items));
	if (!items) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		items[i].name = blobs[i].name;
		snprintf(items[i].url, sizeof(items[i].url), "/v2/%s/blobs/%s", ref.repo,
			 blobs[i].digest);
		snprintf(items[i].what, sizeof(items[i].what), "blob %s of %s", blobs[i].digest,
			 label);
		items[i].size = blobs[i].size;
		memcpy(items[i].sha256, blobs[i].sha256, 32);
	}
	r = oci_stage_open(outdir, key, &stage);
	/* SHA256SUMS and its signature first, verified before any other blob. */
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (!is_sums(items[i].name))
			continue;
		lethe_log(LETHE_LOG_PROGRESS, "pull: %s", items[i].name);
		r = oci_fetch_file(&c, items[i].url, NULL, stage, items[i].name, items[i].size,
				   items[i].sha256, items[i].what);
	}
	if (r >= 0) {
		bool stopped = false;

		r = verify_sums(stage, pub, opts, &stopped);
		if (stopped) {
			free(stage);
			stage = NULL; /* removed by oci_signed() */
			goto out;     /* r: what on_signed returned */
		}
	}
	/* Then what is wanted (the two above again: there already, not fetched twice). */
	size_t wanted = 0;

	for (size_t i = 0; i < n; i++)
		if (oci_wanted(opts, items[i].name))
			items[wanted++] = items[i];
	if (r >= 0)
		r = oci_stage_fetch(&c, stage, outdir, pub, items, wanted,
				    opts ? opts->delta_base : NULL, opts ? opts->artifacts : 0);
	else
		r = oci_stage_discard(stage, r);
out:
	oci_response_release(&resp);
	oci_client_release(&c);
	free(stage);
	free(items);
	free(blobs);
	return r;
}

int lethe_fetch_release(const char *source, const char *outdir, const struct lethe_sign_pubkey *pub,
			const struct lethe_oci_options *opts, struct lethe_oci_stats *ret_stats)
{
	struct lethe_oci_stats stats = { 0 };
	int r;

	if (!pub)
		return lethe_error(-EINVAL,
				   "a release is fetched with the public key it is signed with");
	if (!strncmp(source, "https://", 8) || !strncmp(source, "http://", 7))
		r = oci_fetch_http(source, outdir, pub, opts, &stats);
	else
		r = pull_oci(source, outdir, pub, opts, &stats);
	if (r >= 0 && ret_stats)
		*ret_stats = stats;
	return r;
}
