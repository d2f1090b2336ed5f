/* Running the tools a build needs (apt, depmod, mkfs.erofs, ...): one runner, one
 * environment policy, output captured, status decoded, children killable.
 *
 * The environment policy. A child sees exactly:
 *   PATH=/usr/sbin:/usr/bin:/sbin:/bin   (LETHE_RUN_PATH; also where a bare argv[0]
 *                                         is looked up: the caller's PATH is not used)
 *   LC_ALL=C                             (messages and sorting independent of locale)
 *   TZ=UTC                               (times independent of the host's zone)
 *   SOURCE_DATE_EPOCH=N                  (only when the caller sets epoch_set)
 * plus the "NAME=value" entries the caller lists in env (APT_CONFIG, say), and nothing
 * else of the host's environment. stdin is /dev/null; stdout and stderr are captured,
 * never printed. Each child runs in a process group of its own, so that a terminal's
 * ^C reaches only lethe, which stops its children with lethe_run_kill_all().
 *
 * Returns 0 or -errno, as liblethe does. */
#ifndef LETHE_RUN_H
#define LETHE_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lethe/util.h>

#define LETHE_RUN_PATH	       "/usr/sbin:/usr/bin:/sbin:/bin"
#define LETHE_RUN_OUTPUT_MAX   (64u << 20) /* stdout kept, unless out_max says less */
#define LETHE_RUN_STDERR_KEEP  4096	   /* the tail of stderr kept for messages */
#define LETHE_RUN_MAX_CHILDREN 64	   /* children running at once, all threads */

struct lethe_run_options {
	const char *const *env; /* extra "NAME=value" entries (NULL-terminated), or NULL */
	const char *cwd;	/* the child's working directory, or NULL: ours */
	struct lethe_buf *out;	/* stdout is appended here, or NULL: only a tail is kept */
	size_t out_max;		/* 0: LETHE_RUN_OUTPUT_MAX; more stdout is -EFBIG */
	bool epoch_set;		/* set SOURCE_DATE_EPOCH=epoch */
	int64_t epoch;
};

/* What a run did, for callers that explain failures their own way. */
struct lethe_run_result {
	int status;	      /* exit status 0..255, 128+N if killed by signal N; -1: no run */
	bool out_truncated;   /* stdout was over out_max (the run then fails with -EFBIG) */
	struct lethe_buf err; /* the last LETHE_RUN_STDERR_KEEP bytes of stderr */
	char last_line[512];  /* the last non-empty line of stderr, else of stdout */
};

/* Run argv[0] (a path, or a name looked up in LETHE_RUN_PATH) with argv, no shell, and
 * wait for it. 0 when it exited with status 0. Otherwise a message is recorded:
 *   -ENOENT/-EACCES...  "cannot run 'NAME': REASON"
 *   -EIO                "'NAME' exited with status N: LAST LINE"
 *                       "'NAME' was killed by signal N (SIGTERM): LAST LINE"
 *   -EFBIG              "'NAME' wrote more than N bytes"
 *   -ECANCELED          lethe_run_kill_all() was called: no new child starts
 * opts may be NULL. result (may be NULL) is filled in every case, success or not; the
 * caller releases it with lethe_run_result_release(). */
int lethe_run(char *const argv[], const struct lethe_run_options *opts,
	      struct lethe_run_result *result);
void lethe_run_result_release(struct lethe_run_result *result);

/* Send sig to the process group of every child lethe_run() has running, in every
 * thread, and make lethe_run() refuse to start new ones (-ECANCELED). Async-signal-
 * safe: call it from a SIGINT/SIGTERM/SIGHUP handler. A child that is being started
 * while this runs is killed as soon as it is registered. */
void lethe_run_kill_all(int sig);

#endif
