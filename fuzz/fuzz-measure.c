/* Fuzz lib/measure's parsers of untrusted bytes: pcr.json (a release file the audit and
 * verify read) and the Authenticode digest and PCR 11 of a PE image (a UKI on a medium).
 * Whatever pcr.json parses must format and parse back to the same values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/measure.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_measure_pcrs p, q;
	uint8_t d[32];
	char *json = NULL;

	if (lethe_measure_json_parse((const char *)data, size, "fuzz", &p) >= 0) {
		if (lethe_measure_json_format(&p, &json) < 0)
			return 0;
		if (lethe_measure_json_parse(json, strlen(json), "fuzz", &q) < 0 ||
		    memcmp(&p, &q, sizeof(p)))
			abort();
		free(json);
	}
	(void)lethe_measure_authenticode(data, size, "fuzz", d);
	(void)lethe_measure_pcr11(data, size, "fuzz", d);
	return 0;
}
