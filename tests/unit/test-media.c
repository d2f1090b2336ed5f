/* Unit tests of lib/media: target checks, medium verification with the first differing
 * offset, and writing a signed release's disk.img to a file. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <lethe/media.h>
#include <lethe/release.h>

#include "helpers.h"

static char tmpdir[] = "/tmp/lethe-test-media.XXXXXX";
static struct lethe_sign_pubkey pub;

#define IMAGE_SIZE (3u << 20) /* three chunks: offsets in each are checked */

static char *path(const char *name)
{
	return ut_path(tmpdir, name);
}

static void put(const char *dir, const char *name, const char *text)
{
	char *p = lethe_path_join(dir, name);

	assert_int_equal(lethe_file_write_atomic(p, text, strlen(text), 0644), 0);
	free(p);
}

/* A release directory "rel": disk.img of pseudo-random bytes, the files every release
 * lists (their content does not matter here: the verity tree is not checked), SHA256SUMS,
 * its signature with a fresh key. */
static int setup(void **state)
{
	struct lethe_sign_seckey *key = NULL;
	char *rel, *img, *sums, *sig, *pubp, *secp;
	const char *names[] = { "disk.img", "rootfs.erofs", "rootfs.verity", "roothash" };
	uint8_t *data = malloc(IMAGE_SIZE);

	assert_non_null(mkdtemp(tmpdir));
	rel = path("rel");
	assert_int_equal(lethe_mkdir_p(rel, 0755), 0);
	img = lethe_path_join(rel, "disk.img");
	sums = lethe_path_join(rel, "SHA256SUMS");
	sig = lethe_path_join(rel, "SHA256SUMS.minisig");
	pubp = path("k.pub");
	secp = path("k.key");
	for (size_t i = 0; i < IMAGE_SIZE; i++)
		data[i] = (uint8_t)(i * 2654435761u >> 13);
	assert_int_equal(lethe_file_write_atomic(img, data, IMAGE_SIZE, 0644), 0);
	put(rel, "rootfs.erofs", "erofs");
	put(rel, "rootfs.verity", "verity");
	put(rel, "roothash", "0123456789abcdef0123456789abcdef\n");
	assert_int_equal(lethe_sums_write(sums, rel, names, LETHE_ARRAY_SIZE(names)), 0);
	assert_int_equal(lethe_sign_keygen(pubp, secp, NULL, NULL, &pub), 0);
	assert_int_equal(lethe_sign_seckey_load(secp, NULL, &key), 0);
	assert_int_equal(lethe_sign_file(key, sums, NULL, true, sig), 0);
	lethe_sign_seckey_free(key);
	free(data);
	free(rel);
	free(img);
	free(sums);
	free(sig);
	free(pubp);
	free(secp);
	return 0;
}

static int teardown(void **state)
{
	lethe_rm_rf(tmpdir);
	return 0;
}

