/* session.unprivileged (issue 13.3): the console session is not root's. From the image:
 * the spec's session.user is an account of /etc/passwd with a uid other than 0. Live:
 * the process lethe-init started as the session (LETHE_PATH_SESSION_PID) runs with no
 * uid 0 among its real, effective, saved and file-system ids and no capability. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/contract.h>

#include "audit-internal.h"

/* The uid of user in ROOT/etc/passwd, or -errno. */
static long passwd_uid(const struct audit_ctx *ctx, const char *user)
{
	char *text = NULL, *line, *save = NULL;
	long uid = -ENOENT;
	size_t n = strlen(user);

	if (audit_read(ctx, "etc/passwd", &text) < 0)
		return -ENOENT;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f;

		if (strncmp(line, user, n) || line[n] != ':' || !(f = strchr(line + n + 1, ':')))
			continue;
		uid = strtol(f + 1, NULL, 10);
		break;
	}
	free(text);
	return uid;
}

/* A "Name:\tv1\tv2..." line of status; false when absent. */
static bool status_field(const char *status, const char *name, char *out, size_t size)
{
	const char *p = strstr(status, name), *end;

	if (!p || (p != status && p[-1] != '\n'))
		return false;
	p += strlen(name);
	p += strspn(p, "\t ");
	end = strchrnul(p, '\n');
	snprintf(out, size, "%.*s", (int)(end - p), p);
	return true;
}

static int check_live(struct audit_ctx *ctx, struct lethe_audit_result *r, const char *user,
		      long uid)
{
	char *pid = NULL, *status = NULL, rel[64], uids[128], caps[3][32];
	static const char *const capf[] = { "CapPrm:", "CapEff:", "CapAmb:" };
	int q;

	if (audit_read(ctx, LETHE_PATH_SESSION_PID + 1, &pid) < 0)
		return audit_set(r, LETHE_AUDIT_PASS,
				 "session.user '%s' is uid %ld; no console session is running",
				 user, uid);
	snprintf(rel, sizeof(rel), "proc/%ld/status", strtol(pid, NULL, 10));
	free(pid);
	q = audit_read(ctx, rel, &status);
	if (q < 0)
		return audit_set(r, LETHE_AUDIT_PASS,
				 "session.user '%s' is uid %ld; the console session has ended",
				 user, uid);
	if (!status_field(status, "Uid:", uids, sizeof(uids))) {
		free(status);
		return audit_set(r, LETHE_AUDIT_FAIL, "%s has no Uid line", rel);
	}
	for (size_t i = 0; i < 3; i++)
		if (!status_field(status, capf[i], caps[i], sizeof(caps[i])))
			snprintf(caps[i], sizeof(caps[i]), "?");
	free(status);
	for (char *p = uids, *end; *p; p = end) {
		long v = strtol(p, &end, 10);

		if (end == p)
			break;
		if (v == 0)
			return audit_set(r, LETHE_AUDIT_FAIL,
					 "the console session (%s) runs with uid 0 (Uid: %s)", rel,
					 uids);
	}
	for (size_t i = 0; i < 3; i++)
		if (strspn(caps[i], "0") != strlen(caps[i]) || !caps[i][0])
			return audit_set(r, LETHE_AUDIT_FAIL,
					 "the console session (%s) holds capabilities (%s %s)", rel,
					 capf[i], caps[i]);
	return audit_set(r, LETHE_AUDIT_PASS,
			 "the console session (%s) runs as '%s' (Uid: %s) with no capabilities",
			 rel, user, uids);
}

int audit_check_session(struct audit_ctx *ctx, struct lethe_audit_result *r)
{
	const char *user;
	long uid;

	if (!ctx->spec)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE, "no spec: not a Lethe system");
	user = ctx->spec->session.user;
	if (!user)
		return audit_set(r, LETHE_AUDIT_NOT_APPLICABLE,
				 "the spec has no session: section: the console shell, if the "
				 "image has one, is the machine owner's root shell");
	uid = passwd_uid(ctx, user);
	if (uid < 0)
		return audit_set(r, LETHE_AUDIT_FAIL, "session.user '%s' is not in /etc/passwd",
				 user);
	if (uid == 0)
		return audit_set(r, LETHE_AUDIT_FAIL, "session.user '%s' has uid 0 in /etc/passwd",
				 user);
	return check_live(ctx, r, user, uid);
}
