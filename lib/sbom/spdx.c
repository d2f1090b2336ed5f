/* sbom.spdx.json: SPDX 2.3. The document DESCRIBES the image package, which CONTAINS
 * every Debian package; packages DEPENDS_ON the packages of the set they name. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "sbom-internal.h"

/* SPDXRef-Package-NAME with NAME limited to [A-Za-z0-9.-] ('+' spelled "plus"). */
static char *spdx_id(const char *name)
{
	struct lethe_buf b = { 0 };
	int r = lethe_buf_puts(&b, "SPDXRef-Package-deb-");

	for (const char *p = name; *p && r >= 0; p++) {
		if (isalnum((unsigned char)*p) || *p == '.' || *p == '-')
			r = lethe_buf_append(&b, p, 1);
		else
			r = lethe_buf_puts(&b, *p == '+' ? "plus" : "-");
	}
	if (r < 0) {
		lethe_buf_release(&b);
		return NULL;
	}
	return b.data;
}

/* "Name <email>" -> "Organization: Name (email)", as SPDX spells a supplier. Debian
 * maintainers are often teams, and SPDX has no neutral form, so Organization it is. */
static char *supplier(const char *maintainer)
{
	char *out = NULL;
	const char *lt;

	if (!maintainer)
		return strdup("NOASSERTION");
	lt = strchr(maintainer, '<');
	if (lt && strchr(lt, '>')) {
		size_t nlen = (size_t)(lt - maintainer);

		while (nlen > 0 && maintainer[nlen - 1] == ' ')
			nlen--;
		if (asprintf(&out, "Organization: %.*s (%.*s)", (int)nlen, maintainer,
			     (int)(strchr(lt, '>') - lt - 1), lt + 1) < 0)
			return NULL;
		return out;
	}
	return asprintf(&out, "Organization: %s", maintainer) < 0 ? NULL : out;
}

static struct json_object *checksum(const uint8_t sha256[32], int *err)
{
	struct json_object *arr = sbom_new_arr(err), *c = sbom_new_obj(err);
	char hex[65];

	lethe_hex_encode(sha256, 32, hex);
	sbom_put_str(c, "algorithm", "SHA256", err);
	sbom_put_str(c, "checksumValue", hex, err);
	sbom_push(arr, c, err);
	return arr;
}

static void relationship(struct json_object *rels, const char *a, const char *type, const char *b,
			 int *err)
{
	struct json_object *r = sbom_new_obj(err);

	sbom_put_str(r, "spdxElementId", a, err);
	sbom_put_str(r, "relationshipType", type, err);
	sbom_put_str(r, "relatedSpdxElement", b, err);
	sbom_push(rels, r, err);
}

/* Every LicenseRef-X in expr, once, described in hasExtractedLicensingInfos. */
static void extracted_refs(struct json_object *infos, struct lethe_strv *seen, const char *expr,
			   int *err)
{
	for (const char *p = expr; (p = strstr(p, "LicenseRef-"));) {
		size_t len = strcspn(p, " ()");
		char *id = strndup(p, len);
		struct json_object *info;
		char *text = NULL;

		p += len;
		if (!id) {
			*err = -ENOMEM;
			return;
		}
		if (lethe_strv_contains(seen, id) || *err) {
			free(id);
			continue;
		}
		if (lethe_strv_push(seen, id) < 0 ||
		    asprintf(&text,
			     "The licence named '%s' in a package's machine-readable "
			     "debian/copyright (usr/share/doc/PACKAGE/copyright).",
			     id + strlen("LicenseRef-")) < 0) {
			*err = -ENOMEM;
			free(id);
			return;
		}
		info = sbom_new_obj(err);
		sbom_put_str(info, "licenseId", id, err);
		sbom_put_str(info, "name", id + strlen("LicenseRef-"), err);
		sbom_put_str(info, "extractedText", text, err);
		sbom_push(infos, info, err);
		free(text);
		free(id);
	}
}

