/* Extract a .deb's data.tar into the staging root, distrusting every entry: a package
 * may try '..', absolute paths, symlink and hard link escapes, writes through planted
 * symlinks, device nodes and absurd sizes. No maintainer script ever runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <lethe/rootfs.h>

#include "tree.h"

#define PATH_MAX_LEN  4096
#define COPYRIGHT_MAX (1u << 20)

struct extract {
	int rootfd;
	const char *name, *file;
	const struct lethe_rootfs_options *opts;
	uint64_t *total;
	struct lethe_strv *licenses;
	struct lethe_strv *files;
	uint64_t entries;
	char copyright[PATH_MAX_LEN]; /* usr/share/doc/NAME/copyright */
};

static int refuse(const struct extract *x, const char *path, const char *fmt, ...)
	LETHE_PRINTF(3, 4);

static int refuse(const struct extract *x, const char *path, const char *fmt, ...)
{
	struct lethe_buf reason = { 0 };
	va_list ap;
	int r;

	va_start(ap, fmt);
	{
		char buf[512];

		vsnprintf(buf, sizeof(buf), fmt, ap);
		r = lethe_buf_puts(&reason, buf);
	}
	va_end(ap);
	if (r < 0)
		return r;
	r = lethe_error(-EBADMSG, "package '%s' ('%s'): entry '%s': %s", x->name, x->file, path,
			reason.data);
	lethe_buf_release(&reason);
	return r;
}

/* An archive path as a safe relative path: "./usr/bin/x" -> "usr/bin/x". The archive's
 * own "./" gives "" (the root itself). NULL when it is absolute or has '..'. */
static const char *normalise(const char *path, char *buf, size_t size)
{
	size_t l;

	if (path[0] == '/')
		return NULL;
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (!strcmp(path, "."))
		path = "";
	l = strlen(path);
	if (l >= size)
		return NULL;
	memcpy(buf, path, l + 1);
	while (l && buf[l - 1] == '/')
		buf[--l] = '\0';
	if (l == 0)
		return buf;
	return lethe_path_is_safe_relative(buf) ? buf : NULL;
}

/* Does a symlink at rel with this target stay inside the root? Relative targets are
 * resolved lexically from rel's directory, absolute ones from the root. */
static bool symlink_stays_inside(const char *rel, const char *target)
{
	long depth = 0;
	const char *p;

	if (target[0] != '/')
		for (p = rel; (p = strchr(p, '/')); p++)
			depth++;
	for (p = target; *p;) {
		const char *end = strchrnul(p, '/');
		size_t l = (size_t)(end - p);

		if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (l && !(l == 1 && p[0] == '.')) {
			depth++;
		}
		p = *end ? end + 1 : end;
	}
	return true;
}

/* The entry's owner (as root), mode and time; a failure is the build's, never ignored:
 * a file whose mode was not applied would carry the wrong one into the image. */
static int set_times_owner(struct extract *x, int dfd, const char *base, const char *rel,
			   struct archive_entry *e, bool is_link)
{
	int64_t mt = archive_entry_mtime(e);
	struct timespec ts[2];

	if (mt > x->opts->epoch || mt < 0)
		mt = x->opts->epoch;
	ts[0].tv_sec = ts[1].tv_sec = mt;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (geteuid() == 0 && fchownat(dfd, base, (uid_t)archive_entry_uid(e),
				       (gid_t)archive_entry_gid(e), AT_SYMLINK_NOFOLLOW) < 0)
		return refuse(x, rel, "cannot set the owner: %s", strerror(errno));
	if (!is_link && fchmodat(dfd, base, archive_entry_perm(e) & 07777, 0) < 0)
		return refuse(x, rel, "cannot set the mode: %s", strerror(errno));
	if (utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW) < 0)
		return refuse(x, rel, "cannot set the time: %s", strerror(errno));
	return 0;
}

