/* The boot menu's entry (entry.c): one call from stage 1 (toram), one from persist.c. */
#ifndef LETHE_INIT_ENTRY_H
#define LETHE_INIT_ENTRY_H

#include "init.h"

/* LETHE_BOOT_ENTRY_* of the entry the boot loader started (LETHE_BOOT_ENTRY_AMNESIC
 * without UEFI, without the variable or for any other entry) and its name into name
 * (size bytes; "" when none). efivarfs must be mounted. */
unsigned init_boot_entry(char *name, size_t size);
/* efivarfs read-only at its place on a UEFI boot. Stage 1 (for the entry, and for a
 * halt on a counted boot, health.c) unmounts it again before the switch to the root;
 * stage 2 mounts it for good (the audit's Secure Boot state, bless's variables).
 * Nothing in Lethe writes EFI variables. */
void init_efivarfs_mount(void);
void init_efivarfs_unmount(void);

#endif
