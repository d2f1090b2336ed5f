/* What `apt-cache policy` says, read for `lethe lock --outdated`: the repositories apt
 * knows with the fields of their signed Release files ("Package files:"), then, for each
 * package asked about, its candidate and the repositories each version comes from.
 * apt runs with LC_ALL=C, so the layout is apt's untranslated one (apt 2.x):
 *
 *     Package files:
 *      500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
 *          release v=12,o=Debian,a=stable-security,n=bookworm-security,l=Debian-Security,c=main
 *          origin deb.debian.org
 *     Pinned packages:
 *     NAME:
 *       Installed: (none)
 *       Candidate: 1.1
 *       Version table:
 *          1.1 500
 *             500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/pkg.h>

#define POLICY_MAX_FILES 1024
#define POLICY_MAX_LINE	 4096

struct pkg_file {
	char *key; /* the text after the priority: "URI SUITE/COMP ARCH Packages" */
	char *suite;
	bool security;
};

struct policy {
	const struct lethe_pkgset *lock;
	struct pkg_file *files;
	size_t n_files;
	bool *seen; /* per package of the lock: apt knows it and has a candidate */
	struct lethe_pkg_updates out;
	/* The package stanza being read. */
	const struct lethe_pkg *pkg;
	char *candidate;
	bool in_candidate; /* the version lines being read are the candidate's */
	bool cand_security;
	char *cand_suite;
	unsigned line;
};

void lethe_pkg_updates_release(struct lethe_pkg_updates *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].name);
		free(u->v[i].locked);
		free(u->v[i].available);
		free(u->v[i].suite);
	}
	free(u->v);
	lethe_strv_release(&u->absent);
	memset(u, 0, sizeof(*u));
}

static int bad(const struct policy *p, const char *why)
{
	return lethe_error(-EBADMSG, "apt-cache policy line %u: %s", p->line, why);
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && !memcmp(s + n - k, suffix, k);
}

/* "release o=Debian,a=stable-security,n=bookworm-security,l=Debian-Security,c=main". */
static int file_release(struct pkg_file *f, const char *fields)
{
	char *a = NULL, *n = NULL;

	for (const char *p = fields; *p;) {
		size_t len = strcspn(p, ",");

		if (len > 2 && p[1] == '=') {
			const char *v = p + 2;
			size_t vn = len - 2;

			if (p[0] == 'l' && vn == 15 && !memcmp(v, "Debian-Security", 15))
				f->security = true;
			if ((p[0] == 'a' || p[0] == 'n') && ends_with(v, vn, "-security"))
				f->security = true;
			if (p[0] == 'a' && !a)
				a = strndup(v, vn);
			if (p[0] == 'n' && !n)
				n = strndup(v, vn);
		}
		p += len;
		p += *p == ',';
	}
	free(f->suite);
	f->suite = a ? a : n;
	if (a)
		free(n);
	return 0;
}

static const struct pkg_file *find_file(const struct policy *p, const char *key)
{
	for (size_t i = 0; i < p->n_files; i++)
		if (!strcmp(p->files[i].key, key))
			return &p->files[i];
	return NULL;
}

/* The end of a package stanza: compare its candidate with the lock. */
static int pkg_done(struct policy *p)
{
	const struct lethe_pkg *lp = p->pkg;
	struct lethe_pkg_update *u;
	int r = 0;

	if (!lp)
		goto out;
	if (!p->candidate)
		goto out; /* "(none)": as if the archive had no such package */
	p->seen[lp - p->lock->pkgs] = true;
	if (lethe_pkg_version_compare(p->candidate, lp->version) <= 0)
		goto out;
	u = reallocarray(p->out.v, p->out.n + 1, sizeof(*u));
	if (!u) {
		r = -ENOMEM;
		goto out;
	}
	p->out.v = u;
	u = &p->out.v[p->out.n++];
	*u = (struct lethe_pkg_update){ .name = strdup(lp->name),
					.locked = strdup(lp->version),
					.available = p->candidate,
					.suite = p->cand_suite,
					.security = p->cand_security,
					.role = lp->role };
	p->candidate = p->cand_suite = NULL;
	if (!u->name || !u->locked)
		r = -ENOMEM;
out:
	free(p->candidate);
	free(p->cand_suite);
	p->candidate = p->cand_suite = NULL;
	p->pkg = NULL;
	p->in_candidate = p->cand_security = false;
	return r;
}

static size_t indent_of(const char *s)
{
	return strspn(s, " ");
}

/* " 500 KEY" (a file or an origin of a version): the key after the priority. */
static const char *after_priority(const char *s)
{
	s += indent_of(s);
	if (*s == '-')
		s++;
	if (*s < '0' || *s > '9')
		return NULL;
	s += strspn(s, "0123456789");
	if (*s != ' ' || !s[1])
		return NULL;
	return s + 1;
}

/* " 500" (or " -10"): the priority that ends a version line. */
static bool is_priority(const char *s)
{
	if (*s != ' ')
		return false;
	s += indent_of(s);
	s += *s == '-';
	return *s && strspn(s, "0123456789") == strlen(s);
}

enum section { SEC_NONE, SEC_FILES, SEC_PINNED, SEC_PKG };

static int pkg_header(struct policy *p, char *line, size_t n)
{
	char *colon;
	struct lethe_pkg *lp;

	line[n - 1] = '\0';
	colon = strchr(line, ':'); /* NAME:ARCH with several architectures */
	if (colon)
		*colon = '\0';
	if (!lethe_pkg_name_is_valid(line))
		return bad(p, "not a package name");
	lp = lethe_pkgset_find(p->lock, line);
	if (lp && p->seen[lp - p->lock->pkgs])
		return bad(p, "a package listed twice");
	p->pkg = lp;
	return 0;
}