static int write_regular(struct extract *x, struct archive *a, struct archive_entry *e, int dfd,
			 const char *base, const char *rel)
{
	uint64_t size = (uint64_t)archive_entry_size(e), done = 0;
	bool keep = x->licenses && !strcmp(rel, x->copyright) && size <= COPYRIGHT_MAX;
	struct lethe_buf text = { 0 };
	char buf[1 << 16];
	int fd, r = 0;

	fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return refuse(x, rel, "cannot create: %s", strerror(errno));
	while (done < size) {
		la_ssize_t n = archive_read_data(a, buf, sizeof(buf));

		if (n < 0) {
			r = refuse(x, rel, "corrupt or truncated archive: %s",
				   archive_error_string(a) ? archive_error_string(a)
							   : "read error");
			goto out;
		}
		if (n == 0)
			break;
		if ((uint64_t)n > size - done) {
			r = refuse(x, rel, "more data than its declared size");
			goto out;
		}
		if ((r = lethe_write_full(fd, buf, (size_t)n)) < 0) {
			r = lethe_error(r, "package '%s': cannot write '/%s': %s", x->name, rel,
					strerror(-r));
			goto out;
		}
		if (keep && lethe_buf_append(&text, buf, (size_t)n) < 0) {
			r = -ENOMEM;
			goto out;
		}
		done += (uint64_t)n;
	}
	if (done != size) {
		r = refuse(x, rel, "truncated: %llu of %llu bytes", (unsigned long long)done,
			   (unsigned long long)size);
		goto out;
	}
	if (keep && text.data)
		r = lethe_pkg_parse_copyright(text.data, text.len, x->licenses);
out:
	close(fd);
	lethe_buf_release(&text);
	if (r == 0)
		r = set_times_owner(x, dfd, base, rel, e, false);
	return r;
}

static int make_dir(struct extract *x, struct archive_entry *e, int dfd, const char *base,
		    const char *rel)
{
	struct stat st;

	if (mkdirat(dfd, base, 0700) < 0 && errno != EEXIST)
		return refuse(x, rel, "cannot create directory: %s", strerror(errno));
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
		return refuse(x, rel, "a directory where another package put a non-directory");
	return set_times_owner(x, dfd, base, rel, e, false);
}

