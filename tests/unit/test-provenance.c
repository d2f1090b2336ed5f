/* Unit tests of lib/provenance: the rendered statement (subjects, inputs, no time of
 * day, deterministic) and the strict parser of untrusted statements. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lethe/provenance.h>
#include <lethe/release.h>
#include <lethe/util.h>

#include "helpers.h"

#define ZERO64 "0000000000000000000000000000000000000000000000000000000000000000"
#define HEAD                                                                                       \
	"{\"_type\":\"https://in-toto.io/Statement/v1\",\"predicateType\":\"https://slsa.dev/"     \
	"provenance/v1\","
#define PRED                                                                                       \
	"\"predicate\":{\"buildDefinition\":{\"buildType\":\"urn:x\",\"externalParameters\":{}},"  \
	"\"runDetails\":{\"builder\":{\"id\":\"urn:y\"}}}"

static const uint8_t digest[32] = { 1, 2, 3 };

static char *render(const char *dir)
{
	struct lethe_provenance_input in = { .name = "minimal.yaml", .sha256 = digest };
	struct lethe_provenance_build b = { .spec_name = "minimal.yaml",
					    .epoch = 1700000000,
					    .builder_version = "0.1.0",
					    .inputs = &in,
					    .n_inputs = 1 };
	char *text = NULL;

	assert_int_equal(lethe_provenance_render(dir, &b, &text), 0);
	return text;
}

static void test_render(void **state)
{
	char *dir = ut_mkdtemp("prov"), *a, *b;
	struct lethe_provenance *p = NULL;

	ut_put(dir, "rootfs.erofs", "abc", 0644);
	ut_put(dir, "cmdline", "x\n", 0644);
	ut_put(dir, "SHA256SUMS", "not a subject\n", 0644);
	ut_put(dir, "SHA256SUMS.minisig", "not a subject\n", 0644);
	ut_put(dir, lethe_release_name(LETHE_ARTIFACT_PROVENANCE), "not a subject\n", 0644);
	ut_put(dir, ".hidden", "not a subject\n", 0644);
	a = render(dir);
	b = render(dir);
	assert_string_equal(a, b); /* deterministic */
	assert_non_null(strstr(a, "2023-11-14T22:13:20Z"));
	assert_non_null(strstr(a, "urn:lethe:builder:lethe-build"));
	assert_int_equal(lethe_provenance_parse(a, strlen(a), "a", &p), 0);
	assert_int_equal(p->n_subjects, 2);
	assert_string_equal(p->subjects[0].name, "cmdline"); /* sorted */
	assert_string_equal(p->subjects[1].name, "rootfs.erofs");
	/* sha256("abc") */
	assert_int_equal(p->subjects[1].sha256[0], 0xba);
	assert_int_equal(p->subjects[1].sha256[31], 0xad);
	assert_int_equal(p->n_inputs, 1);
	lethe_provenance_free(p);
	free(a);
	free(b);
	lethe_rm_rf(dir);
	free(dir);
}

static void expect_bad(const char *text, const char *what)
{
	struct lethe_provenance *p = NULL;
	int r = lethe_provenance_parse(text, strlen(text), "t.json", &p);

	assert_int_equal(r, -LETHE_E_INVALID);
	assert_null(p);
	assert_non_null(lethe_error_message());
	if (!strstr(lethe_error_message(), what))
		fail_msg("'%s' does not say '%s'", lethe_error_message(), what);
}

static void test_parse_bad(void **state)
{
	struct lethe_provenance *p = NULL;
	const char *ok = HEAD "\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":\"" ZERO64
			      "\"}}]," PRED "}";

	assert_int_equal(lethe_provenance_parse(ok, strlen(ok), "ok", &p), 0);
	lethe_provenance_free(p);
	expect_bad("{", "not one JSON document");
	expect_bad("{} {}", "not one JSON document");
	expect_bad("[]", "_type");
	expect_bad("{\"_type\":\"https://in-toto.io/Statement/v0.1\"}", "_type");
	expect_bad(HEAD "\"subject\":[]," PRED "}", "0 subjects");
	expect_bad(HEAD "\"subject\":[{\"digest\":{\"sha256\":\"" ZERO64 "\"}}]," PRED "}",
		   "no name");
	expect_bad(HEAD "\"subject\":[{\"name\":\"../a\",\"digest\":{\"sha256\":\"" ZERO64
			"\"}}]," PRED "}",
		   "bad one");
	expect_bad(HEAD "\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":\"ABC\"}}]," PRED "}",
		   "64 lowercase hex");
	expect_bad(HEAD "\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":\"" ZERO64
			"\"}},{\"name\":\"a\",\"digest\":{\"sha256\":\"" ZERO64 "\"}}]," PRED "}",
		   "appears twice");
	expect_bad(HEAD "\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":\"" ZERO64 "\"}}]}",
		   "no predicate");
	expect_bad(HEAD "\"subject\":[{\"name\":\"a\",\"digest\":{\"sha256\":\"" ZERO64
			"\"}}],\"predicate\":{\"buildDefinition\":{\"buildType\":\"u\","
			"\"externalParameters\":{}},\"runDetails\":{\"builder\":{}}}}",
		   "no id");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_parse_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
