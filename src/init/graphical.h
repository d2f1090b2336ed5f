/* The graphical session (graphical.c): cage and the spec's program as session.user. */
#ifndef LETHE_INIT_GRAPHICAL_H
#define LETHE_INIT_GRAPHICAL_H

#include <stdbool.h>

#include <lethe/spec.h>

#define LETHE_INIT_CAGE	 "/usr/bin/cage"
#define LETHE_INIT_SEATD "/usr/sbin/seatd"

/* cage's argv for the spec's session.graphical.command ("cage -- COMMAND..."), in a
 * static array that lives as long as PID 1 (the words are the spec's); NULL when the
 * spec has no graphical session. */
char **init_graphical_argv(const struct lethe_spec *spec);

/* seatd's argv ("seatd -u USER": the seat's socket belongs to the session user), in a
 * static array; NULL when the spec has no graphical session. seatd runs as root: it
 * opens the DRM and input devices for cage and holds the DRM master. */
char **init_graphical_seatd_argv(const struct lethe_spec *spec);

/* Stage 2, as root, before the services start: what logind and udev would do for the
 * session's seat besides seatd's part. Waits (bounded) for the DRM device, makes the
 * user's XDG_RUNTIME_DIR (/run/user/UID, 0700) and describes the input devices for
 * libinput in /run/udev. Nothing without a graphical session. */
void init_graphical_prepare(const struct lethe_spec *spec);

/* In cage's child, after the ids are the user's and the environment is cleared: the
 * session's environment (HOME, XDG_RUNTIME_DIR, libseat's and wlroots' settings) and
 * its home as working directory. */
void init_graphical_env(void);

#endif
