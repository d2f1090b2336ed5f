/* The boot menu of a built medium (issue 11.3): beside the UKI that systemd-boot finds
 * by its scan (the amnesic default), type #1 entries in loader/entries/ that start the
 * same UKI and carry no options. With Secure Boot the stub would ignore options, and
 * without it options would replace the signed cmdline whole (root hash included), so
 * the cmdline is the signed one in every entry; lethe-init learns which entry was
 * chosen from the loader's LoaderEntrySelected (lib/core/boot-entry.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/uefi.h>

#include "uefi-internal.h"

static const struct {
	const char *id, *suffix;
} menu[] = {
	{ LETHE_BOOT_ENTRY_TORAM_ID, LETHE_BOOT_ENTRY_TORAM_TITLE },
	{ LETHE_BOOT_ENTRY_PERSISTENCE_ID, LETHE_BOOT_ENTRY_PERSISTENCE_TITLE },
};

static bool plain(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int lethe_esp_menu_entry(const char *id, const char *title, const char *version,
			 const char *uki_name, char **ret)
{
	struct lethe_buf b = { 0 };
	const char *suffix = NULL;
	int r;

	for (size_t i = 0; i < LETHE_ARRAY_SIZE(menu); i++)
		if (!strcmp(id, menu[i].id))
			suffix = menu[i].suffix;
	if (!suffix)
		return lethe_error(-EINVAL, "'%s' is not an entry of the boot menu", id);
	if (!plain(title) || !plain(version) || !plain(uki_name) || strchr(uki_name, '/'))
		return lethe_error(-EINVAL,
				   "boot menu entry '%s': the title, version and UKI name "
				   "must be one line of text each",
				   id);
	/* sort-key is left out: entries without one sort after the UKI, which has one
	 * (its IMAGE_ID), so the amnesic entry comes first in the menu as well. */
	r = lethe_buf_printf(&b, "title %s %s\nversion %s\nefi /" LETHE_ESP_UKI_DIR "/%s\n", title,
			     suffix, version, uki_name);
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}

static int add_entry(const struct lethe_esp_options *o, const char *img, const char *id)
{
	char *text = NULL, *local = NULL, dest[192], file[128];
	int r;

	snprintf(file, sizeof(file), "%s" LETHE_BOOT_ENTRY_SUFFIX, id);
	snprintf(dest, sizeof(dest), "::/" LETHE_ESP_ENTRIES_DIR "/%s", file);
	r = lethe_esp_menu_entry(id, o->menu_title, o->menu_version, o->uki_name, &text);
	if (r < 0)
		return r;
	local = lethe_path_join(o->workdir, file);
	if (!local) {
		r = -ENOMEM;
		goto out;
	}
	r = lethe_file_write_atomic(local, text, strlen(text), 0644);
	if (r < 0) {
		r = lethe_error(r, "cannot write '%s': %s", local, strerror(-r));
		goto out;
	}
	r = uefi_run(
		(char *const[]){ (char *)"mcopy", (char *)"-i", (char *)img, local, dest, NULL },
		o->epoch);
	unlink(local);
out:
	free(local);
	free(text);
	return r;
}

int lethe_esp_add_menu(const struct lethe_esp_options *o, const char *img)
{
	int r;

	r = uefi_run((char *const[]){ (char *)"mmd", (char *)"-i", (char *)img,
				      (char *)"::/" LETHE_ESP_ENTRIES_DIR, NULL },
		     o->epoch);
	if (r >= 0)
		r = add_entry(o, img, LETHE_BOOT_ENTRY_TORAM_ID);
	if (r >= 0 && o->menu_persistence)
		r = add_entry(o, img, LETHE_BOOT_ENTRY_PERSISTENCE_ID);
	return r;
}
