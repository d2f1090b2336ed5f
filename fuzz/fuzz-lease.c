/* Fuzz lib/core's DHCP lease parser: what a DHCP server puts into udhcpc's script
 * environment, which lethe-init turns into an address, a route and resolv.conf. The
 * input is four lines: ip, mask, router, dns (missing lines are unset variables). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/core.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1), *v[4] = { NULL }, *p;
	struct lethe_lease l;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	p = text;
	for (int i = 0; i < 4 && p; i++) {
		v[i] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	if (lethe_lease_parse(v[0], v[1], v[2], v[3], &l) == 0 &&
	    (strlen(l.address) >= sizeof(l.address) || l.prefix < 1 || l.prefix > 32 ||
	     l.n_dns > LETHE_LEASE_MAX_DNS))
		abort();
	free(text);
	return 0;
}
