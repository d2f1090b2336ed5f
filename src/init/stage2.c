/* Stage 2, PID 1 in the verified root, the boot sequence: harden the kernel, apply the
 * firewall before any interface is up, lock module loading, configure the network, run
 * the audit once, then hand over to the supervisor (supervise.c), which starts the
 * spec's services and the console shell and shuts down cleanly on request. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/hardening.h>

#include "graphical.h"
#include "session.h"
#include "entry.h"
#include "health.h"
#include "persist.h"
#include "stage2.h"
#include "supervise.h"

#define SPEC_PATH  LETHE_PATH_SPEC
#define LETHE_TOOL LETHE_PATH_TOOL

static void harden_sysctls(void)
{
	unsigned failed = 0;

	for (size_t i = 0; i < LETHE_HARDENING_N_SYSCTLS; i++) {
		char path[256];
		int r;

		snprintf(path, sizeof(path), "/proc/sys/%s", lethe_hardening_sysctls[i].path);
		r = init_write_file(path, lethe_hardening_sysctls[i].value);
		if (r < 0) {
			failed++;
			init_dbg("sysctl %s: %s", lethe_hardening_sysctls[i].path, strerror(-r));
		}
	}
	if (failed)
		init_msg("%u of %zu hardening sysctls are not available in this kernel", failed,
			 (size_t)LETHE_HARDENING_N_SYSCTLS);
}

/* The root's writable layer, which stage 1 mounted below /run (src/init/stage1.c). */
#define OVERLAY_TMPFS LETHE_PATH_OVERLAY

/* tmpfs's options for one of the spec's bounds (the contract's defaults without a
 * spec), after mode (NULL: none, for a remount). */
static const char *tmpfs_options(const struct lethe_spec *spec, enum lethe_spec_tmpfs_mount which,
				 const char *mode, char *buf, size_t size)
{
	static const char *const def[LETHE_SPEC_TMPFS_N][2] = {
		[LETHE_SPEC_TMPFS_ROOT] = { LETHE_TMPFS_ROOT_SIZE, LETHE_TMPFS_ROOT_INODES },
		[LETHE_SPEC_TMPFS_TMP] = { LETHE_TMPFS_TMP_SIZE, LETHE_TMPFS_TMP_INODES },
		[LETHE_SPEC_TMPFS_SHM] = { LETHE_TMPFS_SHM_SIZE, LETHE_TMPFS_SHM_INODES },
		[LETHE_SPEC_TMPFS_RUN] = { LETHE_TMPFS_RUN_SIZE, LETHE_TMPFS_RUN_INODES },
	};

	snprintf(buf, size, "%s%ssize=%s,nr_inodes=%s", mode ? mode : "", mode ? "," : "",
		 spec ? spec->tmpfs[which].size : def[which][0],
		 spec ? spec->tmpfs[which].inodes : def[which][1]);
	return buf;
}

/* Every tmpfs is bounded, so that filling one (a user can write /tmp, /dev/shm and
 * their home on the root's layer) is ENOSPC for the writer, not a frozen system that
 * only a hard reset, which skips the memory wipe, ends. */
static void mount_extra(const struct lethe_spec *spec)
{
	char opt[128];

	/* Stage 1 mounted these with the defaults, before the spec was readable. */
	if (spec) {
		if (mount("tmpfs", "/run", "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV,
			  tmpfs_options(spec, LETHE_SPEC_TMPFS_RUN, NULL, opt, sizeof(opt))) < 0)
			init_msg("warning: cannot bound /run to %s: %s", opt, strerror(errno));
		if (mount("tmpfs", OVERLAY_TMPFS, "tmpfs", MS_REMOUNT | MS_NOSUID | MS_NODEV,
			  tmpfs_options(spec, LETHE_SPEC_TMPFS_ROOT, NULL, opt, sizeof(opt))) < 0)
			init_msg("warning: cannot bound the root's writable layer to %s: %s", opt,
				 strerror(errno));
	}
	/* securityfs shows the LSMs' state (lockdown, Yama) to the audit. */
	(void)mount("securityfs", "/sys/kernel/security", "securityfs",
		    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	/* efivarfs, read-only: the firmware's Secure Boot state and db for the audit, the
	 * loader's variables for bless. Nothing in a session writes EFI variables. */
	init_efivarfs_mount();
	(void)mkdir("/dev/pts", 0755);
	(void)mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
		    "mode=0620,ptmxmode=0666");
	(void)mkdir("/dev/shm", 01777);
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  tmpfs_options(spec, LETHE_SPEC_TMPFS_SHM, "mode=1777", opt, sizeof(opt))) < 0)
		init_msg("warning: cannot mount a tmpfs on /dev/shm: %s", strerror(errno));
	/* /tmp is RAM like the rest of the session, and there even when the image has no
	 * /tmp directory (services such as tor expect one). */
	if (mkdir("/tmp", 01777) < 0 && errno != EEXIST)
		init_msg("warning: cannot make /tmp: %s", strerror(errno));
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
		  tmpfs_options(spec, LETHE_SPEC_TMPFS_TMP, "mode=1777", opt, sizeof(opt))) < 0)
		init_msg("warning: cannot mount a tmpfs on /tmp: %s", strerror(errno));
	(void)init_mkdir_p("/run/log", 0755);
	(void)init_mkdir_p(LETHE_PATH_RUN, 0755);
}

