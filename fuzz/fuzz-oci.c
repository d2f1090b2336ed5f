/* Fuzz target: what a registry sends back, a release manifest
 * (lethe_oci_manifest_parse), and references (lethe_oci_ref_parse). Every layer accepted
 * is titled with a release file name, and titles are unique. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/oci.h>
#include <lethe/release.h>
#include <lethe/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lethe_oci_layer layers[LETHE_OCI_MAX_LAYERS];
	struct lethe_oci_ref ref;
	char s[LETHE_OCI_REF_MAX + 2];
	size_t n = 0;

	if (lethe_oci_manifest_parse((const char *)data, size, "fuzz", layers, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			enum lethe_release_artifact a;

			if (n > LETHE_OCI_MAX_LAYERS ||
			    lethe_release_artifact_from_name(layers[i].name, &a) < 0)
				abort();
			for (size_t j = 0; j < i; j++)
				if (!strcmp(layers[i].name, layers[j].name))
					abort();
		}
	}
	if (size < sizeof(s)) {
		memcpy(s, data, size);
		s[size] = '\0';
		if (lethe_oci_ref_parse(s, &ref) == 0 &&
		    (!ref.registry[0] || !ref.repo[0] || (!ref.tag[0] == !ref.digest[0])))
			abort();
	}
	return 0;
}
