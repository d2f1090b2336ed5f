/* The boot menu's entry (entry.c): one call from stage 1 (toram), one from persist.c. */
#ifndef LETHE_INIT_ENTRY_H
#define LETHE_INIT_ENTRY_H

#include "init.h"

/* LETHE_BOOT_ENTRY_* of the entry the boot loader started (LETHE_BOOT_ENTRY_AMNESIC
 * without UEFI, without the variable or for any other entry) and its name into name
 * (size bytes; "" when none). mount_efivarfs: mount efivarfs read-only for the read and
 * unmount it afterwards (stage 1; stage 2 has it mounted). */
unsigned init_boot_entry(bool mount_efivarfs, char *name, size_t size);

#endif
