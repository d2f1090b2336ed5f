/* The scanner of lethe fim: one thread walks the trees in sorted order with statx
 * relative to directory descriptors (never following a symbolic link, never crossing
 * into another file system), opens the regular files and queues them in a bounded
 * ring; worker threads hash them; the walking thread hands the finished items on in
 * ring order, so the stream is in path order whatever thread finished first, and
 * memory is bounded by the ring and the directories being walked. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fim-internal.h"

#define RING_SLOTS  1024u
#define READ_BUF    (256u * 1024u)
#define MAX_THREADS 64u

struct pipeline {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct fim_item *ring;
	uint64_t head, tail, next_job; /* sequence numbers; slot = seq % RING_SLOTS */
	bool stop;
	fim_emit_fn emit;
	void *userdata;
	struct lethe_fim_stats *stats;
	int err;
};

struct walker {
	const struct fim_scan *scan;
	const struct lethe_fim_scan_opts *opts;
	struct pipeline *pl;
	fim_want_fn want;
	void *userdata;
	struct lethe_buf rel; /* "./a/b" */
	dev_t root_dev; /* of the tree being walked: other file systems below are not entered */
};

static volatile sig_atomic_t cancelled;

void lethe_fim_cancel(void)
{
	cancelled = 1;
}

static void item_release(struct fim_item *it)
{
	lethe_fim_entry_release(&it->e);
	free(it->abspath);
	if (it->fd >= 0)
		close(it->fd);
	*it = (struct fim_item){ .fd = -1 };
}

/* ---- hashing (worker threads) ---- */

static int hex_value(struct lethe_buf *b, const unsigned char *v, size_t n)
{
	char hex[2 * 64 + 1];
	uint8_t md[LETHE_SHA256_BYTES];
	int r = 0;

	if (n > LETHE_FIM_MAX_XATTR) {
		r = lethe_sha256(v, n, md);
		if (r >= 0) {
			lethe_hex_encode(md, sizeof(md), hex);
			r = lethe_buf_printf(b, "sha256:%s", hex);
		}
		return r;
	}
	for (size_t i = 0; i < n && r >= 0; i += 64) {
		size_t k = n - i < 64 ? n - i : 64;

		lethe_hex_encode(v + i, k, hex);
		r = lethe_buf_append(b, hex, 2 * k);
	}
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "NAME=HEX,..." sorted, names encoded, from fd's extended attributes. */
static int read_xattrs(int fd, char **ret)
{
	char list[16384], *names[LETHE_FIM_MAX_XATTRS];
	unsigned char *val = NULL;
	struct lethe_buf b = { 0 };
	ssize_t len = flistxattr(fd, list, sizeof(list));
	size_t n = 0;
	int r = 0;

	if (len < 0)
		return errno == ENOTSUP ? 0 : -errno;
	for (char *p = list; p < list + len; p += strlen(p) + 1) {
		if (n == LETHE_FIM_MAX_XATTRS)
			return -E2BIG;
		names[n++] = p;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);
	val = malloc(65536);
	if (!val)
		return -ENOMEM;
	r = lethe_buf_puts(&b, "");
	for (size_t i = 0; i < n && r >= 0; i++) {
		ssize_t vl = fgetxattr(fd, names[i], val, 65536);

		if (vl < 0) {
			if (errno == ENODATA)
				continue;
			r = -errno;
			break;
		}
		if (b.len)
			r = lethe_buf_puts(&b, ",");
		if (r >= 0)
			r = lethe_fim_encode(&b, names[i], ",=");
		if (r >= 0)
			r = lethe_buf_puts(&b, "=");
		if (r >= 0)
			r = hex_value(&b, val, (size_t)vl);
	}
	free(val);
	if (r < 0) {
		lethe_buf_release(&b);
		return r;
	}
	*ret = b.data;
	return 0;
}

static const uint8_t zeros[64 * 1024];

/* Hash [*pos, end) of fd, or to its end of file; *pos moves on. 0 or -errno. */
static int hash_range(int fd, struct lethe_sha256 *h, char *buf, uint64_t *pos, uint64_t end,
		      bool *ret_eof)
{
	while (*pos < end) {
		size_t want = end - *pos < READ_BUF ? (size_t)(end - *pos) : READ_BUF;
		ssize_t n = pread(fd, buf, want, (off_t)*pos);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			*ret_eof = true;
			return 0;
		}
		lethe_sha256_update(h, buf, (size_t)n);
		*pos += (uint64_t)n;
	}
	return 0;
}

