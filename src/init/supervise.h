/* lethe-init's supervisor: the spec's services and the console shell in one fixed
 * table, started, restarted with back-off, logged, and stopped at shutdown. */
#ifndef LETHE_INIT_SUPERVISE_H
#define LETHE_INIT_SUPERVISE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <lethe/spec.h>

struct init_service {
	char name[65]; /* the spec allows 64 characters */
	char **argv;
	const char *user, *group;
	bool restart;
	bool shell;	/* the console shell: on the console, no log pipe */
	bool graphical; /* cage, as the session user with its environment (graphical.c) */
	pid_t pid;
	int out;	   /* read end of its stdout/stderr pipe, or -1 */
	int log;	   /* /run/log/NAME.log, or -1 */
	double backoff;	   /* seconds before the next start */
	double next_start; /* uptime; 0 = not scheduled */
	double started;
};

/* Fill table (n_slots entries) with the spec's services (spec may be NULL) and, if
 * shell, the console shell, each scheduled to start now. A spec with more than
 * LETHE_MAX_SERVICES services gets none of them (the spec parser refuses it). Never
 * writes past n_slots; returns the number of entries filled. */
size_t init_services_fill(const struct lethe_spec *spec, bool shell, struct init_service *table,
			  size_t n_slots);

/* Fill PID 1's table (LETHE_MAX_SERVICES + 1 slots): the spec's services and, when the
 * image carries /bin/sh or /bin/busybox, the console shell. */
void init_services_add(const struct lethe_spec *spec);
/* The PIDs of the spec's services (not the console shell), for the health gate. */
size_t init_services_pids(pid_t *ret, size_t max);
/* Start every service in the table. */
void init_services_start(void);
/* Block the signals PID 1 answers and return a signalfd for them (-1 on failure). */
int init_signal_fd(void);
/* Supervise for ever; a shutdown signal on sfd stops everything and shuts down. */
void init_supervise(int sfd) __attribute__((noreturn));

#endif
