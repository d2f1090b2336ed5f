/* Rollout waves: a fleet takes a new release in waves, each a cumulative share of the
 * machines, opening one after another at the spec's update.wait from the release's
 * signed timestamp. A machine's place is a stable hash of its machine id, so it is in
 * the same wave on every boot of an amnesic system and no server keeps any state. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/spec.h>
#include <lethe/update.h>

#include "update-internal.h"

unsigned lethe_rollout_bucket(const char *machine_id)
{
	static const char prefix[] = "lethe-rollout\n";
	struct lethe_buf b = { 0 };
	uint8_t md[32] = { 0 };
	uint64_t v = 0;

	/* The id as /etc/machine-id and SMBIOS spell it, however it was given: lowercase,
	 * without dashes or white space (a UUID and its 32 hex digits are one machine). */
	int r = lethe_buf_puts(&b, prefix);

	for (const char *p = machine_id; r >= 0 && *p; p++)
		if (*p != '-' && !isspace((unsigned char)*p))
			r = lethe_buf_append(&b, &(char){ (char)tolower((unsigned char)*p) }, 1);
	if (r < 0 || lethe_sha256(b.data, b.len, md) < 0) {
		lethe_buf_release(&b);
		return 99;
	}
	lethe_buf_release(&b);
	for (int i = 0; i < 8; i++)
		v = v << 8 | md[i];
	return (unsigned)(v % 100);
}

int lethe_rollout_timestamp(const char *tc, int64_t *ret)
{
	const char *p = tc ? strstr(tc, "timestamp:") : NULL;
	int64_t v = 0;
	size_t n;

	/* "timestamp:" begins the comment or follows a tab (minisign's layout). */
	while (p && p != tc && p[-1] != '\t')
		p = strstr(p + 1, "timestamp:");
	if (!p)
		return -ENOENT;
	p += strlen("timestamp:");
	n = strspn(p, "0123456789");
	if (n == 0 || n > 18)
		return -ENOENT;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (p[i] - '0');
	*ret = v;
	return 0;
}

void lethe_rollout_decide(const struct lethe_spec_update *u, const char *machine_id,
			  int64_t released, int64_t now, struct lethe_rollout *ret)
{
	struct lethe_rollout r = { .released = released, .known = machine_id != NULL };
	size_t n = u ? u->n_waves : 0;

	r.bucket = machine_id ? lethe_rollout_bucket(machine_id) : 99;
	if (n == 0) {
		r.percent = 100;
		r.in = true;
		r.at = released;
		*ret = r;
		return;
	}
	/* The wave open now: one more each update.wait since the release was signed (a
	 * release signed in the future has only its first wave open). */
	uint64_t since = now > released ? (uint64_t)(now - released) : 0;
	uint64_t k = u->wait ? since / u->wait : n - 1;

	r.open = (unsigned)(k >= n ? n - 1 : k);
	r.percent = u->waves[r.open];
	r.in = r.bucket < r.percent;
	for (r.wave = 0; r.wave + 1 < n && r.bucket >= u->waves[r.wave]; r.wave++)
		;
	r.at = released + (int64_t)(r.wave * u->wait);
	*ret = r;
}

static bool read_id(const char *path, char *ret, size_t size)
{
	char *text = NULL;
	size_t len = 0, o = 0;

	if (lethe_file_read(path, 4096, &text, &len) < 0)
		return false;
	for (size_t i = 0; i < len && o + 1 < size; i++) {
		unsigned char ch = (unsigned char)text[i];

		if (isxdigit(ch))
			ret[o++] = (char)tolower(ch);
		else if (ch != '-' && !isspace(ch)) {
			o = 0; /* not an id */
			break;
		}
	}
	ret[o] = '\0';
	free(text);
	/* An all-zero id (or all 0xff: no SMBIOS UUID set) names no machine. */
	return o >= 16 && strspn(ret, "0") != o && strspn(ret, "f") != o;
}

int lethe_rollout_machine_id(char *ret, size_t size, const char **ret_from)
{
	static const char *const files[] = { "/etc/machine-id", "/sys/class/dmi/id/product_uuid" };

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(files); i++)
		if (read_id(files[i], ret, size)) {
			if (ret_from)
				*ret_from = files[i];
			return 0;
		}
	return -ENOENT;
}
