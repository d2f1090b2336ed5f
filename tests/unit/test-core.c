/* Unit tests of lib/core, the layer lethe-init shares with liblethe: the one UUID
 * formatter, the one root-hash reader and the cmdline words, the superblock round trip,
 * the GPT read from a file descriptor, mountinfo and the accounts. */
#include <errno.h>
#include <fcntl.h>
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
#include <lethe/verity.h>

#define HASH	   "0123456789abcdef00112233445566778899aabbccddeeff0f1e2d3c4b5a6978"
#define HASH_UPPER "0123456789ABCDEF00112233445566778899AABBCCDDEEFF0F1E2D3C4B5A6978"

static int roothash(const char *text, char hex[LETHE_ROOTHASH_HEX + 1])
{
	lethe_error_clear();
	return lethe_cmdline_roothash(text, strlen(text), hex);
}

static void assert_message(const char *part)
{
	const char *m = lethe_error_message();

	assert_non_null(m);
	if (!strstr(m, part))
		fail_msg("message '%s' does not say '%s'", m, part);
}

static void test_uuid_format(void **state)
{
	static const uint8_t id[16] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
					0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77 };
	char u[LETHE_UUID_STR];

	lethe_uuid_format(id, u);
	assert_string_equal(u, "01234567-89ab-cdef-0011-223344556677");
}

static void test_partuuids(void **state)
{
	uint8_t rh[32], zero[32] = { 0 };
	char d[LETHE_UUID_STR], v[LETHE_UUID_STR];

	assert_int_equal(lethe_hex_decode(HASH, rh, sizeof(rh)), 0);
	assert_int_equal(lethe_partuuids_from_roothash(rh, sizeof(rh), d, v), 0);
	assert_string_equal(d, "01234567-89ab-cdef-0011-223344556677");
	assert_string_equal(v, "8899aabb-ccdd-eeff-0f1e-2d3c4b5a6978");
	assert_int_equal(lethe_partuuids_from_roothash(rh, 15, d, v), -EINVAL);
	assert_int_equal(lethe_partuuids_from_roothash(zero, sizeof(zero), d, v), -EINVAL);
}

/* The one root-hash reader: what the audit, release verification and PID 1 accept. */
static void test_roothash_reader(void **state)
{
	char hex[LETHE_ROOTHASH_HEX + 1];

	assert_int_equal(roothash("console=ttyS0 " LETHE_CMDLINE_ROOTHASH "=" HASH " quiet\n", hex),
			 0);
	assert_string_equal(hex, HASH);
	/* Upper case folds; quotes are removed. */
	assert_int_equal(roothash("\"" LETHE_CMDLINE_ROOTHASH "=" HASH_UPPER "\"", hex), 0);
	assert_string_equal(hex, HASH);
	/* Absent: -ENOENT; a longer key is another key; after "--" is init's argv. */
	assert_int_equal(roothash("console=ttyS0", hex), -ENOENT);
	assert_int_equal(roothash(LETHE_CMDLINE_ROOTHASH "x=" HASH, hex), -ENOENT);
	assert_int_equal(roothash("ro -- " LETHE_CMDLINE_ROOTHASH "=" HASH, hex), -ENOENT);
}

/* Regression (issue 9): the readers of the audit and of release verification took the
 * last of two keys, any length and (the audit) any characters; the one reader refuses
 * them all, as PID 1 always did. */
static void test_roothash_reader_refuses(void **state)
{
	char hex[LETHE_ROOTHASH_HEX + 1] = "untouched";

	assert_int_equal(
		roothash(LETHE_CMDLINE_ROOTHASH "=" HASH " " LETHE_CMDLINE_ROOTHASH "=" HASH, hex),
		-EBADMSG);
	assert_message("more than once");
	assert_int_equal(roothash(LETHE_CMDLINE_ROOTHASH "=" HASH " " LETHE_CMDLINE_ROOTHASH, hex),
			 -EBADMSG);
	assert_message("more than once");
	assert_int_equal(roothash(LETHE_CMDLINE_ROOTHASH "=" HASH "0", hex), -EBADMSG);
	assert_message("65 characters");
	assert_int_equal(roothash(LETHE_CMDLINE_ROOTHASH "=0123", hex), -EBADMSG);
	assert_message("4 characters");
	assert_int_equal(roothash(LETHE_CMDLINE_ROOTHASH, hex), -EBADMSG);
	assert_message("0 characters");
	assert_int_equal(roothash(LETHE_CMDLINE_ROOTHASH "=0123456789abcdef0011223344556677"
							 "8899aabbccddeeff0f1e2d3c4b5a697g",
				  hex),
			 -EBADMSG);
	assert_message("position 64 is not a hex digit");
	/* ret_hex is untouched on failure. */
	assert_string_equal(hex, "untouched");
}

