/* lethe fim: file-integrity monitoring. init writes a (signed) mtree baseline of trees,
 * check compares trees with one (with no argument on a booted Lethe system: / with
 * the image's own manifest), watch reports changes as they happen. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/fim.h>
#include <lethe/sign.h>

#include "cli-password.h"
#include "cli.h"
#include "verbs.h"

static void usage(void)
{
	puts("usage: lethe fim init [PATH...] -o BASELINE [--key SECKEY] [--rules FILE]\n"
	     "       lethe fim check BASELINE PATH... [-p KEY.pub] [-x SIG] [--rules FILE] "
	     "[--json]\n"
	     "       lethe fim check [--json]          (on a booted Lethe system)\n"
	     "       lethe fim watch [PATH] [--rules FILE] [--json]\n"
	     "       lethe fim rules [--image]\n\n"
	     "init scans the trees at PATH (default: the rules' scan paths) into a BSD mtree\n"
	     "baseline that `mtree -f BASELINE -p PATH` reads, signed with a minisign key when\n"
	     "--key is given (BASELINE.minisig). check reports what was added, removed or\n"
	     "changed (old -> new) since; with -p, a baseline whose signature is missing or\n"
	     "does not verify is refused before anything is scanned. With no argument on a\n"
	     "booted Lethe system, check compares / with the image's own manifest, read from\n"
	     "the verity-backed image, ignoring what is expected to differ (/run, /tmp, logs).\n"
	     "watch reports each change under PATH (default /) as it happens, with the\n"
	     "writer's pid and command where the kernel tells. rules prints the built-in rules.\n\n"
	     "  -o, --output FILE        init: the baseline to write (atomically)\n"
	     "  -k, --key SECKEY         init: sign the baseline with this minisign key\n"
	     "      --password-file F    init: the key's password, from the first line of F\n"
	     "  -r, --rules FILE         what is scanned and which attributes count where\n"
	     "                           (docs/fim.md; default: built-in rules for a Debian host)\n"
	     "  -p, --pubkey KEY.pub     check: the baseline must be signed by this key\n"
	     "  -x, --signature SIG      check: the signature (default BASELINE.minisig)\n"
	     "  -j, --threads N          hashing threads (default: one per CPU)\n"
	     "      --image              rules: the rules of a booted Lethe system\n"
	     "      --json               check: a JSON report; watch: one JSON object a line\n"
	     "  -q, --quiet              no summary on standard error\n"
	     "  -h, --help               show this help\n\n"
	     "Exit status: 0 success (check: no drift), 1 drift found or the baseline refused,\n"
	     "2 usage error, 3 runtime error.");
}

struct fim_args {
	const char *output, *key, *password_file, *rules_path, *pubkey, *sig;
	unsigned threads;
	bool json, image;
};

static int load_rules(const char *path, enum lethe_fim_rules_builtin which,
		      struct lethe_fim_rules **ret)
{
	int r = path ? lethe_fim_rules_load(path, ret) : lethe_fim_rules_builtin(which, ret);

	return r < 0 ? cli_fail(r, "fim") : 0;
}

/* ---- init ---- */

