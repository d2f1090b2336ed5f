/* The Authenticode digest of a PE32+ image (Microsoft's "Windows Authenticode Portable
 * Executable Signature Format"): what a db entry or a signature vouches for, and what the
 * firmware measures into PCR 4. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/measure.h>
#include <lethe/uefi.h>
#include <lethe/util.h>

#define OPT_FROM_CHECKSUM 64  /* the optional header starts 64 bytes before CheckSum */
#define OPT_NUM_DIRS	  108 /* NumberOfRvaAndSizes (PE32+) */
#define OPT_DIRS	  112
#define DIR_CERTIFICATE	  4

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int cmp_raw(const void *a, const void *b)
{
	const struct lethe_pe_section *x = *(const struct lethe_pe_section *const *)a;
	const struct lethe_pe_section *y = *(const struct lethe_pe_section *const *)b;

	return x->raw_offset < y->raw_offset ? -1 : x->raw_offset > y->raw_offset;
}

/* The certificate table (a file offset, not an RVA) and where its directory entry is. */
static int cert_table(const uint8_t *d, size_t len, const char *what, const struct lethe_pe *pe,
		      size_t *ret_entry, uint64_t *ret_off, uint64_t *ret_size)
{
	size_t opt = pe->checksum_offset - OPT_FROM_CHECKSUM;
	size_t entry = opt + OPT_DIRS + DIR_CERTIFICATE * 8;

	if (le32(d + opt + OPT_NUM_DIRS) <= DIR_CERTIFICATE || entry + 8 > pe->size_of_headers)
		return lethe_error(-LETHE_E_INVALID, "'%s' offset %zu: no certificate table entry",
				   what, opt + OPT_NUM_DIRS);
	*ret_entry = entry;
	*ret_off = le32(d + entry);
	*ret_size = le32(d + entry + 4);
	if (*ret_size && (*ret_off < pe->size_of_headers || *ret_off + *ret_size > len))
		return lethe_error(-LETHE_E_INVALID,
				   "'%s' offset %zu: the certificate table lies outside the file",
				   what, entry);
	if (!*ret_size)
		*ret_off = len;
	return 0;
}

int lethe_measure_authenticode(const void *data, size_t len, const char *what, uint8_t ret[32])
{
	const uint8_t *d = data;
	struct lethe_pe *pe = malloc(sizeof(*pe));
	const struct lethe_pe_section *order[LETHE_PE_MAX_SECTIONS];
	uint64_t cert_off = 0, cert_size = 0;
	struct lethe_sha256 h = { 0 };
	size_t entry = 0, n = 0;
	int r;

	if (!pe)
		return -ENOMEM;
	r = lethe_pe_parse(data, len, what, pe);
	if (r >= 0)
		r = cert_table(d, len, what, pe, &entry, &cert_off, &cert_size);
	if (r >= 0)
		r = lethe_sha256_init(&h);
	if (r < 0)
		goto out;
	lethe_sha256_update(&h, d, pe->checksum_offset);
	lethe_sha256_update(&h, d + pe->checksum_offset + 4, entry - pe->checksum_offset - 4);
	lethe_sha256_update(&h, d + entry + 8, pe->size_of_headers - entry - 8);
	for (size_t i = 0; i < pe->n_sections; i++)
		if (pe->sections[i].raw_size)
			order[n++] = &pe->sections[i];
	qsort(order, n, sizeof(order[0]), cmp_raw);
	for (size_t i = 0; i < n; i++) {
		if (order[i]->raw_offset + (uint64_t)order[i]->raw_size > cert_off) {
			r = lethe_error(-LETHE_E_INVALID,
					"'%s': section %s overlaps the certificate table", what,
					order[i]->name);
			goto out;
		}
		lethe_sha256_update(&h, d + order[i]->raw_offset, order[i]->raw_size);
	}
	/* What follows the sections, up to the certificate table (or the end). */
	if (n) {
		uint64_t end = order[n - 1]->raw_offset + (uint64_t)order[n - 1]->raw_size;

		if (end < cert_off)
			lethe_sha256_update(&h, d + end, cert_off - end);
	}
	r = lethe_sha256_final(&h, ret);
out:
	lethe_sha256_release(&h);
	free(pe);
	return r;
}
