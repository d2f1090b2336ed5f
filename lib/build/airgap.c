/* An air-gapped spec (network: none) gets no network at all: the build refuses a package
 * that brings a network tool into the root, and a kernel module of the initramfs that
 * is a network driver (by where it sits in the kernel tree), naming what brought it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/boot.h>
#include <lethe/pkg.h>
#include <lethe/spec.h>

#include "build-internal.h"

#define LIST_MAX (8u << 20) /* a dpkg .list file */

/* Where the kernel keeps network device drivers and the wireless, Bluetooth and NFC
 * stacks (relative to lib/modules/VERSION). net/netfilter and the protocol modules stay
 * allowed: the firewall needs them, and without a driver they reach nothing. */
static const char *const net_module_dirs[] = {
	"kernel/drivers/net/",	      "kernel/drivers/bluetooth/", "kernel/drivers/nfc/",
	"kernel/drivers/infiniband/", "kernel/net/wireless/",	   "kernel/net/mac80211/",
	"kernel/net/bluetooth/",      "kernel/net/nfc/",
};

/* Programs that configure a network or talk over one, by name in a bin or sbin
 * directory. busybox-static's applets are not programs of their own (Debian ships it
 * without applet links), and with no driver they reach nothing. */
static const char *const net_tools[] = {
	"ip",
	"ifconfig",
	"route",
	"dhclient",
	"dhcpcd",
	"udhcpc",
	"wpa_supplicant",
	"wpa_cli",
	"iw",
	"iwconfig",
	"iwd",
	"hostapd",
	"NetworkManager",
	"nmcli",
	"connmand",
	"systemd-networkd",
	"pppd",
	"openvpn",
	"wg",
	"wg-quick",
	"ssh",
	"sshd",
	"scp",
	"sftp",
	"curl",
	"wget",
	"nc",
	"ncat",
	"netcat",
	"socat",
	"telnet",
	"ftp",
	"rsync",
	"tor",
	"ping",
	"arping",
	"tcpdump",
	"nmap",
	"bluetoothctl",
	"bluetoothd",
};

static const char *const bin_dirs[] = { "/bin/",      "/sbin/",		 "/usr/bin/",
					"/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/" };

static bool is_net_tool(const char *path, size_t len)
{
	for (size_t d = 0; d < LETHE_ARRAY_SIZE(bin_dirs); d++) {
		size_t dl = strlen(bin_dirs[d]);

		if (len <= dl || strncmp(path, bin_dirs[d], dl) != 0)
			continue;
		for (size_t t = 0; t < LETHE_ARRAY_SIZE(net_tools); t++)
			if (len - dl == strlen(net_tools[t]) &&
			    memcmp(path + dl, net_tools[t], len - dl) == 0)
				return true;
	}
	return false;
}

static bool is_net_module(const char *path)
{
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(net_module_dirs); i++)
		if (strncmp(path, net_module_dirs[i], strlen(net_module_dirs[i])) == 0)
			return true;
	return false;
}

/* ROOT/var/lib/dpkg/info/NAME.list or NAME:ARCH.list (Multi-Arch: same). */
static int read_list(const struct lethe_build_ctx *ctx, const struct lethe_pkg *p, char **ret)
{
	char rel[512], *path;
	size_t len;
	int r = -ENOENT;

	for (int i = 0; i < 2 && r == -ENOENT; i++) {
		if (i == 0)
			snprintf(rel, sizeof(rel), "var/lib/dpkg/info/%s.list", p->name);
		else
			snprintf(rel, sizeof(rel), "var/lib/dpkg/info/%s:%s.list", p->name,
				 p->arch ? p->arch : "");
		path = lethe_path_join(ctx->root, rel);
		if (!path)
			return -ENOMEM;
		r = lethe_file_read(path, LIST_MAX, ret, &len);
		free(path);
	}
	if (r == -ENOENT)
		lethe_error_clear(); /* a package that left no file in the root */
	return r;
}

static int refuse_tools(struct lethe_build_ctx *ctx)
{
	for (size_t i = 0; i < ctx->set->n; i++) {
		const struct lethe_pkg *p = &ctx->set->pkgs[i];
		char *list = NULL;
		int r;

		if (p->role != LETHE_PKG_ROOT)
			continue;
		r = read_list(ctx, p, &list);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		for (char *line = list, *end; *line; line = *end ? end + 1 : end) {
			end = strchrnul(line, '\n');
			if (!is_net_tool(line, (size_t)(end - line)))
				continue;
			r = lethe_error(
				-LETHE_E_INVALID,
				"spec '%s' says network: none, but package '%s' brings the "
				"network tool '%.*s' (remove it from packages, or add it to "
				"drop:)",
				ctx->spec->path, p->name, (int)(end - line), line);
			free(list);
			return r;
		}
		free(list);
	}
	return 0;
}

/* Module names compare with '-' and '_' alike, as the kernel does. */
static bool same_module(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if ((*a == '-' ? '_' : *a) != (*b == '-' ? '_' : *b))
			return false;
	return !*a && !*b;
}

static bool listed(const struct lethe_strv *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (same_module(v->v[i], name))
			return true;
	return false;
}

static int refuse_modules(struct lethe_build_ctx *ctx, unsigned *ret_n)
{
	const struct lethe_spec_kernel *k = &ctx->spec->kernel;
	struct lethe_boot_modules mods = { 0 };
	char *version = NULL;
	int r;

	*ret_n = 0;
	if (!ctx->kernel_dir || !k->modules.n)
		return 0;
	if ((r = lethe_boot_kernel_version(ctx->kernel_dir, &version)) < 0 ||
	    (r = lethe_boot_depmod(ctx->kernel_dir, version)) < 0 ||
	    (r = lethe_boot_modules_resolve(ctx->kernel_dir, version, &k->modules, &mods)) < 0)
		goto out;
	/* Name a module the spec lists before a dependency it brings (virtio_net, not the
	 * net_failover it needs). */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < mods.n; i++) {
			bool is_listed = listed(&k->modules, mods.v[i].name);

			if (!is_net_module(mods.v[i].path) || (pass == 0 && !is_listed))
				continue;
			r = lethe_error(-LETHE_E_INVALID,
					"spec '%s' says network: none, but kernel.modules %s the "
					"network driver '%s' (%s, from package '%s')",
					ctx->spec->path, is_listed ? "lists" : "depends on",
					mods.v[i].name, mods.v[i].path,
					k->package ? k->package : "?");
			goto out;
		}
	}
	*ret_n = (unsigned)mods.n;
out:
	lethe_boot_modules_release(&mods);
	free(version);
	return r;
}

int build_stage_airgap(struct lethe_build_ctx *ctx)
{
	unsigned n = 0;
	int r;

	if (!ctx->spec->network_none) {
		snprintf(ctx->detail, sizeof(ctx->detail), "the spec has a network");
		return 0;
	}
	if ((r = refuse_tools(ctx)) < 0 || (r = refuse_modules(ctx, &n)) < 0)
		return r;
	snprintf(ctx->detail, sizeof(ctx->detail),
		 "network: none: no network tool in the root, none of %u modules a network "
		 "driver",
		 n);
	return 0;
}
