/* Shared CLI plumbing: the one place where errors become messages and exit codes. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

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
	const char *msg = lethe_error_message();

	if (msg)
		cli_error("%s", msg);
	else
		cli_error("%s: %s", what, strerror(-r));
	return cli_exit_code(r);
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
	puts(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
							 JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(obj);
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
