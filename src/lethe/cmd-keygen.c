/* lethe keygen: make a minisign key pair (Ed25519), the secret key encrypted with a
 * password (scrypt, as minisign does) unless -W; or, with --secure-boot DIR, an
 * organisation's UEFI Secure Boot keys (PK, KEK, db). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <lethe/secureboot.h>
#include <lethe/sign.h>

#include "cli-password.h"
#include "cli-pkcs11.h"
#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	puts("usage: lethe keygen -p PUBKEY -s SECKEY [-W] [-f] [-c COMMENT]\n"
	     "                    [--password-file FILE] [-q]\n"
	     "       lethe keygen --secure-boot DIR [--name CN] [--days N] [-f] [-q]\n"
	     "       lethe keygen --pkcs11 URI [--module FILE] -p PUBKEY [-f] [-q]\n\n"
	     "Create a minisign key pair: PUBKEY is what verifiers need; SECKEY signs and\n"
	     "is written with mode 0600. Both files are in minisign's format.\n\n"
	     "  -p, --public-key FILE   where to write the public key\n"
	     "  -s, --secret-key FILE   where to write the secret key\n"
	     "  -W, --no-password       do not encrypt the secret key (for automation)\n"
	     "  -f, --force             replace existing key files\n"
	     "  -c, --comment TEXT      untrusted comment of the secret key file\n"
	     "      --password-file F   read the password from the first line of F\n"
	     "      --secure-boot DIR   make UEFI Secure Boot keys instead: PK, KEK and db\n"
	     "                          (.key .crt .cer .esl .auth each, one owner GUID)\n"
	     "      --name CN           their certificates' common name prefix (Lethe)\n"
	     "      --days N            their validity in days (3650)\n"
	     "      --pkcs11 URI        make the key pair inside a PKCS#11 token instead\n"
	     "                          (RFC 7512 URI naming the token and object=LABEL;\n"
	     "                          the PIN from its pin-source/pin-value, else asked);\n"
	     "                          the private key never leaves the token\n"
	     "      --module FILE       the PKCS#11 module (default: the URI's module-path,\n"
	     "                          else the modules p11-kit knows)\n"
	     "  -q, --quiet             print nothing on success\n"
	     "  -h, --help              show this help\n\n"
	     "The password comes from --password-file, else $LETHE_PASSWORD, else the\n"
	     "terminal (asked twice). It is stretched with scrypt (1 GiB, as minisign).\n\n"
	     "Secure Boot keys are made by openssl and efitools; the .auth updates carry the\n"
	     "time in $SOURCE_DATE_EPOCH, else now. Keep DIR off every image: db.key signs\n"
	     "what the firmware will run (lethe build --sb-key DIR). docs/secure-boot.md.\n\n"
	     "Exit status: 0 success, 1 wrong PIN, 2 usage error, 3 runtime error (a file\n"
	     "exists without -f, no terminal for the password, a token error, I/O error).");
}

/* lethe keygen --pkcs11: the key pair in a token, only the public key in a file. */
static int keygen_pkcs11(const char *uri, const char *module, const char *pub_path,
			 bool file_options, bool force)
{
	struct lethe_sign_pkcs11_opts o;
	struct lethe_sign_pubkey pub;
	char id[LETHE_SIGN_KEYID_STRLEN];
	int r;

	if (!uri)
		return cli_usage_error("keygen", "--module goes with --pkcs11 URI");
	if (file_options)
		return cli_usage_error("keygen", "--pkcs11 excludes -s, -W and --password-file "
						 "(the secret key stays in the token)");
	if (!pub_path)
		return cli_usage_error("keygen", "--pkcs11 needs -p PUBKEY");
	cli_pkcs11_opts_init(&o, module);
	o.force = force;
	r = lethe_sign_pkcs11_keygen(uri, pub_path, &o, &pub);
	if (r < 0)
		return cli_fail_usage(r, "keygen");
	if (!cli_quiet) {
		lethe_sign_keyid_format(pub.keyid, id);
		printf("secret key: in the PKCS#11 token (it cannot leave it)\npublic key: %s\n"
		       "key id:     %s\n",
		       pub_path, id);
	}
	return EXIT_OK;
}

int cmd_keygen(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public-key", required_argument, NULL, 'p' },
		{ "secret-key", required_argument, NULL, 's' },
		{ "no-password", no_argument, NULL, 'W' },
		{ "force", no_argument, NULL, 'f' },
		{ "comment", required_argument, NULL, 'c' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "pkcs11", required_argument, NULL, 'K' },
		{ "module", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "secure-boot", required_argument, NULL, 'S' },
		{ "name", required_argument, NULL, 'N' },
		{ "days", required_argument, NULL, 'D' },
		{},
	};
	struct lethe_sb_keygen_options sb = { .timestamp = -1 };
	const char *sb_dir = NULL;
	struct lethe_sign_keygen_opts opts = { 0 };
	struct lethe_sign_pubkey pub;
	const char *pub_path = NULL, *sec_path = NULL, *password_file = NULL;
	const char *uri = NULL, *module = NULL;
	char *password = NULL, id[LETHE_SIGN_KEYID_STRLEN];
	bool unencrypted = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:s:Wfc:qh", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			pub_path = optarg;
			break;
		case 's':
			sec_path = optarg;
			break;
		case 'W':
			unencrypted = true;
			break;
		case 'f':
			opts.force = true;
			break;
		case 'c':
			opts.comment = optarg;
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
		case 'S':
			sb_dir = optarg;
			break;
		case 'N':
			sb.common_name = optarg;
			break;
		case 'D': {
			unsigned long long v;

			if (!cli_parse_u64(optarg, 1, 36500, &v))
				return cli_usage_error("keygen", "--days: 1 to 36500, not '%s'",
						       optarg);
			sb.days = (unsigned)v;
			break;
		}
		default:
			return cli_usage_error("keygen", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("keygen", "unexpected argument '%s'", argv[optind]);
	if (sb_dir) {
		if (pub_path || sec_path || unencrypted || password_file || opts.comment)
			return cli_usage_error("keygen", "--secure-boot takes none of -p -s -W -c "
							 "--password-file");
		sb.force = opts.force;
		r = lethe_sb_keygen(sb_dir, &sb);
		if (r < 0)
			return cli_fail_usage(r, "keygen");
		if (!cli_quiet)
			printf("Secure Boot keys: %s (PK, KEK, db; keep db.key secret and off "
			       "every image)\n",
			       sb_dir);
		return EXIT_OK;
	}
	if (sb.common_name || sb.days)
		return cli_usage_error("keygen", "--name and --days go with --secure-boot");
	if (uri || module)
		return keygen_pkcs11(uri, module, pub_path,
				     sec_path || unencrypted || password_file, opts.force);
	if (!pub_path || !sec_path)
		return cli_usage_error("keygen", "both -p PUBKEY and -s SECKEY are required");
	if (unencrypted && password_file)
		return cli_usage_error("keygen", "-W and --password-file exclude each other");
	if (!unencrypted && cli_password_get(password_file, true, &password) < 0)
		return EXIT_RUNTIME;
	r = lethe_sign_keygen(pub_path, sec_path, password, &opts, &pub);
	cli_password_free(password);
	if (r < 0)
		return cli_fail(r, "keygen");
	if (!cli_quiet) {
		lethe_sign_keyid_format(pub.keyid, id);
		printf("secret key: %s (keep it secret%s)\npublic key: %s\nkey id:     %s\n",
		       sec_path, unencrypted ? "; it is NOT encrypted" : "", pub_path, id);
	}
	return EXIT_OK;
}
