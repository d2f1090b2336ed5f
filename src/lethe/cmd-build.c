/* lethe build: a spec in, a signed, reproducible release directory out. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <lethe/build.h>
#include <lethe/sign.h>

#include "cli.h"
#include "cli-password.h"
#include "cli-pkcs11.h"

static void help(void)
{
	puts("usage: lethe build SPEC -o OUTDIR [--key SECKEY [--password-file FILE]]\n"
	     "                   [--locked] [--lock FILE] [--refresh|--offline] [--cache DIR]\n"
	     "                   [--sb-key DIR [--sb-enroll]] [--quiet] [--json]\n\n"
	     "Build the image that SPEC describes into OUTDIR: rootfs.erofs, rootfs.verity,\n"
	     "roothash, manifest.mtree, sbom.spdx.json, sbom.cdx.json, lethe.lock, the boot\n"
	     "artifacts (vmlinuz, initramfs.img, cmdline, disk.img) when the spec has a\n"
	     "kernel, SHA256SUMS over all of them and SHA256SUMS.minisig. OUTDIR appears only\n"
	     "when the whole build succeeded (an earlier build there is replaced whole).\n\n"
	     "  -o, --output DIR        the output directory (required)\n"
	     "  -k, --key FILE          minisign secret key that signs SHA256SUMS; without it,\n"
	     "                          a development key ($XDG_CONFIG_HOME/lethe/dev.key) is\n"
	     "                          used, and created if needed: not for releases; or a\n"
	     "                          PKCS#11 URI (pkcs11:...) of an Ed25519 key in a token\n"
	     "      --pkcs11-module F   the PKCS#11 module for a --key URI (default: the\n"
	     "                          URI's module-path, else the modules p11-kit knows)\n"
	     "      --password-file F   the key's password (else $LETHE_PASSWORD or asked)\n"
	     "      --locked            build exactly the packages of the lock\n"
	     "      --lock FILE         the lock to use (implies --locked; default\n"
	     "                          lethe.lock beside SPEC)\n"
	     "      --refresh           update apt's lists even if the cached ones are fresh\n"
	     "      --offline           never update apt's lists if there are some\n"
	     "      --cache DIR         the package cache (default: $XDG_CACHE_HOME/lethe,\n"
	     "                          else ~/.cache/lethe)\n"
	     "      --sb-key DIR        sign systemd-boot and lethe.efi for UEFI Secure Boot\n"
	     "                          with DIR's db (lethe keygen --secure-boot DIR)\n"
	     "      --sb-enroll         also put DIR's PK, KEK, db on the ESP for\n"
	     "                          systemd-boot to enrol in setup mode (read\n"
	     "                          docs/secure-boot.md first)\n"
	     "  -q, --quiet             no progress or stage lines\n"
	     "      --json              a summary on stdout: artifacts with sizes and SHA-256,\n"
	     "                          root hash, packages, seconds per stage\n"
	     "  -h, --help              this help\n\n"
	     "Times, owners and order never depend on the build host: SOURCE_DATE_EPOCH (else\n"
	     "the newest package's date) stamps everything, so a lock built twice gives the\n"
	     "same SHA256SUMS. Tools found beside this program, or $LETHE_IMAGE_TOOL and\n"
	     "$LETHE_INIT. Packages are cached in $XDG_CACHE_HOME/lethe.\n\n"
	     "SIGINT, SIGTERM and SIGHUP stop the build: its tools are stopped, its temporary\n"
	     "directories removed and OUTDIR left as it was; lethe then dies of the signal.\n\n"
	     "Exit status: 0 success, 1 a check failed (a package or spec did not verify),\n"
	     "2 usage error, 3 runtime error.");
}

/* SIGINT, SIGTERM, SIGHUP during the build: the library stops its processes and cleans
 * up; the verb then dies of the same signal, as an interrupted program should. A
 * signal the caller ignores (nohup) stays ignored. */
static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t caught;

static void on_stop_signal(int sig)
{
	caught = sig;
	lethe_build_cancel();
}

