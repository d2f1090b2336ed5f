/* Accounts that work in the image (issue 13.2): busybox's applet links, so that /bin/sh
 * and the usual commands exist; every declared user's home, owned by it, mode 0700; and
 * every declared login shell present and executable in the root. docs/rootfs.md. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <lethe/rootfs.h>
#include <lethe/run.h>

#include "tree.h"

#define BUSYBOX		"bin/busybox"
#define APPLETS_MAX	1024
#define APPLET_PATH_MAX 128
#define NOBODY_USERSPEC "--userspec=65534:65534"
#define NO_HOME		"/nonexistent"

/* Shells that mean "no login": where the image has none, exec fails, which is the
 * same refusal (an appliance without busybox has no nologin). */
static const char *const no_login_shells[] = { "/usr/sbin/nologin", "/sbin/nologin", "/bin/false",
					       "/usr/bin/false", NULL };

/* A path busybox --list-full may print: relative, [a-z0-9_.[-] components, no "..". */
static bool applet_path_ok(const char *p, size_t len)
{
	if (len == 0 || len >= APPLET_PATH_MAX || p[0] == '/' || p[len - 1] == '/')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789_.-[/", p[i]))
			return false;
	if (memmem(p, len, "//", 2) || memmem(p, len, "..", 2) || p[0] == '.')
		return false;
	return true;
}

/* The link target that reaches bin/busybox from rel's directory. */
static int applet_target(const char *rel, struct lethe_buf *b)
{
	size_t depth = 0;
	int r = 0;

	b->len = 0;
	if (!strncmp(rel, "bin/", 4) && !strchr(rel + 4, '/'))
		return lethe_buf_puts(b, "busybox");
	for (const char *p = rel; *p; p++)
		depth += *p == '/';
	for (size_t i = 0; r == 0 && i < depth; i++)
		r = lethe_buf_puts(b, "../");
	return r ? r : lethe_buf_puts(b, BUSYBOX);
}

/* One applet link, unless something (a real program, a link) is there already or the
 * way there goes through a symbolic link: 1 made, 0 left alone. */
static int applet_link(int rootfd, const char *rel, int64_t epoch)
{
	struct lethe_buf target = { 0 };
	const char *base, *why = NULL;
	struct stat st;
	int dfd, r;

	r = tree_open_parent(rootfd, rel, true, &dfd, &base, &why);
	if (r == -EBADMSG) {
		lethe_error_clear();
		return 0; /* through a link (a merged /usr): the program is reached there */
	}
	if (r < 0)
		return lethe_error(r, "cannot link '/%s' in the root: %s", rel, why);
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		close(dfd);
		return 0;
	}
	close(dfd);
	r = applet_target(rel, &target);
	if (r == 0)
		r = tree_symlink(rootfd, rel, target.data, epoch);
	lethe_buf_release(&target);
	return r < 0 ? r : 1;
}

int lethe_rootfs_busybox_links(const char *staging, int rootfd, int64_t epoch, unsigned *ret_links)
{
	char *argv[] = { (char *)"chroot",    (char *)NOBODY_USERSPEC, (char *)staging,
			 (char *)"/" BUSYBOX, (char *)"--list-full",   NULL };
	struct lethe_run_options o = { .out_max = APPLETS_MAX * APPLET_PATH_MAX };
	struct lethe_buf out = { 0 };
	struct stat st;
	unsigned made = 0, n = 0;
	int r;

	*ret_links = 0;
	if (fstatat(rootfd, BUSYBOX, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & 0111))
		return 0;
	/* The image's own busybox says which applets it has; it runs as nobody, chrooted
	 * into the staged root, with the runner's clean environment. */
	o.out = &out;
	r = lethe_run(argv, &o, NULL);
	if (r < 0) {
		lethe_buf_release(&out);
		return lethe_error(r,
				   "cannot list busybox's applets ('/" BUSYBOX
				   " --list-full' in the root): %s",
				   lethe_error_message_for(r) ? lethe_error_message_for(r)
							      : strerror(-r));
	}
	for (size_t pos = 0; r >= 0 && pos < out.len;) {
		const char *line = out.data + pos, *nl = memchr(line, '\n', out.len - pos);
		size_t len = nl ? (size_t)(nl - line) : out.len - pos;
		char rel[APPLET_PATH_MAX];

		pos += len + 1;
		if (len == 0)
			continue;
		if (!applet_path_ok(line, len) || ++n > APPLETS_MAX) {
			r = lethe_error(-EBADMSG,
					"'/" BUSYBOX
					" --list-full' printed '%.*s': not an applet path",
					(int)(len < 80 ? len : 80), line);
			break;
		}
		memcpy(rel, line, len);
		rel[len] = '\0';
		if (!strcmp(rel, BUSYBOX))
			continue;
		r = applet_link(rootfd, rel, epoch);
		made += r > 0;
	}
	lethe_buf_release(&out);
	if (r < 0)
		return r;
	*ret_links = made;
	return 0;
}

/* The home: made (parents root's, 0755) or, if a package or a file of the spec made
 * it, taken over; owned by the user, 0700. */
