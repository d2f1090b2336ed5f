/* SHA256SUMS files in coreutils' format: one "HEX  NAME" line per file (two spaces,
 * lowercase hex, sorted by name in byte order), as `sha256sum` writes and
 * `sha256sum -c` reads. Reading also accepts binary mode "HEX *NAME" and uppercase hex.
 *
 * A SHA256SUMS file is untrusted input: names must be safe relative paths (no "..",
 * no leading "/", no control characters), lines are capped, counts are capped, and a
 * name listed twice is an error. coreutils' escaped names ("\HEX  NAME", for names
 * with a backslash or newline) are refused: Lethe never writes such names. Errors:
 * -EBADMSG (LETHE_E_INVALID) for a malformed file or a digest that does not match,
 * with a message naming the file and line. */
#ifndef LETHE_SUMS_H
#define LETHE_SUMS_H

#include <stddef.h>
#include <stdint.h>

#define LETHE_SUMS_DIGEST_BYTES 32
#define LETHE_SUMS_LINE_MAX	4096  /* bytes in one line, newline excluded */
#define LETHE_SUMS_COUNT_MAX	65536 /* lines in one file */
#define LETHE_SUMS_FILE_MAX	(16u << 20)

struct lethe_sums_entry {
	char *name;
	uint8_t sha256[LETHE_SUMS_DIGEST_BYTES];
	unsigned line; /* where it was read; 0 for entries not read from a file */
};

struct lethe_sums {
	struct lethe_sums_entry *v;
	size_t n;
};

/* Parse a SHA256SUMS text; name is used in messages. At least one line is required.
 * The caller releases *ret with lethe_sums_release(). */
int lethe_sums_parse(const char *text, size_t len, const char *name, struct lethe_sums *ret);
int lethe_sums_load(const char *path, struct lethe_sums *ret);
void lethe_sums_release(struct lethe_sums *s);

/* SHA-256 of the file at path (relative to dirfd, or AT_FDCWD), streaming. Only
 * regular files are hashed (a FIFO or device could block or never end). */
int lethe_sums_sha256_file(int dirfd, const char *path, uint8_t out[LETHE_SUMS_DIGEST_BYTES]);

/* Hash the files names[0..n) (safe relative paths, relative to dir, or to the working
 * directory if dir is NULL) and write the SHA256SUMS text into *ret (the caller frees
 * it with free()), sorted by name. */
int lethe_sums_format(const char *dir, const char *const *names, size_t n, char **ret,
		      size_t *ret_len);
/* The same, written to path atomically. */
int lethe_sums_write(const char *path, const char *dir, const char *const *names, size_t n);

/* Check every entry of s against the files below dir. For each entry, fn (if not NULL)
 * is called with 0 (match), -EBADMSG (does not match), or another -errno (-ENOENT:
 * missing); lethe_error_message() then holds the message for a failure. Returns 0 when
 * every file matched, else -EBADMSG with the message of the first failure and the count
 * of failures. sums_name names the SHA256SUMS in messages. */
typedef void (*lethe_sums_check_fn)(const struct lethe_sums_entry *e, int result, void *userdata);
int lethe_sums_check(const struct lethe_sums *s, const char *sums_name, const char *dir,
		     lethe_sums_check_fn fn, void *userdata);
/* The failures of a check of every entry, as lethe_sums_check() and the release check
 * report them: add each entry's result, then finish once. */
struct lethe_sums_tally {
	char *first;   /* the first failure's message (owned) */
	size_t failed; /* how many entries failed */
};
/* Count result if it is a failure (< 0), keeping the first one's lethe_error_message. */
void lethe_sums_tally_add(struct lethe_sums_tally *t, int result);
/* 0 (and the error cleared) when nothing failed, else -EBADMSG with "FIRST (N of total
 * files failed)"; releases t either way. */
int lethe_sums_tally_finish(struct lethe_sums_tally *t, size_t total);
/* The directory the names in the SHA256SUMS at path are relative to: its own ("dir/",
 * or "." for a bare name). The caller frees it; NULL on ENOMEM. */
char *lethe_sums_dir(const char *path);
/* Load the SHA256SUMS at path and check it against the files beside it. */
int lethe_sums_check_file(const char *path, lethe_sums_check_fn fn, void *userdata);

#endif
