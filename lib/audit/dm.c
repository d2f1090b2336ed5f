/* Device-mapper tables and status, which the kernel keeps out of /proc and /sys: asked
 * through the DM_TABLE_STATUS ioctl on a live system (lib/core/dm.c), read from
 * fixtures otherwise. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <lethe/core.h>

#include "audit-internal.h"

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
		r = lethe_dm_table_status(name, true, &table);
		if (r >= 0)
			r = lethe_dm_table_status(name, false, &status);
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
