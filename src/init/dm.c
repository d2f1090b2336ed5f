/* Device mapper through its ioctls (what dmsetup and libdevmapper do, without them):
 * create a device, load one read-only verity target, resume it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"

#define DM_CONTROL "/dev/mapper/control"
#define DM_BUF_SIZE 16384

static void dm_init(struct dm_ioctl *io, size_t size, const char *name)
{
	memset(io, 0, size);
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = (uint32_t)size;
	io->data_start = sizeof(struct dm_ioctl);
	snprintf(io->name, sizeof(io->name), "%s", name);
}

static int dm_open(void)
{
	int fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT) {
		/* devtmpfs makes the node when dm-mod loads; a built-in dm has it from
		 * the start. Make it ourselves if neither happened (misc 10:236). */
		(void)init_mkdir_p("/dev/mapper", 0755);
		(void)mknod(DM_CONTROL, S_IFCHR | 0600, makedev(10, 236));
		fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

int init_dm_create_verity(const char *name, uint64_t sectors, const char *params,
			  dev_t *ret_dev)
{
	union {
		struct dm_ioctl io;
		char raw[DM_BUF_SIZE];
	} buf;
	struct dm_target_spec *spec;
	size_t plen = strlen(params);
	int fd, r;

	if (sizeof(struct dm_ioctl) + sizeof(*spec) + plen + 1 > sizeof(buf))
		return -E2BIG;
	fd = dm_open();
	if (fd < 0)
		return fd;

	dm_init(&buf.io, sizeof(buf), name);
	if (ioctl(fd, DM_DEV_CREATE, &buf) < 0) {
		r = -errno;
		goto out;
	}

	dm_init(&buf.io, sizeof(buf), name);
	buf.io.flags = DM_READONLY_FLAG;
	buf.io.target_count = 1;
	spec = (struct dm_target_spec *)(buf.raw + sizeof(struct dm_ioctl));
	spec->sector_start = 0;
	spec->length = sectors;
	spec->status = 0;
	spec->next = 0;
	snprintf(spec->target_type, sizeof(spec->target_type), "verity");
	memcpy((char *)(spec + 1), params, plen + 1);
	if (ioctl(fd, DM_TABLE_LOAD, &buf) < 0) {
		r = -errno;
		goto out_remove;
	}

	/* DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the loaded table goes live. */
	dm_init(&buf.io, sizeof(buf), name);
	if (ioctl(fd, DM_DEV_SUSPEND, &buf) < 0) {
		r = -errno;
		goto out_remove;
	}
	*ret_dev = (dev_t)buf.io.dev;
	close(fd);
	return 0;

out_remove:
	dm_init(&buf.io, sizeof(buf), name);
	(void)ioctl(fd, DM_DEV_REMOVE, &buf);
out:
	close(fd);
	return r;
}

int init_dm_remove(const char *name)
{
	struct dm_ioctl io;
	int fd = dm_open(), r = 0;

	if (fd < 0)
		return fd;
	dm_init(&io, sizeof(io), name);
	if (ioctl(fd, DM_DEV_REMOVE, &io) < 0)
		r = -errno;
	close(fd);
	return r;
}
