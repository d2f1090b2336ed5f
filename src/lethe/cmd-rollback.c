/* lethe rollback: boot the other good slot next. */
#include <getopt.h>
#include <stdio.h>

#include <lethe/update.h>

#include "cli.h"

int cli_update_target(const char *verb, const char *device, char booted[65],
		      const char **ret_booted, char **ret_disk);

static const char usage_text[] =
	"usage: lethe rollback [--device DISK]\n"
	"\n"
	"Make the other slot, which must hold a good (blessed) image, the one that boots\n"
	"next: the UKI that would boot next is given zero tries left (renamed\n"
	"lethe-VERSION+0-N.efi), so systemd-boot sorts it last. It still boots if the other\n"
	"fails too. Says why not when the other slot has no good image.\n"
	"\n"
	"options:\n"
	"      --device DISK   the installed disk or disk image (default: the running system's)\n"
	"\n"
	"Exit status: 0 rolled back; 2 usage error; 3 no good slot to roll back to, or I/O.\n";

int cmd_rollback(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_update_disk d = { 0 };
	const char *device = NULL, *booted = NULL;
	char hex[LETHE_ROOTHASH_HEX + 1], *disk = NULL;
	enum lethe_slot s;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("rollback", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("rollback", "no arguments expected");
	r = cli_update_target("rollback", device, hex, &booted, &disk);
	if (r)
		return r;
	r = lethe_update_disk_open(disk, &d);
	if (r >= 0)
		r = lethe_update_rollback(&d, booted, &s);
	if (r >= 0)
		printf("%s: slot %c boots next\n", disk, lethe_slot_letter(s));
	lethe_update_disk_release(&d);
	free(disk);
	return r < 0 ? cli_fail(r, "rollback") : EXIT_OK;
}
