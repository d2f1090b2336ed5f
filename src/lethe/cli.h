/* What every verb of the lethe CLI shares: messages, exit codes, progress, JSON. */
#ifndef LETHE_CLI_H
#define LETHE_CLI_H

#include <stdbool.h>

#include <json-c/json.h>

#include <lethe/util.h>

#include "verbs.h"

/* Exit codes, documented in README.md and every --help. */
enum {
	EXIT_OK = 0,
	EXIT_CHECK_FAILED = 1, /* verification, validation, audit or drift check failed */
	EXIT_USAGE = 2,
	EXIT_RUNTIME = 3,
};

/* Every verb: int cmd_<verb>(int argc, char **argv), argv[0] being the verb. */
typedef int (*cli_verb_fn)(int argc, char **argv);

extern bool cli_quiet;

/* "lethe: MESSAGE" on stderr; lowercase, no final period. */
void cli_error(const char *fmt, ...) LETHE_PRINTF(1, 2);
/* "lethe: warning: MESSAGE" on stderr. */
void cli_warning(const char *fmt, ...) LETHE_PRINTF(1, 2);
/* Report a failed library call r (negative errno): its recorded message if there is
 * one, else "what: strerror". Returns the exit code that r maps to. */
int cli_fail(int r, const char *what);
/* As cli_fail(), but -EINVAL with a recorded message is the caller's mistake (a bad
 * option value the library refused): reported as a usage error of verb, exit 2. */
int cli_fail_usage(int r, const char *verb);
/* The exit code for a negative errno from liblethe (1 for check failures, else 3). */
int cli_exit_code(int r);

/* Usage error: "lethe VERB: MESSAGE" and a hint to --help; returns EXIT_USAGE. */
int cli_usage_error(const char *verb, const char *fmt, ...) LETHE_PRINTF(2, 3);

/* Route liblethe's log to stderr: progress lines overwrite each other on a terminal
 * and are dropped otherwise; info lines are shown unless --quiet. */
void cli_log_init(void);

/* Print a JSON object on stdout, pretty and with a final newline, and release it. */
void cli_json_print(struct json_object *obj);

/* The per-file report of a SHA256SUMS check, shared by `lethe sums -c` and the modes of
 * `lethe verify` that check one: pass cli_sums_entry_done and a report to
 * lethe_sums_check(). With files set, entries go there as JSON; else failures are
 * reported on stderr as they come and "NAME: OK" lines printed unless --quiet. */
struct lethe_sums_entry;
struct cli_sums_report {
	struct json_object *files; /* NULL: report as text */
	size_t failed, total;
};
void cli_sums_entry_done(const struct lethe_sums_entry *e, int result, void *userdata);
/* End a check of sums_path whose result is r: with report (JSON mode) add "ok", the
 * files and any "error" to it and print it; else, when files failed, sum them up in one
 * line (each was reported already), or report r as cli_fail(r, verb) does. Returns the
 * exit code. */
int cli_sums_report_finish(struct cli_sums_report *rep, struct json_object *report,
			   const char *sums_path, int r, const char *verb);

/* Parse a decimal number in [min, max]; false if s is anything else. */
bool cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
		   unsigned long long *ret);

/* Is path a directory (through links)? */
bool cli_is_dir(const char *path);

#endif
