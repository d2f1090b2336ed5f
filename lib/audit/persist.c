/* The one writable persistent mount an image may have (docs/persistence.md): the
 * dm-crypt device lethe-persist, when the spec opts in, mounted only at the store's
 * mount point and at the spec's directories. Anything else writable fails
 * storage.no-writable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/contract.h>

#include "audit-internal.h"

static bool allowed_mountpoint(const struct lethe_spec_persistence *p, const char *m)
{
	return !strcmp(m, LETHE_PATH_PERSIST_STORE) || lethe_strv_contains(&p->directories, m);
}

bool audit_is_persistent_store(const struct audit_ctx *ctx, const struct lethe_audit_blockdev *d)
{
	char rel[256], *uuid = NULL, *name = NULL;
	bool ok;

	if (!ctx->spec || !ctx->spec->persistence || strcmp(d->type, "dm") != 0)
		return false;
	snprintf(rel, sizeof(rel), "sys/block/%s/dm/uuid", d->name);
	if (audit_read(ctx, rel, &uuid) < 0)
		return false;
	snprintf(rel, sizeof(rel), "sys/block/%s/dm/name", d->name);
	if (audit_read(ctx, rel, &name) < 0) {
		free(uuid);
		return false;
	}
	ok = !strncmp(uuid, "CRYPT-LUKS2-", 12) && !strcmp(name, LETHE_DM_PERSIST_NAME);
	for (size_t i = 0; ok && i < d->mountpoints.n; i++)
		ok = allowed_mountpoint(ctx->spec->persistence, d->mountpoints.v[i]);
	free(uuid);
	free(name);
	return ok;
}
