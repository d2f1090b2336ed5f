/* The boot menu's entry, as the boot loader reports it (issue 11.3): the one place that
 * turns the EFI variable LoaderEntrySelected into what lethe-init does beyond the
 * amnesic default. libc only: the static lethe-init runs this code. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <lethe/contract.h>
#include <lethe/core.h>

static const struct {
	const char *id;
	unsigned flag;
} entries[] = {
	{ LETHE_BOOT_ENTRY_TORAM_ID, LETHE_BOOT_ENTRY_TORAM },
	{ LETHE_BOOT_ENTRY_PERSISTENCE_ID, LETHE_BOOT_ENTRY_PERSISTENCE },
};

/* name is id, or id LETHE_BOOT_ENTRY_SUFFIX, without case. */
static bool is_entry(const char *name, const char *id)
{
	size_t n = strlen(id);

	return !strncasecmp(name, id, n) &&
	       (!name[n] || !strcasecmp(name + n, LETHE_BOOT_ENTRY_SUFFIX));
}

int lethe_boot_entry_selected(const void *data, size_t len, unsigned *ret)
{
	const unsigned char *p = data;
	char name[256];
	uint32_t attr;
	int r;

	r = lethe_efivar_string(data, len, name, sizeof(name));
	if (r < 0)
		return r;
	attr = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	*ret = LETHE_BOOT_ENTRY_AMNESIC;
	if (attr & LETHE_EFI_VARIABLE_NON_VOLATILE)
		return 0;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]); i++)
		if (is_entry(name, entries[i].id))
			*ret = entries[i].flag;
	return 0;
}
