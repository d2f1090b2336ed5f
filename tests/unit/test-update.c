/* Unit tests of A/B updates' pure parts: boot-counting names (lib/core/bootcount.c),
 * systemd's version order, the loader's EFI variable strings, os-release values and
 * the spec's boot.layout and health: section. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <lethe/spec.h>
#include <lethe/update.h>

static void test_bootcount_names(void **state)
{
	struct lethe_bootcount c;
	char name[LETHE_BOOTCOUNT_NAME_MAX];

	(void)state;
	assert_int_equal(lethe_bootcount_parse("lethe-1.2.efi", &c), 0);
	assert_string_equal(c.version, "1.2");
	assert_false(c.counting);
	assert_int_equal(lethe_bootcount_parse("lethe-0.2.0+3.efi", &c), 0);
	assert_true(c.counting);
	assert_int_equal(c.left, 3);
	assert_int_equal(c.done, 0);
	assert_int_equal(lethe_bootcount_parse("lethe-2~rc1+0-3.efi", &c), 0);
	assert_string_equal(c.version, "2~rc1");
	assert_int_equal(c.left, 0);
	assert_int_equal(c.done, 3);
	/* systemd-boot's LoaderEntrySelected is lower case; FAT does not care. */
	assert_int_equal(lethe_bootcount_parse("LETHE-1.EFI", &c), 0);
	/* Not ours, or malformed counters. */
	static const char *const bad[] = {
		"lethe-.efi",	     "lethe-1+.efi",	  "lethe-1+a.efi",   "lethe-1+1-.efi",
		"lethe-1+99999.efi", "other-1.efi",	  "lethe-1.efi.tmp", "lethe-1+2+3.efi",
		"lethe-a/b.efi",     "lethe-.hidden.efi", "lethe-1 2.efi",   "lethe-update.tmp"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_int_equal(lethe_bootcount_parse(bad[i], &c), -EBADMSG);
	c = (struct lethe_bootcount){ .version = "3.1", .counting = true, .left = 2, .done = 1 };
	assert_int_equal(lethe_bootcount_format(&c, name), 0);
	assert_string_equal(name, "lethe-3.1+2-1.efi");
	c.done = 0;
	assert_int_equal(lethe_bootcount_format(&c, name), 0);
	assert_string_equal(name, "lethe-3.1+2.efi");
	c.counting = false;
	assert_int_equal(lethe_bootcount_format(&c, name), 0);
	assert_string_equal(name, "lethe-3.1.efi");
	snprintf(c.version, sizeof(c.version), "1+2");
	assert_int_equal(lethe_bootcount_format(&c, name), -EINVAL);
}

static void test_version_order(void **state)
{
	(void)state;
	/* The examples of systemd's test-string-util (strverscmp_improved). */
	static const char *const ordered[] = {
		"~1",	     "",	"ab",	   "abb",    "abc",   "0001",	 "002",	  "12",
		"122",	     "122.9",	"123~rc1", "123",    "123-a", "123-a.1", "123-1", "123-1.1",
		"123^post1", "123.a-1", "123.1-1", "123a-1", "124",   NULL
	};
	for (size_t i = 0; ordered[i + 1]; i++) {
		if (!*ordered[i] || !*ordered[i + 1])
			continue;
		assert_true(lethe_version_compare(ordered[i], ordered[i + 1]) < 0);
		assert_true(lethe_version_compare(ordered[i + 1], ordered[i]) > 0);
	}
	assert_int_equal(lethe_version_compare("0.1.0", "0.1.0"), 0);
	assert_int_equal(lethe_version_compare("1.02", "1.2"), 0);
	assert_true(lethe_version_compare("0.10", "0.9") > 0);
	assert_true(lethe_version_compare("1.0", "1.0.1") < 0);
	assert_true(lethe_version_compare("2.0~rc1", "2.0") < 0);
}

