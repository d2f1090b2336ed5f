/* dm-verity parameters, the veritysetup superblock (version 1), and the tree's
 * geometry: where each level of hashes lies in the hash file. */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>


#include <lethe/util.h>
#include <lethe/verity.h>

#include "verity-internal.h"

/* Byte offsets of the superblock's fields (cryptsetup lib/verity/verity.c). */
enum {
	SB_SIGNATURE = 0,   /* "verity\0\0" */
	SB_VERSION = 8,     /* le32 */
	SB_HASH_TYPE = 12,  /* le32 */
	SB_UUID = 16,       /* 16 bytes */
	SB_ALGORITHM = 32,  /* 32 bytes, NUL-padded */
	SB_DATA_BS = 64,    /* le32 */
	SB_HASH_BS = 68,    /* le32 */
	SB_DATA_BLOCKS = 72, /* le64 */
	SB_SALT_SIZE = 80,  /* le16 */
	SB_PAD1 = 82,       /* 6 bytes */
	SB_SALT = 88,       /* 256 bytes */
	SB_PAD2 = 344,      /* 168 bytes, to 512 */
};

static const char sb_magic[8] = { 'v', 'e', 'r', 'i', 't', 'y', 0, 0 };

void lethe_verity_params_init(struct lethe_verity_params *p)
{
	*p = (struct lethe_verity_params){
		.hash_name = "sha256",
		.data_block_size = LETHE_VERITY_DEFAULT_BLOCK_SIZE,
		.hash_block_size = LETHE_VERITY_DEFAULT_BLOCK_SIZE,
	};
}

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

int lethe_verity_salt_from_seed(struct lethe_verity_params *p, const char *seed)
{
	static const char label[] = "lethe-verity-salt-v1"; /* hashed with its NUL */
	struct lethe_sha256 h;
	int r = lethe_sha256_init(&h);

	_Static_assert(LETHE_VERITY_SEED_SALT_SIZE == LETHE_SHA256_BYTES, "salt is a digest");
	if (r < 0)
		return r;
	lethe_sha256_update(&h, label, sizeof(label));
	lethe_sha256_update(&h, seed, strlen(seed));
	if (lethe_sha256_final(&h, p->salt) < 0)
		return lethe_error(-EIO, "cannot derive a salt: SHA-256 failed");
	p->salt_size = LETHE_VERITY_SEED_SALT_SIZE;
	return 0;
}

int lethe_verity_salt_from_hex(struct lethe_verity_params *p, const char *hex)
{
	size_t n = strlen(hex);
	uint8_t salt[LETHE_VERITY_MAX_SALT_SIZE];

	if (!strcmp(hex, "-")) {
		p->salt_size = 0;
		return 0;
	}
	if (n % 2 || n / 2 > sizeof(salt) || lethe_hex_decode(hex, salt, n / 2) < 0)
		return lethe_error(-EINVAL, "salt '%.16s%s' is not an even number of hex digits "
				   "(at most %u) or '-'", hex, n > 16 ? "..." : "",
				   2 * LETHE_VERITY_MAX_SALT_SIZE);
	memset(p->salt, 0, sizeof(p->salt));
	memcpy(p->salt, salt, n / 2);
	p->salt_size = n / 2;
	return 0;
}

static bool block_size_ok(uint32_t bs)
{
	return bs >= LETHE_VERITY_MIN_BLOCK_SIZE && bs <= LETHE_VERITY_MAX_BLOCK_SIZE &&
	       !(bs & (bs - 1));
}

static unsigned log2_down(uint64_t v)
{
	unsigned bits = 0;

	while (v >>= 1)
		bits++;
	return bits;
}

/* ceil(n / 2^shift) without overflow, shift < 64. */
static uint64_t div_round_up_shift(uint64_t n, unsigned shift)
{
	return (n >> shift) + ((n & ((UINT64_C(1) << shift) - 1)) != 0);
}

