/* The boot menu (issue 11.3): the entry files of the ESP, loader.conf's default, an ESP
 * with the entries made twice (identical bytes, the entries' text inside as mtype reads
 * it), and the reading of LoaderEntrySelected that lethe-init acts on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/contract.h>
#include <lethe/core.h>
#include <lethe/run.h>
#include <lethe/uefi.h>

static char tmpdir[] = "/tmp/lethe-test-menu.XXXXXX";

static void test_entry_text(void **state)
{
	char *t = NULL;

	(void)state;
	assert_int_equal(lethe_esp_menu_entry(LETHE_BOOT_ENTRY_TORAM_ID, "Lethe minimal 0.1.0",
					      "0.1.0", "lethe.efi", &t),
			 0);
	assert_string_equal(t, "title Lethe minimal 0.1.0 (toram)\nversion 0.1.0\n"
			       "efi /EFI/Linux/lethe.efi\n");
	free(t);
	assert_int_equal(
		lethe_esp_menu_entry(LETHE_BOOT_ENTRY_PERSISTENCE_ID, "L 1", "1", "lethe.efi", &t),
		0);
	assert_string_equal(t, "title L 1 (persistent storage)\nversion 1\n"
			       "efi /EFI/Linux/lethe.efi\n");
	/* no options line: the cmdline stays the one signed inside the UKI */
	assert_null(strstr(t, "options"));
	free(t);
	assert_int_equal(lethe_esp_menu_entry("lethe-other", "L", "1", "lethe.efi", &t), -EINVAL);
	assert_int_equal(lethe_esp_menu_entry(LETHE_BOOT_ENTRY_TORAM_ID, "L\noptions x", "1",
					      "lethe.efi", &t),
			 -EINVAL);
	assert_int_equal(lethe_esp_menu_entry(LETHE_BOOT_ENTRY_TORAM_ID, "L", "1", "a/b.efi", &t),
			 -EINVAL);
	assert_int_equal(lethe_esp_loader_conf(0, "lethe.efi", &t), 0);
	assert_string_equal(t, "timeout 0\neditor no\ndefault lethe.efi\n");
	free(t);
}

/* An efivarfs file: attributes, then UTF-16LE with a NUL. */
static size_t efivar(uint32_t attr, const char *s, uint8_t *buf)
{
	size_t n = 4;

	memcpy(buf, &attr, 4);
	for (; *s; s++) {
		buf[n++] = (uint8_t)*s;
		buf[n++] = 0;
	}
	buf[n++] = 0;
	buf[n++] = 0;
	return n;
}

static void test_entry_selected(void **state)
{
	uint8_t buf[512];
	unsigned f = 99;
	size_t n;

	(void)state;
	/* systemd-boot's own: BOOTSERVICE_ACCESS | RUNTIME_ACCESS (6), not NON_VOLATILE */
	n = efivar(6, "lethe-toram.conf", buf);
	assert_int_equal(lethe_boot_entry_selected(buf, n, &f), 0);
	assert_int_equal(f, LETHE_BOOT_ENTRY_TORAM);
	n = efivar(6, "Lethe-Persistence.conf", buf); /* ids are lower-cased, case is moot */
	assert_int_equal(lethe_boot_entry_selected(buf, n, &f), 0);
	assert_int_equal(f, LETHE_BOOT_ENTRY_PERSISTENCE);
	n = efivar(6, "lethe-persistence", buf);
	assert_int_equal(lethe_boot_entry_selected(buf, n, &f), 0);
	assert_int_equal(f, LETHE_BOOT_ENTRY_PERSISTENCE);
	/* the default entry, other entries, near misses */
	static const char *const amnesic[] = { "lethe.efi",	     "lethe-toram.conf.bak",
					       "lethe-toramx.conf",  "xlethe-toram.conf",
					       "lethe-toram+3.conf", "lethe-persistence.efi" };
	for (size_t i = 0; i < sizeof(amnesic) / sizeof(amnesic[0]); i++) {
		f = 99;
		n = efivar(6, amnesic[i], buf);
		assert_int_equal(lethe_boot_entry_selected(buf, n, &f), 0);
		assert_int_equal(f, LETHE_BOOT_ENTRY_AMNESIC);
	}
	/* a NON_VOLATILE variable was not set by the loader in this boot */
	n = efivar(7, "lethe-persistence.conf", buf);
	assert_int_equal(lethe_boot_entry_selected(buf, n, &f), 0);
	assert_int_equal(f, LETHE_BOOT_ENTRY_AMNESIC);
	/* malformed: *ret untouched */
	f = 99;
	assert_int_equal(lethe_boot_entry_selected(buf, 3, &f), -EBADMSG);
	assert_int_equal(lethe_boot_entry_selected(buf, n - 1, &f), -EBADMSG);
	assert_int_equal(f, 99);
}