/* The sha256 of fd and the bytes it covered: the holes of a sparse file are hashed
 * from zeros, not read. */
static int hash_fd(int fd, const struct stat *st, char *buf, uint8_t md[32], uint64_t *ret_bytes)
{
	struct lethe_sha256 h;
	uint64_t pos = 0, size = (uint64_t)st->st_size;
	bool sparse = (uint64_t)st->st_blocks * 512u < size, eof = false;
	int r = lethe_sha256_init(&h);

	if (r < 0)
		return r;
	if (!sparse)
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	while (r >= 0 && sparse && pos < size && !eof) {
		off_t data = lseek(fd, (off_t)pos, SEEK_DATA), hole;

		if (data < 0 && errno != ENXIO) {
			sparse = false; /* no SEEK_DATA here: read the rest */
			break;
		}
		if (data < 0 || (uint64_t)data > size)
			data = (off_t)size;
		while (pos < (uint64_t)data) {
			size_t k = (uint64_t)data - pos < sizeof(zeros)
					   ? (size_t)((uint64_t)data - pos)
					   : sizeof(zeros);

			lethe_sha256_update(&h, zeros, k);
			pos += k;
		}
		if (pos >= size)
			break;
		hole = lseek(fd, (off_t)pos, SEEK_HOLE);
		r = hash_range(fd, &h, buf, &pos, hole < 0 ? UINT64_MAX : (uint64_t)hole, &eof);
	}
	if (r >= 0 && !sparse)
		r = hash_range(fd, &h, buf, &pos, UINT64_MAX, &eof);
	if (r < 0) {
		lethe_sha256_release(&h);
		return r;
	}
	*ret_bytes = pos;
	return lethe_sha256_final(&h, md);
}

static bool same_time(const struct statx_timestamp *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == (uint32_t)b->tv_nsec;
}

static void hash_item(struct fim_item *it, char *buf)
{
	struct stat before, after;
	uint64_t bytes = 0;
	int r;

	if (fstat(it->fd, &before) < 0) {
		it->note = LETHE_FIM_NOTE_UNREADABLE, it->err = -errno;
		goto out;
	}
	if (it->want & LETHE_FIM_SHA256) {
		r = hash_fd(it->fd, &before, buf, it->e.sha256, &bytes);
		if (r < 0) {
			it->note = LETHE_FIM_NOTE_UNREADABLE, it->err = r;
			goto out;
		}
		it->e.have |= LETHE_FIM_SHA256;
	}
	if (it->want & LETHE_FIM_XATTRS) {
		r = read_xattrs(it->fd, &it->e.xattrs);
		if (r < 0) {
			it->note = LETHE_FIM_NOTE_UNREADABLE, it->err = r;
			goto out;
		}
		it->e.have |= LETHE_FIM_XATTRS;
	}
	/* Any change to the inode moves its ctime: the walk's view, the open and the end
	 * of the read must agree, or what was read is not what the walk saw. */
	if (fstat(it->fd, &after) < 0 || !same_time(&it->sx.stx_ctime, &after.st_ctim) ||
	    after.st_size != before.st_size || (uint64_t)after.st_size != it->sx.stx_size ||
	    ((it->want & LETHE_FIM_SHA256) && bytes != (uint64_t)after.st_size))
		it->note = LETHE_FIM_NOTE_CHANGED;
out:
	close(it->fd);
	it->fd = -1;
}

static void *worker(void *arg)
{
	struct pipeline *pl = arg;
	char *buf = malloc(READ_BUF);

	pthread_mutex_lock(&pl->mu);
	for (;;) {
		struct fim_item *it;

		while (pl->next_job < pl->tail && pl->ring[pl->next_job % RING_SLOTS].done)
			pl->next_job++;
		if (pl->next_job == pl->tail) {
			if (pl->stop)
				break;
			pthread_cond_wait(&pl->work, &pl->mu);
			continue;
		}
		it = &pl->ring[pl->next_job++ % RING_SLOTS];
		pthread_mutex_unlock(&pl->mu);
		if (buf)
			hash_item(it, buf);
		else
			close(it->fd), it->fd = -1, it->note = LETHE_FIM_NOTE_UNREADABLE,
				       it->err = -ENOMEM;
		pthread_mutex_lock(&pl->mu);
		it->done = true;
		pthread_cond_broadcast(&pl->done);
	}
	pthread_mutex_unlock(&pl->mu);
	free(buf);
	return NULL;
}

