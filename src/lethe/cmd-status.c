/* lethe status: the slots of an installed disk as its ESP and partition table say. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <lethe/update.h>

#include "cli.h"

static const char usage_text[] =
	"usage: lethe status [--device DISK] [--json]\n"
	"\n"
	"Show the slots of an installed disk (the running system's, or DISK): for each, its\n"
	"state (good: blessed; pending: counting tries; failed: no tries left or rolled\n"
	"back; empty), version, root hash, tries left, UKI name, and which slot booted and\n"
	"which boots next. Everything comes from the ESP's file names, the UKIs and the\n"
	"partition table; there is no other state.\n"
	"\n"
	"options:\n"
	"      --device DISK   the installed disk or disk image\n"
	"      --json          print a JSON report (docs/schemas/status.schema.json)\n"
	"\n"
	"Exit status: 0 shown; 2 usage error; 3 not an installed disk, or I/O error.\n";

/* The disk and booted root hash of status, rollback and bless: DISK, or the running
 * system's. *booted is NULL when not known. */
int cli_update_target(const char *verb, const char *device, char booted[65],
		      const char **ret_booted, char **ret_disk);
int cli_update_target(const char *verb, const char *device, char booted[65],
		      const char **ret_booted, char **ret_disk)
{
	char *disk = NULL;
	int r = lethe_update_running(booted, device ? NULL : &disk);

	*ret_booted = r >= 0 ? booted : NULL;
	if (device) {
		*ret_disk = strdup(device);
		return *ret_disk ? 0 : cli_fail(-ENOMEM, verb);
	}
	if (r < 0)
		return r == -ENOENT && !lethe_error_message_for(r)
			       ? cli_usage_error(verb,
						 "not a running Lethe system: give --device DISK")
			       : cli_fail(r, verb);
	*ret_disk = disk;
	return 0;
}

static struct json_object *slot_json(const struct lethe_update_status *st, int s)
{
	const struct lethe_slot_status *ss = &st->slot[s];
	struct json_object *o = json_object_new_object();
	char l[2] = { lethe_slot_letter(s), 0 };

	json_object_object_add(o, "slot", json_object_new_string(l));
	json_object_object_add(o, "state",
			       json_object_new_string(lethe_slot_state_name(ss->state)));
	json_object_object_add(o, "version",
			       ss->entry[0] ? json_object_new_string(ss->count.version) : NULL);
	json_object_object_add(o, "root_hash",
			       ss->entry[0] ? json_object_new_string(ss->roothash) : NULL);
	json_object_object_add(o, "image_id",
			       ss->entry[0] ? json_object_new_string(ss->image_id) : NULL);
	json_object_object_add(o, "entry", ss->entry[0] ? json_object_new_string(ss->entry) : NULL);
	json_object_object_add(o, "tries_left",
			       ss->count.counting ? json_object_new_int((int)ss->count.left)
						  : NULL);
	json_object_object_add(o, "tries_done",
			       ss->count.counting ? json_object_new_int((int)ss->count.done)
						  : NULL);
	json_object_object_add(o, "booted", json_object_new_boolean(st->booted == s));
	json_object_object_add(o, "next", json_object_new_boolean(st->next == s));
	return o;
}

int cmd_status(int argc, char **argv)
{
	static const struct option options[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_update_disk d = { 0 };
	struct lethe_update_status st;
	const char *device = NULL, *booted = NULL;
	char hex[LETHE_ROOTHASH_HEX + 1], *disk = NULL;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'd':
			device = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("status", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("status", "no arguments expected");
	r = cli_update_target("status", device, hex, &booted, &disk);
	if (r)
		return r;
	r = lethe_update_disk_open(disk, &d);
	if (r >= 0)
		r = lethe_update_status_read(&d, booted, &st);
	if (r < 0) {
		lethe_update_disk_release(&d);
		free(disk);
		return cli_fail(r, "status");
	}
	if (json) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();

		json_object_object_add(o, "device", json_object_new_string(disk));
		for (int s = 0; s < LETHE_SLOT_N; s++)
			json_object_array_add(a, slot_json(&st, s));
		json_object_object_add(o, "slots", a);
		cli_json_print(o);
	} else {
		for (int s = 0; s < LETHE_SLOT_N; s++) {
			const struct lethe_slot_status *ss = &st.slot[s];

			printf("slot %c: %s", lethe_slot_letter(s),
			       lethe_slot_state_name(ss->state));
			if (ss->entry[0]) {
				printf(", version %s", ss->count.version);
				if (ss->count.counting)
					printf(", %u tries left", ss->count.left);
				printf(", EFI/Linux/%s, root hash %s", ss->entry, ss->roothash);
			}
			printf("%s%s\n", st.booted == s ? " [booted]" : "",
			       st.next == s ? " [boots next]" : "");
		}
	}
	lethe_update_status_release(&st);
	lethe_update_disk_release(&d);
	free(disk);
	return EXIT_OK;
}
