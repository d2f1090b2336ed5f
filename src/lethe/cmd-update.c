/* lethe update: a newer signed release into the inactive slot of an installed disk;
 * the running system's own disk, trusted key and spec by default. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/oci.h>
#include <lethe/spec.h>
#include <lethe/update.h>

#include "cli.h"

static const char usage_text[] =
	"usage: lethe update [SOURCE] [--device DISK -p PUBKEY] [--spec SPEC] [--now]\n"
	"                    [--machine-id ID] [--insecure] [--allow-downgrade] [--json]\n"
	"\n"
	"Write the release SOURCE into the inactive slot of an installed disk (see lethe\n"
	"install) and arm it for the next boot. SOURCE is a release directory,\n"
	"https://HOST/PATH/ (a release served as a directory) or oci://REGISTRY/REPO:TAG\n"
	"(see lethe push); without SOURCE, the update: section of the spec names it. On a\n"
	"running Lethe system DISK is the disk it booted from, the key is\n" LETHE_UPDATE_KEY
	" and the spec " LETHE_PATH_SPEC ", which the image was\n"
	"built with; --device and -p update an installed disk or disk image from another\n"
	"machine.\n"
	"\n"
	"The signature over SHA256SUMS is checked first. When the spec's update: section\n"
	"has rollout waves, a machine whose wave has not opened yet says so and exits 0,\n"
	"having fetched and written nothing (--now updates anyway). From a URL only\n"
	"rootfs.erofs, rootfs.verity, lethe.efi, cmdline and roothash are fetched, each\n"
	"checked as it streams, into a scratch directory under TMPDIR (RAM on a running\n"
	"system), removed afterwards.\n"
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
	"      --spec SPEC               the spec whose update: section applies (default on\n"
	"                                a running system: " LETHE_PATH_SPEC ")\n"
	"      --now                     ignore the rollout waves: update now\n"
	"      --machine-id ID           the machine id the waves are judged by (default:\n"
	"                                /etc/machine-id, else the SMBIOS system UUID)\n"
	"      --insecure                plain http:// to a loopback server\n"
	"      --allow-downgrade         accept an older version\n"
	"      --json                    print the result as JSON\n"
	"  -q, --quiet                   print nothing but errors\n"
	"\n"
	"Exit status: 0 updated, or not yet this machine's wave; 1 the release was refused\n"
	"(signature, hash, image name, version) or the written slot failed its check;\n"
	"2 usage error; 3 runtime error (the release does not fit the slot, no installed\n"
	"disk, network, I/O).\n";

static void print_json(const char *device, const char *source, int r,
		       const struct lethe_update_result *res, const struct lethe_rollout *ro,
		       bool have_ro)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "device", json_object_new_string(device));
	json_object_object_add(o, "source", json_object_new_string(source));
	json_object_object_add(o, "updated", json_object_new_boolean(r == 0));
	if (r == 0) {
		char slot[2] = { lethe_slot_letter(res->slot), 0 };

		json_object_object_add(o, "slot", json_object_new_string(slot));
		json_object_object_add(o, "version", json_object_new_string(res->version));
		json_object_object_add(o, "entry", json_object_new_string(res->entry));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)res->bytes));
	}
	if (have_ro) {
		struct json_object *w = json_object_new_object();

		json_object_object_add(w, "bucket", json_object_new_int((int)ro->bucket));
		json_object_object_add(w, "machine_id_known", json_object_new_boolean(ro->known));
		json_object_object_add(w, "released", json_object_new_int64(ro->released));
		json_object_object_add(w, "open_wave", json_object_new_int((int)ro->open));
		json_object_object_add(w, "percent", json_object_new_int((int)ro->percent));
		json_object_object_add(w, "wave", json_object_new_int((int)ro->wave));
		json_object_object_add(w, "wave_opens", json_object_new_int64(ro->at));
		json_object_object_add(w, "in", json_object_new_boolean(ro->in));
		json_object_object_add(o, "rollout", w);
	}
	cli_json_print(o);
}

int cmd_update(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "public-key", required_argument, NULL, 'p' },
		{ "public-key-base64", required_argument, NULL, 'P' },
		{ "spec", required_argument, NULL, 'S' },
		{ "now", no_argument, NULL, 'N' },
		{ "machine-id", required_argument, NULL, 'M' },
		{ "insecure", no_argument, NULL, 'I' },
		{ "allow-downgrade", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'J' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_update_options o = { 0 };
	struct lethe_update_result res = { 0 };
	struct lethe_oci_options net = { 0 };
	struct lethe_update_source_options so = { .net = &net };
	struct lethe_rollout ro = { 0 };
	const char *key = NULL, *key_b64 = NULL, *spec_path = NULL, *source = NULL, *from = NULL;
	char booted[LETHE_ROOTHASH_HEX + 1], mid[65];
	struct lethe_sign_pubkey pub;
	struct lethe_spec *spec = NULL;
	char *disk = NULL, *url = NULL;
	bool now = false, json = false, running = false, in_image = false;
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
		case 'S':
			spec_path = optarg;
			break;
		case 'N':
			now = true;
			break;
		case 'M':
			so.machine_id = optarg;
			break;
		case 'I':
			net.insecure = true;
			break;
		case 'D':
			o.allow_downgrade = true;
			break;
		case 'J':
			json = true;
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
	if (argc - optind > 1)
		return cli_usage_error("update", "expected at most one SOURCE");
	if (argc - optind == 1)
		source = argv[optind];
	if (key && key_b64)
		return cli_usage_error("update", "give one public key: -p FILE or -P BASE64");
	if (so.machine_id && !*so.machine_id)
		return cli_usage_error("update", "--machine-id needs an id");
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
		running = true;
		if (!o.device)
			o.device = disk;
		if (!key && !key_b64)
			key = LETHE_UPDATE_KEY;
	} else if (lethe_update_running(booted, NULL) == 0) {
		o.booted_roothash = booted; /* --device on a running system: still spare it */
		running = true;
	}
	/* The spec's update: section: the source and the waves. */
	if (!spec_path && running && access(LETHE_PATH_SPEC, F_OK) == 0) {
		spec_path = LETHE_PATH_SPEC;
		in_image = true; /* its file sources were consumed at build time */
	}
	if (spec_path) {
		r = lethe_spec_load_flags(spec_path, in_image ? LETHE_SPEC_LOAD_IN_IMAGE : 0,
					  &spec);
		if (r < 0)
			goto fail;
	}
	if (!source) {
		if (!spec || !spec->update) {
			r = cli_usage_error("update",
					    "expected SOURCE: %s has no update: section naming one",
					    spec_path ? spec_path : "no spec was given, and it");
			goto out;
		}
		r = lethe_spec_update_url(spec->update, &url);
		if (r < 0)
			goto fail;
		source = url;
	}
	if (!now && spec && spec->update && spec->update->n_waves) {
		so.rollout = spec->update;
		so.now = (int64_t)time(NULL);
		if (!so.machine_id && lethe_rollout_machine_id(mid, sizeof(mid), &from) == 0)
			so.machine_id = mid;
	}
	r = key ? lethe_sign_pubkey_load(key, &pub) : lethe_sign_pubkey_from_base64(key_b64, &pub);
	if (r < 0)
		goto fail;
	o.pub = &pub;
	cli_log_init();
	r = lethe_update_from(source, &o, &so, &res, &ro);
	if (r < 0)
		goto fail;
	if (json) {
		print_json(o.device, source, r, &res, &ro, so.rollout != NULL);
	} else if (r == LETHE_UPDATE_NOT_YET) {
		char when[32] = "?";
		time_t at = (time_t)ro.at;
		struct tm tm;

		if (gmtime_r(&at, &tm))
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
		if (!cli_quiet)
			printf("%s: not yet: this machine (%s, bucket %u of 100) is in wave %u, "
			       "which opens at %s; the open wave %u reaches %u%% of the fleet; "
			       "nothing written (--now to update anyway)\n",
			       source, ro.known ? from ? from : "--machine-id" : "no machine id",
			       ro.bucket, ro.wave + 1, when, ro.open + 1, ro.percent);
	} else if (!cli_quiet) {
		printf("%s: slot %c now holds %s, installed as EFI/Linux/%s (%u tries)\n", o.device,
		       lethe_slot_letter(res.slot), res.version, res.entry, LETHE_BOOTCOUNT_TRIES);
	}
	r = EXIT_OK;
	goto out;
fail:
	r = cli_fail_usage(r, "update"); /* -EINVAL with a message: the SOURCE given */
out:
	lethe_spec_free(spec);
	free(url);
	free(disk);
	return r;
}
