/* lethe: the command line. A table of verbs; each lives in cmd-<verb>.c. */
#include <stdio.h>
#include <string.h>

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
	fputs("usage: lethe VERB [OPTIONS] [ARGS]\n\n"
	      "Build, boot, verify, audit and update minimal, immutable, amnesic Linux images.\n\n"
	      "verbs:\n",
	      out);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(verbs); i++)
		fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
	fputs("\n'lethe VERB --help' tells more about one verb.\n"
	      "Exit status: 0 success, 1 a check failed, 2 usage error, 3 runtime error.\n",
	      out);
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
		puts("lethe " LETHE_VERSION);
		return EXIT_OK;
	}
	cli_log_init();
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(verbs); i++)
		if (!strcmp(argv[1], verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	cli_error("unknown verb '%s'; 'lethe --help' lists them", argv[1]);
	return EXIT_USAGE;
}
