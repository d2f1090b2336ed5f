/* The pure side of root verification: PARTUUIDs from the root hash (as systemd-repart
 * derives them), veritysetup's superblock, and the dm-verity table that uses it. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "init.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* 32 hex digits as 8-4-4-4-12. */
static void format_uuid(const char *hex, char out[INIT_UUID_STR])
{
	static const unsigned groups[] = { 8, 4, 4, 4, 12 };
	size_t o = 0, h = 0;

	for (size_t g = 0; g < 5; g++) {
		if (g)
			out[o++] = '-';
		memcpy(out + o, hex + h, groups[g]);
		o += groups[g];
		h += groups[g];
	}
	out[o] = '\0';
}

int init_partuuids(const char *roothash, char data[INIT_UUID_STR], char hash[INIT_UUID_STR])
{
	if (!roothash || strlen(roothash) != INIT_ROOTHASH_HEX ||
	    !is_lower_hex(roothash, INIT_ROOTHASH_HEX))
		return -EINVAL;
	/* systemd-repart: memcpy of the first and the last 16 bytes; no version bits. */
	format_uuid(roothash, data);
	format_uuid(roothash + INIT_ROOTHASH_HEX - 32, hash);
	return 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static bool block_size_ok(uint32_t v)
{
	return v >= 512 && v <= 65536 && (v & (v - 1)) == 0;
}

/* Layout (cryptsetup lib/verity/verity.c, struct verity_sb): signature[8] at 0,
 * version u32 at 8, hash_type u32 at 12, uuid[16] at 16, algorithm[32] at 32,
 * data_block_size u32 at 64, hash_block_size u32 at 68, data_blocks u64 at 72,
 * salt_size u16 at 80, pad[6], salt[256] at 88, pad[168]; little endian. */
int init_verity_sb_parse(const void *buf, size_t len, struct init_verity_sb *ret, char *err,
			 size_t errlen)
{
	const uint8_t *p = buf;
	struct init_verity_sb sb;

	if (len < INIT_VERITY_SB_SIZE)
		return fail(err, errlen, "superblock is %zu bytes, expected %d", len,
			    INIT_VERITY_SB_SIZE);
	if (memcmp(p, "verity\0\0", 8))
		return fail(err, errlen, "no dm-verity superblock (bad signature at offset 0)");
	if (le32(p + 8) != 1)
		return fail(err, errlen, "superblock version %u, expected 1", le32(p + 8));
	memset(&sb, 0, sizeof(sb));
	sb.hash_type = le32(p + 12);
	if (sb.hash_type != 1)
		return fail(err, errlen, "hash type %u, expected 1", sb.hash_type);
	memcpy(sb.algorithm, p + 32, sizeof(sb.algorithm));
	if (memchr(sb.algorithm, '\0', sizeof(sb.algorithm)) == NULL)
		return fail(err, errlen, "hash algorithm name at offset 32 is not terminated");
	if (strcmp(sb.algorithm, "sha256"))
		return fail(err, errlen, "hash algorithm '%.31s', only sha256 is accepted",
			    sb.algorithm);
	sb.data_block_size = le32(p + 64);
	sb.hash_block_size = le32(p + 68);
	if (!block_size_ok(sb.data_block_size) || !block_size_ok(sb.hash_block_size))
		return fail(err, errlen, "block sizes %u/%u: expected powers of two in 512..65536",
			    sb.data_block_size, sb.hash_block_size);
	sb.data_blocks = le64(p + 72);
	if (sb.data_blocks == 0 || sb.data_blocks > (UINT64_MAX >> 17))
		return fail(err, errlen, "data block count %llu is out of range",
			    (unsigned long long)sb.data_blocks);
	sb.salt_size = (uint16_t)(p[80] | p[81] << 8);
	if (sb.salt_size > INIT_VERITY_SALT_MAX)
		return fail(err, errlen, "salt of %u bytes, at most %d", sb.salt_size,
			    INIT_VERITY_SALT_MAX);
	memcpy(sb.salt, p + 88, sb.salt_size);
	*ret = sb;
	return 0;
}

uint64_t init_verity_data_sectors(const struct init_verity_sb *sb)
{
	uint64_t bytes;

	if (__builtin_mul_overflow(sb->data_blocks, (uint64_t)sb->data_block_size, &bytes))
		return 0;
	return bytes / 512;
}

int init_verity_table(const struct init_verity_sb *sb, const char *data_dev,
		      const char *hash_dev, const char *roothash, char *out, size_t size)
{
	char salt[2 * INIT_VERITY_SALT_MAX + 1];
	int n;

	if (!roothash || strlen(roothash) != INIT_ROOTHASH_HEX ||
	    !is_lower_hex(roothash, INIT_ROOTHASH_HEX) || sb->salt_size > INIT_VERITY_SALT_MAX)
		return -EINVAL;
	if (sb->salt_size == 0) {
		salt[0] = '-';
		salt[1] = '\0';
	} else {
		for (size_t i = 0; i < sb->salt_size; i++)
			snprintf(salt + 2 * i, 3, "%02x", sb->salt[i]);
	}
	/* Version 1 format; the hash tree starts at hash block 1, right after the
	 * superblock (veritysetup's layout with --hash-offset 0). No optional arguments:
	 * the default mode fails a read of a corrupted block with EIO, so a changed block
	 * is never returned. */
	n = snprintf(out, size, "1 %s %s %u %u %llu 1 %s %s %s", data_dev, hash_dev,
		     sb->data_block_size, sb->hash_block_size,
		     (unsigned long long)sb->data_blocks, sb->algorithm, roothash, salt);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENOSPC;
	return n;
}
