/* lethe lock SPEC: resolve the spec's packages with apt, fetch them into the cache,
 * and write lethe.lock (docs/formats.md) so that builds can use exactly that set.
 * lethe lock --outdated SPEC: which locked packages the archive has newer versions of. */
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
	     "                  [--quiet]\n"
	     "       lethe lock --outdated SPEC [-o FILE] [--offline] [--cache DIR] [--json]\n\n"
	     "Resolve the packages of SPEC (and its kernel package) to their dependency\n"
	     "closure with apt, under private state: the host's package state is never\n"
	     "touched and apt checks the repository's signatures. The .debs are downloaded\n"
	     "into the cache and checked against the signed index, then the lock is written\n"
	     "atomically: one line per package with version, architecture, SHA-256, size\n"
	     "and role (root, or kernel: never extracted into the root).\n\n"
	     "  -o, --output FILE   the lock to write (default: lethe.lock beside SPEC);\n"
	     "                      with --outdated, the lock to check\n"
	     "      --outdated      list the locked packages of which the spec's sources\n"
	     "                      now have a newer version (apt's candidate), marking\n"
	     "                      those from a security suite; exit 1 when there is any.\n"
	     "                      The lists are updated first (unless --offline)\n"
	     "      --refresh       update apt's lists even if the cached ones are fresh\n"
	     "                      (otherwise they are refreshed once a day)\n"
	     "      --offline       never update apt's lists if there are some (a lock from\n"
	     "                      the cache alone; fails when a .deb is not cached)\n"
	     "      --cache DIR     the cache (default: $XDG_CACHE_HOME/lethe, else\n"
	     "                      ~/.cache/lethe)\n"
	     "      --json          print the locked set as JSON on stdout\n"
	     "  -q, --quiet         no progress lines\n"
	     "  -h, --help          this help\n\n"
	     "Exit status: 0 success, 1 the spec or a package did not check (with\n"
	     "--outdated: a package is outdated), 2 usage error, 3 runtime error (apt\n"
	     "failed, no network).");
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

static struct json_object *updates_json(const struct lethe_pkg_updates *u, const char *path)
{
	struct json_object *o = json_object_new_object(), *a = json_object_new_array();
	struct json_object *absent = json_object_new_array();
	size_t security = 0;

	json_object_object_add(o, "lock", json_object_new_string(path));
	for (size_t i = 0; i < u->n; i++) {
		const struct lethe_pkg_update *p = &u->v[i];
		struct json_object *j = json_object_new_object();

		security += p->security;
		json_object_object_add(j, "name", json_object_new_string(p->name));
		json_object_object_add(j, "locked", json_object_new_string(p->locked));
		json_object_object_add(j, "available", json_object_new_string(p->available));
		json_object_object_add(j, "suite",
				       p->suite ? json_object_new_string(p->suite) : NULL);
		json_object_object_add(j, "security", json_object_new_boolean(p->security));
		json_object_object_add(
			j, "role",
			json_object_new_string(p->role == LETHE_PKG_KERNEL ? "kernel" : "root"));
		json_object_array_add(a, j);
	}
	json_object_object_add(o, "checked", json_object_new_int64((int64_t)u->checked));
	json_object_object_add(o, "outdated", a);
	json_object_object_add(o, "security", json_object_new_int64((int64_t)security));
	for (size_t i = 0; i < u->absent.n; i++)
		json_object_array_add(absent, json_object_new_string(u->absent.v[i]));
	json_object_object_add(o, "absent", absent);
	return o;
}

static int widest(int w, const char *s)
{
	int n = (int)strlen(s);

	return n > w ? n : w;
}

static void updates_text(const struct lethe_pkg_updates *u, const char *path)
{
	int wn = 7, wl = 6, wa = 9;
	size_t security = 0;

	for (size_t i = 0; i < u->n; i++) {
		wn = widest(wn, u->v[i].name);
		wl = widest(wl, u->v[i].locked);
		wa = widest(wa, u->v[i].available);
		security += u->v[i].security;
	}
	if (u->n)
		printf("%-*s  %-*s  %-*s  %s\n", wn, "PACKAGE", wl, "LOCKED", wa, "AVAILABLE",
		       "SUITE");
	for (size_t i = 0; i < u->n; i++) {
		const struct lethe_pkg_update *p = &u->v[i];

		printf("%-*s  %-*s  %-*s  %s%s%s\n", wn, p->name, wl, p->locked, wa, p->available,
		       p->suite ? p->suite : "-", p->security ? "  security" : "",
		       p->role == LETHE_PKG_KERNEL ? "  kernel" : "");
	}
	for (size_t i = 0; i < u->absent.n; i++)
		printf("%s: no longer in the archive\n", u->absent.v[i]);
	if (cli_quiet)
		return;
	if (u->n)
		fprintf(stderr,
			"%s: %zu of %zu packages outdated (%zu from a security suite): run 'lethe "
			"lock' again to take them\n",
			path, u->n, u->checked, security);
	else
		fprintf(stderr, "%s: none of %zu packages is outdated\n", path, u->checked);
}

/* lethe lock --outdated: compare the lock at path with the spec's sources. */
static int outdated(const struct lethe_spec *spec, const struct lethe_pkg_options *opts,
		    const char *path, bool json)
{
	struct lethe_pkgset *set = NULL;
	struct lethe_pkg_updates u = { 0 };
	int r;

	r = lethe_lock_load(path, &set);
	if (r < 0)
		return cli_fail(r, path);
	r = lethe_pkg_outdated(spec, opts, set, &u);
	lethe_pkgset_free(set);
	if (r < 0)
		return cli_fail(r, spec->path ? spec->path : "spec");
	if (json)
		cli_json_print(updates_json(&u, path));
	else
		updates_text(&u, path);
	r = u.n ? EXIT_CHECK_FAILED : EXIT_OK;
	lethe_pkg_updates_release(&u);
	return r;
}

int cmd_lock(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "refresh", no_argument, NULL, 'R' },
		{ "offline", no_argument, NULL, 'O' },
		{ "cache", required_argument, NULL, 'C' },
		{ "outdated", no_argument, NULL, 'U' },
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
	bool json = false, want_outdated = false;
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
		case 'U':
			want_outdated = true;
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
	if (want_outdated) {
		/* The point is what the archive has now: fresh lists, unless offline. */
		opts.refresh = opts.max_list_age >= 0;
		c = outdated(spec, &opts, path, json);
		lethe_spec_free(spec);
		free(path);
		return c;
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
