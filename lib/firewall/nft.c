/* Talk to the kernel through libnftables: load the table in one transaction, and read
 * the live table back to compare it with the expected one. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "firewall-internal.h"

/* nft's messages span lines (the command, a caret line): keep the first error line. */
static int nft_failure(struct nft_ctx *ctx, const char *what)
{
	const char *msg = nft_ctx_get_error_buffer(ctx);
	const char *line = msg && *msg ? msg : "unknown error";
	const char *err = strstr(line, "Error: ");
	size_t len;
	int r = -EIO;

	if (err)
		line = err + 7;
	len = strcspn(line, "\n");
	if (strstr(line, "Operation not permitted"))
		r = -EPERM;
	else if (strstr(line, "No such file or directory"))
		r = -ENOENT;
	else if (strstr(line, "Protocol not supported") || strstr(line, "not supported"))
		r = -EOPNOTSUPP;
	return lethe_error(r, "%s: %.*s", what, (int)(len > 400 ? 400 : len), line);
}

static struct nft_ctx *nft_open(unsigned output_flags)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx)
		return NULL;
	if (nft_ctx_buffer_output(ctx) || nft_ctx_buffer_error(ctx)) {
		nft_ctx_free(ctx);
		return NULL;
	}
	nft_ctx_output_set_flags(ctx, output_flags);
	return ctx;
}

int lethe_firewall_apply(const struct lethe_firewall *fw)
{
	struct lethe_buf cmd = { 0 };
	struct nft_ctx *ctx;
	char *table = NULL;
	int r;

	r = lethe_firewall_render(fw, 0, &table);
	if (r < 0)
		return r;
	/* One buffer is one transaction: the add makes the delete valid when there is no
	 * table yet (nft 1.0.6 has no 'destroy'), and nothing changes unless all of it
	 * loads. */
	r = lethe_buf_puts(&cmd, "add table inet lethe\ndelete table inet lethe\n");
	if (r >= 0)
		r = lethe_buf_puts(&cmd, table);
	free(table);
	if (r < 0)
		goto out;
	ctx = nft_open(0);
	if (!ctx) {
		r = -ENOMEM;
		goto out;
	}
	if (nft_run_cmd_from_buffer(ctx, cmd.data) != 0)
		r = nft_failure(ctx, "cannot load table inet lethe");
	nft_ctx_free(ctx);
out:
	lethe_buf_release(&cmd);
	return r;
}

/* The live table as nft lists it, numeric protocols; *ret NULL when there is none. */
static int read_live(char **ret)
{
	/* Stateless: what the counters counted is state, not a difference from the spec. */
	struct nft_ctx *ctx = nft_open(NFT_CTX_OUTPUT_NUMERIC_PROTO | NFT_CTX_OUTPUT_STATELESS);
	int r = 0;

	if (!ctx)
		return -ENOMEM;
	*ret = NULL;
	if (nft_run_cmd_from_buffer(ctx, "list table inet lethe") != 0) {
		r = nft_failure(ctx, "cannot list table inet lethe");
		if (r == -ENOENT) {
			lethe_error_clear();
			r = 0;
		}
	} else {
		*ret = strdup(nft_ctx_get_output_buffer(ctx));
		if (!*ret)
			r = -ENOMEM;
	}
	nft_ctx_free(ctx);
	return r;
}

int lethe_firewall_check(const struct lethe_firewall *fw, struct lethe_firewall_drift *ret)
{
	struct lethe_firewall_drift d = { 0 };
	char *expected = NULL, *live = NULL;
	int r;

	r = lethe_firewall_render(fw, LETHE_FIREWALL_NUMERIC_PROTO, &expected);
	if (r >= 0)
		r = read_live(&live);
	if (r >= 0)
		r = lethe_firewall_compare(expected, live, &d);
	free(expected);
	free(live);
	if (r >= 0) {
		struct lethe_firewall_hooks h = { 0 };

		r = lethe_firewall_hooks_read(&h);
		if (r >= 0)
			r = lethe_firewall_foreign_hooks(&h, &d);
		lethe_firewall_hooks_release(&h);
	}
	if (r < 0) {
		lethe_firewall_drift_release(&d);
		return r;
	}
	*ret = d;
	if (d.n)
		return lethe_error(-LETHE_E_INVALID,
				   "the ruleset has drifted from the spec: %zu difference%s", d.n,
				   d.n == 1 ? "" : "s");
	return 0;
}
