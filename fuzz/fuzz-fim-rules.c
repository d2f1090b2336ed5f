/* Fuzz target: lethe fim rules files (lethe_fim_rules_parse), then a few lookups. */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/fim.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_fim_rules *rules;

	if (lethe_fim_rules_parse((const char *)data, size, "fuzz", &rules) < 0)
		return 0;
	(void)lethe_fim_rules_excluded(rules, "/etc/passwd");
	if (!(lethe_fim_rules_attrs(rules, "/usr/bin/ls") & LETHE_FIM_TYPE))
		abort();
	lethe_fim_rules_free(rules);
	return 0;
}
