/* Running objcopy, mkfs.vfat and mtools for the UEFI stages through lib/util's one
 * runner (include/lethe/run.h): no shell, its fixed environment, output captured. */
#include <lethe/run.h>

#include "uefi-internal.h"

int uefi_run(char *const argv[], int64_t epoch)
{
	/* mtools would otherwise refuse an image whose geometry it finds odd */
	static const char *const env[] = { "MTOOLS_SKIP_CHECK=1", NULL };
	struct lethe_run_options o = { .env = env, .epoch_set = epoch >= 0, .epoch = epoch };

	return lethe_run(argv, &o, NULL);
}
