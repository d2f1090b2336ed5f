/* Helpers of both SBOM formats: sorting and checking packages, purls, the content
 * digest that replaces randomness, timestamps, dependency fields. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include <lethe/image.h>

#include "sbom-internal.h"

static int cmp_pkg(const void *a, const void *b)
{
	const struct lethe_sbom_package *x = *(const struct lethe_sbom_package *const *)a;
	const struct lethe_sbom_package *y = *(const struct lethe_sbom_package *const *)b;

	return strcmp(x->name, y->name);
}

int sbom_sorted(const struct lethe_sbom_package *pkgs, size_t n,
		const struct lethe_sbom_package ***ret)
{
	const struct lethe_sbom_package **v;

	if (n > LETHE_SBOM_MAX_PACKAGES)
		return lethe_error(-E2BIG, "SBOM: %zu packages, more than %u", n,
				   LETHE_SBOM_MAX_PACKAGES);
	for (size_t i = 0; i < n; i++)
		if (!pkgs[i].name || !pkgs[i].version || !pkgs[i].arch || !pkgs[i].sha256)
			return lethe_error(-EINVAL,
					   "SBOM: package '%s' lacks a version, "
					   "architecture or SHA-256",
					   pkgs[i].name ? pkgs[i].name : "(unnamed)");
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		v[i] = &pkgs[i];
	qsort(v, n, sizeof(*v), cmp_pkg);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1]->name, v[i]->name)) {
			int r = lethe_error(-EINVAL, "SBOM: package '%s' appears twice",
					    v[i]->name);

			free(v);
			return r;
		}
	*ret = v;
	return 0;
}

const struct lethe_sbom_package *sbom_find(const struct lethe_sbom_package *const *pkgs, size_t n,
					   const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, pkgs[mid]->name);

		if (c == 0)
			return pkgs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static void digest_str(struct lethe_sha256 *h, const char *s)
{
	/* Length-prefixed, so that no two field sequences hash alike. */
	uint64_t len = s ? strlen(s) : UINT64_MAX;

	lethe_sha256_update(h, &len, sizeof(len));
	if (s)
		lethe_sha256_update(h, s, strlen(s));
}

void sbom_content_digest(const struct lethe_sbom_image *img,
			 const struct lethe_sbom_package *const *pkgs, size_t n, const char *kind,
			 uint8_t out[32])
{
	struct lethe_sha256 h;
	uint8_t zero[32] = { 0 };

	if (lethe_sha256_init(&h) < 0) {
		memset(out, 0, 32); /* allocation failure: still deterministic */
		return;
	}
	digest_str(&h, "lethe-sbom-v1");
	digest_str(&h, kind);
	digest_str(&h, img->name);
	digest_str(&h, img->version);
	lethe_sha256_update(&h, img->rootfs_sha256 ? img->rootfs_sha256 : zero, 32);
	lethe_sha256_update(&h, &img->epoch, sizeof(img->epoch));
	for (size_t i = 0; i < n; i++) {
		digest_str(&h, pkgs[i]->name);
		digest_str(&h, pkgs[i]->version);
		digest_str(&h, pkgs[i]->arch);
		lethe_sha256_update(&h, pkgs[i]->sha256, 32);
	}
	if (lethe_sha256_final(&h, out) < 0)
		memset(out, 0, 32);
}

int sbom_iso8601(int64_t epoch, char out[32])
{
	time_t t = (time_t)epoch;
	struct tm tm;

	if (epoch < 0 || (int64_t)t != epoch || !gmtime_r(&t, &tm) ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return lethe_error(-ERANGE, "SBOM: time %lld cannot be written", (long long)epoch);
	return 0;
}

int sbom_begin(const struct lethe_sbom_image *img, const struct lethe_sbom_package *pkgs, size_t n,
	       const char *kind, char when[32], char uuid[37],
	       const struct lethe_sbom_package ***ret_sorted)
{
	const struct lethe_sbom_package **sorted;
	uint8_t digest[32];
	int r;

	if (!img->name || !img->version)
		return lethe_error(-EINVAL, "SBOM: the image has no name or version");
	r = sbom_iso8601(img->epoch, when);
	if (r < 0)
		return r;
	r = sbom_sorted(pkgs, n, &sorted);
	if (r < 0)
		return r;
	sbom_content_digest(img, sorted, n, kind, digest);
	lethe_image_uuid(digest, uuid);
	*ret_sorted = sorted;
	return 0;
}

/* purl components: everything but unreserved characters percent-encoded. */
static int purl_encode(struct lethe_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int r = isalnum(*p) || strchr(".-_~", *p) ? lethe_buf_append(b, p, 1)
							  : lethe_buf_printf(b, "%%%02X", *p);
		if (r < 0)
			return r;
	}
	return 0;
}

int lethe_sbom_purl(const char *name, const char *version, const char *arch, char **ret)
{
	struct lethe_buf b = { 0 };
	int r;

	r = lethe_buf_puts(&b, "pkg:deb/debian/");
	if (r >= 0)
		r = purl_encode(&b, name);
	if (r >= 0)
		r = lethe_buf_puts(&b, "@");
	if (r >= 0)
		r = purl_encode(&b, version);
	if (r >= 0)
		r = lethe_buf_puts(&b, "?arch=");
	if (r >= 0)
		r = purl_encode(&b, arch);
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}

int sbom_depends(const char *field, const struct lethe_sbom_package *const *pkgs, size_t n,
		 struct lethe_strv *deps)
{
	const char *p = field;

	if (!field)
		return 0;
	/* "a (>= 1), b:any | c [amd64] <!nocheck>": names start each alternative. */
	while (*p) {
		char name[128];
		size_t len;
		const struct lethe_sbom_package *dep;

		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',' || *p == '|')
			p++;
		len = strcspn(p, " \t\n,|(:[<");
		if (len > 0 && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			dep = sbom_find(pkgs, n, name);
			if (dep && !lethe_strv_contains(deps, dep->name)) {
				int r = lethe_strv_push(deps, dep->name);

				if (r < 0)
					return r;
			}
		}
		p += len;
		p += strcspn(p, ",|"); /* skip version, arch, profile qualifiers */
	}
	return 0;
}

int sbom_finish(struct json_object *obj, char **ret)
{
	const char *s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE);
	char *out = NULL;
	int r = s && asprintf(&out, "%s\n", s) >= 0 ? 0 : -ENOMEM;

	json_object_put(obj);
	if (r == 0)
		*ret = out;
	return r;
}

void sbom_put(struct json_object *obj, const char *key, struct json_object *v, int *err)
{
	if (*err || !obj || !v || json_object_object_add(obj, key, v) < 0) {
		if (!*err)
			*err = -ENOMEM;
		json_object_put(v);
	}
}

void sbom_put_str(struct json_object *obj, const char *key, const char *s, int *err)
{
	if (s)
		sbom_put(obj, key, json_object_new_string(s), err);
}

void sbom_push(struct json_object *arr, struct json_object *v, int *err)
{
	if (*err || !arr || !v || json_object_array_add(arr, v) < 0) {
		if (!*err)
			*err = -ENOMEM;
		json_object_put(v);
	}
}

struct json_object *sbom_new_obj(int *err)
{
	struct json_object *o = json_object_new_object();

	if (!o && !*err)
		*err = -ENOMEM;
	return o;
}

struct json_object *sbom_new_arr(int *err)
{
	struct json_object *o = json_object_new_array();

	if (!o && !*err)
		*err = -ENOMEM;
	return o;
}
