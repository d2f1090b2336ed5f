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

#include "helpers.h"

static char tmpdir[] = "/tmp/lethe-test-media.XXXXXX";
static struct lethe_sign_pubkey pub;

#define IMAGE_SIZE (3u << 20) /* three chunks: offsets in each are checked */

static char *path(const char *name)
{
	return ut_path(tmpdir, name);
}

/* A release directory "rel": disk.img of pseudo-random bytes, SHA256SUMS, its
 * signature with a fresh key. */
static int setup(void **state)
{
	struct lethe_sign_seckey *key = NULL;
	char *rel, *img, *sums, *sig, *pubp, *secp;
	const char *names[] = { "disk.img" };
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
	assert_int_equal(lethe_sums_write(sums, rel, names, 1), 0);
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

	assert_int_equal(lethe_media_check_target(f), 0); /* does not exist yet */
	assert_int_equal(lethe_file_write_atomic(f, "x", 1, 0644), 0);
	assert_int_equal(lethe_media_check_target(f), 0);
	assert_int_equal(lethe_media_check_target("/dev/null"), -EINVAL); /* a char device */
	assert_int_equal(lethe_media_check_target(tmpdir), -EINVAL);
	free(f);
}

static void test_write_and_verify(void **state)
{
	char *rel = path("rel"), *medium = path("medium.img");
	char *img = lethe_path_join(rel, "disk.img");
	long offsets[] = { 0, 1048575, 1048576 + 4097, IMAGE_SIZE - 1 };

	assert_int_equal(lethe_media_write(rel, &pub, medium), 0);
	assert_int_equal(lethe_media_verify_written(rel, &pub, medium), 0);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(offsets); i++) {
		char want[64];

		flip(medium, offsets[i]);
		assert_int_equal(lethe_media_verify_written(rel, &pub, medium), -EBADMSG);
		snprintf(want, sizeof(want), "first difference at byte offset %ld", offsets[i]);
		assert_non_null(strstr(lethe_error_message(), want));
		flip(medium, offsets[i]);
	}
	assert_int_equal(lethe_media_verify_written(rel, &pub, medium), 0);
	/* without disk.img alongside: the hash still catches it, without an offset */
	{
		uint8_t d[32];
		struct lethe_sums s = { 0 };

		assert_int_equal(lethe_media_signed_sums(rel, &pub, &s), 0);
		assert_int_equal(lethe_media_sums_digest(&s, "disk.img", d), 0);
		assert_int_equal(lethe_media_sums_digest(&s, "vmlinuz", d), -EBADMSG);
		flip(medium, 77);
		assert_int_equal(lethe_media_verify_device(medium, NULL, IMAGE_SIZE, d), -EBADMSG);
		assert_non_null(strstr(lethe_error_message(), "SHA-256"));
		flip(medium, 77);
		assert_int_equal(lethe_media_verify_device(medium, NULL, IMAGE_SIZE, d), 0);
		/* a medium shorter than the image */
		assert_int_equal(truncate(medium, IMAGE_SIZE - 1), 0);
		assert_int_equal(lethe_media_verify_device(medium, img, IMAGE_SIZE, d), -EBADMSG);
		assert_non_null(strstr(lethe_error_message(), "ends at"));
		lethe_sums_release(&s);
	}
	free(img);
	free(rel);
	free(medium);
}

static void test_tampered_release(void **state)
{
	char *rel = path("rel"), *medium = path("never.img");
	char *img = lethe_path_join(rel, "disk.img");
	struct lethe_sign_pubkey other = pub;

	flip(img, 12345);
	assert_int_equal(lethe_media_write(rel, &pub, medium), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "does not match the signed"));
	assert_int_equal(access(medium, F_OK), -1);
	flip(img, 12345);
	other.pk[0] ^= 1; /* another key with the same id */
	assert_true(lethe_error_is_check(lethe_media_write(rel, &other, medium)));
	assert_int_equal(access(medium, F_OK), -1);
	free(img);
	free(rel);
	free(medium);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_target),
		cmocka_unit_test(test_write_and_verify),
		cmocka_unit_test(test_tampered_release),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
