/* lethe sums: write a SHA256SUMS in coreutils' format, or check one (as sha256sum -c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>

#include <lethe/sums.h>

#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	puts("usage: lethe sums [-C DIR] [-o SHA256SUMS] FILE...\n"
	     "       lethe sums -c SHA256SUMS [--json] [-q]\n\n"
	     "Write the SHA-256 of each FILE in coreutils' format (\"HEX  NAME\", sorted by\n"
	     "name), to SHA256SUMS atomically or to standard output; or check a SHA256SUMS:\n"
	     "every file it lists, relative to its directory, must match.\n\n"
	     "  -o, --output FILE   write the list to FILE (default: standard output)\n"
	     "  -C, --directory D   FILE names are relative to D (and written so)\n"
	     "  -c, --check FILE    check FILE instead of writing one\n"
	     "      --json          with -c, print a JSON report\n"
	     "  -q, --quiet         with -c, print only failures\n"
	     "  -h, --help          show this help\n\n"
	     "Names must be relative paths without '..', '\\' or control characters.\n\n"
	     "Exit status: 0 success, 1 a file does not match or is missing or the list is\n"
	     "malformed, 2 usage error, 3 runtime error.");
}

static int check(const char *path, bool json)
{
	struct cli_sums_report rep = { .files = json ? json_object_new_array() : NULL };
	struct json_object *report = NULL;
	int r = lethe_sums_check_file(path, cli_sums_entry_done, &rep);

	if (json) {
		report = json_object_new_object();
		json_object_object_add(report, "sums", json_object_new_string(path));
	}
	return cli_sums_report_finish(&rep, report, path, r, "sums");
}

static int write_sums(const char *out, const char *dir, char **names, int n)
{
	char *text;
	size_t len;
	int r;

	if (out)
		r = lethe_sums_write(out, dir, (const char *const *)names, (size_t)n);
	else if ((r = lethe_sums_format(dir, (const char *const *)names, (size_t)n, &text, &len)) ==
		 0) {
		fwrite(text, 1, len, stdout);
		free(text);
	}
	return r < 0 ? cli_fail_usage(r, "sums") : EXIT_OK;
}

int cmd_sums(int argc, char **argv)
{
	static const struct option options[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "directory", required_argument, NULL, 'C' },
		{ "check", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	const char *out = NULL, *dir = NULL, *check_path = NULL;
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "o:C:c:qh", options, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'C':
			dir = optarg;
			break;
		case 'c':
			check_path = optarg;
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
			return cli_usage_error("sums", "unknown option");
		}
	}
	if (check_path) {
		if (optind != argc || out || dir)
			return cli_usage_error("sums", "-c takes no FILE, -o or -C");
		return check(check_path, json);
	}
	if (json)
		return cli_usage_error("sums", "--json goes with -c");
	if (optind == argc)
		return cli_usage_error("sums", "no file to list");
	return write_sums(out, dir, argv + optind, argc - optind);
}
