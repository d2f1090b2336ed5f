/* Unit tests of what lethe diff orders packages by: Debian version comparison
 * (lib/pkg/version.c), each case also checked against dpkg --compare-versions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <lethe/pkg.h>

static const struct {
	const char *a, *b;
	int want;
} cases[] = {
	{ "1.0", "1.0", 0 },
	{ "1.0", "1.1", -1 },
	{ "1.10", "1.9", 1 },
	{ "1.0~rc1", "1.0", -1 },
	{ "1.0", "1.0+deb12u1", -1 },
	{ "1:1.0", "2.0", 1 },
	{ "1.0-1", "1.0-2", -1 },
	{ "1.0-10", "1.0-9", 1 },
	{ "1.0a", "1.0+", -1 },
	{ "1.0~~", "1.0~", -1 },
	{ "1.35.0-4+deb12u1+b1", "1.35.0-4+deb12u1", 1 },
	{ "3.0.17-1~deb12u2", "3.0.17-1", -1 },
	{ "0:1.2", "1.2", 0 },
	{ "1.002", "1.2", 0 },
	{ "2.36-9+deb12u10", "2.36-9+deb12u9", 1 },
};

static void test_versions(void **state)
{
	bool dpkg = system("command -v dpkg >/dev/null 2>&1") == 0;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int got = lethe_pkg_version_compare(cases[i].a, cases[i].b);

		if (got != cases[i].want)
			fail_msg("'%s' vs '%s': %d, expected %d", cases[i].a, cases[i].b, got,
				 cases[i].want);
		assert_int_equal(lethe_pkg_version_compare(cases[i].b, cases[i].a), -cases[i].want);
		if (dpkg) {
			char cmd[256];
			const char *op = cases[i].want < 0 ? "lt" : cases[i].want > 0 ? "gt" : "eq";

			snprintf(cmd, sizeof(cmd), "dpkg --compare-versions '%s' %s '%s'",
				 cases[i].a, op, cases[i].b);
			if (system(cmd) != 0)
				fail_msg("dpkg disagrees: %s", cmd);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
