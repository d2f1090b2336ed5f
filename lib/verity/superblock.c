/* dm-verity parameters, the veritysetup superblock built from them (its bytes and their
 * parser are lib/core/verity.c's), and the tree's geometry: where each level of hashes
 * lies in the hash file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lethe/util.h>
#include <lethe/verity.h>

#include "verity-internal.h"

void lethe_verity_params_init(struct lethe_verity_params *p)
{
	*p = (struct lethe_verity_params){
		.hash_name = "sha256",
		.data_block_size = LETHE_VERITY_DEFAULT_BLOCK_SIZE,
		.hash_block_size = LETHE_VERITY_DEFAULT_BLOCK_SIZE,
	};
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
		return lethe_error(-EINVAL,
				   "salt '%.16s%s' is not an even number of hex digits "
				   "(at most %u) or '-'",
				   hex, n > 16 ? "..." : "", 2 * LETHE_VERITY_MAX_SALT_SIZE);
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

static int check_params(const struct lethe_verity_params *p, const char *what, size_t *ret_digest)
{
	size_t ds = lethe_verity_digest_size(p->hash_name);

	if (!ds)
		return lethe_error(-EBADMSG, "%s: unsupported hash '%s' (sha256 or sha512)", what,
				   p->hash_name ? p->hash_name : "(none)");
	if (!block_size_ok(p->data_block_size))
		return lethe_error(-EBADMSG,
				   "%s: data block size %u is not a power of two "
				   "from 512 to 65536",
				   what, p->data_block_size);
	if (!block_size_ok(p->hash_block_size))
		return lethe_error(-EBADMSG,
				   "%s: hash block size %u is not a power of two "
				   "from 512 to 65536",
				   what, p->hash_block_size);
	if (p->salt_size > LETHE_VERITY_MAX_SALT_SIZE)
		return lethe_error(-EBADMSG, "%s: salt of %zu bytes is longer than %u", what,
				   p->salt_size, LETHE_VERITY_MAX_SALT_SIZE);
	if (p->data_blocks == 0)
		return lethe_error(-EBADMSG, "%s: no data block to protect", what);
	if (p->data_blocks > (uint64_t)INT64_MAX / p->data_block_size)
		return lethe_error(-EBADMSG, "%s: %llu data blocks of %u bytes overflow 63 bits",
				   what, (unsigned long long)p->data_blocks, p->data_block_size);
	if (p->hash_offset % 512 || (p->no_superblock && p->hash_offset % p->hash_block_size))
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
	return lethe_error(-EBADMSG,
			   "%s: hash tree for %llu data blocks does not fit in "
			   "63 bits",
			   what, (unsigned long long)p->data_blocks);
}

/* The superblock's bytes are lib/core's (the parser lethe-init shares); what is built
 * here is the struct, from parameters that the tree geometry has accepted. */
int lethe_verity_superblock_build(const struct lethe_verity_params *p, uint8_t out[512])
{
	struct lethe_verity_superblock sb = { .version = 1, .hash_type = 1 };
	struct verity_layout l;
	int r = verity_layout_compute(p, "parameters", &l);

	if (r < 0)
		return r;
	memcpy(sb.uuid, p->uuid, sizeof(sb.uuid));
	snprintf(sb.algorithm, sizeof(sb.algorithm), "%s", p->hash_name);
	sb.data_block_size = p->data_block_size;
	sb.hash_block_size = p->hash_block_size;
	sb.data_blocks = p->data_blocks;
	sb.salt_size = (uint16_t)p->salt_size;
	memcpy(sb.salt, p->salt, p->salt_size);
	lethe_verity_superblock_write(&sb, out);
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
	return lethe_error(r, "'%s' at offset %llu: %s", path, (unsigned long long)offset, msg);
}

static void info_from_layout(struct lethe_verity_info *info, const struct lethe_verity_params *p,
			     const struct verity_layout *l)
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

int lethe_verity_dump(const char *hash_path, uint64_t hash_offset, struct lethe_verity_info *ret)
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
		return lethe_error(-EBADMSG,
				   "'%s': no verity superblock at offset %llu (file "
				   "too short)",
				   hash_path, (unsigned long long)hash_offset);
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
