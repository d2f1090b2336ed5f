/* The health gate and bless: what systemd-bless-boot does, in lethe-init. When the
 * boot loader counts this boot (LoaderBootCountPath is set), a child of PID 1 waits
 * for the gate: every service of the spec still running, unrestarted, after
 * health.settle seconds; the audit passed; the spec's health.command exited 0. Then
 * it renames the booted UKI on the ESP without its counter (vfat, loaded in stage 1
 * before the module lock). A failing gate logs its verdict and asks PID 1 to reboot
 * once health.timeout has passed since the gate began, so the counter keeps falling
 * and systemd-boot falls back to the other slot. docs/update.md describes it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lethe/update.h>

#include "health.h"
#include "init.h"
#include "supervise.h"

#define ESP_MOUNT	LETHE_PATH_RUN "/esp"
#define HALT_REBOOT_SEC 5

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* An EFI variable of the loader as text; 0, -ENOENT when unset. */
static int loader_var(const char *name, char *ret, size_t size)
{
	char path[256], buf[1024];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), LETHE_EFIVARS_DIR "/%s-" LETHE_LOADER_GUID, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0)
		return -errno;
	return lethe_efivar_string(buf, (size_t)n, ret, size);
}

bool init_boot_counted(char *entry, size_t size)
{
	char path[512];
	const char *base;

	/* efivarfs: stage 1 (entry.c) and stage 2 (mount_extra) mount it, read-only. */
	if (loader_var(LETHE_LOADER_BOOT_COUNT_PATH, path, sizeof(path)) < 0)
		return false;
	base = strrchr(path, '/');
	if (entry)
		snprintf(entry, size, "%s", base ? base + 1 : path);
	return true;
}

void init_counted_failure(void)
{
	if (!init_boot_counted(NULL, 0))
		return;
	init_msg("this boot is counted by the boot loader: rebooting in %d s, so that it "
		 "falls back to the other slot",
		 HALT_REBOOT_SEC);
	sleep_s(HALT_REBOOT_SEC);
	sync();
	(void)reboot(RB_AUTOBOOT);
}

/* The ESP's device node: the partition the kernel names PARTNAME=lethe-esp in its
 * uevent (the kernel puts no PARTUUID there, so LoaderDevicePartUUID cannot be matched
 * without reading the GPT; lethe install names the ESP). */
static int esp_device(char *ret, size_t size)
{
	char path[300], text[2048];
	struct dirent *de;
	DIR *d = opendir("/sys/class/block");
	int r = -ENOENT;

	if (!d)
		return -errno;
	while (r == -ENOENT && (de = readdir(d))) {
		char *p;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", de->d_name);
		if (init_read_file(path, text, sizeof(text)) <= 0)
			continue;
		p = strstr(text, "PARTNAME=" LETHE_UPDATE_LABEL_ESP "\n");
		if (p && (p == text || p[-1] == '\n')) {
			snprintf(ret, size, "/dev/%s", de->d_name);
			r = 0;
		}
	}
	closedir(d);
	return r;
}

static int bless(const char *entry)
{
	struct lethe_bootcount c;
	char dev[300], to[LETHE_BOOTCOUNT_NAME_MAX];
	int dfd, r;

	if (lethe_bootcount_parse(entry, &c) < 0)
		return -EINVAL;
	if (!c.counting)
		return 0;
	c.counting = false;
	if (lethe_bootcount_format(&c, to) < 0)
		return -EINVAL;
	r = esp_device(dev, sizeof(dev));
	if (r < 0) {
		init_msg("health: no partition named " LETHE_UPDATE_LABEL_ESP);
		return r;
	}
	init_mkdir_p(ESP_MOUNT, 0700);
	if (mount(dev, ESP_MOUNT, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "flush") < 0) {
		r = -errno;
		init_msg("health: cannot mount %s (vfat) on " ESP_MOUNT ": %s", dev, strerror(-r));
		return r;
	}
	dfd = open(ESP_MOUNT "/EFI/Linux", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = dfd < 0 ? -errno : 0;
	if (r == 0 && renameat(dfd, entry, dfd, to) < 0)
		r = -errno;
	if (r < 0)
		init_msg("health: cannot rename EFI/Linux/%s on %s: %s", entry, dev, strerror(-r));
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	sync();
	if (umount(ESP_MOUNT) < 0 && r == 0)
		r = -errno;
	if (r == 0)
		init_msg("health: blessed EFI/Linux/%s as %s", entry, to);
	return r;
}

/* Run health.command; its exit status, or -1. At most until deadline. */
static int run_command(const struct lethe_spec *spec, double deadline)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execv(spec->health_command.v[0], spec->health_command.v);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (init_uptime() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -1;
		}
		sleep_s(0.1);
	}
}

