/* rootfs.erofs: run mkfs.erofs on the staged root with every option that makes its
 * output a function of the tree alone (fixed times, fixed UUID, no xattrs). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/image.h>
#include <lethe/run.h>

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

int lethe_image_erofs(const char *root, const char *output, const struct lethe_image_options *opts)
{
	const char *compression =
		opts->compression ? opts->compression : LETHE_IMAGE_DEFAULT_COMPRESSION;
	const char *mkfs = opts->mkfs ? opts->mkfs : getenv("LETHE_MKFS_EROFS");
	uint32_t pcluster = opts->pcluster ? opts->pcluster : LETHE_IMAGE_DEFAULT_PCLUSTER;
	char zopt[40], copt[24], topt[32], uopt[40], *tmp = NULL;
	struct stat st;
	int fd, r, argc = 0;
	char *argv[12];

	if (!mkfs || !*mkfs)
		mkfs = "mkfs.erofs";
	if (!compression_is_valid(compression))
		return lethe_error(-EINVAL, "compression '%s' is not a mkfs.erofs -z value",
				   compression);
	if (pcluster % 4096 || pcluster > LETHE_IMAGE_MAX_PCLUSTER)
		return lethe_error(-EINVAL,
				   "physical cluster size %u is not a multiple of 4096 "
				   "up to %u",
				   pcluster, LETHE_IMAGE_MAX_PCLUSTER);
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

	/* The runner's environment has no SOURCE_DATE_EPOCH: mkfs.erofs 1.5 switches to
	 * extended inodes when it sees one (-T already fixes every time). */
	r = lethe_run(argv, NULL, NULL);
	if (r < 0) {
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s",
			 lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
		r = lethe_error(r, "cannot make an EROFS image of '%s': %s", root, msg);
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
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return r;
}
