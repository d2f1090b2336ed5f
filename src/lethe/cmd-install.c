/* lethe install: a verified release onto a disk (or disk image) as an A/B installation:
 * ESP, slot A with the release, slot B empty for the first update. */
#include <getopt.h>
#include <stdio.h>

#include <lethe/update.h>

#include "cli.h"

static const char usage_text[] =
	"usage: lethe install OUTDIR DEVICE -p PUBKEY [--slot-size MIB]\n"
	"\n"
	"Install the release in OUTDIR on DEVICE (a block device, or a disk image file,\n"
	"created or truncated) as an A/B disk for `lethe update`: a GPT with an EFI System\n"
	"Partition (systemd-boot and the release's UKI, EFI/Linux/lethe-VERSION.efi), slot A\n"
	"(partitions root-x86-64-a and root-x86-64-verity-a, with the release) and slot B\n"
	"(root-x86-64-b, root-x86-64-verity-b, empty). The release's signature and every file are\n"
	"checked first; slot A is read back and checked after writing. A device that is\n"
	"mounted, in use, or holds the running system is refused.\n"
	"EVERYTHING ON DEVICE IS OVERWRITTEN.\n"
	"\n"
	"options:\n"
	"  -p, --public-key FILE         minisign public key file\n"
	"  -P, --public-key-base64 KEY   the public key itself\n"
	"      --slot-size MIB           size of each slot's root partition (default: 256,\n"
	"                                or twice rootfs.erofs when that is larger)\n"
	"  -q, --quiet                   print nothing but errors\n"
	"\n"
	"Exit status: 0 installed; 1 the release or the written slot failed a check;\n"
	"2 usage error; 3 runtime error (device busy, in use, too small, I/O).\n";

int cmd_install(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public-key", required_argument, NULL, 'p' },
		{ "public-key-base64", required_argument, NULL, 'P' },
		{ "slot-size", required_argument, NULL, 'S' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_install_options o = { 0 };
	const char *key = NULL, *key_b64 = NULL;
	struct lethe_release *rel = NULL;
	struct lethe_sign_pubkey pub;
	unsigned long long mib;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:P:qh", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			key = optarg;
			break;
		case 'P':
			key_b64 = optarg;
			break;
		case 'S':
			if (!cli_parse_u64(optarg, 16, 1u << 20, &mib))
				return cli_usage_error("install", "--slot-size: 16 to 1048576 MiB");
			o.slot_size = mib << 20;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("install", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("install", "expected OUTDIR and DEVICE");
	if (!key == !key_b64)
		return cli_usage_error("install", "give the public key: -p FILE or -P BASE64");
	r = key ? lethe_sign_pubkey_load(key, &pub) : lethe_sign_pubkey_from_base64(key_b64, &pub);
	if (r < 0)
		return cli_fail(r, "install");
	cli_log_init();
	r = lethe_release_open(argv[optind], &pub, &rel);
	if (r >= 0)
		r = lethe_update_install(rel, argv[optind + 1], &o);
	lethe_release_free(rel);
	if (r < 0)
		return cli_fail(r, "install");
	if (!cli_quiet)
		printf("%s: installed; slot a holds the release, slot b is empty\n",
		       argv[optind + 1]);
	return EXIT_OK;
}
