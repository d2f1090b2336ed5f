/* lethe bless: what systemd-bless-boot does, for a system without systemd: the UKI the
 * boot loader is counting (LoaderBootCountPath) is renamed without its counter, and
 * becomes the good image. lethe-init does the same once its health gate passes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <lethe/update.h>

#include "cli.h"

int cli_update_target(const char *verb, const char *device, char booted[65],
		      const char **ret_booted, char **ret_disk);

static const char usage_text[] =
	"usage: lethe bless [--device DISK --entry NAME]\n"
	"\n"
	"Mark the booted image good: the UKI that systemd-boot is counting tries for (the\n"
	"EFI variable LoaderBootCountPath) is renamed without its +LEFT-DONE counter, so it\n"
	"is no longer rolled back. Nothing to do when the boot was not counted. lethe-init\n"
	"does this itself once the health gate passes (docs/update.md).\n"
	"\n"
	"options:\n"
	"      --device DISK   an installed disk or disk image (needs --entry)\n"
	"      --entry NAME    the UKI's name in EFI/Linux, e.g. lethe-0.2+2-1.efi\n"
	"\n"
	"Exit status: 0 blessed or nothing to do; 2 usage error; 3 I/O error.\n";

static int counted_entry(char *name, size_t size)
{
	char *data = NULL;
	size_t len = 0;
	int r = lethe_file_read(LETHE_EFIVARS_DIR "/" LETHE_LOADER_BOOT_COUNT_PATH
						  "-" LETHE_LOADER_GUID,
				4096, &data, &len);
	char path[512];

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	r = lethe_efivar_string(data, len, path, sizeof(path));
	free(data);
	if (r < 0)
		return r;
	const char *base = strrchr(path, '/');

	snprintf(name, size, "%s", base ? base + 1 : path);
	return 1;
}

int cmd_bless(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "entry", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_update_disk d = { 0 };
	const char *device = NULL, *entry = NULL, *booted = NULL;
	char hex[LETHE_ROOTHASH_HEX + 1], name[512], *disk = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'e':
			entry = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("bless", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("bless", "no arguments expected");
	if (!device != !entry)
		return cli_usage_error("bless", "--device and --entry go together");
	if (!entry) {
		r = counted_entry(name, sizeof(name));
		if (r < 0)
			return cli_fail(r, "bless");
		if (r == 0) {
			if (!cli_quiet)
				printf("this boot was not counted: nothing to bless\n");
			return EXIT_OK;
		}
		entry = name;
	}
	r = cli_update_target("bless", device, hex, &booted, &disk);
	if (r)
		return r;
	r = lethe_update_disk_open(disk, &d);
	if (r >= 0)
		r = lethe_update_bless_disk(&d, entry);
	if (r >= 0)
		printf("%s: EFI/Linux/%s blessed\n", disk, entry);
	lethe_update_disk_release(&d);
	free(disk);
	return r < 0 ? cli_fail(r, "bless") : EXIT_OK;
}
