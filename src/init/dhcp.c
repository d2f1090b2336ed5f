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

/* An IPv4 address from the lease, in inet_ntop's form, or false. */
static bool lease_ipv4(const char *s, char text[INET_ADDRSTRLEN])
{
	struct in_addr a;

	return s && strlen(s) < INET_ADDRSTRLEN && inet_pton(AF_INET, s, &a) == 1 &&
	       inet_ntop(AF_INET, &a, text, INET_ADDRSTRLEN);
}

/* The first of a space-separated list of at most max words into words (each
 * INET_ADDRSTRLEN long, checked as IPv4 addresses); their number, or -1. */
static int lease_list(const char *s, char words[][INET_ADDRSTRLEN], int max)
{
	char copy[256], *save = NULL;
	int n = 0;

	if (!s)
		return 0;
	if (strlen(s) >= sizeof(copy))
		return -1;
	snprintf(copy, sizeof(copy), "%s", s);
	for (char *w = strtok_r(copy, " ", &save); w && n < max; w = strtok_r(NULL, " ", &save))
		if (!lease_ipv4(w, words[n++]))
			return -1;
	return n;
}

static int lease_bound(const struct lethe_spec *spec, const char *ifname)
{
	char ip[INET_ADDRSTRLEN], cidr[INET_ADDRSTRLEN + 4], routers[1][INET_ADDRSTRLEN];
	char dns[LETHE_SPEC_MAX_DNS][INET_ADDRSTRLEN];
	const char *servers[LETHE_SPEC_MAX_DNS];
	const char *mask = getenv("mask");
	unsigned long prefix = 0;
	int n_router, n_dns = 0, r;

	if (!lease_ipv4(getenv("ip"), ip) || !mask || !*mask || strlen(mask) > 2 ||
	    strspn(mask, "0123456789") != strlen(mask) || (prefix = strtoul(mask, NULL, 10)) < 1 ||
	    prefix > 32) {
		init_msg("dhcp: %s: the lease's address or mask is not valid: ignored", ifname);
		return 1;
	}
	n_router = lease_list(getenv("router"), routers, 1);
	if (spec->dns_dhcp)
		n_dns = lease_list(getenv("dns"), dns, LETHE_SPEC_MAX_DNS);
	if (n_router < 0 || n_dns < 0) {
		init_msg("dhcp: %s: the lease's router or dns is not a list of IPv4 addresses: "
			 "ignored",
			 ifname);
		return 1;
	}
	snprintf(cidr, sizeof(cidr), "%s/%lu", ip, prefix);
	if ((r = init_net_flush_ipv4(ifname, cidr)) < 0 ||
	    (r = init_net_add_address(ifname, cidr)) < 0) {
		init_msg("dhcp: %s: cannot set %s: %s", ifname, cidr, strerror(-r));
		return 1;
	}
	if (n_router && (r = init_net_replace_default_route(ifname, routers[0])) < 0)
		init_msg("dhcp: %s: cannot route via %s: %s", ifname, routers[0], strerror(-r));
	if (n_router)
		init_vpn_endpoint_route(spec, ifname, routers[0]);
	if (spec->dns_dhcp) {
		for (int i = 0; i < n_dns; i++)
			servers[i] = dns[i];
		if ((r = init_dns_write(LETHE_PATH_RESOLV_CONF, servers, (size_t)n_dns)) < 0)
			init_msg("dhcp: %s: cannot write " LETHE_PATH_RESOLV_CONF ": %s", ifname,
				 strerror(-r));
	}
	init_msg("dhcp: %s: lease %s, router %s, %d name server%s%s", ifname, cidr,
		 n_router ? routers[0] : "none", n_dns, n_dns == 1 ? "" : "s",
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