/* ---- the ordered stream (walking thread) ---- */

static void count(struct pipeline *pl, const struct fim_item *it)
{
	struct lethe_fim_stats *st = pl->stats;

	st->entries++;
	if (it->e.type == LETHE_FIM_T_FILE && (it->e.have & LETHE_FIM_SHA256)) {
		st->files++;
		st->bytes += it->e.size;
	}
	if (it->note == LETHE_FIM_NOTE_UNREADABLE)
		st->unreadable++;
	else if (it->note == LETHE_FIM_NOTE_CHANGED)
		st->changed_during_scan++;
	else if (it->note == LETHE_FIM_NOTE_VANISHED)
		st->vanished++;
}

/* Hand on the finished items at the head; with all, wait for every item; else wait
 * only while the ring is full. */
static int drain(struct pipeline *pl, bool all)
{
	pthread_mutex_lock(&pl->mu);
	while (pl->head < pl->tail) {
		struct fim_item *it = &pl->ring[pl->head % RING_SLOTS];
		int r;

		if (!it->done) {
			if (!all && pl->tail - pl->head < RING_SLOTS)
				break;
			pthread_cond_wait(&pl->done, &pl->mu);
			continue;
		}
		pthread_mutex_unlock(&pl->mu);
		count(pl, it);
		r = pl->err < 0 ? 0 : pl->emit(it, pl->userdata);
		item_release(it);
		pthread_mutex_lock(&pl->mu);
		if (r < 0 && pl->err >= 0)
			pl->err = r;
		pl->head++;
	}
	pthread_mutex_unlock(&pl->mu);
	return pl->err;
}

/* Queue it (moved into the ring): to the workers when it has a file to read. */
static int push(struct pipeline *pl, struct fim_item *it)
{
	int r = drain(pl, false);
	struct fim_item *slot;

	if (r < 0) {
		item_release(it);
		return r;
	}
	slot = &pl->ring[pl->tail % RING_SLOTS];
	*slot = *it;
	slot->done = slot->fd < 0;
	*it = (struct fim_item){ .fd = -1 };
	pthread_mutex_lock(&pl->mu);
	pl->tail++;
	if (!slot->done)
		pthread_cond_signal(&pl->work);
	pthread_mutex_unlock(&pl->mu);
	return 0;
}

/* ---- walking ---- */

static void fill(struct fim_item *it, const struct statx *sx)
{
	struct lethe_fim_entry *e = &it->e;

	it->sx = *sx;
	e->type = lethe_fim_type_of(sx->stx_mode);
	e->mode = sx->stx_mode & 07777;
	e->uid = sx->stx_uid;
	e->gid = sx->stx_gid;
	e->size = sx->stx_size;
	e->nlink = sx->stx_nlink;
	e->mtime_sec = sx->stx_mtime.tv_sec;
	e->mtime_nsec = sx->stx_mtime.tv_nsec;
	e->dev_major = sx->stx_rdev_major;
	e->dev_minor = sx->stx_rdev_minor;
	e->have = LETHE_FIM_TYPE | LETHE_FIM_MODE | LETHE_FIM_UID | LETHE_FIM_GID | LETHE_FIM_MTIME;
	if (e->type == LETHE_FIM_T_FILE)
		e->have |= LETHE_FIM_SIZE;
	if (e->type != LETHE_FIM_T_DIR)
		e->have |= LETHE_FIM_NLINK;
}

static int open_file(int dfd, const char *name)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	int fd = openat(dfd, name, flags | O_NOATIME);

	if (fd < 0 && errno == EPERM) /* O_NOATIME needs the owner or CAP_FOWNER */
		fd = openat(dfd, name, flags);
	return fd < 0 ? -errno : fd;
}

static int walk_dir(struct walker *w, int dfd, unsigned depth, bool partial);

/* The entry name in dfd, whose path w->rel already is; sub receives the directory's
 * descriptor to descend into (or -1). */
