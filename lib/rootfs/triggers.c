/* Build-time triggers (issue 13.1, docs/rootfs.md): the fixed set of cache generators
 * that Debian's maintainer scripts and dpkg triggers would run, run here on the staged
 * root, each only when the root holds what it reads, each reproducibly (the build's
 * epoch as SOURCE_DATE_EPOCH, the runner's clean environment, inputs the tool sorts or
 * that are sorted here, every mtime clamped afterwards). Never a maintainer script. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/rootfs.h>
#include <lethe/run.h>

#include "tree.h"

#define MULTIARCH	"usr/lib/x86_64-linux-gnu"
#define SCHEMAS		"usr/share/glib-2.0/schemas"
#define PIXBUF_DIR	MULTIARCH "/gdk-pixbuf-2.0"
#define PIXBUF_LOADERS	PIXBUF_DIR "/2.10.0/loaders"
#define PIXBUF_CACHE	PIXBUF_DIR "/2.10.0/loaders.cache"
#define PIXBUF_QUERY	PIXBUF_DIR "/gdk-pixbuf-query-loaders"
#define GIO_MODULES	MULTIARCH "/gio/modules"
#define GIO_QUERY	MULTIARCH "/glib-2.0/gio-querymodules"
#define MIME_DIR	"usr/share/mime"
#define ICONS_DIR	"usr/share/icons"
#define MODULES_DIR	"lib/modules"
#define NOBODY_USERSPEC "--userspec=65534:65534"
#define CACHE_MAX	(16u << 20)

struct trig_ctx {
	const char *root; /* the staging directory */
	int rootfd;
	int64_t epoch;
	struct lethe_strv *ran; /* "NAME: detail" of every trigger that ran */
};

