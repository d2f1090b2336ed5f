/* SHA256SUMS in coreutils' format: parse (strictly), hash with OpenSSL, write, check. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/sums.h>
#include <lethe/util.h>

#define HEX_LEN (2 * LETHE_SUMS_DIGEST_BYTES)

void lethe_sums_release(struct lethe_sums *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int cmp_entry_ptr(const void *a, const void *b)
{
	const struct lethe_sums_entry *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

/* A name listed twice is an error: which of the two would count? */
static int check_duplicates(const struct lethe_sums *s, const char *name)
{
	const struct lethe_sums_entry **p;
	int r = 0;

	if (s->n < 2)
		return 0;
	p = calloc(s->n, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		p[i] = &s->v[i];
	qsort(p, s->n, sizeof(*p), cmp_entry_ptr);
	for (size_t i = 1; i < s->n && r == 0; i++) {
		if (strcmp(p[i - 1]->name, p[i]->name) != 0)
			continue;
		unsigned a = p[i - 1]->line, b = p[i]->line;

		r = lethe_error(-EBADMSG, "'%s' line %u: '%s' is listed twice (also line %u)", name,
				a > b ? a : b, p[i]->name, a > b ? b : a);
	}
	free(p);
	return r;
}

static bool name_is_ok(const char *name)
{
	return lethe_path_is_safe_relative(name) && !strchr(name, '\\');
}

static int parse_line(const char *line, size_t len, const char *name, unsigned lineno,
		      struct lethe_sums_entry *e)
{
	char hex[HEX_LEN + 1];

	if (len == 0)
		return lethe_error(-EBADMSG, "'%s' line %u: empty line", name, lineno);
	if (line[0] == '\\')
		return lethe_error(-EBADMSG, "'%s' line %u: escaped names are not supported", name,
				   lineno);
	if (len < HEX_LEN + 3 || line[HEX_LEN] != ' ' ||
	    (line[HEX_LEN + 1] != ' ' && line[HEX_LEN + 1] != '*'))
		return lethe_error(-EBADMSG, "'%s' line %u: not a SHA-256 line (\"HEX  NAME\")",
				   name, lineno);
	memcpy(hex, line, HEX_LEN);
	hex[HEX_LEN] = '\0';
	if (lethe_hex_decode(hex, e->sha256, LETHE_SUMS_DIGEST_BYTES) < 0)
		return lethe_error(-EBADMSG, "'%s' line %u: the digest is not 64 hex digits", name,
				   lineno);
	e->name = strndup(line + HEX_LEN + 2, len - HEX_LEN - 2);
	if (!e->name)
		return -ENOMEM;
	if (strlen(e->name) != len - HEX_LEN - 2 || !name_is_ok(e->name)) {
		free(e->name);
		e->name = NULL;
		return lethe_error(-EBADMSG,
				   "'%s' line %u: unsafe file name (it must be a "
				   "relative path without '..', '\\' or control "
				   "characters)",
				   name, lineno);
	}
	e->line = lineno;
	return 0;
}

int lethe_sums_parse(const char *text, size_t len, const char *name, struct lethe_sums *ret)
{
	struct lethe_sums s = { 0 };
	size_t cap = 0;
	unsigned lineno = 0;
	int r = 0;

	while (len > 0) {
		const char *nl = memchr(text, '\n', len);
		size_t n = nl ? (size_t)(nl - text) : len;

		lineno++;
		if (n > LETHE_SUMS_LINE_MAX) {
			r = lethe_error(-EBADMSG, "'%s' line %u: too long (%zu bytes, at most %d)",
					name, lineno, n, LETHE_SUMS_LINE_MAX);
			goto fail;
		}
		if (s.n >= LETHE_SUMS_COUNT_MAX) {
			r = lethe_error(-EBADMSG, "'%s': more than %d lines", name,
					LETHE_SUMS_COUNT_MAX);
			goto fail;
		}
		if (s.n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct lethe_sums_entry *v = reallocarray(s.v, ncap, sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				goto fail;
			}
			s.v = v;
			cap = ncap;
		}
		if ((r = parse_line(text, n, name, lineno, &s.v[s.n])) < 0)
			goto fail;
		s.n++;
		text += nl ? n + 1 : n;
		len -= nl ? n + 1 : n;
	}
	if (s.n == 0) {
		r = lethe_error(-EBADMSG, "'%s': no checksum lines", name);
		goto fail;
	}
	if ((r = check_duplicates(&s, name)) < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	lethe_sums_release(&s);
	return r;
}

int lethe_sums_load(const char *path, struct lethe_sums *ret)
{
	char *text;
	size_t len;
	int r = lethe_file_read(path, LETHE_SUMS_FILE_MAX, &text, &len);

	if (r < 0)
		return r;
	r = lethe_sums_parse(text, len, path, ret);
	free(text);
	return r;
}

int lethe_sums_sha256_file(int dirfd, const char *path, uint8_t out[LETHE_SUMS_DIGEST_BYTES])
{
	struct stat st;
	int fd, r;

	/* O_NONBLOCK: opening a FIFO must not hang; it is refused below anyway. */
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		return lethe_error(r, "cannot open '%s': %s", path, strerror(-r));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return lethe_error(-EINVAL, "'%s' is not a regular file", path);
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	r = lethe_sha256_fd(fd, 0, out, NULL);
	close(fd);
	if (r < 0)
		return lethe_error(r, "cannot read '%s': %s", path, strerror(-r));
	return 0;
}

static int open_dir(const char *dir, int *ret)
{
	int fd, r;

	if (!dir) {
		*ret = AT_FDCWD;
		return 0;
	}
	fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		return lethe_error(r, "cannot open directory '%s': %s", dir, strerror(-r));
	}
	*ret = fd;
	return 0;
}

static int cmp_str_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int lethe_sums_format(const char *dir, const char *const *names, size_t n, char **ret,
		      size_t *ret_len)
{
	struct lethe_buf out = { 0 };
	const char **sorted = NULL;
	int dirfd = AT_FDCWD, r;

	if (n == 0 || n > LETHE_SUMS_COUNT_MAX)
		return lethe_error(-EINVAL, "between 1 and %d files can be listed",
				   LETHE_SUMS_COUNT_MAX);
	sorted = calloc(n, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!name_is_ok(names[i]) || strlen(names[i]) > LETHE_SUMS_LINE_MAX - HEX_LEN - 2) {
			r = lethe_error(-EINVAL,
					"'%s': not a safe relative file name (no '..', "
					"leading '/', '\\' or control characters)",
					names[i]);
			goto out;
		}
		sorted[i] = names[i];
	}
	qsort(sorted, n, sizeof(*sorted), cmp_str_ptr);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(sorted[i - 1], sorted[i])) {
			r = lethe_error(-EINVAL, "'%s' is named twice", sorted[i]);
			goto out;
		}
	if ((r = open_dir(dir, &dirfd)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint8_t digest[LETHE_SUMS_DIGEST_BYTES];
		char hex[HEX_LEN + 1];

		if ((r = lethe_sums_sha256_file(dirfd, sorted[i], digest)) < 0)
			goto out;
		lethe_hex_encode(digest, sizeof(digest), hex);
		if ((r = lethe_buf_printf(&out, "%s  %s\n", hex, sorted[i])) < 0)
			goto out;
	}
	*ret = out.data;
	*ret_len = out.len;
	out = (struct lethe_buf){ 0 };
out:
	if (dirfd >= 0)
		close(dirfd);
	free(sorted);
	lethe_buf_release(&out);
	return r;
}

