/* lethe update: a verified release into the slot that is neither booted nor the newest
 * good one. Every check comes before the first write; the writes come in an order
 * where a power cut at any point leaves the ESP's entries pointing only at slots
 * whose bytes are whole (docs/update.md, "Power loss"):
 *   1. the target slot's old UKI leaves the ESP (that slot can no longer be booted);
 *   2. its PARTUUIDs become the new root hash's;
 *   3. root, then verity, written from the verified files and hashed as they go;
 *   4. both read back and checked against the signed hashes;
 *   5. the UKI goes on the ESP under a temporary name that systemd-boot ignores, is
 *      flushed, then renamed to lethe-VERSION+3.efi: the one step that makes the new
 *      slot bootable, and a rename of one directory entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "update-internal.h"

#define UPDATE_TMP_NAME "lethe-update.tmp" /* not *.efi: systemd-boot never boots it */

/* Which slot to keep: the booted one (which must be good), else the newest good one. */
static int choose_keep(const struct lethe_update_disk *d, const struct lethe_update_status *st,
		       enum lethe_slot *ret)
{
	int keep = -1;

	if (st->booted >= 0) {
		if (st->slot[st->booted].state != LETHE_SLOT_GOOD)
			return lethe_error(-EBUSY,
					   "the booted slot %c is %s, not yet blessed: update it "
					   "once it is good (or roll back)",
					   lethe_slot_letter(st->booted),
					   lethe_slot_state_name(st->slot[st->booted].state));
		*ret = (enum lethe_slot)st->booted;
		return 0;
	}
	for (int s = 0; s < LETHE_SLOT_N; s++)
		if (st->slot[s].state == LETHE_SLOT_GOOD &&
		    (keep < 0 || lethe_version_compare(st->slot[s].count.version,
						       st->slot[keep].count.version) > 0))
			keep = s;
	if (keep < 0)
		return lethe_error(-ENOENT, "'%s' has no good slot to keep: install it again",
				   d->path);
	*ret = (enum lethe_slot)keep;
	return 0;
}

struct job {
	const struct lethe_update_disk *d;
	const struct lethe_slot_status *keep;
	enum lethe_slot target;
	char *uki;
	char version[LETHE_BOOTCOUNT_VERSION_MAX + 1];
	char entry[LETHE_BOOTCOUNT_NAME_MAX];
	uint8_t roothash[32];
	uint64_t size[2];
	uint8_t sha[2][32];
};

static int check_release(struct lethe_release *rel, const struct lethe_update_options *o,
			 struct job *j)
{
	const struct lethe_update_disk *d = j->d;
	char hex[LETHE_ROOTHASH_HEX + 1], id[64];
	int r, cmp;

