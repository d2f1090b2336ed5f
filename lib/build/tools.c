/* What the build puts into the root besides packages (the spec, lethe and lethe-init),
 * where it finds those programs, and the development signing key. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/build.h>
#include <lethe/contract.h>
#include <lethe/sign.h>

#include "build-internal.h"

int lethe_build_find_tool(const char *name, const char *env, char **ret)
{
	static const char *const subdirs[] = { "", "../init/", "../lib/lethe/",
					       "../libexec/lethe/" };
	const char *e = env ? getenv(env) : NULL;
	char exe[PATH_MAX];
	ssize_t n;

	if (e && *e) {
		if (access(e, X_OK) < 0)
			return lethe_error(-errno, "$%s names '%s', which is not executable: %m",
					   env, e);
		*ret = strdup(e);
		return *ret ? 0 : -ENOMEM;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		char *slash;

		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			slash[1] = '\0';
		for (size_t i = 0; i < LETHE_ARRAY_SIZE(subdirs); i++) {
			char *p = NULL;

			if (asprintf(&p, "%s%s%s", exe, subdirs[i], name) < 0)
				return -ENOMEM;
			if (access(p, X_OK) == 0) {
				*ret = p;
				return 0;
			}
			free(p);
		}
	}
	return lethe_error(-ENOENT, "cannot find '%s' beside this program; set $%s to it", name,
			   env ? env : "PATH");
}

int lethe_build_dev_key(char **ret_sec_path)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *dir = NULL, *sec = NULL, *pub = NULL;
	int r;

	if (xdg && *xdg == '/')
		r = asprintf(&dir, "%s/lethe", xdg);
	else if (home && *home == '/')
		r = asprintf(&dir, "%s/.config/lethe", home);
	else
		return lethe_error(-ENOENT, "no $XDG_CONFIG_HOME or $HOME for the development "
					    "key; pass --key");
	if (r < 0)
		return -ENOMEM;
	if (asprintf(&sec, "%s/dev.key", dir) < 0 || asprintf(&pub, "%s/dev.pub", dir) < 0) {
		r = -ENOMEM;
		goto out;
	}
	r = lethe_mkdir_p(dir, 0700);
	if (r < 0) {
		r = lethe_error(r, "cannot create '%s': %s", dir, strerror(-r));
		goto out;
	}
	if (access(sec, F_OK) < 0) {
		struct lethe_sign_keygen_opts ko = { .comment = "lethe development key: "
								"not for releases" };

		r = lethe_sign_keygen(pub, sec, NULL, &ko, NULL);
		if (r < 0)
			goto out;
	}
	*ret_sec_path = sec;
	sec = NULL;
	r = 0;
out:
	free(dir);
	free(sec);
	free(pub);
	return r;
}

/* Open the directory that will hold rel inside the root, creating missing directories
 * (0755, root's, time = epoch) and refusing to pass through a symbolic link: the tree
 * comes from packages, and "usr/lib/lethe -> /root/.ssh" must not make the build write
 * on the host. Every directory on the way gets its time back to the epoch. */
static int open_parent(const char *root, const char *rel, int64_t epoch, int *ret_dfd,
		       const char **ret_base)
{
	struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	const char *p = rel, *slash;
	int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return lethe_error(-errno, "cannot open '%s': %m", root);
	while ((slash = strchr(p, '/'))) {
		char comp[NAME_MAX + 1];
		size_t len = (size_t)(slash - p);
		int sub;

		if (len == 0 || len > NAME_MAX) {
			close(dfd);
			return lethe_error(-EINVAL, "bad path '%s' in the root", rel);
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (mkdirat(dfd, comp, 0755) == 0) {
			if (geteuid() == 0 && fchownat(dfd, comp, 0, 0, AT_SYMLINK_NOFOLLOW) < 0) {
				close(dfd);
				return lethe_error(-errno, "cannot chown '%s/%s': %m", root, comp);
			}
		} else if (errno != EEXIST) {
			close(dfd);
			return lethe_error(-errno, "cannot create '%s' in '%s': %m", comp, root);
		}
		sub = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			int r = lethe_error(
				errno == ELOOP || errno == ENOTDIR ? -EBADMSG : -errno,
				"'%s' in the root: '%.*s' is not a directory (a symbolic "
				"link?); refusing to write through it",
				rel, (int)(slash - rel), rel);
			close(dfd);
			return r;
		}
		futimens(dfd, ts);
		close(dfd);
		dfd = sub;
		p = slash + 1;
	}
	*ret_dfd = dfd;
	*ret_base = p;
	return 0;
}

/* Copy src to root-relative dst, mode and owner root's, time = epoch, written whole
 * (temporary file, then rename) and never through a symbolic link. */
static int install_file(const char *root, const char *src, const char *dst, mode_t mode,
			int64_t epoch)
{
	struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	char *data = NULL, tmp[NAME_MAX + 1];
	const char *base = NULL;
	size_t len;
	int dfd = -1, fd = -1, r;

	r = lethe_file_read(src, 256u << 20, &data, &len);
	if (r < 0)
		return r;
	r = open_parent(root, dst, epoch, &dfd, &base);
	if (r < 0)
		goto out;
	snprintf(tmp, sizeof(tmp), ".%s.lethe-tmp", base);
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = lethe_error(-errno, "cannot create '%s' in '%s': %m", tmp, root);
		goto out_dfd;
	}
	r = lethe_write_full(fd, data, len);
	if (r >= 0 && geteuid() == 0 && fchown(fd, 0, 0) < 0)
		r = -errno;
	if (r >= 0 && (fchmod(fd, mode) < 0 || futimens(fd, ts) < 0 || fsync(fd) < 0))
		r = -errno;
	if (r >= 0 && renameat(dfd, tmp, dfd, base) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dfd, tmp, 0);
		r = lethe_error(r, "cannot write '/%s' in '%s': %s", dst, root, strerror(-r));
	}
	futimens(dfd, ts);
	close(fd);
out_dfd:
	close(dfd);
out:
	free(data);
	return r;
}

/* One of Lethe's helper programs from the build tree (or its ENV override) at path. */
static int install_helper(struct lethe_build_ctx *ctx, const char *name, const char *env,
			  const char *path)
{
	char *tool = NULL;
	int r = lethe_build_find_tool(name, env, &tool);

	if (r >= 0)
		r = install_file(ctx->root, tool, path + 1, 0755, ctx->epoch);
	free(tool);
	return r;
}

int build_stage_tools(struct lethe_build_ctx *ctx)
{
	int r;

	r = install_file(ctx->root, ctx->spec->path, LETHE_PATH_SPEC + 1, 0644, ctx->epoch);
	if (r >= 0)
		r = install_file(ctx->root, ctx->image_tool, LETHE_PATH_TOOL + 1, 0755, ctx->epoch);
	if (r >= 0)
		r = install_file(ctx->root, ctx->init, LETHE_PATH_STAGE2 + 1, 0755, ctx->epoch);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail),
			 LETHE_PATH_SPEC ", " LETHE_PATH_TOOL ", " LETHE_PATH_STAGE2);
	/* The store's opener, only where the spec opts in (docs/persistence.md). */
	if (r >= 0 && ctx->spec->persistence)
		r = install_helper(ctx, "lethe-persist", "LETHE_PERSIST_TOOL",
				   LETHE_PATH_PERSIST_TOOL);
	/* The A/B verbs, only where the spec has update: (docs/update.md). */
	if (r >= 0 && ctx->spec->update)
		r = install_helper(ctx, "lethe-update", "LETHE_UPDATE_TOOL",
				   LETHE_PATH_UPDATE_TOOL);
	return r;
}
