/* Fuzz target: the reader of `apt-cache policy` output (lib/pkg/policy.c, for lethe lock
 * --outdated), on arbitrary bytes against a small lock. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/pkg.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char lock[] = "lethe-lock 1\n"
			   "busybox-static 1:1.35.0-4 amd64 "
			   "3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744"
			   " 928188 root busybox-static_1%3a1.35.0-4_amd64.deb\n"
			   "libc6 2.36-9+deb12u14 amd64 "
			   "ba4f88f73dbc3ae9055f3c20f4523bfdbaf1ad13ff95e258924f77d20b4fbedf"
			   " 2759320 root libc6_2.36-9+deb12u14_amd64.deb\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct lethe_pkgset *set;
	struct lethe_pkg_updates u = { 0 };

	if (!set && lethe_lock_parse("fuzz.lock", lock, strlen(lock), &set) < 0)
		abort();
	if (lethe_pkg_policy_parse((const char *)data, size, set, &u) == 0)
		lethe_pkg_updates_release(&u);
	return 0;
}
