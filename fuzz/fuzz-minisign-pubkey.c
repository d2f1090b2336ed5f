/* Fuzz target: minisign public key files and inline base64 public keys. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/sign.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_sign_pubkey pub;
	char *s;

	lethe_sign_pubkey_parse((const char *)data, size, "fuzz", &pub);
	/* The same bytes as a -P argument: a C string. */
	s = strndup((const char *)data, size);
	if (s) {
		lethe_sign_pubkey_from_base64(s, &pub);
		free(s);
	}
	return 0;
}
