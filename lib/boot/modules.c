/* Kernel modules for the initramfs: find the staged kernel's version, make its
 * modules.dep with depmod, and resolve requested modules to files in load order. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lethe/boot.h>
#include <lethe/run.h>

#include "boot-internal.h"

int lethe_boot_kernel_version(const char *kernel_dir, char **ret_version)
{
	char *found = NULL;
	struct dirent *de;
	DIR *d;
	int r, fd;

	/* boot/ must be the package's own: a link to the host's /boot is not followed. */
	r = boot_kernel_open(kernel_dir, "boot", O_RDONLY | O_DIRECTORY, &fd);
	if (r < 0)
		return r;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(d))) {
		const char *v;

		if (strncmp(de->d_name, "vmlinuz-", 8) != 0)
			continue;
		v = de->d_name + 8;
		if (!*v || strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, ".."))
			continue;
		if (found) {
			r = lethe_error(-LETHE_E_INVALID,
					"kernel package '%s': more than one boot/vmlinuz-*",
					kernel_dir);
			goto out;
		}
		found = strdup(v);
		if (!found) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (!found) {
		r = lethe_error(-LETHE_E_INVALID, "kernel package '%s': no boot/vmlinuz-VERSION",
				kernel_dir);
		goto out;
	}
	*ret_version = found;
	found = NULL;
out:
	free(found);
	closedir(d);
	return r;
}

/* "lib/modules/VERSION/file", relative to the kernel package. */
static char *moddir(const char *version, const char *file)
{
	struct lethe_buf b = { 0 };

	if (lethe_buf_printf(&b, "lib/modules/%s%s%s", version, file ? "/" : "", file ? file : "") <
	    0)
		return NULL;
	return b.data;
}

/* Run depmod through the one runner: its clean environment (nothing of the host's
 * reaches depmod), its output captured, its failure in one line. */
static int run_depmod(char **argv, const char *kernel_dir, const char *version)
{
	char msg[1024];
	int r = lethe_run(argv, NULL, NULL);

	if (r >= 0)
		return 0;
	snprintf(msg, sizeof(msg), "%s",
		 lethe_error_message_for(r) ? lethe_error_message_for(r) : strerror(-r));
	return lethe_error(r, "'depmod -b %s %s': %s%s", kernel_dir, version, msg,
			   r == -ENOENT ? " (install kmod)" : "");
}

/* What depmod reads besides the modules, and what it writes. */
static const char *const depmod_inputs[] = { "modules.order", "modules.builtin",
					     "modules.builtin.modinfo" };
static const char *const depmod_outputs[] = {
	"modules.dep",	       "modules.dep.bin",	    "modules.alias",
	"modules.alias.bin",   "modules.softdep",	    "modules.weakdep",
	"modules.symbols",     "modules.symbols.bin",	    "modules.devname",
	"modules.builtin.bin", "modules.builtin.alias.bin",
};

/* Before depmod runs: lib/modules/VERSION is the package's own directory (depmod writes
 * into it), its inputs are regular files, and what it writes is not shipped: the
 * package does not decide what counts as a module. */
