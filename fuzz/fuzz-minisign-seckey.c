/* Fuzz target: minisign secret key files. Without a password, so that an encrypted
 * key stops before scrypt (whose cost the file chooses, within caps); unencrypted keys
 * go through the checksum and key checks. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <lethe/sign.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_sign_seckey *key = NULL;
	struct lethe_sign_pubkey pub;

	if (lethe_sign_seckey_parse((const char *)data, size, "fuzz", NULL, &key) == 0) {
		lethe_sign_seckey_pubkey(key, &pub);
		lethe_sign_seckey_free(key);
	}
	return 0;
}
