/* The boot menu's entry in lethe-init (issue 11.3, docs/boot.md "The boot menu"): which
 * of the ESP's entries systemd-boot started, from its volatile EFI variable
 * LoaderEntrySelected. It is what makes the "(toram)" and "(persistent storage)" entries
 * work under Secure Boot, where systemd-stub ignores the entry's load options and the
 * cmdline is always the signed one. Stage 1 mounts efivarfs read-only for its own
 * needs (this read, and the boot counter a halt on a counted A/B boot looks at,
 * health.c) and unmounts it before the switch to the root, where stage 2 mounts it
 * for good. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "entry.h"

#define ENTRY_VAR LETHE_EFIVARS_DIR "/" LETHE_LOADER_ENTRY_SELECTED "-" LETHE_LOADER_GUID

static unsigned read_entry(char *name, size_t size)
{
	char buf[1024];
	unsigned flags = LETHE_BOOT_ENTRY_AMNESIC;
	ssize_t n;
	int fd = open(ENTRY_VAR, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0)
		return flags;		/* no UEFI, no systemd-boot, or a direct kernel boot */
	n = read(fd, buf, sizeof(buf)); /* efivarfs files must be read whole */
	close(fd);
	if (n < 0)
		return flags;
	r = lethe_boot_entry_selected(buf, (size_t)n, &flags);
	if (r < 0) {
		init_msg("warning: " LETHE_LOADER_ENTRY_SELECTED ": %s; taking the amnesic entry",
			 lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
		return LETHE_BOOT_ENTRY_AMNESIC;
	}
	if (name && lethe_efivar_string(buf, (size_t)n, name, size) < 0)
		snprintf(name, size, "?");
	return flags;
}

static bool stage1_mounted;

void init_efivarfs_mount(void)
{
	if (access("/sys/firmware/efi", F_OK) < 0)
		return;
	if (mount("efivarfs", LETHE_EFIVARS_DIR, "efivarfs",
		  MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0)
		stage1_mounted = true;
	else
		init_dbg("cannot mount efivarfs: %s", strerror(errno));
}

void init_efivarfs_unmount(void)
{
	if (stage1_mounted)
		(void)umount2(LETHE_EFIVARS_DIR, MNT_DETACH);
	stage1_mounted = false;
}

unsigned init_boot_entry(char *name, size_t size)
{
	if (name && size)
		name[0] = '\0';
	if (access("/sys/firmware/efi", F_OK) < 0)
		return LETHE_BOOT_ENTRY_AMNESIC;
	return read_entry(name, size);
}
