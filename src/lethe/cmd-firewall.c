/* lethe firewall: show, apply or check the nftables table that a spec's firewall
 * section describes. Runs on the build host and inside images (lethe-init's stage 2
 * applies it before any interface is up). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/firewall.h>
#include <lethe/spec.h>

#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	printf("usage: lethe firewall show SPEC\n"
	       "       lethe firewall apply SPEC\n"
	       "       lethe firewall check SPEC [--json]\n"
	       "       lethe firewall stats [--json]\n\n"
	       "The spec's firewall section as one nftables table, 'table inet lethe'\n"
	       "(docs/firewall.md).\n\n"
	       "  show    print the ruleset\n"
	       "  apply   replace the kernel's table inet lethe with it, in one transaction\n"
	       "          (needs CAP_NET_ADMIN; other tables are left alone)\n"
	       "  check   compare the kernel's table with it and list each difference,\n"
	       "          and every base chain of another table (a 'foreign hook')\n"
	       "  stats   how many packets each drop rule of the kernel's table refused\n"
	       "          so far (the invalid ones, and what each drop policy dropped)\n\n"
	       "  --json  (check, stats) print the result as JSON\n"
	       "  -q, --quiet  print nothing when all is well\n\n"
	       "Exit status: 0 success, 1 invalid spec or drift, 2 usage, 3 error.\n");
}

/* Parse the spec without touching the files it names: inside an image, the spec is
 * /etc/lethe/spec.yaml and its sources are not there. */
static int load_firewall(const char *path, struct lethe_firewall **ret)
{
	struct lethe_spec *spec = NULL;
	char *text = NULL;
	size_t len;
	int r;

	r = lethe_file_read(path, LETHE_SPEC_MAX_SIZE, &text, &len);
	if (r < 0) {
		if (r != -EFBIG)
			lethe_error(r, "cannot read spec '%s': %s", path,
				    r == -EINVAL ? "not a regular file" : strerror(-r));
		return r;
	}
	r = lethe_spec_parse(path, NULL, text, len, &spec);
	free(text);
	if (r < 0)
		return r;
	r = lethe_firewall_from_spec(spec, ret);
	lethe_spec_free(spec);
	return r;
}

static void print_diff(const struct lethe_firewall_diff *d)
{
	const char *kind = lethe_firewall_diff_kind_name(d->kind);

	switch (d->kind) {
	case LETHE_FIREWALL_TABLE_MISSING:
		printf("table missing: there is no table inet lethe\n");
		break;
	case LETHE_FIREWALL_POLICY_CHANGED:
	case LETHE_FIREWALL_CHAIN_CHANGED:
		printf("chain %s: %s: expected '%s', found '%s'\n", d->chain, kind,
		       d->expected ? d->expected : "", d->live ? d->live : "");
		break;
	case LETHE_FIREWALL_CHAIN_MISSING:
	case LETHE_FIREWALL_CHAIN_ADDED:
		printf("chain %s: %s\n", d->chain, kind);
		break;
	case LETHE_FIREWALL_RULE_MISSING:
		printf("chain %s: %s: %s\n", d->chain, kind, d->expected);
		break;
	case LETHE_FIREWALL_RULE_ADDED:
		printf("chain %s: %s: %s\n", d->chain, kind, d->live);
		break;
	case LETHE_FIREWALL_FOREIGN_HOOK:
		printf("chain %s: %s: another table's chain in the packet path: %s\n", d->chain,
		       kind, d->live);
		break;
	}
}

