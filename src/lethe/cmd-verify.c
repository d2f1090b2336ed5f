/* lethe verify: check minisign signatures, alone or over a SHA256SUMS and every file it
 * lists. One verb, several modes chosen by the options; each mode is one function in
 * the table below, so that a new mode (a whole release dir, a written medium) is one
 * more entry and one more function. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include <lethe/core.h>
#include <lethe/measure.h>
#include <lethe/media.h>
#include <lethe/provenance.h>
#include <lethe/secureboot.h>
#include <lethe/uefi.h>
#include <lethe/release.h>
#include <lethe/sign.h>
#include <lethe/sums.h>

#include "cli.h"
#include "verbs.h"

struct verify_args {
	const char *pubkey_path; /* -p */
	const char *pubkey_b64;	 /* -P */
	const char *sig_path;	 /* -x; NULL: <file>.minisig */
	const char *sums_path;	 /* --sums */
	const char *media_path;	 /* --media */
	const char *uki_path;	 /* --uki */
	const char *sb_cert;	 /* --sb-cert */
	bool json;
	int argc; /* operands left after the options */
	char **argv;
	struct lethe_sign_pubkey pub;
};

static void usage(void)
{
	puts("usage: lethe verify -p PUBKEY [-x SIG] [-q] [--json] FILE\n"
	     "       lethe verify --sums SHA256SUMS -p PUBKEY [-x SIG] [-q] [--json]\n"
	     "       lethe verify OUTDIR -p PUBKEY [-q] [--json]\n"
	     "       lethe verify --media DEVICE OUTDIR -p PUBKEY [-q] [--json]\n"
	     "       lethe verify --uki FILE [--sb-cert CRT] OUTDIR -p PUBKEY [-q] [--json]\n\n"
	     "Verify minisign signatures (both the legacy and the prehashed format).\n\n"
	     "The first form checks FILE against FILE.minisig (or SIG) and prints the\n"
	     "trusted comment. The second checks SHA256SUMS against SHA256SUMS.minisig (or\n"
	     "SIG), then the SHA-256 of every file it lists (names relative to the\n"
	     "directory of SHA256SUMS): the same as `minisign -Vm SHA256SUMS -p PUBKEY &&\n"
	     "sha256sum -c SHA256SUMS`, in one command that reads the list only once.\n"
	     "The third checks a whole release directory: the signature, every file, and\n"
	     "every block of rootfs.erofs against rootfs.verity and the signed root hash.\n"
	     "The fourth checks a written medium (a device or file): its first bytes, as\n"
	     "many as OUTDIR/disk.img holds, against the signed hash of disk.img; a\n"
	     "mismatch names the first differing byte offset.\n"
	     "The fifth checks a UKI taken from a medium: its Secure Boot signature against\n"
	     "the db certificate CRT (sbverify), its .cmdline's root hash against the signed\n"
	     "release in OUTDIR, and its PCR 11 against the release's pcr.json.\n\n"
	     "  -p, --public-key FILE   minisign public key file\n"
	     "  -P, --public-key-base64 KEY  the public key itself (as minisign -P)\n"
	     "  -x, --signature SIG     signature file\n"
	     "      --sums SHA256SUMS   verify a signed SHA256SUMS and the files it lists\n"
	     "      --json              print a JSON report on stdout (every mode)\n"
	     "      --media DEVICE      check a medium written by 'lethe write' (disk.img, or\n"
	     "                          lethe.iso: a stick or a DVD)\n"
	     "      --uki FILE          check a UKI (lethe.efi) against OUTDIR\n"
	     "      --sb-cert CRT       with --uki: the db certificate it must be signed by\n"
	     "  -q, --quiet             print nothing but errors\n"
	     "  -h, --help              show this help\n\n"
	     "Exit status: 0 verified, 1 a signature, key id, trusted comment or checksum\n"
	     "does not match or a file is malformed or missing, 2 usage error, 3 runtime\n"
	     "error (a key or signature cannot be read).");
}

static int load_pubkey(struct verify_args *a)
{
	if (a->pubkey_b64)
		return lethe_sign_pubkey_from_base64(a->pubkey_b64, &a->pub);
	return lethe_sign_pubkey_load(a->pubkey_path, &a->pub);
}

static void print_verified(const struct verify_args *a, const char *what, const char *tc)
{
	char id[LETHE_SIGN_KEYID_STRLEN];

	if (cli_quiet || a->json)
		return;
	lethe_sign_keyid_format(a->pub.keyid, id);
	printf("signature of '%s' verified (key %s)\ntrusted comment: %s\n", what, id, tc);
}

