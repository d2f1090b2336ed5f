/* Stage 2, PID 1 in the verified root: harden the kernel, apply the firewall before
 * any interface is up, lock module loading, configure the network, start the spec's
 * services (or a console shell), supervise them, and shut down cleanly on request. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lethe/hardening.h>

#include "stage2.h"

#define SPEC_PATH "/etc/lethe/spec.yaml"
#define LETHE_TOOL "/usr/bin/lethe"
#define SHELL "/bin/sh"
#define BUSYBOX "/bin/busybox" /* Debian's busybox-static comes without applet links */
#define MAX_SERVICES 64
#define BACKOFF_MIN 1.0
#define BACKOFF_MAX 60.0
#define STOP_TIMEOUT 5.0

struct service {
	char name[64];
	char **argv;
	const char *user, *group;
	bool restart;
	bool shell;          /* the console shell: on the console, no log pipe */
	pid_t pid;
	int out;             /* read end of its stdout/stderr pipe, or -1 */
	int log;             /* /run/log/NAME.log, or -1 */
	double backoff;      /* seconds before the next start */
	double next_start;   /* uptime; 0 = not scheduled */
	double started;
};

static struct service services[MAX_SERVICES];
static size_t n_services;

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

static void mount_extra(void)
{
	/* securityfs shows the LSMs' state (lockdown, Yama) to the audit. */
	(void)mount("securityfs", "/sys/kernel/security", "securityfs",
		    MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	(void)mkdir("/dev/pts", 0755);
	(void)mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "mode=0620,ptmxmode=0666");
	(void)mkdir("/dev/shm", 01777);
	(void)mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777");
	/* /tmp is RAM like the rest of the session, and there even when the image has no
	 * /tmp directory (services such as tor expect one). */
	if (mkdir("/tmp", 01777) < 0 && errno != EEXIST)
		init_msg("warning: cannot make /tmp: %s", strerror(errno));
	if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		init_msg("warning: cannot mount a tmpfs on /tmp: %s", strerror(errno));
	(void)init_mkdir_p("/run/log", 0755);
	(void)init_mkdir_p("/run/lethe", 0755);
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
		init_msg("firewall failed: '" LETHE_TOOL " firewall apply' exited %d; network stays down",
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
	int r = init_net_link_up("lo");

	if (r < 0)
		init_msg("warning: cannot bring lo up: %s", strerror(-r));
	if (!spec || !allowed)
		return;
	for (size_t i = 0; i < spec->n_interfaces; i++) {
		const struct lethe_spec_interface *ifc = &spec->interfaces[i];

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
		if (ifc->gateway4 && (r = init_net_add_default_route(ifc->name, ifc->gateway4)) < 0)
			init_msg("warning: %s: cannot add route via %s: %s", ifc->name,
				 ifc->gateway4, strerror(-r));
		if (ifc->gateway6 && (r = init_net_add_default_route(ifc->name, ifc->gateway6)) < 0)
			init_msg("warning: %s: cannot add route via %s: %s", ifc->name,
				 ifc->gateway6, strerror(-r));
	}
}

static void set_hostname(const struct lethe_spec *spec)
{
	const char *name = spec ? (spec->hostname ? spec->hostname : spec->name) : NULL;

	if (!name)
		name = "lethe";
	if (sethostname(name, strlen(name)) < 0)
		init_msg("warning: cannot set the host name: %s", strerror(errno));
}

static void add_services(const struct lethe_spec *spec)
{
	for (size_t i = 0; spec && i < spec->n_services && n_services < MAX_SERVICES; i++) {
		struct service *s = &services[n_services++];

		snprintf(s->name, sizeof(s->name), "%s", spec->services[i].name);
		s->argv = spec->services[i].command.v;
		s->user = spec->services[i].user;
		s->group = spec->services[i].group;
		s->restart = spec->services[i].restart;
	}
	/* An image that carries a shell gets it on the console, beside its services (the
	 * console is the machine's owner at its keyboard); an appliance carries none. */
	if (access(SHELL, X_OK) == 0 || access(BUSYBOX, X_OK) == 0) {
		struct service *s = &services[n_services++];
		/* A leading '-' makes a login shell; busybox strips it to find "sh". */
		static char *sh_argv[] = { "-sh", NULL };

		snprintf(s->name, sizeof(s->name), "console shell");
		s->argv = sh_argv;
		s->shell = true;
		s->restart = true;
	}
	for (size_t i = 0; i < n_services; i++) {
		services[i].out = -1;
		services[i].log = -1;
		services[i].backoff = BACKOFF_MIN;
		services[i].next_start = init_uptime();
	}
}

static void __attribute__((noreturn)) child_exec(struct service *s, int out_w)
{
	struct init_account acc;
	sigset_t all;
	int r;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	setsid();
	if (s->shell) {
		int fd = open("/dev/console", O_RDWR | O_CLOEXEC);

		if (fd >= 0) {
			for (int i = 0; i < 3; i++)
				dup2(fd, i);
			(void)ioctl(STDIN_FILENO, TIOCSCTTY, 1);
		}
		setenv("HOME", "/root", 1);
		setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
		setenv("TERM", "linux", 0);
		execv(SHELL, s->argv);
		execv(BUSYBOX, s->argv);
		_exit(127);
	}
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (null >= 0)
		dup2(null, STDIN_FILENO);
	dup2(out_w, STDOUT_FILENO);
	dup2(out_w, STDERR_FILENO);
	r = init_account_resolve(s->user, s->group, &acc);
	if (r < 0) {
		dprintf(STDERR_FILENO, "lethe-init: service %s: cannot resolve user '%s': %s\n",
			s->name, s->user ? s->user : "root", strerror(-r));
		_exit(126);
	}
	if (setgroups(acc.n_groups, acc.groups) < 0 || setgid(acc.gid) < 0 || setuid(acc.uid) < 0) {
		dprintf(STDERR_FILENO, "lethe-init: service %s: cannot become %u:%u: %s\n", s->name,
			acc.uid, acc.gid, strerror(errno));
		_exit(126);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(126);
	if (chdir("/") < 0)
		_exit(126);
	/* Nothing of PID 1's environment (the kernel's leftovers) leaks into services. */
	clearenv();
	setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
	setenv("HOME", "/", 1);
	execv(s->argv[0], s->argv);
	dprintf(STDERR_FILENO, "lethe-init: service %s: cannot execute %s: %s\n", s->name,
		s->argv[0], strerror(errno));
	_exit(127);
}

static void start_service(struct service *s)
{
	int p[2] = { -1, -1 };
	pid_t pid;

	s->next_start = 0;
	if (!s->shell) {
		char path[128];

		if (pipe2(p, O_CLOEXEC) < 0) {
			init_msg("service %s: no pipe: %s", s->name, strerror(errno));
			s->next_start = init_uptime() + s->backoff;
			return;
		}
		if (s->log < 0) {
			snprintf(path, sizeof(path), "/run/log/%s.log", s->name);
			s->log = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		}
	}
	pid = fork();
	if (pid == 0)
		child_exec(s, p[1]);
	if (p[1] >= 0)
		close(p[1]);
	if (pid < 0) {
		init_msg("service %s: cannot fork: %s", s->name, strerror(errno));
		if (p[0] >= 0)
			close(p[0]);
		s->next_start = init_uptime() + s->backoff;
		return;
	}
	s->pid = pid;
	s->out = p[0];
	s->started = init_uptime();
	init_dbg("started %s (pid %d)", s->name, (int)pid);
}

/* Copy what a service wrote to its log file and, prefixed, to the console. */
static void drain_service(struct service *s)
{
	char buf[4096];
	ssize_t n = read(s->out, buf, sizeof(buf));

	if (n <= 0) {
		close(s->out);
		s->out = -1;
		return;
	}
	if (s->log >= 0)
		(void)!write(s->log, buf, (size_t)n);
	for (ssize_t start = 0; start < n;) {
		char *nl = memchr(buf + start, '\n', (size_t)(n - start));
		ssize_t end = nl ? nl - buf + 1 : n;
		char line[4200];
		int len = snprintf(line, sizeof(line), "%s: %.*s%s", s->name, (int)(end - start),
				   buf + start, nl ? "" : "\n");

		if (len > 0)
			(void)!write(STDERR_FILENO, line, (size_t)len < sizeof(line) ? (size_t)len :
				     sizeof(line) - 1);
		start = end;
	}
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < n_services; i++) {
			struct service *s = &services[i];

			if (s->pid != pid)
				continue;
			s->pid = 0;
			/* Exponential back-off, reset after a run of a minute; the shell comes
			 * back at once. */
			if (init_uptime() - s->started > BACKOFF_MAX)
				s->backoff = BACKOFF_MIN;
			if (s->restart)
				s->next_start = init_uptime() + (s->shell ? 0.2 : s->backoff);
			if (!s->shell || init_debug) {
				char again[64] = "";

				if (s->restart && !s->shell)
					snprintf(again, sizeof(again), "; restarting in %.0f s", s->backoff);
				init_msg("%s exited (%s %d)%s", s->name,
					 WIFEXITED(status) ? "status" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), again);
			}
			if (s->restart && !s->shell && s->backoff < BACKOFF_MAX)
				s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
		}
	}
}

