/* The network checks of the audit.
 *
 * network.mac: no Ethernet-like card shows its permanent address (spec network.mac).
 * Live, the permanent address is the driver's (ETHTOOL_GPERMADDR); on a fixture root,
 * where no driver answers, the kernel's addr_assign_type says whether the current
 * address is still the one the card came with (0, NET_ADDR_PERM).
 *
 * network.none: an air-gapped system (the spec says network: none) has no interface but
 * lo, and no network driver loaded. The build already refuses network drivers by where
 * they sit in the kernel tree (lib/build/airgap.c); here, on the running system, the
 * kernel is asked: its interfaces (/sys/class/net, each with the module that drives
 * it) and its loaded modules (/proc/modules), held against the network driver families. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <lethe/core.h>

#include "audit-internal.h"

#define ARPHRD_ETHER_TEXT  "1" /* sys/class/net/X/type of Ethernet and Wi-Fi */
#define NET_ADDR_PERM_TEXT "0"

static int card_file(const struct audit_ctx *ctx, const char *ifname, const char *file, char **ret)
{
	char rel[320];

	snprintf(rel, sizeof(rel), "sys/class/net/%s/%s", ifname, file);
	return audit_read(ctx, rel, ret);
}

/* Whether card ifname (of type Ethernet) shows its permanent address: 1 yes, 0 no. */
static int shows_permanent(const struct audit_ctx *ctx, int fd, const char *ifname,
			   const char *address)
{
	uint8_t now[LETHE_MAC_LEN], perm[LETHE_MAC_LEN];
	char *assign = NULL;
	int r;

	if (ctx->live && fd >= 0 && lethe_mac_parse(address, now) == 0 &&
	    lethe_mac_permanent(fd, ifname, perm) == 0)
		return !memcmp(now, perm, sizeof(now));
	if (card_file(ctx, ifname, "addr_assign_type", &assign) < 0)
		return 1; /* nothing says it was changed */
	r = !strcmp(assign, NET_ADDR_PERM_TEXT);
	free(assign);
	return r;
}

int audit_check_network_mac(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_buf shown = { 0 }, changed = { 0 };
	char path[4096];
	struct dirent *e;
	DIR *d;
	int fd, q = 0;

	if (ctx->spec && ctx->spec->mac == LETHE_MAC_PERMANENT)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE,
				 "the spec keeps the cards' permanent addresses (network.mac: "
				 "permanent)");
	snprintf(path, sizeof(path), "%s/sys/class/net", ctx->root);
	if (!(d = opendir(path)))
		return audit_set(r, errno == ENOENT ? LETHE_AUDIT_NOT_APPLICABLE : LETHE_AUDIT_FAIL,
				 "cannot list sys/class/net: %s", strerror(errno));
	fd = ctx->live ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
	while (q >= 0 && (e = readdir(d))) {
		char *type = NULL, *address = NULL;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
			continue;
		if (card_file(ctx, e->d_name, "type", &type) == 0 &&
		    !strcmp(type, ARPHRD_ETHER_TEXT) &&
		    card_file(ctx, e->d_name, "address", &address) == 0) {
			struct lethe_buf *b =
				shows_permanent(ctx, fd, e->d_name, address) ? &shown : &changed;

			q = lethe_buf_printf(b, "%s%s %s", b->len ? ", " : "", e->d_name, address);
		}
		free(type);
		free(address);
	}
	if (fd >= 0)
		close(fd);
	closedir(d);
	if (q >= 0) {
		if (shown.len)
			q = audit_set(r, LETHE_AUDIT_FAIL, "permanent MAC address in use: %s",
				      shown.data);
		else if (changed.len)
			q = audit_set(r, LETHE_AUDIT_PASS,
				      "no card shows its permanent address: %s", changed.data);
		else
			q = audit_set(r, LETHE_AUDIT_NOT_APPLICABLE, "no Ethernet or Wi-Fi card");
	}
	lethe_buf_release(&shown);
	lethe_buf_release(&changed);
	return q;
}

/* Module name prefixes of network drivers and stacks: Ethernet, Wi-Fi, Bluetooth, USB
 * network adapters, virtual machines' NICs, tunnels. A backstop for the build's check,
 * which knows every driver by its path. */