static void add_package(struct json_object *packages, struct json_object *rels,
			struct json_object *infos, struct lethe_strv *seen,
			const struct lethe_sbom_package *const *all, size_t n,
			const struct lethe_sbom_package *p, int *err)
{
	struct json_object *o = sbom_new_obj(err), *refs = sbom_new_arr(err);
	struct json_object *ref = sbom_new_obj(err);
	struct lethe_strv deps = { 0 };
	char *id = spdx_id(p->name), *sup = supplier(p->maintainer), *purl = NULL;
	char *lic = NULL;

	if (!id || !sup || lethe_sbom_purl(p->name, p->version, p->arch, &purl) < 0 ||
	    lethe_sbom_license_expression(p->licenses, &lic) < 0)
		*err = -ENOMEM;
	sbom_put_str(o, "name", p->name, err);
	sbom_put_str(o, "SPDXID", id, err);
	sbom_put_str(o, "versionInfo", p->version, err);
	sbom_put_str(o, "supplier", sup, err);
	sbom_put_str(o, "downloadLocation", "NOASSERTION", err);
	sbom_put(o, "filesAnalyzed", json_object_new_boolean(0), err);
	sbom_put(o, "checksums", checksum(p->sha256, err), err);
	/* Declared: what debian/copyright says. Concluded needs a review nobody did. */
	sbom_put_str(o, "licenseConcluded", "NOASSERTION", err);
	sbom_put_str(o, "licenseDeclared", lic ? lic : "NOASSERTION", err);
	sbom_put_str(o, "copyrightText", "NOASSERTION", err);
	sbom_put_str(o, "summary", p->summary, err);
	sbom_put_str(o, "primaryPackagePurpose", p->kernel ? "OPERATING_SYSTEM" : "LIBRARY", err);
	sbom_put_str(ref, "referenceCategory", "PACKAGE-MANAGER", err);
	sbom_put_str(ref, "referenceType", "purl", err);
	sbom_put_str(ref, "referenceLocator", purl, err);
	sbom_push(refs, ref, err);
	sbom_put(o, "externalRefs", refs, err);
	sbom_push(packages, o, err);
	if (lic)
		extracted_refs(infos, seen, lic, err);

	relationship(rels, "SPDXRef-Image", "CONTAINS", id, err);
	if (!*err && (sbom_depends(p->pre_depends, all, n, &deps) < 0 ||
		      sbom_depends(p->depends, all, n, &deps) < 0))
		*err = -ENOMEM;
	for (size_t i = 0; i < deps.n && !*err; i++) {
		char *dep_id = spdx_id(deps.v[i]);

		if (!dep_id)
			*err = -ENOMEM;
		else if (strcmp(dep_id, id))
			relationship(rels, id, "DEPENDS_ON", dep_id, err);
		free(dep_id);
	}
	lethe_strv_release(&deps);
	free(lic);
	free(purl);
	free(sup);
	free(id);
}

static struct json_object *image_package(const struct lethe_sbom_image *img, int *err)
{
	struct json_object *o = sbom_new_obj(err);

	sbom_put_str(o, "name", img->name, err);
	sbom_put_str(o, "SPDXID", "SPDXRef-Image", err);
	sbom_put_str(o, "versionInfo", img->version, err);
	sbom_put_str(o, "supplier", "NOASSERTION", err);
	sbom_put_str(o, "downloadLocation", "NOASSERTION", err);
	sbom_put(o, "filesAnalyzed", json_object_new_boolean(0), err);
	if (img->rootfs_sha256)
		sbom_put(o, "checksums", checksum(img->rootfs_sha256, err), err);
	sbom_put_str(o, "licenseConcluded", "NOASSERTION", err);
	sbom_put_str(o, "licenseDeclared", "NOASSERTION", err);
	sbom_put_str(o, "copyrightText", "NOASSERTION", err);
	sbom_put_str(o, "primaryPackagePurpose", "OPERATING_SYSTEM", err);
	sbom_put_str(o, "comment", "A Lethe image: rootfs.erofs and what boots it", err);
	return o;
}

int lethe_sbom_spdx(const struct lethe_sbom_image *img, const struct lethe_sbom_package *pkgs,
		    size_t n, char **ret)
{
	const struct lethe_sbom_package **sorted = NULL;
	struct json_object *doc, *ci, *creators, *packages, *rels, *infos;
	struct lethe_strv seen = { 0 };
	char when[32], uuid[37], *ns = NULL, *tool = NULL, *docname = NULL;
	int err = 0, r;

	r = sbom_begin(img, pkgs, n, "spdx", when, uuid, &sorted);
	if (r < 0)
		return r;
	if (asprintf(&ns, "https://spdx.org/spdxdocs/lethe-%s-%s-%s", img->name, img->version,
		     uuid) < 0 ||
	    asprintf(&tool, "Tool: lethe-%s", img->tool_version ? img->tool_version : "unknown") <
		    0 ||
	    asprintf(&docname, "%s-%s", img->name, img->version) < 0)
		err = -ENOMEM;

	doc = sbom_new_obj(&err);
	sbom_put_str(doc, "spdxVersion", "SPDX-2.3", &err);
	sbom_put_str(doc, "dataLicense", "CC0-1.0", &err);
	sbom_put_str(doc, "SPDXID", "SPDXRef-DOCUMENT", &err);
	sbom_put_str(doc, "name", docname, &err);
	sbom_put_str(doc, "documentNamespace", ns, &err);
	ci = sbom_new_obj(&err);
	creators = sbom_new_arr(&err);
	sbom_push(creators, json_object_new_string(tool ? tool : ""), &err);
	sbom_put(ci, "creators", creators, &err);
	sbom_put_str(ci, "created", when, &err);
	sbom_put(doc, "creationInfo", ci, &err);

	packages = sbom_new_arr(&err);
	rels = sbom_new_arr(&err);
	infos = sbom_new_arr(&err);
	sbom_push(packages, image_package(img, &err), &err);
	relationship(rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image", &err);
	for (size_t i = 0; i < n && !err; i++)
		add_package(packages, rels, infos, &seen, sorted, n, sorted[i], &err);
	sbom_put(doc, "packages", packages, &err);
	sbom_put(doc, "relationships", rels, &err);
	if (!err && json_object_array_length(infos) > 0)
		sbom_put(doc, "hasExtractedLicensingInfos", infos, &err);
	else
		json_object_put(infos);

	lethe_strv_release(&seen);
	free(sorted);
	free(ns);
	free(tool);
	free(docname);
	if (err) {
		json_object_put(doc);
		return lethe_error(err, "SBOM: cannot assemble the SPDX document: %s",
				   strerror(-err));
	}
	return sbom_finish(doc, ret);
}