/* The audit's verdict, once, before the system says it is ready: so that
 * /run/lethe/audit.json is complete when anyone looks, and a user's first command does
 * not race the audit for the CPU. At most AUDIT_TIMEOUT seconds. */
#define AUDIT_TIMEOUT 120.0
static void run_audit(void)
{
	double deadline = init_uptime() + AUDIT_TIMEOUT;
	int status, rc = -1;
	pid_t pid;

	if (access(LETHE_TOOL, X_OK) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		sigset_t all;
		int fd = open("/run/lethe/audit.json", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		if (fd >= 0)
			dup2(fd, STDOUT_FILENO);
		execv(LETHE_TOOL, (char *const[]){ LETHE_TOOL, "audit", "--json", NULL });
		_exit(127);
	}
	if (pid < 0)
		return;
	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid) {
			rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (init_uptime() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			break;
		}
		nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
	init_msg("audit: %s (report in /run/lethe/audit.json)",
		 rc == 0 ? "every check passed" : rc == 1 ? "some checks failed" :
		 "could not run");
}

/* Stop services (SIGTERM, up to STOP_TIMEOUT, then SIGKILL), then every process. */
static void stop_everything(void)
{
	double deadline = init_uptime() + STOP_TIMEOUT;
	bool any;

	for (size_t i = 0; i < n_services; i++) {
		pid_t pid = services[i].pid;

		services[i].restart = false;
		if (pid <= 0)
			continue;
		/* An interactive shell ignores SIGTERM; it has nothing to save either. */
		if (services[i].shell) {
			kill(-pid, SIGHUP);
			kill(-pid, SIGKILL);
			continue;
		}
		kill(-pid, SIGTERM);
		kill(pid, SIGTERM);
	}
	do {
		reap();
		any = false;
		for (size_t i = 0; i < n_services; i++)
			any = any || services[i].pid > 0;
		if (any)
			nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	} while (any && init_uptime() < deadline);
	kill(-1, SIGTERM);
	nanosleep(&(struct timespec){ 0, 200 * 1000 * 1000 }, NULL);
	kill(-1, SIGKILL);
	deadline = init_uptime() + STOP_TIMEOUT;
	while (init_uptime() < deadline) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);

		if (pid < 0 && errno == ECHILD)
			break;
		if (pid == 0)
			nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	}
	for (size_t i = 0; i < n_services; i++) {
		if (services[i].out >= 0)
			close(services[i].out);
		if (services[i].log >= 0)
			close(services[i].log);
		services[i].out = services[i].log = -1;
	}
}