static int check_params(const struct lethe_verity_params *p, const char *what,
			size_t *ret_digest)
{
	size_t ds = lethe_verity_digest_size(p->hash_name);

	if (!ds)
		return lethe_error(-EBADMSG, "%s: unsupported hash '%s' (sha256 or sha512)", what,
				   p->hash_name ? p->hash_name : "(none)");
	if (!block_size_ok(p->data_block_size))
		return lethe_error(-EBADMSG, "%s: data block size %u is not a power of two "
				   "from 512 to 65536", what, p->data_block_size);
	if (!block_size_ok(p->hash_block_size))
		return lethe_error(-EBADMSG, "%s: hash block size %u is not a power of two "
				   "from 512 to 65536", what, p->hash_block_size);
	if (p->salt_size > LETHE_VERITY_MAX_SALT_SIZE)
		return lethe_error(-EBADMSG, "%s: salt of %zu bytes is longer than %u", what,
				   p->salt_size, LETHE_VERITY_MAX_SALT_SIZE);
	if (p->data_blocks == 0)
		return lethe_error(-EBADMSG, "%s: no data block to protect", what);
	if (p->data_blocks > (uint64_t)INT64_MAX / p->data_block_size)
		return lethe_error(-EBADMSG, "%s: %llu data blocks of %u bytes overflow 63 bits",
				   what, (unsigned long long)p->data_blocks, p->data_block_size);
	if (p->hash_offset % 512 ||
	    (p->no_superblock && p->hash_offset % p->hash_block_size))
		return lethe_error(-EBADMSG, "%s: hash offset %llu is not a multiple of %u", what,
				   (unsigned long long)p->hash_offset,
				   p->no_superblock ? p->hash_block_size : 512);
	if (p->hash_offset > (uint64_t)INT64_MAX / 2)
		return lethe_error(-EBADMSG, "%s: hash offset %llu is too large", what,
				   (unsigned long long)p->hash_offset);
	*ret_digest = ds;
	return 0;
}

/* Same placement as cryptsetup's hash_levels(): the top level first, right after the
 * superblock's (hash-block aligned) block, level 0 last. */
int verity_layout_compute(const struct lethe_verity_params *p, const char *what,
			  struct verity_layout *l)
{
	uint64_t pos, last = p->data_blocks - 1;
	unsigned bits;
	int r;

	*l = (struct verity_layout){ 0 };
	r = check_params(p, what, &l->digest_size);
	if (r < 0)
		return r;
	bits = log2_down(p->hash_block_size / l->digest_size);
	l->hash_per_block_bits = bits;
	while (bits * l->levels < 64 && (last >> (bits * l->levels)))
		l->levels++;
	if (l->levels > VERITY_MAX_LEVELS)
		return lethe_error(-EBADMSG, "%s: tree of %u levels is too deep", what, l->levels);

