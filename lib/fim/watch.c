/* lethe fim watch: changes reported as they happen. fanotify with a filesystem mark in
 * FID mode where the file system supports it (creates, deletes, renames, writes and
 * attribute changes, with names and the writer's pid); else a mount mark, whose events
 * carry an open descriptor (content writes with the path and pid, but no create,
 * delete or rename), joined on a Lethe system by a FID mark on the overlay's upper
 * tmpfs, which names creates, deletes and renames; inotify when fanotify is not
 * allowed (no CAP_SYS_ADMIN): every directory watched, names but no pid. */
#include <dirent.h>
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

/* inotify: one watch per directory, the directories' paths by watch descriptor. */
struct inotify_dirs {
	char **path; /* indexed by watch descriptor */
	size_t cap;
	size_t n;
};

#define INOTIFY_EVENTS                                                                             \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE |        \
	 IN_ATTRIB | IN_DELETE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)
#define INOTIFY_MAX_DIRS 65536u

static int inotify_add(int in, struct inotify_dirs *d, const char *path, unsigned depth)
{
	int wd, r = 0;
	DIR *dir;
	struct dirent *de;

	if (depth > LETHE_FIM_MAX_DEPTH || d->n >= INOTIFY_MAX_DIRS)
		return 0;
	wd = inotify_add_watch(in, path, INOTIFY_EVENTS);
	if (wd < 0)
		return errno == ENOSPC ? -ENOSPC : 0; /* gone, or not a directory */
	if ((size_t)wd >= d->cap) {
		size_t cap = (size_t)wd * 2 + 16;
		char **v = reallocarray(d->path, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		memset(v + d->cap, 0, (cap - d->cap) * sizeof(*v));
		d->path = v, d->cap = cap;
	}
	free(d->path[wd]);
	d->path[wd] = strdup(path);
	if (!d->path[wd])
		return -ENOMEM;
	d->n++;
	dir = opendir(path);
	if (!dir)
		return 0;
	while (r >= 0 && (de = readdir(dir))) {
		char *sub;

		if (de->d_type != DT_DIR || !strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sub = lethe_path_join(path, de->d_name);
		r = sub ? inotify_add(in, d, sub, depth + 1) : -ENOMEM;
		free(sub);
	}
	closedir(dir);
	return r;
}

static const char *inotify_what(uint32_t mask)
{
	if (mask & IN_CREATE)
		return "create";
	if (mask & (IN_DELETE | IN_DELETE_SELF))
		return "delete";
	if (mask & IN_MOVED_FROM)
		return "move-from";
	if (mask & IN_MOVED_TO)
		return "move-to";
	if (mask & IN_CLOSE_WRITE)
		return "close-write";
	if (mask & IN_MODIFY)
		return "modify";
	return "attrib";
}

/* inotify on every directory below path; names, no pid. */
static int inotify_watch(struct watcher *w, void (*ready)(enum lethe_fim_watch_backend, void *))
{
	struct inotify_dirs d = { 0 };
	char buf[64 * 1024] __attribute__((aligned(8)));
	int in = inotify_init1(IN_CLOEXEC), r;

	if (in < 0)
		return lethe_error(-errno, "cannot watch '%s': inotify: %m", w->path);
	r = inotify_add(in, &d, w->path, 0);
	if (r < 0) {
		r = lethe_error(r, "cannot watch '%s': %s", w->path,
				r == -ENOSPC
					? "too many directories for fs.inotify.max_user_watches"
					: strerror(-r));
		goto out;
	}
	if (ready)
		ready(LETHE_FIM_WATCH_INOTIFY, w->userdata);
	while (r == 0) {
		ssize_t len = read(in, buf, sizeof(buf));

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0) {
			r = -errno;
			break;
		}
		for (char *p = buf; r == 0 && p < buf + len;) {
			const struct inotify_event *ev = (const void *)p;
			const char *dir =
				ev->wd >= 0 && (size_t)ev->wd < d.cap ? d.path[ev->wd] : NULL;
			char path[PATH_MAX + NAME_MAX + 2];

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				r = emit(w, w->path, "overflow", 0);
				continue;
			}
			if (!dir)
				continue;
			snprintf(path, sizeof(path), "%s%s%s", dir, ev->len ? "/" : "",
				 ev->len ? ev->name : "");
			r = emit(w, path, inotify_what(ev->mask), 0);
			/* a directory made later is watched as it is seen */
			if (r == 0 && (ev->mask & (IN_CREATE | IN_MOVED_TO)) &&
			    (ev->mask & IN_ISDIR))
				r = inotify_add(in, &d, path, 0) == -ENOMEM ? -ENOMEM : 0;
		}
	}
out:
	for (size_t i = 0; i < d.cap; i++)
		free(d.path[i]);
	free(d.path);
	close(in);
	return r;
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
	if (fid >= 0 && errno == EPERM) { /* unprivileged fanotify: no filesystem marks */
		r = inotify_watch(&w, ready);
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
		r = errno == EPERM
			    ? inotify_watch(&w, ready)
			    : lethe_error(-errno, "cannot watch '%s' with fanotify: %m", path);
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
