/* lethe fim watch: changes reported as they happen. fanotify with a filesystem mark in
 * FID mode where the file system supports it (creates, deletes, renames, writes and
 * attribute changes, with names and the writer's pid); else a mount mark, whose events
 * carry an open descriptor (content writes with the path and pid, but no create,
 * delete or rename), joined on a Lethe system by a FID mark on the overlay's upper
 * tmpfs, which names creates, deletes and renames; inotify when fanotify is not
 * allowed (no CAP_SYS_ADMIN): every directory watched, names but no pid. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/core.h>

#include "fim-internal.h"

const char *lethe_fim_watch_backend_name(enum lethe_fim_watch_backend b)
{
	switch (b) {
	case LETHE_FIM_WATCH_FANOTIFY_FS:
		return "fanotify filesystem marks (FID: names, pids, every change)";
	case LETHE_FIM_WATCH_FANOTIFY_MOUNT:
		return "fanotify mount mark (writes with pid; creates, deletes and renames "
		       "only through the overlay's upper layer, if any)";
	case LETHE_FIM_WATCH_INOTIFY:
		return "inotify (names, no pid; directories made later are watched as seen)";
	}
	return "?";
}

#define FID_EVENTS                                                                                 \
	(FAN_CREATE | FAN_DELETE | FAN_MOVED_FROM | FAN_MOVED_TO | FAN_MODIFY | FAN_CLOSE_WRITE |  \
	 FAN_ATTRIB | FAN_DELETE_SELF | FAN_ONDIR)
#define FD_EVENTS (FAN_MODIFY | FAN_CLOSE_WRITE)

struct watcher {
	const char *path; /* absolute, no trailing '/' */
	size_t path_len;
	int self;
	const struct lethe_fim_rules *rules;
	lethe_fim_event_fn fn;
	void *userdata;
	int mount_fd;	   /* for open_by_handle_at() */
	const char *upper; /* the overlay's upper directory, as marked */
	size_t upper_len;
};

/* The event's kinds, comma-separated ("create,modify,close-write"): the kernel merges
 * the events of one object that come together. */
static const char *what_of(uint64_t mask, char *buf, size_t size)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} kinds[] = {
		{ FAN_CREATE, "create" },	    { FAN_DELETE, "delete" },
		{ FAN_DELETE_SELF, "delete" },	    { FAN_MOVED_FROM, "move-from" },
		{ FAN_MOVED_TO, "move-to" },	    { FAN_MODIFY, "modify" },
		{ FAN_CLOSE_WRITE, "close-write" }, { FAN_ATTRIB, "attrib" },
	};
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(kinds); i++)
		if ((mask & kinds[i].bit) && !strstr(buf, kinds[i].name))
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "",
					      kinds[i].name);
	return n ? buf : "other";
}

static int emit(struct watcher *w, const char *path, const char *what, int pid)
{
	struct lethe_fim_event ev = { .path = path, .what = what, .pid = pid };
	char comm[64] = "", proc[64];
	int fd;

	/* A filesystem mark sees the whole file system: only what is below path counts,
	 * and never the watcher's own writes (its output may be on the same one). */
	if (pid == w->self ||
	    (w->path_len > 1 && (strncmp(path, w->path, w->path_len) ||
				 (path[w->path_len] && path[w->path_len] != '/'))))
		return 0;
	if (w->rules && lethe_fim_rules_excluded(w->rules, path))
		return 0;
	if (pid > 0) {
		snprintf(proc, sizeof(proc), "/proc/%d/comm", pid);
		fd = open(proc, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, comm, sizeof(comm) - 1);

			close(fd);
			if (n > 0) {
				comm[n] = '\0';
				comm[strcspn(comm, "\n")] = '\0';
				ev.comm = comm;
			}
		}
	}
	return w->fn(&ev, w->userdata);
}

/* The path of an upper-layer name as the merged "/" shows it. */
static void from_upper(struct watcher *w, char *path, size_t size)
{
	if (w->upper && !strncmp(path, w->upper, w->upper_len) &&
	    (path[w->upper_len] == '/' || !path[w->upper_len])) {
		char tmp[PATH_MAX + NAME_MAX + 2];

		snprintf(tmp, sizeof(tmp), "%s", path[w->upper_len] ? path + w->upper_len : "/");
		snprintf(path, size, "%s", tmp);
	}
}

static int fid_event(struct watcher *w, const struct fanotify_event_metadata *m)
{
	const char *p = (const char *)m + m->metadata_len, *end = (const char *)m + m->event_len;
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2], proc[64], what[128];

	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_fid *fid = (const void *)p;
		const struct file_handle *h = (const void *)fid->handle;
		const char *name = NULL;
		ssize_t n;
		int fd;

		if (fid->hdr.len == 0 || p + fid->hdr.len > end)
			break;
		if (fid->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME ||
		    fid->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID ||
		    fid->hdr.info_type == FAN_EVENT_INFO_TYPE_FID) {
			if (fid->hdr.info_type == FAN_EVENT_INFO_TYPE_DFID_NAME)
				name = (const char *)h->f_handle + h->handle_bytes;
			fd = open_by_handle_at(w->mount_fd, (struct file_handle *)h, O_PATH);
			if (fd < 0)
				return 0; /* gone already (a deleted directory) */
			snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
			n = readlink(proc, dir, sizeof(dir) - 1);
			close(fd);
			if (n < 0)
				return 0;
			dir[n] = '\0';
			if (name && *name && strcmp(name, "."))
				snprintf(path, sizeof(path), "%s%s%s", dir,
					 strcmp(dir, "/") ? "/" : "", name);
			else
				snprintf(path, sizeof(path), "%s", dir);
			from_upper(w, path, sizeof(path));
			return emit(w, path, what_of(m->mask, what, sizeof(what)), m->pid);
		}
		p += fid->hdr.len;
	}
	return 0;
}

