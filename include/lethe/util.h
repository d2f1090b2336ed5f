/* liblethe's shared helpers: error reporting, atomic file writes, bounded reads, hex,
 * growable buffers and string vectors, path safety.
 *
 * Conventions of every liblethe function: return 0 (or a count) on success and a
 * negative errno on failure; never print, never exit. On failure, a one-line message
 * naming the file and where in it is available from lethe_error_message(). Output
 * parameters named ret_* are left untouched on failure. Destructors accept NULL. */
#ifndef LETHE_UTIL_H
#define LETHE_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define LETHE_PRINTF(a, b)  __attribute__((format(printf, a, b)))
#define LETHE_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Error codes with a meaning for the user: a verification or a validation failed. The
 * CLI maps them to exit status 1; every other errno is a runtime error (exit 3). */
#define LETHE_E_INVALID	 EBADMSG      /* input is malformed, corrupt or does not match */
#define LETHE_E_REJECTED EKEYREJECTED /* signature or key does not match */

/* Record a one-line message for the current thread and return err (a negative errno),
 * so that callers write: return lethe_error(-EBADMSG, "'%s' offset %llu: ...", ...).
 * The message is paired with err: it explains that errno value and no other. A later
 * call replaces it; an err >= 0 records nothing and forgets the message.
 *
 * The rule that keeps messages from going stale: a caller that handles a failure and
 * goes on (a retry, a fallback, an ignored error) calls lethe_error_clear(), and a
 * public function that callers retry clears on entry (lethe_sign_seckey_load() does),
 * so that its success leaves no message behind. */
int lethe_error(int err, const char *fmt, ...) LETHE_PRINTF(2, 3);
int lethe_errorv(int err, const char *fmt, va_list ap) LETHE_PRINTF(2, 0);
/* The message recorded for exactly err (the negative errno a call returned), or NULL
 * when there is none or it was recorded for another errno. Report failures with this:
 * a bare -errno (no message) must be reported with strerror(), never with a message
 * that explains some earlier failure. */
const char *lethe_error_message_for(int err);
/* The last recorded message whatever errno it explains, or NULL: for tests that have
 * just seen a call fail. Code that reports a failure uses lethe_error_message_for(). */
const char *lethe_error_message(void);
void lethe_error_clear(void);
/* True when err means "the input failed a check" (LETHE_E_INVALID, LETHE_E_REJECTED). */
bool lethe_error_is_check(int err);

/* Progress and information for people. The library never prints: it calls the function
 * set here (none by default). Thread-safe; the callback may be called from any thread. */
enum lethe_log_level {
	LETHE_LOG_WARNING,
	LETHE_LOG_INFO,
	LETHE_LOG_PROGRESS, /* a line that a terminal may overwrite */
	LETHE_LOG_DEBUG,
};
typedef void (*lethe_log_fn)(enum lethe_log_level level, const char *msg, void *userdata);
void lethe_log_set(lethe_log_fn fn, void *userdata);
void lethe_log(enum lethe_log_level level, const char *fmt, ...) LETHE_PRINTF(2, 3);

/* Write a file whole or not at all: data goes to a temporary file in the same
 * directory, is fsync'd, then renamed over path. */
int lethe_file_write_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Streaming variant: open a temporary file beside path, write to f->fd, then
 * lethe_atomic_commit() (fsync + rename) or lethe_atomic_abort() (unlink). */
struct lethe_atomic_file {
	int fd;
	char *path;
	char *tmp_path;
};
int lethe_atomic_open(struct lethe_atomic_file *f, const char *path, mode_t mode);
int lethe_atomic_commit(struct lethe_atomic_file *f);
void lethe_atomic_abort(struct lethe_atomic_file *f); /* safe after commit, or twice */

/* Open a path the user gave (a spec, a key, a signature, an image) for reading: the
 * open itself never blocks (O_NONBLOCK, cleared again once open, and O_NOCTTY), and
 * anything but a regular file - or a block device, with allow_blockdev - is refused
 * with -EINVAL and a message naming it, so that a FIFO, a terminal or a socket cannot
 * hang the caller. Files of /proc and /sys are regular. dirfd and path as for
 * openat() (AT_FDCWD for a plain path); flags may add O_RDWR or O_NOFOLLOW to
 * O_RDONLY|O_CLOEXEC. ret_st (may be NULL) receives the file's stat. Returns the
 * descriptor, which the caller closes, or a negative errno. */
int lethe_open_input(int dirfd, const char *path, int flags, bool allow_blockdev,
		     struct stat *ret_st);

/* Read a whole regular file of at most max_size bytes into a NUL-terminated buffer
 * (the NUL is not counted in *ret_len). The caller frees *ret_data with free(). A
 * larger file fails with -EFBIG and a message naming it. */