	if (!lethe_release_has(rel, LETHE_ARTIFACT_UKI))
		return lethe_error(-LETHE_E_REJECTED, "'%s' has no %s: nothing would boot it",
				   lethe_release_dir(rel), lethe_release_name(LETHE_ARTIFACT_UKI));
	r = lethe_release_info(rel, LETHE_ARTIFACT_ROOTFS, &j->size[0], j->sha[0]);
	if (r >= 0)
		r = lethe_release_info(rel, LETHE_ARTIFACT_VERITY, &j->size[1], j->sha[1]);
	if (r < 0)
		return r;
	{
		uint8_t usha[32];
		uint64_t usize;
		int fd = open(j->uki, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

		if (fd < 0)
			return lethe_error(-errno, "cannot create '%s': %m", j->uki);
		r = lethe_release_info(rel, LETHE_ARTIFACT_UKI, &usize, usha);
		if (r >= 0)
			r = update_copy_in(fd, j->uki, 0, lethe_release_fd(rel, LETHE_ARTIFACT_UKI),
					   usize, usha, lethe_release_name(LETHE_ARTIFACT_UKI),
					   NULL);
		if (r == -LETHE_E_INVALID) /* this copy is the UKI's one hash check */
			r = lethe_error(r, "'%s': %s does not match SHA256SUMS",
					lethe_release_dir(rel),
					lethe_release_name(LETHE_ARTIFACT_UKI));
		if (close(fd) < 0 && r >= 0)
			r = -errno;
		if (r < 0)
			return r;
	}
	r = update_uki_identity(j->uki, hex, id, sizeof(id), j->version, sizeof(j->version));
	if (r < 0)
		return r;
	if (strcmp(hex, lethe_release_roothash(rel)))
		return lethe_error(-LETHE_E_REJECTED,
				   "'%s': lethe.efi boots another root hash than the release's",
				   lethe_release_dir(rel));
	if (strcmp(id, j->keep->image_id))
		return lethe_error(-LETHE_E_REJECTED,
				   "'%s' is image '%s'; '%s' runs '%s': refusing another image",
				   lethe_release_dir(rel), id, d->path, j->keep->image_id);
	if (!strcmp(hex, j->keep->roothash))
		return lethe_error(-LETHE_E_REJECTED, "'%s' is the image slot %c already holds",
				   lethe_release_dir(rel), lethe_slot_letter(j->target ^ 1));
	struct lethe_bootcount c = { .counting = true, .left = LETHE_BOOTCOUNT_TRIES };

	snprintf(c.version, sizeof(c.version), "%s", j->version);
	if (lethe_bootcount_format(&c, j->entry) < 0)
		return lethe_error(
			-LETHE_E_REJECTED,
			"IMAGE_VERSION '%s' cannot be a UKI name (1-64 of A-Z a-z 0-9 . ~ -)",
			j->version);
	cmp = lethe_version_compare(j->version, j->keep->count.version);
	if (cmp == 0)
		return lethe_error(
			-LETHE_E_REJECTED, "'%s' has version %s, the version slot %c runs already",
			lethe_release_dir(rel), j->version, lethe_slot_letter(j->target ^ 1));
	if (cmp < 0 && !o->allow_downgrade)
		return lethe_error(-LETHE_E_REJECTED,
				   "'%s' has version %s, older than %s in slot %c "
				   "(--allow-downgrade to install it anyway)",
				   lethe_release_dir(rel), j->version, j->keep->count.version,
				   lethe_slot_letter(j->target ^ 1));
	if (j->size[0] > d->root[j->target].size || j->size[1] > d->verity[j->target].size)
		return lethe_error(-EFBIG,
				   "'%s' does not fit slot %c: rootfs.erofs %llu bytes (the slot "
				   "holds %llu), rootfs.verity %llu (%llu)",
				   lethe_release_dir(rel), lethe_slot_letter(j->target),
				   (unsigned long long)j->size[0],
				   (unsigned long long)d->root[j->target].size,
				   (unsigned long long)j->size[1],
				   (unsigned long long)d->verity[j->target].size);
	lethe_hex_decode(hex, j->roothash, sizeof(j->roothash));
	return 0;
}

static int write_slot(struct lethe_release *rel, const struct lethe_update_status *st,
		      struct job *j)
{
	const struct lethe_update_disk *d = j->d;
	const struct lethe_update_part *root = &d->root[j->target], *ver = &d->verity[j->target];
	char ru[LETHE_UUID_STR], vu[LETHE_UUID_STR];
	struct update_progress pg = { .what = "", .total = 2 * (j->size[0] + j->size[1]) };
	char what[64];
	int fd, r = 0;

