/* Unit tests of what lethe-init runs before it trusts anything: the cmdline as PID 1
 * parses it, the PARTUUIDs derived from the root hash, the verity superblock and the
 * dm-verity table, the GPT, the accounts (all lib/core's, linked from lethe_core as
 * lethe-init links them) and its own CIDR parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "init.h"
#include "stage2.h"

#define HASH "0123456789abcdef00112233445566778899aabbccddeeff0f1e2d3c4b5a6978"

/* The message of the failure is copied to err, as PID 1 prints it. */
static int parse(const char *text, struct lethe_cmdline *c, char *err)
{
	int r;

	lethe_error_clear();
	r = lethe_cmdline_parse(text, strlen(text), c);
	snprintf(err, 256, "%s", r < 0 && lethe_error_message() ? lethe_error_message() : "");
	return r;
}

/* PARTUUIDs from the root hash as stage 1 derives them: hex from the cmdline. */
static int partuuids(const char *hex, char *data, char *hash)
{
	uint8_t rh[LETHE_ROOTHASH_HEX / 2];

	if (strlen(hex) != LETHE_ROOTHASH_HEX || lethe_hex_decode(hex, rh, sizeof(rh)) < 0)
		return -EINVAL;
	return lethe_partuuids_from_roothash(rh, sizeof(rh), data, hash);
}

static void test_cmdline_ok(void **state)
{
	struct lethe_cmdline c;
	char err[256];

	assert_int_equal(parse("console=ttyS0 init_on_free=1 lethe.roothash=" HASH
			       " lethe.toram quiet\n",
			       &c, err),
			 0);
	assert_string_equal(c.roothash, HASH);
	assert_true(c.toram);
	assert_false(c.debug);
	assert_int_equal(c.timeout, LETHE_CMDLINE_TIMEOUT_DEFAULT);
	assert_int_equal(c.unknown, 0);

	/* Upper case is folded; quotes are removed; switches take 0/1. */
	assert_int_equal(parse("x=\"a b\" \"lethe.roothash=0123456789ABCDEF00112233445566778899"
			       "AABBCCDDEEFF0F1E2D3C4B5A6978\" lethe.debug=1 lethe.toram=0 "
			       "lethe.timeout=30 lethe.future=1",
			       &c, err),
			 0);
	assert_string_equal(c.roothash, HASH);
	assert_true(c.debug);
	assert_false(c.toram);
	assert_int_equal(c.timeout, 30);
	assert_int_equal(c.unknown, 1);

	/* Nothing after "--" is ours; no roothash is not a parse error (init halts). */
	assert_int_equal(parse("ro -- lethe.roothash=zz", &c, err), 0);
	assert_string_equal(c.roothash, "");
	/* An embedded NUL ends the command line. */
	assert_int_equal(lethe_cmdline_parse("lethe.debug\0lethe.roothash=1", 28, &c), 0);
	assert_true(c.debug);
	assert_string_equal(c.roothash, "");
}

static void test_cmdline_bad(void **state)
{
	struct lethe_cmdline c;
	char err[256];

	assert_int_equal(parse("lethe.roothash=" HASH " lethe.roothash=" HASH, &c, err), -EBADMSG);
	assert_non_null(strstr(err, "more than once"));
	assert_int_equal(parse("lethe.roothash=abc", &c, err), -EBADMSG);
	assert_non_null(strstr(err, "3 characters"));
	assert_int_equal(parse("lethe.roothash=g123456789abcdef00112233445566778899aabbccddeeff"
			       "0f1e2d3c4b5a6978",
			       &c, err),
			 -EBADMSG);
	assert_non_null(strstr(err, "position 1"));
	assert_int_equal(parse("lethe.roothash", &c, err), -EBADMSG);
	assert_int_equal(parse("lethe.timeout=0", &c, err), -EBADMSG);
	assert_int_equal(parse("lethe.timeout=3601", &c, err), -EBADMSG);
	assert_int_equal(parse("lethe.timeout=1x", &c, err), -EBADMSG);
	assert_int_equal(parse("lethe.timeout=", &c, err), -EBADMSG);
	assert_int_equal(parse("lethe.toram=maybe", &c, err), -EBADMSG);
	assert_non_null(strstr(err, "lethe.toram"));
}

