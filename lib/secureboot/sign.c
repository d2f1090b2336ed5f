/* Signing a PE image (systemd-boot, a UKI) with db, and checking a signature, with
 * Debian's sbsigntool. A signed file is checked by sbverify before it replaces anything. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lethe/run.h>
#include <lethe/secureboot.h>
#include <lethe/util.h>

#include "sb-internal.h"

const char *sb_tool(enum sb_tool t)
{
	const char *v = getenv(t == SB_TOOL_SIGN ? "LETHE_SBSIGN" : "LETHE_SBVERIFY");

	return v && *v ? v : t == SB_TOOL_SIGN ? "sbsign" : "sbverify";
}

int lethe_sb_verify(const char *path, const char *cert)
{
	struct lethe_run_result res = { 0 };
	const char *argv[] = { sb_tool(SB_TOOL_VERIFY), "--cert", cert, path, NULL };
	int r = lethe_run((char *const *)argv, NULL, &res);

	if (r == -EIO)
		r = lethe_error(-LETHE_E_REJECTED, "'%s' is not signed by '%s': %s", path, cert,
				res.last_line[0] ? res.last_line : "sbverify refused it");
	lethe_run_result_release(&res);
	return r;
}

int lethe_sb_sign(const struct lethe_sb_keys *k, const char *in, const char *out)
{
	char *tmp = NULL;
	int r;

	if (asprintf(&tmp, "%s.sbsign-tmp", out) < 0)
		return -ENOMEM;
	unlink(tmp);
	r = sb_run((const char *const[]){ sb_tool(SB_TOOL_SIGN), "--key", k->key[LETHE_SB_DB],
					  "--cert", k->crt[LETHE_SB_DB], "--output", tmp, in,
					  NULL });
	if (r >= 0)
		r = lethe_sb_verify(tmp, k->crt[LETHE_SB_DB]);
	if (r >= 0 && rename(tmp, out) < 0)
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", tmp, out);
	if (r < 0)
		unlink(tmp);
	free(tmp);
	return r;
}
