/* veritysetup's on-disk superblock (version 1) and the dm-verity table built on it:
 * the one parser for `lethe verity`, release verification and lethe-init, which reads
 * the superblock from a disk that may come from anyone. */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/core.h>

/* Byte offsets of the superblock's fields (cryptsetup lib/verity/verity.c). */
enum {
	SB_SIGNATURE = 0,    /* "verity\0\0" */
	SB_VERSION = 8,	     /* le32 */
	SB_HASH_TYPE = 12,   /* le32 */
	SB_UUID = 16,	     /* 16 bytes */
	SB_ALGORITHM = 32,   /* 32 bytes, NUL-padded */
	SB_DATA_BS = 64,     /* le32 */
	SB_HASH_BS = 68,     /* le32 */
	SB_DATA_BLOCKS = 72, /* le64 */
	SB_SALT_SIZE = 80,   /* le16 */
	SB_PAD1 = 82,	     /* 6 bytes */
	SB_SALT = 88,	     /* 256 bytes */
	SB_PAD2 = 344,	     /* 168 bytes, to 512 */
};

static const char sb_magic[8] = { 'v', 'e', 'r', 'i', 't', 'y', 0, 0 };

size_t lethe_verity_digest_size(const char *hash_name)
{
	if (!hash_name)
		return 0;
	if (!strcmp(hash_name, "sha256"))
		return 32;
	if (!strcmp(hash_name, "sha512"))
		return 64;
	return 0;
}

static bool block_size_ok(uint32_t bs)
{
	return bs >= LETHE_VERITY_MIN_BLOCK_SIZE && bs <= LETHE_VERITY_MAX_BLOCK_SIZE &&
	       !(bs & (bs - 1));
}

static uint32_t get_le32(const uint8_t *b, size_t off)
{
	uint32_t v;

	memcpy(&v, b + off, sizeof(v));
	return le32toh(v);
}

static bool all_zero(const uint8_t *b, size_t len)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= b[i];
	return acc == 0;
}

int lethe_verity_superblock_parse(const void *buf, size_t len, struct lethe_verity_superblock *ret)
{
	const uint8_t *b = buf;
	struct lethe_verity_superblock sb = { 0 };
	uint64_t v64;
	uint16_t v16;
	size_t alen;

	if (len < LETHE_VERITY_SUPERBLOCK_SIZE)
		return lethe_error(-EBADMSG, "verity superblock truncated: %zu bytes of %u", len,
				   LETHE_VERITY_SUPERBLOCK_SIZE);
	if (memcmp(b + SB_SIGNATURE, sb_magic, sizeof(sb_magic)))
		return lethe_error(-EBADMSG, "no verity superblock (offset 0: bad magic)");
	sb.version = get_le32(b, SB_VERSION);
	if (sb.version != 1)
		return lethe_error(-EBADMSG, "verity superblock offset %d: unsupported version %u",
				   SB_VERSION, sb.version);
	sb.hash_type = get_le32(b, SB_HASH_TYPE);
	if (sb.hash_type != 1)
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: unsupported hash type "
				   "%u (only 1, the normal format)",
				   SB_HASH_TYPE, sb.hash_type);
	memcpy(sb.uuid, b + SB_UUID, sizeof(sb.uuid));
	alen = strnlen((const char *)b + SB_ALGORITHM, sizeof(sb.algorithm));
	if (alen == sizeof(sb.algorithm) ||
	    !all_zero(b + SB_ALGORITHM + alen, sizeof(sb.algorithm) - alen))
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: algorithm name is not "
				   "NUL-terminated and zero-padded",
				   SB_ALGORITHM);
	memcpy(sb.algorithm, b + SB_ALGORITHM, alen);
	if (!lethe_verity_digest_size(sb.algorithm))
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: unsupported hash "
				   "algorithm '%.31s' (sha256 or sha512)",
				   SB_ALGORITHM, sb.algorithm);
	sb.data_block_size = get_le32(b, SB_DATA_BS);
	if (!block_size_ok(sb.data_block_size))
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: data block size %u is "
				   "not a power of two from 512 to 65536",
				   SB_DATA_BS, sb.data_block_size);
	sb.hash_block_size = get_le32(b, SB_HASH_BS);
	if (!block_size_ok(sb.hash_block_size))
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: hash block size %u is "
				   "not a power of two from 512 to 65536",
				   SB_HASH_BS, sb.hash_block_size);
	memcpy(&v64, b + SB_DATA_BLOCKS, sizeof(v64));
	sb.data_blocks = le64toh(v64);
	/* With the data in 63 bits, the tree is too: it is at most an eighth of the data
	 * (SHA-512 in 512-byte hash blocks) plus a block per level (fuzz-verity-superblock
	 * checks the geometry of everything accepted here). */
	if (sb.data_blocks == 0 || sb.data_blocks > (uint64_t)INT64_MAX / sb.data_block_size)
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: %llu data blocks of %u "
				   "bytes is not a usable size",
				   SB_DATA_BLOCKS, (unsigned long long)sb.data_blocks,
				   sb.data_block_size);
	memcpy(&v16, b + SB_SALT_SIZE, sizeof(v16));
	sb.salt_size = le16toh(v16);
	if (sb.salt_size > LETHE_VERITY_MAX_SALT_SIZE)
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: salt size %u is larger "
				   "than %u",
				   SB_SALT_SIZE, sb.salt_size, LETHE_VERITY_MAX_SALT_SIZE);
	memcpy(sb.salt, b + SB_SALT, sb.salt_size);
	/* veritysetup zeroes everything it does not use: anything else there is damage. */
	if (!all_zero(b + SB_PAD1, SB_SALT - SB_PAD1))
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: reserved bytes are "
				   "not zero",
				   SB_PAD1);
	if (!all_zero(b + SB_SALT + sb.salt_size, LETHE_VERITY_MAX_SALT_SIZE - sb.salt_size))
		return lethe_error(-EBADMSG,
				   "verity superblock offset %u: bytes after the %u-byte "
				   "salt are not zero",
				   SB_SALT + sb.salt_size, sb.salt_size);
	if (!all_zero(b + SB_PAD2, LETHE_VERITY_SUPERBLOCK_SIZE - SB_PAD2))
		return lethe_error(-EBADMSG,
				   "verity superblock offset %d: reserved bytes are "
				   "not zero",
				   SB_PAD2);
	*ret = sb;
	return 0;
}

