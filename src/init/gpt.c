/* The GPT, read just far enough to know each partition's unique GUID: the kernel of
 * Debian 12 does not put PARTUUID in its uevents. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "init.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int init_gpt_header_parse(const void *buf, size_t len, struct init_gpt_header *ret)
{
	const uint8_t *p = buf;
	struct init_gpt_header h;

	if (len < 92 || memcmp(p, "EFI PART", 8))
		return -EINVAL;
	h.entries_lba = (uint64_t)le32(p + 72) | (uint64_t)le32(p + 76) << 32;
	h.n_entries = le32(p + 80);
	h.entry_size = le32(p + 84);
	if (h.entries_lba < 2 || h.entries_lba > (1ull << 40) || h.entry_size < 128 ||
	    h.entry_size > 4096 || h.entry_size % 8)
		return -EINVAL;
	if (h.n_entries > INIT_GPT_MAX_ENTRIES)
		h.n_entries = INIT_GPT_MAX_ENTRIES;
	*ret = h;
	return 0;
}

void init_gpt_entry_uuid(const void *entry, char out[INIT_UUID_STR])
{
	const uint8_t *g = (const uint8_t *)entry + 16;
	static const uint8_t zero[16];

	if (!memcmp(g, zero, 16)) {
		out[0] = '\0';
		return;
	}
	snprintf(out, INIT_UUID_STR,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6], g[8], g[9], g[10], g[11], g[12],
		 g[13], g[14], g[15]);
}
