/* Static network configuration over rtnetlink: link up, addresses, default routes.
 * What `ip link set up`, `ip addr add` and `ip route add default via` do. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stage2.h"

struct nl_req {
	struct nlmsghdr h;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
		struct rtmsg rt;
	};
	char attrs[256];
};

static void add_attr(struct nl_req *req, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)((char *)req + NLMSG_ALIGN(req->h.nlmsg_len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(a), data, len);
	req->h.nlmsg_len = NLMSG_ALIGN(req->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send one request and wait for its acknowledgement. */
static int nl_talk(struct nl_req *req)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[4096];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), r = -EIO;
	ssize_t n;

	if (fd < 0)
		return -errno;
	req->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	req->h.nlmsg_seq = 1;
	if (sendto(fd, req, req->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
	     h = NLMSG_NEXT(h, n)) {
		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			r = e->error == -EEXIST ? 0 : e->error;
			break;
		}
	}
out:
	close(fd);
	return r;
}

int init_net_link_up(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(fd);
	return r;
}

int init_net_parse_cidr(const char *cidr, int *family, unsigned char addr[16], unsigned *prefix)
{
	char buf[64];
	char *slash;

	if (strlen(cidr) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", cidr);
	slash = strchr(buf, '/');
	if (slash)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, addr) == 1)
		*family = AF_INET;
	else if (inet_pton(AF_INET6, buf, addr) == 1)
		*family = AF_INET6;
	else
		return -EINVAL;
	*prefix = *family == AF_INET ? 32 : 128;
	if (slash) {
		char *end;
		unsigned long v = strtoul(slash, &end, 10);

		if (end == slash || *end || v > *prefix)
			return -EINVAL;
		*prefix = (unsigned)v;
	}
	return 0;
}

/* An interface and an address on it, as both requests below need them. */
struct net_target {
	unsigned index;
	int family;
	unsigned prefix;
	unsigned char addr[16];
	size_t addr_len;
};

static int net_target(const char *ifname, const char *cidr, struct net_target *t)
{
	t->index = if_nametoindex(ifname);
	if (!t->index)
		return -ENODEV;
	if (init_net_parse_cidr(cidr, &t->family, t->addr, &t->prefix) < 0)
		return -EINVAL;
	t->addr_len = t->family == AF_INET ? 4 : 16;
	return 0;
}

/* A new-object request of type with a payload header of len bytes. */
static void nl_begin(struct nl_req *req, unsigned short type, size_t len)
{
	req->h.nlmsg_len = NLMSG_LENGTH(len);
	req->h.nlmsg_type = type;
	req->h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
}

int init_net_add_address(const char *ifname, const char *cidr)
{
	struct nl_req req = { 0 };
	struct net_target t;
	int r = net_target(ifname, cidr, &t);

	if (r < 0)
		return r;
	nl_begin(&req, RTM_NEWADDR, sizeof(struct ifaddrmsg));
	req.ifa.ifa_family = (unsigned char)t.family;
	req.ifa.ifa_prefixlen = (unsigned char)t.prefix;
	req.ifa.ifa_index = t.index;
	add_attr(&req, IFA_LOCAL, t.addr, t.addr_len);
	add_attr(&req, IFA_ADDRESS, t.addr, t.addr_len);
	return nl_talk(&req);
}

static int default_route(const char *ifname, const char *gateway, unsigned short flags)
{
	struct nl_req req = { 0 };
	struct net_target t;
	int r = net_target(ifname, gateway, &t);

	if (r < 0)
		return r;
	nl_begin(&req, RTM_NEWROUTE, sizeof(struct rtmsg));
	req.h.nlmsg_flags = flags;
	req.rt.rtm_family = (unsigned char)t.family;
	req.rt.rtm_table = RT_TABLE_MAIN;
	req.rt.rtm_protocol = RTPROT_STATIC;
	req.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	req.rt.rtm_type = RTN_UNICAST;
	add_attr(&req, RTA_GATEWAY, t.addr, t.addr_len);
	add_attr(&req, RTA_OIF, &t.index, sizeof(t.index));
	return nl_talk(&req);
}

