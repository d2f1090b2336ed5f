/* rootfs.erofs: run mkfs.erofs on the staged root with every option that makes its
 * output a function of the tree alone (fixed times, fixed UUID, no xattrs). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lethe/image.h>

#define MKFS_OUTPUT_MAX (64u * 1024)

/* Compression values go on a command line: accept only what mkfs.erofs could mean. */
static bool compression_is_valid(const char *c)
{
	if (!*c || strlen(c) > 32)
		return false;
	for (const char *p = c; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == ','))
			return false;
	return true;
}

static bool uuid_is_valid(const char *u)
{
	if (strlen(u) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
			return false;
	}
	return true;
}

/* The last non-empty line of a program's output, for the error message. */
static const char *last_line(struct lethe_buf *b)
{
	char *end, *start;

	if (!b->data)
		return "(no output)";
	end = b->data + b->len;
	while (end > b->data && (end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	start = end;
	while (start > b->data && start[-1] != '\n')
		start--;
	return *start ? start : "(no output)";
}

/* Run argv (no shell), keeping at most MKFS_OUTPUT_MAX bytes of its stdout+stderr.
 * Returns its exit status (>= 0), 128+signal, or a negative errno. */
static int run_program(char *const argv[], struct lethe_buf *output)
{
	/* A minimal environment: mkfs.erofs 1.5 switches to extended inodes when it sees
	 * SOURCE_DATE_EPOCH (the -T option already fixes every time), and its messages
	 * should not depend on the locale. */
	const char *path = getenv("PATH");
	char path_var[4096];
	char *envp[] = { path_var, (char *)"LC_ALL=C", NULL };
	posix_spawn_file_actions_t fa;
	int pipefd[2], status, r;
	pid_t pid;
	char chunk[4096];

	snprintf(path_var, sizeof(path_var), "PATH=%s",
		 path && strlen(path) < sizeof(path_var) - 5 ? path
							     : "/usr/sbin:/usr/bin:/sbin:/bin");

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return -r;
	}
	for (;;) {
		ssize_t n = read(pipefd[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (output->len + (size_t)n <= MKFS_OUTPUT_MAX)
			lethe_buf_append(output, chunk, (size_t)n);
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int lethe_image_erofs(const char *root, const char *output,
		      const struct lethe_image_options *opts)
{
	const char *compression = opts->compression ? opts->compression
						    : LETHE_IMAGE_DEFAULT_COMPRESSION;
	const char *mkfs = opts->mkfs ? opts->mkfs : getenv("LETHE_MKFS_EROFS");
	uint32_t pcluster = opts->pcluster ? opts->pcluster : LETHE_IMAGE_DEFAULT_PCLUSTER;
	char zopt[40], copt[24], topt[32], uopt[40], *tmp = NULL;
	struct lethe_buf out = { 0 };
	struct stat st;
	int fd, r, argc = 0;
	char *argv[12];

	if (!mkfs || !*mkfs)
		mkfs = "mkfs.erofs";
	if (!compression_is_valid(compression))
		return lethe_error(-EINVAL, "compression '%s' is not a mkfs.erofs -z value",
				   compression);
	if (pcluster % 4096 || pcluster > LETHE_IMAGE_MAX_PCLUSTER)
		return lethe_error(-EINVAL, "physical cluster size %u is not a multiple of 4096 "
				   "up to %u", pcluster, LETHE_IMAGE_MAX_PCLUSTER);
	if (!opts->uuid || !uuid_is_valid(opts->uuid))
		return lethe_error(-EINVAL, "file system UUID '%s' is not a lowercase UUID",
				   opts->uuid ? opts->uuid : "(none)");
	if (opts->epoch < 0 || opts->epoch > UINT32_MAX)
		return lethe_error(-ERANGE, "timestamp %" PRId64 " is out of range for EROFS",
				   opts->epoch);
	if (stat(root, &st) < 0 || !S_ISDIR(st.st_mode))
		return lethe_error(-ENOTDIR, "cannot read root tree '%s': %s", root,
				   strerror(errno ? errno : ENOTDIR));

	if (asprintf(&tmp, "%s.tmp.XXXXXX", output) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = lethe_error(-errno, "cannot create '%s': %m", tmp);
		free(tmp);
		return r;
	}
	fchmod(fd, 0644);
	close(fd);

	snprintf(zopt, sizeof(zopt), "-z%s", compression);
	snprintf(copt, sizeof(copt), "-C%u", pcluster);
	snprintf(topt, sizeof(topt), "-T%" PRId64, opts->epoch);
	snprintf(uopt, sizeof(uopt), "-U%s", opts->uuid);
	argv[argc++] = (char *)mkfs;
	argv[argc++] = (char *)"--quiet";
	if (strcmp(compression, "none")) {
		argv[argc++] = zopt;
		argv[argc++] = copt;
	}
	argv[argc++] = topt;
	argv[argc++] = uopt;
	argv[argc++] = (char *)"-x-1"; /* no extended attributes */
	argv[argc++] = tmp;
	argv[argc++] = (char *)root;
	argv[argc] = NULL;

	r = run_program(argv, &out);
	if (r < 0) {
		r = lethe_error(r, "cannot run '%s': %s", mkfs, strerror(-r));
		goto fail;
	}
	if (r != 0) {
		r = lethe_error(-EIO, "'%s' failed (status %d) on '%s': %s", mkfs, r, root,
				last_line(&out));
		goto fail;
	}
	fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		r = lethe_error(-errno, "cannot sync '%s': %m", tmp);
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	close(fd);
	if (rename(tmp, output) < 0) {
		r = lethe_error(-errno, "cannot rename '%s' to '%s': %m", tmp, output);
		goto fail;
	}
	lethe_buf_release(&out);
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	lethe_buf_release(&out);
	free(tmp);
	return r;
}
