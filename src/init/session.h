/* The console session (session.c): who the console shell runs as. */
#ifndef LETHE_INIT_SESSION_H
#define LETHE_INIT_SESSION_H

#include <lethe/spec.h>

#include "init.h"

/* Stage 2, before the services start (the console is free): remember the spec's
 * session.user and, with session.admin_password: ask, ask for the administration
 * password on the console (no echo) and put its hash into the RAM copy of /etc/shadow.
 * Without a session: section nothing changes (the console shell is root's). */
void init_session_prepare(const struct lethe_spec *spec);

/* In the console shell's child, before exec: write its pid to LETHE_PATH_SESSION_PID
 * and become the session user for good (groups, gid, uid; no capabilities; no_new_privs
 * unless root may be reached), with its HOME and environment. Without a session: HOME
 * is /root. 0, or -errno: the caller must not exec the shell then. */
int init_session_enter(void);

/* After init_session_prepare(): the FIFO LETHE_PATH_SESSION_CONTROL (root, the session
 * user's primary group, 0620), open for reading, or -1 without a session. */
int init_session_control_open(void);
/* Read what the FIFO holds: the reboot(2) command a line asks for, or 0. */
int init_session_control_read(int fd);

#endif
