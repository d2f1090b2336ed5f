/* Unit tests of lib/verity: known answers from veritysetup 2.6.1, the superblock
 * parser's limits, tamper detection, and thread counts that must not change a bit. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include <lethe/util.h>
#include <lethe/verity.h>

static char tmpdir[] = "/tmp/lethe-test-verity.XXXXXX";
static const uint8_t kat_uuid[16] = { 0x6c, 0x65, 0x74, 0x68, 0x65, 0x2d, 0x4b, 0x41,
				      0x81, 0x54, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01 };

static char *tpath(const char *name)
{
	char *p = lethe_path_join(tmpdir, name);

	assert_non_null(p);
	return p;
}

/* The data of the known answers (the same generator made them with veritysetup). */
static void write_pattern(const char *path, size_t n)
{
	uint8_t *b = malloc(n + 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + (i >> 12) * 13 + (i >> 8));
	assert_int_equal(lethe_file_write_atomic(path, b, n, 0644), 0);
	free(b);
}

static void write_random(const char *path, size_t n, uint32_t seed)
{
	uint8_t *b = malloc(n + 1);

	assert_non_null(b);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		b[i] = (uint8_t)(seed >> 16);
	}
	assert_int_equal(lethe_file_write_atomic(path, b, n, 0644), 0);
	free(b);
}

static void file_sha256_hex(const char *path, char out[65])
{
	char *data;
	size_t len;
	uint8_t d[32];

	assert_int_equal(lethe_file_read(path, 64u << 20, &data, &len), 0);
	assert_int_equal(EVP_Digest(data, len, d, NULL, EVP_sha256(), NULL), 1);
	lethe_hex_encode(d, 32, out);
	free(data);
}

static bool files_equal(const char *a, const char *b)
{
	char *da, *db;
	size_t la, lb;
	bool eq;

	assert_int_equal(lethe_file_read(a, 64u << 20, &da, &la), 0);
	assert_int_equal(lethe_file_read(b, 64u << 20, &db, &lb), 0);
	eq = la == lb && !memcmp(da, db, la);
	free(da);
	free(db);
	return eq;
}

static void flip(const char *path, off_t off, int bit)
{
	int fd = open(path, O_RDWR);
	uint8_t c;

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &c, 1, off), 1);
	c ^= (uint8_t)(1u << bit);
	assert_int_equal(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

struct kat {
	size_t bytes;
	uint32_t dbs, hbs;
	const char *hash, *salt_hex, *root, *file_sha256;
	size_t file_size;
};

/* veritysetup format DATA HASH --data-block-size --hash-block-size --hash --salt
 * --uuid 6c657468-652d-4b41-8154-000000000001 */
static const struct kat kats[] = {
	{ 8 * 4096, 4096, 4096, "sha256", "00112233445566778899aabbccddeeff",
	  "85aa2c2c2e61eb8fbd8732e34d6860f5bafdc755d46da630c8d1d25e15eb357e",
	  "e260ef0e4b72fc7229ee4ce09c170e96b561635997c33da958ef81802fe8320e", 8192 },
	{ 4096, 4096, 4096, "sha256", "-",
	  "d24ac44c83cce842b67a82d2f77bcbe5e41dbd555605c92832d609e29c5a997c",
	  "26825448e785efa01dcd04d718bd9351dbfcdfb7705d343cce5a47696fbb6756", 4096 },
	{ 300 * 512, 512, 512, "sha512", NULL, /* salt: 256 bytes, (i * 3 + 1) & 0xff */
	  "160963a91a96d7335a8a87e53ec2821cf204f1beff5eb8c1f6817ba7753808212c9e51ad8a8d135e"
	  "24e81f5b83b3ea5016741fae3db18c320d698a31e22bce54",
	  "a129486d64722e8806399bea30e3410d7c37894136402d4509486280fe7e440a", 23040 },
	{ 40 * 1024, 1024, 4096, "sha256", "-",
	  "03d3d0454a4c5d05eeaaf240c4a704c646bdc3a7d58a11aef3d0c0099b04c67a",
	  "9a4833ea1031d7d17a8177fba564f5e3d983d6564e44883dedb3b785f43ba7ef", 8192 },
};

static void test_known_answers(void **state)
{
	char *data = tpath("kat.data"), *hash = tpath("kat.hash");

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(kats); i++) {
		const struct kat *k = &kats[i];
		struct lethe_verity_params p;
		uint8_t root[64];
		char hex[129], fhex[65];
		size_t ds = lethe_verity_digest_size(k->hash);
		struct stat st;

		lethe_verity_params_init(&p);
		p.hash_name = k->hash;
		p.data_block_size = k->dbs;
		p.hash_block_size = k->hbs;
		memcpy(p.uuid, kat_uuid, 16);
		if (k->salt_hex) {
			assert_int_equal(lethe_verity_salt_from_hex(&p, k->salt_hex), 0);
		} else {
			for (size_t j = 0; j < 256; j++)
				p.salt[j] = (uint8_t)(j * 3 + 1);
			p.salt_size = 256;
		}
		write_pattern(data, k->bytes);
		assert_int_equal(lethe_verity_format(data, hash, &p, root, sizeof(root)), 0);
		lethe_hex_encode(root, ds, hex);
		assert_string_equal(hex, k->root);
		assert_int_equal(p.data_blocks, k->bytes / k->dbs);
		assert_int_equal(stat(hash, &st), 0);
		assert_int_equal(st.st_size, k->file_size);
		file_sha256_hex(hash, fhex);
		assert_string_equal(fhex, k->file_sha256);
		assert_int_equal(lethe_verity_verify(data, hash, root, ds, NULL), 0);
	}
	free(data);
	free(hash);
}

