/* The one subprocess runner: a clean environment, captured output, a decoded status,
 * and a registry of running children that a signal handler can kill. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lethe/run.h>

#define TAIL_KEEP 4096

/* Process groups of running children; 0 free, -1 taken but not yet started. */
static _Atomic pid_t children[LETHE_RUN_MAX_CHILDREN];
static _Atomic int kill_signal; /* 0, or the signal lethe_run_kill_all() sent */

void lethe_run_kill_all(int sig)
{
	int saved = errno; /* a signal handler must leave errno alone */

	atomic_store(&kill_signal, sig > 0 ? sig : SIGKILL);
	for (size_t i = 0; i < LETHE_RUN_MAX_CHILDREN; i++) {
		pid_t pg = atomic_load(&children[i]);

		if (pg > 0)
			kill(-pg, sig);
	}
	errno = saved;
}

static int slot_take(void)
{
	for (int i = 0; i < LETHE_RUN_MAX_CHILDREN; i++) {
		pid_t expected = 0;

		if (atomic_compare_exchange_strong(&children[i], &expected, -1))
			return i;
	}
	return -1;
}

/* The environment of the policy in run.h, plus extra; NULL-terminated, in strv. */
static int build_env(const struct lethe_run_options *o, struct lethe_strv *env)
{
	static const char *const fixed[] = { "PATH=" LETHE_RUN_PATH, "LC_ALL=C", "TZ=UTC" };
	struct lethe_buf b = { 0 };
	int r = 0;

	for (size_t i = 0; r == 0 && i < LETHE_ARRAY_SIZE(fixed); i++)
		r = lethe_strv_push(env, fixed[i]);
	if (r == 0 && o->epoch_set) {
		r = lethe_buf_printf(&b, "SOURCE_DATE_EPOCH=%lld", (long long)o->epoch);
		if (r == 0)
			r = lethe_strv_push(env, b.data);
		lethe_buf_release(&b);
	}
	for (const char *const *e = o->env; r == 0 && e && *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t n = eq ? (size_t)(eq - *e) : 0;

		if (!eq || n == 0 ||
		    strspn(*e, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			       "0123456789_") != n)
			return lethe_error(-EINVAL, "'%s' is not a NAME=value environment entry",
					   *e);
		/* The policy's own variables are not the caller's to change. */
		for (size_t i = 0; i < env->n; i++)
			if (!strncmp(env->v[i], *e, n + 1))
				return lethe_error(-EINVAL,
						   "environment variable '%.*s' is set "
						   "by the runner's policy",
						   (int)n, *e);
		r = lethe_strv_push(env, *e);
	}
	return r;
}

/* argv0 itself when it names a path, else its place in LETHE_RUN_PATH. */
static int resolve(const char *argv0, char **ret)
{
	const char *dir = LETHE_RUN_PATH;

	if (!*argv0)
		return lethe_error(-ENOENT, "cannot run a program with an empty name");
	if (strchr(argv0, '/'))
		return (*ret = strdup(argv0)) ? 0 : -ENOMEM;
	while (*dir) {
		size_t n = strcspn(dir, ":");
		char *p = NULL;

		if (asprintf(&p, "%.*s/%s", (int)n, dir, argv0) < 0)
			return -ENOMEM;
		if (access(p, X_OK) == 0) {
			*ret = p;
			return 0;
		}
		free(p);
		dir += n + (dir[n] == ':');
	}
	return lethe_error(-ENOENT, "cannot run '%s': not found in %s", argv0, LETHE_RUN_PATH);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void __attribute__((noreturn))
child(const char *path, char *const argv[], char *const envp[], const char *cwd, int in, int out,
      int err, int report, pid_t parent)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int e;

	setpgid(0, 0);
	/* Die with lethe, even if it is killed without a chance to clean up. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* an ignored SIGPIPE or SIGINT is not inherited */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
	    dup2(err, STDERR_FILENO) < 0 || (cwd && chdir(cwd) < 0))
		goto fail;
	execve(path, argv, envp);
fail:
	e = errno;
	while (write(report, &e, sizeof(e)) < 0 && errno == EINTR)
		;
	_exit(127);
}

/* Keep the last TAIL_KEEP..2*TAIL_KEEP bytes of a stream. */
static void keep_tail(struct lethe_buf *b, const char *data, size_t n, size_t keep)
{
	if (lethe_buf_append(b, data, n) == 0 && b->len > 2 * keep) {
		memmove(b->data, b->data + b->len - keep, keep);
		b->len = keep;
		b->data[b->len] = '\0';
	}
}

/* Read stdout and stderr until both close. */
static void drain(int outfd, int errfd, const struct lethe_run_options *o, size_t out_max,
		  struct lethe_buf *out_tail, struct lethe_run_result *res)
{
	struct pollfd pfd[2] = { { outfd, POLLIN, 0 }, { errfd, POLLIN, 0 } };
	int open_fds = 2;

	while (open_fds > 0) {
		char buf[8192];

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !pfd[i].revents)
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				pfd[i].fd = -1;
				open_fds--;
			} else if (i == 1) {
				keep_tail(&res->err, buf, (size_t)n, LETHE_RUN_STDERR_KEEP);
			} else {
				keep_tail(out_tail, buf, (size_t)n, TAIL_KEEP);
				if (!o->out || res->out_truncated)
					continue;
				if ((size_t)n > out_max - o->out->len ||
				    lethe_buf_append(o->out, buf, (size_t)n) < 0)
					res->out_truncated = true;
			}
		}
	}
}

