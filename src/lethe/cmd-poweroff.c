/* lethe poweroff: ask PID 1 (lethe-init) to stop every service, unmount the session's
 * file systems, wipe what they held from RAM and power off (docs/boot.md, Shutdown). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <lethe/contract.h>

#include "cli.h"

static void usage(FILE *out)
{
	fputs("usage: lethe poweroff [--reboot | --halt]\n\n"
	      "Stop the running Lethe system: lethe-init (PID 1) stops the services, unmounts\n"
	      "every file system, frees (and with init_on_free=1, zeroes) the session's memory,\n"
	      "then powers off. It prints 'lethe-init: memory wiped, powering off' last.\n\n"
	      "  --reboot   reboot instead of powering off\n"
	      "  --halt     halt instead of powering off\n"
	      "  -h, --help this help\n\n"
	      "Exit status: 0 the request was sent, 2 usage error, 3 it could not be sent.\n",
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
	int sig, c;

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
	/* The signal lethe-init answers with this request (<lethe/contract.h>). */
	sig = lethe_pid1_signal_for(verb);
	if (kill(1, sig) < 0) {
		cli_error("cannot signal init (PID 1): %s%s", strerror(errno),
			  errno == EPERM ? " (run as root)" : "");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}