/* The first 104 bytes of the superblock of kats[0] as veritysetup wrote it; the rest
 * of the 512 bytes are zero. */
static const uint8_t kat_sb_head[] = {
	0x76, 0x65, 0x72, 0x69, 0x74, 0x79, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
	0x00, 0x6c, 0x65, 0x74, 0x68, 0x65, 0x2d, 0x4b, 0x41, 0x81, 0x54, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x01, 0x73, 0x68, 0x61, 0x32, 0x35, 0x36, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x08, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x11,
	0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff,
};

static void kat_superblock(uint8_t sb[512])
{
	memset(sb, 0, 512);
	memcpy(sb, kat_sb_head, sizeof(kat_sb_head));
}

static void test_superblock_roundtrip(void **state)
{
	uint8_t sb[512], built[512];
	struct lethe_verity_superblock s;
	struct lethe_verity_params p;

	kat_superblock(sb);
	assert_int_equal(lethe_verity_superblock_parse(sb, sizeof(sb), &s), 0);
	assert_string_equal(s.algorithm, "sha256");
	assert_int_equal(s.data_blocks, 8);
	assert_int_equal(s.data_block_size, 4096);
	assert_int_equal(s.hash_block_size, 4096);
	assert_int_equal(s.salt_size, 16);
	assert_memory_equal(s.uuid, kat_uuid, 16);
	lethe_verity_params_init(&p);
	lethe_verity_params_from_superblock(&p, &s);
	assert_int_equal(lethe_verity_superblock_build(&p, built), 0);
	assert_memory_equal(built, sb, 512);
}

struct sb_case {
	size_t off;
	const char *bytes; /* written at off */
	size_t len;
	const char *message; /* a part of the error message */
};

static const struct sb_case sb_cases[] = {
	{ 0, "X", 1, "bad magic" },
	{ 6, "\1", 1, "bad magic" },
	{ 8, "\2", 1, "offset 8: unsupported version 2" },
	{ 8, "\0", 1, "offset 8: unsupported version 0" },
	{ 12, "\0", 1, "offset 12: unsupported hash type 0" },
	{ 32, "md5\0\0\0", 6, "unsupported hash algorithm 'md5'" },
	{ 32, "\0\0\0\0\0\0", 6, "unsupported hash algorithm ''" },
	{ 32, "sha256\0x", 8, "offset 32: algorithm name is not NUL-terminated and zero-padded" },
	{ 32, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 32, "algorithm name is not NUL-terminated" },
	{ 64, "\3\0\0\0", 4, "offset 64: data block size 3 is not a power of two" },
	{ 64, "\0\1\0\0", 4, "offset 64: data block size 256 is not a power of two" },
	{ 64, "\0\0\2\0", 4, "data block size 131072 is not a power of two" },
	{ 64, "\0\0\0\0", 4, "data block size 0 is not" },
	{ 68, "\0\x30\0\0", 4, "offset 68: hash block size 12288 is not a power of two" },
	{ 72, "\0\0\0\0\0\0\0\0", 8, "offset 72: 0 data blocks" },
	{ 72, "\0\0\0\0\0\0\0\x80", 8, "9223372036854775808 data blocks of 4096 bytes" },
	{ 72, "\0\0\0\0\0\0\x10\0", 8, "offset 72: 4503599627370496 data blocks" },
	{ 72, "\xff\xff\xff\xff\xff\xff\xff\xff", 8, "offset 72: 18446744073709551615" },
	{ 80, "\x10\x27", 2, "offset 80: salt size 10000 is larger than 256" },
	{ 80, "\x01\x01", 2, "offset 80: salt size 257 is larger than 256" },
	{ 82, "\1", 1, "offset 82: reserved bytes are not zero" },
	{ 104, "\1", 1, "offset 104: bytes after the 16-byte salt are not zero" },
	{ 343, "\1", 1, "offset 104: bytes after the 16-byte salt" },
	{ 344, "\1", 1, "offset 344: reserved bytes are not zero" },
	{ 511, "\1", 1, "offset 344: reserved bytes are not zero" },
};