static struct json_object *json_str(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static void print_json(const struct lethe_firewall_drift *drift)
{
	struct json_object *obj = json_object_new_object(), *arr = json_object_new_array();

	json_object_object_add(obj, "table", json_object_new_string("inet lethe"));
	json_object_object_add(obj, "match", json_object_new_boolean(drift->n == 0));
	for (size_t i = 0; i < drift->n; i++) {
		const struct lethe_firewall_diff *d = &drift->diffs[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(
			o, "kind", json_object_new_string(lethe_firewall_diff_kind_name(d->kind)));
		json_object_object_add(o, "chain", json_str(d->chain));
		json_object_object_add(o, "expected", json_str(d->expected));
		json_object_object_add(o, "live", json_str(d->live));
		json_object_array_add(arr, o);
	}
	json_object_object_add(obj, "differences", arr);
	cli_json_print(obj);
}

static int do_check(const struct lethe_firewall *fw, bool json)
{
	struct lethe_firewall_drift drift = { 0 };
	int r = lethe_firewall_check(fw, &drift);

	if (r < 0 && !drift.n)
		return cli_fail(r, "firewall check");
	if (json) {
		print_json(&drift);
	} else {
		for (size_t i = 0; i < drift.n; i++)
			print_diff(&drift.diffs[i]);
		if (!drift.n && !cli_quiet)
			printf("table inet lethe matches the spec\n");
	}
	lethe_firewall_drift_release(&drift);
	fflush(stdout);
	return r < 0 ? cli_fail(r, "firewall check") : EXIT_OK;
}

static int do_stats(bool json)
{
	struct lethe_firewall_counters cs = { 0 };
	int r = lethe_firewall_counters_read(&cs);

	if (r < 0)
		return cli_fail(r, "firewall stats");
	if (json) {
		struct json_object *o = json_object_new_object(), *arr = json_object_new_array();

		json_object_object_add(o, "table", json_object_new_string("inet lethe"));
		json_object_object_add(
			o, "dropped", json_object_new_uint64(lethe_firewall_counters_dropped(&cs)));
		for (size_t i = 0; i < cs.n; i++) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(c, "chain", json_object_new_string(cs.v[i].chain));
			json_object_object_add(c, "name", json_object_new_string(cs.v[i].name));
			json_object_object_add(c, "packets",
					       json_object_new_uint64(cs.v[i].packets));
			json_object_object_add(c, "bytes", json_object_new_uint64(cs.v[i].bytes));
			json_object_array_add(arr, c);
		}
		json_object_object_add(o, "counters", arr);
		cli_json_print(o);
	} else if (!cs.n) {
		printf("table inet lethe has no counters (is it loaded?)\n");
	} else {
		printf("%-8s %-20s %12s %14s\n", "CHAIN", "COUNTER", "PACKETS", "BYTES");
		for (size_t i = 0; i < cs.n; i++)
			printf("%-8s %-20s %12" PRIu64 " %14" PRIu64 "\n", cs.v[i].chain,
			       cs.v[i].name, cs.v[i].packets, cs.v[i].bytes);
	}
	lethe_firewall_counters_release(&cs);
	return EXIT_OK;
}

int cmd_firewall(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ 0 },
	};
	struct lethe_firewall *fw = NULL;
	const char *action, *path;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "hq", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return EXIT_OK;
		case 'j':
			json = true;
			break;
		case 'q':
			cli_quiet = true;
			break;
		default:
			return cli_usage_error("firewall", "unknown option");
		}
	}
	if (argc > optind && !strcmp(argv[optind], "stats"))
		return argc - optind == 1 ? do_stats(json)
					  : cli_usage_error("firewall", "stats takes no SPEC");
	if (argc - optind != 2)
		return cli_usage_error(
			"firewall", "expected an action (show, apply, check) and SPEC, or stats");
	action = argv[optind];
	path = argv[optind + 1];
	if (strcmp(action, "show") && strcmp(action, "apply") && strcmp(action, "check"))
		return cli_usage_error("firewall",
				       "unknown action '%s' (show, apply, check or stats)", action);
	if (json && strcmp(action, "check"))
		return cli_usage_error("firewall", "--json goes with check or stats");

	r = load_firewall(path, &fw);
	if (r < 0)
		return cli_fail(r, path);
	if (!strcmp(action, "show")) {
		char *text = NULL;

		r = lethe_firewall_render(fw, 0, &text);
		if (r >= 0)
			fputs(text, stdout);
		free(text);
		r = r < 0 ? cli_fail(r, "firewall show") : EXIT_OK;
	} else if (!strcmp(action, "apply")) {
		r = lethe_firewall_apply(fw);
		if (r >= 0 && !cli_quiet)
			fprintf(stderr, "table inet lethe loaded from '%s'\n", path);
		r = r < 0 ? cli_fail(r, "firewall apply") : EXIT_OK;
	} else {
		r = do_check(fw, json);
	}
	lethe_firewall_free(fw);
	return r;
}
