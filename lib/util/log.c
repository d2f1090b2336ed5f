/* Where the library's progress and information go: a callback the caller sets. */
#include <pthread.h>
#include <stdio.h>

#include <lethe/util.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static lethe_log_fn log_fn;
static void *log_userdata;

void lethe_log_set(lethe_log_fn fn, void *userdata)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_userdata = userdata;
	pthread_mutex_unlock(&log_lock);
}

void lethe_log(enum lethe_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	pthread_mutex_lock(&log_lock);
	if (log_fn) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_fn(level, msg, log_userdata);
	}
	pthread_mutex_unlock(&log_lock);
}