static int depmod_prepare(const char *kernel_dir, const char *version)
{
	char *dir = moddir(version, NULL);
	struct stat st;
	int fd = -1, r;

	if (!dir)
		return -ENOMEM;
	r = boot_kernel_open(kernel_dir, dir, O_RDONLY | O_DIRECTORY, &fd);
	for (size_t i = 0; r >= 0 && i < LETHE_ARRAY_SIZE(depmod_inputs); i++)
		if (fstatat(fd, depmod_inputs[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    !S_ISREG(st.st_mode))
			r = lethe_error(-LETHE_E_INVALID,
					"kernel package '%s': '%s/%s' is not a regular file",
					kernel_dir, dir, depmod_inputs[i]);
	for (size_t i = 0; r >= 0 && i < LETHE_ARRAY_SIZE(depmod_outputs); i++) {
		if (fstatat(fd, depmod_outputs[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode) || unlinkat(fd, depmod_outputs[i], 0) < 0)
			r = lethe_error(S_ISDIR(st.st_mode) ? -EISDIR : -errno,
					"kernel package '%s': cannot remove the shipped '%s/%s'",
					kernel_dir, dir, depmod_outputs[i]);
	}
	if (fd >= 0)
		close(fd);
	free(dir);
	return r;
}

int lethe_boot_depmod(const char *kernel_dir, const char *version)
{
	char *argv[] = { (char *)"depmod", (char *)"-b", (char *)kernel_dir, (char *)version,
			 NULL };
	int r;

	if (strchr(version, '/') || version[0] == '.' || version[0] == '-')
		return lethe_error(-LETHE_E_INVALID, "kernel version '%s' is not a plain name",
				   version);
	r = depmod_prepare(kernel_dir, version);
	if (r < 0)
		return r;
	return run_depmod(argv, kernel_dir, version);
}

/* One line of modules.dep, split in place. */
struct dep_entry {
	char *path; /* relative to lib/modules/VERSION */
	char *name; /* canonical name (allocated) */
	char *deps; /* the rest of the line: space-separated paths */
	int state;  /* 0 unseen, 1 visiting, 2 emitted */
};

/* One line of modules.softdep: "softdep NAME pre: A B post: C", split in place. */
struct softdep {
	char *name;		     /* canonical (allocated) */
	struct lethe_strv pre, post; /* canonical names */
};

/* One plain line of modules.alias, "alias NAME MODULE" (no wildcards): what a soft
 * dependency may name instead of a module (libcrc32c's "pre: crc32c" is an alias of
 * crc32c_generic and crc32c_intel). */
struct alias {
	char *name;   /* as written */
	char *module; /* canonical */
};

struct dep_table {
	char *text;
	struct dep_entry *e;
	size_t n;
	struct softdep *soft;
	size_t n_soft;
	struct alias *alias;
	size_t n_alias, cap_alias;
};

/* "kernel/drivers/virtio/virtio-ring.ko.xz" -> "virtio_ring". NULL on ENOMEM. */
static char *module_name(const char *path, size_t len)
{
	const char *base = path, *dot;
	char *name;

	for (size_t i = 0; i < len; i++)
		if (path[i] == '/')
			base = path + i + 1;
	len -= (size_t)(base - path);
	dot = memmem(base, len, ".ko", 3);
	if (dot)
		len = (size_t)(dot - base);
	name = strndup(base, len);
	if (!name)
		return NULL;
	for (char *p = name; *p; p++)
		if (*p == '-')
			*p = '_';
	return name;
}

static void dep_table_release(struct dep_table *t)
{
	for (size_t i = 0; i < t->n_alias; i++) {
		free(t->alias[i].name);
		free(t->alias[i].module);
	}
	free(t->alias);
	for (size_t i = 0; i < t->n_soft; i++) {
		free(t->soft[i].name);
		lethe_strv_release(&t->soft[i].pre);
		lethe_strv_release(&t->soft[i].post);
	}
	free(t->soft);
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
	free(t->text);
	memset(t, 0, sizeof(*t));
}

static int dep_table_load(const char *kernel_dir, const char *file, struct dep_table *t)
{
	size_t len, cap = 0, lineno = 0;
	char *line, *next;
	int r;

	r = boot_kernel_read(kernel_dir, file, LETHE_BOOT_MAX_DEP_FILE, &t->text, &len);
	if (r < 0)
		return r;
	for (line = t->text; line; line = next) {
		char *colon;

		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		colon = strchr(line, ':');
		if (!colon)
			return lethe_error(-LETHE_E_INVALID, "'%s' line %zu: no ':'", file, lineno);
		*colon = '\0';
		if (!lethe_path_is_safe_relative(line))
			return lethe_error(-LETHE_E_INVALID, "'%s' line %zu: unsafe path '%s'",
					   file, lineno, line);
		if (t->n == cap) {
			struct dep_entry *e;

			cap = cap ? cap * 2 : 1024;
			if (cap > SIZE_MAX / sizeof(*e))
				return -ENOMEM;
			e = realloc(t->e, cap * sizeof(*e));
			if (!e)
				return -ENOMEM;
			t->e = e;
		}
		t->e[t->n] = (struct dep_entry){ .path = line, .deps = colon + 1 };
		t->e[t->n].name = module_name(line, strlen(line));
		if (!t->e[t->n].name)
			return -ENOMEM;
		t->n++;
	}
	return 0;
}

/* Each line of an optional file of depmod's, NUL-terminated in place, to one(); a
 * missing file means no lines. */
static int depmod_file_lines(const char *kernel_dir, const char *file, struct dep_table *t,
			     int (*one)(struct dep_table *t, const char *file, size_t lineno,
					char *line))
{
	char *text = NULL, *line, *next;
	size_t len, lineno = 0;
	int r;

	r = boot_kernel_read(kernel_dir, file, LETHE_BOOT_MAX_DEP_FILE, &text, &len);
	if (r == -ENOENT) {
		lethe_error_clear();
		return 0;
	}
	if (r < 0)
		return r;
	for (line = text; line && r >= 0; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		r = one(t, file, lineno, line);
	}
	free(text);
	return r;
}

/* A line of modules.softdep, which depmod makes from the modules' softdep= modinfo: the
 * modules to load before (pre:) and after (post:) one. xts needs ecb this way, not
 * through a symbol. */
static int softdep_line(struct dep_table *t, const char *file, size_t lineno, char *line)
{
	struct lethe_strv *list = NULL;
	struct softdep *v, *sd;
	char *save = NULL, *tok;
	int r = 0;

	tok = strtok_r(line, " \t", &save);
	if (!tok || tok[0] == '#')
		return 0;
	if (strcmp(tok, "softdep") || !(tok = strtok_r(NULL, " \t", &save)))
		return lethe_error(-LETHE_E_INVALID, "'%s' line %zu: not 'softdep NAME ...'", file,
				   lineno);
	if (t->n_soft >= 65536)
		return -E2BIG;
	v = realloc(t->soft, (t->n_soft + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->soft = v;
	sd = &v[t->n_soft];
	*sd = (struct softdep){ .name = module_name(tok, strlen(tok)) };
	t->n_soft++;
	if (!sd->name)
		return -ENOMEM;
	while (r >= 0 && (tok = strtok_r(NULL, " \t", &save))) {
		char *n;

		if (!strcmp(tok, "pre:")) {
			list = &sd->pre;
			continue;
		}
		if (!strcmp(tok, "post:")) {
			list = &sd->post;
			continue;
		}
		/* MODULE_SOFTDEP("gcm") without pre: or post: (cifs): modprobe ignores such a
		 * name, and so does the closure. */
		if (!list)
			continue;
		n = module_name(tok, strlen(tok));
		r = n ? lethe_strv_push(list, n) : -ENOMEM;
		free(n);
	}
	return r;
}

/* A line of modules.alias, which depmod makes from the modules' alias= modinfo: only the
 * plain aliases (device aliases with wildcards are for hotplug, not for soft
 * dependencies). */
static int alias_line(struct dep_table *t, const char *file, size_t lineno, char *line)
{
	char *save = NULL, *kw, *name, *mod;

	(void)file;
	(void)lineno;
	kw = strtok_r(line, " \t", &save);
	name = kw ? strtok_r(NULL, " \t", &save) : NULL;
	mod = name ? strtok_r(NULL, " \t", &save) : NULL;
	if (!mod || strcmp(kw, "alias") || strpbrk(name, "*?[]") || strlen(name) > 255)
		return 0;
	if (t->n_alias == t->cap_alias) {
		size_t cap = t->cap_alias ? t->cap_alias * 2 : 256;
		struct alias *v;

		if (t->cap_alias >= (1u << 20))
			return -E2BIG;
		v = realloc(t->alias, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->alias = v;
		t->cap_alias = cap;
	}
	t->alias[t->n_alias].name = strdup(name);
	t->alias[t->n_alias].module = module_name(mod, strlen(mod));
	if (!t->alias[t->n_alias].name || !t->alias[t->n_alias].module) {
		free(t->alias[t->n_alias].name);
		free(t->alias[t->n_alias].module);
		return -ENOMEM;
	}
	t->n_alias++;
	return 0;
}

static struct dep_entry *dep_find_name(struct dep_table *t, const char *name)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].name, name))
			return &t->e[i];
	return NULL;
}

static struct dep_entry *dep_find_path(struct dep_table *t, const char *path, size_t len)
{
	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->e[i].path) == len && !memcmp(t->e[i].path, path, len))
			return &t->e[i];
	return NULL;
}