/* Tell `lethe poweroff` that PID 1 is lethe-init: this boot's id in a root-owned file of
 * /run (a RAM file system, so a marker never outlives its boot). */
static void write_pid1_marker(void)
{
	char id[64];
	ssize_t n = init_read_file("/proc/sys/kernel/random/boot_id", id, sizeof(id));
	int fd;

	if (n <= 0) {
		init_msg("warning: no boot id, so 'lethe poweroff' will refuse: %s",
			 strerror(n < 0 ? (int)-n : EIO));
		return;
	}
	fd = open(LETHE_PATH_PID1_MARKER, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
		  0644);
	if (fd < 0 || write(fd, id, (size_t)n) != n)
		init_msg("warning: cannot write " LETHE_PATH_PID1_MARKER ": %s", strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Run a command to its end with stdio on the console (or out_path); its exit status,
 * or -1 if it could not run. */
static int run_wait(char *const argv[], const char *out_path)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (pid == 0) {
		sigset_t all;

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (out_path) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

			if (fd >= 0)
				dup2(fd, STDOUT_FILENO);
		}
		execv(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The firewall comes before any interface: on failure the network stays down. */
static bool apply_firewall(bool have_spec)
{
	int rc;

	if (!have_spec) {
		init_msg("no spec, so no firewall and no network but lo");
		return false;
	}
	if (access(LETHE_TOOL, X_OK) < 0) {
		init_msg("firewall failed: " LETHE_TOOL " is missing; network stays down");
		return false;
	}
	rc = run_wait((char *const[]){ LETHE_TOOL, "firewall", "apply", SPEC_PATH, NULL }, NULL);
	if (rc != 0) {
		init_msg("firewall failed: '" LETHE_TOOL
			 " firewall apply' exited %d; network stays down",
			 rc);
		return false;
	}
	init_msg("firewall applied");
	return true;
}

static void lock_modules(void)
{
	int r = init_write_file("/proc/sys/kernel/modules_disabled", "1");

	if (r < 0)
		init_msg("warning: cannot set kernel.modules_disabled: %s", strerror(-r));
}

static void setup_network(const struct lethe_spec *spec, bool allowed)
{
	struct lethe_strv no_mac = { 0 };
	int r = init_mac_apply(spec ? spec->mac : LETHE_MAC_RANDOM, &no_mac);

	if (r < 0)
		init_msg("warning: cannot list the network cards: %s", strerror(-r));
	r = init_net_link_up("lo");
	if (r < 0)
		init_msg("warning: cannot bring lo up: %s", strerror(-r));
	if (!spec || !allowed) {
		lethe_strv_release(&no_mac);
		return;
	}
	r = init_dns_write(LETHE_PATH_RESOLV_CONF, (const char *const *)spec->dns.v, spec->dns.n);
	if (r < 0)
		init_msg("warning: cannot write " LETHE_PATH_RESOLV_CONF ": %s", strerror(-r));
	for (size_t i = 0; i < spec->n_interfaces; i++) {
		const struct lethe_spec_interface *ifc = &spec->interfaces[i];

		if (lethe_strv_contains(&no_mac, ifc->name))
			continue; /* its permanent address would go on the wire */

		for (size_t a = 0; a < ifc->addresses.n; a++) {
			r = init_net_add_address(ifc->name, ifc->addresses.v[a]);
			if (r < 0)
				init_msg("warning: %s: cannot add address %s: %s", ifc->name,
					 ifc->addresses.v[a], strerror(-r));
		}
		r = init_net_link_up(ifc->name);
		if (r < 0) {
			init_msg("warning: cannot bring %s up: %s", ifc->name, strerror(-r));
			continue;
		}
		if (ifc->dhcp)
			init_dhcp_start(spec, ifc->name); /* dhcp.c */
		if (ifc->gateway4 && (r = init_net_add_default_route(ifc->name, ifc->gateway4)) < 0)
			init_msg("warning: %s: cannot add route via %s: %s", ifc->name,
				 ifc->gateway4, strerror(-r));
		init_vpn_endpoint_route(spec, ifc->name, ifc->gateway4); /* vpn.c */
		if (ifc->gateway6 && (r = init_net_add_default_route(ifc->name, ifc->gateway6)) < 0)
			init_msg("warning: %s: cannot add route via %s: %s", ifc->name,
				 ifc->gateway6, strerror(-r));
	}
	init_vpn_setup(spec); /* vpn.c */
	lethe_strv_release(&no_mac);
}

static void set_hostname(const struct lethe_spec *spec)
{
	const char *name = spec ? (spec->hostname ? spec->hostname : spec->name) : NULL;

	if (!name)
		name = "lethe";
	if (sethostname(name, strlen(name)) < 0)
		init_msg("warning: cannot set the host name: %s", strerror(errno));
}

/* The audit's verdict, once, before the system says it is ready: so that
 * /run/lethe/audit.json is complete when anyone looks, and a user's first command does
 * not race the audit for the CPU. At most AUDIT_TIMEOUT seconds. */
#define AUDIT_TIMEOUT 120.0
static int run_audit(void)
{
	double deadline = init_uptime() + AUDIT_TIMEOUT;
	int status, rc = -1, pfd;
	pid_t pid;

	if (access(LETHE_TOOL, X_OK) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		sigset_t all;
		int fd = open(LETHE_PATH_AUDIT_REPORT, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0644);

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execv(LETHE_TOOL, (char *const[]){ LETHE_TOOL, "audit", "--json", NULL });
		_exit(127);
	}
	if (pid < 0)
		return -1;
	/* Woken when the audit exits (a pidfd), not at the next 20 ms poll; the poll stays
	 * as the fallback where pidfd_open is missing. */
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		double left = deadline - init_uptime();

		if (r == pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (left < 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		if (pfd < 0 || poll(&(struct pollfd){ .fd = pfd, .events = POLLIN }, 1,
				    (int)(left * 1000) + 1) < 0)
			nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
	if (pfd >= 0)
		close(pfd);
	init_msg("audit: %s (report in " LETHE_PATH_AUDIT_REPORT ")", rc == 0 ? "every check passed"
								      : rc == 1
									      ? "some checks failed"
									      : "could not run");
	return rc;
}

void init_stage2(void)
{
	struct lethe_spec *spec = NULL;
	bool net_ok;
	int sfd, r;

	umask(022);
	init_console_open();
	sfd = init_signal_fd();
	/* ctrl-alt-del becomes SIGINT to us instead of an immediate reboot. */
	(void)reboot(RB_DISABLE_CAD);
	{
		char cmdline[LETHE_CMDLINE_MAX];
		struct lethe_cmdline c;
		ssize_t n = init_read_file("/proc/cmdline", cmdline, sizeof(cmdline));

		if (n > 0 && lethe_cmdline_parse(cmdline, (size_t)n, &c) == 0)
			init_debug = c.debug;
	}
	init_msg("stage 2");
	harden_sysctls();
	if (access(SPEC_PATH, R_OK) == 0) {
		/* The files' sources stayed on the build host: do not look for them. */
		r = lethe_spec_load_flags(SPEC_PATH, LETHE_SPEC_LOAD_IN_IMAGE, &spec);
		if (r < 0) {
			init_msg("cannot use %s: %s", SPEC_PATH,
				 lethe_error_message_for(r) ? lethe_error_message_for(r)
							    : strerror(-r));
			spec = NULL;
		}
	}
	mount_extra(spec);
	write_pid1_marker();
	init_persist_setup(spec);
	init_dbg("spec loaded, file systems mounted; applying the firewall");
	net_ok = apply_firewall(spec != NULL);
	/* Everything the firewall needed is loaded now; no module may follow. */
	lock_modules();
	setup_network(spec, net_ok);
	set_hostname(spec);
	init_session_prepare(spec);
	init_graphical_prepare(spec);
	init_services_add(spec);
	init_services_start();
	/* The boot's cost without the audit, for benchmarks. */
	init_msg("services started (uptime %.2f s)", init_uptime());
	r = run_audit();
	init_msg("stage 2 ready (uptime %.2f s)", init_uptime());
	init_health_gate(spec, r); /* A/B boots: bless once healthy (health.c) */
	if (sfd < 0)
		init_halt("cannot watch signals: %s", strerror(errno));
	init_supervise(sfd);
}
