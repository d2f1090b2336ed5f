/* Which block devices may become a store (never one the running system or its boot
 * medium uses), and which one a spec's UUID= or PARTLABEL= names, read from sysfs,
 * mountinfo and /proc/swaps. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libcryptsetup.h>

#include <lethe/core.h>
#include <lethe/persist.h>

#define PBUF	  (PATH_MAX + 512) /* a sysfs path plus a component and a file name */
#define MAX_DEPTH 8		   /* dm on dm on ...: the slaves walked at most this deep */

static const char *sysfs_of(const struct lethe_persist_probe *p)
{
	return p && p->sysfs ? p->sysfs : "/sys";
}

static const char *proc_of(const struct lethe_persist_probe *p)
{
	return p && p->proc ? p->proc : "/proc";
}

/* "MAJ:MIN" of the whole disk that holds dev (dev itself when it is a disk). */
static int disk_of(const char *sysfs, unsigned major, unsigned minor, char *ret, size_t size)
{
	char path[PBUF], real[PATH_MAX], *slash;
	struct stat st;
	char *text = NULL;
	size_t len;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sysfs, major, minor);
	if (!realpath(path, real))
		return -errno;
	snprintf(path, sizeof(path), "%s/partition", real);
	if (stat(path, &st) < 0) {
		snprintf(ret, size, "%u:%u", major, minor);
		return 0;
	}
	slash = strrchr(real, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	snprintf(path, sizeof(path), "%s/dev", real);
	if (lethe_file_read(path, 64, &text, &len) < 0) {
		lethe_error_clear();
		return -ENOENT;
	}
	text[strcspn(text, "\n")] = '\0';
	snprintf(ret, size, "%s", text);
	free(text);
	return 0;
}

/* Is the disk of MAJ:MIN, or of any device it is built on (dm slaves), disk? */
static bool uses_disk(const char *sysfs, unsigned major, unsigned minor, const char *disk,
		      int depth)
{
	char d[32], path[PATH_MAX];
	struct dirent *e;
	bool hit = false;
	DIR *dir;

	if (depth > MAX_DEPTH)
		return false;
	if (disk_of(sysfs, major, minor, d, sizeof(d)) == 0 && !strcmp(d, disk))
		return true;
	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/slaves", sysfs, major, minor);
	dir = opendir(path);
	if (!dir)
		return false;
	while (!hit && (e = readdir(dir))) {
		char dev[PBUF], *text = NULL;
		unsigned ma, mi;
		size_t len;

		if (e->d_name[0] == '.')
			continue;
		snprintf(dev, sizeof(dev), "%s/%s/dev", path, e->d_name);
		if (lethe_file_read(dev, 64, &text, &len) < 0) {
			lethe_error_clear();
			continue;
		}
		if (sscanf(text, "%u:%u", &ma, &mi) == 2)
			hit = uses_disk(sysfs, ma, mi, disk, depth + 1);
		free(text);
	}
	closedir(dir);
	return hit;
}

/* A device-mapper (or md) device is built on dev, or on a partition of disk dev. */
static bool has_holders(const char *sysfs, unsigned major, unsigned minor)
{
	char path[PBUF], real[PATH_MAX];
	struct dirent *e;
	bool held = false;
	DIR *dir;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u", sysfs, major, minor);
	if (!realpath(path, real))
		return false;
	snprintf(path, sizeof(path), "%s/holders", real);
	dir = opendir(path);
	if (dir) {
		while (!held && (e = readdir(dir)))
			held = e->d_name[0] != '.';
		closedir(dir);
	}
	/* The partitions of a disk are its subdirectories with a "partition" file. */
	dir = held ? NULL : opendir(real);
	while (dir && !held && (e = readdir(dir))) {
		struct stat st;
		DIR *h;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/partition", real, e->d_name);
		if (stat(path, &st) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/holders", real, e->d_name);
		h = opendir(path);
		while (h && !held && (e = readdir(h)))
			held = e->d_name[0] != '.';
		if (h)
			closedir(h);
	}
	if (dir)
		closedir(dir);
	return held;
}

static int check_mounts(const struct lethe_persist_probe *probe, const char *device,
			const char *disk)
{
	char path[PBUF], *text = NULL;
	struct lethe_mounts m = { 0 };
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/self/mountinfo", proc_of(probe));
	r = lethe_file_read(path, 16u << 20, &text, &len);
	if (r < 0)
		return r;
	r = lethe_mountinfo_parse(path, text, &m);
	free(text);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m.n; i++) {
		if (m.v[i].major == 0)
			continue; /* tmpfs, proc, overlay: no block device */
		if (uses_disk(sysfs_of(probe), m.v[i].major, m.v[i].minor, disk, 0)) {
			r = lethe_error(-EBUSY,
					"'%s' is on a disk in use: %s (%u:%u) is mounted at '%s'; "
					"a store must be a separate device, never the running "
					"system's or its boot medium",
					device, m.v[i].source, m.v[i].major, m.v[i].minor,
					m.v[i].mountpoint);
			break;
		}
	}
	lethe_mounts_release(&m);
	return r;
}

