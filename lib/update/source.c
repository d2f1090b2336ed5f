/* lethe update SOURCE for every kind of source: a release directory, an HTTPS directory
 * or an OCI repository. One path through the checks: the signature over SHA256SUMS,
 * then the rollout waves, then (for a URL) only the files an update writes fetched with
 * lib/oci's one client into a scratch directory, then lethe_update_apply(), the one
 * implementation of the checks and writes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/oci.h>
#include <lethe/sign.h>
#include <lethe/spec.h>
#include <lethe/update.h>

#include "update-internal.h"

bool lethe_update_source_is_url(const char *s)
{
	return !strncmp(s, "https://", 8) || !strncmp(s, "http://", 7) || !strncmp(s, "oci://", 6);
}

struct gate {
	const struct lethe_update_source_options *so;
	struct lethe_rollout ro;
	bool decided;
};

/* The waves, judged on the signed timestamp. LETHE_UPDATE_NOT_YET stops the fetch. */
static int judge(const char *trusted_comment, void *userdata)
{
	struct gate *g = userdata;
	int64_t ts = 0;

	if (!g->so || !g->so->rollout || !g->so->rollout->n_waves) {
		g->decided = true;
		g->ro = (struct lethe_rollout){ .in = true, .percent = 100 };
		return 0;
	}
	if (lethe_rollout_timestamp(trusted_comment, &ts) < 0)
		return lethe_error(-LETHE_E_REJECTED,
				   "the signature over SHA256SUMS has no timestamp: the rollout "
				   "waves cannot be judged (--now to update anyway)");
	lethe_rollout_decide(g->so->rollout, g->so->machine_id, ts, g->so->now, &g->ro);
	g->decided = true;
	return g->ro.in ? 0 : LETHE_UPDATE_NOT_YET;
}

static int from_dir(const char *dir, const struct lethe_update_options *o, struct gate *g,
		    struct lethe_update_result *ret)
{
	char *sums = lethe_path_join(dir, lethe_release_name(LETHE_ARTIFACT_SUMS));
	char *sig = lethe_path_join(dir, lethe_release_name(LETHE_ARTIFACT_SIG));
	char *tc = NULL;
	int r = sums && sig ? 0 : -ENOMEM;

	/* The waves need the signed timestamp; lethe_update_apply() checks it all again. */
	if (r >= 0 && g->so && g->so->rollout && g->so->rollout->n_waves) {
		r = lethe_sign_verify_file(o->pub, sums, sig, &tc);
		if (r >= 0)
			r = judge(tc, g);
	}
	if (r == 0)
		r = lethe_update_apply(dir, o, ret);
	free(tc);
	free(sums);
	free(sig);
	return r;
}

/* The installed disk as the delta base of the new root: its slots hold the root now
 * installed (and the one before), so only the blocks of the new root they lack are
 * fetched, each checked against the signed verity tree's level 0 (lib/oci/delta.c).
 * The ESP and both slots are indexed, not the free space after them. 0 when the disk
 * cannot be read as an installed one (the update then says why, in lethe_update_apply). */
static uint64_t delta_limit(const char *device)
{
	struct lethe_update_disk d;
	uint64_t end = 0;

	if (!device || lethe_update_disk_open(device, &d) < 0) {
		lethe_error_clear();
		return 0;
	}
	for (int s = 0; s < LETHE_SLOT_N; s++) {
		if (d.root[s].offset + d.root[s].size > end)
			end = d.root[s].offset + d.root[s].size;
		if (d.verity[s].offset + d.verity[s].size > end)
			end = d.verity[s].offset + d.verity[s].size;
	}
	lethe_update_disk_release(&d);
	return end;
}

/* The UKI the disk boots (the booted slot's, else the one that boots next), copied
 * from its ESP to local, as the delta base of the new UKI: its kernel and initramfs are
 * most often the new one's too. false when there is none (the UKI is then fetched
 * whole). */
static bool local_uki(const char *device, const char *booted_roothash, const char *local)
{
	struct lethe_update_status st;
	struct lethe_update_disk d;
	int s, r;

	if (!device || lethe_update_disk_open(device, &d) < 0) {
		lethe_error_clear();
		return false;
	}
	r = lethe_update_status_read(&d, booted_roothash, &st);
	if (r >= 0) {
		s = st.booted >= 0 ? st.booted : st.next;
		r = s >= 0 ? update_esp_get(&d, st.slot[s].entry, local) : -ENOENT;
		lethe_update_status_release(&st);
	}
	lethe_update_disk_release(&d);
	if (r < 0)
		lethe_error_clear();
	return r >= 0;
}

static int from_url(const char *url, const struct lethe_update_options *o, struct gate *g,
		    struct lethe_update_result *ret)
{
	struct lethe_oci_options net = { 0 };
	char *scratch = NULL, *dir = NULL, *uki = NULL;
	int r;

	if (g->so && g->so->net)
		net = *g->so->net;
	net.artifacts = LETHE_UPDATE_ARTIFACTS;
	if (!net.delta_base) {
		net.delta_base_limit = delta_limit(o->device);
		net.delta_base = net.delta_base_limit ? o->device : NULL;
	}
	net.on_signed = judge;
	net.userdata = g;
	r = update_scratch(&scratch);
	if (r < 0)
		return r;
	dir = lethe_path_join(scratch, "release");
	uki = lethe_path_join(scratch, "booted.efi");
	if (!net.delta_uki && uki && local_uki(o->device, o->booted_roothash, uki))
		net.delta_uki = uki;
	r = dir && uki ? lethe_fetch_release(url, dir, o->pub, &net, NULL) : -ENOMEM;
	if (r == 0)
		r = lethe_update_apply(dir, o, ret);
	free(dir);
	free(uki);
	update_scratch_remove(scratch);
	return r;
}

int lethe_update_from(const char *source, const struct lethe_update_options *o,
		      const struct lethe_update_source_options *so, struct lethe_update_result *ret,
		      struct lethe_rollout *ret_rollout)
{
	struct gate g = { .so = so };
	int r;

	if (!o->pub)
		return lethe_error(-EINVAL, "an update is checked with a public key");
	r = lethe_update_source_is_url(source) ? from_url(source, o, &g, ret)
					       : from_dir(source, o, &g, ret);
	if (ret_rollout && g.decided)
		*ret_rollout = g.ro;
	return r;
}
