/* The parts of table inet lethe that come from the spec's network section rather than
 * its firewall section: network.dns, the interfaces' dhcp, and network.vpn's kill
 * switch (only the tunnel's own UDP to its endpoint leaves by another interface). Every packet out
 * to port 53 (TCP or UDP, either family) jumps to chain dns, which returns only the configured
 * servers to the output chain (where the spec's rules still decide) and counts and drops the rest
 * as lethe-dns-out, before any spec rule or an accept policy can let it out (docs/firewall.md). */
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
	int r;

	for (size_t i = 0; i < spec->n_interfaces; i++)
		if (spec->interfaces[i].dhcp &&
		    (r = lethe_strv_push(&fw->dhcp, spec->interfaces[i].name)) < 0)
			return r;
	fw->dns_dhcp = spec->dns_dhcp && fw->dhcp.n;
	if (spec->vpn) {
		const struct lethe_spec_vpn *v = spec->vpn;
		struct fw_addr *e = &fw->vpn_endpoint;

		if (!(fw->vpn = strdup(v->interface)))
			return -ENOMEM;
		fw->vpn_port = v->port;
		if (inet_pton(AF_INET, v->endpoint, e->bytes) == 1)
			e->family = FW_FAMILY_V4;
		else if (inet_pton(AF_INET6, v->endpoint, e->bytes) == 1)
			e->family = FW_FAMILY_V6;
		else
			return lethe_error(-LETHE_E_INVALID,
					   "spec '%s': network.vpn endpoint '%s' "
					   "is not an address",
					   spec->path ? spec->path : "spec", v->endpoint);
		e->prefix = e->family == FW_FAMILY_V4 ? 32 : 128;
	}
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
	lethe_strv_release(&fw->dhcp);
	free(fw->vpn);
}

bool fw_egress_allows_nd(const struct lethe_firewall *fw)
{
	return !fw->vpn || fw->vpn_endpoint.family == FW_FAMILY_V6;
}

/* The kill switch: the endpoint's UDP, then nothing by any interface but the tunnel. */
static int put_vpn_rules(struct lethe_buf *b, const struct lethe_firewall *fw, enum fw_chain_id c)
{
	const struct fw_addr *e = &fw->vpn_endpoint;
	char text[INET6_ADDRSTRLEN];
	bool in = c == FW_CHAIN_IN;

	if (!inet_ntop(e->family == FW_FAMILY_V4 ? AF_INET : AF_INET6, e->bytes, text,
		       sizeof(text)))
		return -errno;
	return lethe_buf_printf(b,
				"\t\t%s %s %s udp %s %u accept\n"
				"\t\t%s != \"%s\" counter drop comment \"%s\"\n",
				e->family == FW_FAMILY_V4 ? "ip" : "ip6", in ? "saddr" : "daddr",
				text, in ? "sport" : "dport", fw->vpn_port,
				in ? "iifname" : "oifname", fw->vpn,
				in ? "lethe-vpn-in" : "lethe-vpn-out");
}

/* `iifname "eth0" ` or `oifname { "eth0", "eth1" } ` for the DHCP interfaces. */
static int put_dhcp_ifnames(struct lethe_buf *b, const struct lethe_firewall *fw, const char *key)
{
	int r = lethe_buf_printf(b, "%s %s", key, fw->dhcp.n > 1 ? "{ " : "");

	for (size_t i = 0; r >= 0 && i < fw->dhcp.n; i++)
		r = lethe_buf_printf(b, "%s\"%s\"", i ? ", " : "", fw->dhcp.v[i]);
	if (r >= 0)
		r = lethe_buf_puts(b, fw->dhcp.n > 1 ? " } " : " ");
	return r;
}

int fw_put_egress_rules(struct lethe_buf *b, const struct lethe_firewall *fw, enum fw_chain_id c,
			unsigned flags, bool early)
{
	bool vpn = fw->vpn != NULL;
	int r = 0;

	if (c == FW_CHAIN_FORWARD)
		return 0;
	if (!early && c == FW_CHAIN_OUT)
		r = lethe_buf_printf(b, "\t\tmeta l4proto { %s } th dport 53 jump dns\n",
				     (flags & LETHE_FIREWALL_NUMERIC_PROTO) ? "6, 17" : "tcp, udp");
	/* DHCP: the client's port 68 to the server's 67 out, the server's answers in
	 * (a broadcast answer is no reply that conntrack knows). udhcpc's first
	 * exchange goes through a packet socket, which no hook sees; its renewals are
	 * UDP. */
	if (r >= 0 && fw->dhcp.n && early == vpn) {
		r = lethe_buf_puts(b, "\t\t");
		if (r >= 0)
			r = put_dhcp_ifnames(b, fw, c == FW_CHAIN_IN ? "iifname" : "oifname");
		if (r >= 0)
			r = lethe_buf_puts(b, c == FW_CHAIN_IN
						      ? "udp sport 67 udp dport 68 accept\n"
						      : "udp sport 68 udp dport 67 accept\n");
	}
	if (r >= 0 && vpn && early)
		r = put_vpn_rules(b, fw, c);
	return r;
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
	/* With a tunnel, the servers are inside it: reached only through it. */
	r = lethe_buf_printf(b, "\t\t%s%s%s%s daddr %s", fw->vpn ? "oifname \"" : "",
			     fw->vpn ? fw->vpn : "", fw->vpn ? "\" " : "",
			     family == FW_FAMILY_V4 ? "ip" : "ip6", count > 1 ? "{ " : "");
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
	/* The leases' servers are not known when the table is made: any server, but only
	 * out of the interfaces whose lease named it. */
	if (r >= 0 && fw->dns_dhcp) {
		r = lethe_buf_puts(b, "\t\t");
		if (r >= 0)
			r = put_dhcp_ifnames(b, fw, "oifname");
		if (r >= 0)
			r = lethe_buf_puts(b, "return\n");
	}
	if (r >= 0)
		r = lethe_buf_puts(b, "\t\tcounter drop comment \"lethe-dns-out\"\n\t}\n");
	return r;
}
