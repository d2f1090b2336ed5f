/* Unit tests of lib/sbom: the structure of both documents, determinism, purls, licence
 * expressions. With LETHE_SBOM_DUMP_DIR set, the documents of the sample set are also
 * written there, for the schema validators of tests/interop/sbom-schemas.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <lethe/sbom.h>

static uint8_t sha_a[32] = { 0xaa }, sha_b[32] = { 0xbb }, sha_c[32] = { 0xcc },
	       sha_k[32] = { 0x11 }, rootfs[32] = { 0x42 };

static struct lethe_strv lic_busybox, lic_libc, lic_odd;

static struct lethe_sbom_package sample[] = {
	{ .name = "libstdc++6",
	  .version = "12.2.0-14",
	  .arch = "amd64",
	  .sha256 = sha_b,
	  .maintainer = "Debian GCC Maintainers <debian-gcc@lists.debian.org>",
	  .depends = "libc6 (>= 2.36), libgcc-s1 (>= 4.2), gcc-12-base (= 12.2.0-14)",
	  .licenses = &lic_odd },
	{ .name = "busybox",
	  .version = "1:1.35.0-4+b3",
	  .arch = "amd64",
	  .sha256 = sha_a,
	  .maintainer = "Debian Install System Team <debian-boot@lists.debian.org>",
	  .summary = "Tiny utilities for small and embedded systems",
	  .pre_depends = "libc6:any (>= 2.34)",
	  .depends = "libc6 (>= 2.34) | musl",
	  .licenses = &lic_busybox },
	{ .name = "libc6",
	  .version = "2.36-9+deb12u4",
	  .arch = "amd64",
	  .sha256 = sha_c,
	  .maintainer = "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
	  .depends = "libgcc-s1",
	  .licenses = &lic_libc },
	{ .name = "linux-image-6.1.0-18-cloud-amd64",
	  .version = "6.1.76-1",
	  .arch = "amd64",
	  .sha256 = sha_k,
	  .kernel = true },
};

static const struct lethe_sbom_image image = {
	.name = "minimal",
	.version = "1.0",
	.rootfs_sha256 = rootfs,
	.epoch = 1700000000,
	.tool_version = "0.1.0",
};

static int setup(void **state)
{
	lethe_strv_push(&lic_busybox, "GPL-2");
	lethe_strv_push(&lic_libc, "LGPL-2.1+");
	lethe_strv_push(&lic_libc, "GPL-2+ or Artistic");
	lethe_strv_push(&lic_libc, "public-domain");
	lethe_strv_push(&lic_odd, "GPL-3+ with GCC-Runtime-Library exception");
	return 0;
}

static int teardown(void **state)
{
	lethe_strv_release(&lic_busybox);
	lethe_strv_release(&lic_libc);
	lethe_strv_release(&lic_odd);
	return 0;
}

static struct json_object *get(struct json_object *o, const char *path)
{
	char *copy = strdup(path), *save = NULL;

	for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
		if (json_object_is_type(o, json_type_array))
			o = json_object_array_get_idx(o, strtoul(k, NULL, 10));
		else if (!json_object_object_get_ex(o, k, &o))
			o = NULL;
	}
	free(copy);
	return o;
}

static const char *str(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);

	return v ? json_object_get_string(v) : NULL;
}

static void dump(const char *name, const char *text)
{
	const char *dir = getenv("LETHE_SBOM_DUMP_DIR");
	char *path;

	if (!dir)
		return;
	path = lethe_path_join(dir, name);
	assert_int_equal(lethe_file_write_atomic(path, text, strlen(text), 0644), 0);
	free(path);
}

static bool has_rel(struct json_object *rels, const char *a, const char *type, const char *b)
{
	for (size_t i = 0; i < json_object_array_length(rels); i++) {
		struct json_object *r = json_object_array_get_idx(rels, i);

		if (!strcmp(str(r, "spdxElementId"), a) &&
		    !strcmp(str(r, "relationshipType"), type) &&
		    !strcmp(str(r, "relatedSpdxElement"), b))
			return true;
	}
	return false;
}

static void test_spdx(void **state)
{
	char *text = NULL, *again = NULL;
	struct json_object *doc, *pkgs, *rels;

	assert_int_equal(lethe_sbom_spdx(&image, sample, 4, &text), 0);
	dump("sbom.spdx.json", text);
	doc = json_tokener_parse(text);
	assert_non_null(doc);
	assert_string_equal(str(doc, "spdxVersion"), "SPDX-2.3");
	assert_string_equal(str(doc, "dataLicense"), "CC0-1.0");
	assert_string_equal(str(doc, "SPDXID"), "SPDXRef-DOCUMENT");
	assert_string_equal(str(doc, "creationInfo.created"), "2023-11-14T22:13:20Z");
	assert_string_equal(str(doc, "creationInfo.creators.0"), "Tool: lethe-0.1.0");
	assert_non_null(strstr(str(doc, "documentNamespace"),
			       "https://spdx.org/spdxdocs/lethe-minimal-1.0-"));

	pkgs = get(doc, "packages");
	assert_int_equal(json_object_array_length(pkgs), 5);
	assert_string_equal(str(pkgs, "0.SPDXID"), "SPDXRef-Image");
	assert_string_equal(str(pkgs, "0.checksums.0.checksumValue"),
			    "4200000000000000000000000000000000000000000000000000000000000000");
	/* Sorted by name; '+' spelled out in SPDX ids, percent-encoded in purls. */
	assert_string_equal(str(pkgs, "1.name"), "busybox");
	assert_string_equal(str(pkgs, "1.SPDXID"), "SPDXRef-Package-deb-busybox");
	assert_string_equal(str(pkgs, "1.versionInfo"), "1:1.35.0-4+b3");
	assert_string_equal(str(pkgs, "1.externalRefs.0.referenceLocator"),
			    "pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch=amd64");
	assert_string_equal(str(pkgs, "1.externalRefs.0.referenceCategory"), "PACKAGE-MANAGER");
	assert_string_equal(
		str(pkgs, "1.supplier"),
		"Organization: Debian Install System Team (debian-boot@lists.debian.org)");
	assert_string_equal(str(pkgs, "1.downloadLocation"), "NOASSERTION");
	assert_string_equal(str(pkgs, "1.checksums.0.algorithm"), "SHA256");
	assert_string_equal(str(pkgs, "1.licenseDeclared"), "GPL-2.0-only");
	assert_string_equal(str(pkgs, "2.name"), "libc6");
	assert_string_equal(str(pkgs, "2.licenseDeclared"),
			    "LGPL-2.1-or-later AND (GPL-2.0-or-later OR Artistic-1.0-Perl) AND "
			    "LicenseRef-public-domain");
	assert_string_equal(str(pkgs, "3.SPDXID"), "SPDXRef-Package-deb-libstdcplusplus6");
	assert_string_equal(str(pkgs, "3.licenseDeclared"),
			    "LicenseRef-GPL-3p-with-GCC-Runtime-Library-exception");
	assert_string_equal(str(pkgs, "4.licenseDeclared"), "NOASSERTION");
	assert_non_null(get(doc, "hasExtractedLicensingInfos.1"));
	assert_null(get(doc, "hasExtractedLicensingInfos.2"));

	rels = get(doc, "relationships");
	assert_true(has_rel(rels, "SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Image"));
	assert_true(has_rel(rels, "SPDXRef-Image", "CONTAINS", "SPDXRef-Package-deb-libc6"));
	assert_true(has_rel(rels, "SPDXRef-Package-deb-busybox", "DEPENDS_ON",
			    "SPDXRef-Package-deb-libc6"));
	assert_true(has_rel(rels, "SPDXRef-Package-deb-libstdcplusplus6", "DEPENDS_ON",
			    "SPDXRef-Package-deb-libc6"));
	/* 1 DESCRIBES + 4 CONTAINS + busybox->libc6 + libstdc++6->libc6; not in set: none. */
	assert_int_equal(json_object_array_length(rels), 7);
	json_object_put(doc);

	/* Same input in another order: the same bytes. */
	{
		struct lethe_sbom_package rev[4] = { sample[3], sample[2], sample[1], sample[0] };

		assert_int_equal(lethe_sbom_spdx(&image, rev, 4, &again), 0);
		assert_string_equal(text, again);
		free(again);
	}
	/* Another .deb: another namespace. */
	sample[0].sha256 = sha_a;
	assert_int_equal(lethe_sbom_spdx(&image, sample, 4, &again), 0);
	sample[0].sha256 = sha_b;
	doc = json_tokener_parse(text);
	{
		struct json_object *doc2 = json_tokener_parse(again);

		assert_string_not_equal(str(doc, "documentNamespace"),
					str(doc2, "documentNamespace"));
		json_object_put(doc2);
	}
	json_object_put(doc);
	free(again);
	free(text);
}

