/* lethe fim: file-integrity monitoring against a (signed) BSD mtree baseline.
 *
 * Three parts: a strict, capped reader of BSD mtree(5) as Lethe and mtree-netbsd write
 * it (lib/fim/mtree.c, fuzzed); rules that say what is scanned and which attributes
 * count where (lib/fim/rules.c, docs/fim.md); and a scanner that walks trees with
 * openat/statx relative to directory descriptors, never following a symbolic link,
 * hashes regular files on every core through a bounded queue and hands entries on in
 * a fixed order, so that a baseline is written, or a tree compared with one, in a
 * stream whose memory does not grow with the tree (lib/fim/scan.c, baseline.c). */
#ifndef LETHE_FIM_H
#define LETHE_FIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

/* Caps of the reader: a baseline larger than these is refused, never truncated. */
#define LETHE_FIM_MAX_FILE    ((size_t)512 << 20) /* bytes of one mtree file */
#define LETHE_FIM_MAX_ENTRIES 4000000u		  /* entries of one mtree file */
#define LETHE_FIM_MAX_LINE    65536u		  /* one logical line, continuations joined */
#define LETHE_FIM_MAX_PATH    4096u		  /* a decoded path or link target */
#define LETHE_FIM_MAX_DEPTH   256u		  /* directory levels, in a file or a walk */
#define LETHE_FIM_MAX_XATTRS  64u		  /* extended attributes of one entry */
#define LETHE_FIM_MAX_XATTR   4096u /* value bytes kept in hex; longer: "sha256:HEX" */
#define LETHE_FIM_MAX_RULES   4096u /* directives of one rules file */

/* The attributes an entry can carry; a rule selects a set of them (docs/fim.md). */
enum {
	LETHE_FIM_TYPE = 1u << 0, /* type, and device= for devices */
	LETHE_FIM_MODE = 1u << 1,
	LETHE_FIM_UID = 1u << 2,
	LETHE_FIM_GID = 1u << 3,
	LETHE_FIM_SIZE = 1u << 4,   /* regular files */
	LETHE_FIM_LINK = 1u << 5,   /* symbolic links' targets */
	LETHE_FIM_SHA256 = 1u << 6, /* regular files */
	LETHE_FIM_MTIME = 1u << 7,
	LETHE_FIM_XATTRS = 1u << 8, /* regular files and directories */
	LETHE_FIM_NLINK = 1u << 9,  /* everything but directories */
	LETHE_FIM_ALL = (1u << 10) - 1,
	/* What counts where no rule says otherwise: everything but mtime. */
	LETHE_FIM_DEFAULT = LETHE_FIM_ALL & ~LETHE_FIM_MTIME,
};

/* Attribute names as rules and reports spell them ("type", "mode", ..., "nlink"). */
const char *lethe_fim_attr_name(unsigned attr);
/* Parse "type,mode,sha256" (or "all", "default"); 0 or -EINVAL. */
int lethe_fim_attrs_parse(const char *list, unsigned *ret);

enum lethe_fim_type {
	LETHE_FIM_T_NONE, /* not given */
	LETHE_FIM_T_FILE,
	LETHE_FIM_T_DIR,
	LETHE_FIM_T_LINK,
	LETHE_FIM_T_CHAR,
	LETHE_FIM_T_BLOCK,
	LETHE_FIM_T_FIFO,
	LETHE_FIM_T_SOCKET,
};
const char *lethe_fim_type_name(enum lethe_fim_type t); /* mtree's word: "file" ... */
/* The type of a stat mode's S_IFMT bits; LETHE_FIM_T_NONE for none of the seven. */
enum lethe_fim_type lethe_fim_type_of(mode_t mode);

/* One entry of a baseline or of a scanned tree. have says which attributes it carries
 * (LETHE_FIM_* bits). path is raw bytes, "." for the root and "./a/b" below it. */
struct lethe_fim_entry {
	char *path;
	unsigned have;
	enum lethe_fim_type type;
	uint32_t mode, uid, gid;
	uint64_t size, nlink;
	uint32_t dev_major, dev_minor; /* devices, with LETHE_FIM_TYPE */
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	char *link;   /* raw bytes */
	char *xattrs; /* "NAME=HEX" sorted, ',' between, names encoded; "" when none */
	uint8_t sha256[32];
	bool ignore;   /* mtree "ignore": what is below is not compared */
	bool optional; /* mtree "optional": its absence is no drift */
};

/* The entries of an mtree file, sorted by lethe_fim_path_cmp(), no two alike, every
 * entry's parent directory listed before it. */
struct lethe_fim_manifest {
	struct lethe_fim_entry *v;
	size_t n;
};

/* The order of every stream here: byte order with '/' before every other byte, which is
 * a walk that sorts each directory's names and lists a directory before its contents. */
int lethe_fim_path_cmp(const char *a, const char *b);

