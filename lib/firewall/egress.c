/* The parts of table inet lethe that come from the spec's network section rather than
 * its firewall section: network.dns. Every packet out to port 53 (TCP or UDP, either
 * family) jumps to chain dns, which returns only the configured servers to the output
 * chain (where the spec's rules still decide) and counts and drops the rest as
 * lethe-dns-out, before any spec rule or an accept policy can let it out
 * (docs/firewall.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firewall-internal.h"

static int cmp_server(const void *x, const void *y)
{
	const struct fw_addr *a = x, *b = y;

	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->bytes, b->bytes, sizeof(a->bytes));
}

int fw_egress_from_spec(const struct lethe_spec *spec, struct lethe_firewall *fw)
{
	if (!spec->dns.n)
		return 0;
	fw->dns = calloc(spec->dns.n, sizeof(*fw->dns));
	if (!fw->dns)
		return -ENOMEM;
	for (size_t i = 0; i < spec->dns.n; i++) {
		struct fw_addr *a = &fw->dns[i];

		if (inet_pton(AF_INET, spec->dns.v[i], a->bytes) == 1) {
			a->family = FW_FAMILY_V4;
			a->prefix = 32;
		} else if (inet_pton(AF_INET6, spec->dns.v[i], a->bytes) == 1) {
			a->family = FW_FAMILY_V6;
			a->prefix = 128;
		} else {
			return lethe_error(-LETHE_E_INVALID,
					   "spec '%s': network.dns '%s' is not an "
					   "address",
					   spec->path ? spec->path : "spec", spec->dns.v[i]);
		}
		fw->n_dns++;
	}
	qsort(fw->dns, fw->n_dns, sizeof(*fw->dns), cmp_server);
	return 0;
}

void fw_egress_release(struct lethe_firewall *fw)
{
	free(fw->dns);
}

int fw_put_dns_jump(struct lethe_buf *b, unsigned flags)
{
	return lethe_buf_printf(b, "\t\tmeta l4proto { %s } th dport 53 jump dns\n",
				(flags & LETHE_FIREWALL_NUMERIC_PROTO) ? "6, 17" : "tcp, udp");
}

/* "ip daddr X return" / "ip6 daddr { X, Y } return" for the servers of one family. */
static int put_servers(struct lethe_buf *b, const struct lethe_firewall *fw, enum fw_family family)
{
	size_t count = 0, done = 0;
	int r;

	for (size_t i = 0; i < fw->n_dns; i++)
		count += fw->dns[i].family == family;
	if (!count)
		return 0;
	r = lethe_buf_printf(b, "\t\t%s daddr %s", family == FW_FAMILY_V4 ? "ip" : "ip6",
			     count > 1 ? "{ " : "");
	for (size_t i = 0; r >= 0 && i < fw->n_dns; i++) {
		char text[INET6_ADDRSTRLEN];

		if (fw->dns[i].family != family)
			continue;
		if (!inet_ntop(family == FW_FAMILY_V4 ? AF_INET : AF_INET6, fw->dns[i].bytes, text,
			       sizeof(text)))
			return -errno;
		r = lethe_buf_printf(b, "%s%s", done++ ? ", " : "", text);
	}
	if (r >= 0)
		r = lethe_buf_puts(b, count > 1 ? " } return\n" : " return\n");
	return r;
}

int fw_put_egress_chains(struct lethe_buf *b, const struct lethe_firewall *fw)
{
	int r = lethe_buf_puts(b, "\n\tchain dns {\n");

	if (r >= 0)
		r = put_servers(b, fw, FW_FAMILY_V4);
	if (r >= 0)
		r = put_servers(b, fw, FW_FAMILY_V6);
	if (r >= 0)
		r = lethe_buf_puts(b, "\t\tcounter drop comment \"lethe-dns-out\"\n\t}\n");
	return r;
}
