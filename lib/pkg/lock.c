/* lethe.lock: the exact package set of an image, one package a line, read strictly
 * (it is untrusted input) and written atomically. Format in docs/formats.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/pkg.h>

#define LOCK_HEADER   "lethe-lock 1"
#define LOCK_FIELDS   7
#define LOCK_MAX_LINE 1024

static const char *role_name(enum lethe_pkg_role role)
{
	return role == LETHE_PKG_KERNEL ? "kernel" : "root";
}

/* Split line (modified in place) at single spaces into exactly LOCK_FIELDS fields. */
static int split_fields(char *line, char **f)
{
	size_t n = 0;
	char *p = line;

	for (;;) {
		char *sp = strchr(p, ' ');

		if (n == LOCK_FIELDS || *p == '\0' || p[0] == ' ')
			return -1;
		f[n++] = p;
		if (!sp)
			break;
		*sp = '\0';
		p = sp + 1;
	}
	return n == LOCK_FIELDS ? 0 : -1;
}

static int parse_size(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 12)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v == 0 || v > LETHE_PKG_MAX_DEB_SIZE)
		return -1;
	*ret = v;
	return 0;
}

static int parse_line(const char *name, unsigned lineno, char *line, struct lethe_pkg *p)
{
	char *f[LOCK_FIELDS];
	char *expect;
	int r;

	if (split_fields(line, f) < 0)
		return lethe_error(-EBADMSG,
				   "'%s' line %u: expected %d fields separated by "
				   "single spaces: NAME VERSION ARCH SHA256 SIZE ROLE FILENAME",
				   name, lineno, LOCK_FIELDS);
	if (!lethe_pkg_name_is_valid(f[0]))
		return lethe_error(-EBADMSG, "'%s' line %u: invalid package name '%s'", name,
				   lineno, f[0]);
	if (!lethe_pkg_version_is_valid(f[1]))
		return lethe_error(-EBADMSG, "'%s' line %u: package '%s': invalid version '%s'",
				   name, lineno, f[0], f[1]);
	if (!lethe_pkg_arch_is_valid(f[2]))
		return lethe_error(-EBADMSG,
				   "'%s' line %u: package '%s': invalid architecture "
				   "'%s'",
				   name, lineno, f[0], f[2]);
	if (strlen(f[3]) != 64 || strspn(f[3], "0123456789abcdef") != 64 ||
	    lethe_hex_decode(f[3], p->sha256, sizeof(p->sha256)) < 0)
		return lethe_error(-EBADMSG,
				   "'%s' line %u: package '%s': SHA-256 must be 64 "
				   "lowercase hex digits",
				   name, lineno, f[0]);
	if (parse_size(f[4], &p->size) < 0)
		return lethe_error(-EBADMSG, "'%s' line %u: package '%s': invalid size '%s'", name,
				   lineno, f[0], f[4]);
	if (!strcmp(f[5], "root"))
		p->role = LETHE_PKG_ROOT;
	else if (!strcmp(f[5], "kernel"))
		p->role = LETHE_PKG_KERNEL;
	else
		return lethe_error(-EBADMSG,
				   "'%s' line %u: package '%s': role must be 'root' or "
				   "'kernel', not '%s'",
				   name, lineno, f[0], f[5]);
	expect = lethe_pkg_deb_filename(f[0], f[1], f[2]);
	if (!expect)
		return -ENOMEM;
	r = strcmp(expect, f[6]);
	free(expect);
	if (r)
		return lethe_error(-EBADMSG,
				   "'%s' line %u: package '%s': file name '%s' does not "
				   "match NAME_VERSION_ARCH.deb",
				   name, lineno, f[0], f[6]);
	p->name = strdup(f[0]);
	p->version = strdup(f[1]);
	p->arch = strdup(f[2]);
	p->filename = strdup(f[6]);
	p->have_sha256 = true;
	if (!p->name || !p->version || !p->arch || !p->filename)
		return -ENOMEM;
	return 0;
}