static void test_efivar_string(void **state)
{
	/* attributes, then "\EFI\Linux\a+1.efi" in UTF-16LE, NUL-terminated */
	static const char path[] = "\\EFI\\Linux\\a+1.efi";
	uint8_t buf[4 + 2 * sizeof(path)];
	char out[64];

	(void)state;
	memset(buf, 0, sizeof(buf));
	buf[0] = 6;
	for (size_t i = 0; i < sizeof(path); i++)
		buf[4 + 2 * i] = (uint8_t)path[i];
	assert_int_equal(lethe_efivar_string(buf, sizeof(buf), out, sizeof(out)), 0);
	assert_string_equal(out, "EFI/Linux/a+1.efi");
	assert_int_equal(lethe_efivar_string(buf, sizeof(buf) - 1, out, sizeof(out)), -EBADMSG);
	assert_int_equal(lethe_efivar_string(buf, sizeof(buf), out, 8), -EBADMSG);
	buf[5] = 0x01; /* 'E' + 0x100: not ASCII */
	assert_int_equal(lethe_efivar_string(buf, sizeof(buf), out, sizeof(out)), -EBADMSG);
	assert_int_equal(lethe_efivar_string(buf, 4, out, sizeof(out)), -EBADMSG);
}

static void test_osrel(void **state)
{
	static const char t[] = "ID=lethe\nIMAGE_ID=\"lethe-minimal\"\nIMAGE_VERSION='0.2'\n"
				"BAD=\"open\nVAR=$(x)\n";
	char v[32];

	(void)state;
	assert_int_equal(lethe_osrel_value(t, strlen(t), "IMAGE_ID", v, sizeof(v)), 0);
	assert_string_equal(v, "lethe-minimal");
	assert_int_equal(lethe_osrel_value(t, strlen(t), "IMAGE_VERSION", v, sizeof(v)), 0);
	assert_string_equal(v, "0.2");
	assert_int_equal(lethe_osrel_value(t, strlen(t), "ID", v, sizeof(v)), 0);
	assert_string_equal(v, "lethe");
	assert_int_equal(lethe_osrel_value(t, strlen(t), "NONE", v, sizeof(v)), -ENOENT);
	assert_int_equal(lethe_osrel_value(t, strlen(t), "BAD", v, sizeof(v)), -EBADMSG);
	assert_int_equal(lethe_osrel_value(t, strlen(t), "VAR", v, sizeof(v)), -EBADMSG);
	assert_int_equal(lethe_osrel_value(t, strlen(t), "IMAGE_ID", v, 5), -EBADMSG);
}

#define SPEC_HEAD "name: t\nversion: '1'\npackages: [busybox-static]\n"

static void test_spec_layout_health(void **state)
{
	struct lethe_spec *spec = NULL;
	const char *text = SPEC_HEAD "kernel:\n  package: linux-image-cloud-amd64\n"
				     "  modules: [vfat]\nboot:\n  layout: ab\n"
				     "health:\n  settle: 2\n  timeout: 60\n"
				     "  command: [/bin/true, x]\n";

	(void)state;
	assert_int_equal(lethe_spec_parse("t.yaml", NULL, text, strlen(text), &spec), 0);
	assert_true(spec->boot_ab);
	assert_int_equal(spec->health_settle, 2);
	assert_int_equal(spec->health_timeout, 60);
	assert_int_equal(spec->health_command.n, 2);
	/* Bless's modules, each once, before the module lock. */
	static const char *const mods[] = { "vfat", "efivarfs", "fat", "nls_cp437", "nls_ascii" };
	assert_int_equal(spec->kernel.modules.n, 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(spec->kernel.modules.v[i], mods[i]);
	spec = lethe_spec_free(spec);

	text = SPEC_HEAD;
	assert_int_equal(lethe_spec_parse("t.yaml", NULL, text, strlen(text), &spec), 0);
	assert_false(spec->boot_ab);
	assert_int_equal(spec->health_settle, 30);
	assert_int_equal(spec->health_timeout, 300);
	spec = lethe_spec_free(spec);

	static const char *const bad[] = {
		SPEC_HEAD "boot:\n  layout: abc\n",
		SPEC_HEAD "boot:\n  layout: ab\n", /* no kernel */
		SPEC_HEAD "health:\n  settle: 40\n  timeout: 30\n",
		SPEC_HEAD "health:\n  command: [true]\n",
		SPEC_HEAD "health:\n  setle: 3\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		assert_int_equal(lethe_spec_parse("t.yaml", NULL, bad[i], strlen(bad[i]), &spec),
				 -EBADMSG);
		assert_null(spec);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bootcount_names),	   cmocka_unit_test(test_version_order),
		cmocka_unit_test(test_efivar_string),	   cmocka_unit_test(test_osrel),
		cmocka_unit_test(test_spec_layout_health),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
