/* lethe diff: what changed between two releases, as text or JSON, for the review before
 * a fleet gets a new image (issue 18.5). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <lethe/diff.h>
#include <lethe/release.h>
#include <lethe/sign.h>

#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	puts("usage: lethe diff OLD NEW [-p PUBKEY] [--json] [-q]\n\n"
	     "Show what changed from the release in OLD to the one in NEW: packages added,\n"
	     "removed, upgraded or downgraded (from their CycloneDX SBOMs), files added,\n"
	     "removed or changed and which of their attributes (from their manifests), and\n"
	     "the kernel cmdline and root hash. Both releases are checked first: every file\n"
	     "against SHA256SUMS and, with -p, the signature.\n\n"
	     "  -p, --public-key FILE   check both releases' signatures with this key\n"
	     "      --json              print the differences as JSON\n"
	     "  -q, --quiet             print only the summary line\n"
	     "  -h, --help              show this help\n\n"
	     "Exit status: 0 compared (whether or not they differ), 1 a release does not\n"
	     "verify or is malformed, 2 usage error, 3 runtime error.");
}

static const char *change_name(enum lethe_diff_change c, bool pkg)
{
	switch (c) {
	case LETHE_DIFF_ADDED:
		return "added";
	case LETHE_DIFF_REMOVED:
		return "removed";
	case LETHE_DIFF_UPGRADED:
		return pkg ? "upgraded" : "changed";
	case LETHE_DIFF_DOWNGRADED:
		return "downgraded";
	}
	return "?";
}

/* The keywords whose values differ between two manifest lines, into arr (JSON) or buf. */
static void changed_keys(const char *a, const char *b, struct json_object *arr,
			 struct lethe_buf *buf)
{
	char *ca = strdup(a), *cb = strdup(b), *sa = NULL;

	if (!ca || !cb)
		goto out;
	for (char *t = strtok_r(ca, " ", &sa); t; t = strtok_r(NULL, " ", &sa)) {
		size_t k = strcspn(t, "=");
		bool same = false;
		char *cb2 = strdup(b), *s2 = NULL;

		for (char *u = cb2 ? strtok_r(cb2, " ", &s2) : NULL; u;
		     u = strtok_r(NULL, " ", &s2))
			if (!strcmp(t, u)) {
				same = true;
				break;
			}
		free(cb2);
		if (same)
			continue;
		t[k] = '\0';
		if (arr)
			json_object_array_add(arr, json_object_new_string(t));
		else
			lethe_buf_printf(buf, "%s%s", buf->len ? ", " : "", t);
	}
out:
	free(ca);
	free(cb);
}

static void print_text(const struct lethe_diff *d)
{
	printf("packages: %zu changed\n", d->n_pkgs);
	for (size_t i = 0; i < d->n_pkgs; i++) {
		const struct lethe_diff_pkg *p = &d->pkgs[i];

		if (p->change == LETHE_DIFF_ADDED)
			printf("  + %s %s\n", p->name, p->new_version);
		else if (p->change == LETHE_DIFF_REMOVED)
			printf("  - %s %s\n", p->name, p->old_version);
		else
			printf("  ~ %s %s -> %s (%s)\n", p->name, p->old_version, p->new_version,
			       change_name(p->change, true));
	}
	printf("files: %zu changed\n", d->n_files);
	for (size_t i = 0; i < d->n_files; i++) {
		const struct lethe_diff_file *f = &d->files[i];
		struct lethe_buf keys = { 0 };

		if (f->change == LETHE_DIFF_UPGRADED) {
			changed_keys(f->old_attrs, f->new_attrs, NULL, &keys);
			printf("  M %s (%s)\n", f->path, keys.data ? keys.data : "");
		} else {
			printf("  %c %s\n", f->change == LETHE_DIFF_ADDED ? '+' : '-', f->path);
		}
		lethe_buf_release(&keys);
	}
	if (!d->old_cmdline != !d->new_cmdline ||
	    (d->old_cmdline && strcmp(d->old_cmdline, d->new_cmdline)))
		printf("%s:\n  - %s\n  + %s\n", lethe_release_name(LETHE_ARTIFACT_CMDLINE),
		       d->old_cmdline ? d->old_cmdline : "(none)",
		       d->new_cmdline ? d->new_cmdline : "(none)");
	else
		printf("%s: unchanged\n", lethe_release_name(LETHE_ARTIFACT_CMDLINE));
	if (strcmp(d->old_roothash, d->new_roothash))
		printf("root hash: %s -> %s\n", d->old_roothash, d->new_roothash);
	else
		printf("root hash: unchanged\n");
}