static int check_swaps(const struct lethe_persist_probe *probe, const char *device,
		       const char *disk)
{
	char path[PBUF], *text = NULL, *line, *save = NULL;
	size_t len;
	int r = 0;

	snprintf(path, sizeof(path), "%s/swaps", proc_of(probe));
	if (lethe_file_read(path, 1u << 20, &text, &len) < 0) {
		lethe_error_clear();
		return 0; /* no swap support: no swap */
	}
	for (line = strtok_r(text, "\n", &save); line && r == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		char name[PATH_MAX];
		struct stat st;

		if (sscanf(line, "%4095s", name) != 1 || name[0] != '/' || stat(name, &st) < 0 ||
		    !S_ISBLK(st.st_mode))
			continue;
		if (uses_disk(sysfs_of(probe), major(st.st_rdev), minor(st.st_rdev), disk, 0))
			r = lethe_error(-EBUSY, "'%s' is on a disk in use: '%s' is swap", device,
					name);
	}
	free(text);
	return r;
}

int lethe_persist_check_target(const struct lethe_persist_probe *probe, const char *device)
{
	char disk[32];
	struct stat st;
	unsigned ma, mi;
	int r;

	if (stat(device, &st) < 0)
		return lethe_error(-errno, "cannot use '%s': %m", device);
	if (S_ISREG(st.st_mode))
		return 0;
	if (!S_ISBLK(st.st_mode))
		return lethe_error(-EINVAL, "'%s' is neither a block device nor a regular file",
				   device);
	ma = major(st.st_rdev);
	mi = minor(st.st_rdev);
	r = disk_of(sysfs_of(probe), ma, mi, disk, sizeof(disk));
	if (r < 0)
		return lethe_error(r, "'%s' (%u:%u) is not in %s/dev/block", device, ma, mi,
				   sysfs_of(probe));
	if (has_holders(sysfs_of(probe), ma, mi))
		return lethe_error(-EBUSY,
				   "'%s' is in use: a device-mapper or md device is built "
				   "on it",
				   device);
	r = check_mounts(probe, device, disk);
	if (r == 0)
		r = check_swaps(probe, device, disk);
	return r;
}

/* The value of key= in a uevent file's text, copied; NULL when absent. */
static char *uevent_get(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, n) && l[n] == '=')
			return strndup(l + n + 1, strcspn(l + n + 1, "\n"));
	return NULL;
}

static bool luks_uuid_is(const char *dev, const char *uuid)
{
	struct crypt_device *cd = NULL;
	bool hit = false;

	if (crypt_init(&cd, dev) == 0 && crypt_load(cd, CRYPT_LUKS2, NULL) == 0)
		hit = crypt_get_uuid(cd) && !strcmp(crypt_get_uuid(cd), uuid);
	crypt_free(cd);
	return hit;
}

int lethe_persist_find(const struct lethe_persist_probe *probe, const char *spec_device, char **ret)
{
	enum lethe_spec_persist_by by;
	char path[PBUF], *found = NULL;
	const char *id;
	struct dirent *e;
	DIR *dir;
	int r = 0;

	if (lethe_spec_persist_device_parse(spec_device, &by, &id) < 0)
		return lethe_error(-EINVAL, "'%s' is not UUID=... or PARTLABEL=...", spec_device);
	snprintf(path, sizeof(path), "%s/class/block", sysfs_of(probe));
	dir = opendir(path);
	if (!dir)
		return lethe_error(-errno, "cannot list '%s': %m", path);
	while (r == 0 && (e = readdir(dir))) {
		char file[PBUF + 512], *text = NULL, *v, dev[PBUF];
		size_t len;
		bool hit;

		if (e->d_name[0] == '.' || !strncmp(e->d_name, "dm-", 3) ||
		    !strncmp(e->d_name, "ram", 3) || !strncmp(e->d_name, "zram", 4))
			continue; /* our own mappings and RAM disks hold no store */
		snprintf(file, sizeof(file), "%s/%s/uevent", path, e->d_name);
		if (lethe_file_read(file, 1u << 16, &text, &len) < 0) {
			lethe_error_clear();
			continue;
		}
		v = uevent_get(text, "DEVNAME");
		free(text);
		if (!v)
			continue;
		snprintf(dev, sizeof(dev), "/dev/%s", v);
		free(v);
		if (by == LETHE_SPEC_PERSIST_BY_PARTLABEL) {
			text = NULL;
			if (lethe_file_read(file, 1u << 16, &text, &len) < 0) {
				lethe_error_clear();
				continue;
			}
			v = uevent_get(text, "PARTNAME");
			free(text);
			hit = v && !strcmp(v, id);
			free(v);
		} else {
			hit = luks_uuid_is(dev, id);
		}
		if (!hit)
			continue;
		if (found)
			r = lethe_error(-ENOTUNIQ, "both '%s' and '%s' are %s", found, dev,
					spec_device);
		else if (!(found = strdup(dev)))
			r = -ENOMEM;
	}
	closedir(dir);
	if (r == 0 && !found)
		r = lethe_error(-ENOENT, "no block device is %s", spec_device);
	if (r < 0) {
		free(found);
		return r;
	}
	*ret = found;
	return 0;
}
