/* The thread's last error message: the detail behind a negative errno. */
#include <errno.h>
#include <stdio.h>

#include <lethe/util.h>

static _Thread_local char last_message[1024];
static _Thread_local bool have_message;

int lethe_errorv(int err, const char *fmt, va_list ap)
{
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	/* One line, always: a newline in a file name must not split the message. */
	for (char *p = last_message; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	have_message = true;
	return err;
}

int lethe_error(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	lethe_errorv(err, fmt, ap);
	va_end(ap);
	return err;
}

const char *lethe_error_message(void)
{
	return have_message ? last_message : NULL;
}

void lethe_error_clear(void)
{
	have_message = false;
	last_message[0] = '\0';
}

bool lethe_error_is_check(int err)
{
	return err == -LETHE_E_INVALID || err == -LETHE_E_REJECTED;
}
