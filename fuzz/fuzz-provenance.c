/* Fuzz target: provenance.intoto.json (lethe_provenance_parse). Every subject accepted
 * has a name without '/' and names are unique. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/provenance.h>
#include <lethe/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_provenance *p = NULL;

	if (lethe_provenance_parse((const char *)data, size, "fuzz", &p) < 0)
		return 0;
	for (size_t i = 0; i < p->n_subjects; i++) {
		if (!*p->subjects[i].name || strchr(p->subjects[i].name, '/'))
			abort();
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->subjects[i].name, p->subjects[j].name))
				abort();
	}
	lethe_provenance_free(p);
	return 0;
}
