/* lethe-init's supervisor: the spec's services and the console shell in one fixed
 * table, started, restarted with back-off, logged, and stopped at shutdown. */
#ifndef LETHE_INIT_SUPERVISE_H
#define LETHE_INIT_SUPERVISE_H

#include <lethe/spec.h>

/* Fill the table: the spec's services (spec may be NULL) and, when the image carries a
 * shell, the console shell. A spec with more than LETHE_MAX_SERVICES services (the spec
 * parser refuses it) gets none of its services started, with a message; the console
 * shell still comes. */
void init_services_add(const struct lethe_spec *spec);
/* Start every service in the table. */
void init_services_start(void);
/* Block the signals PID 1 answers and return a signalfd for them (-1 on failure). */
int init_signal_fd(void);
/* Supervise for ever; a shutdown signal on sfd stops everything and shuts down. */
void init_supervise(int sfd) __attribute__((noreturn));

#endif
