/* lethe-init's supervisor: one fixed table of services (the spec's, at most
 * LETHE_MAX_SERVICES, and the console shell), started with their accounts, restarted
 * with back-off, their output logged, stopped at a shutdown signal. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/core.h>

#include "graphical.h"
#include "session.h"
#include "stage2.h"
#include "supervise.h"

#define SHELL	"/bin/sh"
#define BUSYBOX "/bin/busybox" /* Debian's busybox-static comes without applet links */

#define BACKOFF_MIN  1.0
#define BACKOFF_MAX  60.0
#define STOP_TIMEOUT 5.0

/* The spec's services and slots for the graphical session (seatd, cage) and the
 * console shell. */
#define N_SLOTS (LETHE_MAX_SERVICES + 3)
static struct init_service services[N_SLOTS];
static size_t n_services;

size_t init_services_pids(pid_t *ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < n_services && n < max; i++)
		if (!services[i].shell)
			ret[n++] = services[i].pid;
	return n;
}

static void __attribute__((noreturn)) child_exec(struct init_service *s, int out_w)
{
	struct lethe_account acc;
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
		if (init_session_enter() < 0)
			_exit(126); /* never a root shell instead of the user's */
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
	r = lethe_account_resolve("/etc/passwd", "/etc/group", s->user, s->group, &acc);
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
	if (s->graphical)
		init_graphical_env();
	execv(s->argv[0], s->argv);
	dprintf(STDERR_FILENO, "lethe-init: service %s: cannot execute %s: %s\n", s->name,
		s->argv[0], strerror(errno));
	_exit(127);
}

static void start_service(struct init_service *s)
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

/* The next free entry of table (zeroed), or NULL when all n_slots are used: the one
 * way an entry is added. */
static struct init_service *service_new(struct init_service *table, size_t n_slots, size_t *n)
{
	if (*n >= n_slots)
		return NULL;
	return memset(&table[(*n)++], 0, sizeof(*table));
}

size_t init_services_fill(const struct lethe_spec *spec, bool shell, struct init_service *table,
			  size_t n_slots)
{
	size_t n_spec = spec ? spec->n_services : 0, n = 0;

	/* The spec parser refuses more, so that the shell's slot stays free. */
	if (n_spec > LETHE_MAX_SERVICES) {
		init_msg("the spec has %zu services, at most %d: starting none of them", n_spec,
			 LETHE_MAX_SERVICES);
		n_spec = 0;
	}
	for (size_t i = 0; i < n_spec; i++) {
		struct init_service *s = service_new(table, n_slots, &n);

		if (!s) {
			init_msg("no slot left for service %s", spec->services[i].name);
			break;
		}
		snprintf(s->name, sizeof(s->name), "%s", spec->services[i].name);
		s->argv = spec->services[i].command.v;
		s->user = spec->services[i].user;
		s->group = spec->services[i].group;
		s->restart = spec->services[i].restart;
	}
	if (init_graphical_argv(spec)) {
		struct init_service *seatd = service_new(table, n_slots, &n);
		struct init_service *s = seatd ? service_new(table, n_slots, &n) : NULL;

		if (seatd) {
			snprintf(seatd->name, sizeof(seatd->name), "seatd");
			seatd->argv = init_graphical_seatd_argv(spec);
			seatd->restart = true;
		}
		if (s) {
			snprintf(s->name, sizeof(s->name), "graphical");
			s->argv = init_graphical_argv(spec);
			s->user = spec->session.user;
			s->restart = true;
			s->graphical = true;
		} else {
			init_msg("no slot left for the graphical session");
		}
	}
	if (shell) {
		struct init_service *s = service_new(table, n_slots, &n);
		/* A leading '-' makes a login shell; busybox strips it to find "sh". */
		static char *sh_argv[] = { "-sh", NULL };

		if (s) {
			snprintf(s->name, sizeof(s->name), "console shell");
			s->argv = sh_argv;
			s->shell = true;
			s->restart = true;
		} else {
			init_msg("no slot left for the console shell");
		}
	}
	for (size_t i = 0; i < n; i++) {
		table[i].out = -1;
		table[i].log = -1;
		table[i].backoff = BACKOFF_MIN;
		table[i].next_start = init_uptime();
	}
	return n;
}

void init_services_add(const struct lethe_spec *spec)
{
	/* An image that carries a shell gets it on the console, beside its services (the
	 * console is the machine's owner at its keyboard); an appliance carries none. */
	bool shell = access(SHELL, X_OK) == 0 || access(BUSYBOX, X_OK) == 0;

	n_services = init_services_fill(spec, shell, services, N_SLOTS);
}

void init_services_start(void)
{
	for (size_t i = 0; i < n_services; i++)
		start_service(&services[i]);
}

/* Copy what a service wrote to its log file and, prefixed, to the console. */
static void drain_service(struct init_service *s)
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
			(void)!write(STDERR_FILENO, line,
				     (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
		start = end;
	}
}

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < n_services; i++) {
			struct init_service *s = &services[i];

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
					snprintf(again, sizeof(again), "; restarting in %.0f s",
						 s->backoff);
				init_msg("%s exited (%s %d)%s", s->name,
					 WIFEXITED(status) ? "status" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
					 again);
			}
			if (s->restart && !s->shell && s->backoff < BACKOFF_MAX)
				s->backoff =
					s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
		}
	}
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

int init_signal_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGHUP);
	/* The shutdown requests (<lethe/contract.h>). */
	for (size_t i = 0; i < LETHE_PID1_N_SIGNALS; i++)
		sigaddset(&set, lethe_pid1_signals[i].sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

void init_supervise(int sfd)
{
	int cfd = init_session_control_open(); /* -1 without a session: poll skips it */

	for (;;) {
		/* The signalfd and one pipe per service at most, then the session's FIFO. */
		struct pollfd pfd[1 + N_SLOTS + 1];
		struct init_service *map[1 + N_SLOTS + 1];
		double now = init_uptime(), wake = -1;
		nfds_t n = 0;

		for (size_t i = 0; i < n_services; i++) {
			struct init_service *s = &services[i];

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
		nfds_t n_pipes = n;

		pfd[n].fd = cfd;
		pfd[n++].events = POLLIN;
		int timeout = wake < 0 ? -1 : (int)((wake - now) * 1000) + 1;

		if (poll(pfd, n, timeout < 0 && wake >= 0 ? 0 : timeout) < 0)
			continue;
		for (nfds_t i = 1; i < n_pipes; i++)
			if (pfd[i].revents)
				drain_service(map[i]);
		if (pfd[n_pipes].revents & POLLIN) {
			int how = init_session_control_read(cfd);

			if (how) {
				init_msg("shutting down (asked by the session)");
				stop_everything();
				init_stage_shutdown(how);
			}
		}
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			int how = 0;

			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				if (!how)
					how = lethe_pid1_signal_how((int)si.ssi_signo);
			reap();
			if (how) {
				init_msg("shutting down");
				stop_everything();
				init_stage_shutdown(how);
			}
		}
	}
}
