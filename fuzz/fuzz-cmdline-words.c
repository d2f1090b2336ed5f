/* Fuzz lib/core's cmdline word splitter and the one root-hash reader, which the audit
 * and release verification run on a cmdline from a disk or a release directory. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/contract.h>
#include <lethe/core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	char word[64], hex[LETHE_ROOTHASH_HEX + 1];
	size_t pos = 0, last = 0;
	bool truncated;
	unsigned words = 0;
	int r;

	/* A small buffer, so that truncation is fuzzed too. */
	while (lethe_cmdline_next_word(text, size, &pos, word, sizeof(word), &truncated)) {
		if (pos <= last || pos > size || strlen(word) >= sizeof(word))
			abort();
		last = pos;
		if (++words > size)
			abort();
		(void)lethe_cmdline_word_is(word, LETHE_CMDLINE_ROOTHASH);
	}
	lethe_error_clear();
	r = lethe_cmdline_roothash(text, size, hex);
	if (r == 0) {
		if (strlen(hex) != LETHE_ROOTHASH_HEX)
			abort();
		for (size_t i = 0; i < LETHE_ROOTHASH_HEX; i++)
			if (!strchr("0123456789abcdef", hex[i]))
				abort();
	} else if (r != -ENOENT && (r != -EBADMSG || !lethe_error_message())) {
		abort();
	}
	return 0;
}