static void init_note(enum lethe_fim_note note, const char *path, int err, void *userdata)
{
	(void)userdata;
	switch (note) {
	case LETHE_FIM_NOTE_UNREADABLE:
		cli_warning("fim: '%s' is unreadable (%s): recorded without its content", path,
			    strerror(-err));
		break;
	case LETHE_FIM_NOTE_CHANGED:
		cli_warning("fim: '%s' changed while it was read: its digest is unreliable", path);
		break;
	case LETHE_FIM_NOTE_VANISHED:
		cli_warning("fim: '%s' vanished during the scan", path);
		break;
	case LETHE_FIM_NOTE_OTHER_FS:
		cli_warning("fim: '%s' is a mount point: what is below is not scanned", path);
		break;
	case LETHE_FIM_NOTE_NONE:
		break;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void summary(const char *what, const struct lethe_fim_stats *st, double secs)
{
	if (cli_quiet)
		return;
	fprintf(stderr,
		"lethe: fim %s: %" PRIu64 " entries, %" PRIu64 " files, %.1f MiB hashed in %.2f s"
		"%s\n",
		what, st->entries, st->files, (double)st->bytes / 1048576.0, secs,
		st->unreadable || st->changed_during_scan ? " (see the warnings)" : "");
}

static void on_signal(int sig)
{
	(void)sig;
	lethe_fim_cancel();
}

static int cmd_init(const struct fim_args *a, char **paths, int n)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct lethe_fim_scan_opts opts = { .threads = a->threads };
	struct lethe_fim_rules *rules = NULL;
	struct lethe_sign_seckey *key = NULL;
	struct lethe_fim_stats st;
	const struct lethe_strv *scan;
	char *sig = NULL;
	double t0;
	int r;

	if (!a->output)
		return cli_usage_error("fim", "init needs -o BASELINE");
	if (a->pubkey || a->sig || a->json)
		return cli_usage_error("fim", "-p, -x and --json go with check");
	if ((r = load_rules(a->rules_path, LETHE_FIM_RULES_HOST, &rules)) != 0)
		return r;
	opts.rules = rules;
	scan = lethe_fim_rules_scan_paths(rules);
	if (!n && !scan->n) {
		lethe_fim_rules_free(rules);
		return cli_usage_error("fim", "no PATH, and the rules scan nothing");
	}
	/* The key first: a wrong password must not cost a whole scan. */
	if (a->key && (r = cli_seckey_load(a->key, a->password_file, &key)) < 0) {
		lethe_fim_rules_free(rules);
		return cli_fail(r, "fim");
	}
	/* A signal stops the scan, and the temporary baseline goes with it. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	t0 = now();
	r = n ? lethe_fim_baseline_write((const char *const *)paths, (size_t)n, &opts, a->output,
					 init_note, NULL, &st)
	      : lethe_fim_baseline_write((const char *const *)scan->v, scan->n, &opts, a->output,
					 init_note, NULL, &st);
	if (r >= 0 && key) {
		sig = lethe_sign_default_sig_path(a->output);
		r = sig ? lethe_sign_file(key, a->output, NULL, true, sig) : -ENOMEM;
		if (r < 0)
			unlink(a->output);
	}
	lethe_sign_seckey_free(key);
	lethe_fim_rules_free(rules);
	if (r < 0) {
		free(sig);
		return cli_fail(r, "fim init");
	}
	summary("init", &st, now() - t0);
	if (sig && !cli_quiet)
		fprintf(stderr, "lethe: fim init: signed '%s'\n", sig);
	free(sig);
	return EXIT_OK;
}

/* ---- check ---- */

struct check_report {
	struct json_object *drift; /* NULL: text */
	size_t counts[LETHE_FIM_UNREADABLE + 1];
};

static void drift_done(const struct lethe_fim_drift *d, void *userdata)
{
	struct check_report *rep = userdata;

	rep->counts[d->kind]++;
	if (rep->drift) {
		struct json_object *o = json_object_new_object(), *ch = json_object_new_array();

		json_object_object_add(o, "kind",
				       json_object_new_string(lethe_fim_drift_kind_name(d->kind)));
		json_object_object_add(o, "path", json_object_new_string(d->path));
		json_object_object_add(o, "type", json_object_new_string(d->type));
		for (size_t i = 0; i < d->n_changes; i++) {
			struct json_object *c = json_object_new_object();

			json_object_object_add(
				c, "attribute",
				json_object_new_string(lethe_fim_attr_name(d->changes[i].attr)));
			json_object_object_add(c, "old", json_object_new_string(d->changes[i].old));
			json_object_object_add(c, "new",
					       json_object_new_string(d->changes[i].new_));
			json_object_array_add(ch, c);
		}
		json_object_object_add(o, "changes", ch);
		json_object_array_add(rep->drift, o);
		return;
	}
	printf("%s %s", lethe_fim_drift_kind_name(d->kind), d->path);
	if (d->kind == LETHE_FIM_ADDED || d->kind == LETHE_FIM_REMOVED)
		printf(" (%s)", d->type);
	for (size_t i = 0; i < d->n_changes; i++)
		printf("%s%s %s -> %s", i ? ", " : ": ", lethe_fim_attr_name(d->changes[i].attr),
		       d->changes[i].old, d->changes[i].new_);
	putchar('\n');
}

/* The baseline, verified (with -p) over the very bytes that are then parsed. */
static int load_baseline(const struct fim_args *a, const char *path, struct lethe_fim_manifest *m)
{
	struct lethe_sign_pubkey pub;
	char *text, *sig = NULL;
	size_t len;
	int fd, r;

	if (a->pubkey && (r = lethe_sign_pubkey_load(a->pubkey, &pub)) < 0)
		return r;
	fd = lethe_open_input(AT_FDCWD, path, O_RDONLY, false, NULL);
	if (fd < 0)
		return lethe_error_message_for(fd)
			       ? fd
			       : lethe_error(fd, "cannot open '%s': %s", path, strerror(-fd));
	r = lethe_fd_read(fd, path, LETHE_FIM_MAX_FILE, &text, &len);
	close(fd);
	if (r < 0)
		return r;
	if (a->pubkey) {
		sig = a->sig ? strdup(a->sig) : lethe_sign_default_sig_path(path);
		r = sig ? lethe_sign_verify_data(&pub, text, len, path, sig, NULL) : -ENOMEM;
		if (r < 0 && r != -ENOMEM && !lethe_error_is_check(r))
			/* no signature file: refused like a bad one */
			r = lethe_error(-LETHE_E_REJECTED,
					"baseline '%s' is not signed: cannot read '%s': %s", path,
					sig, strerror(-r));
		free(sig);
	}
	if (r >= 0)
		r = lethe_fim_mtree_parse(text, len, path, m);
	free(text);
	return r;
}

static int cmd_check(const struct fim_args *a, char **args, int n)
{
	struct lethe_fim_scan_opts opts = { .threads = a->threads };
	struct check_report rep = { .drift = a->json ? json_object_new_array() : NULL };
	struct lethe_fim_manifest base = { 0 };
	struct lethe_fim_rules *rules = NULL;
	struct lethe_fim_stats st = { 0 };
	const char *root = "/", *baseline;
	char *where = NULL, *upper = NULL;
	double t0;
	int r;

	if (a->output || a->key)
		return cli_usage_error("fim", "-o and --key go with init");
	if (n == 1)
		return cli_usage_error("fim", "check BASELINE needs the PATH it describes");
	if (!n && (a->pubkey || a->sig))
		return cli_usage_error("fim", "-p and -x go with a BASELINE");
	if ((r = load_rules(a->rules_path, n ? LETHE_FIM_RULES_HOST : LETHE_FIM_RULES_IMAGE,
			    &rules)) != 0)
		return r;
	opts.rules = rules;
	if (n) {
		baseline = args[0];
		r = load_baseline(a, baseline, &base);
	} else {
		/* On a booted Lethe system: the image's manifest is the expected state. */
		r = lethe_fim_image_manifest("/", &base, &where, &upper);
		opts.overlay_upper = upper;
		if (r == -ENOENT)
			r = lethe_error(-ENOENT,
					"no image manifest at %s: not a booted Lethe system? "
					"give BASELINE PATH...",
					LETHE_PATH_MANIFEST);
		baseline = where;
	}
	t0 = now();
	if (r >= 0)
		r = n ? lethe_fim_check(&base, (const char *const *)args + 1, (size_t)n - 1, &opts,
					drift_done, &rep, &st)
		      : lethe_fim_check(&base, &root, 1, &opts, drift_done, &rep, &st);
	lethe_fim_manifest_release(&base);
	lethe_fim_rules_free(rules);
	if (r < 0) {
		json_object_put(rep.drift);
		free(where);
		free(upper);
		return cli_fail(r, "fim check");
	}
	if (rep.drift) {
		struct json_object *o = json_object_new_object(), *s = json_object_new_object(),
				   *trees = json_object_new_array();

		json_object_object_add(o, "baseline", json_object_new_string(baseline));
		for (int i = 1; i < n; i++)
			json_object_array_add(trees, json_object_new_string(args[i]));
		if (!n)
			json_object_array_add(trees, json_object_new_string("/"));
		json_object_object_add(o, "trees", trees);
		json_object_object_add(o, "signed", json_object_new_boolean(a->pubkey != NULL));
		json_object_object_add(o, "clean", json_object_new_boolean(r == 0));
		json_object_object_add(o, "drift", rep.drift);
		json_object_object_add(s, "entries", json_object_new_int64((int64_t)st.entries));
		json_object_object_add(s, "files", json_object_new_int64((int64_t)st.files));
		json_object_object_add(s, "bytes", json_object_new_int64((int64_t)st.bytes));
		json_object_object_add(s, "seconds", json_object_new_double(now() - t0));
		json_object_object_add(o, "stats", s);
		cli_json_print(o);
	} else if (!cli_quiet) {
		fprintf(stderr,
			"lethe: fim check: %zu added, %zu removed, %zu changed, %zu changed "
			"during the scan, %zu unreadable\n",
			rep.counts[LETHE_FIM_ADDED], rep.counts[LETHE_FIM_REMOVED],
			rep.counts[LETHE_FIM_CHANGED], rep.counts[LETHE_FIM_CHANGED_DURING_SCAN],
			rep.counts[LETHE_FIM_UNREADABLE]);
		summary("check", &st, now() - t0);
	}
	free(where);
	free(upper);
	return r ? EXIT_CHECK_FAILED : EXIT_OK;
}

/* ---- watch ---- */

static int watch_event(const struct lethe_fim_event *ev, void *userdata)
{
	const struct fim_args *a = userdata;
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (a->json) {
		struct json_object *o = json_object_new_object();
		struct lethe_buf p = { 0 };

		json_object_object_add(
			o, "time",
			json_object_new_double((double)ts.tv_sec + (double)ts.tv_nsec / 1e9));
		json_object_object_add(o, "event", json_object_new_string(ev->what));
		lethe_fim_encode(&p, ev->path, "");
		json_object_object_add(o, "path", json_object_new_string(p.data ? p.data : ""));
		lethe_buf_release(&p);
		if (ev->pid > 0)
			json_object_object_add(o, "pid", json_object_new_int(ev->pid));
		if (ev->comm)
			json_object_object_add(o, "comm", json_object_new_string(ev->comm));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							       JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		struct lethe_buf p = { 0 };

		lethe_fim_encode(&p, ev->path, "");
		printf("%lld.%03ld %s %s", (long long)ts.tv_sec, ts.tv_nsec / 1000000, ev->what,
		       p.data ? p.data : "");
		lethe_buf_release(&p);
		if (ev->pid > 0)
			printf(" pid=%d", ev->pid);
		if (ev->comm)
			printf(" comm=%s", ev->comm);
		putchar('\n');
	}
	fflush(stdout);
	return 0;
}

static void watch_ready(enum lethe_fim_watch_backend b, void *userdata)
{
	(void)userdata;
	if (!cli_quiet)
		fprintf(stderr, "lethe: fim watch: watching with %s\n",
			lethe_fim_watch_backend_name(b));
}

static int cmd_watch(const struct fim_args *a, char **args, int n)
{
	struct lethe_fim_rules *rules = NULL;
	int r;

	if (n > 1)
		return cli_usage_error("fim", "watch takes one PATH");
	if (a->output || a->key || a->pubkey || a->sig)
		return cli_usage_error("fim", "watch takes no -o, --key, -p or -x");
	if (a->rules_path && (r = load_rules(a->rules_path, LETHE_FIM_RULES_HOST, &rules)) != 0)
		return r;
	r = lethe_fim_watch(n ? args[0] : "/", rules, watch_event, watch_ready, (void *)a);
	lethe_fim_rules_free(rules);
	return r < 0 ? cli_fail(r, "fim watch") : EXIT_OK;
}

static const struct option fim_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "key", required_argument, NULL, 'k' },
	{ "password-file", required_argument, NULL, 'P' },
	{ "rules", required_argument, NULL, 'r' },
	{ "pubkey", required_argument, NULL, 'p' },
	{ "signature", required_argument, NULL, 'x' },
	{ "threads", required_argument, NULL, 'j' },
	{ "image", no_argument, NULL, 'I' },
	{ "json", no_argument, NULL, 'J' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{},
};

/* 0, or the exit code to end with (-1: --help shown). */
static int parse_options(int argc, char **argv, struct fim_args *a)
{
	unsigned long long v;
	int c;

	while ((c = getopt_long(argc, argv, "o:k:r:p:x:j:qh", fim_options, NULL)) != -1) {
		switch (c) {
		case 'o':
			a->output = optarg;
			break;
		case 'k':
			a->key = optarg;
			break;
		case 'P':
			a->password_file = optarg;
			break;
		case 'r':
			a->rules_path = optarg;
			break;
		case 'p':
			a->pubkey = optarg;
			break;
		case 'x':
			a->sig = optarg;
			break;
		case 'j':
			if (!cli_parse_u64(optarg, 1, 64, &v))
				return cli_usage_error("fim", "--threads takes 1 to 64");
			a->threads = (unsigned)v;
			break;
		case 'I':
			a->image = true;
			break;
		case 'J':
			a->json = true;
			break;
		case 'q':
			cli_quiet = true;
			break;
		case 'h':
			usage();
			return -1;
		default:
			return cli_usage_error("fim", "unknown option");
		}
	}
	return 0;
}

int cmd_fim(int argc, char **argv)
{
	struct fim_args a = { 0 };
	const char *sub;
	int r;

	if (argc < 2 || argv[1][0] == '-') {
		r = parse_options(argc, argv, &a);
		if (r)
			return r < 0 ? EXIT_OK : r;
		return cli_usage_error("fim", "no subcommand (init, check, watch or rules)");
	}
	/* lethe fim SUB [OPTION|ARG]...: options anywhere after the subcommand. */
	sub = argv[1];
	argc--, argv++;
	r = parse_options(argc, argv, &a);
	if (r)
		return r < 0 ? EXIT_OK : r;
	argv += optind;
	argc -= optind;
	cli_log_init();
	if (!strcmp(sub, "init"))
		return cmd_init(&a, argv, argc);
	if (!strcmp(sub, "check"))
		return cmd_check(&a, argv, argc);
	if (!strcmp(sub, "watch"))
		return cmd_watch(&a, argv, argc);
	if (!strcmp(sub, "rules")) {
		if (argc)
			return cli_usage_error("fim", "rules takes no argument");
		fputs(lethe_fim_rules_builtin_text(a.image ? LETHE_FIM_RULES_IMAGE
							   : LETHE_FIM_RULES_HOST),
		      stdout);
		return EXIT_OK;
	}
	return cli_usage_error("fim", "unknown subcommand '%s' (init, check, watch or rules)", sub);
}
