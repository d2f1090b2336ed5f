/* The contract between build time and boot time, and between the CLI and PID 1: the
 * lethe.* cmdline keys, the paths inside an image, the caps both sides enforce and the
 * signals lethe-init answers. Spelled once here; header-only data (like hardening.h) so
 * that the static lethe-init, liblethe, the CLI and the audit all include the same
 * spelling. docs/architecture.md says what belongs here. */
#ifndef LETHE_CONTRACT_H
#define LETHE_CONTRACT_H

#include <signal.h>
#include <stddef.h>

/* ---- kernel cmdline keys (lethe.*) ---- */

/* ---- paths inside an image ---- */

/* ---- caps shared by the spec parser and lethe-init ---- */

/* Services one spec may declare (services:). lethe-init holds them in a fixed table of
 * LETHE_MAX_SERVICES + 1 slots: the last is the console shell of an image that carries
 * one. The spec parser refuses a spec with more, so PID 1 never sees one. */
#define LETHE_MAX_SERVICES 64

/* ---- signals to PID 1 ---- */

#endif