static int emit(struct lethe_boot_modules *m, const struct dep_entry *e)
{
	struct lethe_boot_module *v;

	if (m->n >= LETHE_BOOT_MAX_MODULES)
		return lethe_error(-LETHE_E_INVALID, "more than %d kernel modules needed",
				   LETHE_BOOT_MAX_MODULES);
	v = realloc(m->v, (m->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->v = v;
	v[m->n].name = strdup(e->name);
	v[m->n].path = strdup(e->path);
	if (!v[m->n].name || !v[m->n].path) {
		free(v[m->n].name);
		free(v[m->n].path);
		return -ENOMEM;
	}
	m->n++;
	return 0;
}

static int visit(struct dep_table *t, struct dep_entry *e, struct lethe_boot_modules *m,
		 unsigned depth);

/* A soft dependency that names an alias: every module that has it, as modprobe
 * loads them (for crc32c: the generic one and the one that needs SSE 4.2; the one
 * the CPU cannot use fails to load, which lethe-init reports and passes over). The
 * list and the names compare with '-' as '_', as the modules' own names do. */
static int visit_alias(struct dep_table *t, const char *name, struct lethe_boot_modules *m,
		       unsigned depth)
{
	for (size_t i = 0; i < t->n_alias; i++) {
		struct dep_entry *d;
		bool same = strlen(t->alias[i].name) == strlen(name);
		int r;

		for (size_t k = 0; same && name[k]; k++)
			same = (name[k] == '-' ? '_' : name[k]) ==
			       (t->alias[i].name[k] == '-' ? '_' : t->alias[i].name[k]);
		if (!same || !(d = dep_find_name(t, t->alias[i].module)) || d->state == 1)
			continue;
		r = visit(t, d, m, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The soft dependencies in list: each a module to load too, if the kernel has it as a
 * module (one built in, or absent, is nothing to load: they are soft). A soft
 * dependency already on the way is not a cycle to refuse, only nothing more to do. */
static int visit_list(struct dep_table *t, const struct lethe_strv *list,
		      struct lethe_boot_modules *m, unsigned depth)
{
	for (size_t i = 0; i < list->n; i++) {
		struct dep_entry *d = dep_find_name(t, list->v[i]);
		int r;

		if (!d) {
			r = visit_alias(t, list->v[i], m, depth);
			if (r < 0)
				return r;
			continue;
		}
		if (d->state == 1)
			continue;
		r = visit(t, d, m, depth + 1);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Every softdep line of name counts: depmod writes one per MODULE_SOFTDEP (cifs has
 * eleven). */
static int visit_soft(struct dep_table *t, const char *name, bool post,
		      struct lethe_boot_modules *m, unsigned depth)
{
	for (size_t i = 0; i < t->n_soft; i++) {
		int r;

		if (strcmp(t->soft[i].name, name))
			continue;
		r = visit_list(t, post ? &t->soft[i].post : &t->soft[i].pre, m, depth);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Depth-first: every dependency (and soft pre: dependency) is emitted before the
 * module that needs it, its soft post: dependencies after it. */
static int visit(struct dep_table *t, struct dep_entry *e, struct lethe_boot_modules *m,
		 unsigned depth)
{
	const char *p;
	int r;

	if (e->state == 2)
		return 0;
	if (e->state == 1 || depth > LETHE_BOOT_MAX_MODULES)
		return lethe_error(-LETHE_E_INVALID, "modules.dep: dependency cycle through '%s'",
				   e->name);
	e->state = 1;
	if ((r = visit_soft(t, e->name, false, m, depth)) < 0)
		return r;
	for (p = e->deps; *p;) {
		size_t len;
		struct dep_entry *d;

		p += strspn(p, " \t");
		len = strcspn(p, " \t");
		if (!len)
			break;
		d = dep_find_path(t, p, len);
		if (!d)
			return lethe_error(-LETHE_E_INVALID,
					   "modules.dep: '%s' needs '%.*s', which is not listed",
					   e->path, (int)len, p);
		r = visit(t, d, m, depth + 1);
		if (r < 0)
			return r;
		p += len;
	}
	e->state = 2;
	r = emit(m, e);
	if (r >= 0)
		r = visit_soft(t, e->name, true, m, depth);
	return r;
}

/* Is name listed in modules.builtin (paths of modules built into the kernel)? */
static int is_builtin(const char *kernel_dir, const char *version, const char *name, bool *ret)
{
	char *file = moddir(version, "modules.builtin");
	char *text = NULL, *line, *next;
	size_t len;
	int r;

	if (!file)
		return -ENOMEM;
	*ret = false;
	r = boot_kernel_read(kernel_dir, file, LETHE_BOOT_MAX_DEP_FILE, &text, &len);
	if (r == -ENOENT) {
		lethe_error_clear(); /* handled: no stale message */
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	for (line = text; line && !*ret; line = next) {
		char *n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		n = module_name(line, strlen(line));
		if (!n) {
			r = -ENOMEM;
			goto out;
		}
		*ret = !strcmp(n, name);
		free(n);
	}
out:
	free(text);
	free(file);
	return r;
}

void lethe_boot_modules_release(struct lethe_boot_modules *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		free(m->v[i].path);
	}
	free(m->v);
	lethe_strv_release(&m->builtin);
	memset(m, 0, sizeof(*m));
}

int lethe_boot_modules_resolve(const char *kernel_dir, const char *version,
			       const struct lethe_strv *wanted, struct lethe_boot_modules *ret)
{
	struct lethe_boot_modules m = { 0 };
	struct dep_table t = { 0 };
	char *file = moddir(version, "modules.dep");
	int r;

	if (!file)
		return -ENOMEM;
	r = dep_table_load(kernel_dir, file, &t);
	if (r < 0)
		goto out;
	free(file);
	file = moddir(version, "modules.softdep");
	r = file ? depmod_file_lines(kernel_dir, file, &t, softdep_line) : -ENOMEM;
	if (r < 0)
		goto out;
	free(file);
	file = moddir(version, "modules.alias");
	r = file ? depmod_file_lines(kernel_dir, file, &t, alias_line) : -ENOMEM;
	if (r < 0)
		goto out;
	for (size_t i = 0; i < wanted->n; i++) {
		char *name = module_name(wanted->v[i], strlen(wanted->v[i]));
		struct dep_entry *e;
		bool builtin;

		if (!name) {
			r = -ENOMEM;
			goto out;
		}
		e = dep_find_name(&t, name);
		if (e) {
			r = visit(&t, e, &m, 0);
		} else {
			r = is_builtin(kernel_dir, version, name, &builtin);
			if (r >= 0 && !builtin)
				r = lethe_error(-LETHE_E_INVALID,
						"kernel %s has no module '%s' (neither in "
						"modules.dep nor built in)",
						version, wanted->v[i]);
			if (r >= 0 && !lethe_strv_contains(&m.builtin, name))
				r = lethe_strv_push(&m.builtin, name);
		}
		free(name);
		if (r < 0)
			goto out;
	}
	*ret = m;
	memset(&m, 0, sizeof(m));
	r = 0;
out:
	lethe_boot_modules_release(&m);
	dep_table_release(&t);
	free(file);
	return r;
}
