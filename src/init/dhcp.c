/* DHCP on an interface with dhcp: true: busybox's udhcpc, started by lethe-init, with
 * lethe-init itself as its script (the image needs no shell for it). What udhcpc sends
 * says as little as it can: no host name (udhcpc sends none unless told), no vendor
 * class (-V ""), a client id of random bytes new each boot instead of the card's
 * address (-C, -x 0x3d:...), and a request for nothing but the options used (-o -O).
 * The script takes the lease from the environment udhcpc gives it, checks every value
 * (the DHCP server is the network: untrusted) and sets the address, the default route
 * and, only when the spec says network.dns: dhcp, /etc/resolv.conf. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "stage2.h"

#define BUSYBOX "/bin/busybox" /* busybox-static, without applet links */

void init_dhcp_start(const struct lethe_spec *spec, const char *ifname)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char id[16];
	char idopt[sizeof("0x3d:00") + 2 * sizeof(id)] = "0x3d:00";
	char *argv[] = { BUSYBOX,
			 "udhcpc",
			 "-f",
			 "-i",
			 (char *)ifname,
			 "-s",
			 LETHE_PATH_STAGE2,
			 "-C",
			 "-x",
			 idopt,
			 "-V",
			 "",
			 "-o",
			 "-O",
			 "subnet",
			 "-O",
			 "router",
			 "-t",
			 "5",
			 "-T",
			 "2",
			 "-A",
			 "10",
			 spec->dns_dhcp ? "-O" : NULL,
			 "dns",
			 NULL };
	pid_t pid;

	if (access(BUSYBOX, X_OK) < 0) {
		init_msg("warning: %s: dhcp needs " BUSYBOX " (busybox-static) for udhcpc: no "
			 "address",
			 ifname);
		return;
	}
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
		init_msg("warning: %s: no random client id (%s): no dhcp", ifname, strerror(errno));
		return;
	}
	/* Type 0: an identifier that is not a hardware address (RFC 2132, 9.14). */
	for (size_t i = 0; i < sizeof(id); i++) {
		idopt[7 + 2 * i] = hex[id[i] >> 4];
		idopt[8 + 2 * i] = hex[id[i] & 15];
	}
	idopt[7 + 2 * sizeof(id)] = '\0';
	pid = fork();
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execv(BUSYBOX, argv);
		_exit(127);
	}
	if (pid < 0)
		init_msg("warning: %s: cannot start udhcpc: %s", ifname, strerror(errno));
	else
		init_msg("dhcp: %s: udhcpc started (no host name, random client id)", ifname);
}

static const char *const events[] = { "deconfig", "bound", "renew", "leasefail", "nak", NULL };

bool init_dhcp_is_event(const char *word)
{
	for (size_t i = 0; events[i]; i++)
		if (!strcmp(word, events[i]))
			return true;
	return false;
}

static int lease_bound(const struct lethe_spec *spec, const char *ifname)
{
	char cidr[LETHE_LEASE_ADDR_MAX + 4];
	const char *servers[LETHE_LEASE_MAX_DNS];
	struct lethe_lease l;
	size_t n_dns = 0;
	int r;

	/* lib/core/lease.c checks every value: the DHCP server is the network. */
	if (lethe_lease_parse(getenv("ip"), getenv("mask"), getenv("router"), getenv("dns"), &l) <
	    0) {
		init_msg("dhcp: %s: the lease is not an IPv4 address, prefix, router and name "
			 "servers: ignored",
			 ifname);
		return 1;
	}
	snprintf(cidr, sizeof(cidr), "%s/%u", l.address, l.prefix);
	if ((r = init_net_flush_ipv4(ifname, cidr)) < 0 ||
	    (r = init_net_add_address(ifname, cidr)) < 0) {
		init_msg("dhcp: %s: cannot set %s: %s", ifname, cidr, strerror(-r));
		return 1;
	}
	if (*l.router) {
		if ((r = init_net_replace_default_route(ifname, l.router)) < 0)
			init_msg("dhcp: %s: cannot route via %s: %s", ifname, l.router,
				 strerror(-r));
		init_vpn_endpoint_route(spec, ifname, l.router);
	}
	if (spec->dns_dhcp) {
		n_dns = l.n_dns;
		for (size_t i = 0; i < n_dns; i++)
			servers[i] = l.dns[i];
		if ((r = init_dns_write(LETHE_PATH_RESOLV_CONF, servers, n_dns)) < 0)
			init_msg("dhcp: %s: cannot write " LETHE_PATH_RESOLV_CONF ": %s", ifname,
				 strerror(-r));
	}
	init_msg("dhcp: %s: lease %s, router %s, %zu name server%s%s", ifname, cidr,
		 *l.router ? l.router : "none", n_dns, n_dns == 1 ? "" : "s",
		 spec->dns_dhcp ? "" : " (network.dns is not dhcp: the lease's are not used)");
	return 0;
}

int init_dhcp_event(const char *event)
{
	const char *ifname = getenv("interface");
	struct lethe_spec *spec = NULL;
	bool ours = false;
	int r, rc = 0;

	r = lethe_spec_load_flags(LETHE_PATH_SPEC, LETHE_SPEC_LOAD_IN_IMAGE, &spec);
	if (r < 0) {
		init_msg("dhcp: cannot read " LETHE_PATH_SPEC ": %s", strerror(-r));
		return 1;
	}
	for (size_t i = 0; ifname && i < spec->n_interfaces; i++)
		ours |= spec->interfaces[i].dhcp && !strcmp(spec->interfaces[i].name, ifname);
	if (!ours) {
		init_msg("dhcp: '%s' is not an interface with dhcp: true in the spec",
			 ifname ? ifname : "(none)");
		lethe_spec_free(spec);
		return 1;
	}
	if (!strcmp(event, "deconfig")) {
		if ((r = init_net_flush_ipv4(ifname, NULL)) < 0)
			init_msg("dhcp: %s: cannot remove its addresses: %s", ifname, strerror(-r));
		(void)init_net_link_up(ifname);
	} else if (!strcmp(event, "bound") || !strcmp(event, "renew")) {
		rc = lease_bound(spec, ifname);
	} else {
		init_msg("dhcp: %s: %s", ifname,
			 !strcmp(event, "nak") ? "the server refused" : "no lease yet");
	}
	lethe_spec_free(spec);
	return rc;
}