/* The JSON report of the file, release and medium modes: what was checked, whether it
 * verified and, if not, why; files (taken over, may be NULL) lists a release's files.
 * Returns the exit code for r. */
static int report_json(const struct verify_args *a, const char *mode, const char *target,
		       const char *tc, struct json_object *files, int r)
{
	struct json_object *o = json_object_new_object();
	const char *msg = lethe_error_message_for(r);
	char id[LETHE_SIGN_KEYID_STRLEN];
	int rc = r < 0 ? cli_fail(r, "verify") : EXIT_OK;

	lethe_sign_keyid_format(a->pub.keyid, id);
	json_object_object_add(o, "mode", json_object_new_string(mode));
	json_object_object_add(o, "target", json_object_new_string(target));
	json_object_object_add(o, "key_id", json_object_new_string(id));
	json_object_object_add(o, "verified", json_object_new_boolean(r == 0));
	if (tc)
		json_object_object_add(o, "trusted_comment", json_object_new_string(tc));
	if (files)
		json_object_object_add(o, "files", files);
	if (r < 0)
		json_object_object_add(o, "error",
				       json_object_new_string(msg ? msg : strerror(-r)));
	cli_json_print(o);
	return rc;
}

/* ---- mode: one file and its signature ---- */

static int verify_file(struct verify_args *a)
{
	char *sig = NULL, *tc = NULL;
	const char *sig_path = a->sig_path;
	int r;

	if (a->argc != 1)
		return cli_usage_error("verify", "expected one FILE");
	if (!sig_path && !(sig = lethe_sign_default_sig_path(a->argv[0])))
		return cli_fail(-ENOMEM, "verify");
	r = lethe_sign_verify_file(&a->pub, a->argv[0], sig_path ? sig_path : sig, &tc);
	if (r == 0)
		print_verified(a, a->argv[0], tc);
	if (a->json)
		r = report_json(a, "file", a->argv[0], tc, NULL, r);
	else
		r = r < 0 ? cli_fail(r, "verify") : EXIT_OK;
	free(tc);
	free(sig);
	return r;
}

/* ---- mode: a signed SHA256SUMS and every file it lists ---- */

/* The head of the JSON report; cli_sums_report_finish() adds the rest. */
static struct json_object *sums_json(const struct verify_args *a, const char *sig_path,
				     const char *tc, int r_sig)
{
	struct json_object *o = json_object_new_object(), *s = json_object_new_object();
	char id[LETHE_SIGN_KEYID_STRLEN];

	lethe_sign_keyid_format(a->pub.keyid, id);
	json_object_object_add(s, "file", json_object_new_string(sig_path));
	json_object_object_add(s, "key_id", json_object_new_string(id));
	json_object_object_add(s, "verified", json_object_new_boolean(r_sig == 0));
	if (tc)
		json_object_object_add(s, "trusted_comment", json_object_new_string(tc));
	json_object_object_add(o, "sums", json_object_new_string(a->sums_path));
	json_object_object_add(o, "signature", s);
	return o;
}

/* Verify the signature over the list, then check every file it names. The list is read
 * once: the bytes verified are the bytes parsed. *ret_tc is set once the signature is
 * good. */
static int sums_run(const struct verify_args *a, const char *sig_path, struct cli_sums_report *rep,
		    char **ret_tc)
{
	struct lethe_sums sums = { 0 };
	char *text = NULL, *dir = lethe_sums_dir(a->sums_path);
	size_t len;
	int r;

	if (!dir)
		return -ENOMEM;
	r = lethe_file_read(a->sums_path, LETHE_SUMS_FILE_MAX, &text, &len);
	if (r == 0)
		r = lethe_sign_verify_data(&a->pub, text, len, a->sums_path, sig_path, ret_tc);
	if (r == 0) {
		print_verified(a, a->sums_path, *ret_tc);
		r = lethe_sums_parse(text, len, a->sums_path, &sums);
	}
	if (r == 0)
		r = lethe_sums_check(&sums, a->sums_path, dir, cli_sums_entry_done, rep);
	lethe_sums_release(&sums);
	free(text);
	free(dir);
	return r;
}

static int verify_sums(struct verify_args *a)
{
	struct cli_sums_report rep = { 0 };
	struct json_object *report;
	const char *sig_path = a->sig_path;
	char *sig = NULL, *tc = NULL;
	int r;

	if (a->argc != 0)
		return cli_usage_error("verify", "unexpected argument '%s' with --sums",
				       a->argv[0]);
	if (!sig_path && !(sig_path = sig = lethe_sign_default_sig_path(a->sums_path)))
		return cli_fail(-ENOMEM, "verify");
	rep.files = a->json ? json_object_new_array() : NULL;
	r = sums_run(a, sig_path, &rep, &tc);
	report = a->json ? sums_json(a, sig_path, tc, tc ? 0 : r) : NULL;
	r = cli_sums_report_finish(&rep, report, a->sums_path, r, "verify");
	free(sig);
	free(tc);
	return r;
}

