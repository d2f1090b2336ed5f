/* PID 1's small helpers: messages on the console, files in /proc and /sys, and a
 * halt that never returns. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

/* health.c, in lethe-init (weak: test-init links util.c without it). */
void init_counted_failure(void) __attribute__((weak));

bool init_debug;

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "lethe-init: %s", prefix);

	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	n = (int)strlen(line);
	if ((size_t)n + 1 < sizeof(line))
		line[n++] = '\n';
	/* One write per line so that lines from several processes do not interleave. */
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

/* With lethe.debug, fmt with the uptime after it (in buf), to show where the boot's
 * time goes; else fmt. */
static const char *timed(const char *fmt, char *buf, size_t size)
{
	if (!init_debug || strlen(fmt) + 16 >= size)
		return fmt;
	snprintf(buf, size, "%s [%.3f s]", fmt, init_uptime());
	return buf;
}

void init_msg(const char *fmt, ...)
{
	char f[512];
	va_list ap;

	va_start(ap, fmt);
	vmsg("", timed(fmt, f, sizeof(f)), ap);
	va_end(ap);
}

void init_dbg(const char *fmt, ...)
{
	char f[512];
	va_list ap;

	if (!init_debug)
		return;
	va_start(ap, fmt);
	vmsg("debug: ", timed(fmt, f, sizeof(f)), ap);
	va_end(ap);
}

static void __attribute__((noreturn)) halt_forever(void)
{
	sync();
	/* PID 1 must not exit (the kernel would panic and might reboot into the same
	 * failure); it waits, reaping nothing, until someone turns the machine off. */
	for (;;)
		pause();
}

void init_halt(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("halting: ", fmt, ap);
	va_end(ap);
	if (init_counted_failure)
		init_counted_failure(); /* an A/B boot being counted reboots instead */
	halt_forever();
}

void init_verify_failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg("root verification failed: ", fmt, ap);
	va_end(ap);
	init_msg("halting: the root file system does not match " LETHE_CMDLINE_ROOTHASH "; "
		 "refusing to boot");
	if (init_counted_failure)
		init_counted_failure(); /* an A/B boot being counted reboots instead */
	halt_forever();
}

void init_console_open(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return; /* keep whatever the kernel gave us */
	for (int i = 0; i < 3; i++)
		dup2(fd, i);
	if (fd > 2)
		close(fd);
}

int init_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	size_t len = strlen(text);
	ssize_t n;
	int saved;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	saved = errno;
	close(fd);
	if (n < 0)
		return -saved;
	return (size_t)n == len ? 0 : -EIO;
}

int init_mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

double init_uptime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int init_copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[1 << 16];
	int in, out, r = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				r = -errno;
			break;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r = -errno;
				goto out;
			}
			off += w;
		}
	}
out:
	if (close(out) < 0 && r == 0)
		r = -errno;
	close(in);
	return r;
}
