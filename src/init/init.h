/* lethe-init's internal interfaces: PID 1's own helpers and the stages. */
#ifndef LETHE_INIT_H
#define LETHE_INIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The parsers PID 1 shares with liblethe (cmdline, PARTUUIDs, verity superblock and
 * table, GPT, dm ioctls, mountinfo, passwd/group) are lib/core's: <lethe/core.h>. */
#include <lethe/contract.h>
#include <lethe/core.h>

/* ---- util.c: PID 1's own helpers (print to the console, never exit) ---- */
extern bool init_debug;
void init_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void init_dbg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "lethe-init: halting: ..." and stay halted forever (PID 1 never exits). */
void init_halt(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* Same, for a verification failure: "lethe-init: root verification failed: ...". */
void init_verify_failed(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void init_console_open(void);
int init_write_file(const char *path, const char *text);
/* Read at most max-1 bytes of a small file into buf, NUL-terminated; length or -errno.
 * lib/core's reader, which lib/core's passwd and group lookup uses too. */
static inline ssize_t init_read_file(const char *path, char *buf, size_t max)
{
	return lethe_small_file_read(path, buf, max);
}
int init_mkdir_p(const char *path, mode_t mode);
double init_uptime(void);
/* Copy a file's bytes (for the shutdown root and lethe.toram). */
int init_copy_file(const char *from, const char *to, mode_t mode);

/* ---- media.c: the boot medium ---- */
/* While stage 1 waits for partition what (PARTUUID uuid), after waited of timeout
 * seconds: say so on the console after a second, then every few seconds. */
void init_media_wait_notice(const char *what, const char *uuid, double waited, unsigned timeout);
/* Entry i of gpt, read from the disk open as disk_fd in sector-byte LBAs that are not
 * the disk's own (a hybrid ISO on a CD-ROM: the kernel made no partition devices), as
 * a read-only loop device at its offset: 1 and its name ("loop0") and number, or 0. */
int init_media_map(int disk_fd, const struct lethe_gpt *gpt, uint32_t i, unsigned sector,
		   char *name, size_t size, unsigned *ret_major, unsigned *ret_minor);

/* ---- the stages ---- */
void init_stage1(void) __attribute__((noreturn));
void init_stage2(void) __attribute__((noreturn));
void init_stage_shutdown(int how) __attribute__((noreturn));

#endif