static void test_partuuids(void **state)
{
	char data[LETHE_UUID_STR], hash[LETHE_UUID_STR];

	/* The example of docs/boot.md: bytes in order, no UUID version bits. */
	assert_int_equal(partuuids(HASH, data, hash), 0);
	assert_string_equal(data, "01234567-89ab-cdef-0011-223344556677");
	assert_string_equal(hash, "8899aabb-ccdd-eeff-0f1e-2d3c4b5a6978");
	assert_int_equal(partuuids("0123", data, hash), -EINVAL);
	/* A root hash whose first half is zero would give a null UUID. */
	assert_int_equal(partuuids("00000000000000000000000000000000778899aabbccddeeff"
				   "0f1e2d3c4b5a6978",
				   data, hash),
			 -EINVAL);
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

/* A superblock written by `veritysetup format --salt=0011..eeff` over 16 blocks. */
static void test_superblock_veritysetup(void **state)
{
	uint8_t buf[LETHE_VERITY_SUPERBLOCK_SIZE];
	struct lethe_verity_superblock sb;
	char table[1024];

	assert_int_equal(read_data("init-verity-sb.bin", buf, sizeof(buf)), sizeof(buf));
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	assert_int_equal(sb.data_block_size, 4096);
	assert_int_equal(sb.hash_block_size, 4096);
	assert_int_equal(sb.data_blocks, 16);
	assert_int_equal(sb.salt_size, 16);
	assert_string_equal(sb.algorithm, "sha256");
	assert_int_equal(lethe_verity_data_sectors(&sb), 16 * 8);
	assert_true(lethe_verity_table(&sb, "254:1", "254:2", HASH, table, sizeof(table)) > 0);
	assert_string_equal(table, "1 254:1 254:2 4096 4096 16 1 sha256 " HASH
				   " 00112233445566778899aabbccddeeff");
	/* Too small a buffer is refused, not truncated. */
	assert_int_equal(lethe_verity_table(&sb, "254:1", "254:2", HASH, table, 40), -ENOSPC);
	assert_int_equal(lethe_verity_table(&sb, "254:1", "254:2", "00", table, sizeof(table)),
			 -EINVAL);
}

static void test_superblock_bad(void **state)
{
	uint8_t good[LETHE_VERITY_SUPERBLOCK_SIZE], buf[LETHE_VERITY_SUPERBLOCK_SIZE];
	struct lethe_verity_superblock sb;
	const char *err;

	read_data("init-verity-sb.bin", good, sizeof(good));
	assert_int_equal(lethe_verity_superblock_parse(good, 100, &sb), -EBADMSG);

	memcpy(buf, good, sizeof(buf));
	buf[0] ^= 1; /* signature */
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);
	assert_non_null(strstr((err = lethe_error_message()), "magic"));

	memcpy(buf, good, sizeof(buf));
	buf[8] = 2; /* version */
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);

	memcpy(buf, good, sizeof(buf));
	memcpy(buf + 32, "sha1\0\0", 6);
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);
	assert_non_null(strstr((err = lethe_error_message()), "sha1"));

	memcpy(buf, good, sizeof(buf));
	memset(buf + 32, 'a', 32); /* unterminated algorithm */
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);

	memcpy(buf, good, sizeof(buf));
	buf[64] = 0x01;
	buf[65] = 0x10; /* data block size 4097 */
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);

	memcpy(buf, good, sizeof(buf));
	memset(buf + 72, 0, 8); /* no data blocks */
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);

	memcpy(buf, good, sizeof(buf));
	memset(buf + 72, 0xff, 8); /* blocks * size would overflow */
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);

	memcpy(buf, good, sizeof(buf));
	buf[80] = 0x01;
	buf[81] = 0x01; /* salt of 257 bytes */
	assert_int_equal(lethe_verity_superblock_parse(buf, sizeof(buf), &sb), -EBADMSG);
	assert_non_null(strstr((err = lethe_error_message()), "salt"));
}

