/* Fuzz target: minisign signature files (lethe_sign_signature_parse). */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/sign.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_sign_signature *sig = malloc(sizeof(*sig));

	if (!sig)
		return 0;
	if (lethe_sign_signature_parse((const char *)data, size, "fuzz", sig) == 0 &&
	    strlen(sig->trusted_comment) > LETHE_SIGN_TRUSTED_COMMENT_MAX)
		abort();
	free(sig);
	return 0;
}