static void test_cyclonedx(void **state)
{
	char *text = NULL, *again = NULL;
	struct json_object *doc;
	const char *serial;

	assert_int_equal(lethe_sbom_cyclonedx(&image, sample, 4, &text), 0);
	dump("sbom.cdx.json", text);
	doc = json_tokener_parse(text);
	assert_non_null(doc);
	assert_string_equal(str(doc, "bomFormat"), "CycloneDX");
	assert_string_equal(str(doc, "specVersion"), "1.5");
	serial = str(doc, "serialNumber");
	assert_int_equal(strlen(serial), strlen("urn:uuid:") + 36);
	assert_memory_equal(serial, "urn:uuid:", 9);
	assert_string_equal(str(doc, "metadata.timestamp"), "2023-11-14T22:13:20Z");
	assert_string_equal(str(doc, "metadata.component.type"), "operating-system");
	assert_string_equal(str(doc, "metadata.component.name"), "minimal");
	assert_int_equal(json_object_array_length(get(doc, "components")), 4);
	assert_string_equal(str(doc, "components.0.purl"),
			    "pkg:deb/debian/busybox@1%3A1.35.0-4%2Bb3?arch=amd64");
	assert_string_equal(str(doc, "components.0.bom-ref"), str(doc, "components.0.purl"));
	assert_string_equal(str(doc, "components.0.hashes.0.alg"), "SHA-256");
	assert_string_equal(str(doc, "components.0.licenses.0.expression"), "GPL-2.0-only");
	assert_string_equal(str(doc, "components.3.type"), "operating-system");
	assert_null(get(doc, "components.3.licenses"));
	assert_string_equal(str(doc, "dependencies.0.ref"), "lethe-image");
	assert_int_equal(json_object_array_length(get(doc, "dependencies.0.dependsOn")), 4);
	assert_string_equal(str(doc, "dependencies.1.dependsOn.0"),
			    "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64");
	assert_null(get(doc, "dependencies.1.dependsOn.1"));
	json_object_put(doc);

	assert_int_equal(lethe_sbom_cyclonedx(&image, sample, 4, &again), 0);
	assert_string_equal(text, again);
	free(again);
	free(text);
}

