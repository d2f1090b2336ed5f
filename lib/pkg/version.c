/* Debian version comparison (deb-version(7)): epoch, then upstream version, then
 * revision, each compared as dpkg does: runs of non-digits by character ('~' sorts
 * before everything, even the end; letters before other characters), then runs of
 * digits by value. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/pkg.h>

static int order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int verrevcmp(const char *a, const char *ae, const char *b, const char *be)
{
	while (a < ae || b < be) {
		int first_diff = 0;

		while ((a < ae && !isdigit((unsigned char)*a)) ||
		       (b < be && !isdigit((unsigned char)*b))) {
			int ac = a < ae ? order((unsigned char)*a) : 0;
			int bc = b < be ? order((unsigned char)*b) : 0;

			if (ac != bc)
				return ac - bc;
			a += a < ae;
			b += b < be;
		}
		while (a < ae && *a == '0')
			a++;
		while (b < be && *b == '0')
			b++;
		while (a < ae && isdigit((unsigned char)*a) && b < be &&
		       isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (a < ae && isdigit((unsigned char)*a))
			return 1;
		if (b < be && isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

/* Split v into epoch, upstream [us, ue) and revision [rs, re). */
static void split(const char *v, unsigned long *epoch, const char **us, const char **ue,
		  const char **rs, const char **re)
{
	const char *colon = strchr(v, ':'), *dash;

	*epoch = 0;
	if (colon) {
		*epoch = strtoul(v, NULL, 10);
		v = colon + 1;
	}
	dash = strrchr(v, '-');
	*us = v;
	*ue = dash ? dash : v + strlen(v);
	*rs = dash ? dash + 1 : v + strlen(v);
	*re = v + strlen(v);
}

int lethe_pkg_version_compare(const char *a, const char *b)
{
	const char *aus, *aue, *ars, *are, *bus, *bue, *brs, *bre;
	unsigned long ae, be;
	int r;

	split(a, &ae, &aus, &aue, &ars, &are);
	split(b, &be, &bus, &bue, &brs, &bre);
	if (ae != be)
		return ae < be ? -1 : 1;
	r = verrevcmp(aus, aue, bus, bue);
	if (!r)
		r = verrevcmp(ars, are, brs, bre);
	return r < 0 ? -1 : r > 0;
}
