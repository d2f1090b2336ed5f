/* Cancelling a build (issue 10.9): lethe_build_cancel() may be called from a signal
 * handler; it only sets a flag and wakes a watcher thread, which stops every process the
 * build started (apt, dpkg-deb, mkfs.erofs, depmod, and whatever they started: the
 * whole tree below this process, read from /proc), SIGTERM first, SIGKILL a second
 * later. The stage that waited for them then fails, the build sees the flag and removes
 * its temporary directories as for any failure. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "build-internal.h"

#define MAX_PROCS 8192

static volatile sig_atomic_t cancelled;
static volatile sig_atomic_t wake_fd = -1;

void lethe_build_cancel(void)
{
	int fd = wake_fd;
	uint64_t one = 1;

	cancelled = 1;
	if (fd >= 0)
		(void)!write(fd, &one, sizeof(one));
}

bool build_cancelled(void)
{
	return cancelled;
}

struct proc {
	pid_t pid, ppid;
};

/* Every process's parent, from /proc/PID/stat ("PID (COMM) STATE PPID ..."). */
static size_t list_procs(struct proc *v, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 0;
	while (n < max && (de = readdir(d))) {
		char path[300], buf[512], *p;
		ssize_t len;
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		p = strrchr(buf, ')'); /* COMM may hold anything, ')' too */
		if (!p || sscanf(p + 1, " %*c %d", &v[n].ppid) != 1)
			continue;
		v[n].pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (p[2] != 'Z') /* a zombie is gone already */
			n++;
	}
	closedir(d);
	return n;
}

/* Signal every process below this one; the number signalled. */
static size_t signal_descendants(int sig)
{
	struct proc *v = calloc(MAX_PROCS, sizeof(*v));
	bool *mark;
	size_t n, count = 0;
	bool grew = true;

	if (!v)
		return 0;
	n = list_procs(v, MAX_PROCS);
	mark = calloc(n ? n : 1, sizeof(*mark));
	if (!mark) {
		free(v);
		return 0;
	}
	while (grew) {
		grew = false;
		for (size_t i = 0; i < n; i++) {
			if (mark[i])
				continue;
			bool child = v[i].ppid == getpid();

			for (size_t j = 0; !child && j < n; j++)
				child = mark[j] && v[j].pid == v[i].ppid;
			if (child)
				mark[i] = grew = true;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (mark[i] && kill(v[i].pid, sig) == 0)
			count++;
	free(mark);
	free(v);
	return count;
}

static void *watch(void *arg)
{
	struct build_watch *w = arg;
	struct pollfd pfd = { .fd = w->fd, .events = POLLIN };
	uint64_t v;

	while (poll(&pfd, 1, -1) < 0 && errno == EINTR)
		;
	(void)!read(w->fd, &v, sizeof(v));
	if (w->stop || !cancelled)
		return NULL;
	/* Until the build has stopped: new children (a stage that starts one more) too. */
	while (!w->stop) {
		if (signal_descendants(SIGTERM) > 0) {
			poll(NULL, 0, 1000);
			signal_descendants(SIGKILL);
		}
		poll(NULL, 0, 200);
	}
	return NULL;
}

int build_watch_start(struct build_watch *w)
{
	sigset_t all, old;
	int r;

	w->stop = false;
	w->fd = eventfd(0, EFD_CLOEXEC);
	if (w->fd < 0)
		return lethe_error(-errno, "cannot create an eventfd: %m");
	/* The thread takes no signal: the caller's handlers run in the caller's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&w->thread, NULL, watch, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		close(w->fd);
		w->fd = -1;
		return lethe_error(r, "cannot start a thread: %s", strerror(-r));
	}
	wake_fd = w->fd;
	return 0;
}

void build_watch_stop(struct build_watch *w)
{
	uint64_t one = 1;

	if (w->fd < 0)
		return;
	wake_fd = -1;
	w->stop = true;
	(void)!write(w->fd, &one, sizeof(one));
	pthread_join(w->thread, NULL);
	close(w->fd);
	w->fd = -1;
	cancelled = 0; /* a cancel before the build started counted for it; now it is over */
}
