/* What the UEFI files of lib/boot share: one way to run the tools they need. */
#ifndef LETHE_UEFI_INTERNAL_H
#define LETHE_UEFI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* lethe_run() (include/lethe/run.h) of argv: its fixed environment (PATH, LC_ALL=C,
 * TZ=UTC, which matters as mtools writes local times; no HOME, so no ~/.mtoolsrc) plus
 * MTOOLS_SKIP_CHECK=1, and SOURCE_DATE_EPOCH=epoch when epoch >= 0. On failure the
 * message is "'NAME' exited with status N: LAST LINE". */
int uefi_run(char *const argv[], int64_t epoch);

#endif
