/* lethe write: put a verified release's disk.img on a USB stick or other medium. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <lethe/media.h>

#include "cli.h"

static const char usage_text[] =
	"usage: lethe write OUTDIR DEVICE -p PUBKEY [--iso]\n"
	"\n"
	"Write OUTDIR/disk.img (with --iso: OUTDIR/lethe.iso) to DEVICE (a block device\n"
	"such as /dev/sdX, or a file),\n"
	"after checking the release's signature (SHA256SUMS.minisig with PUBKEY) and\n"
	"every file it lists against the signed SHA256SUMS. A device that is mounted (or any of "
	"its\n"
	"partitions), used by device mapper or md, or holding the running system's root is\n"
	"refused; a block device is opened exclusively. After writing and flushing, the\n"
	"image's length is read back from DEVICE and checked against the signed hash.\n"
	"EVERYTHING ON DEVICE IS OVERWRITTEN.\n"
	"\n"
	"options:\n"
	"  -p, --public-key FILE         minisign public key file\n"
	"  -P, --public-key-base64 KEY   the public key itself\n"
	"  --iso                         write lethe.iso (hybrid: boots from a stick as from\n"
	"                                a DVD) instead of disk.img\n"
	"  -q, --quiet                   print nothing but errors\n"
	"\n"
	"Exit status: 0 written and verified; 1 the release or the written medium failed a\n"
	"check; 2 usage error; 3 runtime error (device busy, in use, too small, I/O).\n";

int cmd_write(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public-key", required_argument, NULL, 'p' },
		{ "public-key-base64", required_argument, NULL, 'P' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "iso", no_argument, NULL, 'I' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *key = NULL, *key_b64 = NULL;
	enum lethe_release_artifact img = LETHE_ARTIFACT_DISK;
	struct lethe_release *rel = NULL;
	struct lethe_sign_pubkey pub;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:P:qh", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			key = optarg;
			break;
		case 'P':
			key_b64 = optarg;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'I':
			img = LETHE_ARTIFACT_ISO;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("write", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("write", "expected OUTDIR and DEVICE");
	if (!key == !key_b64)
		return cli_usage_error("write", "give the public key: -p FILE or -P BASE64");
	r = key ? lethe_sign_pubkey_load(key, &pub) : lethe_sign_pubkey_from_base64(key_b64, &pub);
	if (r < 0)
		return cli_fail(r, "write");
	/* Verified once; the write reads disk.img from the handle, never from the path. */
	r = lethe_release_open(argv[optind], &pub, &rel);
	if (r >= 0)
		r = lethe_media_write_image(rel, argv[optind + 1], img);
	lethe_release_free(rel);
	if (r < 0)
		return cli_fail(r, "write");
	if (!cli_quiet)
		printf("%s: written and verified against the signed %s\n", argv[optind + 1],
		       lethe_release_name(img));
	return EXIT_OK;
}