int init_net_add_link(const char *ifname, const char *kind)
{
	struct nl_req req = { 0 };
	struct rtattr *info, *k;
	size_t klen = strlen(kind) + 1;

	if (strlen(ifname) >= IFNAMSIZ || klen > 32)
		return -EINVAL;
	nl_begin(&req, RTM_NEWLINK, sizeof(struct ifinfomsg));
	add_attr(&req, IFLA_IFNAME, ifname, strlen(ifname) + 1);
	/* IFLA_LINKINFO { IFLA_INFO_KIND "wireguard" }, nested by hand. */
	info = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.h.nlmsg_len));
	info->rta_type = IFLA_LINKINFO;
	k = (struct rtattr *)RTA_DATA(info);
	k->rta_type = IFLA_INFO_KIND;
	k->rta_len = (unsigned short)RTA_LENGTH(klen);
	memcpy(RTA_DATA(k), kind, klen);
	info->rta_len = (unsigned short)RTA_LENGTH(RTA_ALIGN(k->rta_len));
	req.h.nlmsg_len = NLMSG_ALIGN(req.h.nlmsg_len) + RTA_ALIGN(info->rta_len);
	return nl_talk(&req);
}

int init_net_add_route(const char *ifname, const char *dst, const char *gateway)
{
	struct nl_req req = { 0 };
	struct net_target t, g;
	int r = net_target(ifname, dst, &t);

	if (r < 0 || (gateway && (r = net_target(ifname, gateway, &g)) < 0))
		return r;
	if (gateway && g.family != t.family)
		return -EINVAL;
	nl_begin(&req, RTM_NEWROUTE, sizeof(struct rtmsg));
	req.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	req.rt.rtm_family = (unsigned char)t.family;
	req.rt.rtm_dst_len = (unsigned char)t.prefix;
	req.rt.rtm_table = RT_TABLE_MAIN;
	req.rt.rtm_protocol = RTPROT_STATIC;
	req.rt.rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	req.rt.rtm_type = RTN_UNICAST;
	if (t.prefix)
		add_attr(&req, RTA_DST, t.addr, t.addr_len);
	if (gateway)
		add_attr(&req, RTA_GATEWAY, g.addr, g.addr_len);
	add_attr(&req, RTA_OIF, &t.index, sizeof(t.index));
	return nl_talk(&req);
}

int init_net_add_default_route(const char *ifname, const char *gateway)
{
	return default_route(ifname, gateway, NLM_F_CREATE | NLM_F_EXCL);
}

int init_net_replace_default_route(const char *ifname, const char *gateway)
{
	return default_route(ifname, gateway, NLM_F_CREATE | NLM_F_REPLACE);
}

/* Delete every IPv4 address of ifname but keep (ADDR/PREFIX; NULL: none): what
 * `ip -4 addr flush dev IF` does, sparing the lease being renewed. */
int init_net_flush_ipv4(const char *ifname, const char *keep)
{
	struct net_target k = { 0 };
	struct {
		struct nlmsghdr h;
		struct ifaddrmsg ifa;
	} dump = { .h = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
			  .nlmsg_type = RTM_GETADDR,
			  .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
			  .nlmsg_seq = 1 },
		   .ifa = { .ifa_family = AF_INET } };
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	unsigned index = if_nametoindex(ifname);
	/* At most this many addresses are deleted: an interface has a handful. */
	struct {
		unsigned char addr[4];
		unsigned prefix;
	} gone[32];
	size_t n_gone = 0;
	char buf[8192];
	bool done = false;
	int fd, r = 0;

	if (!index)
		return -ENODEV;
	if (keep && (r = net_target(ifname, keep, &k)) < 0)
		return r;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &dump, dump.h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		r = -errno;
	while (r == 0 && !done) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			struct ifaddrmsg *ifa = NLMSG_DATA(h);
			int len = (int)IFA_PAYLOAD(h);

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = true;
				break;
			}
			if (h->nlmsg_type != RTM_NEWADDR || ifa->ifa_family != AF_INET ||
			    ifa->ifa_index != index)
				continue;
			for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len);
			     a = RTA_NEXT(a, len)) {
				if (a->rta_type != IFA_LOCAL || RTA_PAYLOAD(a) != 4)
					continue;
				if (keep && k.family == AF_INET && k.prefix == ifa->ifa_prefixlen &&
				    !memcmp(k.addr, RTA_DATA(a), 4))
					continue;
				if (n_gone < sizeof(gone) / sizeof(gone[0])) {
					memcpy(gone[n_gone].addr, RTA_DATA(a), 4);
					gone[n_gone++].prefix = ifa->ifa_prefixlen;
				}
			}
		}
	}
	close(fd);
	for (size_t i = 0; r == 0 && i < n_gone; i++) {
		struct nl_req req = { 0 };

		req.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
		req.h.nlmsg_type = RTM_DELADDR;
		req.ifa.ifa_family = AF_INET;
		req.ifa.ifa_prefixlen = (unsigned char)gone[i].prefix;
		req.ifa.ifa_index = index;
		add_attr(&req, IFA_LOCAL, gone[i].addr, 4);
		r = nl_talk(&req);
	}
	return r;
}
