/* The contract between build time and boot time, and between the CLI and PID 1: the
 * lethe.* cmdline keys, the paths inside an image, the caps both sides enforce and the
 * signals lethe-init answers. Spelled once here; header-only data (like hardening.h) so
 * that the static lethe-init, liblethe, the CLI and the audit all include the same
 * spelling. docs/architecture.md says what belongs here. */
#ifndef LETHE_CONTRACT_H
#define LETHE_CONTRACT_H

#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/reboot.h>

/* ---- kernel cmdline keys (lethe.*) ---- */

/* The build writes LETHE_CMDLINE_ROOTHASH=HEX into every image's cmdline; lethe-init
 * reads these keys from /proc/cmdline (lib/core/cmdline.c), the audit and release
 * verification read the root hash back. A word is "KEY" or "KEY=VALUE". */
#define LETHE_CMDLINE_PREFIX   "lethe."		/* every key of ours */
#define LETHE_CMDLINE_ROOTHASH "lethe.roothash" /* =HEX, the verity root hash */
#define LETHE_CMDLINE_TORAM    "lethe.toram"	/* switch: copy the root into RAM */
#define LETHE_CMDLINE_DEBUG    "lethe.debug"	/* switch: lethe-init's debug lines */
#define LETHE_CMDLINE_TIMEOUT  "lethe.timeout"	/* =SECONDS to wait for the disk */
#define LETHE_CMDLINE_PERSISTENCE                                                                  \
	"lethe.persistence" /* refused by the audit unless the                                     \
			     * spec opts in */

/* ---- the boot menu's entries (issue 11.3, docs/boot.md "The boot menu") ---- */

/* Beside the amnesic UKI (the default, found by systemd-boot's scan), the ESP of a
 * built medium carries type #1 loader entries LETHE_ESP_ENTRIES_DIR/ID.conf that start
 * the same UKI. The loader names the entry it started in the volatile EFI variable
 * LoaderEntrySelected; lethe-init reads it (lib/core/boot-entry.c) and acts as if the
 * cmdline had the entry's key, with Secure Boot (which ignores load options) or not. */
#define LETHE_BOOT_ENTRY_TORAM_ID       "lethe-toram"	    /* as LETHE_CMDLINE_TORAM */
#define LETHE_BOOT_ENTRY_PERSISTENCE_ID "lethe-persistence" /* as LETHE_CMDLINE_PERSISTENCE */
#define LETHE_BOOT_ENTRY_SUFFIX	        ".conf"
#define LETHE_BOOT_ENTRY_TORAM_TITLE       "(toram)" /* after the UKI's PRETTY_NAME */
#define LETHE_BOOT_ENTRY_PERSISTENCE_TITLE "(persistent storage)"

/* ---- paths inside an image ---- */

/* Absolute paths as the running system sees them; the build writes below a root
 * directory and drops the leading '/' (LETHE_PATH_SPEC + 1). */
#define LETHE_PATH_SPEC "/etc/lethe/spec.yaml" /* the spec the image was built from */
#define LETHE_PATH_TOOL                                                                            \
	"/usr/bin/lethe"				      /* the CLI, for stage 2's firewall   \
							       * and audit */
#define LETHE_PATH_STAGE2	  "/usr/lib/lethe/lethe-init" /* PID 1 of stage 2, in the root */
#define LETHE_PATH_INITRAMFS_INIT "/init"	       /* PID 1 of stage 1, in the initramfs */
#define LETHE_PATH_MODULES	  "/etc/lethe/modules" /* initramfs: modules to load, in order */
#define LETHE_PATH_MODULES_DIR	  "/lib/modules"       /* initramfs: the modules themselves */
#define LETHE_PATH_RUN		  "/run/lethe"	       /* lethe-init's run-time state */
#define LETHE_PATH_AUDIT_REPORT	  LETHE_PATH_RUN "/audit.json" /* stage 2's audit, as JSON */
#define LETHE_PATH_OVERLAY                                                                         \
	LETHE_PATH_RUN "/overlay"	    /* stage 1: the tmpfs of the overlay's                 \
					     * upper layer, remounted by stage 2 */
#define LETHE_DM_ROOT_NAME     "lethe-root" /* the dm-verity device of the root */
#define LETHE_PATH_PID1_MARKER LETHE_PATH_RUN "/pid1-boot-id" /* lethe-init writes the boot id */
/* The image's own manifest.mtree (lethe fim check): the build puts it into the root
 * after describing the root, so it does not list itself; dm-verity covers it. */
#define LETHE_PATH_MANIFEST "/usr/lib/lethe/manifest.mtree"

/* persistence (docs/persistence.md): the helper stage 2 runs to open the store (dynamic:
 * it links libcryptsetup, which PID 1 cannot), the store's dm-crypt name and mount. */
#define LETHE_PATH_PERSIST_TOOL	 "/usr/lib/lethe/lethe-persist"
#define LETHE_DM_PERSIST_NAME	 "lethe-persist"
#define LETHE_PATH_PERSIST_STORE LETHE_PATH_RUN "/persist"

/* update: (docs/update.md): the A/B verbs of an image that updates itself (update,
 * status, rollback; it links libfdisk and libcurl, which lethe-image does not), to which
 * /usr/bin/lethe hands those verbs. */
#define LETHE_PATH_UPDATE_TOOL "/usr/lib/lethe/lethe-update"

/* ---- caps shared by the spec parser and lethe-init ---- */

