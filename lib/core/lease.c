/* A DHCP lease as busybox udhcpc hands it to its script, in environment strings that
 * come from the network's DHCP server: untrusted. lethe-init (src/init/dhcp.c) uses
 * nothing of a lease this parser did not check. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/core.h>

static bool ipv4(const char *s, size_t len, char text[LETHE_LEASE_ADDR_MAX])
{
	char buf[LETHE_LEASE_ADDR_MAX];
	struct in_addr a;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(AF_INET, buf, &a) == 1 &&
	       inet_ntop(AF_INET, &a, text, LETHE_LEASE_ADDR_MAX);
}

/* A space-separated list of IPv4 addresses, the first max kept. */
static int ipv4_list(const char *s, char (*ret)[LETHE_LEASE_ADDR_MAX], size_t max, size_t *n)
{
	*n = 0;
	while (s && *s) {
		size_t len = strcspn(s, " ");

		if (len && *n < max) {
			if (!ipv4(s, len, ret[*n]))
				return -EBADMSG;
			(*n)++;
		}
		s += len;
		s += strspn(s, " ");
	}
	return 0;
}

int lethe_lease_parse(const char *ip, const char *mask, const char *router, const char *dns,
		      struct lethe_lease *ret)
{
	struct lethe_lease l = { 0 };
	char routers[1][LETHE_LEASE_ADDR_MAX];
	size_t n_router = 0;
	unsigned long prefix;

	if (!ip || !ipv4(ip, strlen(ip), l.address) || !mask || !*mask || strlen(mask) > 2 ||
	    strspn(mask, "0123456789") != strlen(mask))
		return -EBADMSG;
	prefix = strtoul(mask, NULL, 10);
	if (prefix < 1 || prefix > 32)
		return -EBADMSG;
	l.prefix = (unsigned)prefix;
	if (ipv4_list(router, routers, 1, &n_router) < 0 ||
	    ipv4_list(dns, l.dns, LETHE_LEASE_MAX_DNS, &l.n_dns) < 0)
		return -EBADMSG;
	if (n_router)
		memcpy(l.router, routers[0], sizeof(l.router));
	*ret = l;
	return 0;
}
