/* Package sets: names and versions checked against Debian's syntax, apt's file names,
 * lookup and release. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lethe/pkg.h>

bool lethe_pkg_name_is_valid(const char *name)
{
	size_t len = strlen(name);

	/* Policy 5.6.1: at least two characters, lowercase alphanumerics and + - . */
	if (len < 2 || len > 128)
		return false;
	if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '+' ||
		      *p == '-' || *p == '.'))
			return false;
	return true;
}

bool lethe_pkg_version_is_valid(const char *version)
{
	size_t len = strlen(version);

	/* Policy 5.6.12: [epoch:]upstream[-revision]; upstream starts with a digit. */
	if (len == 0 || len > 128)
		return false;
	for (const char *p = version; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr(".+~:-", *p)))
			return false;
	const char *up = strchr(version, ':');

	up = up ? up + 1 : version;
	return *up >= '0' && *up <= '9';
}

bool lethe_pkg_arch_is_valid(const char *arch)
{
	size_t len = strlen(arch);

	if (len == 0 || len > 32)
		return false;
	for (const char *p = arch; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return false;
	return true;
}

char *lethe_pkg_deb_filename(const char *name, const char *version, const char *arch)
{
	struct lethe_buf b = { 0 };
	int r = lethe_buf_printf(&b, "%s_", name);

	for (const char *p = version; r == 0 && *p; p++)
		r = *p == ':' ? lethe_buf_puts(&b, "%3a") : lethe_buf_append(&b, p, 1);
	if (r == 0)
		r = lethe_buf_printf(&b, "_%s.deb", arch);
	if (r < 0) {
		lethe_buf_release(&b);
		return NULL;
	}
	return b.data;
}

void lethe_pkg_control_release(struct lethe_pkg_control *c)
{
	if (!c)
		return;
	free(c->text);
	free(c->package);
	free(c->version);
	free(c->architecture);
	free(c->maintainer);
	free(c->summary);
	free(c->depends);
	free(c->pre_depends);
	free(c->homepage);
	free(c->source);
	memset(c, 0, sizeof(*c));
}

void lethe_pkg_release(struct lethe_pkg *p)
{
	free(p->name);
	free(p->version);
	free(p->arch);
	free(p->filename);
	free(p->path);
	lethe_pkg_control_release(&p->control);
	lethe_strv_release(&p->licenses);
}

struct lethe_pkgset *lethe_pkgset_free(struct lethe_pkgset *set)
{
	if (!set)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		lethe_pkg_release(&set->pkgs[i]);
	free(set->pkgs);
	lethe_strv_release(&set->dropped);
	free(set);
	return NULL;
}

static int cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct lethe_pkg *)elem)->name);
}

struct lethe_pkg *lethe_pkgset_find(const struct lethe_pkgset *set, const char *name)
{
	if (!set || !set->n)
		return NULL;
	return bsearch(name, set->pkgs, set->n, sizeof(set->pkgs[0]), cmp_name);
}
