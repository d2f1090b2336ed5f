/* Device mapper through its ioctls (what dmsetup and libdevmapper do, without them):
 * lethe-init creates the verified root with one read-only verity target, the audit
 * asks the kernel for the live tables, which it keeps out of /proc and /sys. */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <lethe/core.h>

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

static int dm_open(bool make_node)
{
	int fd = open(LETHE_DM_CONTROL, O_RDWR | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && make_node) {
		/* devtmpfs makes the node when dm-mod loads; a built-in dm has it from
		 * the start. Make it ourselves if neither happened (misc 10:236). */
		(void)mkdir("/dev/mapper", 0755);
		(void)mknod(LETHE_DM_CONTROL, S_IFCHR | 0600, makedev(10, 236));
		fd = open(LETHE_DM_CONTROL, O_RDWR | O_CLOEXEC);
	}
	return fd < 0 ? -errno : fd;
}

int lethe_dm_create_verity(const char *name, uint64_t sectors, const char *params, dev_t *ret_dev)
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
	fd = dm_open(true);
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

int lethe_dm_remove(const char *name)
{
	struct dm_ioctl io;
	int fd = dm_open(true), r = 0;

	if (fd < 0)
		return fd;
	dm_init(&io, sizeof(io), name);
	if (ioctl(fd, DM_DEV_REMOVE, &io) < 0)
		r = -errno;
	close(fd);
	return r;
}

/* Append to a malloc'd, NUL-terminated string. */
static int append(char **s, size_t *len, const char *add)
{
	size_t n = strlen(add);
	char *p = realloc(*s, *len + n + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p + *len, add, n + 1);
	*s = p;
	*len += n;
	return 0;
}

int lethe_dm_table_status(const char *name, bool table, char **ret)
{
	char *buf, *out = NULL, line[64];
	struct dm_ioctl *io;
	size_t off, len = 0;
	int fd, r = 0;

	buf = malloc(DM_BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	io = (struct dm_ioctl *)buf;
	dm_init(io, DM_BUF_SIZE, name);
	io->flags = table ? DM_STATUS_TABLE_FLAG : 0;

	fd = dm_open(false);
	if (fd < 0) {
		r = fd;
		goto out;
	}
	if (ioctl(fd, DM_TABLE_STATUS, io) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		goto out;
	if (io->flags & DM_BUFFER_FULL_FLAG || io->data_start > DM_BUF_SIZE) {
		r = -E2BIG;
		goto out;
	}
	buf[DM_BUF_SIZE - 1] = '\0';
	off = io->data_start;
	r = append(&out, &len, "");
	for (uint32_t i = 0; r >= 0 && i < io->target_count; i++) {
		struct dm_target_spec *t;

		/* The parameters follow the spec: at least their NUL must fit. */
		if (off >= DM_BUF_SIZE - sizeof(*t)) {
			r = -EBADMSG;
			break;
		}
		t = (struct dm_target_spec *)(buf + off);
		t->target_type[sizeof(t->target_type) - 1] = '\0';
		snprintf(line, sizeof(line), "%llu %llu ", (unsigned long long)t->sector_start,
			 (unsigned long long)t->length);
		r = append(&out, &len, line);
		if (r >= 0)
			r = append(&out, &len, t->target_type);
		if (r >= 0)
			r = append(&out, &len, " ");
		if (r >= 0)
			r = append(&out, &len, (char *)(t + 1));
		if (r >= 0)
			r = append(&out, &len, "\n");
		if (t->next == 0)
			break;
		off = io->data_start + t->next;
	}
	if (r >= 0) {
		*ret = out;
		out = NULL;
	}
out:
	free(out);
	free(buf);
	return r;
}