static int make_home(const struct lethe_spec *spec, const struct lethe_spec_user *u, int rootfd)
{
	const char *rel = u->home, *base, *why = NULL;
	struct stat st;
	int dfd, r;

	while (*rel == '/')
		rel++;
	if (!*rel || !strcmp(u->home, NO_HOME))
		return 0;
	if (!lethe_path_is_safe_relative(rel))
		return lethe_error(-EBADMSG,
				   "spec '%s' line %u: home '%s' of user '%s' is not a "
				   "safe path",
				   spec->path ? spec->path : "?", u->line, u->home, u->name);
	r = tree_open_parent(rootfd, rel, true, &dfd, &base, &why);
	if (r < 0)
		return lethe_error(r, "spec '%s' line %u: cannot make home '%s' of user '%s': %s",
				   spec->path ? spec->path : "?", u->line, u->home, u->name, why);
	if (mkdirat(dfd, base, 0700) < 0 && errno != EEXIST)
		r = -errno;
	else if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else if (!S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	else if (geteuid() == 0 && fchownat(dfd, base, u->uid, u->gid, AT_SYMLINK_NOFOLLOW) < 0)
		r = -errno;
	else if (fchmodat(dfd, base, 0700, 0) < 0)
		r = -errno;
	close(dfd);
	if (r < 0)
		return lethe_error(r, "spec '%s' line %u: cannot make home '%s' of user '%s': %s",
				   spec->path ? spec->path : "?", u->line, u->home, u->name,
				   r == -ENOTDIR ? "something else than a directory is there"
						 : strerror(-r));
	return 0;
}

/* path resolved inside the root, symbolic links included (absolute ones too, against
 * the root, as they will be at boot). */
static int stat_in_root(int rootfd, const char *path, struct stat *st)
{
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how)), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) < 0)
		r = -errno;
	close(fd);
	return r;
}

static bool is_no_login(const char *shell)
{
	for (size_t i = 0; no_login_shells[i]; i++)
		if (!strcmp(shell, no_login_shells[i]))
			return true;
	return false;
}

static int check_shell(const struct lethe_spec *spec, const struct lethe_spec_user *u, int rootfd)
{
	struct stat st;
	int r;

	if (!u->shell)
		return 0;
	r = stat_in_root(rootfd, u->shell, &st);
	if (r == -ENOENT && is_no_login(u->shell))
		return 0;
	if (r < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return lethe_error(-ENOENT,
				   "spec '%s' line %u: shell '%s' of user '%s' is not in the image "
				   "(%s); add the package that has it, or use /usr/sbin/nologin",
				   spec->path ? spec->path : "?", u->line, u->shell, u->name,
				   r < 0		  ? strerror(-r)
				   : !S_ISREG(st.st_mode) ? "not a regular file"
							  : "not executable");
	return 0;
}

/* session.admin_password: ask: su must be able to become root, so busybox is setuid
 * root (its FEATURE_SUID drops root at once for every applet that does not need it).
 * Without it the image gets no setuid busybox, and su fails: no way to root. */
static int admin_su(const struct lethe_spec *spec, int rootfd)
{
	struct stat st;

	if (!spec->session.admin_password)
		return 0;
	if (fstatat(rootfd, BUSYBOX, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return lethe_error(-ENOENT,
				   "spec '%s' line %u: session.admin_password needs su, and the "
				   "image has no /" BUSYBOX " (add busybox-static)",
				   spec->path ? spec->path : "?", spec->session.line);
	if (st.st_uid != 0 || fchmodat(rootfd, BUSYBOX, 04755, 0) < 0)
		return lethe_error(st.st_uid ? -EPERM : -errno,
				   "cannot make /" BUSYBOX " setuid root for su: %s",
				   st.st_uid ? "it is not root's (build as root)"
					     : strerror(errno));
	return 0;
}

/* session.graphical (issue 13.4): lethe-init runs cage, seatd and the spec's program;
 * the build refuses an image without one of them rather than boot a session that
 * restarts a missing program for ever. */
static int check_graphical(const struct lethe_spec *spec, int rootfd)
{
	const char *need[] = { "/usr/bin/cage", "/usr/sbin/seatd",
			       spec->session.graphical.n ? spec->session.graphical.v[0] : NULL };
	static const char *const package[] = { "cage", "seatd", NULL };
	struct stat st;

	for (size_t i = 0; spec->session.graphical.n && i < LETHE_ARRAY_SIZE(need); i++)
		if (stat_in_root(rootfd, need[i], &st) < 0 || !S_ISREG(st.st_mode) ||
		    !(st.st_mode & 0111))
			return lethe_error(-ENOENT,
					   "spec '%s' line %u: session.graphical needs '%s', which "
					   "is not in the image (add the package %s)",
					   spec->path ? spec->path : "?", spec->session.graphical_line,
					   need[i], package[i] ? package[i] : "that has it");
	return 0;
}

int lethe_rootfs_accounts_finish(const struct lethe_spec *spec, int rootfd)
{
	int r = admin_su(spec, rootfd);

	if (r == 0)
		r = check_graphical(spec, rootfd);

	for (size_t i = 0; r == 0 && i < spec->n_users; i++)
		r = make_home(spec, &spec->users[i], rootfd);
	for (size_t i = 0; r == 0 && i < spec->n_users; i++)
		r = check_shell(spec, &spec->users[i], rootfd);
	return r;
}
