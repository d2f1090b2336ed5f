/* Fuzz the GPT reader of lib/core as lethe-init runs it: on every disk it scans, from a
 * file descriptor, with the disk's sector size. The input is the start of a disk. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <lethe/core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned sectors[] = { 512, 4096 };
	int fd = memfd_create("fuzz-gpt", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	for (size_t s = 0; s < sizeof(sectors) / sizeof(sectors[0]); s++) {
		struct lethe_gpt gpt;

		if (lethe_gpt_read(fd, sectors[s], &gpt) < 0)
			continue;
		if (gpt.header.n_entries > LETHE_GPT_MAX_ENTRIES || gpt.header.entry_size < 128)
			abort();
		for (uint32_t i = 0; i <= gpt.header.n_entries; i++) {
			char uuid[LETHE_UUID_STR];

			uint64_t first, last;

			lethe_gpt_uuid(&gpt, i, uuid);
			if (uuid[0] && strlen(uuid) != LETHE_UUID_STR - 1)
				abort();
			/* the LBAs a CD-ROM's partition is mapped by (src/init/media.c) */
			if (lethe_gpt_lbas(&gpt, i, &first, &last) == 0 &&
			    (first == 0 || last < first || last >= (1ull << 48)))
				abort();
		}
		lethe_gpt_release(&gpt);
	}
	/* The header parser alone, on the sector at LBA 1 or whatever there is. */
	if (size >= 512) {
		struct lethe_gpt_header h;

		(void)lethe_gpt_header_parse(data + 512, size - 512, &h);
	}
	close(fd);
	return 0;
}
