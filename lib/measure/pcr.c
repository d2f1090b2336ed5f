/* The PCR values a boot leaves: PCR 11 from the UKI's sections, the way systemd-stub 252
 * measures them, and PCR 4 from the Authenticode digests of what the firmware starts. */
#include <errno.h>
#include <string.h>

#include <lethe/measure.h>
#include <lethe/uefi.h>
#include <lethe/util.h>

/* Do not reorder: systemd's UnifiedSection enum (src/fundamental/uki.h). */
const char *const lethe_measure_uki_sections[7] = {
	".linux", ".osrel", ".cmdline", ".initrd", ".splash", ".dtb", ".pcrpkey",
};

void lethe_measure_extend(uint8_t pcr[32], const uint8_t digest[32])
{
	uint8_t in[64];

	memcpy(in, pcr, 32);
	memcpy(in + 32, digest, 32);
	(void)lethe_sha256(in, sizeof(in), pcr);
}

/* SHA-256 of a section as loaded: its raw data, then zeros up to VirtualSize. */
static int section_digest(const uint8_t *d, const struct lethe_pe_section *s, uint8_t out[32])
{
	static const uint8_t zeros[4096];
	struct lethe_sha256 h;
	uint32_t len = s->vsize ? s->vsize : s->raw_size;
	uint32_t raw = s->raw_size < len ? s->raw_size : len;
	int r = lethe_sha256_init(&h);

	if (r < 0)
		return r;
	lethe_sha256_update(&h, d + s->raw_offset, raw);
	for (uint32_t left = len - raw; left;) {
		uint32_t n = left < sizeof(zeros) ? left : (uint32_t)sizeof(zeros);

		lethe_sha256_update(&h, zeros, n);
		left -= n;
	}
	return lethe_sha256_final(&h, out);
}

int lethe_measure_pcr11(const void *data, size_t len, const char *what, uint8_t ret[32])
{
	struct lethe_pe *pe = malloc(sizeof(*pe));
	uint8_t pcr[32] = { 0 }, dg[32];
	int r;

	if (!pe)
		return -ENOMEM;
	r = lethe_pe_parse(data, len, what, pe);
	if (r >= 0 && !lethe_pe_find(pe, ".linux"))
		r = lethe_error(-LETHE_E_INVALID, "'%s' has no .linux section: not a UKI", what);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(lethe_measure_uki_sections) && r >= 0; i++) {
		const char *name = lethe_measure_uki_sections[i];
		const struct lethe_pe_section *s = lethe_pe_find(pe, name);

		if (!s || !(s->vsize ? s->vsize : s->raw_size))
			continue; /* the stub skips absent and empty sections */
		r = lethe_sha256(name, strlen(name) + 1, dg);
		if (r >= 0) {
			lethe_measure_extend(pcr, dg);
			r = section_digest(data, s, dg);
		}
		if (r >= 0)
			lethe_measure_extend(pcr, dg);
	}
	if (r >= 0)
		memcpy(ret, pcr, 32);
	free(pe);
	return r;
}

void lethe_measure_pcr4(const uint8_t (*apps)[32], size_t n, uint8_t ret[32])
{
	static const char action[] = "Calling EFI Application from Boot Option";
	static const uint8_t separator[4];
	uint8_t pcr[32] = { 0 }, dg[32];

	(void)lethe_sha256(action, sizeof(action) - 1, dg);
	lethe_measure_extend(pcr, dg);
	(void)lethe_sha256(separator, sizeof(separator), dg);
	lethe_measure_extend(pcr, dg);
	for (size_t i = 0; i < n; i++)
		lethe_measure_extend(pcr, apps[i]);
	memcpy(ret, pcr, 32);
}
