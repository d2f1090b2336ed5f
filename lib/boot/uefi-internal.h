/* What the UEFI files of lib/boot share: one way to run the tools they need. */
#ifndef LETHE_UEFI_INTERNAL_H
#define LETHE_UEFI_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* Run argv (argv[0] looked up in /usr/sbin:/usr/bin:/sbin:/bin) with a fixed
 * environment: that PATH, LC_ALL=C, TZ=UTC (mtools writes local times), no HOME (no
 * ~/.mtoolsrc), MTOOLS_SKIP_CHECK=1, and SOURCE_DATE_EPOCH=epoch when epoch >= 0.
 * stdin is /dev/null; stdout and stderr are captured: on failure the message is
 * "'NAME' exited with status N: LAST LINE". */
int uefi_run(char *const argv[], int64_t epoch);

#endif
