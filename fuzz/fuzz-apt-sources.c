/* Fuzz target: the apt sources checker of lib/pkg (lib/pkg/sources.c) on arbitrary
 * bytes, as a one-line sources.list and as a deb822 .sources file (both read from
 * files a spec names, or the host's). */
#include <stdint.h>
#include <stdlib.h>

#include <lethe/pkg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lethe_pkg_sources_check("fuzz.list", (const char *)data, size, LETHE_PKG_SOURCES_LIST);
	lethe_pkg_sources_check("fuzz.sources", (const char *)data, size, LETHE_PKG_SOURCES_DEB822);
	lethe_pkg_sources_check(NULL, (const char *)data, size, LETHE_PKG_SOURCES_LIST);
	return 0;
}