static void test_rejects(void **state)
{
	struct lethe_sbom_package bad = { .name = "x", .version = "1", .arch = "amd64" };
	struct lethe_sbom_package dup[2] = { sample[0], sample[0] };
	char *text = NULL;

	assert_int_equal(lethe_sbom_spdx(&image, &bad, 1, &text), -EINVAL);
	assert_non_null(strstr(lethe_error_message(), "'x'"));
	assert_int_equal(lethe_sbom_cyclonedx(&image, dup, 2, &text), -EINVAL);
	assert_non_null(strstr(lethe_error_message(), "twice"));
	assert_null(text);
}

static void test_license_expression(void **state)
{
	struct lethe_strv l = { 0 };
	char *e = NULL;

	assert_int_equal(lethe_sbom_license_expression(&l, &e), 0);
	assert_null(e);
	lethe_strv_push(&l, "Expat");
	lethe_strv_push(&l, "BSD-3-clause and zlib");
	lethe_strv_push(&l, "or GPL");
	assert_int_equal(lethe_sbom_license_expression(&l, &e), 0);
	assert_string_equal(e, "MIT AND (BSD-3-Clause AND Zlib) AND LicenseRef-or-GPL");
	free(e);
	lethe_strv_release(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spdx),
		cmocka_unit_test(test_cyclonedx),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_license_expression),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
