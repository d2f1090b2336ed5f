/* Unit tests of lib/image: the same tree, made in another order at another time with
 * another umask, gives the same EROFS bytes; fsck.erofs accepts it; failures leave no
 * output or temporary file. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include <lethe/image.h>

#include "helpers.h"

#define UUID "0123abcd-0000-8000-8000-00000000beef"

static bool have_mkfs(void)
{
	return access("/usr/bin/mkfs.erofs", X_OK) == 0;
}

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	ut_put(dir, name, text, mode);
}

/* The same content, created in opposite orders, with different times and umask. */
static char *make_tree(bool reverse)
{
	char tmpl[] = "/tmp/lethe-test-image.XXXXXX";
	char *dir, *p, name[32];

	umask(reverse ? 077 : 022);
	assert_non_null(mkdtemp(tmpl));
	dir = strdup(tmpl);
	assert_int_equal(chmod(dir, 0755), 0);
	p = lethe_path_join(dir, "usr");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(chmod(p, 0755), 0);
	free(p);
	for (int i = 0; i < 40; i++) {
		int k = reverse ? 39 - i : i;

		snprintf(name, sizeof(name), "usr/f%02d", k);
		put(dir, name, k % 2 ? "odd content, repeated repeated repeated\n" : "even\n",
		    k % 3 ? 0644 : 0755);
	}
	p = lethe_path_join(dir, "usr/link");
	assert_int_equal(symlink("f01", p), 0);
	free(p);
	if (reverse) {
		struct timespec ts[2] = { { 12345, 0 }, { 12345, 0 } };

		assert_int_equal(utimensat(AT_FDCWD, dir, ts, 0), 0);
	}
	umask(022);
	return dir;
}

static char *read_all(const char *path, size_t *len)
{
	return ut_read(path, len);
}

static void test_reproducible(void **state)
{
	struct lethe_image_options o = { .epoch = 1700000000, .uuid = UUID };
	char out[] = "/tmp/lethe-test-image-out.XXXXXX";
	char *t1, *t2, *a, *b, *da, *db, cmd[512];
	size_t la, lb;

	if (!have_mkfs()) {
		skip();
		return;
	}
	assert_non_null(mkdtemp(out));
	t1 = make_tree(false);
	t2 = make_tree(true);
	a = lethe_path_join(out, "a.erofs");
	b = lethe_path_join(out, "b.erofs");
	assert_int_equal(lethe_image_erofs(t1, a, &o), 0);
	/* SOURCE_DATE_EPOCH in the environment must not change the image (mkfs.erofs 1.5
	 * would switch to extended inodes). */
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	assert_int_equal(lethe_image_erofs(t2, b, &o), 0);
	unsetenv("SOURCE_DATE_EPOCH");
	da = read_all(a, &la);
	db = read_all(b, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	free(db);
	assert_int_equal(count_entries(out), 2); /* no temporary left behind */

	snprintf(cmd, sizeof(cmd), "fsck.erofs '%s' >/dev/null 2>&1", a);
	assert_int_equal(system(cmd), 0);

	/* Another epoch or UUID gives other bytes: the options do reach mkfs.erofs. */
	o.epoch = 1700000001;
	assert_int_equal(lethe_image_erofs(t1, b, &o), 0);
	db = read_all(b, &lb);
	assert_true(la != lb || memcmp(da, db, la) != 0);
	free(db);

	free(da);
	free(a);
	free(b);
	lethe_rm_rf(t1);
	lethe_rm_rf(t2);
	lethe_rm_rf(out);
	free(t1);
	free(t2);
}

static void test_failures_leave_nothing(void **state)
{
	struct lethe_image_options o = { .epoch = 0, .uuid = UUID };
	char out[] = "/tmp/lethe-test-image-out.XXXXXX";
	char *t, *img;

	assert_non_null(mkdtemp(out));
	t = make_tree(false);
	img = lethe_path_join(out, "x.erofs");

	o.compression = "lz4; rm -rf /";
	assert_int_equal(lethe_image_erofs(t, img, &o), -EINVAL);
	o.compression = NULL;
	o.uuid = "not-a-uuid";
	assert_int_equal(lethe_image_erofs(t, img, &o), -EINVAL);
	o.uuid = UUID;
	o.pcluster = 1000;
	assert_int_equal(lethe_image_erofs(t, img, &o), -EINVAL);
	o.pcluster = 0;
	o.mkfs = "/nonexistent/mkfs.erofs";
	assert_int_equal(lethe_image_erofs(t, img, &o), -ENOENT);
	assert_non_null(strstr(lethe_error_message(), "/nonexistent/mkfs.erofs"));
	if (have_mkfs()) {
		o.mkfs = NULL;
		o.compression = "nosuchcompressor";
		assert_int_equal(lethe_image_erofs(t, img, &o), -EIO);
		assert_non_null(strstr(lethe_error_message(), "mkfs.erofs"));
	}
	assert_int_equal(count_entries(out), 0);

	lethe_rm_rf(t);
	lethe_rm_rf(out);
	free(t);
	free(img);
}

static void test_uuid(void **state)
{
	uint8_t d[32];
	char u[37], u2[37];

	memset(d, 0xff, sizeof(d));
	lethe_image_uuid(d, u);
	assert_string_equal(u, "ffffffff-ffff-8fff-bfff-ffffffffffff");
	memset(d, 0, sizeof(d));
	lethe_image_uuid(d, u2);
	assert_string_equal(u2, "00000000-0000-8000-8000-000000000000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_failures_leave_nothing),
		cmocka_unit_test(test_uuid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
