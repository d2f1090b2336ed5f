/* Fuzz target: `nft -j list ruleset` JSON -> the base chains lib/firewall reads for
 * `lethe firewall check` and the audit -> the foreign-hook differences; and the
 * counters `lethe firewall stats` reads from the same listing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/firewall.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_firewall_hooks h = { 0 };
	struct lethe_firewall_drift d = { 0 };
	struct lethe_firewall_counters cs = { 0 };
	char *text;

	if (size > (1u << 20))
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (lethe_firewall_hooks_parse(text, &h) == 0) {
		size_t lethe = 0;

		for (size_t i = 0; i < h.n; i++)
			lethe += lethe_firewall_hook_is_lethe(&h.v[i]);
		if (lethe_firewall_foreign_hooks(&h, &d) == 0 && d.n != h.n - lethe)
			abort();
	}
	if (lethe_firewall_counters_parse(text, &cs) == 0) {
		for (size_t i = 0; i < cs.n; i++)
			if (!cs.v[i].chain || !cs.v[i].name)
				abort();
		(void)lethe_firewall_counters_dropped(&cs);
	}
	lethe_firewall_counters_release(&cs);
	lethe_firewall_drift_release(&d);
	lethe_firewall_hooks_release(&h);
	lethe_error_clear();
	free(text);
	return 0;
}
