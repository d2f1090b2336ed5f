/* Device-mapper tables and status, which the kernel keeps out of /proc and /sys: asked
 * through the DM_TABLE_STATUS ioctl on a live system, read from fixtures otherwise. */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "audit-internal.h"

#define DM_BUF_SIZE (16 * 1024)

/* One DM_TABLE_STATUS call: every target as "START LENGTH TYPE PARAMS" lines. */
static int dm_ioctl_lines(const char *name, bool table, char **ret)
{
	struct lethe_buf out = { 0 };
	struct dm_ioctl *io;
	char *buf;
	int fd, r = 0;

	buf = calloc(1, DM_BUF_SIZE);
	if (!buf)
		return -ENOMEM;
	io = (struct dm_ioctl *)buf;
	io->version[0] = DM_VERSION_MAJOR;
	io->version[1] = 0;
	io->version[2] = 0;
	io->data_size = DM_BUF_SIZE;
	io->data_start = sizeof(*io);
	io->flags = table ? DM_STATUS_TABLE_FLAG : 0;
	snprintf(io->name, sizeof(io->name), "%s", name);

	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
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
	size_t off = io->data_start;

	for (uint32_t i = 0; i < io->target_count; i++) {
		struct dm_target_spec *t;

		if (off > DM_BUF_SIZE - sizeof(*t)) {
			r = -EBADMSG;
			goto out;
		}
		t = (struct dm_target_spec *)(buf + off);
		buf[DM_BUF_SIZE - 1] = '\0';
		t->target_type[sizeof(t->target_type) - 1] = '\0';
		r = lethe_buf_printf(&out, "%llu %llu %s %s\n", (unsigned long long)t->sector_start,
				     (unsigned long long)t->length, t->target_type,
				     (char *)(t + 1));
		if (r < 0)
			goto out;
		if (t->next == 0)
			break;
		off = io->data_start + t->next;
	}
	*ret = out.data ? out.data : strdup("");
	out.data = NULL;
	if (!*ret)
		r = -ENOMEM;
out:
	lethe_buf_release(&out);
	free(buf);
	return r;
}

int audit_dm_query(const struct audit_ctx *ctx, const char *kname, char **ret_name,
		   char **ret_table, char **ret_status)
{
	char rel[256], *name = NULL, *table = NULL, *status = NULL;
	int r;

	snprintf(rel, sizeof(rel), "sys/block/%s/dm/name", kname);
	r = audit_read(ctx, rel, &name);
	if (r < 0)
		return r;
	if (ctx->live) {
		r = dm_ioctl_lines(name, true, &table);
		if (r >= 0)
			r = dm_ioctl_lines(name, false, &status);
	} else {
		snprintf(rel, sizeof(rel), "dm/%s.table", name);
		r = audit_read(ctx, rel, &table);
		if (r >= 0) {
			snprintf(rel, sizeof(rel), "dm/%s.status", name);
			r = audit_read(ctx, rel, &status);
		}
	}
	if (r < 0) {
		free(name);
		free(table);
		free(status);
		return r;
	}
	*ret_name = name;
	*ret_table = table;
	*ret_status = status;
	return 0;
}
