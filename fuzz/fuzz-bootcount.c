/* Fuzz target: what lethe-init and lethe status read from the ESP and the firmware: a
 * UKI file name (lethe_bootcount_parse, with the version order), the loader's EFI
 * variable strings (LoaderEntrySelected's boot menu entry too), and a UKI's os-release
 * values. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/core.h>
#include <lethe/update.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[512], out[512], v[64];
	struct lethe_bootcount c;

	lethe_error_clear();
	if (size < sizeof(name)) {
		memcpy(name, data, size);
		name[size] = '\0';
		if (lethe_bootcount_parse(name, &c) == 0) {
			char again[LETHE_BOOTCOUNT_NAME_MAX];
			struct lethe_bootcount d;

			/* What parses formats, and formats into what parses the same. */
			if (lethe_bootcount_format(&c, again) < 0 ||
			    lethe_bootcount_parse(again, &d) < 0 || strcmp(c.version, d.version) ||
			    c.left != d.left || c.done != d.done || c.counting != d.counting)
				abort();
			if (lethe_version_compare(c.version, c.version) != 0)
				abort();
		}
		size_t half = size / 2;
		char a[256], b[256];

		if (half < sizeof(a)) {
			memcpy(a, name, half);
			a[half] = '\0';
			snprintf(b, sizeof(b), "%s", name + half);
			int x = lethe_version_compare(a, b), y = lethe_version_compare(b, a);

			if ((x < 0 && y <= 0) || (x > 0 && y >= 0) || (x == 0 && y != 0))
				abort();
		}
	}
	(void)lethe_efivar_string(data, size, out, sizeof(out));
	unsigned entry = 0;

	/* LoaderEntrySelected: what lethe-init's boot menu acts on (issue 11.3) */
	if (lethe_boot_entry_selected(data, size, &entry) == 0 &&
	    entry > LETHE_BOOT_ENTRY_PERSISTENCE)
		abort();
	(void)lethe_osrel_value((const char *)data, size, "IMAGE_VERSION", v, sizeof(v));
	return 0;
}