static int signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* What a signal to PID 1 asks for: busybox poweroff sends SIGUSR2, halt SIGUSR1,
 * reboot SIGTERM; ctrl-alt-del gives SIGINT. */
static int signal_action(int sig)
{
	switch (sig) {
	case SIGUSR2:
		return RB_POWER_OFF;
	case SIGUSR1:
		return RB_HALT_SYSTEM;
	case SIGTERM:
	case SIGINT:
		return RB_AUTOBOOT;
	default:
		return 0;
	}
}

static void __attribute__((noreturn)) supervise(int sfd)
{
	for (;;) {
		struct pollfd pfd[MAX_SERVICES + 1];
		struct service *map[MAX_SERVICES + 1];
		double now = init_uptime(), wake = -1;
		nfds_t n = 0;

		for (size_t i = 0; i < n_services; i++) {
			struct service *s = &services[i];

			if (s->pid == 0 && s->next_start > 0 && s->next_start <= now)
				start_service(s);
			if (s->next_start > 0 && (wake < 0 || s->next_start < wake))
				wake = s->next_start;
		}
		pfd[n].fd = sfd;
		pfd[n++].events = POLLIN;
		for (size_t i = 0; i < n_services; i++) {
			if (services[i].out < 0)
				continue;
			map[n] = &services[i];
			pfd[n].fd = services[i].out;
			pfd[n++].events = POLLIN;
		}
		int timeout = wake < 0 ? -1 : (int)((wake - now) * 1000) + 1;

		if (poll(pfd, n, timeout < 0 && wake >= 0 ? 0 : timeout) < 0)
			continue;
		for (nfds_t i = 1; i < n; i++)
			if (pfd[i].revents)
				drain_service(map[i]);
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			int how = 0;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				if (!how)
					how = signal_action((int)si.ssi_signo);
			reap();
			if (how) {
				init_msg("shutting down");
				stop_everything();
				init_stage_shutdown(how);
			}
		}
	}
}