static const char *const net_module_prefixes[] = {
	"virtio_net", "e1000",	  "e100",      "igb",	       "igc",	    "ixgb",	 "i40e",
	"iavf",	      "r8169",	  "r8152",     "8139",	       "tg3",	    "bnx2",	 "bnxt",
	"mlx4",	      "mlx5",	  "vmxnet3",   "xen_netfront", "hv_netvsc", "ena",	 "gve",
	"ath",	      "iwl",	  "brcm",      "rtw",	       "rtl8",	    "mt76",	 "mwifiex",
	"cfg80211",   "mac80211", "bluetooth", "btusb",	       "usbnet",    "cdc_ether", "cdc_ncm",
	"rndis",      "ax88179",  "asix",      "tun",	       "veth",	    "wireguard", "nfc",
};

static bool is_net_module(const char *name)
{
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(net_module_prefixes); i++)
		if (strncmp(name, net_module_prefixes[i], strlen(net_module_prefixes[i])) == 0)
			return true;
	return false;
}

/* Every interface but lo, "NAME (driver MODULE)", comma-separated. */
static int interfaces(const struct audit_ctx *ctx, struct lethe_buf *out, unsigned *ret_n)
{
	char *dir = lethe_path_join(ctx->root, "sys/class/net");
	struct dirent *e;
	DIR *d;
	int r = 0;

	*ret_n = 0;
	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d) {
		free(dir);
		return 0; /* no /sys/class/net: no interface */
	}
	while ((e = readdir(d)) && r >= 0) {
		char link[PATH_MAX], target[PATH_MAX];
		const char *mod = NULL;
		ssize_t n;

		if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
			continue;
		snprintf(link, sizeof(link), "%s/%s/device/driver/module", dir, e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			mod = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
		}
		r = lethe_buf_printf(out, "%s%s%s%s%s", (*ret_n)++ ? ", " : "", e->d_name,
				     mod ? " (driver " : "", mod ? mod : "", mod ? ")" : "");
	}
	closedir(d);
	free(dir);
	return r;
}

/* Loaded network modules, comma-separated; *ret_total counts every loaded module. */
static int net_modules(const struct audit_ctx *ctx, struct lethe_buf *out, unsigned *ret_n,
		       unsigned *ret_total)
{
	char *text;
	int r = 0;

	*ret_n = *ret_total = 0;
	if (audit_read(ctx, "proc/modules", &text) < 0)
		return 0; /* a kernel without modules */
	for (const char *line = text, *end; *line && r >= 0; line = *end ? end + 1 : end) {
		char name[64];
		size_t len;

		end = strchrnul(line, '\n');
		len = strcspn(line, " \n");
		if (!len || len >= sizeof(name))
			continue;
		memcpy(name, line, len);
		name[len] = '\0';
		(*ret_total)++;
		if (is_net_module(name))
			r = lethe_buf_printf(out, "%s%s", (*ret_n)++ ? ", " : "", name);
	}
	free(text);
	return r;
}

int audit_check_network_none(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	struct lethe_buf ifs = { 0 }, mods = { 0 };
	unsigned n_ifs, n_mods, total;
	int q;

	if ((q = interfaces(ctx, &ifs, &n_ifs)) < 0 ||
	    (q = net_modules(ctx, &mods, &n_mods, &total)) < 0)
		goto out;
	if (!ctx->spec || !ctx->spec->network_none)
		q = audit_set(r, LETHE_AUDIT_NOT_APPLICABLE,
			      "the spec is not air-gapped (no network: none); interfaces: %s",
			      n_ifs ? ifs.data : "lo only");
	else if (n_ifs || n_mods)
		q = audit_set(r, LETHE_AUDIT_FAIL, "network: none, but %s%s%s%s%s",
			      n_ifs ? "interfaces " : "", n_ifs ? ifs.data : "",
			      n_ifs && n_mods ? "; " : "", n_mods ? "network modules loaded: " : "",
			      n_mods ? mods.data : "");
	else
		q = audit_set(r, LETHE_AUDIT_PASS,
			      "no interface but lo; none of %u loaded modules is a network driver",
			      total);
out:
	lethe_buf_release(&ifs);
	lethe_buf_release(&mods);
	return q;
}
