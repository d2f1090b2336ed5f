/* lethe push: publish a release directory to an OCI registry as one artifact, with its
 * signature, SBOMs and provenance attached as referrers (issue 18.1). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <lethe/oci.h>
#include <lethe/sign.h>

#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	puts("usage: lethe push OUTDIR REGISTRY/REPO:TAG [-p PUBKEY] [--insecure]\n"
	     "                  [--authfile FILE] [--json] [-q]\n\n"
	     "Publish the release in OUTDIR (as written by lethe build) to an OCI registry:\n"
	     "one image manifest of artifactType " LETHE_OCI_ARTIFACT_TYPE ", the empty\n"
	     "config, every file a layer with its own media type and its file name as\n"
	     "org.opencontainers.image.title. The signature, both SBOMs and the provenance\n"
	     "are also attached as referrers (the sha256-DIGEST tag where the registry has\n"
	     "no referrers API). Blobs the registry already has are not sent again. The\n"
	     "release is checked first: its files against SHA256SUMS, and with -p its\n"
	     "signature.\n\n"
	     "Credentials come from $REGISTRY_AUTH_FILE, else\n"
	     "$XDG_RUNTIME_DIR/containers/auth.json, else ~/.docker/config.json (basic and\n"
	     "bearer-token auth). TLS is verified with the system's CAs.\n\n"
	     "  -p, --public-key FILE   check the release's signature with this key first\n"
	     "      --insecure          plain HTTP, only to a loopback registry\n"
	     "      --authfile FILE     read credentials from FILE (auth.json format)\n"
	     "      --json              print what was pushed as JSON\n"
	     "  -q, --quiet             print nothing but errors\n"
	     "  -h, --help              show this help\n\n"
	     "Exit status: 0 pushed, 1 the release does not verify, 2 usage error, 3 runtime\n"
	     "error (network, registry, credentials refused).");
}

static void report(const char *ref, const struct lethe_oci_stats *s, bool json)
{
	if (json) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "reference", json_object_new_string(ref));
		json_object_object_add(o, "digest", json_object_new_string(s->manifest_digest));
		json_object_object_add(o, "blobs_uploaded", json_object_new_int(s->blobs_uploaded));
		json_object_object_add(o, "blobs_skipped", json_object_new_int(s->blobs_skipped));
		json_object_object_add(o, "bytes_sent",
				       json_object_new_int64((int64_t)s->bytes_sent));
		json_object_object_add(o, "referrers_api",
				       json_object_new_boolean(s->referrers_api));
		cli_json_print(o);
		return;
	}
	if (!cli_quiet)
		printf("pushed '%s' (%s): %u blobs uploaded, %u already there; referrers %s\n", ref,
		       s->manifest_digest, s->blobs_uploaded, s->blobs_skipped,
		       s->referrers_api ? "through the referrers API" : "under the sha256- tag");
}

int cmd_push(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public-key", required_argument, NULL, 'p' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "authfile", required_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_oci_options o = { 0 };
	struct lethe_oci_stats stats = { 0 };
	struct lethe_sign_pubkey pub;
	const char *pub_path = NULL;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:qh", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			pub_path = optarg;
			break;
		case 'I':
			o.insecure = true;
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
			return cli_usage_error("push", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("push", "expected OUTDIR and REGISTRY/REPO:TAG");
	if (pub_path && (r = lethe_sign_pubkey_load(pub_path, &pub)) < 0)
		return cli_fail(r, "push");
	cli_log_init();
	r = lethe_oci_push(argv[optind], pub_path ? &pub : NULL, argv[optind + 1], &o, &stats);
	if (r == -EINVAL)
		return cli_fail_usage(r, "push");
	if (r < 0)
		return cli_fail(r, "push");
	report(argv[optind + 1], &stats, json);
	return EXIT_OK;
}