	pos = p->hash_offset;
	if (!p->no_superblock)
		pos += LETHE_VERITY_SUPERBLOCK_SIZE + p->hash_block_size - 1;
	pos /= p->hash_block_size;
	l->hash_area_block = pos;
	for (int i = (int)l->levels - 1; i >= 0; i--) {
		unsigned shift = (unsigned)(i + 1) * bits;
		uint64_t s = shift > 63 ? 1 : div_round_up_shift(p->data_blocks, shift);

		l->level_block[i] = pos;
		l->level_size[i] = s;
		if (pos + s < pos)
			goto overflow;
		pos += s;
	}
	l->hash_blocks = pos - l->hash_area_block;
	if (pos > (uint64_t)INT64_MAX / p->hash_block_size)
		goto overflow;
	l->end = pos * p->hash_block_size;
	return 0;
overflow:
	return lethe_error(-EBADMSG, "%s: hash tree for %llu data blocks does not fit in "
			   "63 bits", what, (unsigned long long)p->data_blocks);
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

int lethe_verity_superblock_parse(const void *buf, size_t len,
				  struct lethe_verity_superblock *ret)
{
	const uint8_t *b = buf;
	struct lethe_verity_superblock sb = { 0 };
	struct lethe_verity_params p;
	struct verity_layout l;
	uint64_t v64;
	uint16_t v16;
	size_t alen;
	int r;

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
		return lethe_error(-EBADMSG, "verity superblock offset %d: unsupported hash type "
				   "%u (only 1, the normal format)", SB_HASH_TYPE, sb.hash_type);
	memcpy(sb.uuid, b + SB_UUID, sizeof(sb.uuid));
	alen = strnlen((const char *)b + SB_ALGORITHM, sizeof(sb.algorithm));
	if (alen == sizeof(sb.algorithm) ||
	    !all_zero(b + SB_ALGORITHM + alen, sizeof(sb.algorithm) - alen))
		return lethe_error(-EBADMSG, "verity superblock offset %d: algorithm name is not "
				   "NUL-terminated and zero-padded", SB_ALGORITHM);
	memcpy(sb.algorithm, b + SB_ALGORITHM, alen);
	if (!lethe_verity_digest_size(sb.algorithm))
		return lethe_error(-EBADMSG, "verity superblock offset %d: unsupported hash "
				   "algorithm '%.31s' (sha256 or sha512)", SB_ALGORITHM,
				   sb.algorithm);
	sb.data_block_size = get_le32(b, SB_DATA_BS);
	if (!block_size_ok(sb.data_block_size))
		return lethe_error(-EBADMSG, "verity superblock offset %d: data block size %u is "
				   "not a power of two from 512 to 65536", SB_DATA_BS,
				   sb.data_block_size);
	sb.hash_block_size = get_le32(b, SB_HASH_BS);
	if (!block_size_ok(sb.hash_block_size))
		return lethe_error(-EBADMSG, "verity superblock offset %d: hash block size %u is "
				   "not a power of two from 512 to 65536", SB_HASH_BS,
				   sb.hash_block_size);
	memcpy(&v64, b + SB_DATA_BLOCKS, sizeof(v64));
	sb.data_blocks = le64toh(v64);
	if (sb.data_blocks == 0 || sb.data_blocks > (uint64_t)INT64_MAX / sb.data_block_size)
		return lethe_error(-EBADMSG, "verity superblock offset %d: %llu data blocks of %u "
				   "bytes is not a usable size", SB_DATA_BLOCKS,
				   (unsigned long long)sb.data_blocks, sb.data_block_size);
	memcpy(&v16, b + SB_SALT_SIZE, sizeof(v16));
	sb.salt_size = le16toh(v16);
	if (sb.salt_size > LETHE_VERITY_MAX_SALT_SIZE)
		return lethe_error(-EBADMSG, "verity superblock offset %d: salt size %u is larger "
				   "than %u", SB_SALT_SIZE, sb.salt_size,
				   LETHE_VERITY_MAX_SALT_SIZE);
	memcpy(sb.salt, b + SB_SALT, sb.salt_size);
	/* veritysetup zeroes everything it does not use: anything else there is damage. */
	if (!all_zero(b + SB_PAD1, SB_SALT - SB_PAD1))
		return lethe_error(-EBADMSG, "verity superblock offset %d: reserved bytes are "
				   "not zero", SB_PAD1);
	if (!all_zero(b + SB_SALT + sb.salt_size, LETHE_VERITY_MAX_SALT_SIZE - sb.salt_size))
		return lethe_error(-EBADMSG, "verity superblock offset %u: bytes after the %u-byte "
				   "salt are not zero", SB_SALT + sb.salt_size, sb.salt_size);
	if (!all_zero(b + SB_PAD2, LETHE_VERITY_SUPERBLOCK_SIZE - SB_PAD2))
		return lethe_error(-EBADMSG, "verity superblock offset %d: reserved bytes are "
				   "not zero", SB_PAD2);
	lethe_verity_params_init(&p);
	lethe_verity_params_from_superblock(&p, &sb);
	r = verity_layout_compute(&p, "verity superblock", &l);
	if (r < 0)
		return r;
	*ret = sb;
	return 0;
}

int lethe_verity_superblock_build(const struct lethe_verity_params *p, uint8_t out[512])
{
	struct verity_layout l;
	uint32_t v32;
	uint64_t v64;
	uint16_t v16;
	int r = verity_layout_compute(p, "parameters", &l);

	if (r < 0)
		return r;
	memset(out, 0, LETHE_VERITY_SUPERBLOCK_SIZE);
	memcpy(out + SB_SIGNATURE, sb_magic, sizeof(sb_magic));
	v32 = htole32(1);
	memcpy(out + SB_VERSION, &v32, 4);
	memcpy(out + SB_HASH_TYPE, &v32, 4);
	memcpy(out + SB_UUID, p->uuid, 16);
	memcpy(out + SB_ALGORITHM, p->hash_name, strlen(p->hash_name));
	v32 = htole32(p->data_block_size);
	memcpy(out + SB_DATA_BS, &v32, 4);
	v32 = htole32(p->hash_block_size);
	memcpy(out + SB_HASH_BS, &v32, 4);
	v64 = htole64(p->data_blocks);
	memcpy(out + SB_DATA_BLOCKS, &v64, 8);
	v16 = htole16((uint16_t)p->salt_size);
	memcpy(out + SB_SALT_SIZE, &v16, 2);
	memcpy(out + SB_SALT, p->salt, p->salt_size);
	return 0;
}

void lethe_verity_params_from_superblock(struct lethe_verity_params *p,
					 const struct lethe_verity_superblock *sb)
{
	p->hash_name = sb->algorithm;
	p->data_block_size = sb->data_block_size;
	p->hash_block_size = sb->hash_block_size;
	memset(p->salt, 0, sizeof(p->salt));
	memcpy(p->salt, sb->salt, sb->salt_size);
	p->salt_size = sb->salt_size;
	p->data_blocks = sb->data_blocks;
	memcpy(p->uuid, sb->uuid, sizeof(p->uuid));
	p->no_superblock = false;
}

int verity_error_prefix(int r, const char *path, uint64_t offset)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s",
		 lethe_error_message_for(r) ? lethe_error_message_for(r) : "");
	return lethe_error(r, "'%s' at offset %llu: %s", path, (unsigned long long)offset,
			   msg);
}

