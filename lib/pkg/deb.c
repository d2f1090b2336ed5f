/* .deb files: an ar archive holding debian-binary, control.tar.* and data.tar.*, read
 * with libarchive (the inner tar streams out of the ar member, never to disk). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <lethe/pkg.h>

#define DEB_MAX_MEMBERS 16
#define DEB_BLOCK	(64u << 10)

struct nested {
	struct archive *outer;
	char buf[DEB_BLOCK];
};

static const char *errstr(struct archive *a)
{
	return archive_error_string(a) ? archive_error_string(a) : "truncated or unreadable";
}

static la_ssize_t nested_read(struct archive *a, void *userdata, const void **buf)
{
	struct nested *n = userdata;

	*buf = n->buf;
	return archive_read_data(n->outer, n->buf, sizeof(n->buf));
}

/* Is member name "BASE" or "BASE" + one of the compressions dpkg-deb writes? */
static bool member_is(const char *name, const char *base, bool data)
{
	static const char *const suffixes[] = { "", ".gz", ".xz", ".zst" };
	size_t bl = strlen(base);

	if (strncmp(name, base, bl))
		return false;
	for (size_t i = 0; i < LETHE_ARRAY_SIZE(suffixes); i++)
		if (!strcmp(name + bl, suffixes[i]))
			return true;
	/* data.tar.bz2 and .lzma are still accepted by dpkg for data only. */
	return data && (!strcmp(name + bl, ".bz2") || !strcmp(name + bl, ".lzma"));
}

static int check_debian_binary(struct archive *a, const char *label)
{
	char buf[17];
	la_ssize_t n = archive_read_data(a, buf, sizeof(buf) - 1);

	if (n < 4 || n > 12)
		return lethe_error(-EBADMSG, "%s: debian-binary is not a format version", label);
	buf[n] = '\0';
	if (strncmp(buf, "2.", 2) || buf[n - 1] != '\n')
		return lethe_error(-EBADMSG, "%s: unsupported .deb format version", label);
	return 0;
}

static int walk_inner(struct archive *outer, const char *label, const char *member,
		      lethe_deb_entry_fn fn, void *userdata)
{
	struct nested *n = malloc(sizeof(*n));
	struct archive *in = archive_read_new();
	struct archive_entry *e;
	int r = 0, ar;

	if (!n || !in) {
		r = -ENOMEM;
		goto out;
	}
	n->outer = outer;
	archive_read_support_format_tar(in);
	archive_read_support_filter_gzip(in);
	archive_read_support_filter_xz(in);
	archive_read_support_filter_zstd(in);
	archive_read_support_filter_bzip2(in);
	archive_read_support_filter_lzma(in);
	if (archive_read_open(in, n, NULL, nested_read, NULL) != ARCHIVE_OK) {
		r = lethe_error(-EBADMSG, "%s: %s: %s", label, member, errstr(in));
		goto out;
	}
	while ((ar = archive_read_next_header(in, &e)) == ARCHIVE_OK) {
		r = fn(in, e, userdata);
		if (r)
			goto out;
	}
	if (ar != ARCHIVE_EOF)
		r = lethe_error(-EBADMSG, "%s: %s: corrupt or truncated: %s", label, member,
				errstr(in));
out:
	if (in)
		archive_read_free(in);
	free(n);
	return r;
}

int lethe_deb_walk(int fd, const char *label, enum lethe_deb_part part, lethe_deb_entry_fn fn,
		   void *userdata)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	unsigned members = 0;
	bool seen_control = false;
	int r = -EBADMSG, ar;

	if (!a)
		return -ENOMEM;
	archive_read_support_format_ar(a);
	if (archive_read_open_fd(a, fd, DEB_BLOCK) != ARCHIVE_OK) {
		r = lethe_error(-EBADMSG, "%s: not an ar archive: %s", label, errstr(a));
		goto out;
	}
	while ((ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *name = archive_entry_pathname(e);

		if (!name || ++members > DEB_MAX_MEMBERS) {
			r = lethe_error(-EBADMSG, "%s: too many or unnamed ar members", label);
			goto out;
		}
		if (members == 1) {
			if (strcmp(name, "debian-binary")) {
				r = lethe_error(-EBADMSG,
						"%s: first member is '%s', not debian-binary",
						label, name);
				goto out;
			}
			if ((r = check_debian_binary(a, label)) < 0)
				goto out;
			continue;
		}
		if (name[0] == '_')
			continue; /* dpkg's rule: members starting with '_' are ignored */
		if (!seen_control && member_is(name, "control.tar", false)) {
			seen_control = true;
			if (part == LETHE_DEB_CONTROL) {
				r = walk_inner(a, label, name, fn, userdata);
				goto out;
			}
			continue;
		}
		if (seen_control && member_is(name, "data.tar", true)) {
			if (part == LETHE_DEB_DATA) {
				r = walk_inner(a, label, name, fn, userdata);
				goto out;
			}
			break;
		}
		r = lethe_error(-EBADMSG, "%s: unexpected ar member '%s'", label, name);
		goto out;
	}
	if (ar != ARCHIVE_OK && ar != ARCHIVE_EOF)
		r = lethe_error(-EBADMSG, "%s: corrupt or truncated archive: %s", label, errstr(a));
	else
		r = lethe_error(-EBADMSG, "%s: no %s member", label,
				part == LETHE_DEB_DATA ? "data.tar" : "control.tar");
out:
	archive_read_free(a);
	return r;
}