static int visit(struct walker *w, int dfd, const char *name, bool partial, int *ret_sub)
{
	struct fim_item it = { .fd = -1 };
	struct statx sx;
	unsigned rule_attrs;
	int r, sub = -1;

	*ret_sub = -1;
	if (cancelled)
		return lethe_error(-ECANCELED, "scan interrupted");
	it.abspath = fim_abspath(w->scan, w->rel.data);
	if (!it.abspath)
		return -ENOMEM;
	if (name && lethe_fim_rules_excluded(w->opts->rules, it.abspath)) {
		free(it.abspath);
		return 0;
	}
	if (statx(dfd, name ? name : "",
		  (name ? 0 : AT_EMPTY_PATH) | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
		  STATX_BASIC_STATS, &sx) < 0) {
		r = -errno;
		free(it.abspath);
		if (r == -ENOENT) { /* listed, then gone: it is simply not there */
			w->pl->stats->vanished++;
			return 0;
		}
		return lethe_error(r, "cannot stat '%s': %s", it.abspath, strerror(-r));
	}
	it.e.path = strdup(w->rel.data);
	if (!it.e.path) {
		item_release(&it);
		return -ENOMEM;
	}
	fill(&it, &sx);
	rule_attrs = partial ? LETHE_FIM_TYPE : lethe_fim_rules_attrs(w->opts->rules, it.abspath);
	it.want = w->want ? w->want(it.e.path, rule_attrs, w->userdata) : rule_attrs;
	if (it.e.type == LETHE_FIM_T_LINK && (it.want & LETHE_FIM_LINK)) {
		char target[LETHE_FIM_MAX_PATH + 1];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target));

		if (n < 0 || (size_t)n >= sizeof(target)) {
			it.note = n < 0 && errno == ENOENT ? LETHE_FIM_NOTE_VANISHED
							   : LETHE_FIM_NOTE_UNREADABLE;
			it.err = n < 0 ? -errno : -ENAMETOOLONG;
		} else {
			target[n] = '\0';
			it.e.link = strdup(target);
			if (!it.e.link) {
				item_release(&it);
				return -ENOMEM;
			}
			it.e.have |= LETHE_FIM_LINK;
		}
	} else if (it.e.type == LETHE_FIM_T_FILE &&
		   (it.want & (LETHE_FIM_SHA256 | LETHE_FIM_XATTRS))) {
		struct stat st;

		it.fd = open_file(dfd, name);
		if (it.fd < 0) {
			it.note = it.fd == -ENOENT ? LETHE_FIM_NOTE_VANISHED
						   : LETHE_FIM_NOTE_UNREADABLE;
			it.err = it.fd;
			it.fd = -1;
		} else if (fstat(it.fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			   st.st_ino != sx.stx_ino) {
			/* replaced between the walk's statx and the open */
			it.note = LETHE_FIM_NOTE_CHANGED;
			close(it.fd);
			it.fd = -1;
		} else if (w->opts->after_open) {
			w->opts->after_open(it.abspath, w->opts->userdata);
		}
	} else if (it.e.type == LETHE_FIM_T_DIR) {
		sub = name ? openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			   : fcntl(dfd, F_DUPFD_CLOEXEC, 3);
		if (sub < 0) {
			it.note = errno == ENOENT ? LETHE_FIM_NOTE_VANISHED
						  : LETHE_FIM_NOTE_UNREADABLE;
			it.err = -errno;
		} else if (!partial && makedev(sx.stx_dev_major, sx.stx_dev_minor) != w->root_dev) {
			it.note = LETHE_FIM_NOTE_OTHER_FS;
			close(sub);
			sub = -1;
		} else if (it.want & LETHE_FIM_XATTRS) {
			r = read_xattrs(sub, &it.e.xattrs);
			if (r < 0)
				it.note = LETHE_FIM_NOTE_UNREADABLE, it.err = r;
			else
				it.e.have |= LETHE_FIM_XATTRS;
		}
		if (sub >= 0 && (it.want & FIM_WANT_NODESCEND)) {
			close(sub);
			sub = -1;
		}
	}
	r = push(w->pl, &it);
	if (r < 0) {
		if (sub >= 0)
			close(sub);
		return r;
	}
	*ret_sub = sub;
	return 0;
}

/* In a partial directory (an ancestor of the trees asked for), the next components of
 * the start paths below it. */
static int start_children(struct walker *w, struct lethe_strv *names)
{
	size_t n = w->rel.len;
	int r = 0;

	for (size_t i = 0; i < w->scan->starts.n && r >= 0; i++) {
		const char *s = w->scan->starts.v[i];
		char comp[NAME_MAX + 1];
		size_t k;

		if (strncmp(s, w->rel.data, n) || s[n] != '/')
			continue;
		k = strcspn(s + n + 1, "/");
		if (k > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp, s + n + 1, k);
		comp[k] = '\0';
		if (!lethe_strv_contains(names, comp))
			r = lethe_strv_push(names, comp);
	}
	if (r >= 0)
		lethe_strv_sort(names);
	return r;
}

