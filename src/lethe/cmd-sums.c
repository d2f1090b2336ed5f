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

static const char *status_name(int result)
{
	return result == 0 ? "ok" : result == -EBADMSG ? "mismatch"
			     : result == -ENOENT    ? "missing"
						    : "error";
}

struct check_state {
	struct json_object *files; /* NULL: report as text */
	size_t failed, total;
};

static void entry_done(const struct lethe_sums_entry *e, int result, void *userdata)
{
	struct check_state *st = userdata;
	struct json_object *files = st->files;

	st->total++;
	st->failed += result < 0;

	if (files) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_object_add(o, "line", json_object_new_int((int)e->line));
		json_object_object_add(o, "status", json_object_new_string(status_name(result)));
		if (result < 0 && lethe_error_message())
			json_object_object_add(o, "message",
					       json_object_new_string(lethe_error_message()));
		json_object_array_add(files, o);
	} else if (result < 0) {
		cli_error("%s", lethe_error_message() ? lethe_error_message() : e->name);
	} else if (!cli_quiet) {
		printf("%s: OK\n", e->name);
	}
}

static int check(const char *path, bool json)
{
	struct check_state st = { .files = json ? json_object_new_array() : NULL };
	struct json_object *o;
	int r = lethe_sums_check_file(path, entry_done, &st);

	if (json) {
		o = json_object_new_object();
		json_object_object_add(o, "sums", json_object_new_string(path));
		json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
		json_object_object_add(o, "files", st.files);
		if (r < 0 && lethe_error_message())
			json_object_object_add(o, "error",
					       json_object_new_string(lethe_error_message()));
		cli_json_print(o);
		return cli_exit_code(r);
	}
	/* Each failure was reported as it came; only sum them up. */
	if (r < 0 && st.failed > 0) {
		cli_error("'%s': %zu of %zu files failed", path, st.failed, st.total);
		return EXIT_CHECK_FAILED;
	}
	return r < 0 ? cli_fail(r, "sums") : EXIT_OK;
}

static int write_sums(const char *out, const char *dir, char **names, int n)
{
	char *text;
	size_t len;
	int r;

	if (out)
		r = lethe_sums_write(out, dir, (const char *const *)names, (size_t)n);
	else if ((r = lethe_sums_format(dir, (const char *const *)names, (size_t)n, &text,
					&len)) == 0) {
		fwrite(text, 1, len, stdout);
		free(text);
	}
	if (r == -EINVAL && lethe_error_message())
		return cli_usage_error("sums", "%s", lethe_error_message());
	return r < 0 ? cli_fail(r, "sums") : EXIT_OK;
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
