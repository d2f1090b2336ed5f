/* A release served as a directory over HTTP(S) (any web server or CDN): SHA256SUMS and
 * its signature first, verified, then each file it lists, checked against it as it
 * streams (issue 18.2). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/release.h>
#include <lethe/sign.h>
#include <lethe/sums.h>

#include "oci-internal.h"

static int get_small(struct oci_client *c, const char *url, const char *what, size_t max,
		     struct oci_response *resp)
{
	int r = oci_request(c, "GET", url, NULL, NULL, NULL, resp);

	if (r >= 0 && resp->status != 200)
		r = oci_status_error(c, resp->status == 404 ? -ENOENT : -EIO, what, resp);
	if (r >= 0 && resp->body.len > max)
		r = lethe_error(-LETHE_E_INVALID, "%s: more than %zu bytes", what, max);
	return r;
}

int oci_fetch_http(const char *url, const char *outdir, const struct lethe_sign_pubkey *pub,
		   const struct lethe_oci_options *opts, struct lethe_oci_stats *stats)
{
	const char *sums_name = lethe_release_name(LETHE_ARTIFACT_SUMS);
	const char *sig_name = lethe_release_name(LETHE_ARTIFACT_SIG);
	struct oci_response sums_resp = { 0 }, sig_resp = { 0 };
	struct lethe_sums sums = { 0 };
	struct oci_client c = { 0 };
	struct oci_item *items = NULL;
	char *stage = NULL, *u_sums = NULL, *u_sig = NULL, *label = NULL, *tc = NULL, key[17];
	size_t n = 0;
	uint8_t sha[32];
	int r;

	if (!*url || url[strlen(url) - 1] != '/')
		return lethe_error(-EINVAL,
				   "'%s': a release URL names its directory, ending in '/'", url);
	r = oci_client_init_url(&c, url, opts, stats);
	if (r < 0)
		return r;
	if (asprintf(&u_sums, "%s%s", url, sums_name) < 0 ||
	    asprintf(&u_sig, "%s%s", url, sig_name) < 0) {
		r = -ENOMEM;
		goto out;
	}
	label = u_sums;
	r = get_small(&c, u_sums, u_sums, LETHE_SUMS_FILE_MAX, &sums_resp);
	if (r >= 0)
		r = get_small(&c, u_sig, u_sig, 4096, &sig_resp);
	if (r < 0)
		goto out;
	if (!sums_resp.body.data || !sig_resp.body.data) {
		r = lethe_error(-LETHE_E_INVALID, "'%s': empty %s or %s", url, sums_name, sig_name);
		goto out;
	}
	r = lethe_sha256(sums_resp.body.data, sums_resp.body.len, sha);
	if (r < 0)
		goto out;
	lethe_hex_encode(sha, 8, key);
	r = oci_stage_open(outdir, key, &stage);
	for (int k = 0; k < 2 && r >= 0; k++) {
		const struct oci_response *s = k ? &sig_resp : &sums_resp;
		char *p = lethe_path_join(stage, k ? sig_name : sums_name);

		r = p ? lethe_file_write_atomic(p, s->body.data, s->body.len, 0644) : -ENOMEM;
		if (r >= 0 && k) /* the signature over the bytes received, before any file */
			r = lethe_sign_verify_data(pub, sums_resp.body.data, sums_resp.body.len,
						   label, p, &tc);
		free(p);
	}
	if (r >= 0) {
		r = oci_signed(opts, tc, stage); /* the waves: nonzero stops here */
		if (r) {
			free(stage);
			stage = NULL; /* removed */
			goto out;
		}
	}
	if (r >= 0)
		r = lethe_sums_parse(sums_resp.body.data, sums_resp.body.len, label, &sums);
	if (r >= 0 && !(items = calloc(sums.n ? sums.n : 1, sizeof(*items))))
		r = -ENOMEM;
	for (size_t i = 0; i < sums.n && r >= 0; i++) {
		enum lethe_release_artifact a;

		if (lethe_release_artifact_from_name(sums.v[i].name, &a) < 0) {
			r = lethe_error(-LETHE_E_INVALID,
					"'%s' line %u lists '%s', which is no release file", label,
					sums.v[i].line, sums.v[i].name);
			break;
		}
		if (!oci_wanted(opts, sums.v[i].name))
			continue; /* not needed (lethe update fetches five files) */
		items[n].name = sums.v[i].name;
		snprintf(items[n].url, sizeof(items[n].url), "%s%s", url, sums.v[i].name);
		snprintf(items[n].what, sizeof(items[n].what), "%s", items[n].url);
		memcpy(items[n].sha256, sums.v[i].sha256, 32);
		n++;
	}
	if (r >= 0)
		r = oci_stage_fetch(&c, stage, outdir, pub, items, n,
				    opts ? opts->delta_base : NULL, opts ? opts->artifacts : 0);
	else
		r = oci_stage_discard(stage, r);
out:
	lethe_sums_release(&sums);
	oci_response_release(&sums_resp);
	oci_response_release(&sig_resp);
	oci_client_release(&c);
	free(stage);
	free(items);
	free(tc);
	free(u_sums);
	free(u_sig);
	return r;
}