void init_stage2(void)
{
	struct lethe_spec *spec = NULL;
	bool net_ok;
	int sfd, r;

	umask(022);
	init_console_open();
	sfd = signal_fd();
	/* ctrl-alt-del becomes SIGINT to us instead of an immediate reboot. */
	(void)reboot(RB_DISABLE_CAD);
	init_msg("stage 2");
	{
		char cmdline[INIT_CMDLINE_MAX];
		struct init_cmdline c;
		ssize_t n = init_read_file("/proc/cmdline", cmdline, sizeof(cmdline));

		if (n > 0 && init_cmdline_parse(cmdline, (size_t)n, &c, NULL, 0) == 0)
			init_debug = c.debug;
	}
	harden_sysctls();
	mount_extra();
	if (access(SPEC_PATH, R_OK) == 0) {
		/* The files' sources stayed on the build host: do not look for them. */
		r = lethe_spec_load_flags(SPEC_PATH, LETHE_SPEC_NO_SOURCES, &spec);
		if (r < 0) {
			init_msg("cannot use %s: %s", SPEC_PATH,
				 lethe_error_message_for(r) ? lethe_error_message_for(r)
							    : strerror(-r));
			spec = NULL;
		}
	}
	net_ok = apply_firewall(spec != NULL);
	/* Everything the firewall needed is loaded now; no module may follow. */
	lock_modules();
	setup_network(spec, net_ok);
	set_hostname(spec);
	add_services(spec);
	for (size_t i = 0; i < n_services; i++)
		start_service(&services[i]);
	/* The boot's cost without the audit, for benchmarks. */
	init_msg("services started (uptime %.2f s)", init_uptime());
	run_audit();
	init_msg("stage 2 ready (uptime %.2f s)", init_uptime());
	if (sfd < 0)
		init_halt("cannot watch signals: %s", strerror(errno));
	supervise(sfd);
}
