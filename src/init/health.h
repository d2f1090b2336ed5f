/* The health gate and bless (health.c). */
#ifndef LETHE_INIT_HEALTH_H
#define LETHE_INIT_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <lethe/spec.h>

/* Does the boot loader count this boot? Its UKI's file name into entry (may be NULL). */
bool init_boot_counted(char *entry, size_t size);
/* Called before PID 1 halts on a failure: on a counted boot, reboot instead, so that the
 * counter falls and the other slot boots. Returns only when the boot is not counted. */
void init_counted_failure(void);
/* Start the gate (a child of PID 1) when the spec has boot.layout ab and the boot is
 * counted; audit_rc is the audit's exit status. */
void init_health_gate(const struct lethe_spec *spec, int audit_rc);

#endif
