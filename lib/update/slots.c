/* What an installed disk's ESP says about its slots: each Lethe UKI's root hash (its
 * .cmdline) names the slot whose root PARTUUID it gives; its name gives the version and
 * the tries. The order systemd-boot boots them in, and rollback and bless, which only
 * rename. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <lethe/uefi.h>

#include "update-internal.h"

const char *lethe_slot_state_name(enum lethe_slot_state s)
{
	switch (s) {
	case LETHE_SLOT_GOOD:
		return "good";
	case LETHE_SLOT_PENDING:
		return "pending";
	case LETHE_SLOT_FAILED:
		return "failed";
	default:
		return "empty";
	}
}

void lethe_update_status_release(struct lethe_update_status *s)
{
	if (s)
		lethe_strv_release(&s->stray);
}

static int slot_of_roothash(const struct lethe_update_disk *d, const char *hex)
{
	uint8_t rh[32];
	char data[LETHE_UUID_STR], verity[LETHE_UUID_STR];

	if (lethe_hex_decode(hex, rh, sizeof(rh)) < 0 ||
	    lethe_partuuids_from_roothash(rh, sizeof(rh), data, verity) < 0)
		return -1;
	for (int s = 0; s < LETHE_SLOT_N; s++)
		if (!strcmp(d->root[s].uuid, data) && !strcmp(d->verity[s].uuid, verity))
			return s;
	return -1;
}

/* systemd-boot's order among our entries: tries left before none, then newest. */
static bool boots_before(const struct lethe_slot_status *a, const struct lethe_slot_status *b)
{
	bool a_dead = a->count.counting && a->count.left == 0;
	bool b_dead = b->count.counting && b->count.left == 0;

	if (a_dead != b_dead)
		return !a_dead;
	return lethe_version_compare(a->count.version, b->count.version) > 0;
}

static int read_entry(const struct lethe_update_disk *d, const char *scratch, const char *name,
		      const char *booted, struct lethe_update_status *st)
{
	char *local = lethe_path_join(scratch, "entry.efi");
	char hex[LETHE_ROOTHASH_HEX + 1], id[64];
	struct lethe_bootcount c;
	int r, s;

	if (!local)
		return -ENOMEM;
	r = update_esp_get(d, name, local);
	if (r >= 0)
		r = update_uki_identity(local, hex, id, sizeof(id), NULL, 0);
	unlink(local);
	free(local);
	if (r < 0)
		return lethe_error(r, "the ESP of '%s': cannot read '%s': %s", d->path, name,
				   lethe_error_message_for(r) ? lethe_error_message_for(r)
							      : strerror(-r));
	s = slot_of_roothash(d, hex);
	if (s < 0 || lethe_bootcount_parse(name, &c) < 0)
		return lethe_strv_push(&st->stray, name);
	if (st->slot[s].entry[0]) /* two UKIs for one slot: keep the one that boots first */
		if (!boots_before(&(struct lethe_slot_status){ .count = c }, &st->slot[s]))
			return lethe_strv_push(&st->stray, name);
	struct lethe_slot_status *ss = &st->slot[s];

	snprintf(ss->entry, sizeof(ss->entry), "%s", name);
	ss->count = c;
	memcpy(ss->roothash, hex, sizeof(hex));
	snprintf(ss->image_id, sizeof(ss->image_id), "%s", id);
	ss->state = !c.counting ? LETHE_SLOT_GOOD : c.left ? LETHE_SLOT_PENDING : LETHE_SLOT_FAILED;
	ss->booted = booted && !strcmp(booted, hex);
	return 0;
}

int lethe_update_status_read(const struct lethe_update_disk *d, const char *booted_roothash,
			     struct lethe_update_status *ret)
{
	struct lethe_update_status st = { .booted = -1, .next = -1 };
	struct lethe_strv names = { 0 };
	char *scratch = NULL;
	int r;

