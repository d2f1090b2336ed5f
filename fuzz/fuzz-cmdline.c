/* Fuzz target: the kernel command line as lethe-init parses it as PID 1
 * (lethe_cmdline_parse() of lib/core), so a crash there would stop every boot; and the
 * one root-hash reader, which must agree with it. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char hex[LETHE_ROOTHASH_HEX + 1];
	struct lethe_cmdline c;
	int r, rh;

	lethe_error_clear();
	r = lethe_cmdline_parse(text, size, &c);
	if (r == 0) {
		/* What was parsed must hold its invariants. */
		size_t n = strlen(c.roothash);

		if ((n != 0 && n != LETHE_ROOTHASH_HEX) || c.timeout < 1 ||
		    c.timeout > LETHE_CMDLINE_TIMEOUT_MAX)
			abort();
		for (size_t i = 0; i < n; i++)
			if (!strchr("0123456789abcdef", c.roothash[i]))
				abort();
		/* The reader the audit and release verification use sees the same hash. */
		rh = lethe_cmdline_roothash(text, size, hex);
		if (n ? rh != 0 || strcmp(hex, c.roothash) : rh != -ENOENT)
			abort();
	} else if (r != -EBADMSG || !lethe_error_message() || !lethe_error_message()[0]) {
		abort();
	}
	return 0;
}
