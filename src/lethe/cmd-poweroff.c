/* lethe poweroff: ask PID 1 (lethe-init) to stop every service, unmount the session's
 * file systems, wipe what they held from RAM and power off (docs/boot.md, Shutdown). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/contract.h>

#include "cli.h"

/* The first line of a small file (without its newline) into buf; false if unreadable. */
static bool read_line(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return true;
}

/* PID 1 is lethe-init of this boot: it is called lethe-init, and the marker it writes
 * in stage 2 holds this boot's id (a stale or copied marker holds another). A host with
 * busybox init, sysvinit or systemd has neither: signalling its PID 1 would reboot it
 * without the wipe. 0 when it is; otherwise an error printed, EXIT_RUNTIME. */
static int check_pid1(void)
{
	char comm[64], boot_id[64], marker[64];

	if (!read_line("/proc/1/comm", comm, sizeof(comm)))
		snprintf(comm, sizeof(comm), "unknown");
	for (char *p = comm; *p; p++) /* any process may name itself anything */
		if (*p < 0x20 || *p == 0x7f || *p == '\'')
			*p = '?';
	if (strcmp(comm, "lethe-init") != 0) {
		cli_error("PID 1 is not lethe-init (it is '%s'); refusing to signal it", comm);
		return EXIT_RUNTIME;
	}
	if (!read_line("/proc/sys/kernel/random/boot_id", boot_id, sizeof(boot_id)) ||
	    !read_line(LETHE_PATH_PID1_MARKER, marker, sizeof(marker)) || !boot_id[0] ||
	    strcmp(boot_id, marker) != 0) {
		cli_error("PID 1 is called lethe-init but '" LETHE_PATH_PID1_MARKER
			  "' does not hold this boot's id; refusing to signal it");
		return EXIT_RUNTIME;
	}
	return 0;
}

/* Write verb to LETHE_PATH_SESSION_CONTROL (a FIFO that lethe-init holds open). */
static int ask_session_control(const char *verb)
{
	int fd = open(LETHE_PATH_SESSION_CONTROL, O_WRONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	char line[32];
	int n, r = -1;

	if (fd < 0)
		return -1;
	n = snprintf(line, sizeof(line), "%s\n", verb);
	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && st.st_uid == 0 &&
	    write(fd, line, (size_t)n) == n)
		r = 0;
	close(fd);
	return r;
}

static void usage(FILE *out)
{
	fputs("usage: lethe poweroff [--reboot | --halt]\n\n"
	      "Stop the running Lethe system: lethe-init (PID 1) stops the services, unmounts\n"
	      "every file system, frees (and with init_on_free=1, zeroes) the session's memory,\n"
	      "then powers off. It prints 'lethe-init: memory wiped, powering off' last.\n\n"
	      "  --reboot   reboot instead of powering off\n"
	      "  --halt     halt instead of powering off\n"
	      "  -h, --help this help\n\n"
	      "It refuses unless PID 1 is lethe-init (another init would reboot without the "
	      "wipe).\nIn an unprivileged session it asks through " LETHE_PATH_SESSION_CONTROL
	      ".\n\n"
	      "Exit status: 0 the request was sent, 2 usage error, 3 it could not be sent or\n"
	      "PID 1 is not lethe-init.\n",
	      out);
}

int cmd_poweroff(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "reboot", no_argument, NULL, 'r' },
		{ "halt", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *verb = "poweroff";
	int sig, c, r;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			verb = "reboot";
			break;
		case 'H':
			verb = "halt";
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("poweroff", "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage_error("poweroff", "unexpected argument '%s'", argv[optind]);
	if ((r = check_pid1()) != 0)
		return r;
	/* The signal lethe-init answers with this request (<lethe/contract.h>). */
	sig = lethe_pid1_signal_for(verb);
	if (kill(1, sig) < 0) {
		int e = errno;

		/* An unprivileged session asks through lethe-init's FIFO instead. */
		if (e == EPERM && ask_session_control(verb) == 0)
			return EXIT_OK;
		cli_error("cannot signal init (PID 1): %s%s", strerror(e),
			  e == EPERM ? " (run as root, or in the session of a spec with a "
				       "session: section)"
				     : "");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