	snprintf(what, sizeof(what), "slot %c", lethe_slot_letter(j->target));
	pg.what = what;
	/* 1. Nothing may boot the slot while its bytes change. */
	if (st->slot[j->target].entry[0])
		r = update_esp_delete(d, st->slot[j->target].entry);
	for (size_t i = 0; r >= 0 && i < st->stray.n; i++)
		if (!strcmp(st->stray.v[i], UPDATE_TMP_NAME))
			r = update_esp_delete(d, UPDATE_TMP_NAME);
	/* 2. The slot's PARTUUIDs: the new root hash's. */
	if (r >= 0)
		r = lethe_partuuids_from_roothash(j->roothash, sizeof(j->roothash), ru, vu);
	if (r >= 0)
		r = update_set_partuuids(d, j->target, ru, vu);
	if (r < 0)
		return r;
	/* 3, 4. The bytes, from the verified descriptors; then read back from the disk and
	 * compared with the signed SHA-256: the one hash of what was written (a file that
	 * changed after the open is caught there, before the UKI goes on the ESP). The
	 * running system's own disk cannot be opened O_EXCL: dm-verity holds the booted
	 * slot's partitions, which makes the kernel refuse an exclusive open of the whole
	 * disk. Only the other slot's byte ranges are written. */
	fd = update_open_disk(d->path, d->is_blockdev, st->booted < 0);
	if (fd < 0)
		return fd;
	r = update_copy_in(fd, d->path, root->offset, lethe_release_fd(rel, LETHE_ARTIFACT_ROOTFS),
			   j->size[0], NULL, lethe_release_name(LETHE_ARTIFACT_ROOTFS), &pg);
	if (r >= 0)
		r = update_copy_in(fd, d->path, ver->offset,
				   lethe_release_fd(rel, LETHE_ARTIFACT_VERITY), j->size[1], NULL,
				   lethe_release_name(LETHE_ARTIFACT_VERITY), &pg);
	if (r >= 0 && fsync(fd) < 0)
		r = lethe_error(-errno, "cannot flush '%s': %m", d->path);
	if (r >= 0)
		r = update_verify_back(fd, d->path, root->offset, j->size[0], j->sha[0],
				       lethe_release_name(LETHE_ARTIFACT_ROOTFS), &pg);
	if (r >= 0)
		r = update_verify_back(fd, d->path, ver->offset, j->size[1], j->sha[1],
				       lethe_release_name(LETHE_ARTIFACT_VERITY), &pg);
	if (close(fd) < 0 && r >= 0)
		r = lethe_error(-errno, "cannot write '%s': %m", d->path);
	/* 5. The UKI, last: a temporary name, flushed, then the rename that arms it. */
	if (r >= 0) {
		lethe_log(LETHE_LOG_INFO, "slot %c written and read back; installing %s",
			  lethe_slot_letter(j->target), j->entry);
		r = update_esp_put(d, j->uki, UPDATE_TMP_NAME);
	}
	if (r >= 0) {
		update_pause_point("uki", 1, 1);
		r = update_esp_rename(d, UPDATE_TMP_NAME, j->entry);
	}
	return r;
}

/* A downgrade sorts below the kept image: give the kept entry zero tries left so that
 * the new one boots first, and the kept one still boots when the new one fails. */
static int demote_keep(const struct job *j)
{
	struct lethe_bootcount c = j->keep->count;
	char to[LETHE_BOOTCOUNT_NAME_MAX];

	if (lethe_version_compare(j->version, c.version) > 0)
		return 0;
	c.counting = true;
	c.left = 0;
	if (lethe_bootcount_format(&c, to) < 0)
		return -EINVAL;
	return update_esp_rename(j->d, j->keep->entry, to);
}

int lethe_update_apply(const char *dir, const struct lethe_update_options *o,
		       struct lethe_update_result *ret)
{
	struct lethe_update_disk d = { 0 };
	struct lethe_update_status st = { 0 };
	struct lethe_release *rel = NULL;
	struct job j = { .d = &d };
	enum lethe_slot keep = LETHE_SLOT_A;
	char *scratch = NULL;
	int r;

	r = lethe_update_disk_open(o->device, &d);
	if (r < 0)
		return r;
	r = lethe_update_status_read(&d, o->booted_roothash, &st);
	if (r >= 0)
		r = choose_keep(&d, &st, &keep);
	if (r < 0)
		goto out;
	j.keep = &st.slot[keep];
	j.target = (enum lethe_slot) !keep;
	/* The signature, every hash, and the verity tree against the signed root hash. */
	/* Only the files the update reads are opened and hashed (not disk.img, lethe.iso,
	 * vmlinuz...: 88 of the minimal release's 119 MB), and only they are fetched from a
	 * URL source; the UKI is hashed once, by the copy check_release() makes of it, and
	 * the root once, by the verity check (against the signed root hash). */
	r = lethe_release_open_opts(dir, o->pub,
				    &(struct lethe_release_options){
					    .flags = LETHE_RELEASE_OPEN_VERITY,
					    .only = LETHE_UPDATE_ARTIFACTS,
					    .unhashed = LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_UKI) |
							LETHE_ARTIFACT_BIT(LETHE_ARTIFACT_ROOTFS) },
				    &rel);
	if (r >= 0)
		r = update_scratch(&scratch);
	if (r >= 0) {
		j.uki = lethe_path_join(scratch, lethe_release_name(LETHE_ARTIFACT_UKI));
		r = j.uki ? 0 : -ENOMEM;
	}
	if (r >= 0)
		r = check_release(rel, o, &j);
	if (r >= 0)
		r = write_slot(rel, &st, &j);
	if (r >= 0 && o->allow_downgrade)
		r = demote_keep(&j);
	if (r >= 0 && ret) {
		*ret = (struct lethe_update_result){ .slot = j.target,
						     .bytes = j.size[0] + j.size[1] };
		memcpy(ret->entry, j.entry, sizeof(j.entry));
		memcpy(ret->version, j.version, sizeof(j.version));
	}
out:
	free(j.uki);
	update_scratch_remove(scratch);
	lethe_release_free(rel);
	lethe_update_status_release(&st);
	lethe_update_disk_release(&d);
	return r;
}