/* The audit for the gate: `lethe audit --skip health.audit_skip`; its failing lines go
 * to the console, so the verdict says which control failed. Its exit status or -1. */
static int run_audit(const struct lethe_spec *spec, double deadline)
{
	char skip[1024] = "", line[512];
	int pfd[2], status = 0;
	size_t o = 0;
	FILE *f;
	pid_t pid;

	for (size_t i = 0; i < spec->health_audit_skip.n; i++)
		o += (size_t)snprintf(skip + o, o < sizeof(skip) ? sizeof(skip) - o : 0, "%s%s",
				      i ? "," : "", spec->health_audit_skip.v[i]);
	if (o >= sizeof(skip) || pipe(pfd) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		if (skip[0])
			execl(LETHE_PATH_TOOL, LETHE_PATH_TOOL, "audit", "--no-color", "--skip",
			      skip, (char *)NULL);
		else
			execl(LETHE_PATH_TOOL, LETHE_PATH_TOOL, "audit", "--no-color",
			      (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -1;
	}
	f = fdopen(pfd[0], "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "FAIL", 4))
			init_msg("health: audit: %.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
	(void)deadline;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Is pid alive and not a zombie? */
static bool alive(pid_t pid)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (pid <= 0 || init_read_file(path, buf, sizeof(buf)) <= 0)
		return false;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

/* The gate, in the child; returns what failed, or NULL. */
static const char *gate(const struct lethe_spec *spec, int audit_rc, const pid_t *pids, size_t n,
			double deadline, char *why, size_t size)
{
	double settle_end = init_uptime() + spec->health_settle;

	do {
		for (size_t i = 0; i < n; i++)
			if (!alive(pids[i])) {
				snprintf(why, size, "service %zu of the spec exited within %u s",
					 i + 1, spec->health_settle);
				return why;
			}
		sleep_s(0.5);
	} while (init_uptime() < settle_end);
	/* Again, to name what failed, or without the checks the spec waives for the gate. */
	if (audit_rc != 0 || spec->health_audit_skip.n)
		audit_rc = run_audit(spec, deadline);
	if (audit_rc != 0) {
		snprintf(why, size, "the audit did not pass (%s)",
			 audit_rc == 1 ? "some checks failed" : "it could not run");
		return why;
	}
	if (spec->health_command.n) {
		int rc = run_command(spec, deadline);

		if (rc != 0) {
			snprintf(why, size, "health.command '%s' %s %d", spec->health_command.v[0],
				 rc < 0 ? "failed or timed out:" : "exited", rc);
			return why;
		}
	}
	return NULL;
}

void init_health_gate(const struct lethe_spec *spec, int audit_rc)
{
	char entry[LETHE_BOOTCOUNT_NAME_MAX + 256], why[256];
	pid_t pids[LETHE_MAX_SERVICES];
	size_t n;
	pid_t child;

	if (!spec || !spec->boot_ab)
		return;
	if (!init_boot_counted(entry, sizeof(entry))) {
		init_msg("health: this boot is not counted; nothing to bless");
		return;
	}
	n = init_services_pids(pids, LETHE_MAX_SERVICES);
	init_msg("health: gate for EFI/Linux/%s: %zu services for %u s, the audit%s; "
		 "timeout %u s",
		 entry, n, spec->health_settle, spec->health_command.n ? ", health.command" : "",
		 spec->health_timeout);
	child = fork();
	if (child != 0)
		return; /* PID 1 supervises; the reaper ignores a child it does not know */
	{
		double deadline = init_uptime() + spec->health_timeout;
		const char *failed = gate(spec, audit_rc, pids, n, deadline, why, sizeof(why));
		int r;

		if (!failed) {
			r = bless(entry);
			if (r == 0)
				init_msg("health: passed");
			else
				init_msg("health: passed, but cannot bless EFI/Linux/%s: %s", entry,
					 strerror(-r));
			_exit(0);
		}
		init_msg("health: FAILED: %s; not blessed, rebooting at the timeout (%.0f s)",
			 failed, deadline - init_uptime() > 0 ? deadline - init_uptime() : 0);
		while (init_uptime() < deadline)
			sleep_s(1);
		kill(1, SIGTERM); /* the contract's reboot signal: an orderly shutdown */
		_exit(1);
	}
}