static void flip(const char *file, long off)
{
	FILE *f = fopen(file, "r+b");
	int c;

	assert_non_null(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	c = fgetc(f);
	assert_int_equal(fseek(f, off, SEEK_SET), 0);
	fputc(c ^ 0x20, f);
	fclose(f);
}

static void test_check_target(void **state)
{
	char *f = path("plain");

	assert_int_equal(lethe_media_check_target(NULL, f), 0); /* does not exist yet */
	assert_int_equal(lethe_file_write_atomic(f, "x", 1, 0644), 0);
	assert_int_equal(lethe_media_check_target(NULL, f), 0);
	assert_int_equal(lethe_media_check_target(NULL, "/dev/null"), -EINVAL); /* a char device */
	assert_int_equal(lethe_media_check_target(NULL, tmpdir), -EINVAL);
	/* issue 10.7: a mistyped device path never becomes a file in /dev */
	assert_int_equal(lethe_media_check_target(NULL, "/dev/lethe-no-such-disk"), -ENOENT);
	free(f);
}

/* issue 10.7: the release's own disk.img (or a link to it) is no target; the release
 * is left intact. */
static void test_own_image(void **state)
{
	char *dir = path("rel"), *img = lethe_path_join(dir, "disk.img");
	char *link = path("link.img");
	struct lethe_release *rel = NULL;

	assert_int_equal(lethe_release_open(dir, &pub, &rel), 0);
	assert_int_equal(lethe_media_write(rel, img), -EBUSY);
	assert_non_null(strstr(lethe_error_message(), "the release's own disk.img"));
	assert_int_equal(symlink(img, link), 0);
	assert_int_equal(lethe_media_write(rel, link), -EBUSY);
	assert_int_equal(lethe_media_write(rel, "/dev/lethe-no-such-disk"), -ENOENT);
	assert_int_equal(access("/dev/lethe-no-such-disk", F_OK), -1);
	lethe_release_free(rel);
	rel = NULL;
	assert_int_equal(lethe_release_open(dir, &pub, &rel), 0); /* still intact */
	lethe_release_free(rel);
	unlink(link);
	free(link);
	free(img);
	free(dir);
}

static void test_write_and_verify(void **state)
{
	char *dir = path("rel"), *medium = path("medium.img");
	long offsets[] = { 0, 1048575, 1048576 + 4097, IMAGE_SIZE - 1 };
	struct lethe_release *rel = NULL;

	assert_int_equal(lethe_release_open(dir, &pub, &rel), 0);
	assert_int_equal(lethe_media_write(rel, medium), 0);
	assert_int_equal(lethe_media_verify_written(rel, medium), 0);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(offsets); i++) {
		char want[64];

		flip(medium, offsets[i]);
		assert_int_equal(lethe_media_verify_written(rel, medium), -EBADMSG);
		snprintf(want, sizeof(want), "first difference at byte offset %ld", offsets[i]);
		assert_non_null(strstr(lethe_error_message(), want));
		flip(medium, offsets[i]);
	}
	assert_int_equal(lethe_media_verify_written(rel, medium), 0);
	/* without disk.img alongside: the hash still catches it, without an offset */
	{
		uint8_t d[32];
		int img = lethe_release_fd(rel, LETHE_ARTIFACT_DISK);

		assert_true(img >= 0);
		assert_int_equal(lethe_release_info(rel, LETHE_ARTIFACT_DISK, NULL, d), 0);
		assert_int_equal(lethe_release_info(rel, LETHE_ARTIFACT_KERNEL, NULL, d), -ENOENT);
		flip(medium, 77);
		assert_int_equal(lethe_media_verify_device(medium, -1, IMAGE_SIZE, d), -EBADMSG);
		assert_non_null(strstr(lethe_error_message(), "SHA-256"));
		flip(medium, 77);
		assert_int_equal(lethe_media_verify_device(medium, -1, IMAGE_SIZE, d), 0);
		/* a medium shorter than the image */
		assert_int_equal(truncate(medium, IMAGE_SIZE - 1), 0);
		assert_int_equal(lethe_media_verify_device(medium, img, IMAGE_SIZE, d), -EBADMSG);
		assert_non_null(strstr(lethe_error_message(), "ends at"));
	}
	lethe_release_free(rel);
	free(dir);
	free(medium);
}

/* disk.img changed after the release was opened (the same inode, rewritten): the copy
 * is hashed as it is written, and the medium is refused. */
static void test_changed_while_written(void **state)
{
	char *dir = path("rel"), *medium = path("changed.img");
	char *img = lethe_path_join(dir, "disk.img");
	struct lethe_release *rel = NULL;

	assert_int_equal(lethe_release_open(dir, &pub, &rel), 0);
	flip(img, 12345);
	assert_int_equal(lethe_media_write(rel, medium), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "changed while it was written"));
	flip(img, 12345);
	lethe_release_free(rel);
	free(img);
	free(dir);
	free(medium);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_target),
		cmocka_unit_test(test_own_image),
		cmocka_unit_test(test_write_and_verify),
		cmocka_unit_test(test_changed_while_written),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
