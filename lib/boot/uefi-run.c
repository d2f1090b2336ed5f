/* Running objcopy, mkfs.vfat and mtools for the UEFI stages: no shell, a fixed
 * environment (nothing of the host's leaks into the output), output captured. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lethe/util.h>

#include "uefi-internal.h"

#define RUN_PATH "/usr/sbin:/usr/bin:/sbin:/bin"

/* argv[0] as a path: itself when it holds a '/', else the first executable in RUN_PATH. */
static int find_program(const char *name, char ret[256])
{
	static const char *const dirs[] = { "/usr/sbin", "/usr/bin", "/sbin", "/bin" };

	if (strchr(name, '/')) {
		snprintf(ret, 256, "%s", name);
		return 0;
	}
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(dirs); i++) {
		snprintf(ret, 256, "%s/%s", dirs[i], name);
		if (access(ret, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* The last non-empty line of what the tool said. */
static void last_line(const char *said, size_t len, char *out, size_t outlen)
{
	while (len && (said[len - 1] == '\n' || said[len - 1] == '\r' || said[len - 1] == ' '))
		len--;
	size_t start = len;

	while (start && said[start - 1] != '\n')
		start--;
	snprintf(out, outlen, "%.*s", (int)(len - start), said + start);
}

int uefi_run(char *const argv[], int64_t epoch)
{
	char prog[256], epoch_env[64], said[2048], line[512];
	char *envp[] = { (char *)"PATH=" RUN_PATH, (char *)"LC_ALL=C", (char *)"TZ=UTC",
			 (char *)"MTOOLS_SKIP_CHECK=1", epoch_env, NULL };
	posix_spawn_file_actions_t fa;
	size_t got = 0;
	int pipefd[2], status, r;
	pid_t pid;

	if (epoch >= 0)
		snprintf(epoch_env, sizeof(epoch_env), "SOURCE_DATE_EPOCH=%" PRId64, epoch);
	else
		envp[4] = NULL;
	if (find_program(argv[0], prog) < 0)
		return lethe_error(-ENOENT, "cannot run '%s': not found in " RUN_PATH, argv[0]);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
	r = posix_spawn(&pid, prog, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r) {
		close(pipefd[0]);
		return lethe_error(-r, "cannot run '%s': %s", prog, strerror(r));
	}
	for (;;) { /* all of it, so that the tool never blocks on a full pipe; keep the tail */
		char buf[512];
		ssize_t n = read(pipefd[0], buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if ((size_t)n >= sizeof(said))
			n = sizeof(said) - 1;
		if (got + (size_t)n >= sizeof(said)) {
			size_t keep = sizeof(said) - 1 - (size_t)n;

			memmove(said, said + got - keep, keep);
			got = keep;
		}
		memcpy(said + got, buf, (size_t)n);
		got += (size_t)n;
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	last_line(said, got, line, sizeof(line));
	if (WIFSIGNALED(status))
		return lethe_error(-EIO, "'%s' was killed by signal %d: %s", argv[0],
				   WTERMSIG(status), line);
	return lethe_error(-EIO, "'%s' exited with status %d: %s", argv[0], WEXITSTATUS(status),
			   line);
}
