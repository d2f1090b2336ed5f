/* lethe fim init and check: a scan streamed into an mtree baseline, or merged with one
 * in path order into added, removed and changed entries. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lethe/contract.h>
#include <lethe/core.h>

#include "fim-internal.h"

#define FLUSH_AT (1u << 20)

/* ---- init ---- */

struct writer {
	struct lethe_atomic_file f;
	struct lethe_buf out;
	lethe_fim_note_fn note;
	void *userdata;
};

static int writer_flush(struct writer *w)
{
	int r = lethe_write_full(w->f.fd, w->out.data, w->out.len);

	w->out.len = 0;
	if (w->out.data)
		w->out.data[0] = '\0';
	return r;
}

static void note_item(const struct fim_item *it, lethe_fim_note_fn fn, void *userdata)
{
	struct lethe_buf p = { 0 };

	if (!fn || it->note == LETHE_FIM_NOTE_NONE)
		return;
	if (lethe_fim_encode(&p, it->e.path, "") >= 0)
		fn(it->note, p.data, it->err, userdata);
	lethe_buf_release(&p);
}

static int write_item(struct fim_item *it, void *userdata)
{
	struct writer *w = userdata;
	int r;

	note_item(it, w->note, w->userdata);
	if (it->note == LETHE_FIM_NOTE_VANISHED)
		return 0;
	r = lethe_fim_entry_format(&it->e, it->want, &w->out);
	if (r >= 0 && w->out.len >= FLUSH_AT)
		r = writer_flush(w);
	return r;
}

int lethe_fim_baseline_write(const char *const *paths, size_t n_paths,
			     const struct lethe_fim_scan_opts *opts, const char *out_path,
			     lethe_fim_note_fn note, void *userdata,
			     struct lethe_fim_stats *ret_stats)
{
	struct writer w = { .note = note, .userdata = userdata };
	struct lethe_fim_stats stats;
	struct fim_scan s;
	int r = fim_scan_prepare(paths, n_paths, &s);

	if (r < 0)
		return r;
	r = lethe_atomic_open(&w.f, out_path, 0644);
	if (r < 0) {
		fim_scan_release(&s);
		return lethe_error(r, "cannot write '%s': %s", out_path, strerror(-r));
	}
	r = lethe_buf_printf(&w.out, "#mtree\n# lethe fim baseline of %s\n",
			     s.root_abs[0] ? s.root_abs : "/");
	if (r >= 0)
		r = fim_scan_run(&s, opts, NULL, write_item, &w, &stats);
	if (r >= 0)
		r = writer_flush(&w);
	if (r >= 0)
		r = lethe_atomic_commit(&w.f);
	else
		lethe_atomic_abort(&w.f);
	lethe_buf_release(&w.out);
	fim_scan_release(&s);
	if (r < 0)
		return lethe_error_message_for(r)
			       ? r
			       : lethe_error(r, "cannot write '%s': %s", out_path, strerror(-r));
	if (ret_stats)
		*ret_stats = stats;
	return 0;
}

/* ---- check ---- */

const char *lethe_fim_drift_kind_name(enum lethe_fim_drift_kind k)
{
	static const char *const names[] = {
		[LETHE_FIM_ADDED] = "added",
		[LETHE_FIM_REMOVED] = "removed",
		[LETHE_FIM_CHANGED] = "changed",
		[LETHE_FIM_CHANGED_DURING_SCAN] = "changed-during-scan",
		[LETHE_FIM_UNREADABLE] = "unreadable",
	};

	return (unsigned)k < LETHE_ARRAY_SIZE(names) ? names[k] : "?";
}

struct checker {
	const struct lethe_fim_manifest *base;
	const struct fim_scan *scan;
	const struct lethe_fim_rules *rules;
	size_t cursor;
	char *skip; /* baseline entries below this path are not compared */
	lethe_fim_drift_fn fn;
	void *userdata;
	int drifts;
	int upper_fd; /* overlay_upper, or -1 */
};

static void report(struct checker *c, enum lethe_fim_drift_kind kind, const char *path,
		   enum lethe_fim_type type, const struct lethe_fim_change *ch, size_t n)
{
	struct lethe_buf p = { 0 };
	struct lethe_fim_drift d = {
		.kind = kind, .type = lethe_fim_type_name(type), .changes = ch, .n_changes = n
	};