/* ---- modes: a release directory (lib/release), a written medium (lib/media) ---- */

static int verify_release(struct verify_args *a)
{
	struct cli_sums_report rep = { 0 };
	struct lethe_release_options o = { .flags = LETHE_RELEASE_OPEN_VERITY,
					   .fn = cli_sums_entry_done,
					   .userdata = &rep };
	struct lethe_release *rel = NULL;
	int r;

	if (a->sig_path)
		return cli_usage_error("verify", "a release takes no -x");
	rep.files = a->json ? json_object_new_array() : NULL;
	r = lethe_release_open_opts(a->argv[0], &a->pub, &o, &rel);
	if (r >= 0)
		r = lethe_provenance_check(rel, NULL); /* its subjects are the signed files */
	lethe_release_free(rel);
	if (a->json)
		return report_json(a, "release", a->argv[0], NULL, rep.files, r);
	if (r < 0)
		return cli_fail(r, "verify");
	if (!cli_quiet)
		printf("%s: signature, %zu files and the dm-verity tree verified\n", a->argv[0],
		       rep.total);
	return EXIT_OK;
}

static int verify_media(struct verify_args *a)
{
	int r;

	if (a->argc != 1 || a->sig_path)
		return cli_usage_error("verify", "--media DEVICE takes one OUTDIR, no -x");
	struct lethe_release *rel = NULL;
	enum lethe_release_artifact img = LETHE_ARTIFACT_DISK;

	r = lethe_release_open(a->argv[0], &a->pub, &rel);
	if (r >= 0)
		r = lethe_media_verify_any(rel, a->media_path, &img);
	lethe_release_free(rel);
	if (a->json)
		return report_json(a, "media", a->media_path, NULL, NULL, r);
	if (r < 0)
		return cli_fail(r, "verify");
	if (!cli_quiet)
		printf("%s: matches the signed %s of '%s'\n", a->media_path,
		       lethe_release_name(img), a->argv[0]);
	return EXIT_OK;
}

/* ---- mode: a UKI from a medium (issue 12.6) ---- */

/* The root hash of the UKI's .cmdline must be the signed release's; its PCR 11 the
 * release's prediction when it has pcr.json. */
static int uki_against_release(const char *uki, const struct lethe_release *rel, uint8_t pcr11[32],
			       uint8_t digest[32])
{
	char *cmdline = NULL, *data = NULL, hex[LETHE_ROOTHASH_HEX + 1];
	size_t len = 0;
	int r = lethe_uki_read_section(uki, ".cmdline", &cmdline, &len);

	if (r >= 0 && lethe_cmdline_roothash(cmdline, len, hex) < 0)
		r = lethe_error(-LETHE_E_INVALID, "'%s': its .cmdline has no root hash", uki);
	if (r >= 0 && strcmp(hex, lethe_release_roothash(rel)))
		r = lethe_error(-LETHE_E_INVALID,
				"'%s': its .cmdline's root hash %.16s... is not the signed "
				"release's %.16s...",
				uki, hex, lethe_release_roothash(rel));
	if (r >= 0) {
		r = lethe_file_read(uki, LETHE_PE_MAX_SIZE, &data, &len);
		if (r < 0)
			r = lethe_error(r, "cannot read '%s': %s", uki, strerror(-r));
	}
	if (r >= 0)
		r = lethe_measure_pcr11(data, len, uki, pcr11);
	if (r >= 0)
		r = lethe_measure_authenticode(data, len, uki, digest);
	if (r >= 0 && lethe_release_has(rel, LETHE_ARTIFACT_PCR)) {
		struct lethe_measure_pcrs want;
		char json[LETHE_MEASURE_JSON_MAX];
		int fd = lethe_release_fd(rel, LETHE_ARTIFACT_PCR);
		ssize_t n = fd < 0 ? -1 : lethe_pread_full(fd, json, sizeof(json), 0);

		r = n < 0 ? lethe_error(-EIO, "cannot read the release's pcr.json") : 0;
		if (r >= 0)
			r = lethe_measure_json_parse(json, (size_t)n,
						     lethe_release_name(LETHE_ARTIFACT_PCR), &want);
		if (r >= 0 && want.has[LETHE_MEASURE_PCR_KERNEL_UKI] &&
		    memcmp(want.sha256[LETHE_MEASURE_PCR_KERNEL_UKI], pcr11, 32))
			r = lethe_error(-LETHE_E_INVALID,
					"'%s': its PCR 11 is not the signed release's prediction "
					"(another kernel, initramfs, os-release or cmdline)",
					uki);
	}
	free(cmdline);
	free(data);
	return r;
}