void lethe_verity_superblock_write(const struct lethe_verity_superblock *sb,
				   uint8_t ret[LETHE_VERITY_SUPERBLOCK_SIZE])
{
	uint32_t v32;
	uint64_t v64;
	uint16_t v16;
	size_t salt = sb->salt_size < LETHE_VERITY_MAX_SALT_SIZE ? sb->salt_size
								 : LETHE_VERITY_MAX_SALT_SIZE;

	memset(ret, 0, LETHE_VERITY_SUPERBLOCK_SIZE);
	memcpy(ret + SB_SIGNATURE, sb_magic, sizeof(sb_magic));
	v32 = htole32(sb->version);
	memcpy(ret + SB_VERSION, &v32, 4);
	v32 = htole32(sb->hash_type);
	memcpy(ret + SB_HASH_TYPE, &v32, 4);
	memcpy(ret + SB_UUID, sb->uuid, 16);
	memcpy(ret + SB_ALGORITHM, sb->algorithm,
	       strnlen(sb->algorithm, sizeof(sb->algorithm) - 1));
	v32 = htole32(sb->data_block_size);
	memcpy(ret + SB_DATA_BS, &v32, 4);
	v32 = htole32(sb->hash_block_size);
	memcpy(ret + SB_HASH_BS, &v32, 4);
	v64 = htole64(sb->data_blocks);
	memcpy(ret + SB_DATA_BLOCKS, &v64, 8);
	v16 = htole16((uint16_t)salt);
	memcpy(ret + SB_SALT_SIZE, &v16, 2);
	memcpy(ret + SB_SALT, sb->salt, salt);
}

uint64_t lethe_verity_data_sectors(const struct lethe_verity_superblock *sb)
{
	uint64_t bytes;

	if (__builtin_mul_overflow(sb->data_blocks, (uint64_t)sb->data_block_size, &bytes))
		return 0;
	return bytes / 512;
}

static bool is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int lethe_verity_table(const struct lethe_verity_superblock *sb, const char *data_dev,
		       const char *hash_dev, const char *roothash, char *ret, size_t size)
{
	char salt[2 * LETHE_VERITY_MAX_SALT_SIZE + 1];
	size_t digest = lethe_verity_digest_size(sb->algorithm);
	int n;

	if (!digest || !roothash || strlen(roothash) != 2 * digest ||
	    !is_lower_hex(roothash, 2 * digest) || sb->salt_size > LETHE_VERITY_MAX_SALT_SIZE)
		return -EINVAL;
	if (sb->salt_size == 0) {
		salt[0] = '-';
		salt[1] = '\0';
	} else {
		lethe_hex_encode(sb->salt, sb->salt_size, salt);
	}
	/* Version 1 format; the hash tree starts at hash block 1, right after the
	 * superblock (veritysetup's layout with --hash-offset 0). No optional arguments:
	 * the default mode fails a read of a corrupted block with EIO, so a changed block
	 * is never returned. */
	n = snprintf(ret, size, "1 %s %s %u %u %llu 1 %s %s %s", data_dev, hash_dev,
		     sb->data_block_size, sb->hash_block_size, (unsigned long long)sb->data_blocks,
		     sb->algorithm, roothash, salt);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= size)
		return -ENOSPC;
	return n;
}
