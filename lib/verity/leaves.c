/* Level 0 of a dm-verity tree read back as a block index: one digest per data block,
 * H(salt || block), which is what a delta update compares a local image with to know
 * which blocks of a new image it already has (RAUC's block-hash-index holds the same:
 * a SHA-256 per 4 KiB block). The tree is in the release and signed, so the index
 * costs nothing more to publish (issue 18, delta updates). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lethe/util.h>
#include <lethe/verity.h>

#include "verity-internal.h"

#define LEAVES_MAX_BLOCKS (1ull << 26) /* 256 GiB of 4 KiB blocks */

int lethe_verity_read_leaves(const char *hash_path, struct lethe_verity_params *ret_p,
			     uint8_t **ret_leaves)
{
	struct lethe_verity_info info;
	struct lethe_verity_params p;
	struct verity_layout l;
	uint8_t *leaves = NULL;
	size_t len;
	ssize_t n;
	int r, fd;

	r = lethe_verity_dump(hash_path, 0, &info);
	if (r < 0)
		return r;
	lethe_verity_params_init(&p);
	lethe_verity_params_from_superblock(&p, &info.sb);
	if (strcmp(info.sb.algorithm, "sha256"))
		return lethe_error(-EOPNOTSUPP, "'%s': a tree of %s, not sha256", hash_path,
				   info.sb.algorithm);
	p.hash_name = "sha256";
	r = verity_layout_compute(&p, hash_path, &l);
	if (r < 0)
		return r;
	if (l.levels == 0 || p.data_blocks > LEAVES_MAX_BLOCKS ||
	    (p.hash_block_size / l.digest_size) != (1u << l.hash_per_block_bits))
		return lethe_error(-EOPNOTSUPP, "'%s': no level of block hashes to read",
				   hash_path);
	len = (size_t)p.data_blocks * l.digest_size;
	leaves = malloc(len);
	if (!leaves)
		return -ENOMEM;
	fd = lethe_open_input(AT_FDCWD, hash_path, O_RDONLY, false, NULL);
	if (fd < 0) {
		free(leaves);
		return fd;
	}
	/* The digests of level 0 follow each other: its hash blocks hold a power of two. */
	n = lethe_pread_full(fd, leaves, len, (off_t)(l.level_block[0] * p.hash_block_size));
	close(fd);
	if (n < 0 || (size_t)n != len) {
		free(leaves);
		return lethe_error(n < 0 ? (int)n : -LETHE_E_INVALID,
				   "'%s': level 0 of the tree is cut short", hash_path);
	}
	*ret_p = p;
	*ret_leaves = leaves;
	return 0;
}

int lethe_verity_hash_block(const struct lethe_verity_params *p, const void *block, uint8_t out[32])
{
	struct lethe_sha256 h;
	int r = lethe_sha256_init(&h);

	if (r < 0)
		return r;
	lethe_sha256_update(&h, p->salt, p->salt_size);
	lethe_sha256_update(&h, block, p->data_block_size);
	r = lethe_sha256_final(&h, out);
	lethe_sha256_release(&h);
	return r;
}