int lethe_file_read(const char *path, size_t max_size, char **ret_data, size_t *ret_len);
/* The same from an open descriptor, to its end; name labels the messages. */
int lethe_fd_read(int fd, const char *name, size_t max_size, char **ret_data, size_t *ret_len);

/* Full reads and writes that retry on EINTR and short counts. read_full returns the
 * number of bytes read (less than len only at end of file). */
ssize_t lethe_read_full(int fd, void *buf, size_t len);
int lethe_write_full(int fd, const void *buf, size_t len);
ssize_t lethe_pread_full(int fd, void *buf, size_t len, off_t off);
int lethe_pwrite_full(int fd, const void *buf, size_t len, off_t off);

/* SHA-256, the one implementation every module uses (OpenSSL's, with its CPU
 * extensions). Incremental: init, update as often as needed, then final (which
 * releases the state) or release (to give up; NULL-safe, safe after final). An
 * update that fails is reported by final. 0 or -errno (-ENOMEM, -EIO). */
#define LETHE_SHA256_BYTES 32
struct lethe_sha256 {
	void *ctx; /* OpenSSL's EVP_MD_CTX */
	bool failed;
};
int lethe_sha256_init(struct lethe_sha256 *h);
void lethe_sha256_update(struct lethe_sha256 *h, const void *data, size_t len);
int lethe_sha256_final(struct lethe_sha256 *h, uint8_t out[LETHE_SHA256_BYTES]);
void lethe_sha256_release(struct lethe_sha256 *h);
/* The digest of one buffer. */
int lethe_sha256(const void *data, size_t len, uint8_t out[LETHE_SHA256_BYTES]);
/* The digest of what fd holds from its position to the end, and its size (ret_size may
 * be NULL). More than max bytes (0: no limit) is -EFBIG; a read error is returned as
 * its -errno. No message is recorded: the caller knows what fd is. */
int lethe_sha256_fd(int fd, uint64_t max, uint8_t out[LETHE_SHA256_BYTES], uint64_t *ret_size);

/* Lowercase hex. hex_encode writes 2*len+1 bytes (NUL included) to out.
 * hex_decode requires exactly 2*out_len hex digits; -EINVAL otherwise. */
void lethe_hex_encode(const uint8_t *in, size_t len, char *out);
int lethe_hex_decode(const char *hex, uint8_t *out, size_t out_len);

/* Growable byte buffer, always NUL-terminated. */
struct lethe_buf {
	char *data;
	size_t len;
	size_t cap;
};
int lethe_buf_append(struct lethe_buf *b, const void *data, size_t len);
int lethe_buf_puts(struct lethe_buf *b, const char *s);
int lethe_buf_printf(struct lethe_buf *b, const char *fmt, ...) LETHE_PRINTF(2, 3);
void lethe_buf_release(struct lethe_buf *b); /* frees data, zeroes the struct */

/* A NULL-terminated vector of owned strings. */
struct lethe_strv {
	char **v;
	size_t n;
};
int lethe_strv_push(struct lethe_strv *s, const char *str); /* copies str */
bool lethe_strv_contains(const struct lethe_strv *s, const char *str);
void lethe_strv_sort(struct lethe_strv *s);
void lethe_strv_release(struct lethe_strv *s);

/* A relative path with no "..", no empty or "." component that could hide one, no
 * leading '/', and no control characters: safe to join below a root directory. */
bool lethe_path_is_safe_relative(const char *path);
/* Join a and b with exactly one '/'. The caller frees the result. NULL on ENOMEM. */
char *lethe_path_join(const char *a, const char *b);
/* mkdir -p, with mode for every directory created. */
int lethe_mkdir_p(const char *path, mode_t mode);
/* rm -rf; does not cross into other file systems or follow symbolic links. */
int lethe_rm_rf(const char *path);
/* A directory stream over the directory dfd refers to, with a file offset of its own
 * (dfd stays open, its offset untouched); release it with closedir(). 0 or -errno. */
int lethe_opendir_fd(int dfd, DIR **ret);
/* The names in the directory dfd but "." and "..", appended to names and sorted in byte
 * order (what makes a walk reproducible). -E2BIG when there are more than max, -errno
 * when the directory cannot be read to the end. */
int lethe_dir_names(int dfd, size_t max, struct lethe_strv *names);

/* SOURCE_DATE_EPOCH from the environment if set and valid, else fallback. */
int64_t lethe_source_date_epoch(int64_t fallback);

/* Wipe memory in a way the compiler cannot remove. */
void lethe_memzero(void *p, size_t len);
/* Compare in constant time; true when equal. */
bool lethe_memeq_consttime(const void *a, const void *b, size_t len);

#endif
