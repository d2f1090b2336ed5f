/* Fuzz target: the YAML layer and the spec validator on arbitrary bytes. No directory
 * is given, so file sources are not looked up on the host. */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/spec.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_spec *spec = NULL;
	struct lethe_node *root = NULL;

	if (size > LETHE_SPEC_MAX_SIZE)
		return 0;
	if (lethe_yaml_parse("fuzz.yaml", (const char *)data, size, &root) == 0)
		lethe_node_free(root);
	if (lethe_spec_parse("fuzz.yaml", NULL, (const char *)data, size, &spec) == 0)
		lethe_spec_free(spec);
	return 0;
}
