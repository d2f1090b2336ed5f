/* What the files of lib/fim share: the scanner's stream of items. */
#ifndef LETHE_FIM_INTERNAL_H
#define LETHE_FIM_INTERNAL_H

#include <fcntl.h>
#include <sys/stat.h>

#include <lethe/fim.h>

/* One tree entry, as the scanner hands it on: its attributes (e.have says which were
 * read), the attributes that count there (want), and what went wrong reading it. */
struct fim_item {
	struct lethe_fim_entry e;
	char *abspath;
	unsigned want;
	enum lethe_fim_note note;
	int err;
	/* private to the scanner */
	int fd;
	struct statx sx;
	bool done;
};

/* A want bit of the check: do not descend into this directory. */
#define FIM_WANT_NODESCEND (1u << 31)

/* Which attributes to read for the entry at path (mtree form) whose rules count
 * rule_attrs; NULL: rule_attrs. */
typedef unsigned (*fim_want_fn)(const char *path, unsigned rule_attrs, void *userdata);
/* Called for every item in path order, in the caller's thread; a negative return stops
 * the scan with that error. */
typedef int (*fim_emit_fn)(struct fim_item *it, void *userdata);

/* The trees at paths (see lethe_fim_baseline_write()), walked and hashed. *ret_root
 * (may be NULL) gets the absolute root path of the stream ("" for "/"), which the
 * caller frees; *ret_starts the start paths (mtree form) when several trees were
 * given. */
struct fim_scan {
	char *root_abs;		  /* absolute, no trailing '/'; "" for "/" */
	struct lethe_strv starts; /* "./etc", ... with several paths; empty with one */
};
int fim_scan_prepare(const char *const *paths, size_t n_paths, struct fim_scan *ret);
void fim_scan_release(struct fim_scan *s);
/* ROOT_ABS joined with an mtree path ("." -> ROOT_ABS or "/"); the caller frees. */
char *fim_abspath(const struct fim_scan *s, const char *path);
/* Whether path (mtree form) is one of the scanned trees, below one or an ancestor. */
bool fim_scan_covers(const struct fim_scan *s, const char *path);
int fim_scan_run(const struct fim_scan *s, const struct lethe_fim_scan_opts *opts, fim_want_fn want,
		 fim_emit_fn emit, void *userdata, struct lethe_fim_stats *stats);

#endif
