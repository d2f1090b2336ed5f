/* The block devices of the system and what is mounted from them: the `lsblk` and
 * `fdisk -l` view of the seed documents, read from sysfs and mountinfo. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>

#include "audit-internal.h"

#define MAX_BLOCKDEVS 4096

static bool read_flag(const struct audit_ctx *ctx, const char *name, const char *attr)
{
	char rel[512], *v = NULL;
	bool on;

	snprintf(rel, sizeof(rel), "sys/class/block/%s/%s", name, attr);
	if (audit_read(ctx, rel, &v) < 0)
		return false;
	on = strcmp(v, "1") == 0;
	free(v);
	return on;
}

static const char *device_type(const struct audit_ctx *ctx, const char *name)
{
	char rel[512], *uevent = NULL;
	bool part;

	if (!strncmp(name, "dm-", 3))
		return "dm";
	if (!strncmp(name, "loop", 4))
		return "loop";
	if (!strncmp(name, "sr", 2))
		return "rom";
	snprintf(rel, sizeof(rel), "sys/class/block/%s/uevent", name);
	if (audit_read(ctx, rel, &uevent) < 0)
		return "disk";
	part = strstr(uevent, "DEVTYPE=partition") != NULL;
	free(uevent);
	return part ? "part" : "disk";
}

/* A partition is removable when its disk is: sysfs has the flag on the disk only. */
static bool removable(const struct audit_ctx *ctx, const char *name, const char *type)
{
	char rel[512], *parent;
	bool r;

	if (read_flag(ctx, name, "removable"))
		return true;
	if (strcmp(type, "part") != 0)
		return false;
	snprintf(rel, sizeof(rel), "sys/class/block/%s/../removable", name);
	if (audit_read(ctx, rel, &parent) < 0)
		return false;
	r = strcmp(parent, "1") == 0;
	free(parent);
	return r;
}

static int fill_mounts(const struct audit_ctx *ctx, struct lethe_audit_blockdev *d, unsigned major,
		       unsigned minor)
{
	for (size_t i = 0; i < ctx->mounts.n; i++) {
		const struct lethe_mount *m = &ctx->mounts.v[i];
		int r;

		if (m->major != major || m->minor != minor)
			continue;
		r = lethe_strv_push(&d->mountpoints, m->mountpoint);
		if (r < 0)
			return r;
		if (!d->fstype && !(d->fstype = strdup(m->fstype)))
			return -ENOMEM;
		if (lethe_mount_has_option(m->options, "rw"))
			d->mounted_writable = true;
	}
	return 0;
}

static int add_device(struct audit_ctx *ctx, const char *name)
{
	struct lethe_audit_report *rep = ctx->report;
	struct lethe_audit_blockdev *d, *v;
	char rel[512], *dev = NULL, *size = NULL;
	unsigned major, minor;
	unsigned long long sectors = 0;
	int r;

	snprintf(rel, sizeof(rel), "sys/class/block/%s/dev", name);
	if (audit_read(ctx, rel, &dev) < 0)
		return 0; /* not a device we can describe */
	r = sscanf(dev, "%u:%u", &major, &minor);
	free(dev);
	if (r != 2)
		return 0;
	snprintf(rel, sizeof(rel), "sys/class/block/%s/size", name);
	if (audit_read(ctx, rel, &size) >= 0) {
		sectors = strtoull(size, NULL, 10);
		free(size);
	}
	if (rep->n_blockdevs >= MAX_BLOCKDEVS)
		return lethe_error(-E2BIG, "more than %d block devices", MAX_BLOCKDEVS);
	v = realloc(rep->blockdevs, (rep->n_blockdevs + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	rep->blockdevs = v;
	d = &v[rep->n_blockdevs];
	*d = (struct lethe_audit_blockdev){ 0 };
	d->name = strdup(name);
	d->type = strdup(device_type(ctx, name));
	if (!d->name || !d->type) {
		free(d->name);
		free(d->type);
		return -ENOMEM;
	}
	rep->n_blockdevs++;
	d->size = sectors > UINT64_MAX / 512 ? UINT64_MAX : sectors * 512;
	d->removable = removable(ctx, name, d->type);
	d->read_only = read_flag(ctx, name, "ro");
	return fill_mounts(ctx, d, major, minor);
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int audit_blockdevs(struct audit_ctx *ctx)
{
	struct lethe_strv names = { 0 };
	char *path = lethe_path_join(ctx->root, "sys/class/block");
	DIR *d;
	int r = 0;

	if (!path)
		return -ENOMEM;
	d = opendir(path);
	free(path);
	if (!d)
		return 0; /* no sysfs: no devices to show */
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.' && (r = lethe_strv_push(&names, e->d_name)) < 0)
			break;
	closedir(d);
	if (r >= 0 && names.n)
		qsort(names.v, names.n, sizeof(char *), compare_names);
	for (size_t i = 0; r >= 0 && i < names.n; i++)
		r = add_device(ctx, names.v[i]);
	lethe_strv_release(&names);
	return r;
}
