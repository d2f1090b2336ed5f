/* lethe audit: run the posture checks and show them as a table or JSON. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include <lethe/audit.h>
#include <lethe/contract.h>

#include "cli.h"

static void usage(void)
{
	const struct lethe_audit_check_info *checks;
	size_t n = lethe_audit_checks(&checks);

	printf("usage: lethe audit [--root DIR] [--spec SPEC] [--only ID,...] [--skip ID,...] "
	       "[--json]\n\n"
	       "Check the running system's posture, control by control: verified read-only\n"
	       "root, amnesia, no swap, firewall, kernel lockdown and hardening.\n\n"
	       "  --root DIR    read /proc and /sys (and fixtures of dm and nft state) below DIR\n"
	       "  --spec SPEC   the image spec to judge against (default ROOT" LETHE_PATH_SPEC ")\n"
	       "  --only IDS    run only these checks (comma-separated, repeatable)\n"
	       "  --skip IDS    do not run these checks\n"
	       "  --json        print the report as JSON (docs/schemas/audit.schema.json)\n"
	       "  --no-color    no colour even on a terminal\n"
	       "  --pcr FILE    the release's pcr.json, for boot.measured (the TPM's PCRs\n"
	       "                must equal it; not applicable without a TPM)\n\n"
	       "checks:\n");
	for (size_t i = 0; i < n; i++)
		printf("  %-22s %s\n", checks[i].id, checks[i].title);
	printf("\nExit status: 0 every applicable check passed, 1 a check failed, 2 usage, 3 "
	       "error.\n");
}

/* Append the comma-separated ids of arg to list. */
static int add_ids(struct lethe_strv *list, const char *arg)
{
	char *copy = strdup(arg), *save = NULL;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *id = strtok_r(copy, ",", &save); id && r >= 0; id = strtok_r(NULL, ",", &save))
		r = lethe_strv_push(list, id);
	free(copy);
	return r;
}

static void print_table(const struct lethe_audit_report *rep, bool color)
{
	static const char *const colors[] = { "\033[32m", "\033[31m", "\033[2m" };
	size_t width = 2, counts[3] = { 0 };

	for (size_t i = 0; i < rep->n_results; i++)
		if (strlen(rep->results[i].id) > width)
			width = strlen(rep->results[i].id);
	for (size_t i = 0; i < rep->n_results; i++) {
		const struct lethe_audit_result *r = &rep->results[i];

		counts[r->verdict]++;
		printf("%s%-4s%s  %-*s  %s\n", color ? colors[r->verdict] : "",
		       r->verdict == LETHE_AUDIT_PASS	? "pass"
		       : r->verdict == LETHE_AUDIT_FAIL ? "FAIL"
							: "n/a",
		       color ? "\033[0m" : "", (int)width, r->id, r->evidence);
	}
	if (rep->n_blockdevs) {
		printf("\n%-10s %-5s %10s %-3s %-3s %-8s %s\n", "DEVICE", "TYPE", "SIZE", "RM",
		       "RO", "FSTYPE", "MOUNTPOINTS");
		for (size_t i = 0; i < rep->n_blockdevs; i++) {
			const struct lethe_audit_blockdev *d = &rep->blockdevs[i];

			printf("%-10s %-5s %9.1fM %-3s %-3s %-8s", d->name, d->type,
			       (double)d->size / (1024 * 1024), d->removable ? "yes" : "no",
			       d->read_only ? "yes" : "no", d->fstype ? d->fstype : "-");
			for (size_t m = 0; m < d->mountpoints.n; m++)
				printf(" %s", d->mountpoints.v[m]);
			printf("%s\n", d->mounted_writable ? " (rw)" : "");
		}
	}
	printf("\naudit: %zu passed, %zu failed, %zu not applicable%s\n", counts[0], counts[1],
	       counts[2], rep->lethe_system ? "" : " (not a Lethe system)");
}

int cmd_audit(int argc, char **argv)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "root", required_argument, NULL, 'r' },
		{ "spec", required_argument, NULL, 's' },
		{ "only", required_argument, NULL, 'o' },
		{ "skip", required_argument, NULL, 'k' },
		{ "json", no_argument, NULL, 'j' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "pcr", required_argument, NULL, 'p' },
		{},
	};
	struct lethe_strv only = { 0 }, skip = { 0 };
	struct lethe_audit_options opts = { 0 };
	struct lethe_audit_report *rep;
	bool json = false, color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
	int c, r, rc;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return EXIT_OK;
		case 'r':
			opts.root = optarg;
			break;
		case 's':
			opts.spec_path = optarg;
			break;
		case 'o':
		case 'k':
			if (add_ids(c == 'o' ? &only : &skip, optarg) < 0)
				return cli_fail(-ENOMEM, "audit");
			break;
		case 'j':
			json = true;
			break;
		case 'C':
			color = false;
			break;
		case 'p':
			opts.pcr_path = optarg;
			break;
		default:
			return cli_usage_error("audit", "unknown option");
		}
	}
	if (optind != argc)
		return cli_usage_error("audit", "unexpected argument '%s'", argv[optind]);
	opts.only = only.n ? (const char *const *)only.v : NULL;
	opts.skip = skip.n ? (const char *const *)skip.v : NULL;
	r = lethe_audit_run(&opts, &rep);
	lethe_strv_release(&only);
	lethe_strv_release(&skip);
	if (r < 0)
		return cli_fail_usage(r, "audit");
	if (json)
		cli_json_print(lethe_audit_report_json(rep));
	else
		print_table(rep, color);
	rc = lethe_audit_passed(rep) ? EXIT_OK : EXIT_CHECK_FAILED;
	lethe_audit_report_free(rep);
	return rc;
}
