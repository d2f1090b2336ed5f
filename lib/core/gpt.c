/* The GPT, read just far enough to know each partition's unique GUID: the kernel of
 * Debian 12 does not put PARTUUID in its uevents, so lethe-init reads the disks it
 * scans for the partitions of its root hash. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lethe/core.h>

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int lethe_gpt_header_parse(const void *buf, size_t len, struct lethe_gpt_header *ret)
{
	const uint8_t *p = buf;
	struct lethe_gpt_header h;

	if (len < LETHE_GPT_HEADER_SIZE || memcmp(p, "EFI PART", 8))
		return lethe_error(-EBADMSG, "GPT header: no 'EFI PART' signature at offset 0");
	h.entries_lba = (uint64_t)le32(p + 72) | (uint64_t)le32(p + 76) << 32;
	h.n_entries = le32(p + 80);
	h.entry_size = le32(p + 84);
	if (h.entries_lba < 2 || h.entries_lba > (1ull << 40))
		return lethe_error(-EBADMSG, "GPT header offset 72: entries at LBA %llu",
				   (unsigned long long)h.entries_lba);
	if (h.entry_size < 128 || h.entry_size > 4096 || h.entry_size % 8)
		return lethe_error(-EBADMSG,
				   "GPT header offset 84: entry size %u is not a "
				   "multiple of 8 from 128 to 4096",
				   h.entry_size);
	if (h.n_entries > LETHE_GPT_MAX_ENTRIES)
		h.n_entries = LETHE_GPT_MAX_ENTRIES;
	*ret = h;
	return 0;
}

void lethe_gpt_entry_uuid(const void *entry, char ret[LETHE_UUID_STR])
{
	const uint8_t *g = (const uint8_t *)entry + 16;
	static const uint8_t zero[16];
	/* Mixed endian: the first three groups are stored little endian. */
	const uint8_t id[16] = { g[3], g[2], g[1],  g[0],  g[5],  g[4],	 g[7],	g[6],
				 g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15] };

	if (!memcmp(g, zero, 16)) {
		ret[0] = '\0';
		return;
	}
	lethe_uuid_format(id, ret);
}

int lethe_gpt_read(int fd, unsigned sector, struct lethe_gpt *ret)
{
	uint8_t hdr[4096];
	struct lethe_gpt_header h;
	uint8_t *entries;
	size_t total;
	ssize_t n;
	int r;

	if (sector < 512 || sector > sizeof(hdr) || (sector & (sector - 1)))
		return lethe_error(-EINVAL, "GPT: sector size %u", sector);
	n = pread(fd, hdr, sector, sector);
	if (n < 0)
		return lethe_error(-errno, "GPT: cannot read LBA 1: %s", strerror(errno));
	if (n != (ssize_t)sector)
		return lethe_error(-EBADMSG, "GPT: the disk ends before LBA 1");
	r = lethe_gpt_header_parse(hdr, sector, &h);
	if (r < 0)
		return r;
	/* n_entries <= 256 and entry_size <= 4096: at most 1 MiB, no overflow. */
	total = (size_t)h.n_entries * h.entry_size;
	entries = malloc(total ? total : 1);
	if (!entries)
		return -ENOMEM;
	n = pread(fd, entries, total, (off_t)(h.entries_lba * sector));
	if (n != (ssize_t)total) {
		r = n < 0 ? lethe_error(-errno, "GPT: cannot read the entries: %s", strerror(errno))
			  : lethe_error(-EBADMSG,
					"GPT: the disk ends inside the entries at LBA %llu",
					(unsigned long long)h.entries_lba);
		free(entries);
		return r;
	}
	*ret = (struct lethe_gpt){ .header = h, .entries = entries };
	return 0;
}

void lethe_gpt_uuid(const struct lethe_gpt *gpt, uint32_t i, char ret[LETHE_UUID_STR])
{
	if (i >= gpt->header.n_entries) {
		ret[0] = '\0';
		return;
	}
	lethe_gpt_entry_uuid(gpt->entries + (size_t)i * gpt->header.entry_size, ret);
}

int lethe_gpt_lbas(const struct lethe_gpt *gpt, uint32_t i, uint64_t *ret_first, uint64_t *ret_last)
{
	const uint8_t *e;
	uint64_t first = 0, last = 0;

	if (i >= gpt->header.n_entries)
		return -ENOENT;
	e = gpt->entries + (size_t)i * gpt->header.entry_size;
	for (int b = 7; b >= 0; b--) {
		first = first << 8 | e[32 + b];
		last = last << 8 | e[40 + b];
	}
	if (first == 0 || last < first || last >= (1ull << 48))
		return -EBADMSG;
	*ret_first = first;
	*ret_last = last;
	return 0;
}

void lethe_gpt_release(struct lethe_gpt *gpt)
{
	if (!gpt)
		return;
	free(gpt->entries);
	*gpt = (struct lethe_gpt){ 0 };
}
