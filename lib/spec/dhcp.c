/* An interface's dhcp: true: lethe-init asks busybox udhcpc for its IPv4 address and
 * default route (docs/network.md). Static IPv6 addresses may stay beside it; a static
 * IPv4 address or gateway would fight the lease, so they are refused. */
#include <string.h>

#include "spec-internal.h"

int spec_parse_dhcp(struct spec_ctx *c, const struct lethe_node *map,
		    struct lethe_spec_interface *iface)
{
	const struct lethe_node *node = lethe_node_get(map, "dhcp");
	int r;

	if (!node)
		return 0;
	r = lethe_node_bool(c->file, node, "dhcp", &iface->dhcp);
	if (r < 0 || !iface->dhcp)
		return r;
	if (iface->gateway4)
		return lethe_node_error(c->file, lethe_node_get(map, "gateway4"),
					"interface '%s' has dhcp: true and a gateway4: the lease "
					"gives the route",
					iface->name);
	for (size_t i = 0; i < iface->addresses.n; i++)
		if (!strchr(iface->addresses.v[i], ':'))
			return lethe_node_error(c->file, lethe_node_get(map, "addresses"),
						"interface '%s' has dhcp: true and the IPv4 "
						"address %s: the lease gives it",
						iface->name, iface->addresses.v[i]);
	return 0;
}
