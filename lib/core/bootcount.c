/* Boot counting as systemd-boot does it: the names of Lethe's UKIs on the ESP
 * (lethe-VERSION+LEFT-DONE.efi), the version order the boot loader sorts by, and the
 * loader's EFI variables. libc only: lethe-init blesses with the same code. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/core.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool version_char(char c)
{
	return is_digit(c) || is_alpha(c) || c == '.' || c == '~' || c == '-';
}

bool lethe_bootcount_version_valid(const char *v)
{
	size_t n = v ? strlen(v) : 0;

	if (n == 0 || n > LETHE_BOOTCOUNT_VERSION_MAX || v[0] == '.' || v[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!version_char(v[i]))
			return false;
	return true;
}

/* Digits of s up to end as a number <= LETHE_BOOTCOUNT_MAX; false if not that. */
static bool parse_count(const char *s, const char *end, unsigned *ret)
{
	unsigned v = 0;

	if (s == end || end - s > 4)
		return false;
	for (; s < end; s++) {
		if (!is_digit(*s))
			return false;
		v = v * 10 + (unsigned)(*s - '0');
	}
	*ret = v;
	return true;
}

int lethe_bootcount_parse(const char *name, struct lethe_bootcount *ret)
{
	const size_t pre = sizeof(LETHE_BOOTCOUNT_PREFIX) - 1;
	const size_t suf = sizeof(LETHE_BOOTCOUNT_SUFFIX) - 1;
	struct lethe_bootcount e = { 0 };
	size_t n = strnlen(name, LETHE_BOOTCOUNT_NAME_MAX);
	const char *v, *end, *plus;

	if (n >= LETHE_BOOTCOUNT_NAME_MAX || n <= pre + suf ||
	    strncasecmp(name, LETHE_BOOTCOUNT_PREFIX, pre) ||
	    strcasecmp(name + n - suf, LETHE_BOOTCOUNT_SUFFIX))
		return -EBADMSG;
	v = name + pre;
	end = name + n - suf;
	plus = memchr(v, '+', (size_t)(end - v));
	if (plus) {
		const char *dash = memchr(plus, '-', (size_t)(end - plus));

		e.counting = true;
		if (!parse_count(plus + 1, dash ? dash : end, &e.left) ||
		    (dash && !parse_count(dash + 1, end, &e.done)))
			return -EBADMSG;
		end = plus;
	}
	if ((size_t)(end - v) > LETHE_BOOTCOUNT_VERSION_MAX)
		return -EBADMSG;
	memcpy(e.version, v, (size_t)(end - v));
	e.version[end - v] = '\0';
	if (!lethe_bootcount_version_valid(e.version))
		return -EBADMSG;
	*ret = e;
	return 0;
}

int lethe_bootcount_format(const struct lethe_bootcount *e, char ret[LETHE_BOOTCOUNT_NAME_MAX])
{
	int n;

	if (!lethe_bootcount_version_valid(e->version) || e->left > LETHE_BOOTCOUNT_MAX ||
	    e->done > LETHE_BOOTCOUNT_MAX)
		return -EINVAL;
	if (!e->counting)
		n = snprintf(ret, LETHE_BOOTCOUNT_NAME_MAX, "%s%s%s", LETHE_BOOTCOUNT_PREFIX,
			     e->version, LETHE_BOOTCOUNT_SUFFIX);
	else if (e->done)
		n = snprintf(ret, LETHE_BOOTCOUNT_NAME_MAX, "%s%s+%u-%u%s", LETHE_BOOTCOUNT_PREFIX,
			     e->version, e->left, e->done, LETHE_BOOTCOUNT_SUFFIX);
	else
		n = snprintf(ret, LETHE_BOOTCOUNT_NAME_MAX, "%s%s+%u%s", LETHE_BOOTCOUNT_PREFIX,
			     e->version, e->left, LETHE_BOOTCOUNT_SUFFIX);
	return n > 0 && n < LETHE_BOOTCOUNT_NAME_MAX ? 0 : -EINVAL;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b) ? 1 : 0)

static bool valid_sort_char(char c)
{
	return is_digit(c) || is_alpha(c) || c == '~' || c == '-' || c == '^' || c == '.';
}

/* systemd's strverscmp_improved() (src/fundamental/string-util-fundamental.c), the
 * order systemd-boot sorts entries by: '~' before anything, even the end; '-' then
 * '^' then '.' before further segments; numbers by value; letters by strcmp. */
int lethe_version_compare(const char *a, const char *b)
{
	if (!a || !b || !*a || !*b)
		return CMP(a && *a, b && *b);
	for (;;) {
		const char *aa, *bb;
		int r;

		while (*a && !valid_sort_char(*a))
			a++;
		while (*b && !valid_sort_char(*b))
			b++;
		if (*a == '~' || *b == '~') {
			r = CMP(*a != '~', *b != '~');
			if (r)
				return r;
			a++, b++;
		}
		if (!*a || !*b)
			return CMP(*a, *b);
		if (*a == '-' || *b == '-') {
			r = CMP(*a != '-', *b != '-');
			if (r)
				return r;
			a++, b++;
		}
		if (*a == '^' || *b == '^') {
			r = CMP(*a != '^', *b != '^');
			if (r)
				return r;
			a++, b++;
		}
		if (*a == '.' || *b == '.') {
			r = CMP(*a != '.', *b != '.');
			if (r)
				return r;
			a++, b++;
		}
		if (is_digit(*a) || is_digit(*b)) {
			for (aa = a; is_digit(*aa); aa++)
				;
			for (bb = b; is_digit(*bb); bb++)
				;
			r = CMP(a != aa, b != bb);
			if (r)
				return r;
			while (*a == '0')
				a++;
			while (*b == '0')
				b++;
			r = CMP(aa - a, bb - b);
			if (r)
				return r;
			r = strncmp(a, b, (size_t)(aa - a));
			if (r)
				return CMP(r, 0);
		} else {
			for (aa = a; is_alpha(*aa); aa++)
				;
			for (bb = b; is_alpha(*bb); bb++)
				;
			r = strncmp(a, b, (size_t)((aa - a) < (bb - b) ? aa - a : bb - b));
			if (r)
				return CMP(r, 0);
			r = CMP(aa - a, bb - b);
			if (r)
				return r;
		}
		a = aa;
		b = bb;
	}
}

int lethe_efivar_string(const void *data, size_t len, char *ret, size_t size)
{
	const uint8_t *p = data;
	size_t o = 0;

	if (len < 6 || (len - 4) % 2)
		return lethe_error(-EBADMSG, "EFI variable of %zu bytes: not a UTF-16 string", len);
	for (size_t i = 4; i + 1 < len; i += 2) {
		unsigned c = p[i] | (unsigned)p[i + 1] << 8;

		if (c == 0)
			break;
		if (c < 0x20 || c > 0x7e)
			return lethe_error(-EBADMSG, "EFI variable: character 0x%04x at byte %zu",
					   c, i);
		if (c == '\\')
			c = '/';
		if (o == 0 && c == '/')
			continue;
		if (o + 1 >= size)
			return lethe_error(-EBADMSG, "EFI variable: longer than %zu characters",
					   size - 1);
		ret[o++] = (char)c;
	}
	if (o == 0)
		return lethe_error(-EBADMSG, "EFI variable: empty string");
	ret[o] = '\0';
	return 0;
}
