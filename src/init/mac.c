/* MAC address randomisation (spec network.mac): before any interface goes up, every
 * Ethernet or Wi-Fi card (ARPHRD_ETHER: the kernel gives Wi-Fi the same type) gets a new
 * address, so the card's permanent one never reaches the wire. The permanent address
 * comes from the driver (ETHTOOL_GPERMADDR), the new one from lethe_mac_randomise(). */
#include <dirent.h>
#include <errno.h>
#include <net/if_arp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stage2.h"

static int hwaddr(int fd, const char *ifname, uint8_t ret[LETHE_MAC_LEN])
{
	struct ifreq ifr = { 0 };

	if (lethe_ifname_copy(ifr.ifr_name, ifname) < 0)
		return -ENAMETOOLONG;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EPROTONOSUPPORT;
	memcpy(ret, ifr.ifr_hwaddr.sa_data, LETHE_MAC_LEN);
	return 0;
}

static int set_hwaddr(int fd, const char *ifname, const uint8_t mac[LETHE_MAC_LEN])
{
	struct ifreq ifr = { 0 };

	if (lethe_ifname_copy(ifr.ifr_name, ifname) < 0)
		return -ENAMETOOLONG;
	ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(ifr.ifr_hwaddr.sa_data, mac, LETHE_MAC_LEN);
	return ioctl(fd, SIOCSIFHWADDR, &ifr) < 0 ? -errno : 0;
}

/* One card: its new address, or -errno (the card then stays down). */
static int randomise(int fd, const char *ifname, enum lethe_mac_mode mode,
		     uint8_t ret[LETHE_MAC_LEN])
{
	uint8_t perm[LETHE_MAC_LEN], rnd[LETHE_MAC_LEN], mac[LETHE_MAC_LEN];
	int r = hwaddr(fd, ifname, mac);

	if (r < 0)
		return r;
	/* A driver that does not tell its permanent address: the current one is it. */
	if (lethe_mac_permanent(fd, ifname, perm) < 0)
		memcpy(perm, mac, sizeof(perm));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -EIO;
	r = lethe_mac_randomise(mode, perm, rnd, mac);
	if (r == 0)
		r = set_hwaddr(fd, ifname, mac);
	if (r == 0)
		memcpy(ret, mac, LETHE_MAC_LEN);
	return r;
}

int init_mac_apply(enum lethe_mac_mode mode, struct lethe_strv *ret_failed)
{
	DIR *d;
	struct dirent *e;
	int fd, r = 0;

	if (mode == LETHE_MAC_PERMANENT) {
		init_msg("network.mac permanent: the cards keep their own addresses");
		return 0;
	}
	if (!(d = opendir("/sys/class/net")))
		return -errno;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0) {
		r = -errno;
		closedir(d);
		return r;
	}
	while ((e = readdir(d))) {
		uint8_t mac[LETHE_MAC_LEN];
		char text[LETHE_MAC_STR];
		int q;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
			continue;
		q = randomise(fd, e->d_name, mode, mac);
		if (q == -EPROTONOSUPPORT)
			continue; /* not an Ethernet-like card: it has no MAC address */
		if (q < 0) {
			init_msg("%s: cannot give it a %s MAC address: %s; it stays down",
				 e->d_name, lethe_mac_mode_name(mode), strerror(-q));
			if ((q = lethe_strv_push(ret_failed, e->d_name)) < 0)
				r = q;
			continue;
		}
		lethe_mac_format(mac, text);
		init_msg("%s: MAC address %s (%s)", e->d_name, text, lethe_mac_mode_name(mode));
	}
	close(fd);
	closedir(d);
	return r;
}