static void test_roothash_reader_long_word(void **state)
{
	size_t n = LETHE_CMDLINE_WORD_MAX + 100;
	char *text = malloc(n + 1), hex[LETHE_ROOTHASH_HEX + 1];

	assert_non_null(text);
	memset(text, 'a', n);
	memcpy(text, LETHE_CMDLINE_ROOTHASH "=", strlen(LETHE_CMDLINE_ROOTHASH) + 1);
	text[n] = '\0';
	assert_int_equal(roothash(text, hex), -EBADMSG);
	assert_message("longer than");
	free(text);

	/* A command line over the cap is refused whole. */
	text = calloc(1, LETHE_CMDLINE_MAX + 2);
	assert_non_null(text);
	memset(text, ' ', LETHE_CMDLINE_MAX + 1);
	assert_int_equal(lethe_cmdline_roothash(text, LETHE_CMDLINE_MAX + 1, hex), -EBADMSG);
	free(text);
}

static void test_words(void **state)
{
	const char text[] = "  a=\"b c\"\t\"d\"e \"\" f -- g\0h";
	const char *want[] = { "a=b c", "de", "", "f" };
	char word[16];
	size_t pos = 0, i = 0;
	bool truncated;

	while (lethe_cmdline_next_word(text, sizeof(text) - 1, &pos, word, sizeof(word),
				       &truncated)) {
		assert_true(i < 4);
		assert_string_equal(word, want[i]);
		assert_false(truncated);
		i++;
	}
	assert_int_equal(i, 4);

	/* A NUL ends the text; a word longer than the buffer is cut and said so. */
	pos = 0;
	assert_int_equal(lethe_cmdline_next_word("abcdefghijklmnopqrst\0x", 22, &pos, word,
						 sizeof(word), &truncated),
			 1);
	assert_true(truncated);
	assert_string_equal(word, "abcdefghijklmno");
	assert_int_equal(lethe_cmdline_next_word("abcdefghijklmnopqrst\0x", 22, &pos, word,
						 sizeof(word), &truncated),
			 0);

	assert_true(lethe_cmdline_word_is(LETHE_CMDLINE_ROOTHASH, LETHE_CMDLINE_ROOTHASH));
	assert_true(lethe_cmdline_word_is(LETHE_CMDLINE_ROOTHASH "=x", LETHE_CMDLINE_ROOTHASH));
	assert_false(lethe_cmdline_word_is(LETHE_CMDLINE_ROOTHASH "x", LETHE_CMDLINE_ROOTHASH));
	assert_false(lethe_cmdline_word_is("lethe.root", LETHE_CMDLINE_ROOTHASH));
}

/* PID 1's parse and the reader agree: one check of the root hash. */
static void test_parse_agrees(void **state)
{
	const char *texts[] = {
		LETHE_CMDLINE_ROOTHASH "=" HASH_UPPER " " LETHE_CMDLINE_TORAM,
		LETHE_CMDLINE_ROOTHASH "=" HASH " " LETHE_CMDLINE_ROOTHASH "=" HASH,
		LETHE_CMDLINE_ROOTHASH "=xyz",
		"quiet",
	};
	struct lethe_cmdline c;
	char hex[LETHE_ROOTHASH_HEX + 1];

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int p = lethe_cmdline_parse(texts[i], strlen(texts[i]), &c);
		int r = lethe_cmdline_roothash(texts[i], strlen(texts[i]), hex);

		if (p == 0 && c.roothash[0]) {
			assert_int_equal(r, 0);
			assert_string_equal(hex, c.roothash);
		} else if (p == 0) {
			assert_int_equal(r, -ENOENT);
		} else {
			assert_int_equal(p, -EBADMSG);
			assert_int_equal(r, -EBADMSG);
		}
	}
}

static size_t read_data(const char *name, uint8_t *buf, size_t size)
{
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", LETHE_TEST_DATA, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, size, f);
	fclose(f);
	return n;
}

/* veritysetup's bytes parse and write back the same; what veritysetup zeroes must be
 * zero (PID 1's old copy did not look). */
