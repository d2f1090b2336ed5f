/* Fuzz target: the text parsers of lib/pkg on arbitrary bytes: lethe.lock, a control
 * paragraph and a DEP-5 copyright file (all read from untrusted files). */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/pkg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_pkgset *set = NULL;
	struct lethe_pkg_control c;
	struct lethe_strv licenses = { 0 };
	struct lethe_buf again = { 0 };

	if (lethe_lock_parse("fuzz.lock", (const char *)data, size, &set) == 0) {
		/* What parses must format and parse again to the same set. */
		if (lethe_lock_format(set, &again) < 0)
			abort();
		lethe_pkgset_free(set);
		set = NULL;
		if (lethe_lock_parse("again", again.data, again.len, &set) < 0)
			abort();
		lethe_pkgset_free(set);
		lethe_buf_release(&again);
	}
	if (lethe_pkg_control_parse("fuzz", (const char *)data, size, &c) == 0)
		lethe_pkg_control_release(&c);
	lethe_pkg_parse_copyright((const char *)data, size, &licenses);
	lethe_strv_release(&licenses);
	return 0;
}
