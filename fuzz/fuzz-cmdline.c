/* Fuzz target: lethe-init's kernel command line parser (src/init/cmdline.c), which reads
 * /proc/cmdline as PID 1, so a crash there would stop every boot. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../src/init/cmdline.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct init_cmdline c;
	char err[128];

	if (init_cmdline_parse((const char *)data, size, &c, err, sizeof(err)) == 0) {
		/* What was parsed must hold its invariants. */
		size_t n = strlen(c.roothash);

		if ((n != 0 && n != INIT_ROOTHASH_HEX) || c.timeout < 1 || c.timeout > INIT_TIMEOUT_MAX)
			__builtin_trap();
	} else if (memchr(err, '\0', sizeof(err)) == NULL || !err[0]) {
		__builtin_trap();
	}
	return 0;
}
