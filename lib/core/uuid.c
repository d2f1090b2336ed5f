/* UUID text, and the partition UUIDs a root hash gives: the one formatter of Lethe. */
#include <errno.h>
#include <string.h>

#include <lethe/core.h>

void lethe_uuid_format(const uint8_t id[16], char ret[LETHE_UUID_STR])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			ret[o++] = '-';
		ret[o++] = hex[id[i] >> 4];
		ret[o++] = hex[id[i] & 0xf];
	}
	ret[o] = '\0';
}

int lethe_partuuids_from_roothash(const uint8_t *roothash, size_t len,
				  char ret_data[LETHE_UUID_STR], char ret_verity[LETHE_UUID_STR])
{
	static const uint8_t zero[16];

	if (len < 16)
		return lethe_error(-EINVAL,
				   "root hash of %zu bytes is too short for partition UUIDs", len);
	/* systemd-dissect refuses a null UUID; a root hash with 16 zero bytes is not real. */
	if (!memcmp(roothash, zero, 16) || !memcmp(roothash + len - 16, zero, 16))
		return lethe_error(-EINVAL, "root hash gives a null partition UUID");
	/* systemd-repart: a memcpy of the first and the last 16 bytes, no version bits. */
	lethe_uuid_format(roothash, ret_data);
	lethe_uuid_format(roothash + len - 16, ret_verity);
	return 0;
}
