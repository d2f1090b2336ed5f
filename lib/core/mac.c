/* MAC addresses: the one text form, and the address lethe-init gives a network card
 * before it goes up (spec network.mac), so that the card's permanent address never
 * reaches the wire. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include <lethe/core.h>

static const char *const mac_mode_names[] = {
	[LETHE_MAC_RANDOM] = "random",
	[LETHE_MAC_RANDOM_KEEP_VENDOR] = "random-keep-vendor",
	[LETHE_MAC_PERMANENT] = "permanent",
};

const char *lethe_mac_mode_name(enum lethe_mac_mode mode)
{
	return (unsigned)mode < LETHE_ARRAY_SIZE(mac_mode_names) ? mac_mode_names[mode] : NULL;
}

int lethe_mac_mode_from_name(const char *name, enum lethe_mac_mode *ret)
{
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(mac_mode_names); i++)
		if (!strcmp(name, mac_mode_names[i])) {
			*ret = (enum lethe_mac_mode)i;
			return 0;
		}
	return -EINVAL;
}

void lethe_mac_format(const uint8_t mac[LETHE_MAC_LEN], char ret[LETHE_MAC_STR])
{
	snprintf(ret, LETHE_MAC_STR, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
		 mac[3], mac[4], mac[5]);
}

int lethe_mac_parse(const char *text, uint8_t ret[LETHE_MAC_LEN])
{
	uint8_t mac[LETHE_MAC_LEN];

	for (size_t i = 0; i < LETHE_MAC_LEN; i++) {
		int hi, lo;

		if ((hi = lethe_hex_digit(text[0])) < 0 || (lo = lethe_hex_digit(text[1])) < 0)
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
		text += 2;
		if (*text != (i + 1 < LETHE_MAC_LEN ? ':' : '\0'))
			return -EINVAL;
		text += i + 1 < LETHE_MAC_LEN;
	}
	memcpy(ret, mac, sizeof(mac));
	return 0;
}

/* random: every bit random but the two of the first byte that make the address a
 * locally administered (bit 1 set) unicast (bit 0 clear) one, as the IEEE reserves for
 * addresses nobody assigned. random-keep-vendor: the permanent address's OUI (its first
 * three bytes), the rest random, as Tails does, so the card looks like one of its make.
 * Either way the result differs from the permanent address. */
int lethe_mac_randomise(enum lethe_mac_mode mode, const uint8_t perm[LETHE_MAC_LEN],
			const uint8_t rnd[LETHE_MAC_LEN], uint8_t ret[LETHE_MAC_LEN])
{
	uint8_t mac[LETHE_MAC_LEN];

	switch (mode) {
	case LETHE_MAC_RANDOM:
		memcpy(mac, rnd, sizeof(mac));
		mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02);
		break;
	case LETHE_MAC_RANDOM_KEEP_VENDOR:
		memcpy(mac, perm, 3);
		memcpy(mac + 3, rnd + 3, 3);
		break;
	default:
		return -EINVAL;
	}
	if (!memcmp(mac, perm, sizeof(mac)))
		mac[5] ^= 0x01; /* one chance in 2^24 (or 2^46): never the permanent one */
	memcpy(ret, mac, sizeof(mac));
	return 0;
}

bool lethe_mac_is_local_unicast(const uint8_t mac[LETHE_MAC_LEN])
{
	return (mac[0] & 0x03) == 0x02;
}

int lethe_ifname_copy(char ret[LETHE_IFNAMSIZ], const char *ifname)
{
	size_t n = strlen(ifname);

	if (n == 0 || n >= LETHE_IFNAMSIZ)
		return -ENAMETOOLONG;
	memcpy(ret, ifname, n + 1);
	return 0;
}

_Static_assert(LETHE_IFNAMSIZ == IFNAMSIZ, "the kernel's interface name size");

#define PERM_ADDR_MAX 32 /* the kernel's MAX_ADDR_LEN */

int lethe_mac_permanent(int fd, const char *ifname, uint8_t ret[LETHE_MAC_LEN])
{
	struct {
		struct ethtool_perm_addr h;
		uint8_t data[PERM_ADDR_MAX];
	} pa = { .h = { .cmd = ETHTOOL_GPERMADDR, .size = PERM_ADDR_MAX } };
	struct ifreq ifr = { 0 };
	static const uint8_t zero[LETHE_MAC_LEN];

	if (lethe_ifname_copy(ifr.ifr_name, ifname) < 0)
		return -ENAMETOOLONG;
	ifr.ifr_data = (void *)&pa;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		return -errno;
	if (pa.h.size != LETHE_MAC_LEN || !memcmp(pa.data, zero, LETHE_MAC_LEN))
		return -ENODATA;
	memcpy(ret, pa.data, LETHE_MAC_LEN);
	return 0;
}
