/* lethe: the command line. A table of verbs; each lives in cmd-<verb>.c. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <lethe/contract.h>

#include <json-c/json.h>

#include "cli.h"
#include "verbs.h"

struct verb {
	const char *name;
	cli_verb_fn fn;
	const char *summary;
};

static const struct verb verbs[] = {
#define VERB(name, summary) { #name, cmd_##name, summary },
#include "verb-list.h"
#undef VERB
};

static void usage(FILE *out)
{
	fputs("usage: lethe VERB [OPTIONS] [ARGS]\n"
	      "       lethe --version [--json]\n\n"
	      "Build, boot, verify, audit and update minimal, immutable, amnesic Linux images.\n\n"
	      "verbs:\n",
	      out);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(verbs); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\n'lethe VERB --help' tells more about one verb; --version --json prints the\n"
	      "version and the verbs as JSON (docs/schemas/version.schema.json).\n"
	      "Exit status: 0 success, 1 a check failed, 2 usage error, 3 runtime error.\n",
	      out);
}

/* lethe --version --json (docs/schemas/version.schema.json): what a script may check
 * before it relies on a verb. */
static void version_json(void)
{
	struct json_object *o = json_object_new_object(), *v = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string("lethe"));
	json_object_object_add(o, "version", json_object_new_string(LETHE_VERSION));
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(verbs); i++)
		json_object_array_add(v, json_object_new_string(verbs[i].name));
	json_object_object_add(o, "verbs", v);
	cli_json_print(o);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version")) {
		if (argc > 2 && !strcmp(argv[2], "--json"))
			version_json();
		else
			puts("lethe " LETHE_VERSION);
		return EXIT_OK;
	}
	cli_log_init();
	(void)lethe_json_seed_early(); /* the boot audit must not wait for entropy */
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(verbs); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
#ifdef LETHE_FORWARD_UPDATE
	/* In an image with update: the A/B verbs live in lethe-update (it links libfdisk
	 * and libcurl); hand them over where it is installed. */
	if ((!strcmp(argv[1], "update") || !strcmp(argv[1], "status") ||
	     !strcmp(argv[1], "rollback")) &&
	    access(LETHE_PATH_UPDATE_TOOL, X_OK) == 0) {
		execv(LETHE_PATH_UPDATE_TOOL, argv);
		cli_error("cannot run " LETHE_PATH_UPDATE_TOOL ": %s", strerror(errno));
		return EXIT_RUNTIME;
	}
#endif
	cli_error("unknown verb '%s'; 'lethe --help' lists them", argv[1]);
	return EXIT_USAGE;
}
