/* lethe_diff_releases(): two verified releases compared by their SBOMs, manifests,
 * cmdline and root hash (issue 18.5). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include <lethe/diff.h>
#include <lethe/pkg.h>
#include <lethe/release.h>

#define SBOM_MAX     (64u << 20)
#define MANIFEST_MAX (256u << 20)

struct entry {
	const char *key, *val; /* point into the text or the JSON document */
};

static int read_artifact(const struct lethe_release *rel, enum lethe_release_artifact a, size_t max,
			 char **ret, size_t *ret_len)
{
	char *label = lethe_path_join(lethe_release_dir(rel), lethe_release_name(a));
	int fd = lethe_release_fd(rel, a), r;

	if (!label)
		return -ENOMEM;
	if (fd < 0)
		r = fd;
	else if (lseek(fd, 0, SEEK_SET) < 0)
		r = lethe_error(-errno, "cannot read '%s': %m", label);
	else
		r = lethe_fd_read(fd, label, max, ret, ret_len);
	free(label);
	return r;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->key, ((const struct entry *)b)->key);
}

/* The manifest's lines as (path, keywords), sorted by path; text is modified. */
static int manifest_entries(char *text, const char *label, struct entry **ret, size_t *ret_n)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	unsigned line = 0;

	for (char *p = text, *nl; p && *p; p = nl) {
		char *sp;

		nl = strchr(p, '\n');
		if (nl)
			*nl++ = '\0';
		line++;
		if (*p == '#' || !*p)
			continue;
		sp = strchr(p, ' ');
		if (!sp || sp == p) {
			free(v);
			return lethe_error(-LETHE_E_INVALID,
					   "'%s' line %u: no keywords after the path", label, line);
		}
		*sp = '\0';
		if (n == cap) {
			struct entry *nv;

			if (cap >= LETHE_DIFF_MAX_ENTRIES) {
				free(v);
				return lethe_error(-LETHE_E_INVALID, "'%s': more than %u entries",
						   label, LETHE_DIFF_MAX_ENTRIES);
			}
			cap = cap ? cap * 2 : 1024;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		v[n++] = (struct entry){ p, sp + 1 };
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	for (size_t i = 1; i < n; i++)
		if (!strcmp(v[i - 1].key, v[i].key)) {
			int r = lethe_error(-LETHE_E_INVALID, "'%s': '%s' appears twice", label,
					    v[i].key);

			free(v);
			return r;
		}
	*ret = v;
	*ret_n = n;
	return 0;
}

/* The SBOM's components as (name, version), sorted by name. */
static int sbom_entries(struct json_object *doc, const char *label, struct entry **ret,
			size_t *ret_n)
{
	struct json_object *comps, *name, *ver;
	struct entry *v;
	size_t n;

	if (!json_object_object_get_ex(doc, "components", &comps) ||
	    !json_object_is_type(comps, json_type_array))
		return lethe_error(-LETHE_E_INVALID, "'%s': no components array", label);
	n = json_object_array_length(comps);
	if (n > LETHE_DIFF_MAX_ENTRIES)
		return lethe_error(-LETHE_E_INVALID, "'%s': too many components", label);
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(comps, i);

		if (!json_object_object_get_ex(c, "name", &name) ||
		    !json_object_is_type(name, json_type_string) ||
		    !json_object_object_get_ex(c, "version", &ver) ||
		    !json_object_is_type(ver, json_type_string)) {
			free(v);
			return lethe_error(-LETHE_E_INVALID,
					   "'%s': component %zu has no name or version", label, i);
		}
		v[i] = (struct entry){ json_object_get_string(name), json_object_get_string(ver) };
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_entry);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int dup2str(const char *a, const char *b, char **ra, char **rb)
{
	*ra = a ? strdup(a) : NULL;
	*rb = b ? strdup(b) : NULL;
	return (a && !*ra) || (b && !*rb) ? -ENOMEM : 0;
}

/* Merge two sorted lists; fn records one difference. */
typedef int (*merge_fn)(struct lethe_diff *d, const char *key, const char *old_val,
			const char *new_val);

static int merge(struct lethe_diff *d, const struct entry *a, size_t na, const struct entry *b,
		 size_t nb, merge_fn fn)
{
	size_t i = 0, j = 0;
	int r = 0;

	while (r >= 0 && (i < na || j < nb)) {
		int c = i == na ? 1 : j == nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0) {
			r = fn(d, a[i].key, a[i].val, NULL);
			i++;
		} else if (c > 0) {
			r = fn(d, b[j].key, NULL, b[j].val);
			j++;
		} else {
			if (strcmp(a[i].val, b[j].val))
				r = fn(d, a[i].key, a[i].val, b[j].val);
			i++;
			j++;
		}
	}
	return r;
}

