/* Fuzz target: a kernel package's modules.dep, modules.softdep and modules.alias (the
 * input split at the first and second NUL bytes) -> the module closure of lib/boot, asked for the
 * first module named in modules.dep and for xts. The files go to a private temporary directory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lethe/boot.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/lethe-fuzz-modules.XXXXXX";

static void cleanup(void)
{
	lethe_rm_rf(dir);
}

static int put(const char *name, const void *bytes, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/lib/modules/1/%s", dir, name);
	return lethe_file_write_atomic(path, bytes, len, 0644);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *nul = memchr(data, 0, size);
	size_t dep_len = nul ? (size_t)(nul - data) : size;
	struct lethe_boot_modules m = { 0 };
	struct lethe_strv want = { 0 };
	char first[64] = "virtio";

	if (size > (1u << 20))
		return 0;
	if (!ready) {
		char sub[300];

		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
		snprintf(sub, sizeof(sub), "%s/lib/modules/1", dir);
		if (lethe_mkdir_p(sub, 0755) < 0)
			abort();
		ready = 1;
	}
	{
		const uint8_t *soft = nul ? nul + 1 : (const uint8_t *)"";
		size_t soft_len = nul ? size - dep_len - 1 : 0;
		const uint8_t *nul2 = soft_len ? memchr(soft, 0, soft_len) : NULL;
		const uint8_t *alias = nul2 ? nul2 + 1 : (const uint8_t *)"";
		size_t alias_len = nul2 ? soft_len - (size_t)(nul2 - soft) - 1 : 0;

		if (nul2)
			soft_len = (size_t)(nul2 - soft);
		if (put("modules.dep", data, dep_len) < 0 ||
		    put("modules.softdep", soft, soft_len) < 0 ||
		    put("modules.alias", alias, alias_len) < 0)
			abort();
	}
	/* The module of the first line: "kernel/x/NAME.ko:" -> NAME. */
	{
		size_t colon = 0; /* data is not NUL-terminated: stop at dep_len */

		while (colon < dep_len && data[colon] != ':' && data[colon] != '\n')
			colon++;
		const char *base = memrchr(data, '/', colon < dep_len ? colon : dep_len);
		const char *start = base ? base + 1 : (const char *)data;
		size_t n =
			(size_t)((const char *)data + (colon < dep_len ? colon : dep_len) - start);

		if (n && n < sizeof(first)) {
			memcpy(first, start, n);
			first[n] = '\0';
			first[strcspn(first, ".")] = '\0';
		}
	}
	lethe_strv_push(&want, first);
	lethe_strv_push(&want, "xts");
	if (lethe_boot_modules_resolve(dir, "1", &want, &m) == 0 && m.n > LETHE_BOOT_MAX_MODULES)
		abort();
	lethe_boot_modules_release(&m);
	lethe_strv_release(&want);
	lethe_error_clear();
	return 0;
}