static void info_from_layout(struct lethe_verity_info *info,
			     const struct lethe_verity_params *p, const struct verity_layout *l)
{
	info->levels = l->levels;
	info->hash_blocks = l->hash_blocks;
	info->hash_area_offset = l->hash_area_block * p->hash_block_size;
	info->hash_device_size = l->end;
}

int lethe_verity_layout(const struct lethe_verity_params *p, struct lethe_verity_info *ret)
{
	struct verity_layout l;
	int r = verity_layout_compute(p, "parameters", &l);

	if (r < 0)
		return r;
	*ret = (struct lethe_verity_info){ 0 };
	info_from_layout(ret, p, &l);
	return 0;
}

int lethe_verity_dump(const char *hash_path, uint64_t hash_offset,
		      struct lethe_verity_info *ret)
{
	uint8_t buf[LETHE_VERITY_SUPERBLOCK_SIZE];
	struct lethe_verity_info info = { 0 };
	struct lethe_verity_params p;
	struct verity_layout l;
	ssize_t n;
	int fd, r;

	if (hash_offset > (uint64_t)INT64_MAX - sizeof(buf))
		return lethe_error(-EINVAL, "hash offset %llu is too large",
				   (unsigned long long)hash_offset);
	fd = lethe_open_input(AT_FDCWD, hash_path, O_RDONLY, true, NULL);
	if (fd < 0)
		return fd;
	n = lethe_pread_full(fd, buf, sizeof(buf), (off_t)hash_offset);
	close(fd);
	if (n < 0)
		return lethe_error((int)n, "cannot read '%s': %s", hash_path, strerror((int)-n));
	if ((size_t)n < sizeof(buf))
		return lethe_error(-EBADMSG, "'%s': no verity superblock at offset %llu (file "
				   "too short)", hash_path, (unsigned long long)hash_offset);
	r = lethe_verity_superblock_parse(buf, sizeof(buf), &info.sb);
	if (r < 0)
		return verity_error_prefix(r, hash_path, hash_offset);
	lethe_verity_params_init(&p);
	lethe_verity_params_from_superblock(&p, &info.sb);
	p.hash_offset = hash_offset;
	r = verity_layout_compute(&p, hash_path, &l);
	if (r < 0)
		return r;
	info_from_layout(&info, &p, &l);
	*ret = info;
	return 0;
}
