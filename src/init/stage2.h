/* Stage 2's parts: accounts, network, services. */
#ifndef LETHE_INIT_STAGE2_H
#define LETHE_INIT_STAGE2_H

#include <sys/types.h>

#include <lethe/spec.h>

#include "init.h"

#define INIT_MAX_GROUPS 32
struct init_account {
	uid_t uid;
	gid_t gid;
	gid_t groups[INIT_MAX_GROUPS];
	size_t n_groups;
};
/* user NULL means root; group NULL means the user's primary group. */
int init_account_resolve(const char *user, const char *group, struct init_account *ret);

/* Bring an interface up (by name); 0 or -errno. */
int init_net_link_up(const char *ifname);
/* Add an address in CIDR notation (v4 or v6) to ifname. */
int init_net_add_address(const char *ifname, const char *cidr);
/* Add a default route through gateway (v4 or v6) on ifname. */
int init_net_add_default_route(const char *ifname, const char *gateway);

#endif
