/* lethe lock SPEC: resolve the spec's packages with apt, fetch them into the cache,
 * and write lethe.lock (docs/formats.md) so that builds can use exactly that set. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <lethe/pkg.h>
#include <lethe/release.h>
#include <lethe/spec.h>

#include "cli.h"

static void help(void)
{
	puts("usage: lethe lock SPEC [-o FILE] [--refresh|--offline] [--cache DIR] [--json]\n"
	     "                  [--quiet]\n\n"
	     "Resolve the packages of SPEC (and its kernel package) to their dependency\n"
	     "closure with apt, under private state: the host's package state is never\n"
	     "touched and apt checks the repository's signatures. The .debs are downloaded\n"
	     "into the cache and checked against the signed index, then the lock is written\n"
	     "atomically: one line per package with version, architecture, SHA-256, size\n"
	     "and role (root, or kernel: never extracted into the root).\n\n"
	     "  -o, --output FILE   the lock to write (default: lethe.lock beside SPEC)\n"
	     "      --refresh       update apt's lists even if the cached ones are fresh\n"
	     "                      (otherwise they are refreshed once a day)\n"
	     "      --offline       never update apt's lists if there are some (a lock from\n"
	     "                      the cache alone; fails when a .deb is not cached)\n"
	     "      --cache DIR     the cache (default: $XDG_CACHE_HOME/lethe, else\n"
	     "                      ~/.cache/lethe)\n"
	     "      --json          print the locked set as JSON on stdout\n"
	     "  -q, --quiet         no progress lines\n"
	     "  -h, --help          this help\n\n"
	     "Exit status: 0 success, 1 the spec or a package did not check, 2 usage error,\n"
	     "3 runtime error (apt failed, no network).");
}

static struct json_object *set_json(const struct lethe_pkgset *set, const char *path)
{
	struct json_object *o = json_object_new_object(), *pkgs = json_object_new_array();
	struct json_object *dropped = json_object_new_array();

	json_object_object_add(o, "lock", json_object_new_string(path));
	for (size_t i = 0; i < set->n; i++) {
		const struct lethe_pkg *p = &set->pkgs[i];
		struct json_object *j = json_object_new_object();
		char hex[65];

		lethe_hex_encode(p->sha256, sizeof(p->sha256), hex);
		json_object_object_add(j, "name", json_object_new_string(p->name));
		json_object_object_add(j, "version", json_object_new_string(p->version));
		json_object_object_add(j, "architecture", json_object_new_string(p->arch));
		json_object_object_add(j, "sha256", json_object_new_string(hex));
		json_object_object_add(j, "size", json_object_new_int64((int64_t)p->size));
		json_object_object_add(
			j, "role",
			json_object_new_string(p->role == LETHE_PKG_KERNEL ? "kernel" : "root"));
		json_object_object_add(j, "filename", json_object_new_string(p->filename));
		json_object_array_add(pkgs, j);
	}
	json_object_object_add(o, "packages", pkgs);
	for (size_t i = 0; i < set->dropped.n; i++)
		json_object_array_add(dropped, json_object_new_string(set->dropped.v[i]));
	json_object_object_add(o, "dropped", dropped);
	return o;
}

int cmd_lock(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "refresh", no_argument, NULL, 'R' },
		{ "offline", no_argument, NULL, 'O' },
		{ "cache", required_argument, NULL, 'C' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lethe_pkg_options opts = { 0 };
	struct lethe_spec *spec = NULL;
	struct lethe_pkgset *set = NULL;
	const char *output = NULL;
	char *path = NULL;
	bool json = false;
	size_t kernel = 0;
	int c, r;

	while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'R':
			opts.refresh = true;
			break;
		case 'O':
			opts.max_list_age = -1;
			break;
		case 'C':
			opts.cache_dir = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			help();
			return EXIT_OK;
		default:
			return cli_usage_error("lock", "unknown option");
		}
	}
	if (opts.refresh && opts.max_list_age < 0)
		return cli_usage_error("lock", "--refresh and --offline exclude each other");
	if (optind != argc - 1)
		return cli_usage_error("lock", "expected one SPEC");
	r = lethe_spec_load(argv[optind], &spec);
	if (r < 0)
		return cli_fail(r, argv[optind]);
	path = output ? strdup(output)
		      : lethe_path_join(spec->dir ? spec->dir : ".",
					lethe_release_name(LETHE_ARTIFACT_LOCK));
	if (!path) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = lethe_pkg_resolve(spec, &opts, &set)) < 0 ||
	    (r = lethe_pkg_fetch(spec, &opts, set)) < 0 || (r = lethe_lock_save(path, set)) < 0)
		goto fail;
	for (size_t i = 0; i < set->n; i++)
		kernel += set->pkgs[i].role == LETHE_PKG_KERNEL;
	if (json)
		cli_json_print(set_json(set, path));
	else if (!cli_quiet) {
		fprintf(stderr, "wrote %s: %zu packages (%zu kernel), %zu dropped", path, set->n,
			kernel, set->dropped.n);
		for (size_t i = 0; i < set->dropped.n; i++)
			fprintf(stderr, "%s%s", i ? ", " : ": ", set->dropped.v[i]);
		fputc('\n', stderr);
	}
	lethe_pkgset_free(set);
	lethe_spec_free(spec);
	free(path);
	return EXIT_OK;
fail:
	c = cli_fail(r, argv[optind]);
	lethe_pkgset_free(set);
	lethe_spec_free(spec);
	free(path);
	return c;
}
