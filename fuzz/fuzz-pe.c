/* Fuzz the PE/COFF header parser of lib/boot (a UKI or stub read back from a file or
 * a medium): whatever it accepts must be self-consistent, and a section's content must
 * lie inside the input; normalizing an accepted image must keep it accepted. The
 * headers-only parse (the start of a file being fetched) accepts whatever the whole
 * parse does, with the same sections, and its own results keep inside its limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/uefi.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lethe_pe pe, again, head;
	struct lethe_buf b = { 0 };
	int hr = lethe_pe_parse_headers(data, size, "fuzz", &head);

	if (hr >= 0)
		for (size_t i = 0; i < head.n_sections; i++)
			if ((head.sections[i].raw_size &&
			     (uint64_t)head.sections[i].raw_offset + head.sections[i].raw_size >
				     LETHE_PE_MAX_SIZE) ||
			    head.size_of_headers > size)
				abort();
	if (lethe_pe_parse(data, size, "fuzz", &pe) < 0)
		return 0;
	if (hr < 0 || head.n_sections != pe.n_sections)
		abort();
	for (size_t i = 0; i < pe.n_sections; i++) {
		const struct lethe_pe_section *h = &head.sections[i], *s = &pe.sections[i];

		if (strcmp(h->name, s->name) || h->vaddr != s->vaddr || h->vsize != s->vsize ||
		    h->raw_offset != s->raw_offset || h->raw_size != s->raw_size)
			abort();
	}
	if (pe.n_sections == 0 || pe.n_sections > LETHE_PE_MAX_SECTIONS ||
	    pe.checksum_offset + 4 > size || pe.timestamp_offset + 4 > size)
		abort();
	for (size_t i = 0; i < pe.n_sections; i++) {
		const struct lethe_pe_section *s = &pe.sections[i];
		uint32_t len = lethe_pe_section_len(s);

		if (len && (uint64_t)s->raw_offset + len > size)
			abort();
		if (lethe_pe_find(&pe, s->name) == NULL)
			abort();
	}
	(void)lethe_pe_checksum(data, size, pe.checksum_offset);
	if (lethe_buf_append(&b, data, size) < 0)
		return 0;
	if (lethe_pe_normalize(&b, "fuzz") < 0 || b.len % 8 ||
	    lethe_pe_parse(b.data, b.len, "fuzz", &again) < 0 || again.n_sections != pe.n_sections)
		abort();
	lethe_buf_release(&b);
	return 0;
}
