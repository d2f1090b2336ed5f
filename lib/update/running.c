/* The running system as lethe update sees it: the root hash it booted (its cmdline)
 * and the disk that holds that root, found through sysfs by PARTUUID. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <strings.h>
#include <unistd.h>

#include "update-internal.h"

/* Debian's kernels put no PARTUUID= in a partition's uevent (lib/core/gpt.c): read the
 * GPT of each whole disk instead, as stage 1 does, and find the root partition there. */
static int disk_of_partuuid_gpt(const char *uuid, char **ret)
{
	static const char *const skip[] = { "loop", "ram", "zram", "dm-", "sr", "md" };
	DIR *d = opendir("/sys/block");
	struct dirent *de;
	int r = -ENOENT;

	if (!d)
		return -ENOENT;
	while (r == -ENOENT && (de = readdir(d))) {
		struct lethe_update_disk disk = { 0 };
		char dev[300];
		bool skipped = de->d_name[0] == '.';

		for (size_t i = 0; i < LETHE_ARRAY_SIZE(skip); i++)
			skipped |= !strncmp(de->d_name, skip[i], strlen(skip[i]));
		if (skipped)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", de->d_name);
		if (lethe_update_disk_open(dev, &disk) < 0) {
			lethe_error_clear(); /* not an installed Lethe disk */
			continue;
		}
		for (int s = 0; s < LETHE_SLOT_N; s++)
			if (!strcasecmp(disk.root[s].uuid, uuid)) {
				*ret = strdup(dev);
				r = *ret ? 0 : -ENOMEM;
			}
		lethe_update_disk_release(&disk);
	}
	closedir(d);
	return r;
}

static int disk_of_partuuid(const char *uuid, char **ret)
{
	DIR *d = opendir("/sys/class/block");
	struct dirent *de;
	int r = -ENOENT;

	if (!d)
		return lethe_error(-errno, "cannot list /sys/class/block: %m");
	while (r == -ENOENT && (de = readdir(d))) {
		char path[600], *text = NULL, *p;
		size_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", de->d_name);
		if (lethe_file_read(path, 65536, &text, &len) < 0)
			continue;
		p = strstr(text, "PARTUUID=");
		if (p && !strncasecmp(p + 9, uuid, LETHE_UUID_STR - 1)) {
			/* The parent directory of a partition in sysfs is its disk. */
			snprintf(path, sizeof(path), "/sys/class/block/%s/..", de->d_name);
			char real[4096];

			if (realpath(path, real)) {
				const char *base = strrchr(real, '/');
				struct lethe_buf b = { 0 };

				r = lethe_buf_printf(&b, "/dev/%s", base ? base + 1 : real);
				if (r >= 0)
					*ret = b.data;
			} else {
				r = lethe_error(-errno, "cannot resolve '%s': %m", path);
			}
		}
		free(text);
	}
	closedir(d);
	if (r == -ENOENT)
		r = disk_of_partuuid_gpt(uuid, ret);
	if (r == -ENOENT)
		r = lethe_error(-ENOENT,
				"no partition has PARTUUID %s: which disk did this boot from?",
				uuid);
	return r;
}

int lethe_update_running(char roothash[LETHE_ROOTHASH_HEX + 1], char **ret_disk)
{
	char *text = NULL, data[LETHE_UUID_STR], verity[LETHE_UUID_STR];
	uint8_t rh[32];
	size_t len = 0;
	int r = lethe_file_read("/proc/cmdline", LETHE_CMDLINE_MAX, &text, &len);

	if (r < 0)
		return lethe_error(r, "cannot read /proc/cmdline: %s", strerror(-r));
	r = lethe_cmdline_roothash(text, len, roothash);
	free(text);
	if (r < 0 || !ret_disk)
		return r;
	r = lethe_hex_decode(roothash, rh, sizeof(rh));
	if (r >= 0)
		r = lethe_partuuids_from_roothash(rh, sizeof(rh), data, verity);
	return r < 0 ? r : disk_of_partuuid(data, ret_disk);
}