static void test_superblock(void **state)
{
	uint8_t good[LETHE_VERITY_SUPERBLOCK_SIZE], out[LETHE_VERITY_SUPERBLOCK_SIZE];
	struct lethe_verity_superblock sb;
	char table[1024];

	assert_int_equal(read_data("init-verity-sb.bin", good, sizeof(good)), sizeof(good));
	assert_int_equal(lethe_verity_superblock_parse(good, sizeof(good), &sb), 0);
	lethe_verity_superblock_write(&sb, out);
	assert_memory_equal(out, good, sizeof(good));

	memcpy(out, good, sizeof(out));
	out[500] = 1;
	assert_int_equal(lethe_verity_superblock_parse(out, sizeof(out), &sb), -EBADMSG);
	assert_message("offset 344");

	/* A SHA-512 tree needs a root hash of 128 digits. */
	assert_int_equal(lethe_verity_superblock_parse(good, sizeof(good), &sb), 0);
	snprintf(sb.algorithm, sizeof(sb.algorithm), "sha512");
	assert_int_equal(lethe_verity_table(&sb, "1:1", "1:2", HASH, table, sizeof(table)),
			 -EINVAL);
	assert_true(lethe_verity_table(&sb, "1:1", "1:2", HASH HASH, table, sizeof(table)) > 0);
	sb.salt_size = 0;
	assert_true(lethe_verity_table(&sb, "1:1", "1:2", HASH HASH, table, sizeof(table)) > 0);
	assert_non_null(strstr(table, " " HASH HASH " -"));
}

static int temp_file(const void *data, size_t len)
{
	char path[] = "/tmp/lethe-test-core.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	return fd;
}

/* The GPT as stage 1 reads it: from the disk's file descriptor. */
static void test_gpt_read(void **state)
{
	static uint8_t disk[34 * 512];
	char uuid[LETHE_UUID_STR];
	struct lethe_gpt gpt;
	int fd;

	assert_int_equal(read_data("init-gpt.bin", disk, sizeof(disk)), sizeof(disk));
	fd = temp_file(disk, sizeof(disk));
	assert_int_equal(lethe_gpt_read(fd, 512, &gpt), 0);
	assert_int_equal(gpt.header.n_entries, 128);
	lethe_gpt_uuid(&gpt, 0, uuid);
	assert_string_equal(uuid, "01234567-89ab-cdef-0011-223344556677");
	lethe_gpt_uuid(&gpt, 1, uuid);
	assert_string_equal(uuid, "8899aabb-ccdd-eeff-0f1e-2d3c4b5a6978");
	lethe_gpt_uuid(&gpt, 2, uuid);
	assert_string_equal(uuid, "");
	lethe_gpt_uuid(&gpt, 128, uuid); /* past the end */
	assert_string_equal(uuid, "");
	lethe_gpt_release(&gpt);
	lethe_gpt_release(NULL);
	/* No GPT at LBA 1 with 4096-byte sectors; a bad sector size. */
	assert_int_equal(lethe_gpt_read(fd, 4096, &gpt), -EBADMSG);
	assert_int_equal(lethe_gpt_read(fd, 1000, &gpt), -EINVAL);
	close(fd);

	/* The entries beyond the end of the disk. */
	fd = temp_file(disk, 1024 + 100);
	assert_int_equal(lethe_gpt_read(fd, 512, &gpt), -EBADMSG);
	assert_message("ends inside the entries");
	close(fd);
}

static void test_mountinfo(void **state)
{
	struct lethe_mounts m;

	assert_int_equal(lethe_mountinfo_parse("t",
					       "22 1 0:21 / /run/lethe/a\\040b rw - tmpfs "
					       "tmpfs rw\n23 22 0:22 / /x ro shared:1 - erofs "
					       "/dev/dm-0 ro\n",
					       &m),
			 0);
	assert_int_equal(m.n, 2);
	assert_string_equal(m.v[0].mountpoint, "/run/lethe/a b");
	assert_string_equal(m.v[1].fstype, "erofs");
	assert_true(lethe_mount_has_option(m.v[1].options, "ro"));
	lethe_mounts_release(&m);
	lethe_mounts_release(NULL);
	assert_int_equal(lethe_mountinfo_parse("t", "22 1 0:21 / /a rw\n", &m), -EBADMSG);
	assert_message("'t' line 1");
}

