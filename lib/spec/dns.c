/* network.dns: the only name servers of the system. lethe-init writes them, and nothing
 * else, into /etc/resolv.conf; the firewall drops port-53 traffic to any other address
 * (docs/network.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "spec-internal.h"

/* One server: a plain IPv4 or IPv6 address (no port, no prefix, no scope), kept in
 * inet_ntop's canonical form so that the resolver and the firewall read the same. */
static int parse_server(struct spec_ctx *c, const struct lethe_node *item)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char text[INET6_ADDRSTRLEN];
	int family;
	int r = lethe_node_expect(c->file, item, LETHE_NODE_SCALAR, "a name server");

	if (r < 0)
		return r;
	family = strchr(item->value, ':') ? AF_INET6 : AF_INET;
	if (strlen(item->value) >= sizeof(text) || inet_pton(family, item->value, buf) != 1 ||
	    !inet_ntop(family, buf, text, sizeof(text)))
		return lethe_node_error(c->file, item,
					"network.dns '%s' is not an IPv4 or IPv6 address",
					item->value);
	if (lethe_strv_contains(&c->spec->dns, text))
		return lethe_node_error(c->file, item, "network.dns names '%s' twice", text);
	return lethe_strv_push(&c->spec->dns, text);
}

int spec_parse_dns(struct spec_ctx *c, const struct lethe_node *node)
{
	int r;

	if (!node)
		return 0;
	if (node->type == LETHE_NODE_SCALAR && node->value && !strcmp(node->value, "dhcp")) {
		for (size_t i = 0; i < c->spec->n_interfaces; i++)
			if (c->spec->interfaces[i].dhcp) {
				c->spec->dns_dhcp = true;
				return 0;
			}
		return lethe_node_error(c->file, node,
					"network.dns: dhcp needs an interface with dhcp: true");
	}
	if (node->type == LETHE_NODE_SCALAR)
		return parse_server(c, node);
	r = spec_list(c, node, "network.dns");
	if (r < 0)
		return r;
	/* The resolver reads at most three (MAXNS in <resolv.h>). */
	if (node->n > LETHE_SPEC_MAX_DNS)
		return lethe_node_error(c->file, node->items[LETHE_SPEC_MAX_DNS],
					"network.dns lists %zu servers, at most %d", node->n,
					LETHE_SPEC_MAX_DNS);
	for (size_t i = 0; i < node->n; i++)
		if ((r = parse_server(c, node->items[i])) < 0)
			return r;
	return 0;
}
