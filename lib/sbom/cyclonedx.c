/* sbom.cdx.json: CycloneDX 1.5. metadata.component is the image; every Debian package
 * is a component whose bom-ref is its purl; dependencies repeat Depends: within the set. */
#include <errno.h>
#include <string.h>

#include <lethe/release.h>

#include "sbom-internal.h"

static struct json_object *hashes(const uint8_t sha256[32], int *err)
{
	struct json_object *arr = sbom_new_arr(err), *h = sbom_new_obj(err);
	char hex[65];

	lethe_hex_encode(sha256, 32, hex);
	sbom_put_str(h, "alg", "SHA-256", err);
	sbom_put_str(h, "content", hex, err);
	sbom_push(arr, h, err);
	return arr;
}

static struct json_object *component(const struct lethe_sbom_package *p, const char *purl, int *err)
{
	struct json_object *o = sbom_new_obj(err);
	char *lic = NULL;

	if (lethe_sbom_license_expression(p->licenses, &lic) < 0)
		*err = -ENOMEM;
	sbom_put_str(o, "type", p->kernel ? "operating-system" : "library", err);
	sbom_put_str(o, "bom-ref", purl, err);
	if (p->maintainer) {
		struct json_object *s = sbom_new_obj(err);

		sbom_put_str(s, "name", p->maintainer, err);
		sbom_put(o, "supplier", s, err);
		sbom_put_str(o, "publisher", p->maintainer, err);
	}
	sbom_put_str(o, "name", p->name, err);
	sbom_put_str(o, "version", p->version, err);
	sbom_put_str(o, "description", p->summary, err);
	sbom_put(o, "hashes", hashes(p->sha256, err), err);
	if (lic) {
		struct json_object *arr = sbom_new_arr(err), *l = sbom_new_obj(err);

		sbom_put_str(l, "expression", lic, err);
		sbom_push(arr, l, err);
		sbom_put(o, "licenses", arr, err);
	}
	sbom_put_str(o, "purl", purl, err);
	free(lic);
	return o;
}

static struct json_object *dependency(const char *ref, struct json_object *on, int *err)
{
	struct json_object *d = sbom_new_obj(err);

	sbom_put_str(d, "ref", ref, err);
	sbom_put(d, "dependsOn", on, err);
	return d;
}

static void add_package(struct json_object *components, struct json_object *deps_out,
			struct json_object *image_deps, const struct lethe_sbom_package *const *all,
			size_t n, const struct lethe_sbom_package *p, int *err)
{
	struct lethe_strv deps = { 0 };
	struct json_object *on = sbom_new_arr(err);
	char *purl = NULL;

	if (lethe_sbom_purl(p->name, p->version, p->arch, &purl) < 0 ||
	    sbom_depends(p->pre_depends, all, n, &deps) < 0 ||
	    sbom_depends(p->depends, all, n, &deps) < 0)
		*err = -ENOMEM;
	sbom_push(components, component(p, purl, err), err);
	sbom_push(image_deps, json_object_new_string(purl ? purl : ""), err);
	/* CycloneDX wants dependsOn unique and every ref declared: purls of the set. */
	for (size_t i = 0; i < deps.n && !*err; i++) {
		const struct lethe_sbom_package *d = sbom_find(all, n, deps.v[i]);
		char *dpurl = NULL;

		if (d == p)
			continue;
		if (lethe_sbom_purl(d->name, d->version, d->arch, &dpurl) < 0)
			*err = -ENOMEM;
		sbom_push(on, json_object_new_string(dpurl ? dpurl : ""), err);
		free(dpurl);
	}
	sbom_push(deps_out, dependency(purl, on, err), err);
	lethe_strv_release(&deps);
	free(purl);
}

static struct json_object *metadata(const struct lethe_sbom_image *img, const char *when, int *err)
{
	struct json_object *m = sbom_new_obj(err), *tools = sbom_new_obj(err);
	struct json_object *tcomps = sbom_new_arr(err), *tool = sbom_new_obj(err);
	struct json_object *c = sbom_new_obj(err);

	sbom_put_str(m, "timestamp", when, err);
	sbom_put_str(tool, "type", "application", err);
	sbom_put_str(tool, "name", "lethe", err);
	sbom_put_str(tool, "version", img->tool_version ? img->tool_version : "unknown", err);
	sbom_push(tcomps, tool, err);
	sbom_put(tools, "components", tcomps, err);
	sbom_put(m, "tools", tools, err);

	sbom_put_str(c, "type", "operating-system", err);
	sbom_put_str(c, "bom-ref", "lethe-image", err);
	sbom_put_str(c, "name", img->name, err);
	sbom_put_str(c, "version", img->version, err);
	sbom_put_str(c, "description", "A Lethe image: rootfs.erofs and what boots it", err);
	if (img->rootfs_sha256)
		sbom_put(c, "hashes", hashes(img->rootfs_sha256, err), err);
	sbom_put(m, "component", c, err);
	return m;
}

int lethe_sbom_cyclonedx(const struct lethe_sbom_image *img, const struct lethe_sbom_package *pkgs,
			 size_t n, char **ret)
{
	const struct lethe_sbom_package **sorted = NULL;
	struct json_object *doc, *components, *deps, *image_deps;
	char when[32], uuid[37], serial[64];
	int err = 0, r;

	r = sbom_begin(img, pkgs, n, "cyclonedx", when, uuid, &sorted);
	if (r < 0)
		return r;
	snprintf(serial, sizeof(serial), "urn:uuid:%s", uuid);

	doc = sbom_new_obj(&err);
	sbom_put_str(doc, "bomFormat", "CycloneDX", &err);
	sbom_put_str(doc, "specVersion", "1.5", &err);
	sbom_put_str(doc, "serialNumber", serial, &err);
	sbom_put(doc, "version", json_object_new_int(1), &err);
	sbom_put(doc, "metadata", metadata(img, when, &err), &err);
	components = sbom_new_arr(&err);
	deps = sbom_new_arr(&err);
	image_deps = sbom_new_arr(&err);
	sbom_push(deps, dependency("lethe-image", image_deps, &err), &err);
	for (size_t i = 0; i < n && !err; i++)
		add_package(components, deps, image_deps, sorted, n, sorted[i], &err);
	sbom_put(doc, "components", components, &err);
	sbom_put(doc, "dependencies", deps, &err);
	free(sorted);
	if (err) {
		json_object_put(doc);
		return lethe_error(err, "SBOM: cannot assemble the CycloneDX document: %s",
				   strerror(-err));
	}
	return sbom_finish(doc, ret);
}

int lethe_sbom_write(const char *dir, const struct lethe_sbom_image *img,
		     const struct lethe_sbom_package *pkgs, size_t n)
{
	const char *const names[] = { lethe_release_names[LETHE_ARTIFACT_SBOM_SPDX],
				      lethe_release_names[LETHE_ARTIFACT_SBOM_CDX] };
	int r = 0;

	for (size_t k = 0; k < 2 && r >= 0; k++) {
		char *text = NULL, *path = lethe_path_join(dir, names[k]);

		if (!path)
			return -ENOMEM;
		r = k == 0 ? lethe_sbom_spdx(img, pkgs, n, &text)
			   : lethe_sbom_cyclonedx(img, pkgs, n, &text);
		if (r >= 0) {
			r = lethe_file_write_atomic(path, text, strlen(text), 0644);
			if (r < 0)
				r = lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
		}
		free(text);
		free(path);
	}
	return r;
}