/* Services one spec may declare (services:). lethe-init holds them in a fixed table of
 * LETHE_MAX_SERVICES + 1 slots: the last is the console shell of an image that carries
 * one. The spec parser refuses a spec with more, so PID 1 never sees one. */
#define LETHE_MAX_SERVICES 64

/* The RAM file systems lethe-init mounts, each bounded (spec tmpfs:, docs/spec.md) so
 * that a full one is ENOSPC for the writer, never a system out of memory: size as tmpfs
 * takes it (a percentage of RAM, or bytes with k, m or g), and inodes (each costs about
 * 1 KiB of kernel memory that size= does not count). The defaults add up to 60% of RAM,
 * which leaves the kernel, PID 1 and the services the rest. Stage 1 mounts /run and the
 * root's writable layer with the defaults (the spec is not readable yet); stage 2
 * remounts them with the spec's bounds. */
#define LETHE_TMPFS_ROOT_SIZE	"25%" /* the writable layer over the image: /, /home, /var */
#define LETHE_TMPFS_ROOT_INODES "65536"
#define LETHE_TMPFS_TMP_SIZE	"20%" /* /tmp */
#define LETHE_TMPFS_TMP_INODES	"16384"
#define LETHE_TMPFS_SHM_SIZE	"10%" /* /dev/shm */
#define LETHE_TMPFS_SHM_INODES	"4096"
#define LETHE_TMPFS_RUN_SIZE	"5%" /* /run: logs, the audit's report */
#define LETHE_TMPFS_RUN_INODES	"4096"
/* The percentages of one spec together, at most (the rest is for the kernel and PID 1). */
#define LETHE_TMPFS_MAX_PERCENT 90
/* lethe.toram's copy of the image: it must fit, and nothing but lethe-init writes it. */
#define LETHE_TMPFS_TORAM_OPTIONS "size=90%,nr_inodes=16"

/* The mount options for the defaults, e.g. "size=5%,nr_inodes=4096". */
#define LETHE_TMPFS_OPTIONS(size, inodes) "size=" size ",nr_inodes=" inodes
#define LETHE_TMPFS_ROOT_OPTIONS	  LETHE_TMPFS_OPTIONS(LETHE_TMPFS_ROOT_SIZE, LETHE_TMPFS_ROOT_INODES)
#define LETHE_TMPFS_RUN_OPTIONS		  LETHE_TMPFS_OPTIONS(LETHE_TMPFS_RUN_SIZE, LETHE_TMPFS_RUN_INODES)

/* ---- signals to PID 1 ---- */

/* What a signal to lethe-init asks for: the signals busybox's poweroff, halt and reboot
 * send to init (so that busybox's tools work on Lethe too), and SIGINT, which the kernel
 * sends for ctrl-alt-del once lethe-init has set RB_DISABLE_CAD. how is the reboot(2)
 * command lethe-init ends with, after its shutdown; verb the request's name (the option
 * of `lethe poweroff`, NULL for ctrl-alt-del). */
struct lethe_pid1_signal {
	int sig;
	int how;
	const char *verb;
};

static const struct lethe_pid1_signal lethe_pid1_signals[] = {
	{ SIGUSR2, RB_POWER_OFF, "poweroff" },
	{ SIGUSR1, RB_HALT_SYSTEM, "halt" },
	{ SIGTERM, RB_AUTOBOOT, "reboot" },
	{ SIGINT, RB_AUTOBOOT, NULL }, /* ctrl-alt-del */
};
#define LETHE_PID1_N_SIGNALS (sizeof(lethe_pid1_signals) / sizeof(lethe_pid1_signals[0]))

/* The signal that asks PID 1 for verb ("poweroff", "halt", "reboot"), or 0. */
static inline int lethe_pid1_signal_for(const char *verb)
{
	for (size_t i = 0; i < LETHE_PID1_N_SIGNALS; i++)
		if (lethe_pid1_signals[i].verb && !strcmp(lethe_pid1_signals[i].verb, verb))
			return lethe_pid1_signals[i].sig;
	return 0;
}

/* The reboot(2) command that sig asks PID 1 for, or 0 when it asks for none. */
static inline int lethe_pid1_signal_how(int sig)
{
	for (size_t i = 0; i < LETHE_PID1_N_SIGNALS; i++)
		if (lethe_pid1_signals[i].sig == sig)
			return lethe_pid1_signals[i].how;
	return 0;
}

/* ---- the console session (issue 13.3, docs/session.md) ---- */

/* lethe-init writes the console session's pid here (its shell, before it drops to
 * session.user); the audit's session.unprivileged reads the process's identity. */
#define LETHE_PATH_SESSION_PID LETHE_PATH_RUN "/session.pid"
/* The line lethe-init prints on the console when it asks for the administration
 * password (spec session.admin_password: ask); tests wait for it. */
#define LETHE_SESSION_ADMIN_PROMPT "lethe-init: administration password"
/* A FIFO that lethe-init reads and the session's group may write: one line, a verb of
 * lethe_pid1_signals ("poweroff", "halt", "reboot"), asks for what that signal asks.
 * It lets `lethe poweroff` in an unprivileged session stop the system with the wipe,
 * where a signal to PID 1 would be EPERM. Only with a session: section. */
#define LETHE_PATH_SESSION_CONTROL LETHE_PATH_RUN "/control"

/* ---- the network (issue 16, docs/network.md) ---- */

/* lethe-init writes the spec's network.dns here, and nothing else. */
#define LETHE_PATH_RESOLV_CONF "/etc/resolv.conf"

#endif
