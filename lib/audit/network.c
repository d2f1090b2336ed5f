/* network.mac: no Ethernet-like card shows its permanent address (spec network.mac).
 * Live, the permanent address is the driver's (ETHTOOL_GPERMADDR); on a fixture root,
 * where no driver answers, the kernel's addr_assign_type says whether the current
 * address is still the one the card came with (0, NET_ADDR_PERM). */
#include <dirent.h>
#include <errno.h>
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
