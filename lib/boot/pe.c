/* The PE/COFF headers of a UEFI image: just enough to place new sections after the
 * stub's last one, read a section back, and make objcopy's output reproducible
 * (TimeDateStamp, padding, CheckSum). Every field is read with its bounds checked. */
#include <errno.h>

#include <lethe/uefi.h>

#define DOS_LFANEW	   0x3c
#define COFF_SIZE	   20
#define OPT_MAGIC_PE32PLUS 0x20b
#define OPT_MIN_SIZE	   112 /* PE32+ up to NumberOfRvaAndSizes */
#define SECTION_SIZE	   40

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static bool pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static int bad(const char *what, size_t off, const char *why)
{
	return lethe_error(-LETHE_E_INVALID, "'%s' offset %zu: %s", what, off, why);
}

static int parse_sections(const uint8_t *d, uint64_t file_len, const char *what, size_t table,
			  struct lethe_pe *pe)
{
	uint64_t prev_end = 0;

	for (size_t i = 0; i < pe->n_sections; i++) {
		const uint8_t *h = d + table + i * SECTION_SIZE;
		struct lethe_pe_section *s = &pe->sections[i];
		size_t off = table + i * SECTION_SIZE;
		uint64_t end;

		memcpy(s->name, h, 8);
		s->name[8] = '\0';
		s->vsize = le32(h + 8);
		s->vaddr = le32(h + 12);
		s->raw_size = le32(h + 16);
		s->raw_offset = le32(h + 20);
		if (s->raw_size && ((uint64_t)s->raw_offset + s->raw_size > file_len))
			return bad(what, off, "section data lies beyond the end of the file");
		if (s->raw_size && s->raw_offset < pe->size_of_headers)
			return bad(what, off, "section data overlaps the headers");
		end = (uint64_t)s->vaddr + (s->vsize ? s->vsize : s->raw_size);
		if (end > UINT32_MAX)
			return bad(what, off, "section ends beyond 4 GiB");
		if (s->vaddr < prev_end)
			return bad(what, off, "sections overlap or are not in address order");
		prev_end = end;
		if (end > pe->image_end)
			pe->image_end = end;
	}
	return 0;
}

/* The headers are in data (len bytes); the sections' data must lie within file_len. */
static int parse(const void *data, size_t len, uint64_t file_len, const char *what,
		 struct lethe_pe *ret)
{
	const uint8_t *d = data;
	struct lethe_pe pe = { 0 };
	size_t opt, table;
	uint16_t opt_size;

	if (len > LETHE_PE_MAX_SIZE)
		return bad(what, 0, "larger than 1 GiB");
	if (len < 64 || d[0] != 'M' || d[1] != 'Z')
		return bad(what, 0, "no MZ header");
	pe.pe_offset = le32(d + DOS_LFANEW);
	if ((uint64_t)pe.pe_offset + 4 + COFF_SIZE > len || pe.pe_offset < 64)
		return bad(what, DOS_LFANEW, "e_lfanew points outside the file");
	if (memcmp(d + pe.pe_offset, "PE\0\0", 4))
		return bad(what, pe.pe_offset, "no PE signature");
	pe.machine = le16(d + pe.pe_offset + 4);
	pe.n_sections = le16(d + pe.pe_offset + 6);
	pe.timestamp_offset = pe.pe_offset + 8;
	opt_size = le16(d + pe.pe_offset + 20);
	opt = (size_t)pe.pe_offset + 4 + COFF_SIZE;
	if (opt_size < OPT_MIN_SIZE || opt + opt_size > len)
		return bad(what, pe.pe_offset + 20, "optional header too short or beyond the file");
	if (le16(d + opt) != OPT_MAGIC_PE32PLUS)
		return bad(what, opt, "not a PE32+ optional header");
	pe.section_alignment = le32(d + opt + 32);
	pe.file_alignment = le32(d + opt + 36);
	pe.size_of_image = le32(d + opt + 56);
	pe.size_of_headers = le32(d + opt + 60);
	pe.checksum_offset = (uint32_t)(opt + 64);
	if (!pow2(pe.section_alignment) || !pow2(pe.file_alignment))
		return bad(what, opt + 32, "alignment is not a power of two");
	if (pe.n_sections == 0 || pe.n_sections > LETHE_PE_MAX_SECTIONS)
		return bad(what, pe.pe_offset + 6, "section count out of range");
	table = opt + opt_size;
	if (table + pe.n_sections * SECTION_SIZE > len ||
	    table + pe.n_sections * SECTION_SIZE > pe.size_of_headers)
		return bad(what, table, "section table beyond the headers");
	if (pe.size_of_headers > len)
		return bad(what, opt + 60, "SizeOfHeaders beyond the file");
	int r = parse_sections(d, file_len, what, table, &pe);

	if (r < 0)
		return r;
	*ret = pe;
	return 0;
}

int lethe_pe_parse(const void *data, size_t len, const char *what, struct lethe_pe *ret)
{
	return parse(data, len, len, what, ret);
}

int lethe_pe_parse_headers(const void *data, size_t len, const char *what, struct lethe_pe *ret)
{
	return parse(data, len, LETHE_PE_MAX_SIZE, what, ret);
}

const struct lethe_pe_section *lethe_pe_find(const struct lethe_pe *pe, const char *name)
{
	for (size_t i = 0; i < pe->n_sections; i++)
		if (!strcmp(pe->sections[i].name, name))
			return &pe->sections[i];
	return NULL;
}

uint32_t lethe_pe_checksum(const void *data, size_t len, size_t checksum_offset)
{
	const uint8_t *d = data;
	uint64_t sum = 0;

	for (size_t i = 0; i < len; i += 2) {
		uint32_t w = d[i] | (i + 1 < len ? d[i + 1] << 8 : 0);

		/* the CheckSum field itself counts as zero */
		if (i >= checksum_offset && i < checksum_offset + 4)
			w = 0;
		sum += w;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint32_t)(sum + len);
}

int lethe_pe_normalize(struct lethe_buf *buf, const char *what)
{
	static const uint8_t zeros[8];
	struct lethe_pe *pe = malloc(sizeof(*pe));
	int r;

	if (!pe)
		return -ENOMEM;
	r = lethe_pe_parse(buf->data, buf->len, what, pe);
	if (r >= 0 && buf->len % 8)
		r = lethe_buf_append(buf, zeros, 8 - buf->len % 8);
	if (r >= 0) {
		uint8_t *d = (uint8_t *)buf->data;

		put32(d + pe->timestamp_offset, 0);
		put32(d + pe->checksum_offset, 0);
		put32(d + pe->checksum_offset, lethe_pe_checksum(d, buf->len, pe->checksum_offset));
	}
	free(pe);
	return r;
}