	c->drifts++;
	if (lethe_fim_encode(&p, path, "") < 0)
		return;
	d.path = p.data;
	if (c->fn)
		c->fn(&d, c->userdata);
	lethe_buf_release(&p);
}

static bool below(const char *path, const char *dir)
{
	size_t n;

	if (!dir)
		return false;
	n = strlen(dir);
	return !strcmp(dir, ".") ? strcmp(path, ".") != 0
				 : !strncmp(path, dir, n) && path[n] == '/';
}

/* Whether the baseline entry b is out of the comparison: excluded, optional, below an
 * excluded or "ignore" directory, or outside the trees scanned. */
static bool skipped(struct checker *c, const struct lethe_fim_entry *b)
{
	char *abs;
	bool ex;

	if (c->skip && below(b->path, c->skip))
		return true;
	free(c->skip);
	c->skip = NULL;
	if (!fim_scan_covers(c->scan, b->path))
		return true;
	abs = fim_abspath(c->scan, b->path);
	ex = abs && strcmp(b->path, ".") && lethe_fim_rules_excluded(c->rules, abs);
	free(abs);
	if ((ex || b->ignore) && b->type == LETHE_FIM_T_DIR)
		c->skip = strdup(b->path);
	return ex;
}

/* Baseline entries before path that the tree does not have. */
static void removed_before(struct checker *c, const char *path)
{
	while (c->cursor < c->base->n &&
	       (!path || lethe_fim_path_cmp(c->base->v[c->cursor].path, path) < 0)) {
		const struct lethe_fim_entry *b = &c->base->v[c->cursor++];

		if (!skipped(c, b) && !b->optional)
			report(c, LETHE_FIM_REMOVED, b->path, b->type, NULL, 0);
	}
}

