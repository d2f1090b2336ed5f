/* dm-verity hash trees in veritysetup's on-disk format (superblock version 1, hash
 * type 1): create them, verify data against them, and parse their superblock.
 *
 * Every function returns 0 on success or a negative errno; -EBADMSG (LETHE_E_INVALID)
 * means the input is malformed, corrupt or does not match, with a one-line message
 * from lethe_error_message() that names the file and the block and byte offset. */
#ifndef LETHE_VERITY_H
#define LETHE_VERITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The superblock (struct lethe_verity_superblock, its parser and its limits) and
 * lethe_verity_digest_size() are in the dependency-free layer that lethe-init shares. */
#include <lethe/core.h>

#define LETHE_VERITY_MAX_THREADS	256
#define LETHE_VERITY_SEED_SALT_SIZE	32 /* lethe_verity_salt_from_seed() */
#define LETHE_VERITY_DEFAULT_BLOCK_SIZE 4096

/* How a tree is (or was) made. lethe_verity_params_init() sets the defaults: sha256,
 * 4096-byte blocks, no salt, data_blocks and hash_offset 0, a superblock, all CPUs. */
struct lethe_verity_params {
	const char *hash_name;	  /* "sha256" or "sha512"; not owned */
	uint32_t data_block_size; /* power of two, 512..65536 */
	uint32_t hash_block_size; /* power of two, 512..65536 */
	uint8_t salt[LETHE_VERITY_MAX_SALT_SIZE];
	size_t salt_size; /* 0..256; 0 means no salt (veritysetup --salt=-) */
	/* Number of data blocks; 0 means the data file's size divided by
	 * data_block_size, which must then divide it exactly (veritysetup silently leaves
	 * a partial last block unprotected; Lethe refuses). format() fills it in. */
	uint64_t data_blocks;
	/* Byte offset of the superblock (or, without one, of the tree) in the hash file;
	 * a multiple of 512 (of hash_block_size without a superblock). */
	uint64_t hash_offset;
	/* Superblock UUID. All zero on input to format(): derived from the root hash
	 * (see docs/formats.md, "dm-verity"), so that the same input gives the same bytes.
	 * format() fills in the UUID it wrote. */
	uint8_t uuid[16];
	bool no_superblock; /* veritysetup --no-superblock */
	unsigned threads;   /* 0: every online CPU; capped at MAX_THREADS */
};

void lethe_verity_params_init(struct lethe_verity_params *p);

/* Deterministic salt from a seed string (so that a build stays reproducible):
 * SHA-256("lethe-verity-salt-v1" || 0x00 || seed), 32 bytes. Sets p->salt, salt_size. */
int lethe_verity_salt_from_seed(struct lethe_verity_params *p, const char *seed);
/* Salt from hex (up to 512 digits), or "-" for none, as veritysetup --salt takes it. */
int lethe_verity_salt_from_hex(struct lethe_verity_params *p, const char *hex);

/* Build the hash tree of data_path into hash_path and write the root hash (digest
 * size bytes; root_hash_len must be at least that) to root_hash_out.
 *
 * hash_path NULL or naming the data file: append mode (veritysetup --hash-offset on the
 * data device): the tree is written in place at p->hash_offset of the data file, which
 * must not overlap the data; data_blocks 0 then means hash_offset / data_block_size.
 * Otherwise hash_path is written atomically (whole or not at all) as a new regular file.
 *
 * Memory stays bounded (about 300 KiB per thread) whatever the data size; blocks are
 * hashed by p->threads threads in parallel. p->data_blocks and p->uuid are filled in. */
int lethe_verity_format(const char *data_path, const char *hash_path, struct lethe_verity_params *p,
			uint8_t *root_hash_out, size_t root_hash_len);

/* Check every block of data_path against the tree in hash_path (NULL: the data file,
 * append mode) and root_hash. With a superblock (the usual case), only p->hash_offset
 * and p->threads are read from p and everything else comes from the superblock; with
 * p->no_superblock, p describes the tree entirely. p may be NULL (offset 0, all CPUs).
 *
 * The tree is checked from the root down, so that a corrupt hash block is reported as
 * such rather than as corrupt data. -EBADMSG names the first corrupt block: its number
 * and byte offset in the data file, or its level, number and offset in the hash file. */
int lethe_verity_verify(const char *data_path, const char *hash_path, const uint8_t *root_hash,
			size_t root_hash_len, const struct lethe_verity_params *p);

/* Serialize p (data_blocks must be set) into a 512-byte superblock. */
int lethe_verity_superblock_build(const struct lethe_verity_params *p, uint8_t out[512]);
/* Take a parsed superblock's parameters into p (hash_name points into sb). */
void lethe_verity_params_from_superblock(struct lethe_verity_params *p,
					 const struct lethe_verity_superblock *sb);

/* What a hash file holds, for `lethe verity dump` (veritysetup dump). */
struct lethe_verity_info {
	struct lethe_verity_superblock sb;
	unsigned levels;	   /* tree levels below the root hash */
	uint64_t hash_blocks;	   /* hash blocks of the tree, superblock excluded */
	uint64_t hash_area_offset; /* byte offset of the first hash block */
	uint64_t hash_device_size; /* bytes the hash area needs, from offset 0 */
};

/* The geometry of the tree that p describes (p->data_blocks set); ret->sb is zeroed. */
int lethe_verity_layout(const struct lethe_verity_params *p, struct lethe_verity_info *ret);

/* Read and check the superblock at hash_offset of hash_path and describe the tree. */
int lethe_verity_dump(const char *hash_path, uint64_t hash_offset, struct lethe_verity_info *ret);

/* Level 0 of the sha256 tree in hash_path (superblock at offset 0), as a block index:
 * the digest H(salt || block) of each data block, data_blocks * 32 bytes in *ret_leaves
 * (malloc'd; the caller frees it), and the superblock's parameters in *ret_p (hash_name
 * "sha256"). The tree is not checked here: the caller has checked hash_path whole (its
 * digest in a signed SHA256SUMS). -EOPNOTSUPP for another hash or a one-block tree. */
int lethe_verity_read_leaves(const char *hash_path, struct lethe_verity_params *ret_p,
			     uint8_t **ret_leaves);
/* The level-0 digest of one data block (p->data_block_size bytes) under p's salt. */
int lethe_verity_hash_block(const struct lethe_verity_params *p, const void *block,
			    uint8_t out[32]);

#endif