static void test_superblock_limits(void **state)
{
	struct lethe_verity_superblock s;
	uint8_t sb[512];

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(sb_cases); i++) {
		const struct sb_case *c = &sb_cases[i];

		kat_superblock(sb);
		memcpy(sb + c->off, c->bytes, c->len);
		lethe_error_clear();
		assert_int_equal(lethe_verity_superblock_parse(sb, sizeof(sb), &s), -EBADMSG);
		if (!strstr(lethe_error_message(), c->message))
			fail_msg("case %zu: '%s' lacks '%s'", i, lethe_error_message(), c->message);
	}
	kat_superblock(sb);
	assert_int_equal(lethe_verity_superblock_parse(sb, 511, &s), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "truncated: 511 bytes of 512"));
	assert_int_equal(lethe_verity_superblock_parse(sb, 0, &s), -EBADMSG);
	/* Limits that are fine: 64 KiB blocks, 256-byte salt, 2^40 blocks (2^56 bytes). */
	memcpy(sb + 64, "\0\0\1\0\0\0\1\0", 8);
	memcpy(sb + 72, "\0\0\0\0\0\1\0\0", 8);
	memcpy(sb + 80, "\0\1", 2);
	memset(sb + 88, 0xab, 256);
	assert_int_equal(lethe_verity_superblock_parse(sb, sizeof(sb), &s), 0);
	assert_int_equal(s.salt_size, 256);
	assert_int_equal(s.data_blocks, UINT64_C(1) << 40);
	/* One more doubling overflows 63 bits. */
	sb[77] = 0x80;
	assert_int_equal(lethe_verity_superblock_parse(sb, sizeof(sb), &s), -EBADMSG);
}

static void test_params_checks(void **state)
{
	struct lethe_verity_params p;
	struct lethe_verity_info info;
	uint8_t root[64];
	char *data = tpath("p.data"), *hash = tpath("p.hash");

	write_random(data, 8192, 1);
	lethe_verity_params_init(&p);
	p.data_block_size = 3;
	assert_int_equal(lethe_verity_format(data, hash, &p, root, sizeof(root)), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "data block size 3 is not a power of two"));
	lethe_verity_params_init(&p);
	p.hash_name = "md5";
	assert_int_equal(lethe_verity_format(data, hash, &p, root, sizeof(root)), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "unsupported hash 'md5'"));
	lethe_verity_params_init(&p);
	p.salt_size = 10000;
	assert_int_equal(lethe_verity_format(data, hash, &p, root, sizeof(root)), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "salt of 10000 bytes"));
	lethe_verity_params_init(&p);
	assert_int_equal(lethe_verity_format(data, hash, &p, root, 31), -EINVAL);
	p.data_blocks = UINT64_MAX / 1024;
	assert_int_equal(lethe_verity_format(data, hash, &p, root, sizeof(root)), -EBADMSG);
	assert_int_equal(access(hash, F_OK), -1); /* nothing written on failure */
	assert_int_equal(lethe_verity_salt_from_hex(&p, "abc"), -EINVAL);
	assert_int_equal(lethe_verity_salt_from_hex(&p, "zz"), -EINVAL);
	assert_int_equal(lethe_verity_salt_from_hex(&p, "-"), 0);
	assert_int_equal(p.salt_size, 0);

	/* Geometry: 2^20 blocks of 4 KiB, SHA-256: 8192 + 64 + 1 hash blocks, 3 levels. */
	lethe_verity_params_init(&p);
	p.data_blocks = 1u << 20;
	assert_int_equal(lethe_verity_layout(&p, &info), 0);
	assert_int_equal(info.levels, 3);
	assert_int_equal(info.hash_blocks, 8192 + 64 + 1);
	assert_int_equal(info.hash_area_offset, 4096);
	assert_int_equal(info.hash_device_size, (1 + 8192 + 64 + 1) * 4096);
	free(data);
	free(hash);
}

