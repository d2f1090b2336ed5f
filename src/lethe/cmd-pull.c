/* lethe pull: fetch a release from an OCI registry or an HTTP(S) directory, every blob
 * checked as it streams and the whole verified before it is put in place (issue 18.2). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <lethe/oci.h>
#include <lethe/release.h>
#include <lethe/sign.h>

#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	puts("usage: lethe pull SOURCE -o OUTDIR -p PUBKEY [--insecure] [--authfile FILE]\n"
	     "                  [--delta-from IMAGE|DIR] [--json] [-q]\n\n"
	     "Fetch a release into OUTDIR (new or empty). SOURCE is REGISTRY/REPO:TAG,\n"
	     "REGISTRY/REPO@sha256:HEX or oci://... (an artifact lethe push wrote), or\n"
	     "https://HOST/PATH/ (a release directory on a web server: SHA256SUMS and its\n"
	     "signature are fetched and verified first, then each file).\n\n"
	     "Every blob is checked against its digest as it streams; then the signature,\n"
	     "every file, the dm-verity tree and the provenance are verified in a directory\n"
	     "beside OUTDIR, which is renamed to OUTDIR only then. A check that fails removes\n"
	     "what was fetched and names the file or digest; an interrupted pull resumes\n"
	     "where it stopped (HTTP Range) when run again.\n\n"
	     "  -o, --output DIR        where the release goes\n"
	     "  -p, --public-key FILE   the key the release must be signed with\n"
	     "      --insecure          plain HTTP, only to a loopback registry or server\n"
	     "      --authfile FILE     read credentials from FILE (auth.json format)\n"
	     "      --delta-from IMAGE  a local root image (the active slot's root partition,\n"
	     "                          an older rootfs.erofs), or an older release directory:\n"
	     "                          the blocks of the new rootfs.erofs it holds are read\n"
	     "                          from it, by their digests in the new rootfs.verity,\n"
	     "                          and, from a release's lethe.efi, the new UKI's kernel\n"
	     "                          and initramfs when SHA256SUMS says they are the same;\n"
	     "                          only the rest is fetched (Range requests)\n"
	     "      --json              print what was fetched as JSON\n"
	     "  -q, --quiet             print nothing but errors\n"
	     "  -h, --help              show this help\n\n"
	     "Exit status: 0 fetched and verified, 1 a digest, signature or checksum does not\n"
	     "match, 2 usage error, 3 runtime error (network, registry, credentials refused).");
}

static void report(const char *src, const char *out, const struct lethe_oci_stats *s, bool json)
{
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "source", json_object_new_string(src));
		json_object_object_add(o, "output", json_object_new_string(out));
		if (s->manifest_digest[0])
			json_object_object_add(o, "digest",
					       json_object_new_string(s->manifest_digest));
		json_object_object_add(o, "files", json_object_new_int(s->files));
		json_object_object_add(o, "bytes_received",
				       json_object_new_int64((int64_t)s->bytes_received));
		json_object_object_add(o, "bytes_resumed",
				       json_object_new_int64((int64_t)s->bytes_resumed));
		if (s->ranges || s->bytes_reused) {
			json_object_object_add(o, "bytes_reused",
					       json_object_new_int64((int64_t)s->bytes_reused));
			json_object_object_add(o, "ranges", json_object_new_int64(s->ranges));
		}
		json_object_object_add(o, "verified", json_object_new_boolean(true));
		cli_json_print(o);
		return;
	}
	if (!cli_quiet)
		printf("pulled '%s' into '%s': %u files fetched%s%s, signature and files "
		       "verified\n",
		       src, out, s->files, s->bytes_resumed ? " (resumed)" : "",
		       s->bytes_reused ? " (parts of the local image reused)" : "");
}

int cmd_pull(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "public-key", required_argument, NULL, 'p' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "authfile", required_argument, NULL, 'A' },
		{ "delta-from", required_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_oci_options o = { 0 };
	struct lethe_oci_stats stats = { 0 };
	struct lethe_sign_pubkey pub;
	const char *pub_path = NULL, *out = NULL, *delta_from = NULL;
	char *delta_root = NULL, *delta_uki = NULL;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:p:qh", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'p':
			pub_path = optarg;
			break;
		case 'I':
			o.insecure = true;
			break;
		case 'D':
			delta_from = optarg;
			break;
		case 'A':
			o.auth_file = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			usage();
			return EXIT_OK;
		default:
			return cli_usage_error("pull", "unknown option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("pull", "expected one SOURCE");
	if (!out || !pub_path)
		return cli_usage_error("pull", "-o OUTDIR and -p PUBKEY are required");
	if ((r = lethe_sign_pubkey_load(pub_path, &pub)) < 0)
		return cli_fail(r, "pull");
	if (delta_from && cli_is_dir(delta_from)) { /* an older release */
		delta_root = lethe_path_join(delta_from, lethe_release_name(LETHE_ARTIFACT_ROOTFS));
		delta_uki = lethe_path_join(delta_from, lethe_release_name(LETHE_ARTIFACT_UKI));
		if (!delta_root || !delta_uki)
			return cli_fail(-ENOMEM, "pull");
		o.delta_base = delta_root;
		o.delta_uki = access(delta_uki, F_OK) == 0 ? delta_uki : NULL;
	} else
		o.delta_base = delta_from;
	cli_log_init();
	r = lethe_fetch_release(argv[optind], out, &pub, &o, &stats);
	free(delta_root);
	free(delta_uki);
	if (r == -EINVAL)
		return cli_fail_usage(r, "pull");
	if (r < 0)
		return cli_fail(r, "pull");
	report(argv[optind], out, &stats, json);
	return EXIT_OK;
}