static int add_pkg(struct lethe_diff *d, const char *name, const char *o, const char *n)
{
	struct lethe_diff_pkg *v = realloc(d->pkgs, (d->n_pkgs + 1) * sizeof(*v)), *p;

	if (!v)
		return -ENOMEM;
	d->pkgs = v;
	p = &v[d->n_pkgs];
	memset(p, 0, sizeof(*p));
	p->change = !o	 ? LETHE_DIFF_ADDED
		    : !n ? LETHE_DIFF_REMOVED
			 : (lethe_pkg_version_compare(o, n) < 0 ? LETHE_DIFF_UPGRADED
								: LETHE_DIFF_DOWNGRADED);
	p->name = strdup(name);
	d->n_pkgs++;
	return !p->name ? -ENOMEM : dup2str(o, n, &p->old_version, &p->new_version);
}

static int add_file(struct lethe_diff *d, const char *path, const char *o, const char *n)
{
	struct lethe_diff_file *v = realloc(d->files, (d->n_files + 1) * sizeof(*v)), *f;

	if (!v)
		return -ENOMEM;
	d->files = v;
	f = &v[d->n_files];
	memset(f, 0, sizeof(*f));
	f->change = !o ? LETHE_DIFF_ADDED : !n ? LETHE_DIFF_REMOVED : LETHE_DIFF_UPGRADED;
	f->path = strdup(path);
	d->n_files++;
	return !f->path ? -ENOMEM : dup2str(o, n, &f->old_attrs, &f->new_attrs);
}

static int diff_packages(struct lethe_diff *d, const struct lethe_release *a,
			 const struct lethe_release *b)
{
	const struct lethe_release *rels[2] = { a, b };
	struct json_object *docs[2] = { NULL, NULL };
	struct entry *e[2] = { NULL, NULL };
	size_t n[2] = { 0, 0 };
	int r = 0;

	for (int k = 0; k < 2 && r >= 0; k++) {
		char *text = NULL, *label;
		size_t len;

		label = lethe_path_join(lethe_release_dir(rels[k]),
					lethe_release_name(LETHE_ARTIFACT_SBOM_CDX));
		r = label ? read_artifact(rels[k], LETHE_ARTIFACT_SBOM_CDX, SBOM_MAX, &text, &len)
			  : -ENOMEM;
		if (r >= 0 && !(docs[k] = json_tokener_parse(text)))
			r = lethe_error(-LETHE_E_INVALID, "'%s' is not JSON", label);
		if (r >= 0)
			r = sbom_entries(docs[k], label, &e[k], &n[k]);
		free(text);
		free(label);
	}
	if (r >= 0)
		r = merge(d, e[0], n[0], e[1], n[1], add_pkg);
	for (int k = 0; k < 2; k++) {
		free(e[k]);
		json_object_put(docs[k]);
	}
	return r;
}

static int diff_files(struct lethe_diff *d, const struct lethe_release *a,
		      const struct lethe_release *b)
{
	const struct lethe_release *rels[2] = { a, b };
	char *text[2] = { NULL, NULL };
	struct entry *e[2] = { NULL, NULL };
	size_t n[2] = { 0, 0 };
	int r = 0;

	for (int k = 0; k < 2 && r >= 0; k++) {
		char *label = lethe_path_join(lethe_release_dir(rels[k]),
					      lethe_release_name(LETHE_ARTIFACT_MANIFEST));
		size_t len;

		r = label ? read_artifact(rels[k], LETHE_ARTIFACT_MANIFEST, MANIFEST_MAX, &text[k],
					  &len)
			  : -ENOMEM;
		if (r >= 0)
			r = manifest_entries(text[k], label, &e[k], &n[k]);
		free(label);
	}
	if (r >= 0)
		r = merge(d, e[0], n[0], e[1], n[1], add_file);
	for (int k = 0; k < 2; k++) {
		free(e[k]);
		free(text[k]);
	}
	return r;
}

struct lethe_diff *lethe_diff_free(struct lethe_diff *d)
{
	if (!d)
		return NULL;
	for (size_t i = 0; i < d->n_pkgs; i++) {
		free(d->pkgs[i].name);
		free(d->pkgs[i].old_version);
		free(d->pkgs[i].new_version);
	}
	for (size_t i = 0; i < d->n_files; i++) {
		free(d->files[i].path);
		free(d->files[i].old_attrs);
		free(d->files[i].new_attrs);
	}
	free(d->pkgs);
	free(d->files);
	free(d->old_cmdline);
	free(d->new_cmdline);
	free(d->old_roothash);
	free(d->new_roothash);
	free(d);
	return NULL;
}

int lethe_diff_releases(const struct lethe_release *old_rel, const struct lethe_release *new_rel,
			struct lethe_diff **ret)
{
	struct lethe_diff *d = calloc(1, sizeof(*d));
	int r;

	if (!d)
		return -ENOMEM;
	r = diff_packages(d, old_rel, new_rel);
	if (r >= 0)
		r = diff_files(d, old_rel, new_rel);
	if (r >= 0)
		r = dup2str(lethe_release_cmdline(old_rel), lethe_release_cmdline(new_rel),
			    &d->old_cmdline, &d->new_cmdline);
	if (r >= 0)
		r = dup2str(lethe_release_roothash(old_rel), lethe_release_roothash(new_rel),
			    &d->old_roothash, &d->new_roothash);
	if (r < 0) {
		lethe_diff_free(d);
		return r;
	}
	*ret = d;
	return 0;
}