/* Parse mtree text (name labels messages: "'NAME' line N: ..."). Accepts the flat form
 * Lethe writes ("./a/b type=file ...") and the hierarchical form of `mtree -c` (/set,
 * /unset, names relative to the current directory, ".." to go up), continuation lines,
 * comments, vis(3) escapes (\ooo, \s, \t, \n, \\, \M-c, \^c ...), the keywords of
 * mtree(5) (digests other than sha256, flags, uname, gname, time, tags ... are checked
 * and kept where Lethe compares them) and Lethe's xattrs, which travel in tags= as
 * "xattr:NAME=HEX" so that mtree-netbsd reads the file too. Refuses unknown keywords,
 * bad values, "..", "." or empty components in a name, NUL bytes, duplicates, entries
 * without their parent, and anything over the caps, with -EBADMSG and a message naming
 * the line. The caller frees *ret with lethe_fim_manifest_release(). */
int lethe_fim_mtree_parse(const char *text, size_t len, const char *name,
			  struct lethe_fim_manifest *ret);
void lethe_fim_manifest_release(struct lethe_fim_manifest *m);
/* The entry with this path, or NULL (binary search). */
const struct lethe_fim_entry *lethe_fim_manifest_find(const struct lethe_fim_manifest *m,
						      const char *path);

/* Append s to b in mtree's encoding: \ooo for every byte that is not printable ASCII,
 * for space, '#', '\\' and glob characters, and for the bytes of extra (""
 * for none). The one encoder of names and link targets (manifest.mtree's too). */
int lethe_fim_encode(struct lethe_buf *b, const char *s, const char *extra);
/* Append the mtree line of e (its path encoded, the attributes of want & e->have, a
 * newline) to b: the format lethe_fim_mtree_parse() and `mtree -f` read. */
int lethe_fim_entry_format(const struct lethe_fim_entry *e, unsigned want, struct lethe_buf *b);
void lethe_fim_entry_release(struct lethe_fim_entry *e);

/* ---- rules ---- */

/* Parsed rules (docs/fim.md): "scan PATH", "exclude PATTERN", "attrs PATTERN LIST".
 * PATTERNs are absolute; one without glob characters matches that path and all below
 * it, one with them is an fnmatch(3) pattern where '*' also matches '/'. */
struct lethe_fim_rules;
int lethe_fim_rules_parse(const char *text, size_t len, const char *name,
			  struct lethe_fim_rules **ret);
int lethe_fim_rules_load(const char *path, struct lethe_fim_rules **ret);
/* The built-in rules: for a Debian host, and for a booted Lethe system compared with
 * its image's manifest (the RAM file systems, the logs and the manifest itself are
 * expected to differ). */
enum lethe_fim_rules_builtin {
	LETHE_FIM_RULES_HOST,
	LETHE_FIM_RULES_IMAGE,
};
const char *lethe_fim_rules_builtin_text(enum lethe_fim_rules_builtin which);
int lethe_fim_rules_builtin(enum lethe_fim_rules_builtin which, struct lethe_fim_rules **ret);
struct lethe_fim_rules *lethe_fim_rules_free(struct lethe_fim_rules *rules);
/* The scan paths of the rules (may be empty); owned by rules. */
const struct lethe_strv *lethe_fim_rules_scan_paths(const struct lethe_fim_rules *rules);
/* Whether abspath is excluded, and which attributes count there. */
bool lethe_fim_rules_excluded(const struct lethe_fim_rules *rules, const char *abspath);
unsigned lethe_fim_rules_attrs(const struct lethe_fim_rules *rules, const char *abspath);

/* ---- scanning ---- */

struct lethe_fim_stats {
	uint64_t entries, files, bytes; /* bytes hashed */
	uint64_t unreadable, changed_during_scan, vanished;
};

/* What a scan found about one tree entry beyond its attributes. */
enum lethe_fim_note {
	LETHE_FIM_NOTE_NONE,
	LETHE_FIM_NOTE_UNREADABLE, /* could not be opened or read: no sha256 */
	LETHE_FIM_NOTE_CHANGED,	   /* changed while it was read: its sha256 is unreliable */
	LETHE_FIM_NOTE_VANISHED,   /* listed, then gone before it could be read */
	LETHE_FIM_NOTE_OTHER_FS,   /* a mount point: what is below is not scanned */
};

struct lethe_fim_scan_opts {
	const struct lethe_fim_rules *rules; /* NULL: everything counts, nothing excluded */
	unsigned threads;		     /* hashing threads; 0: one per online CPU */
	/* For tests: called in the walking thread after a regular file was opened for
	 * hashing and before it is read (abspath is its absolute path). */
	void (*after_open)(const char *abspath, void *userdata);
	void *userdata;
	/* The upper directory of an overlay root whose lower layer is a verified, read-only
	 * image (Lethe's dm-verity root): a regular file that is not in it comes from the
	 * image, which dm-verity checks block by block, so check does not read it again.
	 * NULL: every file is read. */
	const char *overlay_upper;
};