static int make_hardlink(struct extract *x, const char *target_raw, int dfd, const char *base,
			 const char *rel)
{
	char tbuf[PATH_MAX_LEN];
	const char *target = normalise(target_raw, tbuf, sizeof(tbuf)), *tbase, *why = NULL;
	struct stat st;
	int tfd, r;

	if (!target || !*target)
		return refuse(x, rel, "hard link to '%s' outside the root", target_raw);
	r = tree_open_parent(x->rootfd, target, false, &tfd, &tbase, &why);
	if (r < 0)
		return refuse(x, rel, "hard link to '%s': %s", target_raw, why);
	if (fstatat(tfd, tbase, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
		close(tfd);
		return refuse(x, rel,
			      "hard link to '%s', which is not a regular file extracted "
			      "before it",
			      target_raw);
	}
	r = linkat(tfd, tbase, dfd, base, 0) < 0 ? -errno : 0;
	close(tfd);
	if (r < 0)
		return refuse(x, rel, "cannot create hard link: %s", strerror(-r));
	return 0;
}

static int check_size(struct extract *x, struct archive_entry *e, const char *rel)
{
	uint64_t max = x->opts->max_entry_size ? x->opts->max_entry_size : LETHE_ROOTFS_MAX_ENTRY;
	uint64_t tmax = x->opts->max_total_size ? x->opts->max_total_size : LETHE_ROOTFS_MAX_TOTAL;
	la_int64_t size = archive_entry_size(e);

	uint64_t emax = x->opts->max_entries ? x->opts->max_entries : LETHE_ROOTFS_MAX_ENTRIES;

	if (++x->entries > emax)
		return refuse(x, rel, "more than %llu entries in one package",
			      (unsigned long long)emax);
	if (!archive_entry_size_is_set(e) && archive_entry_filetype(e) == AE_IFREG)
		return refuse(x, rel, "no size");
	if (size < 0 || (uint64_t)size > max)
		return refuse(x, rel, "size %lld exceeds the limit of %llu bytes", (long long)size,
			      (unsigned long long)max);
	if ((uint64_t)size > tmax - *x->total)
		return refuse(x, rel, "the packages exceed the total limit of %llu bytes",
			      (unsigned long long)tmax);
	*x->total += (uint64_t)size;
	return 0;
}

static int extract_entry(struct archive *a, struct archive_entry *e, void *userdata)
{
	struct extract *x = userdata;
	const char *raw = archive_entry_pathname(e), *rel, *base, *why = NULL;
	const char *hl = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	char buf[PATH_MAX_LEN];
	int dfd, r;

	if (!raw)
		return refuse(x, "?", "entry without a name");
	rel = normalise(raw, buf, sizeof(buf));
	if (!rel)
		return refuse(
			x, raw, "%s",
			raw[0] == '/'
				? "absolute path"
				: "path with '..', an empty component or a control character");
	if (!*rel) {
		if (type != AE_IFDIR)
			return refuse(x, raw, "the root is not a directory");
		/* "./": the root, which the staging directory already is */
		return x->files ? lethe_strv_push(x->files, "/.") : 0;
	}
	if ((r = check_size(x, e, rel)) < 0)
		return r;
	if (!hl && (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO) &&
	    !x->opts->allow_devices)
		return refuse(x, rel, "%s (the spec does not allow devices)",
			      type == AE_IFIFO ? "fifo" : "device node");
	if (!hl && type == AE_IFSOCK)
		return refuse(x, rel, "socket");
	if (!hl && type == AE_IFLNK) {
		const char *t = archive_entry_symlink(e);

		if (!t || !*t || strlen(t) >= PATH_MAX_LEN)
			return refuse(x, rel, "symbolic link without a target");
		for (const char *c = t; *c; c++)
			if ((unsigned char)*c < 0x20)
				return refuse(x, rel,
					      "symbolic link target with a control character");
		if (!symlink_stays_inside(rel, t))
			return refuse(x, rel, "symbolic link to '%s' leads outside the root", t);
	}
	r = tree_open_parent(x->rootfd, rel, true, &dfd, &base, &why);
	if (r < 0)
		return r == -EBADMSG ? refuse(x, rel, "%s", why)
				     : lethe_error(r, "package '%s': cannot create '/%s': %s",
						   x->name, rel, why);
	/* A later package's file replaces an earlier one's (never a directory). */
	if (type != AE_IFDIR || hl) {
		r = tree_unlink_nondir(dfd, base);
		if (r < 0) {
			close(dfd);
			return refuse(x, rel, "%s",
				      r == -EISDIR ? "would replace a directory" : strerror(-r));
		}
	}
	if (hl)
		r = make_hardlink(x, hl, dfd, base, rel);
	else if (type == AE_IFREG)
		r = write_regular(x, a, e, dfd, base, rel);
	else if (type == AE_IFDIR)
		r = make_dir(x, e, dfd, base, rel);
	else if (type == AE_IFLNK) {
		r = symlinkat(archive_entry_symlink(e), dfd, base) < 0
			    ? refuse(x, rel, "cannot create symbolic link: %s", strerror(errno))
			    : 0;
		if (r == 0)
			r = set_times_owner(x, dfd, base, rel, e, true);
	} else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO) {
		dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));

		r = mknodat(dfd, base, type | (archive_entry_perm(e) & 0777), dev) < 0
			    ? refuse(x, rel, "cannot create node: %s", strerror(errno))
			    : 0;
		if (r == 0)
			r = set_times_owner(x, dfd, base, rel, e, false);
	} else {
		r = refuse(x, rel, "unknown entry type 0%o", (unsigned)type);
	}
	close(dfd);
	if (r == 0 && x->files) {
		char *abs = lethe_path_join("/", rel);

		r = abs ? lethe_strv_push(x->files, abs) : -ENOMEM;
		free(abs);
	}
	return r;
}

int rootfs_extract_listed(int rootfd, int debfd, const char *name, const char *file,
			  const struct lethe_rootfs_options *opts, uint64_t *total,
			  struct lethe_strv *licenses, struct lethe_strv *files)
{
	struct extract x = { rootfd, name, file, opts, total, licenses, files, 0, { 0 } };
	struct lethe_buf label = { 0 };
	int r;

	snprintf(x.copyright, sizeof(x.copyright), "usr/share/doc/%s/copyright", name);
	if (lethe_buf_printf(&label, "package '%s' ('%s')", name, file) < 0)
		return -ENOMEM;
	r = lethe_deb_walk(debfd, label.data, LETHE_DEB_DATA, extract_entry, &x);
	lethe_buf_release(&label);
	return r;
}

int lethe_rootfs_extract(int rootfd, int debfd, const char *name, const char *file,
			 const struct lethe_rootfs_options *opts, uint64_t *total,
			 struct lethe_strv *licenses)
{
	return rootfs_extract_listed(rootfd, debfd, name, file, opts, total, licenses, NULL);
}