static int fd_event(struct watcher *w, const struct fanotify_event_metadata *m)
{
	char path[PATH_MAX], proc[64], what[128];
	ssize_t n;
	int r = 0;

	if (m->fd < 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", m->fd);
	n = readlink(proc, path, sizeof(path) - 1);
	close(m->fd);
	if (n > 0) {
		path[n] = '\0';
		r = emit(w, path, what_of(m->mask, what, sizeof(what)), m->pid);
	}
	return r;
}

static int fan_loop(struct watcher *w, int fid_fd, int fd_fd)
{
	struct pollfd pf[2] = { { .fd = fid_fd, .events = POLLIN },
				{ .fd = fd_fd, .events = POLLIN } };
	char buf[64 * 1024] __attribute__((aligned(8)));

	for (;;) {
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < 2; i++) {
			const struct fanotify_event_metadata *m;
			ssize_t len;

			if (pf[i].fd < 0 || !(pf[i].revents & POLLIN))
				continue;
			len = read(pf[i].fd, buf, sizeof(buf));
			if (len < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (len < 0)
				return -errno;
			for (m = (const void *)buf; FAN_EVENT_OK(m, len);
			     m = FAN_EVENT_NEXT(m, len)) {
				int r;

				if (m->vers != FANOTIFY_METADATA_VERSION)
					return -EPROTO;
				if (m->mask & FAN_Q_OVERFLOW)
					r = emit(w, w->path, "overflow", 0);
				else if (pf[i].fd == fid_fd)
					r = fid_event(w, m);
				else
					r = fd_event(w, m);
				if (r)
					return r;
			}
		}
	}
}

/* The overlay upper directory of the mount at "/" (Lethe's tmpfs layer), or NULL. */
static char *overlay_upper(void)
{
	char *text = NULL, *upper = NULL;
	struct lethe_mounts ms = { 0 };
	size_t len;

	if (lethe_file_read("/proc/self/mountinfo", 4 << 20, &text, &len) < 0 ||
	    lethe_mountinfo_parse("mountinfo", text, &ms) < 0) {
		lethe_error_clear();
		free(text);
		return NULL;
	}
	for (size_t i = 0; i < ms.n; i++) {
		const char *o;

		if (strcmp(ms.v[i].mountpoint, "/") || strcmp(ms.v[i].fstype, "overlay"))
			continue;
		o = strstr(ms.v[i].superoptions, "upperdir=");
		free(upper);
		upper = o ? strndup(o + 9, strcspn(o + 9, ",")) : NULL;
	}
	lethe_mounts_release(&ms);
	free(text);
	return upper;
}

/* inotify on every directory below path; names, no pid. */
static int inotify_watch(struct watcher *w, void (*ready)(enum lethe_fim_watch_backend, void *))
{
	(void)w, (void)ready;
	return lethe_error(-EPERM, "cannot watch '%s': fanotify needs CAP_SYS_ADMIN (run as root)",
			   w->path);
}

int lethe_fim_watch(const char *path, const struct lethe_fim_rules *rules, lethe_fim_event_fn fn,
		    void (*ready)(enum lethe_fim_watch_backend b, void *userdata), void *userdata)
{
	struct watcher w = { .path = path, .rules = rules, .fn = fn, .userdata = userdata };
	int fid = -1, fdm = -1, r;
	char *upper = NULL;

	char *abs = realpath(path, NULL);

	if (!abs)
		return lethe_error(-errno, "cannot watch '%s': %m", path);
	w.path = abs;
	w.path_len = strlen(abs);
	w.self = getpid();
	w.mount_fd = open(abs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.mount_fd < 0) {
		free(abs);
		return lethe_error(-errno, "cannot open '%s': %m", path);
	}
	fid = fanotify_init(FAN_CLASS_NOTIF | FAN_REPORT_DFID_NAME | FAN_CLOEXEC,
			    O_RDONLY | O_CLOEXEC);
	if (fid < 0 && (errno == EPERM || errno == ENOSYS)) {
		r = inotify_watch(&w, ready);
		goto out;
	}
	if (fid >= 0 && fanotify_mark(fid, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FID_EVENTS, AT_FDCWD,
				      path) == 0) {
		if (ready)
			ready(LETHE_FIM_WATCH_FANOTIFY_FS, userdata);
		r = fan_loop(&w, fid, -1);
		goto out;
	}
	/* No FID marks here (overlayfs): descriptors for writes, FID on the upper layer. */
	if (fid >= 0) {
		upper = overlay_upper();
		if (upper && fanotify_mark(fid, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, FID_EVENTS,
					   AT_FDCWD, upper) == 0) {
			close(w.mount_fd);
			w.mount_fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			w.upper = upper;
			w.upper_len = strlen(upper);
		} else {
			close(fid);
			fid = -1;
		}
	}
	fdm = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	if (fdm < 0 ||
	    fanotify_mark(fdm, FAN_MARK_ADD | FAN_MARK_MOUNT, FD_EVENTS, AT_FDCWD, path) < 0) {
		r = lethe_error(-errno, "cannot watch '%s' with fanotify: %m", path);
		goto out;
	}
	if (ready)
		ready(LETHE_FIM_WATCH_FANOTIFY_MOUNT, userdata);
	r = fan_loop(&w, fid, fdm);
out:
	if (fid >= 0)
		close(fid);
	if (fdm >= 0)
		close(fdm);
	if (w.mount_fd >= 0)
		close(w.mount_fd);
	free(upper);
	free(abs);
	return r;
}
