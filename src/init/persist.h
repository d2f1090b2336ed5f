/* Persistence in lethe-init (persist.c): one call from stage 2, one from shutdown. */
#ifndef LETHE_INIT_PERSIST_H
#define LETHE_INIT_PERSIST_H

#include <lethe/spec.h>

#include "init.h"

/* Stage 2, after the RAM file systems are mounted: open the store if and only if the
 * cmdline asks and the spec allows; report on the console; never fail the boot. */
void init_persist_setup(const struct lethe_spec *spec);
/* Shutdown, once everything is unmounted: remove the store's dm-crypt device. */
void init_persist_close(void);

#endif
