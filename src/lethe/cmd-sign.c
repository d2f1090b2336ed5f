/* lethe sign: sign files with a minisign secret key; prehashed ("ED") by default like
 * minisign 0.11, legacy ("Ed") with -l. Signatures verify with `minisign -V`. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <lethe/sign.h>

#include "cli-password.h"
#include "cli-pkcs11.h"
#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	puts("usage: lethe sign -s SECKEY [-t COMMENT] [-c UNTRUSTED] [-l] [-x SIG]\n"
	     "                  [--password-file FILE] [-q] FILE...\n"
	     "       lethe sign --pkcs11 URI [--module FILE] [-t COMMENT] ... FILE...\n\n"
	     "Sign each FILE with a minisign secret key, writing FILE.minisig (or SIG).\n\n"
	     "  -s, --secret-key FILE      the secret key\n"
	     "  -t, --trusted-comment TXT  signed comment (default: timestamp and file name;\n"
	     "                             the timestamp is SOURCE_DATE_EPOCH when set)\n"
	     "  -c, --comment TXT          untrusted comment\n"
	     "  -l, --legacy               sign the whole file (\"Ed\"), not its BLAKE2b-512\n"
	     "                             hash (\"ED\", the default, as minisign 0.11)\n"
	     "  -x, --signature SIG        signature file (only with one FILE)\n"
	     "      --password-file F      read the key's password from the first line of F\n"
	     "      --pkcs11 URI           sign with the Ed25519 key in a PKCS#11 token that the\n"
	     "                             RFC 7512 URI names (the PIN from its pin-source or\n"
	     "                             pin-value, else asked), instead of -s\n"
	     "      --module FILE          the PKCS#11 module (default: the URI's module-path,\n"
	     "                             else the modules p11-kit knows)\n"
	     "  -q, --quiet                print nothing on success\n"
	     "  -h, --help                 show this help\n\n"
	     "An encrypted key's password comes from --password-file, else $LETHE_PASSWORD,\n"
	     "else the terminal.\n\n"
	     "Exit status: 0 success, 1 wrong password, wrong PIN or malformed key, 2 usage "
	     "error,\n"
	     "3 runtime error (missing file, I/O).");
}

static int sign_one(const struct lethe_sign_seckey *key, const struct lethe_sign_opts *opts,
		    const char *path, const char *sig_path)
{
	char *def = NULL;
	int r;

	if (!sig_path && !(sig_path = def = lethe_sign_default_sig_path(path)))
		return -ENOMEM;
	r = lethe_sign_file_opts(key, path, opts, sig_path);
	if (r == 0 && !cli_quiet)
		printf("signed '%s' -> '%s'\n", path, sig_path);
	free(def);
	return r;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option options[] = {
		{ "secret-key", required_argument, NULL, 's' },
		{ "trusted-comment", required_argument, NULL, 't' },
		{ "comment", required_argument, NULL, 'c' },
		{ "legacy", no_argument, NULL, 'l' },
		{ "signature", required_argument, NULL, 'x' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "pkcs11", required_argument, NULL, 'K' },
		{ "module", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_sign_opts opts = { 0 };
	struct lethe_sign_seckey *key = NULL;
	const char *sec_path = NULL, *sig_path = NULL, *password_file = NULL;
	const char *uri = NULL, *module = NULL;
	int c, r = 0;

	while ((c = getopt_long(argc, argv, "s:t:c:lx:qh", options, NULL)) != -1) {
		switch (c) {
		case 's':
			sec_path = optarg;
			break;
		case 't':
			opts.trusted_comment = optarg;
			break;
		case 'c':
			opts.untrusted_comment = optarg;
			break;
		case 'l':
			opts.legacy = true;
			break;
		case 'x':
			sig_path = optarg;
			break;
		case 'P':
			password_file = optarg;
			break;
		case 'K':
			uri = optarg;
			break;
		case 'M':
			module = optarg;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			return cli_usage_error("sign", "unknown option");
		}
	}
	if (!sec_path && !uri)
		return cli_usage_error("sign", "-s SECKEY is required (or --pkcs11 URI)");
	if (sec_path && uri)
		return cli_usage_error("sign", "-s and --pkcs11 exclude each other");
	if (module && !uri)
		return cli_usage_error("sign", "--module goes with --pkcs11 URI");
	if (optind == argc)
		return cli_usage_error("sign", "no file to sign");
	if (sig_path && argc - optind > 1)
		return cli_usage_error("sign", "-x SIG goes with one file only");
	r = uri ? cli_pkcs11_open(uri, module, &key)
		: cli_seckey_load(sec_path, password_file, &key);
	if (r < 0)
		return cli_fail(r, "sign");
	for (int i = optind; i < argc && r == 0; i++)
		r = sign_one(key, &opts, argv[i], sig_path);
	lethe_sign_seckey_free(key);
	return r < 0 ? cli_fail_usage(r, "sign") : EXIT_OK;
}