static void test_salt_from_seed(void **state)
{
	struct lethe_verity_params p;
	char hex[65];

	lethe_verity_params_init(&p);
	assert_int_equal(lethe_verity_salt_from_seed(&p, "seed"), 0);
	assert_int_equal(p.salt_size, 32);
	lethe_hex_encode(p.salt, 32, hex);
	/* printf 'lethe-verity-salt-v1\0seed' | sha256sum */
	assert_string_equal(hex,
			    "e2f943d5e6f0b993ad8fae1820efb109d8b9a28e075088de0596f5987eefe959");
}

/* Format a 2000-block file; the tree: superblock, level 1 (1 block), level 0 (16). */
static void make_tree(const char *data, const char *hash, uint8_t root[32])
{
	struct lethe_verity_params p;

	lethe_verity_params_init(&p);
	assert_int_equal(lethe_verity_salt_from_seed(&p, "tamper"), 0);
	write_random(data, 2000 * 4096, 7);
	assert_int_equal(lethe_verity_format(data, hash, &p, root, 32), 0);
	assert_int_equal(lethe_verity_verify(data, hash, root, 32, NULL), 0);
}

static void expect_bad(const char *data, const char *hash, const uint8_t root[32],
		       const char *message)
{
	lethe_error_clear();
	assert_int_equal(lethe_verity_verify(data, hash, root, 32, NULL), -EBADMSG);
	if (!strstr(lethe_error_message(), message))
		fail_msg("'%s' lacks '%s'", lethe_error_message(), message);
}

static void test_tamper(void **state)
{
	char *data = tpath("t.data"), *hash = tpath("t.hash");
	uint8_t root[32];

	make_tree(data, hash, root);
	flip(data, 1500 * 4096 + 17, 3);
	expect_bad(data, hash, root, "data block 1500 (offset 6144000) is corrupt");
	flip(data, 1500 * 4096 + 17, 3);

	flip(hash, 4096 * 2 + 5 * 4096 + 64, 0); /* level 0, block 5 */
	expect_bad(data, hash, root, "hash block 5 of level 0 (offset 28672) is corrupt");
	flip(hash, 4096 * 2 + 5 * 4096 + 64, 0);

	flip(hash, 4096 + 200, 7); /* top block */
	expect_bad(data, hash, root, "top hash block (level 1, offset 4096)");
	flip(hash, 4096 + 200, 7);

	flip(hash, 88 + 3, 0); /* salt */
	expect_bad(data, hash, root, "superblock");
	flip(hash, 88 + 3, 0);
	flip(hash, 200, 0); /* after the 32-byte salt */
	expect_bad(data, hash, root, "offset 120: bytes after the 32-byte salt are not zero");
	flip(hash, 200, 0);
	flip(hash, 400, 0); /* reserved */
	expect_bad(data, hash, root, "offset 344: reserved bytes are not zero");
	flip(hash, 400, 0);

	root[31] ^= 1;
	expect_bad(data, hash, root, "does not match the root hash");
	root[31] ^= 1;
	assert_int_equal(lethe_verity_verify(data, hash, root, 32, NULL), 0);
	assert_int_equal(truncate(data, 1999 * 4096), 0);
	expect_bad(data, hash, root, "is truncated");
	free(data);
	free(hash);
}

/* Level 0 read back as a block index: the digest of each data block, as
 * lethe_verity_hash_block() computes it from the block and the tree's salt. */
static void test_leaves(void **state)
{
	char *data = tpath("l.data"), *hash = tpath("l.hash");
	struct lethe_verity_params p;
	uint8_t root[32], got[32], *leaves = NULL, *block = malloc(4096);
	int fd;

	make_tree(data, hash, root);
	assert_int_equal(lethe_verity_read_leaves(hash, &p, &leaves), 0);
	assert_string_equal(p.hash_name, "sha256");
	assert_int_equal(p.data_block_size, 4096);
	assert_int_equal(p.salt_size, 32);
	fd = open(data, O_RDONLY);
	assert_true(fd >= 0);
	for (uint64_t b = 0; b < p.data_blocks; b++) {
		assert_int_equal(lethe_pread_full(fd, block, 4096, (off_t)(b * 4096)), 4096);
		assert_int_equal(lethe_verity_hash_block(&p, block, got), 0);
		assert_memory_equal(got, leaves + b * 32, 32);
	}
	/* Another block's digest is not this one's: the salt and the data both count. */
	assert_memory_not_equal(leaves, leaves + 32, 32);
	p.salt[0] ^= 1;
	assert_int_equal(lethe_verity_hash_block(&p, block, got), 0);
	assert_memory_not_equal(got, leaves + (p.data_blocks - 1) * 32, 32);
	close(fd);
	free(leaves);
	/* A file that is no tree. */
	assert_int_not_equal(lethe_verity_read_leaves(data, &p, &leaves), 0);
	free(block);
	free(data);
	free(hash);
}

