/* network.vpn: one WireGuard tunnel that every packet but the tunnel's own must take.
 * The private key is never a spec value: the spec is copied into the image, and the
 * image is public, so a key in it would be everyone's. It is generated at each boot
 * (the default: a new identity per session, whose public key lethe-init prints) or read
 * at boot from private_key_file, a path in the running system (the persistent store,
 * a stick). docs/network.md. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "spec-internal.h"

static const char *const vpn_keys[] = { "interface",   "private_key_file",
					"private_key", "addresses",
					"peer",	       NULL };
static const char *const peer_keys[] = { "public_key", "endpoint", "allowed_ips", "keepalive",
					 NULL };

struct lethe_spec_vpn *lethe_spec_vpn_free(struct lethe_spec_vpn *v)
{
	if (!v)
		return NULL;
	free(v->interface);
	free(v->private_key_file);
	lethe_strv_release(&v->addresses);
	free(v->public_key);
	free(v->endpoint);
	lethe_strv_release(&v->allowed_ips);
	free(v);
	return NULL;
}

/* A list of ADDRESS/PREFIX into strv; what names it. */
static int cidr_list(struct spec_ctx *c, const struct lethe_node *map, const char *key,
		     const char *what, struct lethe_strv *strv)
{
	const struct lethe_node *node = lethe_node_get(map, key);
	int r;

	if (!node)
		return lethe_node_error(c->file, map, "%s is missing", what);
	r = spec_list(c, node, what);
	if (r == 0 && node->n == 0)
		return lethe_node_error(c->file, node, "%s is an empty list", what);
	for (size_t i = 0; r == 0 && i < node->n; i++) {
		r = lethe_node_expect(c->file, node->items[i], LETHE_NODE_SCALAR, "an address");
		if (r == 0 && !spec_is_cidr(node->items[i]->value))
			r = lethe_node_error(c->file, node->items[i],
					     "%s '%s' must be ADDRESS/PREFIX", what,
					     node->items[i]->value);
		if (r == 0)
			r = lethe_strv_push(strv, node->items[i]->value);
	}
	return r;
}

/* "192.0.2.1:51820" or "[2001:db8::1]:51820": an address, not a name (resolving one
 * would need DNS before the tunnel, outside it). */
static int parse_endpoint(struct spec_ctx *c, const struct lethe_node *node,
			  struct lethe_spec_vpn *v)
{
	char host[INET6_ADDRSTRLEN + 1], text[INET6_ADDRSTRLEN];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *s = node->value, *colon, *port;
	size_t len;
	int family;
	char *end;
	unsigned long p;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		len = (size_t)(close - s - 1);
		s++;
		port = close + 2;
		family = AF_INET6;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			goto bad;
		len = (size_t)(colon - s);
		port = colon + 1;
		family = AF_INET;
	}
	if (len == 0 || len >= sizeof(host))
		goto bad;
	memcpy(host, s, len);
	host[len] = '\0';
	p = strtoul(port, &end, 10);
	if (inet_pton(family, host, buf) != 1 || !*port || *end || *port == '0' ||
	    strspn(port, "0123456789") != strlen(port) || p > 65535 ||
	    !inet_ntop(family, buf, text, sizeof(text)))
		goto bad;
	v->port = (uint16_t)p;
	v->endpoint = strdup(text);
	return v->endpoint ? 0 : -ENOMEM;
bad:
	return lethe_node_error(c->file, node,
				"network.vpn.peer.endpoint '%s' must be IPV4:PORT or [IPV6]:PORT "
				"(an address: a name would need DNS outside the tunnel)",
				node->value);
}