/* Supplementary groups stop at the cap instead of overflowing it. */
static void test_accounts_cap(void **state)
{
	char dir[] = "/tmp/lethe-test-core.XXXXXX", passwd[64], group[64];
	struct lethe_account a;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	f = fopen(passwd, "w");
	assert_non_null(f);
	fputs("www:x:900:900::/:/bin/sh\n", f);
	fclose(f);
	f = fopen(group, "w");
	assert_non_null(f);
	for (int i = 0; i < 40; i++)
		fprintf(f, "g%d:x:%d:www\n", i, 1000 + i);
	fclose(f);
	assert_int_equal(lethe_account_resolve(passwd, group, "www", NULL, &a), 0);
	assert_int_equal(a.n_groups, LETHE_ACCOUNT_MAX_GROUPS);
	assert_int_equal(a.groups[0], 900);
	assert_int_equal(a.groups[1], 1000);
	unlink(passwd);
	unlink(group);
	rmdir(dir);
}

/* The small-file reader NUL-terminates, cuts a longer file at size-1 bytes and says
 * -errno for a missing file. */
static void test_small_file(void **state)
{
	char path[] = "/tmp/lethe-test-core.XXXXXX", buf[8];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	assert_int_equal(lethe_small_file_read(path, buf, sizeof(buf)), 7);
	assert_string_equal(buf, "0123456");
	assert_int_equal(lethe_small_file_read(path, buf, 1), 0);
	assert_string_equal(buf, "");
	assert_int_equal(lethe_small_file_read(path, buf, 0), -ENOBUFS);
	unlink(path);
	assert_int_equal(lethe_small_file_read(path, buf, sizeof(buf)), -ENOENT);
}

static void test_mac(void **state)
{
	const uint8_t perm[6] = { 0x00, 0x1b, 0x21, 0x12, 0x34, 0x56 }; /* an Intel OUI */
	uint8_t rnd[6] = { 0xff, 0xff, 0xff, 0xab, 0xcd, 0xef }, mac[6];
	char text[LETHE_MAC_STR];
	enum lethe_mac_mode mode;

	/* random: locally administered unicast, whatever the random bytes. */
	assert_int_equal(lethe_mac_randomise(LETHE_MAC_RANDOM, perm, rnd, mac), 0);
	lethe_mac_format(mac, text);
	assert_string_equal(text, "fe:ff:ff:ab:cd:ef");
	assert_true(lethe_mac_is_local_unicast(mac));
	assert_false(lethe_mac_is_local_unicast(perm));
	/* keep-vendor: the OUI of the permanent address, the rest random. */
	assert_int_equal(lethe_mac_randomise(LETHE_MAC_RANDOM_KEEP_VENDOR, perm, rnd, mac), 0);
	lethe_mac_format(mac, text);
	assert_string_equal(text, "00:1b:21:ab:cd:ef");
	/* Never the permanent address, even when the random bytes would give it. */
	memcpy(rnd, perm, sizeof(rnd));
	assert_int_equal(lethe_mac_randomise(LETHE_MAC_RANDOM_KEEP_VENDOR, perm, rnd, mac), 0);
	assert_memory_not_equal(mac, perm, 6);
	assert_int_equal(lethe_mac_randomise(LETHE_MAC_PERMANENT, perm, rnd, mac), -EINVAL);
	/* Text both ways. */
	assert_int_equal(lethe_mac_parse("52:54:00:AB:cd:ef", mac), 0);
	lethe_mac_format(mac, text);
	assert_string_equal(text, "52:54:00:ab:cd:ef");
	assert_int_equal(lethe_mac_parse("52:54:00:ab:cd", mac), -EINVAL);
	assert_int_equal(lethe_mac_parse("52:54:00:ab:cd:ef:", mac), -EINVAL);
	assert_int_equal(lethe_mac_parse("52-54-00-ab-cd-ef", mac), -EINVAL);
	assert_int_equal(lethe_mac_mode_from_name("random-keep-vendor", &mode), 0);
	assert_int_equal(mode, LETHE_MAC_RANDOM_KEEP_VENDOR);
	assert_string_equal(lethe_mac_mode_name(LETHE_MAC_PERMANENT), "permanent");
	assert_int_equal(lethe_mac_mode_from_name("Random", &mode), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid_format),
		cmocka_unit_test(test_partuuids),
		cmocka_unit_test(test_roothash_reader),
		cmocka_unit_test(test_roothash_reader_refuses),
		cmocka_unit_test(test_roothash_reader_long_word),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_parse_agrees),
		cmocka_unit_test(test_superblock),
		cmocka_unit_test(test_gpt_read),
		cmocka_unit_test(test_mountinfo),
		cmocka_unit_test(test_accounts_cap),
		cmocka_unit_test(test_small_file),
		cmocka_unit_test(test_mac),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
