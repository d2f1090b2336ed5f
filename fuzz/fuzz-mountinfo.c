/* Fuzz the /proc/self/mountinfo parser of lib/core: lethe audit reads it under --root
 * from a tree that may come from anywhere, lethe-init at shutdown. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_mounts m;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lethe_mountinfo_parse("fuzz", text, &m) == 0) {
		for (size_t i = 0; i < m.n; i++)
			lethe_mount_has_option(m.v[i].options, "ro");
		lethe_mounts_release(&m);
	}
	free(text);
	return 0;
}