static int parse_peer(struct spec_ctx *c, const struct lethe_node *peer, struct lethe_spec_vpn *v)
{
	const struct lethe_node *node;
	unsigned char key[32];
	size_t key_len = 0;
	uint64_t n;
	int r = lethe_node_expect(c->file, peer, LETHE_NODE_MAPPING, "network.vpn.peer");

	if (r == 0)
		r = lethe_node_check_keys(c->file, peer, peer_keys);
	if (r == 0)
		r = spec_required_string(c, peer, "public_key", &v->public_key);
	if (r < 0)
		return r;
	if (strlen(v->public_key) != 44 ||
	    sodium_base642bin(key, sizeof(key), v->public_key, 44, NULL, &key_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    key_len != sizeof(key))
		return lethe_node_error(
			c->file, lethe_node_get(peer, "public_key"),
			"network.vpn.peer.public_key is not a WireGuard key (base64 "
			"of 32 bytes, as 'wg pubkey' prints)");
	node = lethe_node_get(peer, "endpoint");
	if (!node)
		return lethe_node_error(c->file, peer, "network.vpn.peer has no endpoint");
	r = lethe_node_expect(c->file, node, LETHE_NODE_SCALAR, "network.vpn.peer.endpoint");
	if (r == 0)
		r = parse_endpoint(c, node, v);
	if (r == 0)
		r = cidr_list(c, peer, "allowed_ips", "network.vpn.peer.allowed_ips",
			      &v->allowed_ips);
	if (r == 0 && (node = lethe_node_get(peer, "keepalive"))) {
		r = lethe_node_uint(c->file, node, "network.vpn.peer.keepalive", 1, 65535, &n);
		v->keepalive = (unsigned)n;
	}
	return r;
}

static int parse_vpn(struct spec_ctx *c, const struct lethe_node *node, struct lethe_spec_vpn *v)
{
	const struct lethe_node *item;
	size_t len;
	int r = lethe_node_check_keys(c->file, node, vpn_keys);

	if (r < 0)
		return r;
	if ((item = lethe_node_get(node, "private_key")))
		return lethe_node_error(
			c->file, item,
			"network.vpn.private_key: a key in the spec is in the image, "
			"which is public; leave it out (a new key each boot) or name "
			"a private_key_file");
	item = lethe_node_get(node, "interface");
	if (item)
		r = spec_string(c, item, "network.vpn.interface", &v->interface);
	else if (!(v->interface = strdup("wg0")))
		r = -ENOMEM;
	if (r < 0)
		return r;
	len = strlen(v->interface);
	if (len == 0 || len > 15 ||
	    strspn(v->interface,
		   "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != len)
		return lethe_node_error(c->file, item,
					"network.vpn.interface '%s' must be 1-15 characters of "
					"[A-Za-z0-9_-]",
					v->interface);
	for (size_t i = 0; i < c->spec->n_interfaces; i++)
		if (!strcmp(c->spec->interfaces[i].name, v->interface))
			return lethe_node_error(c->file, item ? item : node,
						"network.vpn.interface '%s' is also in "
						"network.interfaces",
						v->interface);
	if ((item = lethe_node_get(node, "private_key_file"))) {
		r = spec_string(c, item, "network.vpn.private_key_file", &v->private_key_file);
		if (r == 0 && !spec_path_is_absolute_clean(v->private_key_file))
			r = lethe_node_error(
				c->file, item,
				"network.vpn.private_key_file must be an absolute path");
		if (r < 0)
			return r;
	}
	r = cidr_list(c, node, "addresses", "network.vpn.addresses", &v->addresses);
	if (r < 0)
		return r;
	item = lethe_node_get(node, "peer");
	if (!item)
		return lethe_node_error(c->file, node, "network.vpn has no peer");
	r = parse_peer(c, item, v);
	if (r == 0 && c->spec->dns_dhcp)
		r = lethe_node_error(c->file, node,
				     "network.vpn with network.dns: dhcp: the lease's servers are "
				     "outside the tunnel; name servers inside it in network.dns");
	if (r == 0 && !lethe_strv_contains(&c->spec->kernel.modules, "wireguard"))
		r = lethe_node_error(c->file, node,
				     "network.vpn needs the kernel module 'wireguard' in "
				     "kernel.modules");
	return r;
}

int spec_parse_vpn(struct spec_ctx *c, const struct lethe_node *node)
{
	struct lethe_spec_vpn *v;
	int r;

	if (!node)
		return 0;
	r = lethe_node_expect(c->file, node, LETHE_NODE_MAPPING, "network.vpn");
	if (r < 0)
		return r;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->line = node->line;
	c->spec->vpn = v; /* freed with the spec, even half parsed */
	return parse_vpn(c, node, v);
}