static struct json_object *pair(const char *a, const char *b)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "old", a ? json_object_new_string(a) : NULL);
	json_object_object_add(o, "new", b ? json_object_new_string(b) : NULL);
	json_object_object_add(o, "changed",
			       json_object_new_boolean(!a != !b || (a && strcmp(a, b))));
	return o;
}

static void print_json(const struct lethe_diff *d, const char *old_dir, const char *new_dir)
{
	struct json_object *o = json_object_new_object(), *pk = json_object_new_array(),
			   *fl = json_object_new_array();

	json_object_object_add(o, "old", json_object_new_string(old_dir));
	json_object_object_add(o, "new", json_object_new_string(new_dir));
	for (size_t i = 0; i < d->n_pkgs; i++) {
		const struct lethe_diff_pkg *p = &d->pkgs[i];
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(p->name));
		json_object_object_add(e, "change",
				       json_object_new_string(change_name(p->change, true)));
		json_object_object_add(e, "old_version",
				       p->old_version ? json_object_new_string(p->old_version)
						      : NULL);
		json_object_object_add(e, "new_version",
				       p->new_version ? json_object_new_string(p->new_version)
						      : NULL);
		json_object_array_add(pk, e);
	}
	for (size_t i = 0; i < d->n_files; i++) {
		const struct lethe_diff_file *f = &d->files[i];
		struct json_object *e = json_object_new_object(), *keys = json_object_new_array();

		json_object_object_add(e, "path", json_object_new_string(f->path));
		json_object_object_add(e, "change",
				       json_object_new_string(change_name(f->change, false)));
		if (f->change == LETHE_DIFF_UPGRADED)
			changed_keys(f->old_attrs, f->new_attrs, keys, NULL);
		json_object_object_add(e, "keys", keys);
		json_object_array_add(fl, e);
	}
	json_object_object_add(o, "packages", pk);
	json_object_object_add(o, "files", fl);
	json_object_object_add(o, lethe_release_name(LETHE_ARTIFACT_CMDLINE),
			       pair(d->old_cmdline, d->new_cmdline));
	json_object_object_add(o, lethe_release_name(LETHE_ARTIFACT_ROOTHASH),
			       pair(d->old_roothash, d->new_roothash));
	cli_json_print(o);
}

int cmd_diff(int argc, char **argv)
{
	static const struct option options[] = {
		{ "public-key", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	struct lethe_release_options ro = { 0 };
	struct lethe_release *a = NULL, *b = NULL;
	struct lethe_sign_pubkey pub;
	struct lethe_diff *d = NULL;
	const char *pub_path = NULL;
	bool json = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "p:qh", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			pub_path = optarg;
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
			return cli_usage_error("diff", "unknown option");
		}
	}
	if (argc - optind != 2)
		return cli_usage_error("diff", "expected OLD and NEW release directories");
	if (pub_path && (r = lethe_sign_pubkey_load(pub_path, &pub)) < 0)
		return cli_fail(r, "diff");
	if (!pub_path)
		ro.flags = LETHE_RELEASE_OPEN_UNSIGNED;
	r = lethe_release_open_opts(argv[optind], pub_path ? &pub : NULL, &ro, &a);
	if (r >= 0)
		r = lethe_release_open_opts(argv[optind + 1], pub_path ? &pub : NULL, &ro, &b);
	if (r >= 0)
		r = lethe_diff_releases(a, b, &d);
	if (r >= 0) {
		if (json)
			print_json(d, argv[optind], argv[optind + 1]);
		else if (cli_quiet)
			printf("%zu packages, %zu files changed\n", d->n_pkgs, d->n_files);
		else
			print_text(d);
	}
	lethe_diff_free(d);
	lethe_release_free(a);
	lethe_release_free(b);
	return r < 0 ? cli_fail(r, "diff") : EXIT_OK;
}
