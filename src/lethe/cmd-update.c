/* lethe update: a newer signed release into the inactive slot of an installed disk;
 * the running system's own disk and trusted key by default. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include <lethe/update.h>

#include "cli.h"

static const char usage_text[] =
	"usage: lethe update SOURCE [--device DISK -p PUBKEY] [--allow-downgrade]\n"
	"\n"
	"Write the release in the directory SOURCE into the inactive slot of an installed\n"
	"disk (see lethe install) and arm it for the next boot. On a running Lethe system\n"
	"DISK is the disk it booted from and the key is " LETHE_UPDATE_KEY ",\n"
	"which the image was built to trust; --device and -p update an installed disk or\n"
	"disk image from another machine.\n"
	"\n"
	"Checked before anything is written: the signature, every file's hash, the verity\n"
	"tree against the signed root hash, the image name (IMAGE_ID) against the installed\n"
	"one, a newer version (IMAGE_VERSION), and that it fits the slot. The booted slot\n"
	"(or, on another machine's disk, the newest good one) is never touched. The slot's\n"
	"old UKI is removed first; root and verity are written, read back and checked; the\n"
	"UKI goes on the ESP last, as EFI/Linux/lethe-VERSION+3.efi (three tries: until it is\n"
	"blessed, a failing boot falls back to the other slot).\n"
	"\n"
	"options:\n"
	"      --device DISK             the installed disk or disk image\n"
	"  -p, --public-key FILE         minisign public key file\n"
	"  -P, --public-key-base64 KEY   the public key itself\n"
	"      --allow-downgrade         accept an older version\n"
	"  -q, --quiet                   print nothing but errors\n"
	"\n"
	"Exit status: 0 updated; 1 the release was refused (signature, hash, image name,\n"
	"version) or the written slot failed its check; 2 usage error; 3 runtime error\n"
	"(the release does not fit the slot, no installed disk, I/O).\n";

int cmd_update(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "public-key", required_argument, NULL, 'p' },
		{ "public-key-base64", required_argument, NULL, 'P' },
		{ "allow-downgrade", no_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_update_options o = { 0 };
	struct lethe_update_result res;
	const char *key = NULL, *key_b64 = NULL;
	char booted[LETHE_ROOTHASH_HEX + 1];
	struct lethe_sign_pubkey pub;
	char *disk = NULL;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:P:qh", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.device = optarg;
			break;
		case 'p':
			key = optarg;
			break;
		case 'P':
			key_b64 = optarg;
			break;
		case 'D':
			o.allow_downgrade = true;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("update", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("update", "expected SOURCE, a release directory");
	if (key && key_b64)
		return cli_usage_error("update", "give one public key: -p FILE or -P BASE64");
	if (!o.device || !(key || key_b64)) {
		/* On the running system: its own disk, its own trusted key. */
		r = lethe_update_running(booted, o.device ? NULL : &disk);
		if (r < 0)
			return r == -ENOENT && !lethe_error_message_for(r)
				       ? cli_usage_error("update",
							 "not a running Lethe system: give "
							 "--device DISK and -p PUBKEY")
				       : cli_fail(r, "update");
		o.booted_roothash = booted;
		if (!o.device)
			o.device = disk;
		if (!key && !key_b64)
			key = LETHE_UPDATE_KEY;
	} else if (lethe_update_running(booted, NULL) == 0) {
		o.booted_roothash = booted; /* --device on a running system: still spare it */
	}
	r = key ? lethe_sign_pubkey_load(key, &pub) : lethe_sign_pubkey_from_base64(key_b64, &pub);
	if (r < 0) {
		free(disk);
		return cli_fail(r, "update");
	}
	o.pub = &pub;
	cli_log_init();
	r = lethe_update_apply(argv[optind], &o, &res);
	if (r >= 0 && !cli_quiet)
		printf("%s: slot %c now holds %s, installed as EFI/Linux/%s (%u tries)\n", o.device,
		       lethe_slot_letter(res.slot), res.version, res.entry, LETHE_BOOTCOUNT_TRIES);
	free(disk);
	return r < 0 ? cli_fail(r, "update") : EXIT_OK;
}