static int pkg_line(struct policy *p, char *line)
{
	size_t ind = indent_of(line);
	const char *s = line + ind;

	if (!strncmp(s, "Installed: ", 11) || !strcmp(s, "Version table:"))
		return 0;
	if (!strncmp(s, "Candidate: ", 11)) {
		s += 11;
		if (p->candidate)
			return bad(p, "a second candidate");
		if (!strcmp(s, "(none)"))
			return 0;
		if (!lethe_pkg_version_is_valid(s))
			return bad(p, "the candidate is not a Debian version");
		p->candidate = strdup(s);
		return p->candidate ? 0 : -ENOMEM;
	}
	if (ind >= 8) { /* an origin of the version above */
		const char *key = after_priority(line);
		const struct pkg_file *f;

		if (!key)
			return bad(p, "expected 'PRIORITY SOURCE'");
		if (!p->in_candidate)
			return 0;
		f = find_file(p, key);
		if (!f)
			return 0;
		/* The suite named is the first security one, else the first. */
		if (f->suite && (!p->cand_suite || (f->security && !p->cand_security))) {
			free(p->cand_suite);
			if (!(p->cand_suite = strdup(f->suite)))
				return -ENOMEM;
		}
		p->cand_security |= f->security;
		return 0;
	}
	if (ind >= 4 || (ind == 1 && !strncmp(s, "*** ", 4))) { /* "[ *** ]VERSION PRIORITY" */
		size_t vn;

		if (ind == 1)
			s += 4;
		vn = strcspn(s, " ");
		if (!is_priority(s + vn))
			return bad(p, "expected 'VERSION PRIORITY'");
		p->in_candidate =
			p->candidate && strlen(p->candidate) == vn && !memcmp(s, p->candidate, vn);
		return 0;
	}
	return bad(p, "not a line of a package's policy");
}

static int files_line(struct policy *p, char *line)
{
	size_t ind = indent_of(line);
	const char *key;
	struct pkg_file *f;

	if (ind >= 4) {
		if (!p->n_files)
			return bad(p, "a detail line before any package file");
		if (!strncmp(line + ind, "release ", 8))
			return file_release(&p->files[p->n_files - 1], line + ind + 8);
		return 0; /* "origin HOST" */
	}
	key = after_priority(line);
	if (!key)
		return bad(p, "expected 'PRIORITY SOURCE'");
	if (p->n_files >= POLICY_MAX_FILES)
		return bad(p, "too many package files");
	f = reallocarray(p->files, p->n_files + 1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	p->files = f;
	f = &f[p->n_files];
	*f = (struct pkg_file){ .key = strdup(key) };
	if (!f->key)
		return -ENOMEM;
	p->n_files++;
	return 0;
}

static int parse_lines(struct policy *p, char *text)
{
	enum section sec = SEC_NONE;
	int r = 0;

	for (char *line = text; line && *line && r >= 0;) {
		char *nl = strchr(line, '\n');
		size_t n;

		if (nl)
			*nl = '\0';
		p->line++;
		n = strlen(line);
		if (n > POLICY_MAX_LINE)
			return bad(p, "line too long");
		if (n && line[n - 1] == '\r')
			line[--n] = '\0';
		if (!n) {
			/* blank: nothing */
		} else if (!strcmp(line, "Package files:")) {
			r = pkg_done(p);
			sec = SEC_FILES;
		} else if (!strcmp(line, "Pinned packages:")) {
			r = pkg_done(p);
			sec = SEC_PINNED;
		} else if (line[0] != ' ') {
			if (line[n - 1] != ':' || strchr(line, ' '))
				return bad(p, "expected 'NAME:'");
			r = pkg_done(p);
			if (r >= 0)
				r = pkg_header(p, line, n);
			sec = SEC_PKG;
		} else if (sec == SEC_FILES) {
			r = files_line(p, line);
		} else if (sec == SEC_PKG) {
			r = pkg_line(p, line);
		} else if (sec != SEC_PINNED) {
			return bad(p, "an indented line outside a section");
		}
		line = nl ? nl + 1 : NULL;
	}
	if (r >= 0)
		r = pkg_done(p);
	return r;
}

static int cmp_update(const void *a, const void *b)
{
	return strcmp(((const struct lethe_pkg_update *)a)->name,
		      ((const struct lethe_pkg_update *)b)->name);
}

int lethe_pkg_policy_parse(const char *text, size_t len, const struct lethe_pkgset *lock,
			   struct lethe_pkg_updates *ret)
{
	struct policy p = { .lock = lock };
	char *copy;
	int r;

	if (memchr(text, '\0', len))
		return lethe_error(-EBADMSG, "apt-cache policy: a NUL byte in its output");
	copy = strndup(text, len);
	p.seen = calloc(lock->n ? lock->n : 1, sizeof(*p.seen));
	if (!copy || !p.seen) {
		r = -ENOMEM;
		goto out;
	}
	r = parse_lines(&p, copy);
	if (r >= 0 && p.out.n > 1)
		qsort(p.out.v, p.out.n, sizeof(*p.out.v), cmp_update);
	for (size_t i = 0; i < lock->n && r >= 0; i++) {
		if (p.seen[i])
			p.out.checked++;
		else
			r = lethe_strv_push(&p.out.absent, lock->pkgs[i].name);
	}
	if (r >= 0) {
		*ret = p.out;
		p.out = (struct lethe_pkg_updates){ 0 };
	}
out:
	pkg_done(&p);
	lethe_pkg_updates_release(&p.out);
	for (size_t i = 0; i < p.n_files; i++) {
		free(p.files[i].key);
		free(p.files[i].suite);
	}
	free(p.files);
	free(p.seen);
	free(copy);
	return r < 0 ? r : 0;
}