/* A GPT written by sfdisk with the PARTUUIDs of docs/boot.md's example. */
static void test_gpt(void **state)
{
	static uint8_t disk[34 * 512];
	struct lethe_gpt_header h;
	char uuid[LETHE_UUID_STR], data[LETHE_UUID_STR], hash[LETHE_UUID_STR];

	assert_int_equal(read_data("init-gpt.bin", disk, sizeof(disk)), sizeof(disk));
	assert_int_equal(lethe_gpt_header_parse(disk + 512, 512, &h), 0);
	assert_int_equal(h.entries_lba, 2);
	assert_int_equal(h.n_entries, 128);
	assert_int_equal(h.entry_size, 128);
	assert_int_equal(partuuids(HASH, data, hash), 0);
	lethe_gpt_entry_uuid(disk + 2 * 512, uuid);
	assert_string_equal(uuid, data);
	lethe_gpt_entry_uuid(disk + 2 * 512 + 128, uuid);
	assert_string_equal(uuid, hash);
	lethe_gpt_entry_uuid(disk + 2 * 512 + 256, uuid);
	assert_string_equal(uuid, "");

	/* Not a GPT, or entries of an impossible size. */
	assert_int_equal(lethe_gpt_header_parse(disk, 512, &h), -EBADMSG);
	disk[512 + 84] = 100;
	assert_int_equal(lethe_gpt_header_parse(disk + 512, 512, &h), -EBADMSG);
	disk[512 + 84] = 128;
	assert_int_equal(lethe_gpt_header_parse(disk + 512, 60, &h), -EBADMSG);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* Services' users and groups come from the image's passwd and group files. */
static void test_accounts(void **state)
{
	char dir[] = "/tmp/lethe-test-init.XXXXXX", passwd[64], group[64];
	struct lethe_account a;

	assert_non_null(mkdtemp(dir));
	snprintf(passwd, sizeof(passwd), "%s/passwd", dir);
	snprintf(group, sizeof(group), "%s/group", dir);
	write_file(passwd, "root:x:0:0:root:/root:/bin/sh\n"
			   "www:x:900:900::/srv/www:/usr/sbin/nologin\n"
			   "broken:x:abc:1::/:/bin/false\n"
			   "nofields\n");
	write_file(group, "root:x:0:\nwww:x:900:\nextra:x:902:www,other\n"
			  "other:x:903:root\nlog:x:904:wwwx\n");

	assert_int_equal(lethe_account_resolve(passwd, group, "www", NULL, &a), 0);
	assert_int_equal(a.uid, 900);
	assert_int_equal(a.gid, 900);
	assert_int_equal(a.n_groups, 2); /* primary, then extra; not "wwwx"'s log */
	assert_int_equal(a.groups[0], 900);
	assert_int_equal(a.groups[1], 902);

	/* An explicit group replaces the primary one. */
	assert_int_equal(lethe_account_resolve(passwd, group, "www", "other", &a), 0);
	assert_int_equal(a.gid, 903);
	assert_int_equal(a.groups[0], 903);

	/* No user: root, with no supplementary groups looked up. */
	assert_int_equal(lethe_account_resolve(passwd, group, NULL, NULL, &a), 0);
	assert_int_equal(a.uid, 0);
	assert_int_equal(a.n_groups, 1);

	assert_int_equal(lethe_account_resolve(passwd, group, "nobody", NULL, &a), -ENOENT);
	assert_int_equal(lethe_account_resolve(passwd, group, "www", "nogroup", &a), -ENOENT);
	assert_int_equal(lethe_account_resolve(passwd, group, "broken", NULL, &a), -EBADMSG);
	assert_int_equal(lethe_account_resolve(passwd, group, "nofields", NULL, &a), -ENOENT);
	assert_int_equal(lethe_account_resolve("/nonexistent", group, "www", NULL, &a), -ENOENT);

	unlink(passwd);
	unlink(group);
	rmdir(dir);
}

static void test_cidr(void **state)
{
	unsigned char addr[16], want[16];
	unsigned prefix;
	int family;

	assert_int_equal(init_net_parse_cidr("192.0.2.10/24", &family, addr, &prefix), 0);
	assert_int_equal(family, AF_INET);
	assert_int_equal(prefix, 24);
	inet_pton(AF_INET, "192.0.2.10", want);
	assert_memory_equal(addr, want, 4);
	assert_int_equal(init_net_parse_cidr("2001:db8::1", &family, addr, &prefix), 0);
	assert_int_equal(family, AF_INET6);
	assert_int_equal(prefix, 128);
	assert_int_equal(init_net_parse_cidr("2001:db8::10/64", &family, addr, &prefix), 0);
	assert_int_equal(prefix, 64);

	assert_int_equal(init_net_parse_cidr("192.0.2.10/33", &family, addr, &prefix), -EINVAL);
	assert_int_equal(init_net_parse_cidr("2001:db8::/129", &family, addr, &prefix), -EINVAL);
	assert_int_equal(init_net_parse_cidr("192.0.2.10/", &family, addr, &prefix), -EINVAL);
	assert_int_equal(init_net_parse_cidr("192.0.2.10/2x", &family, addr, &prefix), -EINVAL);
	assert_int_equal(init_net_parse_cidr("192.0.2/24", &family, addr, &prefix), -EINVAL);
	assert_int_equal(init_net_parse_cidr("eth0", &family, addr, &prefix), -EINVAL);
}

/* /etc/resolv.conf: the spec's servers and nothing else, replaced by a rename. */
static void test_resolv_conf(void **state)
{
	const char *servers[] = { "192.0.2.53", "2001:db8::53" };
	char buf[256], path[] = "/tmp/lethe-test-init-XXXXXX", file[64];
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(file, sizeof(file), "%s/resolv.conf", path);
	assert_int_equal(symlink("/nonexistent/stub-resolv.conf", file), 0);
	assert_int_equal(init_dns_write(file, servers, 2), 0);
	assert_int_equal(init_read_file(file, buf, sizeof(buf)), 98);
	assert_string_equal(buf, "# written by lethe-init from the spec's network.dns\n"
				 "nameserver 192.0.2.53\n"
				 "nameserver 2001:db8::53\n");
	assert_int_equal(init_dns_write(file, NULL, 0), 0);
	assert_int_equal(init_read_file(file, buf, sizeof(buf)), 75);
	assert_string_equal(buf,
			    "# written by lethe-init from the spec's network.dns, which names no "
			    "server\n");
	assert_int_equal(init_dns_render(servers, 2, buf, 60), -ENOBUFS);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(rmdir(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmdline_ok),
		cmocka_unit_test(test_cmdline_bad),
		cmocka_unit_test(test_partuuids),
		cmocka_unit_test(test_superblock_veritysetup),
		cmocka_unit_test(test_superblock_bad),
		cmocka_unit_test(test_gpt),
		cmocka_unit_test(test_accounts),
		cmocka_unit_test(test_cidr),
		cmocka_unit_test(test_resolv_conf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
