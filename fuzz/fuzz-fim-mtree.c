/* Fuzz target: mtree baselines (lethe_fim_mtree_parse). What is accepted must be safe
 * paths, sorted and unique, and must read back the same once written again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/fim.h>
#include <lethe/util.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "./a/b": no empty, "." or ".." component (any other byte may be in a name). */
static int path_ok(const char *p)
{
	if (strncmp(p, "./", 2))
		return 0;
	for (p += 2;;) {
		size_t n = strcspn(p, "/");

		if (!n || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lethe_fim_manifest m, again;
	struct lethe_buf b = { 0 };

	if (lethe_fim_mtree_parse((const char *)data, size, "fuzz", &m) < 0)
		return 0;
	for (size_t i = 0; i < m.n; i++) {
		const char *p = m.v[i].path;

		if (strcmp(p, ".") && !path_ok(p))
			abort();
		if (i && lethe_fim_path_cmp(m.v[i - 1].path, p) >= 0)
			abort();
		if (lethe_fim_entry_format(&m.v[i], LETHE_FIM_ALL, &b) < 0)
			abort();
	}
	if (lethe_fim_mtree_parse(b.data, b.len, "fuzz-again", &again) < 0 || again.n != m.n)
		abort();
	for (size_t i = 0; i < m.n; i++)
		if (strcmp(again.v[i].path, m.v[i].path) || again.v[i].type != m.v[i].type ||
		    again.v[i].mode != m.v[i].mode ||
		    memcmp(again.v[i].sha256, m.v[i].sha256, sizeof(m.v[i].sha256)) ||
		    strcmp(again.v[i].link ? again.v[i].link : "",
			   m.v[i].link ? m.v[i].link : "") ||
		    strcmp(again.v[i].xattrs ? again.v[i].xattrs : "",
			   m.v[i].xattrs ? m.v[i].xattrs : ""))
			abort();
	lethe_fim_manifest_release(&again);
	lethe_fim_manifest_release(&m);
	lethe_buf_release(&b);
	return 0;
}