int lethe_lock_parse(const char *name, const char *text, size_t len, struct lethe_pkgset **ret)
{
	struct lethe_pkgset *set;
	char line[LOCK_MAX_LINE + 1];
	unsigned lineno = 0;
	size_t pos = 0;
	int r = 0;

	if (len > LETHE_LOCK_MAX_SIZE)
		return lethe_error(-EBADMSG, "'%s': larger than %u bytes", name,
				   LETHE_LOCK_MAX_SIZE);
	if (memchr(text, '\0', len))
		return lethe_error(-EBADMSG, "'%s': contains a NUL byte", name);
	if (len == 0 || text[len - 1] != '\n')
		return lethe_error(-EBADMSG, "'%s': empty or does not end with a newline", name);
	set = calloc(1, sizeof(*set));
	if (!set)
		return -ENOMEM;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = (size_t)(nl - (text + pos));

		lineno++;
		if (l > LOCK_MAX_LINE) {
			r = lethe_error(-EBADMSG, "'%s' line %u: longer than %d bytes", name,
					lineno, LOCK_MAX_LINE);
			goto fail;
		}
		memcpy(line, text + pos, l);
		line[l] = '\0';
		pos += l + 1;
		if (strpbrk(line, "\t\r\v\f") || (l && line[l - 1] == ' ')) {
			r = lethe_error(-EBADMSG,
					"'%s' line %u: tab, carriage return or trailing "
					"space",
					name, lineno);
			goto fail;
		}
		if (lineno == 1) {
			if (strcmp(line, LOCK_HEADER)) {
				r = lethe_error(-EBADMSG,
						"'%s' line 1: expected '%s' (a lethe.lock of "
						"another format version?)",
						name, LOCK_HEADER);
				goto fail;
			}
			continue;
		}
		if (line[0] == '#')
			continue;
		if (set->n >= LETHE_PKG_MAX) {
			r = lethe_error(-EBADMSG, "'%s' line %u: more than %d packages", name,
					lineno, LETHE_PKG_MAX);
			goto fail;
		}
		/* The capacity is implicit: 16, then doubled each time n reaches it. */
		if (!set->n || (set->n >= 16 && (set->n & (set->n - 1)) == 0)) {
			size_t cap = set->n ? set->n * 2 : 16;
			struct lethe_pkg *np = reallocarray(set->pkgs, cap, sizeof(*np));

			if (!np) {
				r = -ENOMEM;
				goto fail;
			}
			set->pkgs = np;
		}
		memset(&set->pkgs[set->n], 0, sizeof(set->pkgs[0]));
		set->n++;
		r = parse_line(name, lineno, line, &set->pkgs[set->n - 1]);
		if (r < 0)
			goto fail;
		if (set->n > 1) {
			int c = strcmp(set->pkgs[set->n - 2].name, set->pkgs[set->n - 1].name);

			if (c >= 0) {
				r = lethe_error(-EBADMSG, "'%s' line %u: package '%s' %s", name,
						lineno, set->pkgs[set->n - 1].name,
						c == 0 ? "is listed twice"
						       : "is out of order (the lock "
							 "is sorted by name)");
				goto fail;
			}
		}
	}
	*ret = set;
	return 0;
fail:
	lethe_pkgset_free(set);
	return r;
}

int lethe_lock_load(const char *path, struct lethe_pkgset **ret)
{
	char *text;
	size_t len;
	/* lethe_file_read() has said what failed, naming path. */
	int r = lethe_file_read(path, LETHE_LOCK_MAX_SIZE, &text, &len);

	if (r < 0)
		return r;
	r = lethe_lock_parse(path, text, len, ret);
	free(text);
	return r;
}

int lethe_lock_format(const struct lethe_pkgset *set, struct lethe_buf *out)
{
	int r = lethe_buf_puts(
		out,
		LOCK_HEADER "\n"
			    "# NAME VERSION ARCH SHA256 SIZE ROLE FILENAME; see docs/formats.md\n");

	for (size_t i = 0; r == 0 && i < set->n; i++) {
		const struct lethe_pkg *p = &set->pkgs[i];
		char hex[65];

		if (!p->have_sha256)
			return lethe_error(-EINVAL, "package '%s': no SHA-256 yet (fetch it first)",
					   p->name);
		lethe_hex_encode(p->sha256, sizeof(p->sha256), hex);
		r = lethe_buf_printf(out, "%s %s %s %s %llu %s %s\n", p->name, p->version, p->arch,
				     hex, (unsigned long long)p->size, role_name(p->role),
				     p->filename);
	}
	return r;
}

int lethe_lock_save(const char *path, const struct lethe_pkgset *set)
{
	struct lethe_buf b = { 0 };
	int r = lethe_lock_format(set, &b);

	if (r == 0)
		r = lethe_file_write_atomic(path, b.data, b.len, 0644);
	lethe_buf_release(&b);
	return r;
}

static int check_named(const struct lethe_pkgset *set, const char *name, enum lethe_pkg_role role)
{
	const struct lethe_pkg *p = lethe_pkgset_find(set, name);

	if (!p)
		return lethe_error(-EBADMSG,
				   "package '%s' of the spec is not in the lock; run "
				   "'lethe lock' again",
				   name);
	if (p->role != role)
		return lethe_error(-EBADMSG,
				   "package '%s' has role '%s' in the lock, the spec "
				   "needs '%s'; run 'lethe lock' again",
				   name, role_name(p->role), role_name(role));
	return 0;
}

int lethe_pkg_check_lock(const struct lethe_spec *spec, const struct lethe_pkgset *set)
{
	int r;

	for (size_t i = 0; i < spec->packages.n; i++)
		if ((r = check_named(set, spec->packages.v[i], LETHE_PKG_ROOT)) < 0)
			return r;
	if (spec->kernel.package &&
	    (r = check_named(set, spec->kernel.package, LETHE_PKG_KERNEL)) < 0)
		return r;
	for (size_t i = 0; i < spec->drop.n; i++)
		if (lethe_pkgset_find(set, spec->drop.v[i]))
			return lethe_error(-EBADMSG,
					   "package '%s' is in the lock but the spec drops "
					   "it; run 'lethe lock' again",
					   spec->drop.v[i]);
	return 0;
}