/* A tree asked for is scanned on whatever file system it is (/tmp a tmpfs, say); below
 * it no other file system is entered. Its ancestors are only passed through. */
static void tree_device(struct walker *w, int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		w->root_dev = st.st_dev;
}

static int walk_dir(struct walker *w, int dfd, unsigned depth, bool partial)
{
	struct lethe_strv names = { 0 };
	int r;

	if (depth >= LETHE_FIM_MAX_DEPTH)
		return lethe_error(-ELOOP, "'%s': deeper than %u levels", w->rel.data,
				   LETHE_FIM_MAX_DEPTH);
	r = partial ? start_children(w, &names)
		    : lethe_dir_names(dfd, LETHE_FIM_MAX_ENTRIES, &names);
	if (r < 0) {
		char *abs = fim_abspath(w->scan, w->rel.data);

		r = lethe_error(r, "cannot list '%s': %s", abs ? abs : w->rel.data, strerror(-r));
		free(abs);
		goto out;
	}
	for (size_t i = 0; i < names.n && r >= 0; i++) {
		size_t saved = w->rel.len;
		bool child_partial = false;
		int sub;

		r = lethe_buf_printf(&w->rel, "/%s", names.v[i]);
		if (r < 0)
			break;
		if (partial)
			child_partial = !lethe_strv_contains(&w->scan->starts, w->rel.data);
		if (partial && !child_partial)
			tree_device(w, dfd, names.v[i]);
		r = visit(w, dfd, names.v[i], child_partial, &sub);
		if (r >= 0 && sub >= 0) {
			r = walk_dir(w, sub, depth + 1, child_partial);
			close(sub);
		}
		w->rel.len = saved;
		w->rel.data[saved] = '\0';
	}
out:
	lethe_strv_release(&names);
	return r;
}

int fim_scan_run(const struct fim_scan *s, const struct lethe_fim_scan_opts *opts, fim_want_fn want,
		 fim_emit_fn emit, void *userdata, struct lethe_fim_stats *stats)
{
	static const struct lethe_fim_scan_opts no_opts;
	struct pipeline pl = { .emit = emit, .userdata = userdata, .stats = stats };
	struct walker w = { .scan = s,
			    .opts = opts ? opts : &no_opts,
			    .pl = &pl,
			    .want = want,
			    .userdata = userdata };
	pthread_t threads[MAX_THREADS];
	unsigned n = w.opts->threads;
	unsigned started = 0;
	struct stat st;
	int root, sub = -1, r;

	*stats = (struct lethe_fim_stats){ 0 };
	if (!n) {
		long c = sysconf(_SC_NPROCESSORS_ONLN);

		n = c > 0 ? (unsigned)c : 1;
	}
	if (n > MAX_THREADS)
		n = MAX_THREADS;
	root = open(s->root_abs[0] ? s->root_abs : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return lethe_error(-errno, "cannot open '%s': %m",
				   s->root_abs[0] ? s->root_abs : "/");
	if (fstat(root, &st) < 0) {
		r = -errno;
		close(root);
		return r;
	}
	w.root_dev = st.st_dev;
	pl.ring = calloc(RING_SLOTS, sizeof(*pl.ring));
	if (!pl.ring) {
		close(root);
		return -ENOMEM;
	}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.work, NULL);
	pthread_cond_init(&pl.done, NULL);
	for (; started < n; started++)
		if (pthread_create(&threads[started], NULL, worker, &pl) != 0)
			break;
	r = started ? lethe_buf_puts(&w.rel, ".") : -EAGAIN;
	if (r >= 0)
		r = visit(&w, root, NULL, s->starts.n > 0, &sub);
	if (r >= 0 && sub >= 0)
		r = walk_dir(&w, sub, 0, s->starts.n > 0);
	if (sub >= 0)
		close(sub);
	{
		int q = drain(&pl, true);

		if (r >= 0)
			r = q;
	}
	pthread_mutex_lock(&pl.mu);
	pl.stop = true;
	pthread_cond_broadcast(&pl.work);
	pthread_mutex_unlock(&pl.mu);
	for (unsigned i = 0; i < started; i++)
		pthread_join(threads[i], NULL);
	/* after an error, the items still queued */
	for (uint64_t q = pl.head; q < pl.tail; q++)
		item_release(&pl.ring[q % RING_SLOTS]);
	pthread_cond_destroy(&pl.work);
	pthread_cond_destroy(&pl.done);
	pthread_mutex_destroy(&pl.mu);
	free(pl.ring);
	lethe_buf_release(&w.rel);
	close(root);
	return r;
}