/* Read the current entry whole (at most max bytes) into a NUL-terminated buffer. */
static int read_entry(struct archive *a, struct archive_entry *e, size_t max, char **ret,
		      size_t *ret_len)
{
	la_int64_t size = archive_entry_size(e);
	char *buf;
	size_t done = 0;

	if (size < 0 || (uint64_t)size > max)
		return -EFBIG;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return -ENOMEM;
	while (done < (size_t)size) {
		la_ssize_t n = archive_read_data(a, buf + done, (size_t)size - done);

		if (n <= 0) {
			free(buf);
			return -EBADMSG;
		}
		done += (size_t)n;
	}
	buf[done] = '\0';
	*ret = buf;
	*ret_len = done;
	return 0;
}

struct control_ctx {
	const char *label;
	struct lethe_pkg_control *out;
	bool found;
};

static int control_entry(struct archive *a, struct archive_entry *e, void *userdata)
{
	struct control_ctx *ctx = userdata;
	const char *p = archive_entry_pathname(e);
	char *text;
	size_t len;
	int r;

	if (!p || (strcmp(p, "./control") && strcmp(p, "control")))
		return 0;
	if (archive_entry_filetype(e) != AE_IFREG)
		return lethe_error(-EBADMSG, "%s: control is not a regular file", ctx->label);
	r = read_entry(a, e, LETHE_PKG_MAX_CONTROL, &text, &len);
	if (r < 0)
		return lethe_error(r == -ENOMEM ? r : -EBADMSG, "%s: cannot read control: %s",
				   ctx->label, r == -EFBIG ? "too large" : "truncated");
	r = lethe_pkg_control_parse(ctx->label, text, len, ctx->out);
	free(text);
	if (r < 0)
		return r;
	ctx->found = true;
	return 1; /* stop: got it */
}

int lethe_deb_read_control(const char *path, const char *label, struct lethe_pkg_control *ret)
{
	struct lethe_pkg_control c = { 0 };
	struct control_ctx ctx = { label, &c, false };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %s", path, strerror(errno));
	r = lethe_deb_walk(fd, label, LETHE_DEB_CONTROL, control_entry, &ctx);
	close(fd);
	if (r < 0)
		return r;
	if (!ctx.found)
		return lethe_error(-EBADMSG, "%s: control.tar has no control file", label);
	*ret = c;
	return 0;
}

struct member_ctx {
	const char *name; /* "md5sums" */
	size_t max;
	char *data;
	size_t len;
	bool found;
};

static int member_entry(struct archive *a, struct archive_entry *e, void *userdata)
{
	struct member_ctx *ctx = userdata;
	const char *p = archive_entry_pathname(e);
	int r;

	if (!p)
		return 0;
	if (!strncmp(p, "./", 2))
		p += 2;
	if (strcmp(p, ctx->name) || archive_entry_filetype(e) != AE_IFREG)
		return 0;
	r = read_entry(a, e, ctx->max, &ctx->data, &ctx->len);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	ctx->found = true;
	return 1;
}

int lethe_deb_read_control_member(const char *path, const char *label, const char *member,
				  size_t max, char **ret, size_t *ret_len)
{
	struct member_ctx ctx = { member, max, NULL, 0, false };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), r;

	if (fd < 0)
		return lethe_error(-errno, "cannot open '%s': %s", path, strerror(errno));
	lethe_error_clear();
	r = lethe_deb_walk(fd, label, LETHE_DEB_CONTROL, member_entry, &ctx);
	close(fd);
	if (r == -EBADMSG && !lethe_error_message_for(r))
		r = lethe_error(r, "%s: control member '%s' is truncated or too large", label,
				member);
	if (r < 0) {
		free(ctx.data);
		return r;
	}
	if (!ctx.found)
		return -ENOENT;
	*ret = ctx.data;
	*ret_len = ctx.len;
	return 0;
}
