/* Unit tests of lib/disk: UUID derivations and the GPT read back with libfdisk. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <libfdisk/libfdisk.h>

#include <lethe/disk.h>

#include "helpers.h"

static char tmpdir[] = "/tmp/lethe-test-disk.XXXXXX";

/* The example of docs/boot.md. */
static const char *const roothash_hex =
	"0123456789abcdef00112233445566778899aabbccddeeff0f1e2d3c4b5a6978";

static int setup(void **state)
{
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int teardown(void **state)
{
	lethe_rm_rf(tmpdir);
	return 0;
}

static void test_verity_uuids(void **state)
{
	uint8_t rh[32], zero[32] = { 0 };
	char d[LETHE_DISK_UUID_STR], v[LETHE_DISK_UUID_STR];

	assert_int_equal(lethe_hex_decode(roothash_hex, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_partuuids_from_roothash(rh, sizeof(rh), d, v), 0);
	assert_string_equal(d, "01234567-89ab-cdef-0011-223344556677");
	assert_string_equal(v, "8899aabb-ccdd-eeff-0f1e-2d3c4b5a6978");
	assert_int_equal(lethe_partuuids_from_roothash(rh, 15, d, v), -EINVAL);
	assert_int_equal(lethe_partuuids_from_roothash(zero, sizeof(zero), d, v), -EINVAL);
}

static void test_disk_guid(void **state)
{
	uint8_t rh[32];
	char g[LETHE_DISK_UUID_STR], g2[LETHE_DISK_UUID_STR];

	assert_int_equal(lethe_hex_decode(roothash_hex, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_disk_guid(rh, sizeof(rh), g), 0);
	/* Pinned: SHA-256("lethe disk guid\n" || root hash), version 4, RFC 4122 variant. */
	assert_string_equal(
		g, "eb7d376d-4a9c-42a6-99b6-dc2ffe6762e4"); /* computed with Python's hashlib */
	assert_int_equal(g[14], '4');
	assert_non_null(strchr("89ab", g[19]));
	rh[31] ^= 1;
	assert_int_equal(lethe_disk_guid(rh, sizeof(rh), g2), 0);
	assert_string_not_equal(g, g2);
}

static char *mkfile(const char *name, size_t len, int fill)
{
	char *p = ut_path(tmpdir, name);
	char *data = malloc(len);

	memset(data, fill, len);
	ut_write(p, data, len, 0644);
	free(data);
	return p;
}

static void check_layout(const char *img, const char *data_uuid, const char *verity_uuid)
{
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_table *tb = NULL;
	struct fdisk_partition *pa;
	static const uint64_t starts[] = { 2048, 2048 + 4096 };
	static const uint64_t sizes[] = { 4096, 2048 };
	const char *types[] = { LETHE_DISK_TYPE_ROOT_X86_64, LETHE_DISK_TYPE_ROOT_X86_64_VERITY };
	const char *uuids[] = { data_uuid, verity_uuid };
	const char *names[] = { "root-x86-64", "root-x86-64-verity" };

	assert_int_equal(fdisk_assign_device(cxt, img, 1), 0);
	assert_true(fdisk_is_labeltype(cxt, FDISK_DISKLABEL_GPT));
	assert_int_equal(fdisk_get_partitions(cxt, &tb), 0);
	assert_int_equal(fdisk_table_get_nents(tb), 2);
	for (size_t i = 0; i < 2; i++) {
		pa = fdisk_table_get_partition(tb, i);
		assert_int_equal(fdisk_partition_get_start(pa), starts[i]);
		assert_int_equal(fdisk_partition_get_size(pa), sizes[i]);
		assert_true(!strcasecmp(fdisk_parttype_get_string(fdisk_partition_get_type(pa)),
					types[i]));
		assert_true(!strcasecmp(fdisk_partition_get_uuid(pa), uuids[i]));
		assert_string_equal(fdisk_partition_get_name(pa), names[i]);
	}
	fdisk_unref_table(tb);
	fdisk_unref_context(cxt);
}

static void test_make_image(void **state)
{
	/* 1.5 MiB of 0xaa rounds up to 2 MiB; 4 KiB of 0xbb to 1 MiB. */
	char *root = mkfile("root", 3u << 19, 0xaa), *hash = mkfile("hash", 4096, 0xbb);
	char *img = lethe_path_join(tmpdir, "disk.img"), *img2 = lethe_path_join(tmpdir, "d2.img");
	char *a = NULL, *b = NULL;
	size_t la, lb;
	uint8_t rh[32];
	char d[LETHE_DISK_UUID_STR], v[LETHE_DISK_UUID_STR];

	assert_int_equal(lethe_hex_decode(roothash_hex, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_disk_make_image(img, root, hash, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_disk_make_image(img2, root, hash, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_file_read(img, 64u << 20, &a, &la), 0);
	assert_int_equal(lethe_file_read(img2, 64u << 20, &b, &lb), 0);
	assert_int_equal(la, (1 + 2 + 1 + 1) << 20);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la); /* reproducible */
	/* Data at the partition starts, zeros after it. */
	assert_int_equal((unsigned char)a[1 << 20], 0xaa);
	assert_int_equal((unsigned char)a[(1 << 20) + (3u << 19) - 1], 0xaa);
	assert_int_equal(a[(1 << 20) + (3u << 19)], 0);
	assert_int_equal((unsigned char)a[3 << 20], 0xbb);
	assert_int_equal((unsigned char)a[(3 << 20) + 4095], 0xbb);
	assert_int_equal(a[(3 << 20) + 4096], 0);
	assert_int_equal(lethe_partuuids_from_roothash(rh, sizeof(rh), d, v), 0);
	check_layout(img, d, v);
	free(a);
	free(b);
	free(img);
	free(img2);
	free(root);
	free(hash);
}

/* With an ESP: root and verity keep their places, the ESP comes third and last. */
static void test_make_image_esp(void **state)
{
	char *root = mkfile("root", 3u << 19, 0xaa), *hash = mkfile("hash", 4096, 0xbb);
	char *esp = mkfile("esp", 2u << 20, 0xcc), *img = lethe_path_join(tmpdir, "esp-disk.img");
	char d[LETHE_DISK_UUID_STR], v[LETHE_DISK_UUID_STR], e[LETHE_DISK_UUID_STR];
	struct fdisk_context *cxt = fdisk_new_context();
	struct fdisk_table *tb = NULL;
	struct fdisk_partition *pa;
	uint8_t rh[32];
	char *a = NULL;
	size_t la;

	assert_int_equal(lethe_hex_decode(roothash_hex, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_disk_make_image_esp(img, root, hash, esp, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_partuuids_from_roothash(rh, sizeof(rh), d, v), 0);
	assert_int_equal(lethe_disk_esp_uuid(rh, sizeof(rh), e), 0);
	assert_string_not_equal(e, d);
	assert_int_equal(fdisk_assign_device(cxt, img, 1), 0);
	assert_int_equal(fdisk_get_partitions(cxt, &tb), 0);
	assert_int_equal(fdisk_table_get_nents(tb), 3);
	pa = fdisk_table_get_partition(tb, 2);
	assert_int_equal(fdisk_partition_get_start(pa), 2048 + 4096 + 2048);
	assert_int_equal(fdisk_partition_get_size(pa), 4096);
	assert_true(!strcasecmp(fdisk_parttype_get_string(fdisk_partition_get_type(pa)),
				LETHE_DISK_TYPE_ESP));
	assert_true(!strcasecmp(fdisk_partition_get_uuid(pa), e));
	assert_string_equal(fdisk_partition_get_name(pa), "esp");
	fdisk_unref_table(tb);
	fdisk_unref_context(cxt);
	assert_int_equal(lethe_file_read(img, 64u << 20, &a, &la), 0);
	assert_int_equal(la, (1 + 2 + 1 + 2 + 1) << 20);
	assert_int_equal((unsigned char)a[4 << 20], 0xcc);
	free(a);
	free(img);
	free(esp);
	free(root);
	free(hash);
}

static void test_bad_layouts(void **state)
{
	char *img = lethe_path_join(tmpdir, "bad.img");
	struct lethe_disk_partition p = { .type = "not-a-uuid",
					  .uuid = "01234567-89ab-cdef-0011-223344556677",
					  .size = 4096 };
	struct lethe_disk_layout l = { .guid = "3e9320b7-1cf5-473c-949c-9e2af99a5c75",
				       .parts = &p,
				       .n_parts = 1 };

	assert_true(lethe_disk_write(img, &l) < 0);
	assert_int_equal(access(img, F_OK), -1); /* nothing left behind */
	l.n_parts = 0;
	assert_int_equal(lethe_disk_write(img, &l), -EINVAL);
	p.type = LETHE_DISK_TYPE_ESP;
	p.source = "/nonexistent/file";
	l.n_parts = 1;
	assert_int_equal(lethe_disk_write(img, &l), -ENOENT);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verity_uuids), cmocka_unit_test(test_disk_guid),
		cmocka_unit_test(test_make_image),   cmocka_unit_test(test_make_image_esp),
		cmocka_unit_test(test_bad_layouts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