static bool exists(const struct trig_ctx *t, const char *rel, mode_t type)
{
	struct stat st;

	return fstatat(t->rootfd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       (!type || (st.st_mode & S_IFMT) == type);
}

/* Entries of the directory rel whose names match glob, or -errno. */
static int count_matching(const struct trig_ctx *t, const char *rel, const char *glob)
{
	int fd = openat(t->rootfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), n = 0;
	DIR *d = NULL;

	if (fd < 0)
		return -errno;
	if (lethe_opendir_fd(fd, &d) < 0) {
		close(fd);
		return -EIO;
	}
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.' && fnmatch(glob, e->d_name, 0) == 0;
	closedir(d);
	close(fd);
	return n;
}

static char *root_path(const struct trig_ctx *t, const char *rel)
{
	return lethe_path_join(t->root, rel);
}

static int run(const struct trig_ctx *t, const char *name, char *const argv[],
	       struct lethe_buf *out)
{
	struct lethe_run_options o = { .epoch_set = true, .epoch = t->epoch, .out = out };
	int r = lethe_run(argv, &o, NULL);

	if (r < 0)
		return lethe_error(r, "trigger %s: %s", name,
				   lethe_error_message_for(r) ? lethe_error_message_for(r)
							      : strerror(-r));
	return 0;
}

static int ran(const struct trig_ctx *t, const char *name, const char *detail)
{
	struct lethe_buf b = { 0 };
	int r = lethe_buf_printf(&b, "%s: %s", name, detail);

	if (r == 0)
		r = lethe_strv_push(t->ran, b.data);
	lethe_buf_release(&b);
	return r;
}

/* ldconfig -r: /etc/ld.so.cache from the root's own ld.so.conf; -X: the packages'
 * soname links stay as they are. */
static int trig_ldconfig(const struct trig_ctx *t)
{
	char *argv[] = { "ldconfig", "-X", "-r", (char *)t->root, NULL };
	int r;

	if (!exists(t, "etc/ld.so.conf", S_IFREG))
		return 0;
	r = run(t, "ldconfig", argv, NULL);
	return r < 0 ? r : ran(t, "ldconfig", "/etc/ld.so.cache");
}

/* fc-cache over the root's fontconfig configuration (fontconfig honours
 * SOURCE_DATE_EPOCH in its caches and names them by the path inside the sysroot). */
static int trig_fc_cache(const struct trig_ctx *t)
{
	char *argv[] = { "fc-cache", "--sysroot", (char *)t->root, "-s", "-f", NULL };
	int r;

	if (!exists(t, "etc/fonts/fonts.conf", S_IFREG) || !exists(t, "usr/share/fonts", S_IFDIR))
		return 0;
	r = run(t, "fc-cache", argv, NULL);
	return r < 0 ? r : ran(t, "fc-cache", "/var/cache/fontconfig");
}

static int trig_schemas(const struct trig_ctx *t)
{
	char *dir = root_path(t, SCHEMAS);
	char *argv[] = { "glib-compile-schemas", dir, NULL };
	int n = count_matching(t, SCHEMAS, "*.gschema.xml"), r;

	if (!dir)
		return -ENOMEM;
	r = n > 0 ? run(t, "glib-compile-schemas", argv, NULL) : 0;
	free(dir);
	return r < 0 || n <= 0 ? r
			       : ran(t, "glib-compile-schemas", "/" SCHEMAS "/gschemas.compiled");
}

/* Blocks of a loaders.cache (separated by blank lines), comments first, the rest
 * sorted: the tool lists loaders in directory order. */
static int sort_blocks(const struct lethe_buf *in, struct lethe_buf *out)
{
	struct lethe_strv blocks = { 0 };
	const char *p = in->data ? in->data : "", *end = p + in->len;
	int r = 0;

	while (r == 0 && p < end) {
		const char *sep = strstr(p, "\n\n");
		size_t len = sep ? (size_t)(sep - p) + 1 : (size_t)(end - p);
		char *b = strndup(p, len);

		if (!b)
			return -ENOMEM;
		if (b[0] == '#')
			r = lethe_buf_printf(out, "%s\n", b);
		else if (len > 1)
			r = lethe_strv_push(&blocks, b);
		free(b);
		p += len + (sep ? 1 : 0);
	}
	lethe_strv_sort(&blocks);
	for (size_t i = 0; r == 0 && i < blocks.n; i++)
		r = lethe_buf_printf(out, "%s\n", blocks.v[i]);
	lethe_strv_release(&blocks);
	return r;
}

/* The image's own gdk-pixbuf-query-loaders (it dlopens the image's loaders), chrooted
 * into the root as nobody; its output becomes loaders.cache. */
static int trig_pixbuf(const struct trig_ctx *t)
{
	char *argv[] = { "chroot", NOBODY_USERSPEC, (char *)t->root, "/" PIXBUF_QUERY, NULL };
	struct lethe_buf out = { 0 }, sorted = { 0 };
	int r;

	if (count_matching(t, PIXBUF_LOADERS, "*.so") <= 0 || !exists(t, PIXBUF_QUERY, S_IFREG))
		return 0;
	r = run(t, "gdk-pixbuf-query-loaders", argv, &out);
	if (r == 0)
		r = sort_blocks(&out, &sorted);
	if (r == 0)
		r = tree_write_file(t->rootfd, PIXBUF_CACHE, sorted.data ? sorted.data : "",
				    sorted.len, 0644, 0, 0, t->epoch);
	lethe_buf_release(&out);
	lethe_buf_release(&sorted);
	return r < 0 ? r : ran(t, "gdk-pixbuf-query-loaders", "/" PIXBUF_CACHE);
}

/* The image's gio-querymodules writes giomodule.cache itself, so it runs chrooted as
 * nobody on a module directory lent to nobody for the run, then given back to root. */
static int trig_gio(const struct trig_ctx *t)
{
	char *argv[] = { "chroot",	NOBODY_USERSPEC, (char *)t->root,
			 "/" GIO_QUERY, "/" GIO_MODULES, NULL };
	int r;

	if (count_matching(t, GIO_MODULES, "*.so") <= 0 || !exists(t, GIO_QUERY, S_IFREG))
		return 0;
	if (geteuid() != 0)
		return lethe_error(-EPERM, "trigger gio-querymodules: needs a build as root");
	if (fchownat(t->rootfd, GIO_MODULES, 65534, 65534, AT_SYMLINK_NOFOLLOW) < 0)
		return lethe_error(-errno,
				   "trigger gio-querymodules: cannot lend /" GIO_MODULES ": %m");
	r = run(t, "gio-querymodules", argv, NULL);
	if (fchownat(t->rootfd, GIO_MODULES, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 && r == 0)
		r = lethe_error(-errno,
				"trigger gio-querymodules: cannot give back /" GIO_MODULES ": %m");
	if (r == 0 && exists(t, GIO_MODULES "/giomodule.cache", S_IFREG) &&
	    (fchownat(t->rootfd, GIO_MODULES "/giomodule.cache", 0, 0, AT_SYMLINK_NOFOLLOW) < 0 ||
	     fchmodat(t->rootfd, GIO_MODULES "/giomodule.cache", 0644, 0) < 0))
		r = -errno;
	return r < 0 ? r : ran(t, "gio-querymodules", "/" GIO_MODULES "/giomodule.cache");
}

static int trig_mime(const struct trig_ctx *t)
{
	char *dir = root_path(t, MIME_DIR);
	char *argv[] = { "update-mime-database", dir, NULL };
	const char *const env[] = { "PKGSYSTEM_ENABLE_FSYNC=0", NULL };
	struct lethe_run_options o = { .epoch_set = true, .epoch = t->epoch, .env = env };
	int r = 0;

	if (!dir)
		return -ENOMEM;
	if (count_matching(t, MIME_DIR "/packages", "*.xml") > 0) {
		r = lethe_run(argv, &o, NULL);
		if (r < 0)
			r = lethe_error(r, "trigger update-mime-database: %s",
					lethe_error_message_for(r) ? lethe_error_message_for(r)
								   : strerror(-r));
		else
			r = ran(t, "update-mime-database", "/" MIME_DIR);
	}
	free(dir);
	return r;
}

/* The names of the entries of the root's directory dir that hold sub (of type), in name
 * order, into *ret: the icon themes with an index.theme, the kernel versions with
 * modules. None when dir does not exist. */
static int list_holding(const struct trig_ctx *t, const char *dir, const char *sub, mode_t type,
			struct lethe_strv *ret)
{
	int fd = openat(t->rootfd, dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = NULL;
	int r = 0;

	if (fd < 0)
		return 0;
	if (lethe_opendir_fd(fd, &d) < 0) {
		close(fd);
		return -EIO;
	}
	for (struct dirent *e; r == 0 && (e = readdir(d));) {
		struct lethe_buf rel = { 0 };

		if (e->d_name[0] == '.')
			continue;
		r = lethe_buf_printf(&rel, "%s/%s/%s", dir, e->d_name, sub);
		if (r == 0 && exists(t, rel.data, type))
			r = lethe_strv_push(ret, e->d_name);
		lethe_buf_release(&rel);
	}
	closedir(d);
	close(fd);
	lethe_strv_sort(ret);
	return r;
}

/* Every icon theme with an index.theme, in name order. */
static int trig_icons(const struct trig_ctx *t)
{
	struct lethe_strv themes = { 0 };
	int r = list_holding(t, ICONS_DIR, "index.theme", S_IFREG, &themes);

	for (size_t i = 0; r == 0 && i < themes.n; i++) {
		struct lethe_buf rel = { 0 };
		char *dir = NULL;

		r = lethe_buf_printf(&rel, ICONS_DIR "/%s", themes.v[i]);
		if (r == 0 && !(dir = root_path(t, rel.data)))
			r = -ENOMEM;
		if (r == 0) {
			char *argv[] = { "gtk-update-icon-cache", "-f", "-q", dir, NULL };

			r = run(t, "gtk-update-icon-cache", argv, NULL);
		}
		if (r == 0)
			r = ran(t, "gtk-update-icon-cache", rel.data + strlen(ICONS_DIR) + 1);
		free(dir);
		lethe_buf_release(&rel);
	}
	lethe_strv_release(&themes);
	return r;
}

/* depmod for every kernel version under /lib/modules of the root that has modules
 * (the boot's own modules are in the initramfs; an image may carry more). */
static int trig_depmod(const struct trig_ctx *t)
{
	struct lethe_strv versions = { 0 };
	int r = list_holding(t, MODULES_DIR, "kernel", S_IFDIR, &versions);

	for (size_t i = 0; r == 0 && i < versions.n; i++) {
		char *argv[] = { "depmod", "-b", (char *)t->root, versions.v[i], NULL };

		r = run(t, "depmod", argv, NULL);
		if (r == 0)
			r = ran(t, "depmod", versions.v[i]);
	}
	lethe_strv_release(&versions);
	return r;
}

/* The set, in the order they run (documented in docs/rootfs.md): the library cache
 * first, since the chrooted tools after it load libraries. */
static int (*const triggers[])(const struct trig_ctx *t) = {
	trig_ldconfig, trig_fc_cache, trig_schemas, trig_pixbuf,
	trig_gio,      trig_mime,     trig_icons,   trig_depmod,
};

int lethe_rootfs_triggers(const char *staging, int rootfd, int64_t epoch, struct lethe_strv *ran)
{
	struct trig_ctx t = { .root = staging, .rootfd = rootfd, .epoch = epoch, .ran = ran };
	int r = 0;

	for (size_t i = 0; r == 0 && i < LETHE_ARRAY_SIZE(triggers); i++)
		r = triggers[i](&t);
	return r;
}
