/* Fuzz target: SHA256SUMS files (lethe_sums_parse). Every name accepted must be safe. */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/sums.h>
#include <lethe/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_sums s;

	if (lethe_sums_parse((const char *)data, size, "fuzz", &s) < 0)
		return 0;
	for (size_t i = 0; i < s.n; i++)
		if (!lethe_path_is_safe_relative(s.v[i].name))
			abort();
	lethe_sums_release(&s);
	return 0;
}