/* Write the baseline of the trees at paths to out_path (atomically, mode 0644): one
 * path is the root "." of the baseline; several must be absolute, and the baseline is
 * then rooted at "/" with their parent directories listed (type only). Entries carry
 * the attributes that the rules count for them. Files that were unreadable, changed
 * or vanished during the scan are reported through note (may be NULL) with the path
 * in mtree's encoding, and counted in ret_stats (may be NULL). */
typedef void (*lethe_fim_note_fn)(enum lethe_fim_note note, const char *path, int err,
				  void *userdata);
int lethe_fim_baseline_write(const char *const *paths, size_t n_paths,
			     const struct lethe_fim_scan_opts *opts, const char *out_path,
			     lethe_fim_note_fn note, void *userdata,
			     struct lethe_fim_stats *ret_stats);

/* Stop a running scan (init, check) from a signal handler: it fails with -ECANCELED
 * and leaves no partial baseline behind. */
void lethe_fim_cancel(void);

/* ---- checking ---- */

enum lethe_fim_drift_kind {
	LETHE_FIM_ADDED,
	LETHE_FIM_REMOVED,
	LETHE_FIM_CHANGED,
	LETHE_FIM_CHANGED_DURING_SCAN,
	LETHE_FIM_UNREADABLE,
};
const char *lethe_fim_drift_kind_name(enum lethe_fim_drift_kind k); /* "added" ... */

struct lethe_fim_change {
	unsigned attr;		/* one LETHE_FIM_* bit */
	const char *old, *new_; /* as text; "(none)" when absent */
};

/* One drift, as the check calls back with it; valid during the call only. path is in
 * mtree's encoding (printable ASCII). */
struct lethe_fim_drift {
	enum lethe_fim_drift_kind kind;
	const char *path;
	const char *type; /* the tree's type for added, the baseline's for removed */
	const struct lethe_fim_change *changes;
	size_t n_changes;
};
typedef void (*lethe_fim_drift_fn)(const struct lethe_fim_drift *d, void *userdata);

/* Compare the trees at paths (as lethe_fim_baseline_write() takes them) with baseline,
 * in the rules' terms: an attribute counts when the baseline entry carries it and the
 * rules count it there; excluded paths and what is below an "ignore" entry are skipped
 * on both sides. Calls fn for every drift in path order. Returns the number of drifts
 * (0: clean) or a negative errno when the check could not run. */
int lethe_fim_check(const struct lethe_fim_manifest *baseline, const char *const *paths,
		    size_t n_paths, const struct lethe_fim_scan_opts *opts, lethe_fim_drift_fn fn,
		    void *userdata, struct lethe_fim_stats *ret_stats);

/* ---- a booted Lethe system ---- */

/* Load the image's own manifest (LETHE_PATH_MANIFEST) from the read-only, verity-backed
 * lower layer of the overlay "/" (so that nothing written in the session can replace
 * it), or from root + LETHE_PATH_MANIFEST when / is no overlay. root: "/" on a live
 * system, a fixture tree in tests. ret_where (may be NULL) gets the path read, and
 * ret_upper (may be NULL) the overlay's upper directory below root, or NULL when there
 * is none or it cannot be seen (for lethe_fim_scan_opts.overlay_upper); the caller
 * frees both. */
int lethe_fim_image_manifest(const char *root, struct lethe_fim_manifest *ret, char **ret_where,
			     char **ret_upper);

/* ---- watching ---- */

enum lethe_fim_watch_backend {
	LETHE_FIM_WATCH_FANOTIFY_FS,	/* fanotify, filesystem marks with names (FID) */
	LETHE_FIM_WATCH_FANOTIFY_MOUNT, /* fanotify, mount marks (fd events, with pid) */
	LETHE_FIM_WATCH_INOTIFY,	/* inotify on every directory (no pid) */
};
const char *lethe_fim_watch_backend_name(enum lethe_fim_watch_backend b);

struct lethe_fim_event {
	const char *path; /* absolute, raw bytes; may be a directory when the name is unknown */
	const char *what; /* "create", "modify", "close-write", "delete", "move", "attrib" */
	int pid;	  /* 0 when the kernel does not say */
	const char *comm; /* the writer's command, or NULL */
};
typedef int (*lethe_fim_event_fn)(const struct lethe_fim_event *ev, void *userdata);

/* Watch the tree at path until fn returns non-zero (returned) or an error. ready (may be
 * NULL) is called once the marks are in place, with the backend chosen. */
int lethe_fim_watch(const char *path, const struct lethe_fim_rules *rules, lethe_fim_event_fn fn,
		    void (*ready)(enum lethe_fim_watch_backend b, void *userdata), void *userdata);

#endif
