/* Shared CLI plumbing: the one place where errors become messages and exit codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/sums.h>

#include "cli.h"

bool cli_quiet;
static bool progress_shown;

static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = false;
	}
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("lethe: ", fmt, ap);
	va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("lethe: warning: ", fmt, ap);
	va_end(ap);
}

int cli_exit_code(int r)
{
	if (r >= 0)
		return EXIT_OK;
	return lethe_error_is_check(r) ? EXIT_CHECK_FAILED : EXIT_RUNTIME;
}

int cli_fail(int r, const char *what)
{
	const char *msg = lethe_error_message_for(r);

	if (msg)
		cli_error("%s", msg);
	else
		cli_error("%s: %s", what, strerror(-r));
	return cli_exit_code(r);
}

int cli_fail_usage(int r, const char *verb)
{
	if (r == -EINVAL && lethe_error_message_for(r))
		return cli_usage_error(verb, "%s", lethe_error_message_for(r));
	return cli_fail(r, verb);
}

int cli_usage_error(const char *verb, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "lethe %s: ", verb);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'lethe %s --help'.\n", verb);
	return EXIT_USAGE;
}

static void log_to_stderr(enum lethe_log_level level, const char *msg, void *userdata)
{
	static int tty = -1;

	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	switch (level) {
	case LETHE_LOG_PROGRESS:
		if (!tty || cli_quiet)
			return;
		fprintf(stderr, "\r\033[K%s", msg);
		progress_shown = true;
		return;
	case LETHE_LOG_WARNING:
		cli_warning("%s", msg);
		return;
	case LETHE_LOG_INFO:
		if (!cli_quiet) {
			if (progress_shown)
				fputs("\r\033[K", stderr);
			progress_shown = false;
			fprintf(stderr, "%s\n", msg);
		}
		return;
	case LETHE_LOG_DEBUG:
		if (getenv("LETHE_DEBUG"))
			fprintf(stderr, "debug: %s\n", msg);
		return;
	}
}

void cli_log_init(void)
{
	lethe_log_set(log_to_stderr, NULL);
}

void cli_json_print(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
}

static const char *sums_status(int result)
{
	switch (result) {
	case 0:
		return "ok";
	case -EBADMSG:
		return "mismatch";
	case -ENOENT:
		return "missing";
	default:
		return "error";
	}
}

void cli_sums_entry_done(const struct lethe_sums_entry *e, int result, void *userdata)
{
	struct cli_sums_report *rep = userdata;

	rep->total++;
	rep->failed += result < 0;
	if (rep->files) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(e->name));
		json_object_object_add(o, "line", json_object_new_int((int)e->line));
		json_object_object_add(o, "status", json_object_new_string(sums_status(result)));
		if (result < 0 && lethe_error_message_for(result))
			json_object_object_add(
				o, "message",
				json_object_new_string(lethe_error_message_for(result)));
		json_object_array_add(rep->files, o);
		return;
	}
	if (result < 0)
		cli_error("%s", lethe_error_message_for(result) ? lethe_error_message_for(result)
								: e->name);
	else if (!cli_quiet)
		printf("%s: OK\n", e->name);
}

int cli_sums_report_finish(struct cli_sums_report *rep, struct json_object *report,
			   const char *sums_path, int r, const char *verb)
{
	if (report) {
		json_object_object_add(report, "ok", json_object_new_boolean(r == 0));
		json_object_object_add(report, "files", rep->files);
		if (r < 0 && lethe_error_message_for(r))
			json_object_object_add(report, "error",
					       json_object_new_string(lethe_error_message_for(r)));
		cli_json_print(report);
		return cli_exit_code(r);
	}
	/* Each failure was reported as it came; only sum them up. */
	if (r < 0 && rep->failed > 0) {
		cli_error("'%s': %zu of %zu files failed", sums_path, rep->failed, rep->total);
		return EXIT_CHECK_FAILED;
	}
	return r < 0 ? cli_fail(r, verb) : EXIT_OK;
}

bool cli_parse_u64(const char *s, unsigned long long min, unsigned long long max,
		   unsigned long long *ret)
{
	char *end;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return false;
	*ret = v;
	return true;
}

bool cli_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