static void catch_stop_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal }, old;

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(stop_signals); i++)
		if (sigaction(stop_signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(stop_signals[i], &sa, NULL);
}

static void die_of_caught_signal(void)
{
	int sig = caught;

	if (!sig)
		return;
	signal(sig, SIG_DFL);
	raise(sig);
}

static struct json_object *summary(const struct lethe_build_result *res, const char *outdir)
{
	struct json_object *o = json_object_new_object(), *arts = json_object_new_array();
	struct json_object *stages = json_object_new_object(), *dropped = json_object_new_array();

	json_object_object_add(o, "output", json_object_new_string(outdir));
	json_object_object_add(o, "roothash", json_object_new_string(res->roothash_hex));
	json_object_object_add(o, "epoch", json_object_new_int64(res->epoch));
	json_object_object_add(o, "packages", json_object_new_int64((int64_t)res->n_packages));
	json_object_object_add(o, "kernel_packages",
			       json_object_new_int64((int64_t)res->n_kernel_packages));
	for (size_t i = 0; i < res->dropped.n; i++)
		json_object_array_add(dropped, json_object_new_string(res->dropped.v[i]));
	json_object_object_add(o, "dropped", dropped);
	json_object_object_add(o, "files", json_object_new_int64((int64_t)res->manifest.files));
	json_object_object_add(o, "directories",
			       json_object_new_int64((int64_t)res->manifest.dirs));
	json_object_object_add(o, "symlinks", json_object_new_int64((int64_t)res->manifest.links));
	json_object_object_add(o, "content_bytes",
			       json_object_new_int64((int64_t)res->manifest.bytes));
	for (size_t i = 0; i < res->n_artifacts; i++) {
		struct json_object *a = json_object_new_object();
		char hex[65];

		lethe_hex_encode(res->artifacts[i].sha256, 32, hex);
		json_object_object_add(a, "name", json_object_new_string(res->artifacts[i].name));
		json_object_object_add(a, "size",
				       json_object_new_int64((int64_t)res->artifacts[i].size));
		json_object_object_add(a, "sha256", json_object_new_string(hex));
		json_object_array_add(arts, a);
	}
	json_object_object_add(o, "artifacts", arts);
	for (size_t i = 0; i < res->n_stages; i++)
		json_object_object_add(stages, res->stages[i].name,
				       json_object_new_double(res->stages[i].seconds));
	json_object_object_add(o, "stage_seconds", stages);
	json_object_object_add(o, "seconds", json_object_new_double(res->seconds));
	json_object_object_add(o, "development_key",
			       json_object_new_boolean(res->dev_key_path != NULL));
	return o;
}

int cmd_build(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "key", required_argument, NULL, 'k' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "locked", no_argument, NULL, 'L' },
		{ "lock", required_argument, NULL, 'l' },
		{ "refresh", no_argument, NULL, 'R' },
		{ "offline", no_argument, NULL, 'O' },
		{ "cache", required_argument, NULL, 'C' },
		{ "pkcs11-module", required_argument, NULL, 'M' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "sb-key", required_argument, NULL, 'S' },
		{ "sb-enroll", no_argument, NULL, 'E' },
		{ 0 },
	};
	struct lethe_build_options o = { 0 };
	struct lethe_pkg_options pkg = { 0 };
	struct lethe_build_result res = { 0 };
	struct lethe_sign_seckey *key = NULL;
	const char *key_path = NULL, *password_file = NULL, *module = NULL;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:k:qh", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			o.outdir = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'P':
			password_file = optarg;
			break;
		case 'L':
			o.locked = true;
			break;
		case 'l':
			o.lock_path = optarg;
			o.locked = true;
			break;
		case 'R':
			pkg.refresh = true;
			break;
		case 'O':
			pkg.max_list_age = -1;
			break;
		case 'C':
			pkg.cache_dir = optarg;
			break;
		case 'M':
			module = optarg;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		case 'S':
			o.sb_key_dir = optarg;
			break;
		case 'E':
			o.sb_enroll = true;
			break;
		default:
			return cli_usage_error("build", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return cli_usage_error("build", "expected one SPEC, got %d arguments",
				       argc - optind);
	if (pkg.refresh && pkg.max_list_age < 0)
		return cli_usage_error("build", "--refresh and --offline exclude each other");
	if (o.sb_enroll && !o.sb_key_dir)
		return cli_usage_error("build", "--sb-enroll needs --sb-key DIR");
	o.pkg = &pkg;
	if (!o.outdir)
		return cli_usage_error("build", "the output directory (-o OUTDIR) is required");
	o.spec_path = argv[optind];
	if (module && !lethe_sign_is_pkcs11_uri(key_path))
		return cli_usage_error("build", "--pkcs11-module goes with --key pkcs11:URI");
	if (key_path) {
		r = lethe_sign_is_pkcs11_uri(key_path)
			    ? cli_pkcs11_open(key_path, module, &key)
			    : cli_seckey_load(key_path, password_file, &key);
		if (r < 0)
			return cli_fail(r, "build");
		o.key = key;
	}
	catch_stop_signals();
	r = lethe_build(&o, &res);
	lethe_sign_seckey_free(key);
	if (caught) {
		if (r >= 0)
			cli_warning("interrupted by %s after '%s' was written", strsignal(caught),
				    o.outdir);
		else
			cli_fail(r, "build");
		lethe_build_result_release(&res);
		die_of_caught_signal();
	}
	if (r < 0)
		return cli_fail(r, "build");
	if (res.dev_key_path)
		cli_warning("SHA256SUMS is signed with the DEVELOPMENT key '%s' (public key "
			    "beside it): fine for tests, never for a release; pass --key",
			    res.dev_key_path);
	if (!cli_quiet && !json)
		fprintf(stderr, "built '%s' in %.1f s: root hash %s\n", o.outdir, res.seconds,
			res.roothash_hex);
	if (json)
		cli_json_print(summary(&res, o.outdir));
	lethe_build_result_release(&res);
	return EXIT_OK;
}