static char *mkfile(const char *name, size_t size, int byte)
{
	char *p = lethe_path_join(tmpdir, name), *d = malloc(size);

	assert_non_null(p);
	assert_non_null(d);
	memset(d, byte, size);
	assert_int_equal(lethe_file_write_atomic(p, d, size, 0644), 0);
	free(d);
	return p;
}

/* FILE on the FAT image img, as mtype prints it (NULL when missing). */
static char *mtype(const char *img, const char *file)
{
	static const char *const env[] = { "MTOOLS_SKIP_CHECK=1", NULL };
	struct lethe_buf out = { 0 };
	char src[256];
	int r;

	snprintf(src, sizeof(src), "::/%s", file);
	r = lethe_run((char *const[]){ (char *)"mtype", (char *)"-i", (char *)img, src, NULL },
		      &(struct lethe_run_options){ .env = env, .out = &out }, NULL);
	if (r < 0) {
		lethe_buf_release(&out);
		return NULL;
	}
	return out.data ? out.data : strdup("");
}

static void test_esp_menu(void **state)
{
	char *uki, *one, *two, *a = NULL, *b = NULL, *t;
	size_t la, lb;

	(void)state;
	if (lethe_uefi_check_tools() < 0)
		skip();
	uki = mkfile("lethe.efi", 1u << 20, 0x55);
	one = lethe_path_join(tmpdir, "esp1.img");
	two = lethe_path_join(tmpdir, "esp2.img");
	struct lethe_esp_options o = { .output = one,
				       .uki = uki,
				       .uki_name = "lethe.efi",
				       .volume_id = "0badcafe",
				       .workdir = tmpdir,
				       .epoch = 1700000000,
				       .menu_title = "Lethe t 1.0",
				       .menu_version = "1.0",
				       .menu_persistence = true };
	assert_int_equal(lethe_esp_make(&o), 0);
	sleep(1);
	o.output = two;
	assert_int_equal(lethe_esp_make(&o), 0);
	assert_int_equal(lethe_file_read(one, 64u << 20, &a, &la), 0);
	assert_int_equal(lethe_file_read(two, 64u << 20, &b, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	t = mtype(one, LETHE_ESP_LOADER_CONF);
	assert_non_null(t);
	assert_string_equal(t, "timeout 0\neditor no\ndefault lethe.efi\n");
	free(t);
	t = mtype(one, LETHE_ESP_ENTRIES_DIR "/" LETHE_BOOT_ENTRY_TORAM_ID ".conf");
	assert_non_null(t);
	assert_string_equal(t,
			    "title Lethe t 1.0 (toram)\nversion 1.0\nefi /EFI/Linux/lethe.efi\n");
	free(t);
	t = mtype(one, LETHE_ESP_ENTRIES_DIR "/" LETHE_BOOT_ENTRY_PERSISTENCE_ID ".conf");
	assert_non_null(t);
	assert_non_null(strstr(t, "(persistent storage)"));
	free(t);
	/* without persistence: no such entry; without a title (lethe install): no menu */
	o.menu_persistence = false;
	assert_int_equal(lethe_esp_make(&o), 0);
	t = mtype(two, LETHE_ESP_ENTRIES_DIR "/" LETHE_BOOT_ENTRY_PERSISTENCE_ID ".conf");
	assert_null(t);
	t = mtype(two, LETHE_ESP_ENTRIES_DIR "/" LETHE_BOOT_ENTRY_TORAM_ID ".conf");
	assert_non_null(t);
	free(t);
	o.menu_title = NULL;
	assert_int_equal(lethe_esp_make(&o), 0);
	assert_null(mtype(two, LETHE_ESP_ENTRIES_DIR "/" LETHE_BOOT_ENTRY_TORAM_ID ".conf"));
	t = mtype(two, LETHE_ESP_LOADER_CONF);
	assert_non_null(t);
	assert_string_equal(t, "timeout 0\neditor no\n");
	free(t);
	free(a);
	free(b);
	free(uki);
	free(one);
	free(two);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_text),
		cmocka_unit_test(test_entry_selected),
		cmocka_unit_test(test_esp_menu),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