static int verify_uki(struct verify_args *a)
{
	struct lethe_release *rel = NULL;
	uint8_t pcr11[32], digest[32];
	char pcr_hex[65], dg_hex[65];
	int r;

	if (a->argc != 1 || a->sig_path)
		return cli_usage_error("verify", "--uki FILE takes one OUTDIR, no -x");
	r = a->sb_cert ? lethe_sb_verify(a->uki_path, a->sb_cert) : 0;
	if (r >= 0)
		r = lethe_release_open(a->argv[0], &a->pub, &rel);
	if (r >= 0)
		r = uki_against_release(a->uki_path, rel, pcr11, digest);
	lethe_release_free(rel);
	if (r >= 0) {
		lethe_hex_encode(pcr11, 32, pcr_hex);
		lethe_hex_encode(digest, 32, dg_hex);
	}
	if (a->json) {
		struct json_object *o = json_object_new_object();
		const char *msg = lethe_error_message_for(r);
		int rc = r < 0 ? cli_fail(r, "verify") : EXIT_OK;

		json_object_object_add(o, "mode", json_object_new_string("uki"));
		json_object_object_add(o, "target", json_object_new_string(a->uki_path));
		json_object_object_add(o, "verified", json_object_new_boolean(r == 0));
		json_object_object_add(o, "secure_boot_checked",
				       json_object_new_boolean(a->sb_cert != NULL));
		if (r >= 0) {
			json_object_object_add(o, "pcr11", json_object_new_string(pcr_hex));
			json_object_object_add(o, "authenticode_sha256",
					       json_object_new_string(dg_hex));
		} else {
			json_object_object_add(o, "error",
					       json_object_new_string(msg ? msg : strerror(-r)));
		}
		cli_json_print(o);
		return rc;
	}
	if (r < 0)
		return cli_fail(r, "verify");
	if (!cli_quiet)
		printf("%s: %sroot hash of the signed release '%s'\nPCR 11:      %s\n"
		       "Authenticode: %s\n",
		       a->uki_path, a->sb_cert ? "signed by the db certificate, " : "", a->argv[0],
		       pcr_hex, dg_hex);
	return EXIT_OK;
}

/* ---- dispatch ---- */

typedef int (*verify_mode_fn)(struct verify_args *a);

/* The mode for the options given; add new modes here. */
static verify_mode_fn pick_mode(const struct verify_args *a)
{
	if (a->sums_path)
		return verify_sums;
	if (a->media_path)
		return verify_media;
	if (a->uki_path)
		return verify_uki;
	if (a->argc == 1 && cli_is_dir(a->argv[0]))
		return verify_release;
	return verify_file;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public-key", required_argument, NULL, 'p' },
		{ "public-key-base64", required_argument, NULL, 'P' },
		{ "signature", required_argument, NULL, 'x' },
		{ "sums", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "media", required_argument, NULL, 'M' },
		{ "uki", required_argument, NULL, 'U' },
		{ "sb-cert", required_argument, NULL, 'C' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct verify_args a = { 0 };
	int c, r;

	while ((c = getopt_long(argc, argv, "p:P:x:qh", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			a.pubkey_path = optarg;
			break;
		case 'P':
			a.pubkey_b64 = optarg;
			break;
		case 'x':
			a.sig_path = optarg;
			break;
		case 'S':
			a.sums_path = optarg;
			break;
		case 'j':
			a.json = true;
			break;
		case 'M':
			a.media_path = optarg;
			break;
		case 'U':
			a.uki_path = optarg;
			break;
		case 'C':
			a.sb_cert = optarg;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			return cli_usage_error("verify", "unknown option");
		}
	}
	if (a.sb_cert && !a.uki_path)
		return cli_usage_error("verify", "--sb-cert goes with --uki");
	a.argc = argc - optind;
	a.argv = argv + optind;
	if (!a.pubkey_path == !a.pubkey_b64)
		return cli_usage_error("verify", "give the public key: -p FILE or -P BASE64");
	if ((r = load_pubkey(&a)) < 0)
		return cli_fail(r, "verify");
	return pick_mode(&a)(&a);
}
