/* What the two halves of lib/verity share: the geometry of a tree in the hash file. */
#ifndef LETHE_VERITY_INTERNAL_H
#define LETHE_VERITY_INTERNAL_H

#include <lethe/verity.h>

/* cryptsetup's VERITY_MAX_LEVELS; 512-byte hash blocks of SHA-512 (8 digests, 3 bits
 * per level) need at most 21 levels for 2^63 blocks. */
#define VERITY_MAX_LEVELS 63

struct verity_layout {
	size_t digest_size;
	unsigned hash_per_block_bits;		 /* log2 of the digests in one hash block */
	unsigned levels;			 /* 0 when there is a single data block */
	uint64_t level_block[VERITY_MAX_LEVELS]; /* first hash block of each level, in
						  * hash_block_size units from offset 0 */
	uint64_t level_size[VERITY_MAX_LEVELS];	 /* hash blocks in each level */
	uint64_t hash_area_block;		 /* first block after the superblock */
	uint64_t hash_blocks;			 /* blocks of every level together */
	uint64_t end;				 /* bytes of the hash file the tree needs */
};

/* Check p's values (hash, block sizes, salt size, offset alignment, data_blocks >= 1)
 * and compute where each level lies; -EBADMSG with a message naming what is wrong,
 * `what` naming the source of the values (a file, or "parameters"). */
int verity_layout_compute(const struct lethe_verity_params *p, const char *what,
			  struct verity_layout *ret);

/* Prefix the current error message with "'path' at offset N: "; returns r. */
int verity_error_prefix(int r, const char *path, uint64_t offset);

#endif
