/* Unit tests of lib/oci's parsers: references, the loopback test behind --insecure,
 * media types, and release manifests from untrusted bytes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lethe/oci.h>
#include <lethe/release.h>
#include <lethe/util.h>

#define Z64 "0000000000000000000000000000000000000000000000000000000000000000"

static void test_ref(void **state)
{
	struct lethe_oci_ref r;

	assert_int_equal(lethe_oci_ref_parse("127.0.0.1:5000/lethe/minimal:1.0", &r), 0);
	assert_string_equal(r.registry, "127.0.0.1:5000");
	assert_string_equal(r.repo, "lethe/minimal");
	assert_string_equal(r.tag, "1.0");
	assert_string_equal(r.digest, "");
	assert_int_equal(lethe_oci_ref_parse("oci://reg.example/a/b@sha256:" Z64, &r), 0);
	assert_string_equal(r.registry, "reg.example");
	assert_string_equal(r.repo, "a/b");
	assert_string_equal(r.tag, "");
	assert_string_equal(r.digest, "sha256:" Z64);
	assert_int_equal(lethe_oci_ref_parse("reg:1/x", &r), 0);
	assert_string_equal(r.tag, "latest");
	/* Refused: no registry, upper case, bad tag, short or foreign digest, '..'. */
	assert_int_equal(lethe_oci_ref_parse("minimal:1", &r), -EINVAL);
	assert_int_equal(lethe_oci_ref_parse("reg/Lethe:1", &r), -EINVAL);
	assert_int_equal(lethe_oci_ref_parse("reg/a:-x", &r), -EINVAL);
	assert_int_equal(lethe_oci_ref_parse("reg/a@sha256:abc", &r), -EINVAL);
	assert_int_equal(lethe_oci_ref_parse("reg/a@sha512:" Z64, &r), -EINVAL);
	assert_int_equal(lethe_oci_ref_parse("reg/a/../b:1", &r), -EINVAL);
	assert_int_equal(lethe_oci_ref_parse("reg/a//b:1", &r), -EINVAL);
	assert_int_equal(lethe_oci_ref_parse("re g/a:1", &r), -EINVAL);
}

static void test_loopback(void **state)
{
	assert_true(lethe_oci_host_is_loopback("127.0.0.1:5000"));
	assert_true(lethe_oci_host_is_loopback("127.8.9.10"));
	assert_true(lethe_oci_host_is_loopback("localhost:80"));
	assert_true(lethe_oci_host_is_loopback("[::1]:5000"));
	assert_false(lethe_oci_host_is_loopback("192.0.2.1:5000"));
	assert_false(lethe_oci_host_is_loopback("127.0.0.1.example:5000"));
	assert_false(lethe_oci_host_is_loopback("[2001:db8::1]:5000"));
	assert_false(lethe_oci_host_is_loopback("localhost.example"));
}

static void test_media_types(void **state)
{
	assert_string_equal(lethe_oci_media_type("sbom.spdx.json"), "application/spdx+json");
	assert_string_equal(lethe_oci_media_type("provenance.intoto.json"),
			    "application/vnd.in-toto+json");
	assert_string_not_equal(lethe_oci_media_type("rootfs.erofs"),
				lethe_oci_media_type("rootfs.verity"));
	assert_string_equal(lethe_oci_media_type("unknown"), "application/vnd.lethe.file.v1");
	/* Every artifact has a type of its own: none falls back, none repeats. */
	for (unsigned i = 0; i < LETHE_ARTIFACT_MAX; i++) {
		const char *t = lethe_oci_media_type(lethe_release_names[i]);

		if (!strcmp(t, "application/vnd.lethe.file.v1"))
			fail_msg("artifact '%s' has no media type", lethe_release_names[i]);
		for (unsigned j = 0; j < i; j++)
			if (!strcmp(t, lethe_oci_media_type(lethe_release_names[j])))
				fail_msg("'%s' and '%s' share the media type %s",
					 lethe_release_names[i], lethe_release_names[j], t);
	}
}

#define HEAD                                                                                       \
	"{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"artifactType\":"          \
	"\"application/vnd.lethe.release.v1\",\"layers\":["
#define LAYER(title, size)                                                                         \
	"{\"digest\":\"sha256:" Z64 "\",\"size\":" size ",\"annotations\":{\"org."                 \
	"opencontainers.image.title\":\"" title "\"}}"

static int parse(const char *text, size_t *n)
{
	static struct lethe_oci_layer layers[LETHE_OCI_MAX_LAYERS];

	return lethe_oci_manifest_parse(text, strlen(text), "m", layers, n);
}

static void test_manifest(void **state)
{
	size_t n = 0;

	assert_int_equal(parse(HEAD LAYER("cmdline", "5") "," LAYER("rootfs.erofs", "9") "]}", &n),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(parse(HEAD LAYER("cmdline", "5") "," LAYER("cmdline", "5") "]}", &n),
			 -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "two layers"));
	assert_int_equal(parse(HEAD LAYER("../etc/passwd", "5") "]}", &n), -LETHE_E_INVALID);
	assert_int_equal(parse(HEAD LAYER("cmdline", "-1") "]}", &n), -LETHE_E_INVALID);
	assert_int_equal(parse(HEAD "]}", &n), -LETHE_E_INVALID);
	assert_int_equal(parse(HEAD LAYER("cmdline", "5") "]} {}", &n), -LETHE_E_INVALID);
	assert_int_equal(parse("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			       "\"artifactType\":\"application/vnd.other\",\"layers\":[" LAYER(
				       "cmdline", "5") "]}",
			       &n),
			 -LETHE_E_INVALID);
	assert_non_null(strstr(lethe_error_message(), "artifactType"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ref),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_media_types),
		cmocka_unit_test(test_manifest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
