/* Stage 2's parts: network, services. */
#ifndef LETHE_INIT_STAGE2_H
#define LETHE_INIT_STAGE2_H

#include <sys/types.h>

#include <lethe/spec.h>

#include "init.h"

/* Accounts: lethe_account_resolve() of <lethe/core.h>. */

/* Bring an interface up (by name); 0 or -errno. */
int init_net_link_up(const char *ifname);
/* Add an address in CIDR notation (v4 or v6) to ifname. */
int init_net_add_address(const char *ifname, const char *cidr);
/* "ADDR[/PREFIX]" (v4 or v6) into family, address bytes and prefix length (32 or 128
 * without one). -EINVAL if malformed. */
int init_net_parse_cidr(const char *cidr, int *family, unsigned char addr[16], unsigned *prefix);
/* Add a default route through gateway (v4 or v6) on ifname. */
int init_net_add_default_route(const char *ifname, const char *gateway);
/* The same, replacing the default route of gateway's family (a DHCP lease's). */
int init_net_replace_default_route(const char *ifname, const char *gateway);
/* Create a link of kind ("wireguard") named ifname. */
int init_net_add_link(const char *ifname, const char *kind);
/* A route to dst (ADDR/PREFIX) on ifname, through gateway (NULL: on the link),
 * replacing one to the same destination. */
int init_net_add_route(const char *ifname, const char *dst, const char *gateway);
/* vpn.c: network.vpn's WireGuard tunnel: link, key (generated, or read from
 * private_key_file), `wg set` for the peer, addresses, routes for allowed_ips. Says on
 * the console what it did and the tunnel's public key. */
void init_vpn_setup(const struct lethe_spec *spec);
/* The route that keeps the tunnel's own packets to its IPv4 endpoint out of the
 * tunnel: via gateway on ifname (a static gateway4, a lease's router). */
void init_vpn_endpoint_route(const struct lethe_spec *spec, const char *ifname,
			     const char *gateway);
/* Delete every IPv4 address of ifname except keep (ADDR/PREFIX, or NULL). */
int init_net_flush_ipv4(const char *ifname, const char *keep);

/* Give every Ethernet-like card (not lo) its network.mac address before anything brings
 * it up; a card that cannot be given one is pushed onto ret_failed and must stay down.
 * Says on the console what each card got. 0 or -errno (no /sys/class/net). */
int init_mac_apply(enum lethe_mac_mode mode, struct lethe_strv *ret_failed);

/* dns.c: /etc/resolv.conf holding exactly servers (network.dns). render: the text
 * into buf, its length or -ENOBUFS; write: through a temporary file and a rename. */
int init_dns_render(const char *const *servers, size_t n, char *buf, size_t size);
int init_dns_write(const char *path, const char *const *servers, size_t n);

/* dhcp.c: busybox udhcpc on an interface with dhcp: true, lethe-init itself as its
 * script. start: fork it (not waited for; PID 1 reaps it); says on the console why
 * not. is_event: argv[1] of udhcpc's script call; event: handle it (the lease in
 * the environment, checked), 0 or 1 as the script's exit status. */
void init_dhcp_start(const struct lethe_spec *spec, const char *ifname);
bool init_dhcp_is_event(const char *word);
int init_dhcp_event(const char *event);

#endif
