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

/* Copy src to root-relative dst (parents created 0755, owned by root), mode and
 * mtime set; the file is written whole or not at all. */
static int install_file(const char *root, const char *src, const char *dst, mode_t mode,
			int64_t epoch)
{
	char *data = NULL, *path = lethe_path_join(root, dst), *dir = NULL;
	struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	dir = strdup(path);
	if (!dir) {
		r = -ENOMEM;
		goto out;
	}
	*strrchr(dir, '/') = '\0';
	r = lethe_mkdir_p(dir, 0755);
	if (r < 0) {
		r = lethe_error(r, "cannot create '%s': %s", dir, strerror(-r));
		goto out;
	}
	r = lethe_file_read(src, 256u << 20, &data, &len);
	if (r < 0)
		goto out;
	r = lethe_file_write_atomic(path, data, len, mode);
	if (r < 0) {
		r = lethe_error(r, "cannot write '%s': %s", path, strerror(-r));
		goto out;
	}
	if (lchown(path, 0, 0) < 0 && geteuid() == 0) {
		r = lethe_error(-errno, "cannot chown '%s': %m", path);
		goto out;
	}
	if (chmod(path, mode) < 0 || utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
		r = lethe_error(-errno, "cannot set mode or time of '%s': %m", path);
out:
	free(data);
	free(path);
	free(dir);
	return r;
}

/* Directories made by lethe_mkdir_p() get the build's time: clamp them too. */
static int clamp_dir(const char *root, const char *rel, int64_t epoch)
{
	struct timespec ts[2] = { { epoch, 0 }, { epoch, 0 } };
	char *p = lethe_path_join(root, rel);
	int r = 0;

	if (!p)
		return -ENOMEM;
	if (utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW) < 0 && errno != ENOENT)
		r = lethe_error(-errno, "cannot set the time of '%s': %m", p);
	free(p);
	return r;
}

int build_stage_tools(struct lethe_build_ctx *ctx)
{
	static const char *const dirs[] = { "etc/lethe", "etc", "usr/lib/lethe", "usr/lib",
					    "usr/bin", "usr" };
	int r;

	r = install_file(ctx->root, ctx->spec->path, "etc/lethe/spec.yaml", 0644, ctx->epoch);
	if (r >= 0)
		r = install_file(ctx->root, ctx->image_tool, "usr/bin/lethe", 0755, ctx->epoch);
	if (r >= 0)
		r = install_file(ctx->root, ctx->init, "usr/lib/lethe/lethe-init", 0755,
				 ctx->epoch);
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(dirs) && r >= 0; i++)
		r = clamp_dir(ctx->root, dirs[i], ctx->epoch);
	if (r >= 0)
		snprintf(ctx->detail, sizeof(ctx->detail),
			 "/etc/lethe/spec.yaml, /usr/bin/lethe, /usr/lib/lethe/lethe-init");
	return r;
}
