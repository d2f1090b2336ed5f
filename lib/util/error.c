/* The thread's last error message: the detail behind one negative errno. The message is
 * stored with the errno it was recorded for, so that it can only label a failure that
 * returned that same errno; a success of a call that clears on entry forgets it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <lethe/util.h>

static _Thread_local char last_message[1024];
static _Thread_local int last_err; /* the errno last_message explains; 0: no message */

int lethe_errorv(int err, const char *fmt, va_list ap)
{
	if (err >= 0) {
		/* Not a failure: there is nothing to explain, and no message may stay. */
		lethe_error_clear();
		return err;
	}
	/* Formatted aside first: a caller may wrap the last message in a new one
	 * (lethe_error(r, "x: %s", lethe_error_message_for(r))), whose bytes are the
	 * destination's. */
	char msg[sizeof(last_message)];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One line, always: a newline in a file name must not split the message. */
	for (char *p = msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	memcpy(last_message, msg, sizeof(msg));
	last_err = err;
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

const char *lethe_error_message_for(int err)
{
	return err < 0 && err == last_err ? last_message : NULL;
}

const char *lethe_error_message(void)
{
	return last_err ? last_message : NULL;
}

void lethe_error_clear(void)
{
	last_err = 0;
	last_message[0] = '\0';
}

bool lethe_error_is_check(int err)
{
	return err == -LETHE_E_INVALID || err == -LETHE_E_REJECTED;
}