	r = update_esp_list(d, &names);
	if (r >= 0)
		r = update_scratch(&scratch);
	for (size_t i = 0; r >= 0 && i < names.n; i++) {
		struct lethe_bootcount c;

		if (lethe_bootcount_parse(names.v[i], &c) < 0)
			r = lethe_strv_push(&st.stray, names.v[i]);
		else
			r = read_entry(d, scratch, names.v[i], booted_roothash, &st);
	}
	for (int s = 0; r >= 0 && s < LETHE_SLOT_N; s++) {
		if (st.slot[s].booted)
			st.booted = s;
		if (st.slot[s].entry[0] &&
		    (st.next < 0 || boots_before(&st.slot[s], &st.slot[st.next])))
			st.next = s;
	}
	update_scratch_remove(scratch);
	lethe_strv_release(&names);
	if (r < 0) {
		lethe_update_status_release(&st);
		return r;
	}
	*ret = st;
	return 0;
}

int lethe_update_rollback(const struct lethe_update_disk *d, const char *booted_roothash,
			  enum lethe_slot *ret_slot)
{
	struct lethe_update_status st;
	struct lethe_slot_status *cur, *other;
	struct lethe_bootcount c;
	char to[LETHE_BOOTCOUNT_NAME_MAX];
	int r = lethe_update_status_read(d, booted_roothash, &st);

	if (r < 0)
		return r;
	if (st.next < 0) {
		r = lethe_error(-ENOENT, "'%s' has no image on its ESP to roll back from", d->path);
		goto out;
	}
	cur = &st.slot[st.next];
	other = &st.slot[!st.next];
	if (other->state != LETHE_SLOT_GOOD) {
		r = lethe_error(-ENOENT,
				"cannot roll back: slot %c is %s, so slot %c (%s) is the only "
				"image to boot",
				lethe_slot_letter(!st.next), lethe_slot_state_name(other->state),
				lethe_slot_letter(st.next), cur->count.version);
		goto out;
	}
	/* Zero tries left: systemd-boot sorts it last, and the good other slot boots. */
	c = cur->count;
	if (!c.counting)
		c.done = 0;
	c.counting = true;
	c.left = 0;
	r = lethe_bootcount_format(&c, to);
	if (r >= 0)
		r = update_esp_rename(d, cur->entry, to);
	if (r >= 0)
		*ret_slot = (enum lethe_slot) !st.next;
out:
	lethe_update_status_release(&st);
	return r;
}

int lethe_update_bless_disk(const struct lethe_update_disk *d, const char *name)
{
	struct lethe_bootcount c;
	char to[LETHE_BOOTCOUNT_NAME_MAX];

	if (lethe_bootcount_parse(name, &c) < 0)
		return lethe_error(-EINVAL, "'%s' is not the name of a Lethe UKI", name);
	if (!c.counting)
		return 0;
	c.counting = false;
	if (lethe_bootcount_format(&c, to) < 0)
		return -EINVAL;
	return update_esp_rename(d, name, to);
}

int lethe_update_bless_dir(const char *esp_dir, const char *name)
{
	struct lethe_bootcount c;
	char to[LETHE_BOOTCOUNT_NAME_MAX];
	char *dir = lethe_path_join(esp_dir, LETHE_ESP_UKI_DIR);
	int dfd, r = 0;

	if (!dir)
		return -ENOMEM;
	if (lethe_bootcount_parse(name, &c) < 0) {
		r = lethe_error(-EINVAL, "'%s' is not the name of a Lethe UKI", name);
		goto out;
	}
	if (!c.counting)
		goto out;
	c.counting = false;
	if (lethe_bootcount_format(&c, to) < 0) {
		r = -EINVAL;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		r = lethe_error(-errno, "cannot open '%s': %m", dir);
		goto out;
	}
	if (renameat(dfd, name, dfd, to) < 0)
		r = lethe_error(-errno, "cannot rename '%s/%s' to '%s': %m", dir, name, to);
	else if (fsync(dfd) < 0)
		r = lethe_error(-errno, "cannot flush '%s': %m", dir);
	close(dfd);
out:
	free(dir);
	return r;
}