/* The last non-empty line of b, with control characters made visible as '?'. */
static bool last_line(const struct lethe_buf *b, char *line, size_t size)
{
	size_t end = b->len, start;

	while (end > 0 && (b->data[end - 1] == '\n' || b->data[end - 1] == '\r'))
		end--;
	if (end == 0)
		return false;
	start = end;
	while (start > 0 && b->data[start - 1] != '\n')
		start--;
	if (end - start >= size)
		end = start + size - 1;
	for (size_t i = start; i < end; i++) {
		unsigned char c = (unsigned char)b->data[i];

		line[i - start] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	line[end - start] = '\0';
	return true;
}

static int decode(const char *name, int status, size_t out_max, struct lethe_run_result *res)
{
	const char *line = res->last_line[0] ? res->last_line : "no message";

	if (WIFEXITED(status))
		res->status = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		res->status = 128 + WTERMSIG(status);
	else
		res->status = 255;
	if (WIFSIGNALED(status)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(status));

		return lethe_error(-EIO, "'%s' was killed by signal %d (SIG%s): %s", name,
				   WTERMSIG(status), abbrev ? abbrev : "?", line);
	}
	if (res->status != 0)
		return lethe_error(-EIO, "'%s' exited with status %d: %s", name, res->status, line);
	if (res->out_truncated)
		return lethe_error(-EFBIG, "'%s' wrote more than %zu bytes", name, out_max);
	return 0;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
}

static int run(char *const argv[], const struct lethe_run_options *o, struct lethe_run_result *res)
{
	struct lethe_strv env = { 0 };
	struct lethe_buf out_tail = { 0 };
	size_t out_max = o->out_max ? o->out_max : LETHE_RUN_OUTPUT_MAX;
	/* stdin, stdout r/w, stderr r/w, exec report r/w */
	int fds[7] = { -1, -1, -1, -1, -1, -1, -1 };
	int slot = -1, status, e = 0, r;
	char *path = NULL;
	pid_t pid, self = getpid();
	ssize_t n;

	if (!argv || !argv[0])
		return -EINVAL;
	if ((r = build_env(o, &env)) < 0 || (r = resolve(argv[0], &path)) < 0)
		goto out;
	if ((fds[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    pipe2(fds + 1, O_CLOEXEC) < 0 || pipe2(fds + 3, O_CLOEXEC) < 0 ||
	    pipe2(fds + 5, O_CLOEXEC) < 0) {
		r = lethe_error(-errno, "cannot run '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	if ((slot = slot_take()) < 0) {
		r = lethe_error(-EAGAIN, "cannot run '%s': %d programs are running already",
				argv[0], LETHE_RUN_MAX_CHILDREN);
		goto out;
	}
	if (atomic_load(&kill_signal)) {
		r = lethe_error(-ECANCELED, "not running '%s': the build was interrupted", argv[0]);
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		r = lethe_error(-errno, "cannot run '%s': %s", argv[0], strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(path, argv, env.v, o->cwd, fds[0], fds[2], fds[4], fds[6], self);
	setpgid(pid, pid); /* as the child does: whichever runs first */
	atomic_store(&children[slot], pid);
	if (atomic_load(&kill_signal)) /* lethe_run_kill_all() ran before we registered */
		kill(-pid, atomic_load(&kill_signal));
	close(fds[0]);
	close(fds[2]);
	close(fds[4]);
	close(fds[6]);
	fds[0] = fds[2] = fds[4] = fds[6] = -1;
	/* The report pipe closes at exec (O_CLOEXEC), or brings exec's errno. */
	do
		n = read(fds[5], &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(e))
		e = 0;
	drain(fds[1], fds[3], o, out_max, &out_tail, res);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			r = lethe_error(-errno, "cannot wait for '%s': %s", argv[0],
					strerror(errno));
			goto out;
		}
	atomic_store(&children[slot], 0);
	slot = -1;
	if (e) {
		r = lethe_error(-e, "cannot run '%s': %s", argv[0], strerror(e));
		goto out;
	}
	if (!last_line(&res->err, res->last_line, sizeof(res->last_line)))
		last_line(&out_tail, res->last_line, sizeof(res->last_line));
	r = decode(argv[0], status, out_max, res);
out:
	if (slot >= 0)
		atomic_store(&children[slot], 0);
	close_all(fds, LETHE_ARRAY_SIZE(fds));
	lethe_buf_release(&out_tail);
	lethe_strv_release(&env);
	free(path);
	return r;
}

int lethe_run(char *const argv[], const struct lethe_run_options *opts,
	      struct lethe_run_result *result)
{
	static const struct lethe_run_options none = { 0 };
	struct lethe_run_result local;
	struct lethe_run_result *res = result ? result : &local;
	int r;

	*res = (struct lethe_run_result){ .status = -1 };
	r = run(argv, opts ? opts : &none, res);
	if (!result)
		lethe_run_result_release(&local);
	return r;
}

void lethe_run_result_release(struct lethe_run_result *result)
{
	if (!result)
		return;
	lethe_buf_release(&result->err);
	*result = (struct lethe_run_result){ .status = -1 };
}