int lethe_sums_write(const char *path, const char *dir, const char *const *names, size_t n)
{
	char *text;
	size_t len;
	int r = lethe_sums_format(dir, names, n, &text, &len);

	if (r < 0)
		return r;
	r = lethe_file_write_atomic(path, text, len, 0644);
	free(text);
	return r;
}

/* Check one entry; the message (for a failure) names the sums file and line. */
static int check_entry(int dirfd, const struct lethe_sums_entry *e, const char *sums_name)
{
	uint8_t digest[LETHE_SUMS_DIGEST_BYTES];
	int r = lethe_sums_sha256_file(dirfd, e->name, digest);

	if (r == -ENOENT)
		return lethe_error(r, "'%s' line %u: '%s' is missing", sums_name, e->line, e->name);
	if (r < 0)
		return lethe_error(r, "'%s' line %u: cannot check '%s': %s", sums_name, e->line,
				   e->name, r == -EINVAL ? "not a regular file" : strerror(-r));
	if (!lethe_memeq_consttime(digest, e->sha256, sizeof(digest)))
		return lethe_error(-EBADMSG, "'%s' line %u: '%s' does not match", sums_name,
				   e->line, e->name);
	return 0;
}

void lethe_sums_tally_add(struct lethe_sums_tally *t, int result)
{
	if (result < 0 && t->failed++ == 0 && lethe_error_message_for(result))
		t->first = strdup(lethe_error_message_for(result));
}

int lethe_sums_tally_finish(struct lethe_sums_tally *t, size_t total)
{
	int r = 0;

	if (t->failed == 0)
		lethe_error_clear();
	else
		r = lethe_error(-EBADMSG, "%s%s(%zu of %zu files failed)", t->first ? t->first : "",
				t->first ? " " : "", t->failed, total);
	free(t->first);
	*t = (struct lethe_sums_tally){ 0 };
	return r;
}

int lethe_sums_check(const struct lethe_sums *s, const char *sums_name, const char *dir,
		     lethe_sums_check_fn fn, void *userdata)
{
	struct lethe_sums_tally tally = { 0 };
	int dirfd = AT_FDCWD, r;

	if ((r = open_dir(dir, &dirfd)) < 0)
		return r;
	for (size_t i = 0; i < s->n; i++) {
		lethe_error_clear();
		r = check_entry(dirfd, &s->v[i], sums_name);
		if (fn)
			fn(&s->v[i], r, userdata);
		lethe_sums_tally_add(&tally, r);
	}
	if (dirfd >= 0)
		close(dirfd);
	return lethe_sums_tally_finish(&tally, s->n);
}

char *lethe_sums_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
}

int lethe_sums_check_file(const char *path, lethe_sums_check_fn fn, void *userdata)
{
	struct lethe_sums s = { 0 };
	char *dir = lethe_sums_dir(path);
	int r;

	if (!dir)
		return -ENOMEM;
	r = lethe_sums_load(path, &s);
	if (r == 0)
		r = lethe_sums_check(&s, path, dir, fn, userdata);
	lethe_sums_release(&s);
	free(dir);
	return r;
}
