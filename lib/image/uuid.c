/* Content-derived UUIDs: reproducible builds may not draw random ones. */
#include <string.h>

#include <lethe/core.h>
#include <lethe/image.h>

void lethe_image_uuid(const uint8_t digest[32], char out[37])
{
	uint8_t u[16];

	memcpy(u, digest, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x80); /* version 8 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* variant RFC 9562 */
	lethe_uuid_format(u, out);
}
