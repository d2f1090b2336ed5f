/* Static network configuration over rtnetlink: link up, addresses, default routes.
 * What `ip link set up`, `ip addr add` and `ip route add default via` do. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
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

int init_net_add_default_route(const char *ifname, const char *gateway)
{
	struct nl_req req = { 0 };
	struct net_target t;
	int r = net_target(ifname, gateway, &t);

	if (r < 0)
		return r;
	nl_begin(&req, RTM_NEWROUTE, sizeof(struct rtmsg));
	req.rt.rtm_family = (unsigned char)t.family;
	req.rt.rtm_table = RT_TABLE_MAIN;
	req.rt.rtm_protocol = RTPROT_STATIC;
	req.rt.rtm_scope = RT_SCOPE_UNIVERSE;
	req.rt.rtm_type = RTN_UNICAST;
	add_attr(&req, RTA_GATEWAY, t.addr, t.addr_len);
	add_attr(&req, RTA_OIF, &t.index, sizeof(t.index));
	return nl_talk(&req);
}
