/* Fuzz the EFI signature list reader of lib/secureboot (db as efivarfs gives it to the
 * audit): whatever it accepts yields at most LETHE_SB_ESL_MAX_ENTRIES entries. */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/secureboot.h>
#include <lethe/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_strv subj = { 0 };
	size_t n_sha = 0;

	if (lethe_sb_esl_parse(data, size, "fuzz", &subj, &n_sha) >= 0 &&
	    subj.n + n_sha > LETHE_SB_ESL_MAX_ENTRIES)
		abort();
	lethe_strv_release(&subj);
	return 0;
}
