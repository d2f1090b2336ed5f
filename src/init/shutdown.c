/* Shutdown: from stage 2, move into a fresh RAM root that holds only a copy of
 * lethe-init, and from there unmount everything of the session (the overlay's tmpfs
 * included), so that its pages are freed (and zeroed, with init_on_free=1) before the
 * power goes off. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"
#include "persist.h"

#define FINAL	   LETHE_PATH_RUN "/final"
#define MAX_MOUNTS 256

static void __attribute__((noreturn)) finish(int how)
{
	sync();
	if (init_write_file("/proc/sys/vm/drop_caches", "3") < 0)
		init_msg("warning: cannot drop caches: %s", strerror(errno));
	if (how == RB_POWER_OFF)
		init_msg("memory wiped, powering off");
	else if (how == RB_AUTOBOOT)
		init_msg("memory wiped, rebooting");
	else
		init_msg("memory wiped, halting");
	reboot(how);
	init_halt("reboot() failed: %s", strerror(errno));
}

/* Unmount every mount below prefix, deepest (latest) first; detach lazily what is
 * still busy. */
static void unmount_below(const char *prefix)
{
	static char text[1 << 18];
	const char *mounts[MAX_MOUNTS];
	struct lethe_mounts m;
	size_t n = 0, plen = strlen(prefix);
	char *last;
	int r;

	if (init_read_file("/proc/self/mountinfo", text, sizeof(text)) < 0)
		return;
	/* A table longer than the buffer ends in a cut line: leave it out. */
	last = strrchr(text, '\n');
	if (last)
		last[1] = '\0';
	r = lethe_mountinfo_parse("/proc/self/mountinfo", text, &m);
	if (r < 0) {
		init_msg("warning: %s",
			 lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
		return;
	}
	for (size_t i = 0; i < m.n && n < MAX_MOUNTS; i++) {
		const char *f = m.v[i].mountpoint;

		if (!strncmp(f, prefix, plen) && (f[plen] == '/' || f[plen] == '\0'))
			mounts[n++] = f;
	}
	while (n-- > 0) {
		if (umount2(mounts[n], 0) == 0)
			continue;
		if (umount2(mounts[n], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			init_msg("warning: cannot unmount %s: %s", mounts[n], strerror(errno));
	}
	lethe_mounts_release(&m);
}

/* Stage "shutdown": we are PID 1 in the RAM root, the old root is at /oldroot. */
void init_stage_shutdown(int how)
{
	if (getpid() != 1 || access("/oldroot", F_OK) < 0) {
		/* Called from stage 2: build the RAM root and run ourselves from it. */
		char how_arg[32];

		sync();
		(void)init_mkdir_p(FINAL, 0700);
		if (mount("tmpfs", FINAL, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=16m") <
			    0 ||
		    init_copy_file("/proc/self/exe", FINAL "/lethe-init", 0700) < 0 ||
		    mkdir(FINAL "/oldroot", 0700) < 0 || mkdir(FINAL "/proc", 0555) < 0 ||
		    chdir(FINAL) < 0 || syscall(SYS_pivot_root, ".", "oldroot") < 0 ||
		    chdir("/") < 0) {
			init_msg("warning: cannot move to a RAM root (%s); unmounting in place",
				 strerror(errno));
			unmount_below("/");
			finish(how);
		}
		snprintf(how_arg, sizeof(how_arg), "%d", how);
		/* Close everything but the console: no file of the old root stays open. */
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
		execv("/lethe-init",
		      (char *const[]){ "lethe-init", "--stage=shutdown", how_arg, NULL });
		init_msg("warning: cannot execute the RAM copy of lethe-init: %s", strerror(errno));
		unmount_below("/oldroot");
		finish(how);
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		init_msg("warning: cannot mount /proc: %s", strerror(errno));
	unmount_below("/oldroot");
	if (umount2("/oldroot", MNT_DETACH) < 0 && errno != EINVAL)
		init_msg("warning: cannot detach the old root: %s", strerror(errno));
	init_persist_close();
	(void)lethe_dm_remove(LETHE_DM_ROOT_NAME);
	finish(how);
}
