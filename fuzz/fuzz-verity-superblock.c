/* Fuzz the dm-verity superblock parser of lib/core (lethe-init reads the superblock
 * from a disk that may come from anyone), the tree geometry and the dm-verity table of
 * whatever it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/util.h>
#include <lethe/verity.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_verity_superblock sb;
	struct lethe_verity_params p;
	struct lethe_verity_info info;
	uint8_t out[LETHE_VERITY_SUPERBLOCK_SIZE];

	if (lethe_verity_superblock_parse(data, size, &sb) < 0)
		return 0;
	/* Whatever parses must give a sane geometry and serialize back to the same bytes. */
	lethe_verity_params_init(&p);
	lethe_verity_params_from_superblock(&p, &sb);
	if (lethe_verity_layout(&p, &info) < 0)
		abort();
	if (info.hash_device_size < info.hash_blocks || info.levels > 63)
		abort();
	if (lethe_verity_superblock_build(&p, out) < 0 || memcmp(out, data, sizeof(out)))
		abort();
	/* The table lethe-init loads: it fits its buffer for a SHA-256 root hash. */
	if (!strcmp(sb.algorithm, "sha256")) {
		char table[1024];
		int n = lethe_verity_table(&sb, "254:1", "254:2",
					   "0123456789abcdef0123456789abcdef"
					   "0123456789abcdef0123456789abcdef",
					   table, sizeof(table));

		if (n <= 0 || (size_t)n != strlen(table) || lethe_verity_data_sectors(&sb) == 0)
			abort();
	}
	return 0;
}
