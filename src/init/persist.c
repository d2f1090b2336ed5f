/* Persistence at boot and at shutdown (docs/persistence.md): only when the boot menu's
 * persistent-storage entry was chosen (or the cmdline has lethe.persistence) and the
 * spec allows it, stage 2 runs the image's lethe-persist helper, which opens the store
 * and binds the spec's directories; without both, no device is opened. At shutdown, once everything
 * is unmounted, PID 1 removes the store's dm-crypt device (the kernel wipes its key). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lethe/contract.h>

#include "entry.h"
#include "persist.h"

static bool cmdline_asks(void)
{
	char cmdline[LETHE_CMDLINE_MAX], name[256];
	struct lethe_cmdline c;
	ssize_t n = init_read_file("/proc/cmdline", cmdline, sizeof(cmdline));

	if (n > 0 && lethe_cmdline_parse(cmdline, (size_t)n, &c) == 0 && c.persistence)
		return true;
	/* The boot menu's "(persistent storage)" entry (efivarfs: mount_extra mounted it). */
	if (!(init_boot_entry(name, sizeof(name)) & LETHE_BOOT_ENTRY_PERSISTENCE))
		return false;
	init_msg("boot menu entry '%s': " LETHE_CMDLINE_PERSISTENCE, name);
	return true;
}

void init_persist_setup(const struct lethe_spec *spec)
{
	int status, rc;
	pid_t pid;

	if (!cmdline_asks())
		return; /* the amnesic entry: the store is never looked at */
	if (!spec || !spec->persistence) {
		init_msg("persistence: " LETHE_CMDLINE_PERSISTENCE
			 " is on the cmdline but the spec "
			 "allows no persistence: no device is opened; this boot is amnesic");
		return;
	}
	if (access(LETHE_PATH_PERSIST_TOOL, X_OK) < 0) {
		init_msg("persistence: " LETHE_PATH_PERSIST_TOOL
			 " is missing; this boot is amnesic");
		return;
	}
	init_msg("persistence: opening the store %s", spec->persistence->device);
	pid = fork();
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		execv(LETHE_PATH_PERSIST_TOOL,
		      (char *const[]){ LETHE_PATH_PERSIST_TOOL, "persist", "boot", NULL });
		_exit(127);
	}
	if (pid < 0) {
		init_msg("persistence: cannot start the helper: %s; this boot is amnesic",
			 strerror(errno));
		return;
	}
	/* No timeout: a person may take their time to type. */
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			break;
		}
	rc = status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	if (rc == 0)
		init_msg("persistence: the store is open; only its %zu directories persist",
			 spec->persistence->directories.n);
	else
		init_msg("persistence: the store is not open (helper exited %d); this boot stays "
			 "amnesic",
			 rc);
}

void init_persist_close(void)
{
	int r, fd;

	sync();
	/* The shutdown root is a nodev tmpfs: a devtmpfs of its own holds the dm control
	 * node (the kernel makes it). Left mounted: the root's dm device comes next. */
	fd = open(LETHE_DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
	} else {
		(void)mkdir("/dev", 0755);
		if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") < 0)
			init_dbg("cannot mount a devtmpfs for the dm control: %s", strerror(errno));
	}
	r = lethe_dm_remove(LETHE_DM_PERSIST_NAME);
	if (r == 0)
		init_msg("persistence: store closed");
	else if (r != -ENXIO && r != -ENODEV && r != -ENOENT)
		init_msg("warning: cannot close the store " LETHE_DM_PERSIST_NAME ": %s",
			 strerror(-r));
}