static void test_threads_identical(void **state)
{
	char *data = tpath("th.data"), *ref = tpath("th.ref"), *hash = tpath("th.hash");
	uint8_t root[64], root1[64];
	struct lethe_verity_params p;
	char buf[64];

	/* 3000 blocks of 4 KiB with 512-byte hash blocks: 188 level-0 blocks, enough for
	 * every thread to get several ranges of whole hash blocks. */
	write_random(data, 3000 * 4096, 3);
	for (unsigned t = 1; t <= 4; t++) {
		lethe_verity_params_init(&p);
		p.hash_block_size = 512;
		p.threads = t;
		assert_int_equal(lethe_verity_salt_from_hex(&p, "0badc0de"), 0);
		assert_int_equal(lethe_verity_format(data, t == 1 ? ref : hash, &p,
						     t == 1 ? root1 : root, 64),
				 0);
		if (t > 1) {
			assert_memory_equal(root, root1, 32);
			assert_true(files_equal(ref, hash));
		}
	}
	/* Two corrupt blocks: every thread count names the first. */
	flip(data, 2900 * 4096, 0);
	flip(data, 1000 * 4096 + 4095, 7);
	for (unsigned t = 1; t <= 4; t++) {
		lethe_verity_params_init(&p);
		p.threads = t;
		lethe_error_clear();
		assert_int_equal(lethe_verity_verify(data, ref, root1, 32, &p), -EBADMSG);
		snprintf(buf, sizeof(buf), "data block 1000 (offset %d)", 1000 * 4096);
		if (!strstr(lethe_error_message(), buf))
			fail_msg("threads %u: '%s'", t, lethe_error_message());
	}
	free(data);
	free(ref);
	free(hash);
}

static void test_append_mode(void **state)
{
	char *data = tpath("a.data"), *sep = tpath("a.hash");
	struct lethe_verity_params p, q;
	uint8_t root[32], root2[32];

	write_random(data, 64 * 4096, 9);
	lethe_verity_params_init(&p);
	assert_int_equal(lethe_verity_format(data, sep, &p, root2, 32), 0);
	p.data_blocks = 0;
	p.hash_offset = 64 * 4096;
	memset(p.uuid, 0, 16);
	assert_int_equal(lethe_verity_format(data, NULL, &p, root, 32), 0);
	assert_memory_equal(root, root2, 32);
	assert_int_equal(p.data_blocks, 64);
	lethe_verity_params_init(&q);
	q.hash_offset = 64 * 4096;
	assert_int_equal(lethe_verity_verify(data, data, root, 32, &q), 0);
	flip(data, 4096 * 10, 0);
	lethe_error_clear();
	assert_int_equal(lethe_verity_verify(data, NULL, root, 32, &q), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "data block 10 (offset 40960)"));
	/* The tree may not overlap the data. */
	p.hash_offset = 4096;
	p.data_blocks = 64;
	assert_int_equal(lethe_verity_format(data, data, &p, root, 32), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "overlaps the hash tree"));
	free(data);
	free(sep);
}

static void test_format_input_errors(void **state)
{
	char *data = tpath("e.data"), *hash = tpath("e.hash");
	struct lethe_verity_params p;
	uint8_t root[32];

	lethe_verity_params_init(&p);
	write_random(data, 0, 1);
	assert_int_equal(lethe_verity_format(data, hash, &p, root, 32), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "is empty"));
	write_random(data, 10000, 1);
	assert_int_equal(lethe_verity_format(data, hash, &p, root, 32), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "not a multiple of the data block size"));
	p.data_blocks = 3;
	assert_int_equal(lethe_verity_format(data, hash, &p, root, 32), -EBADMSG);
	assert_non_null(strstr(lethe_error_message(), "too short for 3 data blocks"));
	p.data_blocks = 2;
	assert_int_equal(lethe_verity_format(data, hash, &p, root, 32), 0);
	assert_int_equal(access(hash, F_OK), 0);
	free(data);
	free(hash);
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	return lethe_rm_rf(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_superblock_roundtrip),
		cmocka_unit_test(test_superblock_limits),
		cmocka_unit_test(test_params_checks),
		cmocka_unit_test(test_salt_from_seed),
		cmocka_unit_test(test_tamper),
		cmocka_unit_test(test_leaves),
		cmocka_unit_test(test_threads_identical),
		cmocka_unit_test(test_append_mode),
		cmocka_unit_test(test_format_input_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
