/* lethe spec check SPEC [--json]: validate an image spec and summarise it. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <lethe/firewall.h>
#include <lethe/spec.h>

#include "cli.h"

static void usage(FILE *out)
{
	fputs("usage: lethe spec check [--json] SPEC\n\n"
	      "Parse and validate an image spec (docs/spec.md). A valid spec prints a one-line\n"
	      "summary (or a JSON object with --json); an invalid one prints the first error,\n"
	      "with its line and column, on stderr.\n\n"
	      "options:\n"
	      "  --json      print the summary as JSON\n"
	      "  -h, --help  show this help\n\n"
	      "Exit status: 0 valid, 1 invalid, 2 usage error, 3 runtime error (e.g. "
	      "unreadable).\n",
	      out);
}

static struct json_object *strv_json(const struct lethe_strv *s)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < s->n; i++)
		json_object_array_add(a, json_object_new_string(s->v[i]));
	return a;
}

static struct json_object *summary_json(const struct lethe_spec *spec)
{
	struct json_object *o = json_object_new_object(), *users = json_object_new_array();
	struct json_object *services = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string(spec->name));
	json_object_object_add(o, "version", json_object_new_string(spec->version));
	if (spec->description)
		json_object_object_add(o, "description", json_object_new_string(spec->description));
	json_object_object_add(o, "architecture", json_object_new_string(spec->architecture));
	json_object_object_add(o, "profile",
			       json_object_new_string(spec->minimal ? "minimal" : "full"));
	json_object_object_add(o, "compression", json_object_new_string(spec->compression));
	json_object_object_add(o, "package_count",
			       json_object_new_int64((int64_t)spec->packages.n));
	json_object_object_add(o, "packages", strv_json(&spec->packages));
	json_object_object_add(o, "drop", strv_json(&spec->drop));
	json_object_object_add(o, "file_count", json_object_new_int64((int64_t)spec->n_files));
	for (size_t i = 0; i < spec->n_users; i++)
		json_object_array_add(users, json_object_new_string(spec->users[i].name));
	json_object_object_add(o, "users", users);
	for (size_t i = 0; i < spec->n_services; i++)
		json_object_array_add(services, json_object_new_string(spec->services[i].name));
	json_object_object_add(o, "services", services);
	json_object_object_add(o, "kernel",
			       spec->kernel.package ? json_object_new_string(spec->kernel.package)
						    : NULL);
	json_object_object_add(o, "kernel_modules", strv_json(&spec->kernel.modules));
	json_object_object_add(o, "unsafe", strv_json(&spec->kernel.unsafe));
	json_object_object_add(o, "hostname", json_object_new_string(spec->hostname));
	json_object_object_add(o, "firewall", json_object_new_boolean(spec->firewall != NULL));
	return o;
}

/* The spec and the sections other modules interpret: what boots must have been
 * checked here, not first at boot. */
static int spec_check(const char *path, bool json)
{
	struct lethe_spec *spec = NULL;
	struct lethe_firewall *fw = NULL;
	int r = lethe_spec_load(path, &spec);

	if (r < 0)
		return cli_fail(r, path);
	r = lethe_firewall_from_spec(spec, &fw);
	lethe_firewall_free(fw);
	if (r < 0) {
		lethe_spec_free(spec);
		return cli_fail(r, path);
	}
	if (json)
		cli_json_print(summary_json(spec));
	else
		printf("%s: valid: %s %s, %zu packages, %zu users, %zu services, %zu files%s\n",
		       path, spec->name, spec->version, spec->packages.n, spec->n_users,
		       spec->n_services, spec->n_files, spec->firewall ? ", firewall" : "");
	lethe_spec_free(spec);
	return EXIT_OK;
}

int cmd_spec(int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			return cli_usage_error("spec", "unknown option");
		}
	}
	if (optind >= argc)
		return cli_usage_error("spec", "missing subcommand (check)");
	if (strcmp(argv[optind], "check"))
		return cli_usage_error("spec", "unknown subcommand '%s'", argv[optind]);
	optind++;
	if (argc - optind != 1)
		return cli_usage_error("spec", "check needs exactly one SPEC");
	return spec_check(argv[optind], json);
}