/* ---- the trees of a scan ---- */

void fim_scan_release(struct fim_scan *s)
{
	free(s->root_abs);
	lethe_strv_release(&s->starts);
	*s = (struct fim_scan){ 0 };
}

char *fim_abspath(const struct fim_scan *s, const char *path)
{
	struct lethe_buf b = { 0 };

	if (lethe_buf_puts(&b, s->root_abs) < 0 ||
	    lethe_buf_puts(&b, !strcmp(path, ".") ? (s->root_abs[0] ? "" : "/") : path + 1) < 0) {
		lethe_buf_release(&b);
		return NULL;
	}
	return b.data;
}

bool fim_scan_covers(const struct fim_scan *s, const char *path)
{
	if (!s->starts.n || !strcmp(path, "."))
		return true;
	for (size_t i = 0; i < s->starts.n; i++) {
		const char *t = s->starts.v[i];
		size_t n = strlen(t), k = strlen(path);

		if (!strncmp(path, t, n) && (path[n] == '\0' || path[n] == '/'))
			return true; /* in a tree */
		if (k < n && !strncmp(t, path, k) && t[k] == '/')
			return true; /* an ancestor */
	}
	return false;
}

/* An absolute path, lexically: no empty, "." or ".." components; trailing '/' dropped. */
static int normalize(const char *in, struct lethe_buf *out)
{
	char cwd[PATH_MAX];
	int r = 0;

	out->len = 0;
	if (in[0] != '/') {
		if (!getcwd(cwd, sizeof(cwd)))
			return -errno;
		r = lethe_buf_puts(out, strcmp(cwd, "/") ? cwd : "");
	}
	for (const char *c = in; *c && r >= 0;) {
		size_t n;

		c += strspn(c, "/");
		n = strcspn(c, "/");
		if (!n)
			break;
		if ((n == 1 && c[0] == '.'))
			;
		else if (n == 2 && c[0] == '.' && c[1] == '.')
			return -EINVAL;
		else
			r = lethe_buf_printf(out, "/%.*s", (int)n, c);
		c += n;
	}
	if (r >= 0 && !out->data)
		r = lethe_buf_puts(out, "");
	return r;
}

int fim_scan_prepare(const char *const *paths, size_t n_paths, struct fim_scan *ret)
{
	struct fim_scan s = { 0 };
	struct lethe_buf b = { 0 };
	int r = 0;

	if (!n_paths)
		return lethe_error(-EINVAL, "no tree to scan");
	for (size_t i = 0; i < n_paths && r >= 0; i++) {
		if (n_paths > 1 && paths[i][0] != '/') {
			r = lethe_error(-EINVAL, "'%s': with several trees, each must be absolute",
					paths[i]);
			break;
		}
		r = normalize(paths[i], &b);
		if (r < 0) {
			r = lethe_error(r, "'%s': '..' is not allowed in a tree's path", paths[i]);
			break;
		}
		if (n_paths == 1) {
			s.root_abs = strdup(b.data);
			r = s.root_abs ? 0 : -ENOMEM;
		} else if (!b.len) {
			/* "/" among others: the whole root */
			lethe_strv_release(&s.starts);
			break;
		} else {
			struct lethe_buf rel = { 0 };

			r = lethe_buf_printf(&rel, ".%s", b.data);
			if (r >= 0 && !lethe_strv_contains(&s.starts, rel.data))
				r = lethe_strv_push(&s.starts, rel.data);
			lethe_buf_release(&rel);
		}
	}
	lethe_buf_release(&b);
	if (r >= 0 && !s.root_abs) {
		s.root_abs = strdup("");
		r = s.root_abs ? 0 : -ENOMEM;
	}
	/* A tree inside another is already scanned with it. */
	for (size_t i = 0; r >= 0 && i < s.starts.n; i++)
		for (size_t j = 0; j < s.starts.n; j++) {
			size_t n = strlen(s.starts.v[j]);

			if (i != j && !strncmp(s.starts.v[i], s.starts.v[j], n) &&
			    s.starts.v[i][n] == '/') {
				free(s.starts.v[i]);
				s.starts.v[i] = s.starts.v[--s.starts.n];
				s.starts.v[s.starts.n] = NULL;
				i--;
				break;
			}
		}
	if (r < 0) {
		fim_scan_release(&s);
		return r;
	}
	*ret = s;
	return 0;
}