static unsigned want_for(const char *path, unsigned rule_attrs, void *userdata)
{
	struct checker *c = userdata;
	const struct lethe_fim_entry *b = lethe_fim_manifest_find(c->base, path);

	unsigned want;
	struct stat st;

	if (!b)
		return LETHE_FIM_TYPE; /* new: reported as added, nothing to read */
	want = (b->have & rule_attrs) | (b->ignore ? FIM_WANT_NODESCEND : 0);
	/* Not in the overlay's upper layer: the verified image's own bytes. */
	if (c->upper_fd >= 0 && b->type == LETHE_FIM_T_FILE && strcmp(path, ".") &&
	    fstatat(c->upper_fd, path + 2, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		want &= ~LETHE_FIM_SHA256;
	return want;
}

/* The text of one attribute of e, for a change's old and new. */
static int attr_text(const struct lethe_fim_entry *e, unsigned attr, struct lethe_buf *b)
{
	char hex[65];

	switch (attr) {
	case LETHE_FIM_TYPE:
		if (e->type == LETHE_FIM_T_CHAR || e->type == LETHE_FIM_T_BLOCK)
			return lethe_buf_printf(b, "%s %u,%u", lethe_fim_type_name(e->type),
						(unsigned)e->dev_major, (unsigned)e->dev_minor);
		return lethe_buf_puts(b, lethe_fim_type_name(e->type));
	case LETHE_FIM_MODE:
		return lethe_buf_printf(b, "%04o", (unsigned)e->mode);
	case LETHE_FIM_UID:
		return lethe_buf_printf(b, "%u", (unsigned)e->uid);
	case LETHE_FIM_GID:
		return lethe_buf_printf(b, "%u", (unsigned)e->gid);
	case LETHE_FIM_SIZE:
		return lethe_buf_printf(b, "%" PRIu64, e->size);
	case LETHE_FIM_NLINK:
		return lethe_buf_printf(b, "%" PRIu64, e->nlink);
	case LETHE_FIM_MTIME:
		return lethe_buf_printf(b, "%" PRId64 ".%09u", e->mtime_sec,
					(unsigned)e->mtime_nsec);
	case LETHE_FIM_LINK:
		return e->link ? lethe_fim_encode(b, e->link, "") : lethe_buf_puts(b, "(none)");
	case LETHE_FIM_SHA256:
		lethe_hex_encode(e->sha256, sizeof(e->sha256), hex);
		return lethe_buf_puts(b, hex);
	case LETHE_FIM_XATTRS:
		return lethe_buf_puts(b, e->xattrs && *e->xattrs ? e->xattrs : "(none)");
	}
	return -EINVAL;
}

static bool attr_differs(const struct lethe_fim_entry *b, const struct lethe_fim_entry *t,
			 unsigned attr)
{
	switch (attr) {
	case LETHE_FIM_TYPE:
		return b->type != t->type ||
		       ((b->type == LETHE_FIM_T_CHAR || b->type == LETHE_FIM_T_BLOCK) &&
			(b->dev_major != t->dev_major || b->dev_minor != t->dev_minor));
	case LETHE_FIM_MODE:
		return b->mode != t->mode;
	case LETHE_FIM_UID:
		return b->uid != t->uid;
	case LETHE_FIM_GID:
		return b->gid != t->gid;
	case LETHE_FIM_SIZE:
		return b->size != t->size;
	case LETHE_FIM_NLINK:
		return b->nlink != t->nlink;
	case LETHE_FIM_MTIME:
		return b->mtime_sec != t->mtime_sec || b->mtime_nsec != t->mtime_nsec;
	case LETHE_FIM_LINK:
		return strcmp(b->link ? b->link : "", t->link ? t->link : "") != 0;
	case LETHE_FIM_SHA256:
		return memcmp(b->sha256, t->sha256, sizeof(b->sha256)) != 0;
	case LETHE_FIM_XATTRS:
		return strcmp(b->xattrs ? b->xattrs : "", t->xattrs ? t->xattrs : "") != 0;
	}
	return false;
}

static int compare(struct checker *c, const struct lethe_fim_entry *b, struct fim_item *it)
{
	static const unsigned order[] = { LETHE_FIM_TYPE,  LETHE_FIM_MODE,   LETHE_FIM_UID,
					  LETHE_FIM_GID,   LETHE_FIM_SIZE,   LETHE_FIM_NLINK,
					  LETHE_FIM_LINK,  LETHE_FIM_SHA256, LETHE_FIM_MTIME,
					  LETHE_FIM_XATTRS };
	struct lethe_fim_change ch[LETHE_ARRAY_SIZE(order)];
	struct lethe_buf text[2 * LETHE_ARRAY_SIZE(order)] = { 0 };
	unsigned count = it->want & b->have & it->e.have;
	size_t n = 0;
	int r = 0;

	if (it->note == LETHE_FIM_NOTE_VANISHED) {
		report(c, LETHE_FIM_REMOVED, b->path, b->type, NULL, 0);
		return 0;
	}
	/* A type change says it all: the other attributes of another kind of entry. */
	if (b->type != it->e.type)
		count = LETHE_FIM_TYPE;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(order) && r >= 0; i++) {
		if (!(count & order[i]) || !attr_differs(b, &it->e, order[i]))
			continue;
		r = attr_text(b, order[i], &text[2 * n]);
		if (r >= 0)
			r = attr_text(&it->e, order[i], &text[2 * n + 1]);
		ch[n].attr = order[i];
		ch[n].old = text[2 * n].data;
		ch[n].new_ = text[2 * n + 1].data;
		n++;
	}
	if (r >= 0) {
		if (it->note == LETHE_FIM_NOTE_CHANGED && b->type == it->e.type)
			report(c, LETHE_FIM_CHANGED_DURING_SCAN, b->path, it->e.type, ch, n);
		else if (it->note == LETHE_FIM_NOTE_UNREADABLE && b->type == it->e.type &&
			 (b->have & it->want & (LETHE_FIM_SHA256 | LETHE_FIM_XATTRS)))
			report(c, LETHE_FIM_UNREADABLE, b->path, it->e.type, ch, n);
		else if (n)
			report(c, LETHE_FIM_CHANGED, b->path, it->e.type, ch, n);
	}
	for (size_t i = 0; i < 2 * n; i++)
		lethe_buf_release(&text[i]);
	return r;
}

static int check_item(struct fim_item *it, void *userdata)
{
	struct checker *c = userdata;
	const struct lethe_fim_entry *b;

	removed_before(c, it->e.path);
	if (c->cursor < c->base->n && !lethe_fim_path_cmp(c->base->v[c->cursor].path, it->e.path)) {
		b = &c->base->v[c->cursor++];
		if (skipped(c, b))
			return 0;
		return compare(c, b, it);
	}
	if (c->skip && below(it->e.path, c->skip))
		return 0;
	if (it->note != LETHE_FIM_NOTE_VANISHED)
		report(c, LETHE_FIM_ADDED, it->e.path, it->e.type, NULL, 0);
	return 0;
}

int lethe_fim_check(const struct lethe_fim_manifest *baseline, const char *const *paths,
		    size_t n_paths, const struct lethe_fim_scan_opts *opts, lethe_fim_drift_fn fn,
		    void *userdata, struct lethe_fim_stats *ret_stats)
{
	struct checker c = { .base = baseline,
			     .rules = opts ? opts->rules : NULL,
			     .fn = fn,
			     .userdata = userdata,
			     .upper_fd = -1 };
	struct lethe_fim_stats stats;
	struct fim_scan s;
	int r = fim_scan_prepare(paths, n_paths, &s);

	if (r < 0)
		return r;
	c.scan = &s;
	if (opts && opts->overlay_upper)
		c.upper_fd = open(opts->overlay_upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	r = fim_scan_run(&s, opts, want_for, check_item, &c, &stats);
	if (c.upper_fd >= 0)
		close(c.upper_fd);
	if (r >= 0)
		removed_before(&c, NULL);
	free(c.skip);
	fim_scan_release(&s);
	if (r < 0)
		return r;
	if (ret_stats)
		*ret_stats = stats;
	return c.drifts;
}

/* ---- the image's own manifest ---- */

int lethe_fim_image_manifest(const char *root, struct lethe_fim_manifest *ret, char **ret_where,
			     char **ret_upper)
{
	char *mi_path = lethe_path_join(root, "proc/self/mountinfo"), *text = NULL, *where = NULL,
	     *upper = NULL;
	struct lethe_mounts mounts = { 0 };
	const struct lethe_mount *rootm = NULL;
	size_t len;
	int r;

	if (!mi_path)
		return -ENOMEM;
	r = lethe_file_read(mi_path, 4 << 20, &text, &len);
	free(mi_path);
	if (r >= 0)
		r = lethe_mountinfo_parse("mountinfo", text, &mounts);
	free(text);
	text = NULL;
	lethe_error_clear();
	if (r >= 0)
		for (size_t i = 0; i < mounts.n; i++)
			if (!strcmp(mounts.v[i].mountpoint, "/"))
				rootm = &mounts.v[i];
	if (rootm && !strcmp(rootm->fstype, "overlay")) {
		/* The lower layer is the verity-backed image; the upper is the session's. */
		const char *opt = strstr(rootm->superoptions, "lowerdir=");
		size_t n = opt ? strcspn(opt + 9, ":,") : 0;
		struct lethe_buf b = { 0 };

		if (!opt || !n) {
			lethe_mounts_release(&mounts);
			return lethe_error(-ENOENT, "/ is an overlay without a lowerdir");
		}
		/* root + lowerdir, one '/' between: the lower layer's /usr/... on a live system */
		r = lethe_buf_printf(&b, "%s%.*s%s", strcmp(root, "/") ? root : "", (int)n, opt + 9,
				     LETHE_PATH_MANIFEST);
		where = b.data;
		opt = strstr(rootm->superoptions, "upperdir=");
		if (r >= 0 && opt && ret_upper) {
			struct lethe_buf u = { 0 };
			struct stat st;

			n = strcspn(opt + 9, ",");
			if (lethe_buf_printf(&u, "%s%.*s", strcmp(root, "/") ? root : "", (int)n,
					     opt + 9) >= 0 &&
			    stat(u.data, &st) == 0 && S_ISDIR(st.st_mode))
				upper = u.data;
			else
				lethe_buf_release(&u);
		}
	} else {
		where = lethe_path_join(root, LETHE_PATH_MANIFEST + 1);
		r = where ? 0 : -ENOMEM;
	}
	lethe_mounts_release(&mounts);
	if (r < 0) {
		free(where);
		free(upper);
		return r;
	}
	r = lethe_file_read(where, LETHE_FIM_MAX_FILE, &text, &len);
	if (r >= 0)
		r = lethe_fim_mtree_parse(text, len, where, ret);
	free(text);
	if (r < 0 || !ret_where)
		free(where);
	else
		*ret_where = where;
	if (r < 0 || !ret_upper)
		free(upper);
	else
		*ret_upper = upper;
	return r;
}
